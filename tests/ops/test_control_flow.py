"""group, tuple, with_dependencies, no_op, Print and Assert."""
import numpy as np
import pytest

import tginteractive as tf


def test_group_runs_all_inputs_and_fetches_none():
    a, b = tf.Variable(0.0), tf.Variable(0.0)
    both = tf.group(a.assign_add(1.0), b.assign_add(2.0), name="both")
    assert both.type == "NoOp" and both.name == "both" and len(both.control_inputs) == 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(both) is None
        assert sess.run([a, b]) == [1.0, 2.0]
        assert sess.run(tf.no_op()) is None


def test_control_dependencies_order_state_updates():
    v = tf.Variable(1.0)
    with tf.control_dependencies([v.assign(10.0)]):
        read = tf.identity(v.read_value())
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(read) == 10.0


def test_tuple_and_with_dependencies():
    v = tf.Variable(0.0)
    bump = v.assign_add(1.0)
    x, y = tf.constant(1.0), tf.constant(2.0)
    gated = tf.tuple([x, y], control_inputs=[bump])
    after = tf.with_dependencies([bump], tf.constant(5.0))
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(gated) == [1.0, 2.0]
        assert sess.run(v) == 1.0
        assert sess.run(after) == 5.0
        assert sess.run(v) == 2.0


def test_print_passes_value_through(capfd):
    x = tf.constant([1.0, 2.0])
    printed = tf.Print(x, [x, tf.reduce_sum(x)], message="x is ")
    with tf.Session() as sess:
        assert sess.run(printed * 2.0).tolist() == [2.0, 4.0]
    err = capfd.readouterr().err
    assert "x is [1. 2.] 3." in err


def test_assert_fails_at_run_time_with_data():
    x = tf.placeholder(tf.float32, [None])
    check = tf.Assert(tf.reduce_all(x > 0), [x], name="positive")
    with tf.control_dependencies([check]):
        y = tf.identity(x)
    with tf.Session() as sess:
        assert sess.run(y, {x: [1.0]}).tolist() == [1.0]
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: "
                                                                 r"\[\[-1\.  2\.\]\]"):
            sess.run(y, {x: np.array([-1.0, 2.0])})
    with pytest.raises(TypeError, match="must be bool"):
        tf.Assert(x, [x])
