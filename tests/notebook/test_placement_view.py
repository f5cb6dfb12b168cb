"""PlacementView on real multi-device sessions: ops per device, cross-device copies, sampled
time shares, simulated GPUs, soft-placement reasons, filtering and the deterministic text."""
import warnings

import numpy as np
import pytest

import tginteractive as tf
from tginteractive.notebook.widgets.placement_view import PlacementView, format_bytes
from tginteractive.runtime import run_events

CPU0 = "/job:localhost/replica:0/task:0/device:CPU:0"
CPU1 = "/job:localhost/replica:0/task:0/device:CPU:1"


def two_device_graph(batch=4):
    """x @ w on CPU:0 (a [batch, 6] float32: 96 B for batch 4) -> relu, sum on CPU:1
    (a float32 scalar: 4 B) -> out = sum * 2 back on CPU:0."""
    with tf.device("/cpu:0"):
        x = tf.placeholder(tf.float32, [batch, 8], name="x")
        w = tf.Variable(np.ones((8, 6), np.float32), name="w")
        h = tf.matmul(x, w, name="h")
    with tf.device("/cpu:1"):
        s = tf.reduce_sum(tf.nn.relu(h, name="r"), name="s")
    with tf.device("/cpu:0"):
        out = tf.multiply(s, 2.0, name="out")
    return x, out


def two_cpu_session():
    sess = tf.Session(config=tf.ConfigProto(device_count={"CPU": 2}))
    sess.run(tf.global_variables_initializer())
    return sess


def names_on(view, device):
    return {r.op.name for r in view.stats.ops_on(device)}


def test_dry_run_counts_ops_per_device_and_copies_between_them():
    x, out = two_device_graph()
    with two_cpu_session() as sess:
        view = PlacementView.from_session(sess, out, feed_list=[x])
    assert names_on(view, CPU0) == {"w", "w/read", "h", "Const", "out"}
    assert names_on(view, CPU1) == {"r", "s"}
    assert repr(view) == ("PlacementView: 2 devices, 7 ops, planned (not run)\n"
                          "feeds: x\n"
                          "/device:CPU:0  5 ops  copied in 4 B, out 96 B per run\n"
                          "/device:CPU:1  2 ops  copied in 96 B, out 4 B per run")
    assert view.stats.time_share(CPU0) is None and "n/a" in view.summary.value
    assert "feeds: x" in view.summary.value
    assert repr(PlacementView(records=view.stats.records.values(), placeholders=["x", "y"])) \
        .splitlines()[1] == "feeds: x, y"


def test_live_runs_count_copies_per_run_and_sample_time_shares():
    x, out = two_device_graph()
    feed = {x: np.ones((4, 8), np.float32)}
    with two_cpu_session() as sess:
        with PlacementView(trace_every=2) as view:
            for _ in range(4):
                assert sess.run(out, feed) == pytest.approx(2 * 4 * 6 * 8)
        assert not run_events.has_subscribers()
    stats = view.stats
    assert stats.runs == 4 and stats.traced_runs == 2
    assert stats.copied_in[CPU1] == 4 * 96 and stats.copied_out[CPU1] == 4 * 4
    assert stats.per_run(stats.copied_in, CPU0) == 4
    assert stats.time_share(CPU0) + stats.time_share(CPU1) == pytest.approx(1.0)
    assert set(stats.op_us) >= {"h", "r", "s", "out"}
    assert "%" in view.summary.value
    assert repr(view) == ("PlacementView: 2 devices, 7 ops, 4 runs\n"
                          "/device:CPU:0  5 ops  copied in 4 B, out 96 B per run\n"
                          "/device:CPU:1  2 ops  copied in 96 B, out 4 B per run")


def test_unknown_static_shapes_are_sized_by_the_traced_run():
    x, out = two_device_graph(batch=None)
    feed = {x: np.ones((4, 8), np.float32)}
    with two_cpu_session() as sess:
        view = PlacementView.from_session(sess, out, feed_list=[x])
        assert view.stats.per_run(view.stats.copied_out, CPU0) == 0   # [?, 6]: unknown
        with view:
            sess.run(out, feed)   # the first run of a subscription is a traced one
    assert view.stats.traced_runs == 1
    assert view.stats.per_run(view.stats.copied_out, CPU0) == 96


def test_simulated_gpus_are_marked_and_soft_placement_reasons_shown():
    with tf.device("/gpu:1"):
        a = tf.constant(np.arange(6, dtype=np.float32), name="a")
        b = tf.square(a, name="b")
    with tf.device("/gpu:7"):
        c = tf.reduce_sum(b, name="c")
    config = tf.ConfigProto(device_count={"GPU": 2}, simulate_gpus=True,
                            allow_soft_placement=True)
    with tf.Session(config=config) as sess:
        view = PlacementView.from_session(sess, c)
        with view:
            assert sess.run(c) == pytest.approx(55.0)
    fallback = view.stats.records[c.op].device   # where soft placement put it
    label = fallback.short_name + (" (simulated)" if fallback.simulated else "")
    assert repr(view).splitlines() == [
        "PlacementView: 2 devices, 3 ops, 1 run",
        f"{label}  1 op  copied in 24 B, out 0 B per run",
        "/device:GPU:1 (simulated)  2 ops  copied in 0 B, out 24 B per run",
        "fallback: c: soft placement: /device:GPU:7 not available"]
    table = view.table.value
    assert "simulated on the CPU" in table and "soft placement" in table


def test_filter_box_narrows_the_table_case_insensitively_and_text_is_escaped():
    x, out = two_device_graph()
    with two_cpu_session() as sess:
        view = PlacementView.from_session(sess, out, feed_list=[x])
    assert view.table.value.count("<tr>") == 1 + 7
    view.filter_box.value = "RELU"
    assert [r.op.name for r in view.rows()] == ["r"]
    assert view.table.value.count("<tr>") == 2 and "r: (Relu): " in view.table.value
    view.filter = "device:cpu:1"
    assert {r.op.name for r in view.rows()} == {"r", "s"}
    view.filter = "colocated"
    assert [r.op.name for r in view.rows()] == ["w/read"]
    assert "colocated with &#x27;w&#x27;" in view.table.value
    assert "'w'" not in view.table.value
    view.filter = ""
    assert len(view.rows()) == 7


def test_long_tables_are_cut_with_a_hint():
    x, out = two_device_graph()
    with two_cpu_session() as sess:
        view = PlacementView.from_session(sess, out, feed_list=[x], max_rows=3)
    assert view.table.value.count("<tr>") == 1 + 3
    assert "4 more rows; type in the filter" in view.table.value


def test_close_leaves_deterministic_html_and_error_state():
    x, out = two_device_graph()
    feed = {x: np.ones((4, 8), np.float32)}
    with two_cpu_session() as sess:
        with pytest.raises(ValueError):
            with PlacementView(trace_every=1) as view:
                sess.run(out, feed)
                raise ValueError("boom")
    assert not run_events.has_subscribers() and view.closed
    assert repr(view).endswith("\nfailed: ValueError")
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] == repr(view)
    assert "%" not in bundle["text/html"] and "r: (Relu): " in bundle["text/html"]
    assert "#c62828" in view.summary.value


def test_rendering_never_raises():
    view = PlacementView()
    assert repr(view) == "PlacementView: 0 devices, 0 ops, nothing run yet"
    view.stats.devices["bogus"] = object()   # a device the view cannot describe
    with pytest.warns(RuntimeWarning, match="PlacementView could not draw"):
        view.refresh()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        view.refresh()
        assert repr(view).startswith("PlacementView:")


def test_format_bytes():
    assert [format_bytes(n) for n in (0, 4, 1023, 1536, 3 * 2 ** 20)] == \
        ["0 B", "4 B", "1023 B", "1.5 KiB", "3.0 MiB"]
