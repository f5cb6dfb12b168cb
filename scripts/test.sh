#!/usr/bin/env bash
# Run every test. Usage: bash scripts/test.sh [extra pytest args...]
# Creates/reuses .venv and installs `-e .[test]` only when needed, so a new
# user can run just this. The exit code is pytest's; "no tests collected"
# (pytest exit code 5) counts as a failure.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

VENV=.venv
PY="$VENV/bin/python"
STAMP="$VENV/.tginteractive-test.stamp"   # shared with .ci/run

if [ -e "$VENV" ] && ! "$PY" -c 'import pip' >/dev/null 2>&1; then
    echo "test.sh: existing $VENV is broken; recreating it" >&2
    rm -rf "$VENV"
fi
if [ ! -x "$PY" ]; then
    echo "test.sh: creating $VENV"
    if ! python3 -m venv "$VENV"; then
        rm -rf "$VENV"
        echo "test.sh: 'python3 -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
        exit 1
    fi
fi

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
