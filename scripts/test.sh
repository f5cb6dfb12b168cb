#!/usr/bin/env bash
# Run every test. Usage: bash scripts/test.sh [extra pytest args...]
#   bash scripts/test.sh                       # tests/ (pyproject's testpaths), then nbval on notebooks/
#   bash scripts/test.sh -x -k gradients       # options go to the tests/ run
#   bash scripts/test.sh tests/notebook        # only those paths (no nbval run)
#   bash scripts/test.sh notebooks/            # only nbval on the tutorials
# Creates/reuses .venv and installs `-e .[test]` only when needed, so a new user can run
# just this. The tutorials run under nbval (--nbval-lax: cells marked # NBVAL_CHECK_OUTPUT
# must reproduce their stored output, every cell must run without error). The exit code is
# non-zero if either pytest run fails; "no tests collected" (pytest exit code 5) counts as
# a failure.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

source scripts/venv.sh
ensure_venv

# -I: isolated mode, so the repo root on sys.path cannot fake an installed package.
if [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ] \
   && "$PY" -I -c 'import tginteractive, pytest, hypothesis, nbval, nbclient, playwright' \
        >/dev/null 2>&1; then
    : # already installed and up to date
else
    echo "test.sh: installing -e .[test] into $VENV"
    "$PY" -m pip install -q -e '.[test]'
    touch "$STAMP"
fi

# Which paths were given? Tutorials (under notebooks/) go to nbval, the rest to pytest.
nb_paths=()
other_paths=()
takes_value=0
for arg in "$@"; do
    if [ "$takes_value" = 1 ]; then takes_value=0; continue; fi
    case "$arg" in
        -k|-m|-p|-o|-c|-W|-r|--deselect|--ignore|--ignore-glob|--rootdir|--basetemp|--tb|\
        --timeout|--maxfail|--durations|--junitxml|--log-level|--confcutdir)
            takes_value=1; continue ;;
        -*) continue ;;
    esac
    path="${arg%%::*}"
    [ -e "$path" ] || continue
    case "$(realpath "$path")/" in
        "$REPO_ROOT/notebooks/"*) nb_paths+=("$arg") ;;
        *) other_paths+=("$arg") ;;
    esac
done
run_tests=1
run_nbval=1
if [ "${#nb_paths[@]}" -gt 0 ] && [ "${#other_paths[@]}" -eq 0 ]; then run_tests=0; fi
if [ "${#other_paths[@]}" -gt 0 ] && [ "${#nb_paths[@]}" -eq 0 ]; then run_nbval=0; fi
if ! compgen -G "notebooks/*.ipynb" >/dev/null; then run_nbval=0; fi

rc=0
nbrc=0
set +e
if [ "$run_tests" = 1 ]; then
    if [ "$run_nbval" = 1 ]; then
        args=()
        for arg in "$@"; do   # the tutorials are nbval's; keep them out of this run
            case " ${nb_paths[*]-} " in *" $arg "*) ;; *) args+=("$arg") ;; esac
        done
    else
        args=("$@")
    fi
    "$PY" -m pytest -q ${args[@]+"${args[@]}"}
    rc=$?
    if [ "$rc" -eq 5 ]; then
        echo "test.sh: pytest collected no tests (exit code 5) - treating as a failure" >&2
    fi
fi
if [ "$run_nbval" = 1 ]; then
    echo "test.sh: running the tutorials under nbval"
    if [ "${#nb_paths[@]}" -eq 0 ]; then nb_paths=(notebooks/); fi
    "$PY" -m pytest -q --nbval-lax --nbval-current-env \
        --nbval-sanitize-with notebooks/sanitize.cfg "${nb_paths[@]}"
    nbrc=$?
    if [ "$nbrc" -eq 5 ]; then
        echo "test.sh: nbval collected no notebooks (exit code 5) - treating as a failure" >&2
    fi
fi
set -e

if [ "$rc" -ne 0 ]; then
    exit "$rc"
fi
exit "$nbrc"
