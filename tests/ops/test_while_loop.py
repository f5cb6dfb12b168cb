"""tf.while_loop: values, structures, shape invariants, maximum_iterations, errors, variables,
nesting with tf.cond, and gradients (checked against central differences)."""
import collections
import math

import numpy as np
import pytest

import tginteractive as tf
from tests.ops.harness import Spec, numeric_gradient, run_spec, spec_id


def _cube(x):
    return tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x),
                         [tf.constant(0), tf.ones_like(x)])[1]


SPECS = [
    Spec("While", _cube, [[1.5, -0.5, 2.0]], lambda x: x ** 3, name="While_cube"),
    Spec("While", lambda x, y: tf.while_loop(lambda i, a: i < 2,
                                             lambda i, a: (i + 1, tf.sin(a) * y), [0, x])[1],
         [[0.3, -1.2], [1.5, 0.7]], lambda x, y: np.sin(np.sin(x) * y) * y,
         name="While_initial_and_captured"),
    Spec("WhileGrad", lambda x: tf.gradients(tf.reduce_sum(_cube(x)), x)[0],
         [[1.5, -0.5, 2.0]], lambda x: 3 * x ** 2),
]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_spec(spec):
    run_spec(spec)


# ---- values and structures --------------------------------------------------------------
def test_sum_and_factorial():
    n = tf.placeholder(tf.int32, [])
    total = tf.while_loop(lambda i, s: i <= n, lambda i, s: (i + 1, s + i), [1, 0])[1]
    fact = tf.while_loop(lambda i, f: i <= n, lambda i, f: (i + 1, f * tf.cast(i, tf.float64)),
                         [tf.constant(1), tf.constant(1.0, tf.float64)])[1]
    single = tf.while_loop(lambda i: i < n, lambda i: i + 1, [0])
    assert single.op.type == "While" and single.op.name == "while_2"
    with tf.Session() as sess:
        assert sess.run([total, fact, single], {n: 10}) == [55, math.factorial(10), 10]
        assert sess.run(single, {n: -3}) == 0  # zero iterations


def test_nested_structures_of_loop_vars():
    pair = collections.namedtuple("Pair", "count value")
    i = tf.constant(0)
    nt = tf.while_loop(lambda p: p.count < 4, lambda p: [pair(p.count + 1, p.value * 2.0)],
                       [pair(i, tf.constant(1.0))])
    dct = tf.while_loop(lambda d: d["i"] < 3, lambda d: {"i": d["i"] + 1, "x": d["x"] + [1.0, 2.0]},
                        {"i": i, "x": tf.zeros([2])})
    nested = tf.while_loop(lambda i, xs: i < 2, lambda i, xs: (i + 1, (xs[0] + 1, [xs[1][0] * 3])),
                           (i, (tf.constant(0.0), [tf.constant(1)])))
    same = tf.while_loop(lambda i: i < 2, lambda i: i + 1, [i], return_same_structure=True)
    assert isinstance(nt[0], pair) and isinstance(same, list)
    with tf.Session() as sess:
        got = sess.run([nt, dct, nested, same])
    assert got[0] == [pair(4, 16.0)]
    assert got[1]["i"] == 3 and got[1]["x"].tolist() == [3.0, 6.0]
    assert got[2][0] == 2 and got[2][1][0] == 2.0 and got[2][1][1] == [9]
    assert got[3] == [2]


def test_shape_invariants_let_a_loop_var_grow():
    i = tf.constant(0)
    r = tf.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, tf.concat([x, x], 0)),
                      [i, tf.ones([1])], shape_invariants=[i.shape, tf.TensorShape([None])])
    assert r[1].shape.as_list() == [None]
    with tf.Session() as sess:
        assert sess.run(r[1]).tolist() == [1.0] * 8


def test_changing_shape_without_invariant_fails_at_build_or_run_time():
    i = tf.constant(0)
    with pytest.raises(ValueError, match=r"Input tensor 'ones:0' enters the loop with shape "
                                         r"\(1,\), but has shape \(2,\).*shape_invariants"):
        tf.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, tf.concat([x, x], 0)),
                      [i, tf.ones([1])])
    # statically unknown output shape: caught when it runs, naming the loop variable
    r = tf.while_loop(lambda i, x: i < 3,
                      lambda i, x: (i + 1, tf.fill(tf.reshape(i + 2, [1]), 1.0)),
                      [i, tf.ones([2], name="grown")])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"loop variable 1 \('grown:0'\) has shape \[3\] after "
                                 r"iteration 2.*shape_invariants"):
            sess.run(r)
    with pytest.raises(ValueError, match="not compatible with the initial shape"):
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, [i], shape_invariants=[tf.TensorShape([2])])


def test_maximum_iterations():
    n = tf.placeholder(tf.int32, [])
    capped = tf.while_loop(lambda i: i < 100, lambda i: i + 1, [0], maximum_iterations=7)
    dynamic = tf.while_loop(lambda i: tf.constant(True), lambda i: i + 2, [0],
                            maximum_iterations=n)
    with tf.Session() as sess:
        assert sess.run(capped) == 7
        assert sess.run(dynamic, {n: 5}) == 10 and sess.run(dynamic, {n: 0}) == 0


def test_argument_and_structure_errors():
    i = tf.constant(0)
    with pytest.raises(ValueError, match=r"loop_vars is `\[\., \.\]` but the body returned "
                                         r"`\(\.,\)`"):
        tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1,), [i, tf.ones([1])])
    with pytest.raises(TypeError, match="must return a bool tensor, not int32"):
        tf.while_loop(lambda i: i, lambda i: i + 1, [i])
    with pytest.raises(ValueError, match="rank 0 but is rank 1"):
        tf.while_loop(lambda i: tf.constant([True]), lambda i: i + 1, [i])
    with pytest.raises(TypeError, match="enters tf.while_loop 'while_3' as int32, but the body "
                                        "returns float32"):
        tf.while_loop(lambda i: i < 2, lambda i: tf.cast(i, tf.float32), [i])
    with pytest.raises(ValueError, match="'loop_vars' must be provided"):
        tf.while_loop(lambda: True, lambda: 1, [])
    with pytest.raises(TypeError, match="'body' must be callable"):
        tf.while_loop(lambda i: i < 2, 3, [i])
    with pytest.raises(ValueError, match="Create it before the call"):
        tf.while_loop(lambda i: i < 2, lambda i: i + tf.Variable(1).read_value(), [i])


# ---- variables and side effects ---------------------------------------------------------
def test_body_side_effects_run_every_iteration_and_reads_are_current():
    v = tf.Variable(0.0)

    def body(i, seen):
        with tf.control_dependencies([v.assign_add(1.0)]):
            return i + 1, seen + v.read_value()
    r = tf.while_loop(lambda i, seen: i < 4, body, [0, 0.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r[1]) == 1.0 + 2.0 + 3.0 + 4.0
        assert sess.run(v) == 4.0


# ---- nesting with tf.cond ---------------------------------------------------------------
def test_cond_inside_while_and_while_inside_cond():
    x = tf.placeholder(tf.float64, [])
    p = tf.placeholder(tf.bool, [])
    alternating = tf.while_loop(
        lambda i, a: i < 4,
        lambda i, a: (i + 1, tf.cond(tf.equal(i % 2, 0), lambda: a * x, lambda: a + x)),
        [0, tf.constant(1.0, tf.float64)])[1]
    looped = tf.cond(p, lambda: tf.while_loop(lambda k, a: k < 3, lambda k, a: (k + 1, a * x),
                                              [0, tf.constant(1.0, tf.float64)])[1],
                     lambda: x)
    nested = tf.while_loop(lambda i, a: i < 3,
                           lambda i, a: (i + 1, tf.while_loop(lambda j, b: j < 2,
                                                              lambda j, b: (j + 1, b * x),
                                                              [0, a])[1]),
                           [0, tf.constant(1.0, tf.float64)])[1]
    grads = tf.gradients([alternating, looped, nested], x)[0]
    with tf.Session() as sess:
        feed = {x: 2.0, p: True}
        assert sess.run([alternating, looped, nested], feed) == [10.0, 8.0, 64.0]
        for y in (alternating, looped, nested):
            (g,) = sess.run(tf.gradients(y, x), feed)
            np.testing.assert_allclose(g, numeric_gradient(sess, y, x, 2.0, feed), rtol=1e-6)
        np.testing.assert_allclose(sess.run(grads, feed), 9.0 + 12.0 + 6 * 2.0 ** 5)
        assert sess.run(looped, {x: 2.0, p: False}) == 2.0


# ---- gradients --------------------------------------------------------------------------
def test_power_by_repeated_multiplication():
    x = tf.placeholder(tf.float64, [2])
    n = tf.placeholder(tf.int32, [])
    power = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a * x),
                          [0, tf.ones([2], tf.float64)])[1]
    (grad,) = tf.gradients(power, x)
    xv = np.array([1.3, -0.7])
    with tf.Session() as sess:
        for nv in (0, 1, 5):
            feed = {x: xv, n: nv}
            np.testing.assert_allclose(sess.run(grad, feed), nv * xv ** (nv - 1) if nv else 0)
            numeric = numeric_gradient(sess, power, x, xv, feed)
            np.testing.assert_allclose(sess.run(grad, feed), numeric, rtol=1e-6, atol=1e-9)


def test_gradients_wrt_initial_values_captures_and_variables():
    w = tf.Variable([0.5, -1.0], dtype=tf.float64)
    x0 = tf.placeholder(tf.float64, [2])
    c = tf.placeholder(tf.float64, [])
    out = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, tf.tanh(a * w) + c), [0, x0])[1]
    gw, gx0, gc = tf.gradients(tf.reduce_sum(out), [w, x0, c])
    with tf.Session() as sess:
        sess.run(w.initializer)
        feed = {x0: np.array([0.2, 0.9]), c: 0.3}
        got = sess.run([gx0, gc], feed)
        numeric = numeric_gradient(sess, out, x0, feed[x0], feed)
        np.testing.assert_allclose(got[0], numeric, rtol=1e-6)
        np.testing.assert_allclose(got[1], numeric_gradient(sess, out, c, 0.3, feed), rtol=1e-6)
        wv = sess.run(w)
        numeric = np.zeros(2)
        for k in range(2):
            vals = []
            for delta in (1e-6, -1e-6):
                w.load(wv + delta * np.eye(2)[k], sess)
                vals.append(np.sum(sess.run(out, feed)))
            numeric[k] = (vals[0] - vals[1]) / 2e-6
        w.load(wv, sess)
        np.testing.assert_allclose(sess.run(gw, feed), numeric, rtol=1e-6)


def test_back_prop_false_gives_no_gradient():
    x = tf.placeholder(tf.float32, [])
    r = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * x), [0, 1.0], back_prop=False)
    assert tf.gradients(r[1], x) == [None]
    with tf.Session() as sess:
        assert sess.run(r[1], {x: 2.0}) == 8.0


def test_training_a_variable_through_a_loop():
    w = tf.Variable(2.0)
    loss = tf.while_loop(lambda i, a: i < 2, lambda i, a: (i + 1, a * w), [0, 1.0])[1]  # w**2
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(step)
        assert np.isclose(sess.run(w), 2.0 - 0.1 * 4.0)
