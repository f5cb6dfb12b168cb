"""Execution across virtual devices: results equal single-device execution, copies are made
once per destination, device threads really run, state stays ordered, errors surface."""
import threading

import numpy as np
import pytest

import tginteractive as tf

TWO_CPUS = tf.ConfigProto(device_count={"CPU": 2})


def towers_graph():
    x = tf.placeholder(tf.float64, [None, 4], name="x")
    with tf.device("/cpu:0"):
        w = tf.Variable(np.linspace(-1, 1, 12).reshape(4, 3), name="w")
    losses = []
    for i in range(2):
        with tf.device(f"/cpu:{i}"), tf.name_scope(f"tower_{i}"):
            part = x[i * 2:(i + 1) * 2]
            losses.append(tf.reduce_mean(tf.square(tf.tanh(tf.matmul(part, w)))))
    with tf.device("/cpu:0"):
        loss = tf.add_n(losses) / 2.0
        train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
    return x, w, loss, train


def train_weights(config, steps=5):
    tf.reset_default_graph()
    x, w, loss, train = towers_graph()
    xv = np.random.RandomState(0).randn(4, 4)
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(train, {x: xv})
        return sess.run([w, loss], {x: xv}), sess


def test_two_virtual_cpus_give_the_same_training_as_one():
    (w2, loss2), sess = train_weights(TWO_CPUS)
    (w1, loss1), _ = train_weights(tf.ConfigProto(allow_soft_placement=True))
    np.testing.assert_allclose(w2, w1, rtol=1e-12)
    assert loss2 == pytest.approx(loss1, rel=1e-12)


def test_multi_device_plans_use_device_threads_and_copies():
    x, w, loss, train = towers_graph()
    with tf.Session(config=TWO_CPUS) as sess:
        sess.run(tf.global_variables_initializer())
        exe = sess._executable((loss,), (x,))
        assert type(exe).__name__ == "ParallelExecutable"
        assert {s.device.short_name for s in exe.segments} == {"/device:CPU:0", "/device:CPU:1"}
        assert exe.source.count("cp_CPU0_CPU1(") >= 1  # inputs cross to the tower device
        value = sess.run(loss, {x: np.ones((4, 4))})
        assert np.isfinite(value)
        workers = [t for t in threading.enumerate() if t.name.startswith("tginteractive-device")]
        assert workers, "the second device's segments run on a worker thread"


def test_each_tensor_is_copied_once_per_destination():
    x = tf.placeholder(tf.float64, [3])
    with tf.device("/cpu:0"):
        shared = x * 2.0
    with tf.device("/cpu:1"):
        a = shared + 1.0
        b = shared * 3.0
    with tf.device("/cpu:0"):
        mid = a + b
    with tf.device("/cpu:1"):
        c = mid + shared  # a second segment on cpu:1 reuses the earlier copy of `shared`
    with tf.Session(config=TWO_CPUS) as sess:
        got = sess.run([a, b, c], {x: [1.0, 2.0, 3.0]})
        exe = sess._executable((a, b, c), (x,))
    s = np.array([2.0, 4.0, 6.0])
    np.testing.assert_allclose(got[2], (s + 1) + 3 * s + s)
    copies_of_shared = [line for line in exe.source.splitlines()
                        if "cp_CPU0_CPU1(" in line]
    assert len(copies_of_shared) == 2  # `shared` once, `mid` once


def test_variable_updates_keep_plan_order_across_devices():
    with tf.device("/cpu:0"):
        v = tf.Variable(0.0)
    with tf.device("/cpu:1"):
        first = v.assign_add(1.0)
    with tf.device("/cpu:0"):
        with tf.control_dependencies([first]):
            second = v.assign(v.read_value() * 10.0)
    with tf.Session(config=TWO_CPUS) as sess:
        sess.run(v.initializer)
        assert sess.run(second) == 10.0 and sess.run(v) == 10.0


@pytest.mark.parametrize("inter_op", [0, 1, 2])  # measured choice, inline, device threads
def test_errors_on_a_worker_device_name_the_op(inter_op):
    x = tf.placeholder(tf.float64, [None])
    with tf.device("/cpu:1"):
        bad = tf.reshape(x, [2, 2], name="bad_reshape")
    with tf.device("/cpu:0"):
        out = bad * 2.0
    config = tf.ConfigProto(device_count={"CPU": 2}, inter_op_parallelism_threads=inter_op)
    with tf.Session(config=config) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad_reshape"):
            sess.run(out, {x: [1.0, 2.0, 3.0]})
        assert sess.run(out, {x: [1.0, 2.0, 3.0, 4.0]}).shape == (2, 2)


def test_trace_has_stats_per_device():
    x, w, loss, train = towers_graph()
    with tf.Session(config=TWO_CPUS) as sess:
        sess.run(tf.global_variables_initializer())
        meta = tf.RunMetadata()
        sess.run(loss, {x: np.ones((4, 4))}, options=tf.RunOptions(trace_level=3),
                 run_metadata=meta)
    devices = {d.device: [n.node_name for n in d.node_stats] for d in meta.step_stats.dev_stats}
    assert set(devices) == {"/job:localhost/replica:0/task:0/device:CPU:0",
                            "/job:localhost/replica:0/task:0/device:CPU:1"}
    assert "tower_1/MatMul" in devices["/job:localhost/replica:0/task:0/device:CPU:1"]


def test_fetches_and_feeds_across_devices_are_copies():
    x = tf.placeholder(tf.float64, [2])
    with tf.device("/cpu:1"):
        y = x + 0.0
        z = tf.identity(x)
    fed = np.array([1.0, 2.0])
    with tf.Session(config=TWO_CPUS) as sess:
        got_y, got_z, got_x = sess.run([y, z, x], {x: fed})
    got_z[0] = 99.0
    got_x[1] = 99.0
    assert fed.tolist() == [1.0, 2.0] and got_y.tolist() == [1.0, 2.0]


def test_multi_device_plans_donate_only_segment_local_buffers():
    x = tf.placeholder(tf.float64, [None])
    with tf.device("/cpu:0"):
        a = x * 2.0
        shared = a + 1.0          # `a` dies here and was made here: may be reused
    with tf.device("/cpu:1"):
        b = shared * 3.0          # `shared` crosses devices: never reused
        c = tf.tanh(b)            # `b` is local to cpu:1's segment: may be reused
    with tf.device("/cpu:0"):
        d = shared - 1.0
    xv = np.linspace(-1, 1, 5000)
    with tf.Session(config=TWO_CPUS) as sess:
        got_c, got_d = sess.run([c, d], {x: xv})
        donated = sess._executable((c, d), (x,)).donated
    np.testing.assert_allclose(got_c, np.tanh((2 * xv + 1) * 3))
    np.testing.assert_allclose(got_d, 2 * xv)
    assert "add" in donated and "Tanh" in donated and "mul_1" not in donated
