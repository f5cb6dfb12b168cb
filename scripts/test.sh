#!/usr/bin/env bash
# Run every test. Usage: bash scripts/test.sh [extra pytest args...]
# Creates/reuses .venv and installs `-e .[test]` only when needed, so a new
# user can run just this. The exit code is pytest's; "no tests collected"
# (pytest exit code 5) counts as a failure.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

source scripts/venv.sh
ensure_venv

# -I: isolated mode, so the repo root on sys.path cannot fake an installed package.
if [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ] \
   && "$PY" -I -c 'import tginteractive, pytest, hypothesis' >/dev/null 2>&1; then
    : # already installed and up to date
else
    echo "test.sh: installing -e .[test] into $VENV"
    "$PY" -m pip install -q -e '.[test]'
    touch "$STAMP"
fi

set +e
"$PY" -m pytest -q tests "$@"
rc=$?
set -e

if [ "$rc" -eq 5 ]; then
    echo "test.sh: pytest collected no tests (exit code 5) - treating as a failure" >&2
fi
exit "$rc"
