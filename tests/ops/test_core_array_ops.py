"""Specs for the core array ops: identity, shapes, reshape, broadcasting, fill, *_like."""
import numpy as np
import pytest

import tginteractive as tf
from tginteractive.ops import array_ops, reduction_ops
from tests.ops.harness import Spec, run_spec, spec_id

R = np.random.RandomState(7)
x34 = R.uniform(-2, 2, (3, 4))

SPECS = [
    Spec("Const", lambda x: x + tf.constant([[1.0, 2.0, 3.0, 4.0]], tf.float64), [x34],
         lambda x: x + np.array([[1.0, 2.0, 3.0, 4.0]])),
    Spec("Identity", tf.identity, [x34], lambda x: x),
    Spec("StopGradient", lambda x: x * tf.stop_gradient(x), [x34], lambda x: x * x,
         check_grad=False),
    Spec("PlaceholderWithDefault", lambda x: tf.placeholder_with_default(x, [None, 4]) * 2,
         [x34], lambda x: x * 2),
    Spec("Reshape", lambda x: tf.reshape(x, [2, -1]), [x34], lambda x: x.reshape(2, -1)),
    Spec("Reshape", lambda x: tf.reshape(x, [4, 3]), [x34], lambda x: x.reshape(4, 3),
         name="Reshape-4x3"),
    Spec("BroadcastTo", lambda x: tf.broadcast_to(x, [2, 3, 4]), [R.uniform(-1, 1, (3, 1))],
         lambda x: np.broadcast_to(x, (2, 3, 4))),
    Spec("BroadcastLike", lambda x, y: array_ops.BroadcastLike(x, y), [R.uniform(-1, 1, (4,)),
                                                                       x34],
         lambda x, y: np.broadcast_to(x, y.shape), grad_inputs=[0]),
    Spec("SumLike", lambda g, y: array_ops.SumLike(g, y), [R.uniform(-1, 1, (2, 3, 4)),
                                                           R.uniform(-1, 1, (3, 1))],
         lambda g, y: g.sum(axis=(0, 2)).reshape(3, 1), grad_inputs=[0]),
    Spec("Shape", lambda x: tf.shape(x), [x34], lambda x: np.array(x.shape, np.int32)),
    Spec("Shape", lambda x: tf.shape(x, out_type=tf.int64), [x34],
         lambda x: np.array(x.shape, np.int64), name="Shape-int64"),
    Spec("Size", tf.size, [x34], lambda x: np.int32(x.size)),
    Spec("Rank", tf.rank, [x34], lambda x: np.int32(x.ndim)),
    Spec("Fill", lambda d, v: tf.fill(d, v), [np.array([2, 3], np.int32), np.float64(1.5)],
         lambda d, v: np.full(d, v), grad_inputs=[1]),
    Spec("ZerosLike", tf.zeros_like, [x34], np.zeros_like),
    Spec("OnesLike", tf.ones_like, [x34], np.ones_like),
    Spec("KeptShape", lambda s: reduction_ops.KeptShape(s, axis=(1,)),
         [np.array([3, 4, 5], np.int32)], lambda s: np.array([3, 1, 5], np.int32)),
    Spec("ReducedCount", lambda x, y: reduction_ops.ReducedCount(x, y), [x34, x34[:, 0]],
         lambda x, y: np.float64(4)),
    Spec("CheckNumerics", lambda x: tf.check_numerics(x, "x"), [x34], lambda x: x),
]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_op(spec):
    run_spec(spec)


def test_static_shapes_fold_to_constants():
    x = tf.placeholder(tf.float32, [2, 3])
    assert tf.constant_value(tf.shape(x)).tolist() == [2, 3]
    assert tf.constant_value(tf.size(x)) == 6
    assert tf.constant_value(tf.rank(x)) == 2
    assert tf.constant_value(tf.shape(tf.placeholder(tf.float32, [None, 3]))) is None


def test_dynamic_shape_versus_static_shape():
    x = tf.placeholder(tf.float32, [None, 3])
    assert x.get_shape().as_list() == [None, 3]
    with tf.Session() as sess:
        assert sess.run(tf.shape(x), {x: np.zeros((5, 3))}).tolist() == [5, 3]


def test_reshape_infers_minus_one_and_rejects_bad_sizes():
    x = tf.zeros([2, 3])
    assert tf.reshape(x, [-1]).shape.as_list() == [6]
    assert tf.reshape(x, [3, -1]).shape.as_list() == [3, 2]
    with pytest.raises(ValueError, match=r"Cannot reshape a tensor with 6 elements.*Reshape"):
        tf.reshape(x, [4])
    y = tf.placeholder(tf.float32, [None, 4])
    assert tf.reshape(y, [-1, 2]).shape.as_list() == [None, 2]


def test_reshape_to_a_stacked_shape_infers_minus_one_symbolically():
    x = tf.placeholder(tf.float32, [None, 6])
    r = tf.reshape(x, [tf.shape(x)[0], 2, -1])  # tf.shape(x)[0] cancels x's unknown dim
    assert r.shape.as_list() == [None, 2, 3]
    assert tf.reshape(x, [tf.shape(x)[0], -1]).shape.as_list() == [None, 6]
    n = tf.placeholder(tf.int32, [])
    assert tf.reshape(x, [n, 2, -1]).shape.as_list() == [None, 2, None]  # never -1
    assert tf.reshape(x, [tf.shape(x)[0], 4, -1]).shape.as_list() == [None, 4, None]
    with tf.Session() as sess:
        assert sess.run(r, {x: np.zeros((5, 6))}).shape == (5, 2, 3)


def test_reshape_to_a_shape_op_takes_its_partial_static_shape():
    x = tf.placeholder(tf.float32, [None, 6])
    y = tf.placeholder(tf.float32, [None, 3, 2])
    assert tf.reshape(x, tf.shape(y)).shape.as_list() == [None, 3, 2]
    assert tf.fill(tf.shape(y), 0.0).shape.as_list() == [None, 3, 2]
    assert tf.broadcast_to(1.0, tf.shape(y)).shape.as_list() == [None, 3, 2]
    unknown_rank = tf.placeholder(tf.float32)
    assert tf.reshape(x, tf.shape(unknown_rank)).shape.ndims is None


def test_reshape_runtime_error_names_op():
    x = tf.placeholder(tf.float32, [None])
    r = tf.reshape(x, [2, 2], name="to_square")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="to_square"):
            sess.run(r, {x: np.zeros(5)})


def test_constant_shapes_and_fills():
    with tf.Session() as sess:
        assert sess.run(tf.constant(1, shape=[2, 3])).tolist() == [[1] * 3] * 2
        assert sess.run(tf.constant([1, 2, 3, 4], shape=[2, 2])).tolist() == [[1, 2], [3, 4]]
        assert sess.run(tf.zeros([2], tf.int32)).dtype == np.int32
        assert sess.run(tf.ones([2, 2])).dtype == np.float32
        n = tf.placeholder(tf.int32, [])
        assert sess.run(tf.zeros([n, 2]), {n: 3}).shape == (3, 2)


def test_constant_dtype_rules():
    assert tf.constant(1).dtype == tf.int32
    assert tf.constant(1.0).dtype == tf.float32
    assert tf.constant([1, 2.5]).dtype == tf.float32
    assert tf.constant(np.array([1.0])).dtype == tf.float64
    assert tf.constant(True).dtype == tf.bool
    assert tf.constant("hi").dtype == tf.string
    assert tf.constant(3, dtype=tf.float32).dtype == tf.float32
    with pytest.raises(TypeError, match="Expected int32, got 0.5 of type 'float' instead"):
        tf.constant(0.5, dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.constant([1, 2, 3], shape=[2, 2])


def test_fetched_constants_are_copies():
    c = tf.constant([1.0, 2.0])
    with tf.Session() as sess:
        first = sess.run(c)
        first[0] = 99.0
        assert sess.run(c).tolist() == [1.0, 2.0]


def test_cast_and_helpers():
    x = tf.constant([1.7, -1.7])
    with tf.Session() as sess:
        assert sess.run(tf.cast(x, tf.int32)).tolist() == [1, -1]
        assert sess.run(tf.to_float(tf.constant([1, 2]))).dtype == np.float32
        assert sess.run(tf.to_int64(x)).dtype == np.int64
        assert sess.run(tf.saturate_cast(tf.constant([300.0, -5.0]), tf.uint8)).tolist() == \
            [255, 0]
    assert tf.cast(x, tf.float32) is x
