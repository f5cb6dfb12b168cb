"""MLP training benchmark: one Adam step of a 784-256-128-10 ReLU classifier (batch 128,
float32, softmax cross-entropy) through tginteractive, the same step hand-written in NumPy
(forward, backward, Adam update, all float32 and in place) and, when importable, TensorFlow's
`tf.compat.v1`.

    python benchmarks/bench_mlp.py              # full run: ~15 s, ~30 s with TensorFlow
    python benchmarks/bench_mlp.py --quick      # smoke run, a few seconds
    python benchmarks/bench_mlp.py --profile    # also tginteractive's per-op trace
    python benchmarks/bench_mlp.py --json benchmarks/results/mlp.json

Before timing, each implementation runs a few steps from the same initial weights on the same
batches, and the losses and weights are compared with NumPy's (see `validate`).
Target: tginteractive's step rate >= 0.95x the hand-written NumPy rate.
"""
import os
import sys
import time
import timeit

import numpy as np

import common

common.use_repo_checkout()
import tginteractive as tg  # noqa: E402

SIZES = (784, 256, 128, 10)
BATCH = 128
LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
CHECK_STEPS = 3
TARGET = 0.95      # tginteractive steps/s >= TARGET x NumPy steps/s
STAT = ["best"]


# ---- implementations: data and initial weights from common.mlp_batches / mlp_params ------
class Impl:
    """step(x, y) -> loss (the timed call); params() -> current weights; reset() -> initial."""

    def __init__(self, step, params, reset, close=None, profile=None):
        self.step, self.params, self.reset = step, params, reset
        self.close, self.profile = close, profile


# ---- the graph, for tginteractive and TensorFlow alike ----------------------------------------
def graph_impl(lib):
    g = lib.Graph()
    with g.as_default():
        x = lib.placeholder(lib.float32, [None, SIZES[0]], name="x")
        y = lib.placeholder(lib.float32, [None, SIZES[-1]], name="y")
        init = common.mlp_params(SIZES)
        variables, h = [], x
        for i in range(3):
            w = lib.Variable(init[2 * i], name=f"w{i}")
            b = lib.Variable(init[2 * i + 1], name=f"b{i}")
            variables += [w, b]
            h = lib.matmul(h, w) + b
            if i < 2:
                h = lib.nn.relu(h)
        loss = lib.reduce_mean(lib.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=h))
        train = lib.train.AdamOptimizer(LR, BETA1, BETA2, EPS).minimize(loss)
        init_op = lib.global_variables_initializer()
    sess = lib.Session(graph=g)
    sess.run(init_op)
    fetches = [train, loss]

    def step(xb, yb):
        return sess.run(fetches, {x: xb, y: yb})[1]

    def profile(xb, yb):
        md = lib.RunMetadata()
        opts = lib.RunOptions(trace_level=lib.RunOptions.FULL_TRACE)
        sess.run(fetches, {x: xb, y: yb}, options=opts, run_metadata=md)
        return md

    return Impl(step, lambda: sess.run(variables), lambda: sess.run(init_op), sess.close,
                profile)


# ---- hand-written NumPy: forward, backward and Adam, float32, in place -----------------------
def numpy_impl():
    init = common.mlp_params(SIZES)
    state = {}

    def reset():
        state["p"] = [a.copy() for a in init]
        state["m"] = [np.zeros_like(a) for a in init]
        state["v"] = [np.zeros_like(a) for a in init]
        state["b1p"], state["b2p"] = np.float32(BETA1), np.float32(BETA2)

    reset()
    lr, b1, b2, eps = (np.float32(v) for v in (LR, BETA1, BETA2, EPS))
    one = np.float32(1)

    def adam(param, m, v, g, alpha):
        tmp = np.subtract(g, m)
        tmp *= one - b1
        m += tmp
        np.square(g, out=tmp)
        tmp -= v
        tmp *= one - b2
        v += tmp
        num = m * alpha
        np.sqrt(v, out=tmp)
        tmp += eps
        num /= tmp
        param -= num

    def step(x, y):
        w0, b0, w1, b1_, w2, b2_ = state["p"]
        n = np.float32(x.shape[0])
        h0 = x @ w0
        h0 += b0
        np.maximum(h0, 0, out=h0)
        h1 = h0 @ w1
        h1 += b1_
        np.maximum(h1, 0, out=h1)
        logits = h1 @ w2
        logits += b2_
        # softmax cross-entropy and its gradient
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(total)[:, 0] - (y * shifted).sum(axis=1))
        d = exp
        d /= total
        d -= y
        d /= n
        # backward
        grads = [None] * 6
        grads[4], grads[5] = h1.T @ d, d.sum(axis=0)
        d1 = d @ w2.T
        d1 *= h1 > 0
        grads[2], grads[3] = h0.T @ d1, d1.sum(axis=0)
        d0 = d1 @ w1.T
        d0 *= h0 > 0
        grads[0], grads[1] = x.T @ d0, d0.sum(axis=0)
        # Adam (TF1's form: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), epsilon outside the sqrt)
        alpha = lr * np.sqrt(one - state["b2p"]) / (one - state["b1p"])
        for p, m, v, g in zip(state["p"], state["m"], state["v"], grads):
            adam(p, m, v, g, alpha)
        state["b1p"] *= b1
        state["b2p"] *= b2
        return loss

    return Impl(step, lambda: [a.copy() for a in state["p"]], reset)


# ---- validation, timing, reporting ------------------------------------------------------------
def trajectory(impl, data, steps=CHECK_STEPS):
    impl.reset()
    losses = [float(impl.step(*data[i % len(data)])) for i in range(steps)]
    params = impl.params()
    impl.reset()
    return np.array(losses), params


def validate(impls, data):
    """Losses within 1e-5 (relative); weights within a hundredth of one Adam step (lr) of
    NumPy's, except for at most 0.1% of them: where a gradient is ~0, float32 sums in another
    order can flip its sign and so the direction of Adam's first, sign-like step."""
    ref_losses, ref_params = trajectory(impls["numpy"], data)
    report = {}
    for name, impl in impls.items():
        if name == "numpy":
            continue
        losses, params = trajectory(impl, data)
        np.testing.assert_allclose(losses, ref_losses, rtol=1e-5,
                                   err_msg=f"{name}: losses differ from NumPy's")
        worst = 0.0
        for i, (got, want) in enumerate(zip(params, ref_params)):
            if got.dtype != np.float32:
                raise AssertionError(f"{name}: parameter {i} is {got.dtype}, not float32")
            off = np.abs(got - want) > LR / 100 + 1e-6 * np.abs(want)
            worst = max(worst, off.mean())
            if off.mean() > 1e-3:
                raise AssertionError(f"{name}: parameter {i} differs from NumPy's in "
                                     f"{off.sum()} of {off.size} entries")
        report[name] = {"max_loss_rel_diff": float(np.max(np.abs(losses - ref_losses) /
                                                          np.abs(ref_losses))),
                        "max_fraction_of_weights_off": float(worst)}
    return report


def step_fn(impl, data):
    counter = iter(range(1 << 62))
    return lambda: impl.step(*data[next(counter) % len(data)])


def timed(impls, data, settings):
    """{name: Timing}. tginteractive and NumPy are warmed up and calibrated by
    `common.measure`, then their timing loops are interleaved (round-robin), so that a burst of
    load from other processes hits both alike. TensorFlow is timed on its own afterwards, after
    a pause: OpenBLAS worker threads keep spinning for a while after NumPy's last matmul and
    would take a core from TF's thread pool."""
    fns, numbers, samples = {}, {}, {}
    shared = [name for name in impls if name != "tf"]
    for name in shared:
        impls[name].reset()
        fns[name] = step_fn(impls[name], data)
        numbers[name] = common.measure(fns[name], repeats=1,
                                       min_time=settings["min_time"]).number
        samples[name] = []
    for _ in range(settings["repeats"]):
        for name in shared:
            seconds = timeit.Timer(fns[name]).timeit(numbers[name])
            samples[name].append(seconds / numbers[name] * 1e6)
    timings = {name: common.Timing(samples[name], numbers[name]) for name in shared}
    if "tf" in impls:
        time.sleep(0.5)
        impls["tf"].reset()
        timings["tf"] = common.measure(step_fn(impls["tf"], data), settings["repeats"],
                                       settings["min_time"])
    return timings


def profile_lines(impl, data, runs, steady_us, top=15):
    impl.reset()
    agg = {}
    for i in range(runs):
        md = impl.profile(*data[i % len(data)])
        for n in md.step_stats.dev_stats[0].node_stats:
            key = (n.node_name, str(n.op_type))
            agg[key] = agg.get(key, 0.0) + n.all_end_rel_micros / runs
    total = sum(agg.values())
    lines = [f"    traced: {len(agg)} nodes, sum of kernel times ~{total:.1f} us; untraced step "
             f"{steady_us:.1f} us ({STAT[0]}); outside the kernels ~{steady_us - total:.1f} us"]
    for (name, op_type), us in sorted(agg.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"      {us:8.1f} us  {op_type:<30} {name}")
    return lines


def import_tf(disabled):
    if disabled:
        return None, "disabled by --no-tf"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow.compat.v1 as tf1
        tf1.disable_v2_behavior()
    except ImportError as e:
        return None, f"not importable: {e}"
    except Exception as e:  # noqa: BLE001 - a broken install must not stop the other figures
        return None, f"import failed: {type(e).__name__}: {e}"
    import tensorflow
    tf1.__version__ = tensorflow.__version__
    return tf1, None


def print_header(env, mode):
    print(f"tginteractive MLP training benchmark  (mode: {mode})")
    print(f"  python {env['python']}; numpy {env['numpy']}; cpu {env['cpu']} x{env['cpu_count']}")
    print(f"  tginteractive {env['tginteractive_path']} @ {env['git_revision']}")
    print(f"  tensorflow: {env['tensorflow'] or 'n/a (' + str(env['tensorflow_skipped']) + ')'}")
    print(f"  before the run: {common.busy_text(env['cpu_busy_start'])}; "
          f"load average {env['loadavg_start']}")
    print(f"  workload: {'-'.join(map(str, SIZES))} ReLU MLP, batch {BATCH}, float32, softmax "
          f"cross-entropy, Adam(lr={LR:g}); one step = sess.run([train_op, loss], feed)\n")


def main(argv=None):
    p = common.parser(__doc__, "tginteractive misses its target")
    p.add_argument("--no-tf", action="store_true", help="do not try to import TensorFlow")
    p.add_argument("--profile", action="store_true", help="print tginteractive's per-op trace")
    args = p.parse_args(argv)
    settings = common.settings(args, quick=dict(repeats=3, min_time=0.05, profile_runs=5),
                               full=dict(repeats=7, min_time=0.3, profile_runs=50))
    STAT[0] = args.stat

    tf1, tf_skip = import_tf(args.no_tf)
    env = common.environment(np, tg, tf1, tf_skip)
    mode = "quick" if args.quick else "full"
    print_header(env, mode)

    data = common.mlp_batches(SIZES, BATCH)
    impls = {"tg": graph_impl(tg), "numpy": numpy_impl()}
    if tf1 is not None:
        impls["tf"] = graph_impl(tf1)
    try:
        check = validate(impls, data)
        print("validated against NumPy over %d steps: %s\n" % (CHECK_STEPS, ", ".join(
            f"{k}: loss rel diff {v['max_loss_rel_diff']:.1e}, weights off "
            f"{100 * v['max_fraction_of_weights_off']:.3f}%" for k, v in check.items())))
        timings = timed(impls, data, settings)
        stat = STAT[0]
        tg_t, np_t, tf_t = (getattr(timings[k], stat) if k in timings else None
                            for k in ("tg", "numpy", "tf"))
        ratio = np_t / tg_t   # tginteractive's rate relative to NumPy's
        passed = ratio >= TARGET
        print(f"times: median (best) of {settings['repeats']} loops, us/step; ratios use the "
              f"{stat}")
        common.print_table(
            ["implementation", "us/step", "steps/s", "rate vs NumPy"],
            [[name, common.fmt_us(t), f"{1e6 / getattr(t, stat):.0f}",
              f"{np_t / getattr(t, stat):.2f}x"] for name, t in timings.items()])
        print(f"\ntarget: tginteractive >= {TARGET:.2f}x NumPy's rate -> "
              f"{ratio:.2f}x {'PASS' if passed else 'FAIL'}"
              + (f"; TF/tginteractive time ratio {tf_t / tg_t:.2f}" if tf_t else ""))
        if args.profile or not passed:
            print(f"\nper-op profile of tginteractive, mean of {settings['profile_runs']} traced "
                  "steps:")
            print("\n".join(profile_lines(impls["tg"], data, settings["profile_runs"], tg_t)))
    finally:
        for impl in impls.values():
            if impl.close:
                impl.close()
    env["loadavg_end"], env["cpu_busy_end"] = common.loadavg(), common.cpu_busy()
    print(f"\nafter the run: {common.busy_text(env['cpu_busy_end'])}; "
          f"load average {env['loadavg_end']}")
    if args.json:
        out = {"environment": env, "mode": mode, "settings": settings, "validation": check,
               "timings": {k: t.as_dict() for k, t in timings.items()},
               "tg_rate_vs_numpy": ratio, "target": TARGET, "passed": passed}
        common.write_json(args.json, out)
    return 1 if args.fail_on_miss and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
