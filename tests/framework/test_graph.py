"""Graph, Operation and Tensor public surface; collections; the default-graph stack."""
import numpy as np
import pytest

import tginteractive as tf


def test_tensor_and_operation_surface():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.reduce_sum(x * 2.0, name="total")
    assert x.name == "x:0" and x.op.name == "x" and x.op.type == "Placeholder"
    assert x.dtype == tf.float32 and x.graph is tf.get_default_graph()
    assert x.get_shape().as_list() == [None, 3] and x.shape[1].value == 3
    assert str(x.shape) == "(?, 3)"
    assert repr(x) == "<tf.Tensor 'x:0' shape=(?, 3) dtype=float32>"
    assert str(y) == 'Tensor("total:0", shape=(), dtype=float32)'
    assert repr(y.op) == "<tf.Operation 'total' type=Sum>"
    mul = y.op.inputs[0].op
    assert mul.type == "Mul" and mul.inputs[0] is x and mul.outputs[0].consumers() == [y.op]
    assert x.consumers() == [mul]
    assert y.op.get_attr("keepdims") is False
    with pytest.raises(ValueError, match="no attr named 'nope'"):
        y.op.get_attr("nope")


def test_set_shape_merges_and_rejects():
    x = tf.placeholder(tf.float32, [None, 3])
    x.set_shape([5, None])
    assert x.shape.as_list() == [5, 3]
    with pytest.raises(ValueError, match="not compatible"):
        x.set_shape([4, 3])


def test_tensor_is_hashable_and_eq_is_identity():
    a, b = tf.constant(1.0), tf.constant(1.0)
    assert (a == a) is True and (a == b) is False and (a != b) is True
    assert len({a: 1, b: 2}) == 2


def test_tensor_refuses_bool_iteration_and_len():
    x = tf.constant([1.0, 2.0])
    with pytest.raises(TypeError, match="as a Python `bool` is not allowed"):
        bool(x)
    with pytest.raises(TypeError, match="only iterable when eager"):
        iter(x)
    with pytest.raises(TypeError, match="len is not well defined"):
        len(x)


def test_lookups_by_name():
    g = tf.get_default_graph()
    c = tf.constant(1.0, name="c")
    assert g.get_operation_by_name("c") is c.op
    assert g.get_tensor_by_name("c:0") is c
    with pytest.raises(KeyError, match="does not exist"):
        g.get_tensor_by_name("nope:0")
    with pytest.raises(KeyError, match="only has 1 outputs"):
        g.get_tensor_by_name("c:1")
    with pytest.raises(ValueError, match="looks like an \\(invalid\\) Operation name"):
        g.get_tensor_by_name("c")
    with pytest.raises(KeyError):
        g.get_operation_by_name("missing")
    assert [op.name for op in g.get_operations()] == ["c"]


def test_version_changes_with_every_graph_change():
    g = tf.get_default_graph()
    v0 = g.version
    tf.constant(1.0)
    v1 = g.version
    tf.add_to_collection("things", 3)
    assert v0 < v1 < g.version


def test_finalize_blocks_new_ops_but_not_runs():
    c = tf.constant(2.0)
    tf.get_default_graph().finalize()
    with pytest.raises(RuntimeError, match="Graph is finalized and cannot be modified."):
        tf.constant(1.0)
    with tf.Session() as sess:
        assert sess.run(c) == 2.0


def test_collections_with_scope_filter():
    with tf.name_scope("tower_0"):
        a = tf.constant(1.0, name="loss")
    with tf.name_scope("tower_1"):
        b = tf.constant(2.0, name="loss")
    tf.add_to_collection("losses", a)
    tf.add_to_collections(["losses", "extra"], b)
    assert tf.get_collection("losses") == [a, b]
    assert tf.get_collection("losses", "tower_1") == [b]
    assert tf.get_collection("extra") == [b]
    assert tf.get_collection("none") == []
    ref = tf.get_collection_ref("losses")
    ref.remove(a)
    assert tf.get_collection("losses") == [b]
    g = tf.get_default_graph()
    assert set(g.get_all_collection_keys()) == {"losses", "extra"}
    g.clear_collection("extra")
    assert tf.get_collection("extra") == []
    assert tf.GraphKeys.TRAINABLE_VARIABLES == "trainable_variables"


def test_mixing_graphs_is_an_error():
    a = tf.constant(1.0)
    with tf.Graph().as_default():
        b = tf.constant(2.0)
        with pytest.raises(ValueError, match="must be from the same graph"):
            tf.add(a, b)


def test_default_graph_stack_and_reset():
    g0 = tf.get_default_graph()
    g1 = tf.Graph()
    with g1.as_default() as entered:
        assert entered is g1 and tf.get_default_graph() is g1
        with pytest.raises(AssertionError, match="Do not use tf.reset_default_graph"):
            tf.reset_default_graph()
    assert tf.get_default_graph() is g0
    tf.reset_default_graph()
    assert tf.get_default_graph() is not g0


def test_default_graph_stack_survives_interrupts():
    g0 = tf.get_default_graph()
    with pytest.raises(KeyboardInterrupt):
        with tf.Graph().as_default():
            with tf.Graph().as_default():
                raise KeyboardInterrupt
    assert tf.get_default_graph() is g0
    tf.reset_default_graph()  # legal again at top level


def test_eval_and_run_use_the_default_session():
    c = tf.constant(3.0)
    with pytest.raises(ValueError, match="No default session is registered"):
        c.eval()
    with tf.Session() as sess:
        assert c.eval() == 3.0
        assert c.eval(session=sess) == 3.0
        assert tf.get_default_session() is sess
        v = tf.Variable(1.0)
        tf.global_variables_initializer().run()
        assert v.eval() == 1.0
    assert tf.get_default_session() is None
    other = tf.Session(graph=tf.Graph())
    with pytest.raises(ValueError, match="graph is different"):
        c.eval(session=other)


def test_operators_and_dtype_rules():
    x = tf.constant([1.0, -2.0])
    i = tf.constant([7, -7])
    with tf.Session() as sess:
        run = sess.run
        np.testing.assert_allclose(run(2 - x), [1.0, 4.0])
        np.testing.assert_allclose(run(1 / x), [1.0, -0.5])
        np.testing.assert_allclose(run(2 ** x), [2.0, 0.25])
        np.testing.assert_allclose(run(abs(x)), [1.0, 2.0])
        np.testing.assert_allclose(run(np.array([1.0, 1.0]) + x), [2.0, -1.0])
        assert run(i // 2).tolist() == [3, -4] and run(i % 2).tolist() == [1, 1]
        assert run(i / 2).dtype == np.float64
        assert run(tf.constant([3], tf.int8) / tf.constant([2], tf.int8)).dtype == np.float32
        assert run(tf.div(7, 2)) == 3 and run(tf.div(7.0, 2.0)) == 3.5
        assert run(x < 0).tolist() == [False, True] and run(x >= 1).tolist() == [True, False]
        t, f = tf.constant([True, True]), tf.constant([True, False])
        assert run(t & f).tolist() == [True, False] and run(t | f).tolist() == [True, True]
        assert run(~f).tolist() == [False, True] and run(t ^ f).tolist() == [False, True]
        m = tf.constant([[1.0, 2.0], [3.0, 4.0]])
        np.testing.assert_allclose(run(m @ m), [[7.0, 10.0], [15.0, 22.0]])
        assert (x + np.float64(1.5)).dtype == tf.float32
        assert (x + np.ones(2)).dtype == tf.float32
    with pytest.raises(TypeError, match="Expected int32, got 2.5 of type 'float' instead"):
        i + 2.5
    with pytest.raises(TypeError, match="has type int32 that does not match type float32"):
        x + i
    with pytest.raises(TypeError, match="Logical ops take bool"):
        x & x
