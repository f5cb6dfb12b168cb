#!/usr/bin/env bash
# The main job: install tginteractive with its notebook extras into .venv, then open the
# tutorials in JupyterLab.
#
#   bash scripts/setup.sh                  # install, then `jupyter lab notebooks/` on 127.0.0.1
#   bash scripts/setup.sh --port=9999      # other arguments go to `jupyter lab`
#   bash scripts/setup.sh --ip=0.0.0.0     # e.g. to reach it from another machine
#   bash scripts/setup.sh --headless       # install, then run every tutorial top to bottom
#                                          # (scripts/run_tutorials.py); exit 1 if any fails
#
# Works as root or not, with or without apt: as root on Debian/Ubuntu it installs Graphviz
# (`dot`) with apt-get; elsewhere the pip package graphviz-pure (in the notebook extras)
# renders the graphs. TG_SETUP_NO_APT=1 never calls apt-get. Reruns are fast: nothing is
# reinstalled while .venv is current (newer than pyproject.toml, everything importable).
set -euo pipefail

CALLER_PWD="$PWD"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

say() { echo "setup.sh: $*"; }

headless=0
args=()
for arg in "$@"; do
    case "$arg" in
        --headless) headless=1 ;;
        -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) args+=("$arg") ;;
    esac
done

install_graphviz() {
    if command -v dot >/dev/null 2>&1; then
        return 0
    fi
    if [ "${TG_SETUP_NO_APT:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing Graphviz with apt-get"
        if DEBIAN_FRONTEND=noninteractive apt-get update -q \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends graphviz
        then
            return 0
        fi
        say "apt-get could not install graphviz; graphviz-pure (pip) will render graphs instead"
    else
        say "Graphviz 'dot' not found; graphviz-pure (pip) will render graphs instead." \
            "For the system one: sudo apt-get install graphviz, or brew install graphviz"
    fi
}

venv_is_current() {
    local stamp
    for stamp in "$NB_STAMP" "$STAMP"; do   # the test extras include the notebook extras
        if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && "$PY" -I -c '
import os, tginteractive, ipykernel, ipywidgets, matplotlib, graphviz, jupyterlab, nbclient
assert os.path.dirname(os.path.realpath(tginteractive.__file__)) == os.path.realpath("tginteractive")
' >/dev/null 2>&1; then
            return 0
        fi
    done
    return 1
}

install_graphviz
source scripts/venv.sh
NB_STAMP="$VENV/.tginteractive-notebook.stamp"   # the notebook extras are installed and current
ensure_venv
if venv_is_current; then
    say "$VENV is up to date"
else
    say "installing -e .[notebook] into $VENV"
    "$PY" -m pip install -q -e '.[notebook]'
    touch "$NB_STAMP"
fi

if [ "$headless" = 1 ]; then
    say "running every tutorial top to bottom (scripts/run_tutorials.py)"
    cd "$CALLER_PWD"     # notebook or --out paths given on the command line are the caller's
    exec "$REPO_ROOT/$PY" "$REPO_ROOT/scripts/run_tutorials.py" ${args[@]+"${args[@]}"}
fi

lab_args=()
case " ${args[*]-} " in
    *" --ip="*|*" --ServerApp.ip="*) ;;
    *) lab_args+=(--ip=127.0.0.1) ;;
esac
if [ "$(id -u)" = 0 ]; then
    case " ${args[*]-} " in
        *" --allow-root"*|*" --ServerApp.allow_root"*) ;;
        *) lab_args+=(--allow-root) ;;
    esac
fi
say "opening the tutorials: jupyter lab notebooks/ (Ctrl-C to stop)"
exec "$VENV/bin/jupyter" lab ${lab_args[@]+"${lab_args[@]}"} ${args[@]+"${args[@]}"} notebooks/
