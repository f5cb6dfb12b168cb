# Sourced by scripts/*.sh and .ci/run: create or repair the project's virtual environment.
# Sets VENV and PY; a venv left half-made or pointing at a removed interpreter is rebuilt.
VENV=.venv
PY="$VENV/bin/python"
STAMP="$VENV/.tginteractive-test.stamp"   # the test extras are installed and current

ensure_venv() {
    if [ -e "$VENV" ] && ! "$PY" -c 'import pip' >/dev/null 2>&1; then
        echo "existing $VENV is broken; recreating it" >&2
        rm -rf "$VENV"
    fi
    if [ -x "$PY" ]; then
        return 0
    fi
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "python3 venv/ensurepip missing; installing python3-venv with apt-get"
            DEBIAN_FRONTEND=noninteractive apt-get update -q
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                python3-venv
        else
            echo "python3 cannot create virtual environments: install python3-venv" >&2
            return 1
        fi
    fi
    python3 -m venv "$VENV"
    echo "created $VENV ($("$PY" --version 2>&1))"
}
