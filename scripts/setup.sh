#!/usr/bin/env bash
# The main job: set up .venv with tginteractive installed, then run the example.
# TODO: once the notebook front end exists, install `-e .[notebook]` and open
#       JupyterLab on notebooks/ (jupyter lab notebooks/) instead of only
#       running examples/hello.py.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

source scripts/venv.sh
ensure_venv

echo "setup.sh: installing -e . into $VENV"
"$PY" -m pip install -q -e .

if [ -f examples/hello.py ]; then
    echo "setup.sh: running examples/hello.py"
    "$PY" examples/hello.py
else
    echo "setup.sh: no examples/hello.py yet; installed tginteractive into $VENV"
fi
