"""tf.gradients: unconnected inputs, fan-in, stop_gradients, grad_ys, second derivatives."""
import numpy as np
import pytest

import tginteractive as tf
from tests.ops.harness import run


def test_unconnected_inputs_give_none():
    x, z = tf.constant(1.0), tf.constant(2.0)
    y = x * 3.0
    assert tf.gradients(y, [x, z])[1] is None
    assert tf.gradients(y, z) == [None]


def test_fan_in_is_aggregated():
    x = tf.constant(2.0)
    y = x * x + tf.sin(x) + x
    (g,) = tf.gradients(y, x)
    assert g.op.type == "AddN"
    assert np.isclose(run(g), 2 * 2.0 + np.cos(2.0) + 1)


def test_gradient_names_live_under_gradients_scope():
    x = tf.constant(2.0, name="x")
    y = tf.square(x, name="sq")
    (g,) = tf.gradients(y, x)
    assert g.name.startswith("gradients/sq_grad/")
    (g2,) = tf.gradients(y, x)
    assert g2.name.startswith("gradients_1/")


def test_stop_gradient_op_and_argument():
    x = tf.constant(3.0)
    a = tf.stop_gradient(x * 2.0) * x
    assert run(tf.gradients(a, x)[0]) == 6.0
    h = x * 2.0
    y = h * x
    assert run(tf.gradients(y, x, stop_gradients=[h])[0]) == 6.0
    assert run(tf.gradients(y, x)[0]) == 12.0


def test_grad_ys_and_multiple_ys():
    x = tf.constant([1.0, 2.0])
    y1, y2 = x * 2.0, x * x
    assert run(tf.gradients(y1, x, grad_ys=tf.constant([1.0, 10.0]))[0]).tolist() == [2.0, 20.0]
    assert run(tf.gradients([y1, y2], x)[0]).tolist() == [4.0, 6.0]
    with pytest.raises(ValueError, match="not compatible"):
        tf.gradients(y1, x, grad_ys=tf.constant([1.0, 2.0, 3.0]))


def test_integer_paths_stop_and_integer_ys_are_rejected():
    x = tf.constant([1.0, 2.0])
    i = tf.cast(x, tf.int32)
    y = tf.cast(i * 2, tf.float32) + x
    assert run(tf.gradients(y, x)[0]).tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="only floating-point tensors"):
        tf.gradients(i, x)


def test_broadcast_gradients_have_the_input_shape():
    a = tf.placeholder(tf.float64, [None, 3])
    b = tf.placeholder(tf.float64, [3])
    ga, gb = tf.gradients(tf.reduce_sum(a * b), [a, b])
    av, bv = np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0])
    got_a, got_b = run([ga, gb], {a: av, b: bv})
    np.testing.assert_allclose(got_a, np.broadcast_to(bv, (2, 3)))
    np.testing.assert_allclose(got_b, av.sum(0))


def _numeric(f, x, eps=1e-5):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@pytest.mark.parametrize("build", [
    lambda x: tf.tanh(x) * x,
    lambda x: tf.exp(tf.sin(x)),
    lambda x: tf.reduce_sum(tf.matmul(tf.reshape(x, [1, 1]), tf.reshape(x * x, [1, 1]))),
    lambda x: tf.sigmoid(x) / (1.0 + x * x),
    lambda x: tf.reduce_mean(tf.pow(tf.reshape(x, [1]) * [1.0, 2.0], 3.0)),
    lambda x: tf.reduce_max(tf.reshape(x, [1]) * [1.0, -2.0]) ** 2,
    lambda x: tf.sqrt(x) * tf.log(x),
])
def test_second_derivatives_match_numeric(build):
    x = tf.placeholder(tf.float64, [])
    y = build(x)
    (g,) = tf.gradients(y, x)
    (gg,) = tf.gradients(g, x)
    x0 = 0.7
    with tf.Session() as sess:
        first = lambda v: sess.run(g, {x: v})  # noqa: E731
        value = lambda v: sess.run(y, {x: v})  # noqa: E731
        np.testing.assert_allclose(sess.run(g, {x: x0}), _numeric(value, x0), rtol=1e-6)
        np.testing.assert_allclose(sess.run(gg, {x: x0}), _numeric(first, x0), rtol=1e-5)


def test_gradient_of_variable_through_read():
    w = tf.Variable([1.0, 2.0])
    loss = tf.reduce_sum(w * w)
    (g,) = tf.gradients(loss, w)
    with tf.Session() as sess:
        sess.run(w.initializer)
        assert sess.run(g).tolist() == [2.0, 4.0]
