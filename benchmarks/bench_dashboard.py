"""Dashboard overhead: a 1,000-step training loop of ~1 ms steps (a ReLU MLP trained with
Adam, one `sess.run([train_op, loss], feed)` per step) timed bare and with the full notebook
Dashboard attached (progress bar + live LossPlot of `loss` + PlacementView tracing every
100th run). Outside a notebook the widgets still construct and the plot still draws (into its
Image widget, which nothing displays), so the cost measured is the real one.

    python benchmarks/bench_dashboard.py              # full run: ~30 s
    python benchmarks/bench_dashboard.py --quick      # smoke run: a few seconds
    python benchmarks/bench_dashboard.py --json benchmarks/results/dashboard.json

Each sample is one whole loop, from the same initial weights; bare and dashboard loops run
in pairs (alternating which goes first) so that load from other processes hits both alike.
Target: the loop with the dashboard runs at >= 0.90x the bare loop's step rate, as the
median over pairs of (bare time / dashboard time). Opening and closing the dashboard (the
first and the final draw) are one-off costs, reported apart.
"""
import statistics
import sys
import time

import numpy as np

import common

common.use_repo_checkout()
import tginteractive as tf  # noqa: E402

SIZES = (256, 256, 128, 10)
BATCH = 96
TARGET = 0.90      # steps/s with the dashboard >= TARGET x steps/s without


def build(seed=0):
    """(run_step, loss tensor, reset, close): one Adam step of the MLP on a fixed batch;
    `reset` restores the initial weights, so that every timed loop does the same work (a
    model left to overfit the batch for many loops would end up computing with denormal
    gradients, several times slower)."""
    init_values = common.mlp_params(SIZES, seed=seed)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, SIZES[0]], name="x")
        y = tf.placeholder(tf.float32, [None, SIZES[-1]], name="y")
        h = x
        for i in range(len(SIZES) - 1):
            w, b = (tf.Variable(v) for v in init_values[2 * i:2 * i + 2])
            h = tf.matmul(h, w) + b
            h = tf.nn.relu(h) if i < len(SIZES) - 2 else h
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=h),
                              name="loss")
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=g)
    sess.run(init)
    xb, yb = common.mlp_batches(SIZES, BATCH, batches=1, seed=seed)[0]
    feed = {x: xb, y: yb}
    fetches = [train, loss]
    return (lambda: sess.run(fetches, feed)), loss, (lambda: sess.run(init)), sess.close


def bare_loop(step, steps):
    """Seconds for `steps` steps without anything listening."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - start


def dashboard_loop(step, loss, steps):
    """(loop seconds, open+close seconds, dashboard) for `steps` steps inside `with dash:`."""
    from tginteractive.notebook.widgets.dashboard import Dashboard
    dash = Dashboard(tensors=[loss], total=steps)
    begin = time.perf_counter()
    with dash:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        loop = time.perf_counter() - start
    return loop, time.perf_counter() - begin - loop, dash


def timed(step, loss, reset, steps, repeats):
    """Per-step µs samples of both loops in pairs, each loop from the initial weights, the
    order within a pair alternating; one untimed pair first."""
    bare, dash, one_off, last = [], [], [], None
    for i in range(repeats + 1):
        for kind in (("bare", "dash") if i % 2 else ("dash", "bare")):
            reset()
            if kind == "bare":
                seconds = bare_loop(step, steps)
            else:
                loop, extra, last = dashboard_loop(step, loss, steps)
        if i:
            bare.append(seconds / steps * 1e6)
            dash.append(loop / steps * 1e6)
            one_off.append(extra * 1e3)
    return common.Timing(bare, 1), common.Timing(dash, 1), min(one_off), last


def paired_ratio(bare, dash):
    """The median over pairs of (bare time / dashboard time): the rate with the dashboard
    relative to without. Load from other processes comes in bursts longer than a pair of
    loops, so both loops of a pair mostly see the same load; the median drops the pairs a
    burst hit unevenly."""
    return statistics.median(b / d for b, d in zip(bare.samples_us, dash.samples_us))


def report(bare, dash, one_off_ms, last, settings):
    """Print the table and the one-off costs; {figures for the JSON output}."""
    stat = settings["stat"]
    ratio = paired_ratio(bare, dash)
    live_draws = last.plot.draws - 2   # not the empty axes on entering, nor the final draw
    draw_ms = min(common.measure_each(lambda: None, lambda _: last.plot.draw(), 5).samples_us)
    draw_ms /= 1e3
    print(f"times: median (best) of {settings['repeats']} loops, us/step")
    common.print_table(["loop", "us/step", "steps/s", f"rate vs bare ({stat})"],
                       [[name, common.fmt_us(t), f"{1e6 / getattr(t, stat):.0f}",
                         f"{getattr(bare, stat) / getattr(t, stat):.2f}x"]
                        for name, t in (("bare", bare), ("with dashboard", dash))])
    print(f"\nopening + closing the dashboard (first and final draw): {one_off_ms:.1f} ms once "
          f"per loop, not in the times above; live draws in the last loop: {live_draws}; one "
          f"draw takes {draw_ms:.1f} ms, and live drawing is throttled to <= "
          f"{100 * last.plot.budget:.0f}% of the time (at most one draw per "
          f"{last.plot.throttle} s)")
    print(f"last dashboard:\n{last!r}")
    print(f"\ntarget: rate with dashboard >= {TARGET:.2f}x bare (median of paired ratios) -> "
          f"{ratio:.2f}x {'PASS' if ratio >= TARGET else 'FAIL'}")
    return {"timings": {"bare": bare.as_dict(), "dashboard": dash.as_dict()},
            "open_close_ms": one_off_ms, "draw_ms": draw_ms, "live_draws": live_draws,
            "rate_vs_bare": ratio, "target": TARGET, "passed": ratio >= TARGET,
            "points": last.plot.history.count("loss")}


def main(argv=None):
    p = common.parser(__doc__, "the dashboard slows the loop below the target")
    p.add_argument("--steps", type=int, help="steps per loop (default 1000; 200 with --quick)")
    args = p.parse_args(argv)
    settings = common.settings(args, quick=dict(repeats=2, min_time=0.0),
                               full=dict(repeats=11, min_time=0.0))
    steps = args.steps or (200 if args.quick else 1000)
    env = common.environment(np, tf)
    print(f"tginteractive dashboard overhead benchmark  (mode: "
          f"{'quick' if args.quick else 'full'})")
    print(f"  python {env['python']}; numpy {env['numpy']}; cpu {env['cpu']} x{env['cpu_count']}")
    print(f"  before the run: {common.busy_text(env['cpu_busy_start'])}; "
          f"load average {env['loadavg_start']}")
    print(f"  workload: {steps} steps of a {'-'.join(map(str, SIZES))} ReLU MLP, batch {BATCH}, "
          "Adam; one step = sess.run([train_op, loss], feed)\n")
    step, loss, reset, close = build()
    try:
        bare, dash, one_off_ms, last = timed(step, loss, reset, steps, settings["repeats"])
    finally:
        close()
    out = report(bare, dash, one_off_ms, last, settings)
    env["loadavg_end"], env["cpu_busy_end"] = common.loadavg(), common.cpu_busy()
    print(f"after the run: {common.busy_text(env['cpu_busy_end'])}; "
          f"load average {env['loadavg_end']}")
    if args.json:
        out.update(environment=env, settings=settings, steps=steps)
        common.write_json(args.json, out)
    return 1 if args.fail_on_miss and not out["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
