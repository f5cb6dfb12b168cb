"""Variables: naming, collections, initializers, assignment ops and state ops."""
import numpy as np
import pytest

import tginteractive as tf


def test_variable_ops_and_names_follow_tf1():
    v = tf.Variable(0.0)
    assert v.name == "Variable:0" and v.op.name == "Variable" and v.op.type == "VariableV2"
    assert v.initializer.name == "Variable/Assign" and v.value().name == "Variable/read:0"
    assert v.initial_value.name == "Variable/initial_value:0"
    assert tf.convert_to_tensor(v).name == "Variable/read:0"
    assert tf.Variable(1.0).name == "Variable_1:0"
    assert tf.Variable(1.0, name="w").name == "w:0"
    assert tf.Variable(1.0, name="w").name == "w_1:0"
    assert repr(v) == "<tf.Variable 'Variable:0' shape=() dtype=float32_ref>"
    assert v.initializer.device == v.op.device


def test_collections_and_initializers():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b", trainable=False)
    c = tf.Variable(3.0, name="c", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    assert tf.global_variables() == [a, b]
    assert tf.trainable_variables() == [a, c]  # trainable=True adds the trainable collection
    assert tf.local_variables() == [c]
    with tf.Session() as sess:
        assert sorted(sess.run(tf.report_uninitialized_variables())) == [b"a", b"b", b"c"]
        assert not sess.run(tf.is_variable_initialized(a))
        sess.run(tf.global_variables_initializer())
        assert sess.run(tf.is_variable_initialized(a))
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"c"]
        sess.run(tf.local_variables_initializer())
        assert sess.run(tf.report_uninitialized_variables()).size == 0
        sess.run(tf.variables_initializer([a]))
    assert tf.global_variables_initializer().name == "init_3"
    assert tf.initialize_all_variables().type == "NoOp"
    with pytest.warns(DeprecationWarning):
        assert tf.all_variables() == [a, b]
    assert tf.variables_initializer([]).type == "NoOp"


def test_initial_values_callables_dtypes_and_shapes():
    v = tf.Variable(lambda: tf.ones([2, 3]), name="v")
    d = tf.Variable(1, dtype=tf.float64)
    w = tf.Variable(np.arange(4.0).reshape(2, 2))
    assert v.shape.as_list() == [2, 3] and v.get_shape().as_list() == [2, 3]
    assert d.dtype == tf.float64 and w.dtype == tf.float64
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(v).tolist() == [[1.0] * 3] * 2
        assert v.eval(sess).shape == (2, 3)
    with pytest.raises(ValueError, match="initial_value must be specified"):
        tf.Variable()


def test_assign_add_sub_and_read_value():
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(v.assign([5.0, 6.0])).tolist() == [5.0, 6.0]
        assert sess.run(v.assign_add([1.0, 1.0])).tolist() == [6.0, 7.0]
        assert sess.run(tf.assign_sub(v, [6.0, 7.0])).tolist() == [0.0, 0.0]
        assert sess.run(v.read_value()).tolist() == [0.0, 0.0]
        assert v.assign([1.0, 1.0], read_value=False).type == "Assign"
        with pytest.raises(ValueError, match="incompatible"):
            v.assign([1.0, 2.0, 3.0])


def test_update_of_uninitialized_variable_names_it():
    v = tf.Variable(1.0, name="counter")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="value counter"):
            sess.run(v.assign_add(1.0))


def test_assign_with_unvalidated_shape_checks_at_run_time():
    v = tf.Variable(tf.zeros([2]), name="v")
    p = tf.placeholder(tf.float32, [None])
    op = tf.assign(v, p)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match="lhs shape= \\[2\\] rhs "
                                                                 "shape= \\[3\\]"):
            sess.run(op, {p: [1.0, 2.0, 3.0]})
        loose = tf.assign(v, p, validate_shape=False)
        assert sess.run(loose, {p: [1.0, 2.0, 3.0]}).tolist() == [1.0, 2.0, 3.0]


def test_load_and_feeding_variables():
    v = tf.Variable(0.0)
    doubled = v * 2.0
    with tf.Session() as sess:
        v.load(3.0, sess)
        assert sess.run(v) == 3.0
        assert sess.run(doubled, {v: 5.0}) == 10.0
        with sess.as_default():
            v.load(4.0)
        assert sess.run(doubled) == 8.0
    with pytest.raises(ValueError, match="needs a session"):
        v.load(1.0)


def test_initialized_value_chains_initialization():
    w = tf.Variable(tf.constant([1.0, 2.0]), name="w")
    v = tf.Variable(w.initialized_value() * 2.0, name="v")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(v).tolist() == [2.0, 4.0]


def test_variable_operators_and_numpy_interplay():
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(v + 1.0).tolist() == [2.0, 3.0]
        assert sess.run(1.0 - v).tolist() == [0.0, -1.0]
        assert sess.run(np.array([1.0, 1.0]) * v).tolist() == [1.0, 2.0]
        assert sess.run(-v).tolist() == [-1.0, -2.0]
        assert sess.run(tf.reduce_sum(v)) == 3.0


def test_variables_are_per_graph():
    with tf.Graph().as_default():
        tf.Variable(1.0)
    assert tf.global_variables() == []


def test_variable_reads_happen_where_consumed_like_tf1_refs():
    v = tf.Variable(1.0)
    with tf.control_dependencies([v.assign(10.0)]):
        fresh = v.read_value()
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(fresh) == 10.0
        sess.run(v.initializer)
        assert sess.run([v, v.assign_add(1.0)]) == [2.0, 2.0]  # as TF1: the ref is read last


def test_updates_are_seen_by_earlier_snapshots_under_control_dependencies():
    step = tf.Variable(0, name="step")
    with tf.control_dependencies([step.assign_add(1)]):
        as_float = tf.cast(step, tf.float32)  # consumes the `step/read` snapshot, as in TF1
    with tf.Session() as sess:
        sess.run(step.initializer)
        assert sess.run(as_float) == 1.0
        assert sess.run(as_float) == 2.0
        before = sess.run(step)
        sess.run(step.assign(10))
        assert before == 2 and sess.run(step) == 10
