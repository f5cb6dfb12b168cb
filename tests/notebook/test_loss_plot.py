"""LossPlot and its data model: History, TensorBoard's smoothing, the throttle, error state
and the static PNG, fed by real Session training loops (summary stream and run events)."""
import base64
import io
import math
import sys
import warnings

import numpy as np
import pytest
from PIL import Image

import tginteractive as tf
from tginteractive.notebook.widgets import _history
from tginteractive.notebook.widgets._history import (EMA, History, Throttle, failure_text,
                                                     smooth)
from tginteractive.notebook.widgets.loss_plot import LossPlot
from tginteractive.runtime import run_events
from tginteractive.summary import stream

HINT = 'pip install "tginteractive[notebook]"'


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def regression(steps=None):
    """A linear regression trained by gradient descent: (loss, train_op, feed)."""
    rng = np.random.RandomState(0)
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(np.zeros((3, 1), np.float32), name="w")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y), name="loss")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    xs = rng.rand(16, 3).astype(np.float32)
    return loss, train, {x: xs, y: xs @ np.array([[1.0], [-2.0], [0.5]], np.float32)}


def no_subscribers():
    return not run_events.has_subscribers() and not stream.has_subscribers()


# ---- History and smoothing -----------------------------------------------------------------
def test_history_keeps_points_per_tag_with_own_step_counters():
    h = History()
    assert h.append("loss", 1.5) == 0
    assert h.append("loss", 1.0) == 1
    h.append("acc", 0.5, step=10)
    assert h.append("acc", 0.75) == 11
    assert h.tags == ["loss", "acc"]
    assert h.series("loss") == ([0, 1], [1.5, 1.0])
    assert h.last("acc") == (11, 0.75) and h.last("nope") is None
    assert h.count("acc") == 2 and len(h) == 4
    assert list(h) == [(0, "loss", 1.5), (1, "loss", 1.0), (10, "acc", 0.5), (11, "acc", 0.75)]
    h.clear("loss")
    assert h.tags == ["acc"]
    h.clear()
    assert len(h) == 0


def test_ema_matches_hand_computed_debiased_values():
    # weight 0.5: last = 0.5, 1.25, 2.125; debias 1 - 0.5**n = 0.5, 0.75, 0.875
    assert smooth([1.0, 2.0, 3.0], 0.5) == pytest.approx([1.0, 1.25 / 0.75, 2.125 / 0.875])
    # weight 0.6 on [10, 0]: last = 4, 2.4; debias 0.4, 0.64 -> 10, 3.75
    assert smooth([10.0, 0.0], 0.6) == pytest.approx([10.0, 3.75])
    assert smooth([3.0, 1.0, 4.0], 0.0) == [3.0, 1.0, 4.0]


def test_ema_passes_non_finite_values_through_without_counting_them():
    out = smooth([1.0, math.nan, 3.0, math.inf], 0.5)
    assert out[0] == 1.0 and math.isnan(out[1]) and out[3] == math.inf
    assert out[2] == pytest.approx((0.25 + 1.5) / 0.75)


def test_ema_fed_in_pieces_equals_ema_of_everything():
    values = list(np.random.RandomState(1).rand(50))
    ema = EMA(0.9)
    ema.extend(values[:7])
    ema.extend(values[7:30])
    assert ema.extend(values[30:]) == pytest.approx(smooth(values, 0.9))


def test_smoothing_weight_is_checked():
    with pytest.raises(ValueError, match="smoothing"):
        LossPlot(tensors=["loss"], smoothing=1.0)


def test_failure_text_is_deterministic():
    assert failure_text(KeyboardInterrupt()) == "stopped by KeyboardInterrupt"
    assert failure_text(KeyboardInterrupt) == "stopped by KeyboardInterrupt"
    assert failure_text(ValueError("at 0x7f00 took 3s")) == "failed: ValueError"
    assert failure_text(None) == ""


# ---- sources -------------------------------------------------------------------------------
def test_watched_tensor_records_each_fetched_value():
    loss, train, feed = regression()
    fetched = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with LossPlot(tensors=[loss]) as plot:
            for _ in range(20):
                fetched.append(sess.run([train, loss], feed)[1])
            sess.run(train, feed)  # does not fetch loss: no point
        assert no_subscribers()
    steps, values = plot.history.series("loss")
    assert steps == list(range(20))
    assert values == pytest.approx([float(v) for v in fetched])
    assert values[-1] < values[0]


def test_tensors_by_name_dict_and_global_step():
    loss, train, feed = regression()
    step = tf.train.get_or_create_global_step()
    train = tf.group(train, tf.assign_add(step, 5))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with LossPlot(tensors={"train loss": "loss:0"}, global_step=step) as plot:
            for _ in range(3):
                sess.run([train, loss, step], feed)
        with LossPlot(tensors=["loss"]) as by_op_name:
            sess.run(loss, feed)
    assert plot.history.series("train loss")[0] == [5, 10, 15]
    assert by_op_name.history.series("loss")[0] == [0]


def test_summary_stream_scalars_from_session_runs_and_file_writer(tmp_path):
    loss, train, feed = regression()
    summary = tf.summary.scalar("train/loss", loss)
    other = tf.summary.scalar("other", loss * 2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with LossPlot(tags=["train/loss"]) as plot:  # switches watching on while open
            values = [sess.run([train, summary, loss, other], feed)[2] for _ in range(5)]
        assert no_subscribers() and stream.watch_session_summaries(False) is False
        writer = tf.summary.FileWriter(str(tmp_path))
        stream.watch_session_summaries(True)
        try:
            with LossPlot(tags=["train/loss"]) as written:
                for i in range(4):
                    writer.add_summary(sess.run([train, summary], feed)[1], 100 + i)
        finally:
            stream.watch_session_summaries(False)
            writer.close()
    assert plot.history.tags == ["train/loss"]
    assert plot.history.series("train/loss") == ([0, 1, 2, 3, 4],
                                                 pytest.approx([float(v) for v in values]))
    assert written.history.series("train/loss")[0] == [100, 101, 102, 103]


def test_without_tags_or_tensors_every_scalar_summary_is_plotted():
    loss, train, feed = regression()
    merged = tf.summary.merge([tf.summary.scalar("a", loss), tf.summary.scalar("b", loss + 1)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with LossPlot() as plot:
            sess.run(merged, feed)
    assert plot.history.tags == ["a", "b"]


# ---- throttling ----------------------------------------------------------------------------
def test_live_draws_are_throttled_and_close_draws_once_more():
    loss, train, feed = regression()
    clock = FakeClock()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with LossPlot(tensors=[loss], throttle=1.0, clock=clock) as plot:
            assert plot.draws == 1 and plot.png  # the empty axes, drawn on entering
            for _ in range(4):       # runs at t = 0.25 .. 1.0: due at 1.0
                clock.now += 0.25
                sess.run([train, loss], feed)
            draws_first_second = plot.draws
            for _ in range(10):      # runs at t = 1.0 .. 3.25: due at 2.0 and 3.0
                sess.run([train, loss], feed)
                clock.now += 0.25
            live = plot.draws
    assert draws_first_second == 2
    assert live == 4
    assert plot.draws == 5           # the final draw on close
    assert plot.history.count("loss") == 14


def test_throttle_keeps_slow_draws_within_the_budget():
    clock = FakeClock()
    throttle = Throttle(0.5, budget=0.05, clock=clock)
    assert not throttle.due()
    clock.now = 0.5
    assert throttle.due()
    with throttle.drawing():
        clock.now += 0.1             # a 100 ms draw may come back after 2 s, not 0.5 s
    assert throttle.next_at == pytest.approx(2.5)
    with throttle.drawing():
        clock.now += 0.001           # a quick draw: the interval rules
    assert throttle.next_at == pytest.approx(0.601 + 0.5 - 0.001)


# ---- text, images, error state --------------------------------------------------------------
def test_text_plain_is_deterministic():
    plot = LossPlot(tensors=["loss"])
    assert repr(plot) == "LossPlot: no points yet"
    for i in range(100):
        plot.history.append("loss", 1.0 / (i + 1) + 0.00233)
    assert repr(plot) == "LossPlot: loss 100 points (last 0.01233 at step 99)"
    plot.history.append("acc", 0.5, step=7)
    assert repr(plot) == ("LossPlot: 2 series\n  loss 100 points (last 0.01233 at step 99)\n"
                          "  acc 1 point (last 0.5 at step 7)")
    plot.fail(KeyboardInterrupt())
    assert repr(plot).endswith("\nstopped by KeyboardInterrupt")
    assert plot._repr_mimebundle_()["text/plain"] == repr(plot)


def png_of(values, **kwargs):
    plot = LossPlot(tensors=["loss"], **kwargs)
    for v in values:
        plot.history.append("loss", v)
    plot.close()
    return plot


def test_close_leaves_a_static_png_that_decodes_and_depends_on_the_history():
    a, b = png_of([3.0, 2.0, 1.0]), png_of([1.0, 5.0, 2.0, 8.0])
    bundle = a._repr_mimebundle_()
    png = base64.b64decode(bundle["image/png"])
    assert png == a.png == a.image.value
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (432, 230)  # 6 x 3.2 in at 72 dpi
    assert a.png != b.png
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "image/png" not in LossPlot(tensors=["x"])._repr_mimebundle_()  # live: no PNG yet


def test_smoothed_plot_differs_from_raw_plot():
    values = list(np.random.RandomState(2).rand(30))
    assert png_of(values).png != png_of(values, smoothing=0.8).png


def red_pixels(png):
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return int(((r > 150) & (g < 90) & (b < 90)).sum())


def test_exception_in_the_block_turns_the_plot_red_and_unsubscribes():
    loss, train, feed = regression()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(KeyboardInterrupt):
            with LossPlot(tensors=[loss]) as plot:
                sess.run([train, loss], feed)
                raise KeyboardInterrupt
    assert no_subscribers() and plot.closed
    assert plot.error == "stopped by KeyboardInterrupt"
    assert repr(plot) == ("LossPlot: loss 1 point (last 0.5017 at step 0)\n"
                          "stopped by KeyboardInterrupt")
    assert "#c62828" in plot.header.value and "stopped by KeyboardInterrupt" in plot.header.value
    assert red_pixels(plot.png) > 50
    assert red_pixels(png_of([0.5017]).png) == 0


def test_fail_outside_a_block_shows_the_error_type():
    plot = png_of([1.0, 2.0])
    plot.fail(ValueError("boom"))
    assert repr(plot).endswith("failed: ValueError")


def test_infinite_loss_is_drawn_as_a_gap_not_an_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot = png_of([1.0, math.inf, 0.5, math.nan, 0.25], smoothing=0.5)
    assert plot.draws == 1 and plot.png


def test_a_failing_draw_warns_once_and_never_raises():
    plot = LossPlot(tensors=["loss"], figsize=(-1.0, 2.0))   # matplotlib refuses this size
    plot.history.append("loss", 1.0)
    with pytest.warns(RuntimeWarning, match="LossPlot could not draw"):
        plot.draw()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot.draw()
        plot.close()
    assert plot.draws == 0 and repr(plot).startswith("LossPlot: loss 1 point")


def test_closed_plot_cannot_reopen():
    plot = png_of([1.0])
    with pytest.raises(RuntimeError, match="closed"):
        plot.open()


def test_missing_optional_dependency_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # as if it were not installed
    with pytest.raises(ImportError) as info:
        LossPlot(tensors=["loss"])
    assert HINT in str(info.value) and "ipywidgets" in str(info.value)
    with pytest.raises(ImportError, match='pip install "tginteractive\\[notebook\\]"'):
        _history.require("no_such_module_for_tginteractive", "LossPlot")


def test_overlapping_plots_watch_summaries_until_the_last_one_closes():
    assert stream.watch_session_summaries(False) is False
    first, second = LossPlot().open(), LossPlot(tags=["a"]).open()
    first.close()
    assert stream.watch_session_summaries(True) is True     # still on for `second`
    second.close()
    assert stream.watch_session_summaries(False) is False   # restored
    assert no_subscribers()
