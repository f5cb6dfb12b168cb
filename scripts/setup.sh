#!/usr/bin/env bash
# The main job: set up .venv with tginteractive installed, then run the example.
# TODO: once the notebook front end exists, install `-e .[notebook]` and open
#       JupyterLab on notebooks/ (jupyter lab notebooks/) instead of only
#       running examples/hello.py.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

VENV=.venv
PY="$VENV/bin/python"

if [ -e "$VENV" ] && ! "$PY" -c 'import pip' >/dev/null 2>&1; then
    echo "setup.sh: existing $VENV is broken; recreating it" >&2
    rm -rf "$VENV"
fi
if [ ! -x "$PY" ]; then
    echo "setup.sh: creating $VENV"
    if ! python3 -m venv "$VENV"; then
        rm -rf "$VENV"
        echo "setup.sh: 'python3 -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
        exit 1
    fi
fi

echo "setup.sh: installing -e . into $VENV"
"$PY" -m pip install -q -e .

if [ -f examples/hello.py ]; then
    echo "setup.sh: running examples/hello.py"
    "$PY" examples/hello.py
else
    echo "setup.sh: no examples/hello.py yet; installed tginteractive into $VENV"
fi
