"""Dashboard: lifecycle on real training loops (subscriptions closed after the block, even on
an exception), error state, text/plain and the static PNG; in a real kernel, the display is
updated in place; and the overhead benchmark runs (smoke test, not timing)."""
import base64
import io
import json
import os
import pathlib
import subprocess
import sys
import textwrap
import time

import pytest
from PIL import Image

from tginteractive.notebook.widgets.dashboard import Dashboard
from tginteractive.runtime import run_events
from tginteractive.summary import stream

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRAINING = """
import numpy as np
import tginteractive as tf
rng = np.random.RandomState(0)
x = tf.placeholder(tf.float32, [None, 3], name="x")
w = tf.Variable(np.zeros((3, 1), np.float32), name="w")
loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - 1.0), name="loss")
train = tf.train.AdamOptimizer(0.05).minimize(loss)
feed = {x: rng.rand(8, 3).astype(np.float32)}
sess = tf.Session()
sess.run(tf.global_variables_initializer())
"""


@pytest.fixture
def training():
    """(sess, train_op, loss, feed) of a small regression, built by the same code the kernel
    tests run."""
    scope = {}
    exec(TRAINING, scope)
    yield scope["sess"], scope["train"], scope["loss"], scope["feed"]
    scope["sess"].close()


def no_subscribers():
    return not run_events.has_subscribers() and not stream.has_subscribers()


def test_lifecycle_counts_runs_plots_loss_and_unsubscribes(training):
    sess, train, loss, feed = training
    dash = Dashboard(tensors=[loss], total=10)
    assert repr(dash).startswith("Dashboard: 0/10 runs\n  LossPlot: no points yet")
    with dash:
        assert run_events.has_subscribers()
        for _ in range(10):
            sess.run([train, loss], feed)
    assert no_subscribers() and dash.closed
    assert dash.runs == dash.progress.n == 10
    assert dash.progress.container.children[1].bar_style == "success"
    assert dash.plot.history.count("loss") == 10 and dash.plot.closed
    assert len(dash.placement.stats.records) > 10 and dash.placement.closed
    last = dash.plot.history.last("loss")[1]
    n_ops = len(dash.placement.stats.records)
    assert repr(dash) == (f"Dashboard: 10/10 runs\n"
                          f"  LossPlot: loss 10 points (last {last:.4g} at step 9)\n"
                          f"  PlacementView: 1 device, {n_ops} ops, 10 runs\n"
                          f"  /device:CPU:0  {n_ops} ops  copied in 0 B, out 0 B per run")


def test_exception_closes_everything_and_shows_the_error_state(training):
    sess, train, loss, feed = training
    with pytest.raises(KeyboardInterrupt):
        with Dashboard(tags=["loss"], tensors=[loss]) as dash:
            for _ in range(3):
                sess.run([train, loss], feed)
            raise KeyboardInterrupt
    assert no_subscribers()
    assert stream.watch_session_summaries(False) is False  # restored
    assert dash.progress.container.children[1].bar_style == "danger"
    assert dash.plot.error == dash.placement.error == "stopped by KeyboardInterrupt"
    assert repr(dash).splitlines()[0] == "Dashboard: 3 runs, stopped by KeyboardInterrupt"
    assert "stopped by" not in "\n".join(repr(dash).splitlines()[1:])


def test_a_closed_dashboard_cannot_be_reentered():
    dash = Dashboard(tensors=["loss"])
    with dash:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        dash.open()
    assert no_subscribers()


def test_static_bundle_has_the_final_png(training):
    sess, train, loss, feed = training
    dash = Dashboard(tensors=[loss])
    live = dash._repr_mimebundle_()
    assert "image/png" not in live and "application/vnd.jupyter.widget-view+json" in live
    with dash:
        for _ in range(5):
            sess.run([train, loss], feed)
    bundle = dash._repr_mimebundle_()
    png = base64.b64decode(bundle["image/png"])
    assert png == dash.plot.png and Image.open(io.BytesIO(png)).format == "PNG"
    assert bundle["text/plain"] == repr(dash)


def test_runs_in_other_threads_advance_the_bar(training):
    import threading
    sess, train, loss, feed = training
    with Dashboard(tensors=[loss]) as dash:
        worker = threading.Thread(target=lambda: [sess.run([train, loss], feed)
                                                  for _ in range(7)])
        worker.start()
        worker.join()
    assert dash.runs == 7 and dash.plot.history.count("loss") == 7


# ---- in a real kernel ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kernel():
    from tests.notebook.kernel_harness import Kernel
    with Kernel() as k:
        k.execute(TRAINING + "from tginteractive.notebook.widgets.dashboard import Dashboard")\
            .raise_for_error()
        yield k


def test_kernel_display_is_updated_in_place_with_a_static_png(kernel):
    r = kernel.execute(textwrap.dedent("""
        dash = Dashboard(tensors=[loss], total=20)
        display(dash)
        with dash:
            for _ in range(20):
                sess.run([train, loss], feed)
    """))
    assert r.ok, r.error
    [shown] = r.displays
    assert "application/vnd.jupyter.widget-view+json" in shown and "image/png" not in shown
    assert shown["text/plain"].startswith("Dashboard: 0/20 runs")
    final = r.updates[-1]
    assert final["text/plain"].startswith("Dashboard: 20/20 runs\n  LossPlot: loss 20 points")
    png = base64.b64decode(final["image/png"])
    assert Image.open(io.BytesIO(png)).size == (432, 230)


def test_kernel_interrupt_turns_the_dashboard_red(kernel, tmp_path):
    started = tmp_path / "started"
    kernel.execute_async(textwrap.dedent(f"""
        import pathlib
        dash = Dashboard(tensors=[loss])
        display(dash)
        with dash:
            pathlib.Path({str(started)!r}).touch()
            while True:
                sess.run([train, loss], feed)
    """))
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    kernel.interrupt()
    r = kernel.wait(timeout=30)
    assert r.error is not None and r.error.ename == "KeyboardInterrupt"
    assert r.updates[-1]["text/plain"].splitlines()[0].endswith(
        "runs, stopped by KeyboardInterrupt")
    check = kernel.execute("from tginteractive.runtime import run_events\n"
                           "print(run_events.has_subscribers(), "
                           "dash.progress.container.children[1].bar_style)")
    assert check.stdout == "False danger\n"


# ---- the overhead benchmark runs --------------------------------------------------------------
def test_dashboard_benchmark_quick_run(tmp_path):
    out = tmp_path / "dashboard.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = ROOT / "benchmarks" / "bench_dashboard.py"
    done = subprocess.run([sys.executable, str(script), "--quick", "--repeats", "1", "--steps",
                           "50", "--json", str(out)], env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert set(result["timings"]) == {"bare", "dashboard"}
    assert result["points"] == 50 and result["rate_vs_bare"] > 0
    assert "Dashboard: 50/50 runs" in done.stdout
