"""Buffer donation (for arrays of at least executor.DONATE_MIN_SIZE elements): an elementwise op may write into its first input's buffer only when that
input dies there and is a fresh array owned by the plan — never a feed, a constant, a
variable, a view or a fetched value. Results must equal the allocating kernels'."""
import numpy as np

import tginteractive as tf


def _executable(sess, fetches, feeds=()):
    targets = tuple(fetches) if isinstance(fetches, (list, tuple)) else (fetches,)
    return sess._executable(targets, tuple(feeds))


N = 5000  # rows: above the donation threshold


def test_chain_donates_and_matches_numpy():
    x = tf.placeholder(tf.float64, [None, 3])
    h = tf.nn.relu(tf.matmul(x, tf.ones([3, 3], tf.float64)) + 1.0)
    y = tf.tanh(h * 2.0) - 0.5
    xv = np.random.RandomState(0).randn(N, 3)
    with tf.Session() as sess:
        got = sess.run(y, {x: xv})
        donated = _executable(sess, y, [x]).donated
    expected = np.tanh(np.maximum(xv @ np.ones((3, 3)) + 1.0, 0) * 2.0) - 0.5
    np.testing.assert_allclose(got, expected)
    assert {"add", "Relu", "mul", "Tanh", "sub"} <= set(donated)


def test_feeds_constants_and_variables_are_never_written():
    x = tf.placeholder(tf.float64, [N])
    c = tf.constant(np.arange(N, dtype=np.float64))
    v = tf.Variable(np.full(N, 5.0))
    outs = [x + 1.0, c * 2.0, v * 3.0, tf.identity(v) + 1.0, v.value() - 1.0]
    fed = np.ones(N)
    with tf.Session() as sess:
        sess.run(v.initializer)
        for _ in range(2):
            got = sess.run(outs, {x: fed})
        assert _executable(sess, outs, [x]).donated == []
        assert (fed == 1.0).all()
        assert (sess.run(c) == np.arange(N)).all() and (sess.run(v) == 5.0).all()
    for value, expected in zip(got, [2.0, 2.0 * np.arange(N), 15.0, 6.0, 4.0]):
        np.testing.assert_array_equal(value, np.broadcast_to(expected, (N,)))


def test_values_used_twice_or_fetched_are_not_clobbered():
    x = tf.placeholder(tf.float64, [None])
    a = x * 2.0          # used by two ops: only its last consumer may reuse it
    b = a + 1.0
    c = a * 10.0
    d = b - 3.0          # b is fetched too: it must keep its value
    xv = np.arange(N, dtype=np.float64)
    with tf.Session() as sess:
        got_a, got_b, got_c, got_d = sess.run([a, b, c, d], {x: xv})
        assert _executable(sess, [a, b, c, d], [x]).donated == []  # all fetched
        got_b2, got_c2, got_d2 = sess.run([b, c, d], {x: xv})
        donated = _executable(sess, [b, c, d], [x]).donated
    np.testing.assert_array_equal(got_a, 2 * xv)
    for b_value, c_value, d_value in [(got_b, got_c, got_d), (got_b2, got_c2, got_d2)]:
        np.testing.assert_array_equal(b_value, 2 * xv + 1)
        np.testing.assert_array_equal(c_value, 20 * xv)
        np.testing.assert_array_equal(d_value, 2 * xv - 2)
    assert donated == ["mul_1"]  # only `c`, a's last consumer, may reuse a's buffer


def test_broadcasting_that_outgrows_the_input_falls_back():
    p = tf.placeholder(tf.float64, [None])
    q = tf.placeholder(tf.float64, [None, None])
    small = p * 2.0          # fresh, dies in the add, but the result is bigger
    out = small + q
    pv = np.arange(N, dtype=np.float64)
    with tf.Session() as sess:
        got = sess.run(out, {p: pv, q: np.ones((2, N))})
        assert "add" in _executable(sess, out, [p, q]).donated
    np.testing.assert_allclose(got, np.broadcast_to(2 * pv + 1, (2, N)))


def test_small_static_shapes_do_not_donate():
    x = tf.placeholder(tf.float64, [3])
    y = (x * 2.0) + 1.0
    with tf.Session() as sess:
        assert sess.run(y, {x: [1.0, 2.0, 3.0]}).tolist() == [3.0, 5.0, 7.0]
        assert _executable(sess, y, [x]).donated == []


def test_gradients_still_see_undonated_forward_values():
    x = tf.placeholder(tf.float64, [None])
    y = tf.square(x * 1.5)           # Square's gradient reads its input, so it cannot donate
    (g,) = tf.gradients(tf.reduce_sum(y), x)
    xv = np.linspace(-3, 3, N)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(g, {x: xv}), 2 * (1.5 * xv) * 1.5)
