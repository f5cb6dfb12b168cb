"""tf.cond and tf.case: values, only-the-taken-branch execution, nesting, structures, errors,
variables inside branches and gradients (checked against central differences)."""
import collections

import numpy as np
import pytest

import tginteractive as tf
from tests.ops.harness import Spec, numeric_gradient, run_spec, spec_id

SPECS = [
    Spec("If", lambda x, y: tf.cond(tf.reduce_sum(x) > 0, lambda: x * y, lambda: x - y),
         [[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]],
         lambda x, y: x * y if x.sum() > 0 else x - y, name="If_then"),
    Spec("If", lambda x, y: tf.cond(tf.reduce_sum(x) > 0, lambda: x * y,
                                    lambda: tf.tanh(x) - y),
         [[-1.0, 0.2, -0.5], [3.0, -1.0, 2.0]],
         lambda x, y: x * y if x.sum() > 0 else np.tanh(x) - y, name="If_else"),
]
EXEMPT = {"RefCapture": "tests/ops/test_cond.py"}


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_spec(spec):
    run_spec(spec)


# ---- values and execution ---------------------------------------------------------------
def test_only_the_taken_branch_runs():
    count = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: count.assign_add(1.0), lambda: count.assign_add(10.0))
    assert r.op.type == "If" and r.op.name == "cond" and r.shape == tf.TensorShape([])
    with tf.Session() as sess:
        sess.run(count.initializer)
        assert sess.run(r, {p: True}) == 1.0 and sess.run(count) == 1.0
        assert sess.run(r, {p: False}) == 11.0 and sess.run(count) == 11.0
        assert sess.run(r, {p: True}) == 12.0


def test_unreturned_ops_do_not_run_as_in_tf1_and_print_only_when_taken(capfd):
    count = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    x = tf.constant(5.0)

    def true_fn():
        count.assign_add(100.0)  # not returned, not a dependency: never runs (TF1)
        return tf.Print(x, [x], message="TAKEN ")
    r = tf.cond(p, true_fn, lambda: x * 2.0)
    with tf.Session() as sess:
        sess.run(count.initializer)
        assert sess.run(r, {p: False}) == 10.0
        assert "TAKEN" not in capfd.readouterr().err
        assert sess.run(r, {p: True}) == 5.0
        assert "TAKEN 5" in capfd.readouterr().err
        assert sess.run(count) == 0.0


def test_random_op_in_untaken_branch_does_not_draw():
    def draws(preds):
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(7)
            p = tf.placeholder(tf.bool, [])
            r = tf.cond(p, lambda: tf.constant(0.0), lambda: tf.random_uniform([]))
            with tf.Session() as sess:
                return [sess.run(r, {p: v}) for v in preds]
    plain = draws([False, False])
    interleaved = draws([True, False, True, True, False])
    assert [interleaved[1], interleaved[4]] == plain


def test_nested_conds_and_outer_tensors():
    x = tf.placeholder(tf.float32, [])
    p, q = tf.placeholder(tf.bool, []), tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.cond(q, lambda: x + 1.0, lambda: x * 10.0), lambda: -x)
    with tf.Session() as sess:
        assert sess.run(r, {x: 2.0, p: True, q: True}) == 3.0
        assert sess.run(r, {x: 2.0, p: True, q: False}) == 20.0
        assert sess.run(r, {x: 2.0, p: False, q: True}) == -2.0


def test_static_values_tensors_from_other_branches_and_graphs():
    x = tf.placeholder(tf.float32, [2, 3])
    axis = tf.constant(1)  # ops needing a static axis still see it inside a branch
    r = tf.cond(tf.constant(True), lambda: tf.reduce_sum(x, axis=axis), lambda: x[:, 0])
    assert r.shape.as_list() == [2]
    leaked = []

    def true_fn():
        leaked.append(x * 2.0)
        return leaked[0]
    tf.cond(tf.constant(True), true_fn, lambda: x)
    with pytest.raises(ValueError, match="made inside another branch or loop body"):
        tf.cond(tf.constant(True), lambda: leaked[0] + 1.0, lambda: x)
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            tf.cond(tf.constant(True), lambda: x, lambda: tf.zeros([2, 3]))
    with tf.Session() as sess:
        assert sess.run(r, {x: np.ones((2, 3))}).tolist() == [3.0, 3.0]


def test_structures_python_values_and_singletons():
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [None, 3])
    point = collections.namedtuple("Point", "x y")
    d = tf.cond(p, lambda: {"a": x, "b": (1, 2.0)}, lambda: {"a": x * 2, "b": (3, 4.0)})
    nt = tf.cond(p, lambda: point(x, 1.0), lambda: point(-x, 2.0))
    single = tf.cond(p, lambda: [x], lambda: [x + 1])
    strict = tf.cond(p, lambda: [x], lambda: [x + 1], strict=True)
    assert isinstance(single, tf.Tensor) and isinstance(strict, list)
    assert d["a"].shape.as_list() == [None, 3] and d["b"][0].dtype == tf.int32
    feed = {p: False, x: np.ones((2, 3))}
    with tf.Session() as sess:
        got = sess.run([d, nt, single, strict], feed)
    assert got[0]["b"] == (3, 4.0) and got[0]["a"].tolist() == [[2.0] * 3] * 2
    assert isinstance(got[1], point) and got[1].y == 2.0 and got[1].x[0, 0] == -1.0
    assert got[2][0, 0] == 2.0 and got[3][0][0, 0] == 2.0


def test_merged_static_shapes():
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.zeros([2, 3]), lambda: tf.ones([4, 3]))
    assert r.shape.as_list() == [None, 3]
    r = tf.cond(p, lambda: tf.zeros([2]), lambda: tf.ones([2, 2]))
    assert r.shape.ndims is None


def test_branch_returning_an_operation_runs_it():
    v = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: v.assign_add(1.0).op, lambda: tf.no_op())
    assert r.dtype == tf.bool
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r, {p: True}) and sess.run(v) == 1.0
        assert not sess.run(r, {p: False}) and sess.run(v) == 1.0


def test_control_dependencies_and_identity_inside_branches():
    v = tf.Variable(1.0)
    outer_bump = v.assign_add(100.0)
    p = tf.placeholder(tf.bool, [])

    def true_fn():
        with tf.control_dependencies([v.assign(10.0)]):
            return tf.identity(v.read_value())

    def false_fn():
        with tf.control_dependencies([outer_bump]):  # an outer op: runs before the cond
            return tf.identity(tf.constant(0.0))
    r = tf.cond(p, true_fn, false_fn)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r, {p: True}) == 10.0
        assert sess.run(r, {p: False}) == 0.0 and sess.run(v) == 110.0


def test_outer_control_dependencies_and_name_scopes():
    v = tf.Variable(0.0)
    x = tf.placeholder(tf.float32, [3])
    with tf.control_dependencies([v.assign(5.0)]):
        with tf.name_scope("outer"):
            r = tf.cond(x[0] > 0, lambda: tf.reduce_sum(x, axis=0), lambda: tf.constant(0.0),
                        name="pick")
    assert r.op.name == "outer/pick" and r.op.control_inputs
    branch_ops = r.op.get_attr("then_branch").graph.get_operations()
    assert all(op.name.startswith("outer/pick/") for op in branch_ops)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r, {x: [1.0, 2.0, 3.0]}) == 6.0 and sess.run(v) == 5.0


def test_name_scope_with_outer_values_inside_a_branch():
    x = tf.placeholder(tf.float32, [2])

    def fn():
        with tf.name_scope(None, "inner", [x]) as scope:
            assert scope.startswith("cond/inner")
            return tf.nn.relu(x) + 1.0
    r = tf.cond(tf.constant(True), fn, lambda: x)
    with tf.Session() as sess:
        assert sess.run(r, {x: [-1.0, 2.0]}).tolist() == [1.0, 3.0]


# ---- variables --------------------------------------------------------------------------
def test_variables_read_and_assigned_inside_branches():
    v = tf.Variable(3.0, name="v")
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: v.assign(v * 2.0), lambda: v + 0.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r, {p: False}) == 3.0
        assert sess.run(r, {p: True}) == 6.0 and sess.run(v) == 6.0
        v.load(1.0, sess)
        assert sess.run(r, {p: False}) == 1.0  # reads see the current value


def test_uninitialized_variable_in_the_untaken_branch_is_not_read():
    v = tf.Variable(3.0)
    r = tf.cond(tf.is_variable_initialized(v), lambda: v.read_value(), lambda: -1.0)
    with tf.Session() as sess:
        assert sess.run(r) == -1.0
        sess.run(v.initializer)
        assert sess.run(r) == 3.0


def test_creating_a_variable_inside_a_branch_fails_clearly():
    with pytest.raises(ValueError, match="Create it before the call"):
        tf.cond(tf.constant(True), lambda: tf.Variable(1.0), lambda: tf.constant(0.0))


# ---- errors -----------------------------------------------------------------------------
def test_mismatched_branches_name_both():
    p = tf.placeholder(tf.bool, [])
    x = tf.constant(1.0)
    with pytest.raises(ValueError, match=r"true_fn returned `\(\., \.\)` but false_fn returned "
                                         r"`\.`"):
        tf.cond(p, lambda: (x, x), lambda: x)
    with pytest.raises(ValueError, match=r"\{'a': \.\}.*\{'b': \.\}"):
        tf.cond(p, lambda: {"a": x}, lambda: {"b": x})
    with pytest.raises(ValueError, match="Received float32 from 'true_fn' and int32 from "
                                         "'false_fn'"):
        tf.cond(p, lambda: tf.constant(1.0), lambda: tf.constant(1))


def test_bad_predicates():
    x = tf.constant(1.0)
    with pytest.raises(TypeError, match="must be a bool Tensor.*float32"):
        tf.cond(x, lambda: x, lambda: x)
    with pytest.raises(TypeError, match="Python bool"):
        tf.cond(True, lambda: x, lambda: x)
    with pytest.raises(ValueError, match="rank 0 but is rank 1"):
        tf.cond(tf.constant([True]), lambda: x, lambda: x)
    with pytest.raises(TypeError, match="true_fn must be callable"):
        tf.cond(tf.constant(True), x, lambda: x)
    assert tf.Session().run(tf.cond(tf.constant(False), fn1=lambda: 1, fn2=lambda: 2)) == 2
    dynamic = tf.placeholder(tf.bool)
    r = tf.cond(dynamic, lambda: x, lambda: x)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="must be a scalar"):
            sess.run(r, {dynamic: [True, False]})


# ---- gradients --------------------------------------------------------------------------
def test_gradients_flow_through_the_taken_branch_only():
    x = tf.placeholder(tf.float64, [3])
    y = tf.placeholder(tf.float64, [3])
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.sin(x) * y, lambda: tf.exp(x))
    gx, gy = tf.gradients(r, [x, y])
    xv, yv = np.array([0.1, 0.5, -0.3]), np.array([2.0, -1.0, 0.5])
    with tf.Session() as sess:
        for pv in (True, False):
            feed = {x: xv, y: yv, p: pv}
            got_x, got_y = sess.run([gx, gy], feed)
            np.testing.assert_allclose(got_x, numeric_gradient(sess, r, x, xv, feed), rtol=1e-6)
            np.testing.assert_allclose(got_y, numeric_gradient(sess, r, y, yv, feed), atol=1e-8)
        assert sess.run(gy, {x: xv, y: yv, p: False}).tolist() == [0.0, 0.0, 0.0]


def test_second_derivative_through_nested_conds():
    x = tf.placeholder(tf.float64, [])
    p, q = tf.placeholder(tf.bool, []), tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.cond(q, lambda: x ** 3, lambda: tf.sin(x)), lambda: tf.exp(x) * x)
    g1 = tf.gradients(r, x)[0]
    g2 = tf.gradients(g1, x)[0]
    v = 1.5
    expected = {(True, True): (3 * v ** 2, 6 * v), (True, False): (np.cos(v), -np.sin(v)),
                (False, True): (np.exp(v) * (v + 1), np.exp(v) * (v + 2))}
    with tf.Session() as sess:
        for (pv, qv), want in expected.items():
            np.testing.assert_allclose(sess.run([g1, g2], {x: v, p: pv, q: qv}), want)


def test_gradients_reach_variables_used_inside_branches():
    w = tf.Variable([1.0, 2.0])
    x = tf.placeholder(tf.float32, [2])
    p = tf.placeholder(tf.bool, [])
    loss = tf.reduce_sum(tf.cond(p, lambda: w * x, lambda: x))
    assert tf.gradients(loss, w)[0] is not None
    step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(step, {x: [2.0, 4.0], p: True})
        assert sess.run(w).tolist() == [0.0, 0.0]
        sess.run(step, {x: [2.0, 4.0], p: False})
        assert sess.run(w).tolist() == [0.0, 0.0]


def test_gradient_reuses_forward_random_draws_and_assigns():
    x = tf.placeholder(tf.float64, [50])
    count = tf.Variable(0.0, dtype=tf.float64)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.nn.dropout(x, keep_prob=0.5) * count.assign_add(1.0), lambda: x)
    g = tf.gradients(tf.reduce_sum(r * x), x)[0]
    with tf.Session() as sess:
        sess.run(count.initializer)
        rv, gv = sess.run([r, g], {x: np.ones(50), p: True})
        assert sess.run(count) == 1.0  # the gradient did not run the assign again
        np.testing.assert_allclose(gv, 2 * rv)  # same dropout mask forward and backward


def test_gradient_of_int_outputs_or_inputs_is_none():
    n = tf.placeholder(tf.int32, [])
    r = tf.cond(n > 0, lambda: n * 2, lambda: n)
    assert tf.gradients(tf.cast(r, tf.float32), n) == [None]


# ---- tf.case ----------------------------------------------------------------------------
def test_case_with_list_dict_default_and_exclusive():
    n = tf.placeholder(tf.int32, [])
    pairs = [(n < 0, lambda: tf.constant(-1)), (n < 10, lambda: tf.constant(1))]
    with_default = tf.case(pairs, default=lambda: tf.constant(100))
    no_default = tf.case(pairs)
    exclusive = tf.case({n < 5: lambda: tf.constant(-1), n > 10: lambda: tf.constant(1)},
                        default=lambda: tf.constant(0), exclusive=True)
    overlapping = tf.case({n < 5: lambda: -1, n < 10: lambda: 1}, default=lambda: 0,
                          exclusive=True)
    assert with_default.op.name == "case/cond"
    with tf.Session() as sess:
        assert [sess.run(with_default, {n: v}) for v in (-5, 5, 50)] == [-1, 1, 100]
        assert [sess.run(no_default, {n: v}) for v in (-5, 5)] == [-1, 1]
        with pytest.raises(tf.errors.InvalidArgumentError, match="None of conditions"):
            sess.run(no_default, {n: 50})
        assert [sess.run(exclusive, {n: v}) for v in (2, 7, 20)] == [-1, 0, 1]
        assert sess.run(overlapping, {n: 7}) == 1
        with pytest.raises(tf.errors.InvalidArgumentError, match="exclusive=True: more than 1"):
            sess.run(overlapping, {n: 2})


def test_case_only_runs_the_chosen_fn():
    count = tf.Variable(0)
    n = tf.placeholder(tf.int32, [])
    r = tf.case([(n < 0, lambda: count.assign_add(1)), (n < 10, lambda: count.assign_add(10))],
                default=lambda: count.assign_add(100))
    with tf.Session() as sess:
        sess.run(count.initializer)
        for v in (-1, 5, 50):
            sess.run(r, {n: v})
        assert sess.run(count) == 111


def test_case_argument_errors():
    n = tf.placeholder(tf.int32, [])
    with pytest.raises(TypeError, match="must be a list, tuple, or dict"):
        tf.case(n < 0, default=lambda: 1)
    with pytest.raises(TypeError, match="must be a 2-tuple"):
        tf.case([n < 0], default=lambda: 1)
    with pytest.raises(TypeError, match="must be Tensor of type bool"):
        tf.case([(n, lambda: 1)], default=lambda: 2)
    with pytest.raises(TypeError, match="must be callable"):
        tf.case([(n < 0, 1)], default=lambda: 2)
