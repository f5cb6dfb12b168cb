"""GradientDescentOptimizer and the Optimizer base class."""
import numpy as np
import pytest

import tginteractive as tf


def test_one_step_matches_the_update_rule():
    w = tf.Variable([1.0, -2.0], name="w")
    loss = tf.reduce_sum(w * w)
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    assert step.type == "NoOp" and step.name == "GradientDescent"
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(step)
        np.testing.assert_allclose(sess.run(w), [1.0 - 0.1 * 2.0, -2.0 + 0.1 * 4.0], rtol=1e-6)


def test_compute_and_apply_gradients_with_global_step():
    w = tf.Variable(3.0)
    unused = tf.Variable(1.0)
    step = tf.Variable(0, trainable=False, name="global_step")
    lr = tf.placeholder(tf.float32, [])
    opt = tf.train.GradientDescentOptimizer(lr)
    grads_and_vars = opt.compute_gradients(w * w)
    assert [v for _, v in grads_and_vars] == [w, unused, ]
    assert grads_and_vars[1][0] is None
    train = opt.apply_gradients(grads_and_vars, global_step=step)
    assert train in tf.get_collection(tf.GraphKeys.TRAIN_OP)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {lr: 0.25})
        assert sess.run([w, unused, step]) == [1.5, 1.0, 1]
    assert opt.get_name() == "GradientDescent" and opt.get_slot_names() == []


def test_errors_for_nothing_to_optimize():
    x = tf.constant(1.0)
    opt = tf.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError, match="No variables to optimize"):
        opt.minimize(x * 2.0)
    tf.Variable(1.0, name="v")
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.minimize(x * 2.0)
    with pytest.raises(ValueError, match="Invalid type int32"):
        opt.minimize(tf.constant(1))


def test_float64_variables_and_float32_learning_rate():
    w = tf.Variable(np.array([2.0]))
    step = tf.train.GradientDescentOptimizer(0.5).minimize(tf.reduce_sum(w * w))
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(step)
        assert sess.run(w).dtype == np.float64 and sess.run(w)[0] == 0.0
