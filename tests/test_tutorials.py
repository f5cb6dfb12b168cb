"""The classic TF1 tutorial programs, verbatim in spirit, as tests."""
import numpy as np

import tginteractive as tf


def test_multiply_two_constants():
    a = tf.constant(5.0)
    b = tf.constant(6.0)
    c = a * b
    with tf.Session() as sess:
        assert sess.run(c) == 30.0


def test_placeholders_and_feed_dict():
    a = tf.placeholder(tf.float32)
    b = tf.placeholder(tf.float32)
    adder = a + b
    with tf.Session() as sess:
        assert sess.run(adder, {a: 3, b: 4.5}) == 7.5
        np.testing.assert_allclose(sess.run(adder, {a: [1, 3], b: [2, 4]}), [3.0, 7.0])
        assert sess.run(adder * 3, feed_dict={a: 3, b: 4.5}) == 22.5


def test_linear_regression_recovers_w_and_b():
    rng = np.random.RandomState(0)
    x_train = rng.uniform(-1, 1, 100).astype(np.float32)
    y_train = 0.3 * x_train - 0.7 + rng.normal(0, 0.01, 100).astype(np.float32)
    W = tf.Variable([0.0], dtype=tf.float32)
    b = tf.Variable([0.0], dtype=tf.float32)
    x = tf.placeholder(tf.float32)
    y = tf.placeholder(tf.float32)
    linear_model = W * x + b
    loss = tf.reduce_sum(tf.square(linear_model - y))
    train = tf.train.GradientDescentOptimizer(0.005).minimize(loss)
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        for _ in range(500):
            sess.run(train, {x: x_train, y: y_train})
        w_val, b_val, loss_val = sess.run([W, b, loss], {x: x_train, y: y_train})
    assert abs(w_val[0] - 0.3) < 0.01 and abs(b_val[0] + 0.7) < 0.01
    assert loss_val < 0.02


def test_interactive_session_style():
    sess = tf.InteractiveSession()
    try:
        x = tf.Variable([1.0, 2.0])
        a = tf.constant([3.0, 3.0])
        x.initializer.run()
        sub = tf.subtract(x, a)
        np.testing.assert_allclose(sub.eval(), [-2.0, -1.0])
    finally:
        sess.close()
