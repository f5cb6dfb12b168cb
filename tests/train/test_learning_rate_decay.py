"""Learning-rate schedules against their NumPy formulas, at several global steps."""
import math

import numpy as np
import pytest

import tginteractive as tf

STEPS = [0, 1, 7, 10, 15, 20, 33, 100]


def values_at(tensor, step, steps=STEPS):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = []
        for s in steps:
            step.load(s, sess)
            out.append(sess.run(tensor))
        return np.array(out)


def staircase(p, on):
    return np.floor(p) if on else p


@pytest.mark.parametrize("stair", [False, True])
def test_exponential_decay(stair):
    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.1, step, 10, 0.5, staircase=stair)
    assert lr.dtype == tf.float32 and lr.op.name == "ExponentialDecay"
    want = [0.1 * 0.5 ** staircase(s / 10, stair) for s in STEPS]
    np.testing.assert_allclose(values_at(lr, step), want, rtol=1e-6)


@pytest.mark.parametrize("stair", [False, True])
def test_natural_exp_and_inverse_time_decay(stair):
    step = tf.train.get_or_create_global_step()
    nat = tf.train.natural_exp_decay(0.2, step, 5, 0.3, staircase=stair)
    inv = tf.train.inverse_time_decay(0.2, step, 5, 0.3, staircase=stair)
    np.testing.assert_allclose(
        values_at(nat, step), [0.2 * math.exp(-0.3 * staircase(s / 5, stair)) for s in STEPS],
        rtol=1e-5)
    np.testing.assert_allclose(
        values_at(inv, step), [0.2 / (1 + 0.3 * staircase(s / 5, stair)) for s in STEPS],
        rtol=1e-6)


@pytest.mark.parametrize("power", [1.0, 0.5, 2.0])
def test_polynomial_decay(power):
    step = tf.train.get_or_create_global_step()
    lr = tf.train.polynomial_decay(0.1, step, 20, end_learning_rate=0.01, power=power)
    want = [(0.1 - 0.01) * (1 - min(s, 20) / 20) ** power + 0.01 for s in STEPS]
    np.testing.assert_allclose(values_at(lr, step), want, rtol=1e-5, atol=1e-7)


def test_polynomial_decay_with_cycle():
    step = tf.train.get_or_create_global_step()
    lr = tf.train.polynomial_decay(0.1, step, 20, end_learning_rate=0.01, power=1.0, cycle=True)
    want = []
    for s in STEPS:
        decay_steps = 20 * (1 if s == 0 else math.ceil(s / 20))
        want.append((0.1 - 0.01) * (1 - s / decay_steps) + 0.01)
    np.testing.assert_allclose(values_at(lr, step), want, rtol=1e-5)


@pytest.mark.parametrize("alpha", [0.0, 0.2])
def test_cosine_decay(alpha):
    step = tf.train.get_or_create_global_step()
    lr = tf.train.cosine_decay(0.1, step, 20, alpha=alpha)
    want = [0.1 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * min(s, 20) / 20)) + alpha)
            for s in STEPS]
    np.testing.assert_allclose(values_at(lr, step), want, rtol=1e-5, atol=1e-8)


def test_piecewise_constant_on_the_int64_global_step():
    step = tf.train.get_or_create_global_step()
    lr = tf.train.piecewise_constant(step, [7, 20], [1.0, 0.5, 0.1])
    assert lr.dtype == tf.float32
    want = [1.0 if s <= 7 else 0.5 if s <= 20 else 0.1 for s in STEPS]
    np.testing.assert_allclose(values_at(lr, step), want)
    ops = {op.type for op in tf.get_default_graph().get_operations()}
    assert "SelectV2" in ops


def test_piecewise_constant_float_x_and_errors():
    x = tf.placeholder(tf.float32, [])
    lr = tf.train.piecewise_constant(x, [0.5], [10, 20], name="pc")
    assert lr.op.name == "pc" and lr.dtype == tf.int32
    with tf.Session() as sess:
        assert [sess.run(lr, {x: v}) for v in (0.0, 0.5, 0.6)] == [10, 10, 20]
    with pytest.raises(ValueError, match="1 less than the length of values"):
        tf.train.piecewise_constant(x, [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="same dtype"):
        tf.train.piecewise_constant(x, [0.5], [1.0, 2])
    with pytest.raises(ValueError, match="same dtype as x"):
        tf.train.piecewise_constant(tf.constant(1, tf.int64), [0.5], [1.0, 2.0])


def test_a_schedule_without_global_step_is_an_error():
    with pytest.raises(ValueError, match="global_step is required for exponential_decay"):
        tf.train.exponential_decay(0.1, None, 10, 0.5)


def test_float64_learning_rate_keeps_its_dtype_and_names_scope():
    step = tf.train.get_or_create_global_step()
    lr = tf.train.cosine_decay(np.float64(0.1), step, 10, name="cos")
    assert lr.dtype == tf.float64 and lr.op.name == "cos"
    np.testing.assert_allclose(values_at(lr, step, [5]), [0.05], rtol=1e-12)


def test_schedule_advances_with_training():
    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.5, step, 1, 0.5, staircase=True)
    w = tf.Variable(0.0)
    train = tf.train.GradientDescentOptimizer(lr).minimize(-w, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(4):
            sess.run(train)
        np.testing.assert_allclose(sess.run(w), 0.5 + 0.25 + 0.125 + 0.0625)
        assert tf.train.global_step(sess, step) == 4
