"""Shared helpers for the benchmarks: timing, environment header, table formatting, and the
MLP benchmarks' data and initial weights.

Nothing here imports tginteractive or TensorFlow, so it can be reused by other benchmark
scripts in this folder.
"""
import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def use_repo_checkout():
    """Put the repository root first on sys.path so `import tginteractive` is this checkout."""
    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)


# ---- timing ----------------------------------------------------------------------------------
class Timing:
    """Per-call times (µs) of `repeats` loops of `number` calls each."""

    def __init__(self, per_call_us, number):
        self.samples_us = list(per_call_us)
        self.number = number

    best = property(lambda self: min(self.samples_us))
    median = property(lambda self: statistics.median(self.samples_us))
    repeats = property(lambda self: len(self.samples_us))

    def as_dict(self):
        return {"median_us": self.median, "best_us": self.best, "number": self.number,
                "repeats": self.repeats, "samples_us": self.samples_us}

    def __repr__(self):
        return f"Timing(median={self.median:.3f}us, best={self.best:.3f}us, n={self.number})"


def write_json(path, record):
    """Write a benchmark's JSON record to `path`, making its folder, and say so."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {path}")


def measure(fn, repeats=7, min_time=0.2, warmup_time=None):
    """Time `fn()` the way `timeit` does, and return a `Timing` (µs per call).

    1. warm-up: call `fn` for about `warmup_time` seconds (default min_time / 2, at least 3
       calls) so caches, compiled plans and allocator pools are hot;
    2. calibrate: pick the number of calls per loop (1, 2, 5, 10, 20, ...) so that one loop
       lasts at least `min_time` seconds;
    3. run `repeats` loops with the garbage collector disabled (as `timeit` does) and keep the
       per-call time of each loop. Report the median and the best of those loops.
    """
    warmup_time = min_time / 2 if warmup_time is None else warmup_time
    deadline, calls = time.perf_counter() + warmup_time, 0
    while calls < 3 or time.perf_counter() < deadline:
        fn()
        calls += 1
    timer = timeit.Timer(fn)
    number = 1
    while True:
        for factor in (1, 2, 5):
            n = number * factor
            if timer.timeit(n) >= min_time:
                number = n
                break
        else:
            number *= 10
            continue
        break
    loops = timer.repeat(repeat=repeats, number=number)
    return Timing((t / number * 1e6 for t in loops), number)


def measure_each(setup, fn, count):
    """Time `fn(setup())` `count` times, `setup` untimed; for one-shot costs (first runs)."""
    samples = []
    for _ in range(count):
        arg = setup()
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            fn(arg)
            samples.append((time.perf_counter() - start) * 1e6)
        finally:
            if gc_was_enabled:
                gc.enable()
    return Timing(samples, 1)


def cpu_busy(interval=0.5):
    """Cores busy with other work over `interval` s (this process sleeps meanwhile), or None."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        return sum(fields[3:5]), sum(fields)  # idle + iowait, total
    try:
        idle0, total0 = sample()
        time.sleep(interval)
        idle1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    if total1 == total0:
        return 0.0
    return round((1 - (idle1 - idle0) / (total1 - total0)) * (os.cpu_count() or 1), 2)


def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ---- environment -----------------------------------------------------------------------------
def _git_revision():
    try:
        rev = subprocess.run(["git", "-C", REPO_ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO_ROOT, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return (rev + ("+dirty" if dirty else "")) or None
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(numpy_module, tg_module=None, tf_module=None, tf_skip_reason=None):
    """What the numbers depend on; printed as the header and stored in the JSON output."""
    env = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "numpy": numpy_module.__version__,
        # Some processors ship with OPENBLAS_CORETYPE set, which slows NumPy; recorded only,
        # never changed by the benchmark.
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "tginteractive_path": (os.path.dirname(tg_module.__file__) if tg_module else None),
        "git_revision": _git_revision(),
        "tensorflow": (tf_module.__version__ if tf_module is not None else None),
        "tensorflow_skipped": tf_skip_reason,
        "loadavg_start": loadavg(),
        "cpu_busy_start": cpu_busy(),
    }
    return env


def print_header(env, mode):
    print("tginteractive engine benchmark  (mode: %s)" % mode)
    print(f"  python {env['python']} ({env['executable']})")
    print(f"  platform {env['platform']}; cpu {env['cpu']} x{env['cpu_count']}")
    print(f"  numpy {env['numpy']}; OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']!r}")
    print(f"  tginteractive {env['tginteractive_path']} @ {env['git_revision']}")
    if env["tensorflow"]:
        print(f"  tensorflow {env['tensorflow']} (tf.compat.v1, v2 behaviour disabled)")
    else:
        print(f"  tensorflow: n/a ({env['tensorflow_skipped']})")
    print(f"  before the run: {busy_text(env['cpu_busy_start'])}; "
          f"load average {env['loadavg_start']}")
    print()


def busy_text(cores):
    if cores is None:
        return "CPU use by others unknown"
    text = f"{cores:.2f} cores busy with other processes"
    return text + ("  <- expect noisy timings" if cores > BUSY_WARN_CORES else "")


BUSY_WARN_CORES = 0.25


# ---- table -----------------------------------------------------------------------------------
def fmt_us(timing):
    if timing is None:
        return "n/a"
    return f"{timing.median:.2f} ({timing.best:.2f})"


def fmt_ratio(value):
    return "n/a" if value is None else f"{value:.2f}x"


def print_table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def parser(doc, miss_help):
    """An ArgumentParser with the options every benchmark shares; scripts add their own."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="few, short repeats (smoke test)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    p.add_argument("--repeats", type=int, help="timing loops per measurement")
    p.add_argument("--min-time", type=float, help="seconds per timing loop")
    p.add_argument("--stat", choices=("best", "median"), default="best",
                   help="statistic used for ratios and pass/fail (default: best, the least "
                        "sensitive to other processes on the machine)")
    p.add_argument("--fail-on-miss", action="store_true",
                   help=f"exit with status 1 when {miss_help}")
    return p


def settings(args, quick, full):
    """The timing settings: `quick` or `full` defaults, with --repeats, --min-time and
    --stat applied."""
    chosen = dict(quick if args.quick else full)
    chosen["repeats"] = args.repeats or chosen["repeats"]
    chosen["min_time"] = args.min_time or chosen["min_time"]
    chosen["stat"] = args.stat
    return chosen


def mlp_batches(sizes, batch, batches=4, seed=0):
    """[(x, one-hot y)] float32 batches for an MLP of layer `sizes`."""
    import numpy as np
    rng = np.random.RandomState(seed)
    xs = rng.rand(batches, batch, sizes[0]).astype(np.float32)
    labels = rng.randint(0, sizes[-1], size=(batches, batch))
    return list(zip(xs, np.eye(sizes[-1], dtype=np.float32)[labels]))


def mlp_params(sizes, seed=1):
    """[W1, b1, W2, b2, ...]: Glorot-uniform float32 kernels and 0.01 biases."""
    import numpy as np
    rng = np.random.RandomState(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params += [rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                   np.full(fan_out, 0.01, dtype=np.float32)]
    return params
