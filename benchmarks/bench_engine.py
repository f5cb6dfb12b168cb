"""Engine benchmark: the same TF1 workloads through tginteractive, hand-written NumPy and,
when it is importable, TensorFlow's `tf.compat.v1` -- all in one process.

    python benchmarks/bench_engine.py                 # full run: ~30 s, ~1 min with TensorFlow
    python benchmarks/bench_engine.py --quick         # smoke run, a few seconds
    python benchmarks/bench_engine.py --json benchmarks/results/run.json
    python benchmarks/bench_engine.py --only a,c --profile

Before anything is timed, every workload checks that tginteractive's result (and
TensorFlow's) equals the NumPy result, so the ratios always compare the same computation.
See benchmarks/README.md for the workloads and the targets.
"""
import os
import sys
import traceback

import numpy as np

import common

common.use_repo_checkout()
import tginteractive as tg  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6
CHAIN_OPS = 500   # elementwise ops in workload (d)
CHAIN_LEN = 1000  # elements fed through the chain
LR_POINTS = 1000  # points in the linear regression
LR_CHECK_STEPS = 3
STAT = ["best"]  # statistic for ratios and verdicts, set from --stat


# ---- implementations -------------------------------------------------------------------------
class Impl:
    """One way of running a workload.

    run():     the call that is timed;
    value():   the result compared across implementations before timing;
    profile(): tginteractive only -- a traced run's RunMetadata (for the per-op hint).
    """

    def __init__(self, run, value=None, profile=None, close=None, info=None):
        self.run, self.value = run, (value or run)
        self.profile, self.close, self.info = profile, close, dict(info or {})


def _traced(lib, sess, fetch, feed_fn):
    def profile():
        md = lib.RunMetadata()
        opts = lib.RunOptions(trace_level=lib.RunOptions.FULL_TRACE)
        sess.run(fetch, feed_dict=feed_fn() if feed_fn else None, options=opts, run_metadata=md)
        return md
    return profile


# (a) Session.run of a*b on two scalar float32 constants --------------------------------------
def scalar_mul_graph(lib):
    g = lib.Graph()
    with g.as_default():
        c = lib.constant(3.0, dtype=lib.float32) * lib.constant(4.0, dtype=lib.float32)
    sess = lib.Session(graph=g)
    return Impl(lambda: sess.run(c), profile=_traced(lib, sess, c, None), close=sess.close)


def scalar_mul_numpy():
    a, b = np.float32(3.0), np.float32(4.0)
    return Impl(lambda: a * b)


# (b) placeholder [None, 3] fed a 4x3 array, fetch reduce_sum(x * 2) ----------------------------
FEED_4X3 = np.arange(12, dtype=np.float32).reshape(4, 3)


def feed_sum_graph(lib):
    g = lib.Graph()
    with g.as_default():
        x = lib.placeholder(lib.float32, shape=[None, 3])
        y = lib.reduce_sum(x * 2)
    sess = lib.Session(graph=g)
    arr = FEED_4X3
    return Impl(lambda: sess.run(y, feed_dict={x: arr}),
                profile=_traced(lib, sess, y, lambda: {x: arr}), close=sess.close)


def feed_sum_numpy():
    arr, two = FEED_4X3, np.float32(2)
    return Impl(lambda: np.sum(arr * two))


# (c) one gradient-descent step of linear regression on 1000 points -----------------------------
LR_X = np.linspace(-1.0, 1.0, LR_POINTS).astype(np.float32)
LR_Y = (2.0 * LR_X + 1.0 + 0.1 * np.sin(7.0 * LR_X)).astype(np.float32)


def linreg_graph(lib):
    g = lib.Graph()
    with g.as_default():
        x = lib.placeholder(lib.float32, shape=[None])
        y = lib.placeholder(lib.float32, shape=[None])
        w = lib.Variable(0.0, dtype=lib.float32, name="W")
        b = lib.Variable(0.0, dtype=lib.float32, name="b")
        loss = lib.reduce_mean(lib.square(w * x + b - y))
        train_op = lib.train.GradientDescentOptimizer(0.5).minimize(loss)
        init = lib.global_variables_initializer()
    sess = lib.Session(graph=g)
    xs, ys = LR_X, LR_Y

    def value():  # W, b after LR_CHECK_STEPS steps from zero
        sess.run(init)
        for _ in range(LR_CHECK_STEPS):
            sess.run(train_op, feed_dict={x: xs, y: ys})
        return np.array(sess.run([w, b]))

    return Impl(lambda: sess.run(train_op, feed_dict={x: xs, y: ys}), value=value,
                profile=_traced(lib, sess, train_op, lambda: {x: xs, y: ys}), close=sess.close)


def linreg_numpy():
    xs, ys = LR_X, LR_Y
    lr, two, n = np.float32(0.5), np.float32(2.0), np.float32(xs.shape[0])
    state = {}

    def step():
        w, b = state["w"], state["b"]
        err = w * xs + b - ys                  # forward
        state["loss"] = np.mean(np.square(err))  # the graph computes the loss too
        d_err = two * err / n                  # d loss / d err
        state["w"] = w - lr * np.sum(d_err * xs)
        state["b"] = b - lr * np.sum(d_err)

    def value():
        state["w"], state["b"] = np.float32(0.0), np.float32(0.0)
        for _ in range(LR_CHECK_STEPS):
            step()
        return np.array([state["w"], state["b"]])

    return Impl(step, value=value)


# (d) a 500-op elementwise chain: construction, steady-state run, first run ---------------------
CHAIN_X = np.linspace(-1.0, 1.0, CHAIN_LEN).astype(np.float32)


def build_chain(lib, n_ops=CHAIN_OPS):
    """A fresh Graph: placeholder x, then x = x * 1.0001, x = x + 0.5 alternating, n_ops ops."""
    g = lib.Graph()
    with g.as_default():
        x = lib.placeholder(lib.float32, shape=[None], name="x")
        y = x
        for i in range(n_ops):
            y = y * 1.0001 if i % 2 == 0 else y + 0.5
    return g, x, y


def chain_construct_graph(lib):
    def check():
        g, _, _ = build_chain(lib)
        return len(g.get_operations())
    return Impl(lambda: build_chain(lib), value=check,
                info={"graph_ops_per_build": check(), "elementwise_ops": CHAIN_OPS})


def chain_run_graph(lib):
    g, x, y = build_chain(lib)
    sess = lib.Session(graph=g)
    arr = CHAIN_X
    return Impl(lambda: sess.run(y, feed_dict={x: arr}),
                profile=_traced(lib, sess, y, lambda: {x: arr}), close=sess.close)


def chain_numpy():
    arr, m, a = CHAIN_X, np.float32(1.0001), np.float32(0.5)

    def run():
        y = arr
        for i in range(CHAIN_OPS):
            y = y * m if i % 2 == 0 else y + a
        return y
    return Impl(run)


def chain_first_run_graph(lib):
    """Handled by `measure_each`: build graph + Session untimed, time the first run()."""
    def setup():
        g, x, y = build_chain(lib)
        return lib.Session(graph=g), x, y

    def first_run(args):
        sess, x, y = args
        sess.run(y, feed_dict={x: CHAIN_X})
        sess.close()
    return Impl(None, value=lambda: None, info={"setup": setup, "first_run": first_run})


# ---- workload table --------------------------------------------------------------------------
# target kinds: ("tf_speedup", goal, TF-2.21 reference µs on the 2-core dev machine)
#               ("max_us", limit)  -- absolute, on the tginteractive time
WORKLOADS = [
    dict(key="a", name="(a) run a*b, 2 scalar consts", unit="us/call", divisor=1,
         graph=scalar_mul_graph, numpy=scalar_mul_numpy, target=("tf_speedup", 5.0, 33.0)),
    dict(key="b", name="(b) run reduce_sum(x*2), feed 4x3", unit="us/call", divisor=1,
         graph=feed_sum_graph, numpy=feed_sum_numpy, target=("tf_speedup", 5.0, 98.0)),
    dict(key="c", name=f"(c) linreg GD step, {LR_POINTS} pts", unit="us/call", divisor=1,
         graph=linreg_graph, numpy=linreg_numpy, target=("tf_speedup", 4.0, 119.0)),
    dict(key="d", name=f"(d1) build {CHAIN_OPS}-op chain", unit="us/op", divisor=CHAIN_OPS,
         graph=chain_construct_graph, numpy=None, target=("max_us", 20.0), validate=False),
    dict(key="d", name=f"(d2) run {CHAIN_OPS}-op chain, {CHAIN_LEN} f32", unit="us/call",
         divisor=1, graph=chain_run_graph, numpy=chain_numpy, target=None),
    dict(key="d", name="(d3) first run of chain (plan)", unit="us/call", divisor=1,
         graph=chain_first_run_graph, numpy=None, target=None, one_shot=True, validate=False),
]


# ---- running ---------------------------------------------------------------------------------
def import_tf(disabled):
    if disabled:
        return None, "disabled by --no-tf"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's own log noise only
    try:
        import tensorflow.compat.v1 as tf1
        tf1.disable_v2_behavior()
    except ImportError as e:
        return None, f"not importable: {e}"
    except Exception as e:  # a broken install must not stop the tginteractive figures
        return None, f"import failed: {type(e).__name__}: {e}"
    import tensorflow
    tf1.__version__ = tensorflow.__version__
    return tf1, None


def validate(spec, impls):
    """Every implementation must produce NumPy's result (tginteractive's when NumPy has none)."""
    ref_name = "numpy" if "numpy" in impls else "tg"
    expected = np.asarray(impls[ref_name].value())
    for name, impl in impls.items():
        if name == ref_name:
            continue
        got = np.asarray(impl.value())
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{spec['name']}: {name} differs from {ref_name}")
        if name == "tg" and got.dtype != expected.dtype:
            raise AssertionError(f"{spec['name']}: tginteractive returned {got.dtype}, "
                                 f"{ref_name} returned {expected.dtype}")


def judge(spec, timings):
    """Verdicts for one workload: {"target": text, "verdicts": {basis: bool}, "passed": ...}.

    A TF-relative goal is checked twice: against the TF 2.21 reference time measured on the
    2-core dev machine ("ref": tg <= ref / goal) and, when TensorFlow ran in this process,
    against the TF time measured here ("TF": TF / tg >= goal). `passed` needs every check.
    """
    target, tg_t, tf_t = spec["target"], timings.get("tg"), timings.get("tf")
    stat = STAT[0]
    if target is None or tg_t is None:
        return {"target": "-", "verdicts": {}, "passed": None}
    if target[0] == "max_us":
        limit = target[1]
        verdicts = {"abs": getattr(tg_t, stat) < limit}
        text = f"< {limit:g} {spec['unit']}"
    else:
        goal, ref = target[1], target[2]
        verdicts = {"ref": getattr(tg_t, stat) <= ref / goal}
        if tf_t is not None:
            verdicts["TF"] = getattr(tf_t, stat) / getattr(tg_t, stat) >= goal
        text = f">= {goal:g}x TF (ref {ref:g}us -> <= {ref / goal:.1f}us)"
    return {"target": text, "verdicts": verdicts, "passed": all(verdicts.values())}


def fmt_verdicts(verdicts):
    if not verdicts:
        return "-"
    if list(verdicts) == ["abs"]:
        return "PASS" if verdicts["abs"] else "FAIL"
    return " ".join(f"{k}:{'PASS' if v else 'FAIL'}" for k, v in verdicts.items())


def profile_hint(md, steady_us, top=8, runs=1):
    """Per-op lines from RunMetadata node stats (µs, truncated to ints by the engine)."""
    node_stats = md.step_stats.dev_stats[0].node_stats if md.step_stats.dev_stats else []
    agg = {}
    for n in node_stats:
        key = (n.node_name, str(n.op_type))
        agg[key] = agg.get(key, 0.0) + n.all_end_rel_micros / runs
    total = sum(agg.values())
    rest = steady_us - total
    lines = [f"    traced: {len(agg)} nodes, sum of kernel times ~{total:.1f} us; untraced run "
             f"{steady_us:.2f} us/call ({STAT[0]}); "
             + (f"~{rest:.1f} us/run is engine overhead outside the kernels" if rest > 0 else
                "kernel times include tracing cost, so read them relative to each other")]
    for (name, op_type), us in sorted(agg.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"      {us:8.2f} us  {op_type:<22} {name}")
    return lines, {"nodes": len(agg), "sum_node_us": total,
                   "top": [{"node_name": k[0], "op_type": k[1], "us": v}
                           for k, v in sorted(agg.items(), key=lambda kv: -kv[1])[:top]]}


def traced_average(impl, runs):
    """Run the traced call `runs` times and merge the node stats into one RunMetadata."""
    merged = None
    for _ in range(runs):
        md = impl.profile()
        if merged is None:
            merged = md
        else:
            merged.step_stats.dev_stats[0].node_stats.extend(md.step_stats.dev_stats[0].node_stats)
    return merged


def run_workload(spec, tf1, settings):
    result = {"name": spec["name"], "key": spec["key"], "unit": spec["unit"], "error": None}
    impls = {}
    try:
        impls["tg"] = spec["graph"](tg)
        if spec["numpy"] is not None:
            impls["numpy"] = spec["numpy"]()
        if tf1 is not None:
            impls["tf"] = spec["graph"](tf1)
        if spec.get("validate", True):
            validate(spec, impls)
        result["validated"] = spec.get("validate", True)
        timings = {}
        for name in ("tg", "numpy", "tf"):
            impl = impls.get(name)
            if impl is None:
                continue
            if spec.get("one_shot"):
                t = common.measure_each(impl.info["setup"], impl.info["first_run"],
                                        settings["one_shot_count"])
            else:
                t = common.measure(impl.run, settings["repeats"], settings["min_time"])
            if spec["divisor"] != 1:
                t = common.Timing((s / spec["divisor"] for s in t.samples_us), t.number)
            timings[name] = t
        result["timings"] = timings
        result["info"] = {k: v for k, v in impls["tg"].info.items() if not callable(v)}
        if "graph_ops_per_build" in result["info"]:  # construction: also per graph op
            per_build = getattr(timings["tg"], settings["stat"]) * spec["divisor"]
            result["info"]["tg_us_per_graph_op"] = round(
                per_build / result["info"]["graph_ops_per_build"], 2)
        result.update(judge(spec, timings))
        passed = result["passed"]
        stat = settings["stat"]
        result["tg_over_numpy"] = (getattr(timings["tg"], stat) / getattr(timings["numpy"], stat)
                                   if "numpy" in timings else None)
        result["tf_over_tg"] = (getattr(timings["tf"], stat) / getattr(timings["tg"], stat)
                                if "tf" in timings else None)
        want_profile = settings["profile"] or passed is False
        if want_profile and impls["tg"].profile is not None:
            md = traced_average(impls["tg"], settings["profile_runs"])
            lines, data = profile_hint(md, getattr(timings["tg"], stat),
                                       runs=settings["profile_runs"])
            result["profile"], result["profile_lines"] = data, lines
    except Exception as e:  # noqa: BLE001 -- report, keep going with the other workloads
        result["error"] = f"{type(e).__name__}: {e}"
        result["traceback"] = traceback.format_exc()
    finally:
        for impl in impls.values():
            if impl.close:
                try:
                    impl.close()
                except Exception:  # noqa: BLE001
                    pass
    return result


def main(argv=None):
    p = common.parser(__doc__, "a workload misses its target")
    p.add_argument("--no-tf", action="store_true", help="do not try to import TensorFlow")
    p.add_argument("--only", metavar="KEYS", help="comma-separated workload keys: a,b,c,d")
    p.add_argument("--profile", action="store_true",
                   help="print tginteractive's per-op trace for every workload "
                        "(always printed for a workload that misses its target)")
    args = p.parse_args(argv)
    settings = common.settings(
        args, quick=dict(repeats=3, min_time=0.02, one_shot_count=3, profile_runs=20),
        full=dict(repeats=7, min_time=0.2, one_shot_count=10, profile_runs=200))
    settings["profile"] = args.profile
    STAT[0] = settings["stat"]

    tf1, tf_skip = import_tf(args.no_tf)
    env = common.environment(np, tg, tf1, tf_skip)
    mode = "quick" if args.quick else "full"
    common.print_header(env, mode)

    keys = set(args.only.split(",")) if args.only else None
    specs = [s for s in WORKLOADS if keys is None or s["key"] in keys]
    results = []
    for spec in specs:
        r = run_workload(spec, tf1, settings)
        results.append(r)
        status = "ERROR" if r["error"] else "done"
        print(f"  {status}: {spec['name']}", file=sys.stderr, flush=True)

    print("times: median (best) of %d loops, in the unit shown; ratios and pass/fail use the "
          "%s" % (settings["repeats"], settings["stat"]))
    headers = ["workload", "unit", "tginteractive", "NumPy", "TF", "tg/NumPy", "TF/tg",
               "target", "result"]
    rows = []
    for r in results:
        if r["error"]:
            rows.append([r["name"], r["unit"], "ERROR", "", "", "", "", "", "ERROR"])
            continue
        t = r["timings"]
        mark = fmt_verdicts(r["verdicts"])
        rows.append([r["name"], r["unit"], common.fmt_us(t.get("tg")),
                     common.fmt_us(t.get("numpy")), common.fmt_us(t.get("tf")),
                     common.fmt_ratio(r["tg_over_numpy"]), common.fmt_ratio(r["tf_over_tg"]),
                     r["target"], mark])
    common.print_table(headers, rows)

    for r in results:
        if r.get("info"):
            print(f"  {r['name']}: " + ", ".join(f"{k}={v}" for k, v in r["info"].items()))
    for r in results:
        if r.get("profile_lines"):
            why = "misses its target" if r["passed"] is False else "--profile"
            print(f"\nper-op profile of tginteractive, {r['name']} ({why}), "
                  f"mean of {settings['profile_runs']} traced runs:")
            print("\n".join(r["profile_lines"]))
    for r in results:
        if r["error"]:
            print(f"\n{r['name']} FAILED:\n{r['traceback']}", file=sys.stderr)

    env["loadavg_end"], env["cpu_busy_end"] = common.loadavg(), common.cpu_busy()
    print(f"\nafter the run: {common.busy_text(env['cpu_busy_end'])}; "
          f"load average {env['loadavg_end']}")

    if args.json:
        out = {"environment": env, "mode": mode,
               "settings": {k: v for k, v in settings.items()}, "results": []}
        for r in results:
            item = {k: v for k, v in r.items() if k not in ("timings", "profile_lines")}
            for name, t in r.get("timings", {}).items():
                item[name] = t.as_dict()
            out["results"].append(item)
        print()
        common.write_json(args.json, out)

    if any(r["error"] for r in results):
        return 2
    if args.fail_on_miss and any(r.get("passed") is False for r in results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
