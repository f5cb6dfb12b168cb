"""ExponentialMovingAverage: shadows, apply/average, num_updates, zero_debias, restore map."""
import numpy as np
import pytest

import tginteractive as tf


def test_apply_creates_shadows_initialised_to_the_variables_initial_values():
    w = tf.Variable([1.0, 2.0], name="w")
    b = tf.Variable(5.0, name="b")
    ema = tf.train.ExponentialMovingAverage(0.9)
    update = ema.apply([w, b])
    assert update.type == "NoOp" and update.name == "ExponentialMovingAverage"
    shadow = ema.average(w)
    assert shadow.op.name == "w/ExponentialMovingAverage" == ema.average_name(w)
    assert not shadow.trainable and shadow in tf.global_variables()
    assert tf.get_collection(tf.GraphKeys.MOVING_AVERAGE_VARIABLES) == [w, b]
    assert ema.average(tf.Variable(0.0)) is None and ema.name == "ExponentialMovingAverage"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(shadow).tolist() == [1.0, 2.0] and sess.run(ema.average(b)) == 5.0


def test_averages_follow_the_numpy_recurrence_with_num_updates():
    step = tf.train.get_or_create_global_step()
    w = tf.Variable([1.0, -2.0], name="w")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(w * w),
                                                            global_step=step)
    ema = tf.train.ExponentialMovingAverage(0.99, num_updates=step)
    with tf.control_dependencies([train]):
        train_and_average = ema.apply([w])
    value, shadow = np.array([1.0, -2.0]), np.array([1.0, -2.0])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t in range(1, 31):
            sess.run(train_and_average)
            value = value * (1 - 0.2)                         # the gradient step
            decay = min(0.99, (1 + t) / (10 + t))             # num_updates read after it
            shadow = shadow - (1 - decay) * (shadow - value)
            np.testing.assert_allclose(sess.run(ema.average(w)), shadow, rtol=1e-5)
            np.testing.assert_allclose(sess.run(w), value, rtol=1e-5)


def test_tensors_get_zero_initialised_shadows_and_zero_debias():
    x = tf.placeholder(tf.float32, [2])
    doubled = x * 2.0
    plain = tf.train.ExponentialMovingAverage(0.5)
    debiased = tf.train.ExponentialMovingAverage(0.5, zero_debias=True, name="debiased")
    update = tf.group(plain.apply([doubled]), debiased.apply([doubled]))
    assert plain.average(doubled).op.name == "mul/ExponentialMovingAverage"
    names = {v.op.name for v in tf.global_variables()}
    assert {"mul/debiased/biased", "mul/debiased/local_step"} <= names
    feeds = [np.array([1.0, 2.0]), np.array([3.0, 0.0]), np.array([-1.0, 4.0])]
    avg, biased = np.zeros(2), np.zeros(2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t, f in enumerate(feeds, 1):
            sess.run(update, {x: f})
            avg = avg - 0.5 * (avg - 2 * f)
            biased = biased - 0.5 * (biased - 2 * f)
            np.testing.assert_allclose(sess.run(plain.average(doubled)), avg, rtol=1e-6)
            np.testing.assert_allclose(sess.run(debiased.average(doubled)),
                                       biased / (1 - 0.5 ** t), rtol=1e-6)


def test_decay_as_a_tensor_and_repeated_apply_reuses_shadows():
    decay = tf.placeholder(tf.float32, [])
    w = tf.Variable(10.0, name="w")
    ema = tf.train.ExponentialMovingAverage(decay)
    first = ema.apply([w])
    shadow = ema.average(w)
    second = ema.apply([w])
    assert ema.average(w) is shadow and first is not second
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign(0.0))
        sess.run(first, {decay: 0.75})
        assert sess.run(shadow) == pytest.approx(7.5)


def test_variables_to_restore_maps_shadow_names_to_the_averaged_variables():
    w = tf.Variable(1.0, name="w")
    other = tf.Variable(2.0, name="other", trainable=False)
    ema = tf.train.ExponentialMovingAverage(0.9)
    ema.apply([w])
    not_applied = tf.Variable(3.0, name="q")
    mapping = ema.variables_to_restore()
    assert mapping == {"w/ExponentialMovingAverage": w, "other": other,
                       "q/ExponentialMovingAverage": not_applied}
    assert ema.variables_to_restore([w]) == {"w/ExponentialMovingAverage": w,
                                             "other": other, "q": not_applied}


def test_integer_variables_are_rejected():
    with pytest.raises(TypeError, match="must be half, float, or double: i:0"):
        tf.train.ExponentialMovingAverage(0.9).apply([tf.Variable(1, name="i")])


def test_shadow_creation_ignores_enclosing_control_dependencies():
    w = tf.Variable(1.0, name="w")
    bump = w.assign_add(1.0)
    with tf.control_dependencies([bump]):
        update = tf.train.ExponentialMovingAverage(0.5).apply([w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(w) == 1.0            # initializing the shadow did not run `bump`
        sess.run(update)
        assert sess.run(w) == 2.0
