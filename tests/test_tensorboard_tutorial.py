"""The classic TensorBoard tutorial end to end: annotate the loss (scalar) and W, b
(histograms) under name scopes, merge, write every epoch with the graph, and read it all
back with TensorBoard's own EventAccumulator."""
import numpy as np
import pytest

import tginteractive as tf

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator")


def test_annotate_merge_write_every_epoch_and_read_back(tmp_path):
    rng = np.random.RandomState(0)
    xs = rng.uniform(-1, 1, 64).astype(np.float32)
    ys = 3 * xs + 0.5
    with tf.name_scope("input"):
        x = tf.placeholder(tf.float32, [None], name="x")
        y = tf.placeholder(tf.float32, [None], name="y")
    with tf.name_scope("model"):
        W = tf.Variable(0.0, name="W")
        b = tf.Variable(0.0, name="b")
        tf.summary.histogram("W", W)
        tf.summary.histogram("b", b)
    with tf.name_scope("train"):
        loss = tf.reduce_mean(tf.square(W * x + b - y))
        tf.summary.scalar("loss", loss)
        step = tf.train.GradientDescentOptimizer(0.3).minimize(loss)
    merged = tf.summary.merge_all()
    losses = []
    with tf.Session() as sess, tf.summary.FileWriter(str(tmp_path), sess.graph) as writer:
        sess.run(tf.global_variables_initializer())
        for epoch in range(10):
            summary, value, _ = sess.run([merged, loss, step], {x: xs, y: ys})
            writer.add_summary(summary, epoch)
            losses.append(value)
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    tags = acc.Tags()
    assert set(tags["scalars"]) == {"train/loss"}
    assert set(tags["histograms"]) == {"model/W_1", "model/b_1"}
    events = acc.Scalars("train/loss")
    assert [e.step for e in events] == list(range(10))
    np.testing.assert_allclose([e.value for e in events], losses, rtol=1e-6)
    assert losses[-1] < losses[0]
    histogram = acc.Histograms("model/W_1")[-1].histogram_value
    assert histogram.num == 1
    graph = acc.Graph()
    names = {node.name: node for node in graph.node}
    assert {"input/x", "model/W", "train/Mean"} <= set(names)
    assert names["train/Mean"].op == "Mean"
