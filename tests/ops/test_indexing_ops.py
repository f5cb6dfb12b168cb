"""Specs and focused tests for __getitem__/strided_slice, slice, gather, gather_nd, one_hot
and range."""
import numpy as np
import pytest

import tginteractive as tf
from tginteractive.ops import indexing_ops
from tests.ops.harness import Spec, check_second_derivative, run, run_spec, spec_id

R = np.random.RandomState(11)


def f64(*shape):
    return R.uniform(-2.0, 2.0, shape)


def ints(*values):
    return np.array(values, dtype=np.int32)


def sliced_into_zeros(key):
    def reference(dy, like):
        out = np.zeros_like(like)
        out[key] = dy
        return out
    return reference


def scatter_add(dy, indices, like, axis=0):
    out = np.zeros_like(like)
    np.add.at(np.moveaxis(out, axis, 0), indices, np.moveaxis(dy, axis, 0))
    return out


def batched_gather(p, i):
    return np.stack([np.take(p[b], i[b], axis=0) for b in range(len(p))])


GRAD_KEY = (slice(None, None, -2), 1)
_spec, _ = indexing_ops._parse_key(GRAD_KEY)
nd_indices = np.array([[0, 2], [1, 0], [0, 2]], dtype=np.int64)
SPECS = [
    Spec("StridedSlice", lambda x: x[1:3, ::2], [f64(4, 5)], lambda x: x[1:3, ::2]),
    Spec("StridedSlice", lambda x: x[..., 0], [f64(2, 3, 4)], lambda x: x[..., 0],
         name="StridedSlice-ellipsis"),
    Spec("StridedSlice", lambda x: x[:, None, ::-1], [f64(2, 3)], lambda x: x[:, None, ::-1],
         name="StridedSlice-newaxis"),
    Spec("StridedSlice", lambda x: x[-1, -3:-1], [f64(3, 4)], lambda x: x[-1, -3:-1],
         name="StridedSlice-negative"),
    Spec("StridedSlice", lambda x, i: x[i, 1:], [f64(3, 4), np.int32(2)],
         lambda x, i: x[i, 1:], name="StridedSlice-tensor-index"),
    Spec("StridedSlice", lambda x, k: x[:, :k:2], [f64(2, 5), np.int64(4)],
         lambda x, k: x[:, :k:2], name="StridedSlice-tensor-stop"),
    Spec("StridedSlice", lambda x: tf.strided_slice(x, [0, 1, 0], [2, 3, 1], [1, 1, -1],
                                                    end_mask=4, shrink_axis_mask=1),
         [f64(2, 3, 4)], lambda x: x[0, 1:3, 0::-1], name="StridedSlice-masks"),
    Spec("StridedSliceGrad", lambda dy, like: indexing_ops.StridedSliceGrad(
        dy, like, spec=_spec), [f64(2), f64(4, 3)], sliced_into_zeros(GRAD_KEY),
         grad_inputs=[0]),
    Spec("Slice", lambda x: tf.slice(x, [1, 0], [2, -1]), [f64(4, 3)], lambda x: x[1:3, :]),
    Spec("Slice", lambda x, b: tf.slice(x, b, [1, 2]), [f64(3, 4), ints(2, 1)],
         lambda x, b: x[2:3, 1:3], name="Slice-tensor-begin"),
    Spec("GatherV2", tf.gather, [f64(5, 3), ints(4, 0, 4, 2)], lambda p, i: p[i]),
    Spec("GatherV2", lambda p, i: tf.gather(p, i, axis=1), [f64(2, 4, 3), ints(1, 3, 1, 0)
                                                            .reshape(2, 2)],
         lambda p, i: np.take(p, i, axis=1), name="GatherV2-axis1"),
    Spec("GatherV2", lambda p, i: tf.gather(p, i, batch_dims=1), [f64(2, 4, 3),
                                                                 ints(3, 0, 1, 1, 2, 0)
                                                                 .reshape(2, 3)],
         batched_gather, name="GatherV2-batch"),
    Spec("GatherGrad", lambda dy, i, like: indexing_ops.GatherGrad(
        dy, i, like, axis=1, batch_dims=0), [f64(2, 4), ints(1, 2, 1, 0), f64(2, 3)],
         lambda dy, i, like: scatter_add(dy, i, like, axis=1), grad_inputs=[0]),
    Spec("GatherNd", tf.gather_nd, [f64(2, 3, 2), nd_indices],
         lambda p, i: p[tuple(i.T)]),
    Spec("GatherNdGrad", lambda dy, i, like: indexing_ops.GatherNdGrad(dy, i, like),
         [f64(3, 2), nd_indices, f64(2, 3, 2)],
         lambda dy, i, like: scatter_add(dy, tuple(i.T), like), grad_inputs=[0]),
    Spec("OneHot", lambda i: tf.one_hot(i, 4), [ints(0, 3, 5, -1)],
         lambda i: (i[:, None] == np.arange(4)).astype(np.float32)),
    Spec("OneHot", lambda i: tf.one_hot(i, 3, on_value=5, off_value=-1, axis=0),
         [ints(2, 0, 1, 1).reshape(2, 2)],
         lambda i: np.where(np.arange(3)[:, None, None] == i, 5, -1).astype(np.int32),
         name="OneHot-axis0"),
    Spec("Range", tf.range, [ints(7)], lambda n: np.arange(7, dtype=np.int32)),
    Spec("Range", tf.range, [np.float32(1.0), np.float32(-1.0), np.float32(-0.5)],
         lambda a, b, c: np.float32([1.0, 0.5, 0.0, -0.5]), name="Range-float"),
]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_op(spec):
    run_spec(spec)


# ---- static shapes ------------------------------------------------------------------------
def test_getitem_static_shapes():
    x = tf.placeholder(tf.float32, [None, 4, 5])
    cases = [((slice(1, 3), slice(None, None, 2)), [None, 2, 5]),
             ((Ellipsis, 0), [None, 4]), ((slice(None), None), [None, 1, 4, 5]),
             ((0,), [4, 5]), ((slice(None), -1, slice(None, None, -2)), [None, 3]),
             ((Ellipsis, None, 1, slice(10)), [None, 1, 5]),
             ((tf.constant(1), slice(-2, None)), [2, 5]),
             ((slice(None), tf.newaxis, Ellipsis), [None, 1, 4, 5])]
    for key, expected in cases:
        assert x[key].shape.as_list() == expected, key
    assert x[0:1].shape.as_list() == [None, 4, 5]
    assert x[:, :tf.placeholder(tf.int32, [])].shape.as_list() == [None, None, 5]
    assert tf.placeholder(tf.float32)[0, ..., 1].shape.dims is None
    assert x[1:3].op.type == "StridedSlice" and x[1:3].op.name.startswith("strided_slice")


def test_shape_elements_are_known_when_their_dim_is():
    x = tf.placeholder(tf.float32, [None, 4])
    assert tf.constant_value(tf.shape(x)[1]) == 4
    assert tf.constant_value(tf.shape(x)[0]) is None
    assert tf.constant_value(tf.shape(tf.zeros([2, 3]))[::-1]).tolist() == [3, 2]


def test_slice_static_shapes_and_runtime():
    x = tf.placeholder(tf.float32, [None, 5])
    assert tf.slice(x, [0, 1], [-1, 3]).shape.as_list() == [None, 3]
    assert tf.slice(x, [1, 2], [2, -1]).shape.as_list() == [2, 3]
    value = f64(4, 5)
    np.testing.assert_allclose(run(tf.slice(x, [1, 2], [2, -1]), {x: value}), value[1:3, 2:])


def test_gather_shapes_and_dense_gradient():
    params = tf.placeholder(tf.float64, [None, 3])
    got = tf.gather(params, tf.placeholder(tf.int32, [2, 5]))
    assert got.shape.as_list() == [2, 5, 3]
    assert tf.gather(params, [0, 1], axis=-1).shape.as_list() == [None, 2]
    value = f64(4, 3)
    grad = tf.gradients(tf.reduce_sum(tf.gather(params, [1, 1, 3])), params)[0]
    assert isinstance(grad, tf.Tensor) and grad.op.type == "GatherGrad"
    np.testing.assert_array_equal(run(grad, {params: value}), [[0] * 3, [2] * 3, [0] * 3,
                                                               [1] * 3])


def test_one_hot_and_range_dtypes():
    assert tf.one_hot([0, 1], 3).dtype == tf.float32
    assert tf.one_hot([0, 1], 3, dtype=tf.float64).dtype == tf.float64
    assert tf.one_hot([0, 1], 3, on_value=tf.constant(2)).dtype == tf.int32
    assert tf.one_hot(tf.placeholder(tf.int64, [None, 2]), 3, axis=1).shape.as_list() == \
        [None, 3, 2]
    assert tf.range(5).dtype == tf.int32 and tf.range(5).shape.as_list() == [5]
    assert tf.range(0, 1, 0.25).dtype == tf.float32
    assert tf.range(3, dtype=tf.float64).dtype == tf.float64
    assert tf.range(tf.constant(4, tf.int64)).dtype == tf.int64
    assert tf.range(np.float64(2.0)).dtype == tf.float64
    with tf.Graph().as_default():
        r = tf.range(2, 10, 3)
    assert r.name == "range:0" and r.op.inputs[0].name == "range/start:0"
    np.testing.assert_array_equal(tf.constant_value(r), [2, 5, 8])
    assert tf.range(tf.placeholder(tf.int32, [])).shape.as_list() == [None]
    assert tf.newaxis is None


def test_index_tensors_feed_the_op():
    x = tf.constant(np.arange(12.0).reshape(3, 4))
    i = tf.placeholder(tf.int32, [])
    row, col = x[i], x[:, i]
    assert row.shape.as_list() == [4] and col.shape.as_list() == [3]
    got = run([row, col, x[i:, -i]], {i: 1})
    np.testing.assert_array_equal(got[0], [4, 5, 6, 7])
    np.testing.assert_array_equal(got[1], [1, 5, 9])
    np.testing.assert_array_equal(got[2], [3, 7, 11][1:])


def test_strided_slice_masks_match_numpy():
    value = np.arange(24.0).reshape(2, 3, 4)
    x = tf.constant(value)
    cases = [
        (tf.strided_slice(x, [0, 0], [0, 0], [1, 1], begin_mask=1, end_mask=1, ellipsis_mask=2),
         value[:, ...]),
        (tf.strided_slice(x, [1, 0, 0], [2, 0, 3], new_axis_mask=2, shrink_axis_mask=1),
         value[1, None, 0:3]),
        (tf.strided_slice(x, [-1], [0], [-1], end_mask=1), value[::-1]),
    ]
    for got, expected in cases:
        assert got.shape.as_list() == list(expected.shape)
        np.testing.assert_array_equal(run(got), expected)


# ---- second derivatives through the gradient ops -------------------------------------------
SECOND_ORDER = [
    ("getitem", lambda x: x[::-1, 1:]),
    ("slice", lambda x: tf.slice(x, [1, 0], [1, 2])),
    ("gather", lambda x: tf.gather(x, [2, 0, 2], axis=1)),
    ("gather_nd", lambda x: tf.gather_nd(x, [[1, 2], [0, 0], [1, 2]])),
]


@pytest.mark.parametrize("build", [b for _, b in SECOND_ORDER], ids=[n for n, _ in SECOND_ORDER])
def test_second_derivative(build):
    value = f64(2, 3)
    check_second_derivative(build, value, weights=value)


# ---- errors -------------------------------------------------------------------------------
def test_static_index_errors_name_the_op():
    x = tf.zeros([3, 4])
    with pytest.raises(ValueError, match=r"slice index 5 of dimension 0 out of bounds.*"
                                         r"'strided_slice' \(op: 'StridedSlice'\)"):
        x[5]
    with pytest.raises(ValueError, match=r"slice index -5 of dimension 1 out of bounds"):
        x[:, -5]
    with pytest.raises(ValueError, match="3 indices for a tensor of rank 2"):
        x[0, 0, 0]
    with pytest.raises(ValueError, match="single ellipsis"):
        x[..., ...]
    with pytest.raises(ValueError, match="step cannot be zero"):
        x[::0]
    with pytest.raises(ValueError, match=r"begin\[0\] in \[0, 3\].*'Slice'"):
        tf.slice(x, [2, 0], [2, 1])


@pytest.mark.parametrize("index", [1.5, "a", [0, 1], True, tf.constant(1.0),
                                   tf.constant([0, 1])], ids=repr)
def test_non_integer_indices_are_type_errors(index):
    with pytest.raises(TypeError, match="valid indices"):
        tf.zeros([3, 4])[index]


def test_runtime_index_errors_name_the_op():
    x = tf.zeros([3, 4])
    i = tf.placeholder(tf.int32, [])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"out of bounds[\s\S]*"
                                                             r"strided_slice"):
        run(x[i], {i: 3})
    p = tf.placeholder(tf.float32, [None])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"begin\[0\][\s\S]*Slice"):
        run(tf.slice(p, [1], [3]), {p: np.zeros(2)})


def test_gather_errors():
    params = tf.zeros([5, 2])
    idx = tf.placeholder(tf.int32, [None])
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        run(tf.gather(params, idx, name="lookup"), {idx: [0, 1, 4, 7]})
    assert r"indices[3] = 7 is not in [0, 5)" in str(info.value)
    assert "lookup" in str(info.value) and info.value.op.name == "lookup"
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = -1"):
        run(tf.gather(params, idx), {idx: [-1]})
    nd = tf.placeholder(tf.int32, [None, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = \[5, 0\] does "
                                                             r"not index[\s\S]*GatherNd"):
        run(tf.gather_nd(params, nd), {nd: [[0, 0], [5, 0]]})
    with pytest.raises(TypeError, match="int32, int64"):
        tf.gather(params, [0.0, 1.0])
    with pytest.raises(ValueError, match=r"out of range.*GatherV2"):
        tf.gather(tf.placeholder(tf.float32, [None, 2]), [0], axis=2)


def test_one_hot_and_range_errors():
    with pytest.raises(TypeError, match="integers"):
        tf.one_hot([0.5], 3)
    with pytest.raises(TypeError, match="do not match"):
        tf.one_hot([0], 3, on_value=tf.constant(1.0), dtype=tf.int32)
    with pytest.raises(ValueError, match=r"Requires delta != 0.*'range'"):
        tf.range(0, 5, 0)
    with pytest.raises(ValueError, match="Requires start <= limit when delta > 0"):
        tf.range(5, 2)
    n = tf.placeholder(tf.int32, [])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"start >= limit[\s\S]*range"):
        run(tf.range(0, n, -1), {n: 3})
