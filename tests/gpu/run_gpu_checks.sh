#!/usr/bin/env bash
# Every GPU check of tginteractive in one go, for a machine with an NVIDIA GPU (< 5 minutes).
#
#   bash tests/gpu/run_gpu_checks.sh            # from anywhere; runs at the repo root
#
# 1. installs cupy-cuda12x when CuPy is missing (pip; offline: CUPY_WHEEL_DIR=/dir/of/wheels),
# 2. prints the GPUs (nvidia-smi -L) and the Python / NumPy / CuPy / CUDA versions,
# 3. runs `pytest tests/gpu` (every test there) and the tests marked `gpu` elsewhere,
# 4. writes a short summary (and the full logs) to $OUT, or $TMPDIR / /tmp without it.
# Exit status: 0 when both pytest runs pass (or select nothing) on a GPU, 1 when a test fails,
# 2 when CuPy sees no GPU (everything skipped).
set -u
cd "$(dirname "$0")/../.." || exit 1
PY=${PYTHON:-python3}
DEST=${OUT:-${TMPDIR:-/tmp}}
mkdir -p "$DEST"
SUMMARY="$DEST/gpu_check_summary.txt"
START=$(date +%s)

note() { echo "$*" | tee -a "$SUMMARY"; }
: > "$SUMMARY"
note "tginteractive GPU checks, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

echo "== GPUs"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi -L 2>&1 | tee -a "$SUMMARY"
else
    note "nvidia-smi not found"
fi

if ! "$PY" -c "import cupy" >/dev/null 2>&1; then
    echo "== CuPy missing: installing cupy-cuda12x"
    if [ -n "${CUPY_WHEEL_DIR:-}" ]; then
        timeout 120 "$PY" -m pip install -q --no-index --find-links "$CUPY_WHEEL_DIR" cupy-cuda12x
    else
        timeout 150 "$PY" -m pip install -q --retries 1 --timeout 20 cupy-cuda12x
    fi || note "pip install cupy-cuda12x failed: the GPU tests will be skipped"
fi

echo "== Versions"
"$PY" - <<'EOF' 2>&1 | tee -a "$SUMMARY"
import sys
import numpy
print("python", sys.version.split()[0], "| numpy", numpy.__version__)
try:
    import cupy
    rt = cupy.cuda.runtime
    print("cupy", cupy.__version__, "| CUDA runtime", rt.runtimeGetVersion(),
          "| driver", rt.driverGetVersion(), "| devices", rt.getDeviceCount())
    for i in range(rt.getDeviceCount()):
        p = rt.getDeviceProperties(i)
        name = p["name"].decode() if isinstance(p["name"], bytes) else p["name"]
        print(f"  GPU {i}: {name}, compute capability {p['major']}.{p['minor']},"
              f" {p['totalGlobalMem'] / 2**30:.1f} GiB")
except Exception as e:  # noqa: BLE001
    print("cupy unusable:", type(e).__name__, e)
import tginteractive.backends as backends
print("tginteractive.backends.gpu_count() =", backends.gpu_count())
EOF

run_pytest() {  # name, seconds, pytest args...
    local name=$1 limit=$2
    shift 2
    echo "== pytest $*"
    timeout "$limit" "$PY" -m pytest -q -rs -p no:cacheprovider "$@" 2>&1 | tee "$DEST/$name.log"
    local rc=${PIPESTATUS[0]}
    [ "$rc" -eq 124 ] && note "$name: TIMED OUT after ${limit}s"
    note "$name (exit $rc): $(grep -E '[0-9]+ (passed|failed|skipped|error|deselected)' "$DEST/$name.log" | tail -1)"
    return "$rc"
}

run_pytest gpu_tests 240 --durations=5 tests/gpu   # a first run also compiles CuPy kernels
GPU_RC=$?
run_pytest gpu_marked_elsewhere 30 -m gpu tests --ignore=tests/gpu
MARKED_RC=$?
[ "$MARKED_RC" -eq 5 ] && MARKED_RC=0   # 5: no test is marked gpu outside tests/gpu

# the kernel-check report sections (what was checked, what was not and why)
awk '/^=+ CuPy kernels/ {on = 1; print; next} /^=+ / {on = 0} on' "$DEST/gpu_tests.log" \
    >> "$SUMMARY"
note "elapsed: $(( $(date +%s) - START ))s; logs in $DEST"
GPUS=$("$PY" -c "import tginteractive.backends as b; print(b.gpu_count())" 2>/dev/null || echo 0)
if [ "$GPU_RC" -ne 0 ] || [ "$MARKED_RC" -ne 0 ]; then
    note "RESULT: FAIL (tests/gpu exit $GPU_RC, gpu-marked elsewhere exit $MARKED_RC)"
    exit 1
elif [ "$GPUS" = "0" ]; then
    note "RESULT: NO GPU (CuPy sees no usable CUDA device: every GPU test was skipped)"
    exit 2
fi
note "RESULT: PASS on $GPUS GPU(s)"
exit 0
