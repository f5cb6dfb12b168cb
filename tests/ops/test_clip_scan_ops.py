"""Specs and focused tests for clip_ops (clip_by_*, global_norm) and scan_ops (cumsum, cumprod,
logsumexp, count_nonzero, segment sums). Expected values marked "TF" come from tensorflow-cpu
2.21 in graph mode (the probes of /tmp/tf_probe)."""
import numpy as np
import pytest

import tginteractive as tf
from tginteractive.ops import scan_ops
from tests.ops.harness import Spec, run, run_spec, spec_id

R = np.random.RandomState(7)


def f64(*shape, low=-2.0, high=2.0):
    return R.uniform(low, high, shape)


def np_scan(fn, identity, x, axis=0, exclusive=False, reverse=False):
    x = np.flip(x, axis) if reverse else x
    out = fn(x, axis=axis)
    if exclusive:
        pad = np.full_like(np.take(out, [0], axis=axis), identity)
        out = np.concatenate([pad, np.delete(out, -1, axis=axis)], axis=axis)
    return np.flip(out, axis) if reverse else out


def np_lse(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def np_clip_by_norm(t, c, axes=None):
    norm = np.sqrt(np.sum(t * t, axis=axes, keepdims=True))
    return t * c / np.maximum(norm, c)


def np_segment_sum(data, ids, n):
    out = np.zeros((n,) + data.shape[ids.ndim:], data.dtype)
    for pos in np.ndindex(*ids.shape):
        if ids[pos] >= 0:
            out[ids[pos]] += data[pos]
    return out


ids4 = np.array([0, 2, -1, 0], np.int32)
ids2d = np.array([[0, 1], [1, -1]], np.int64)
sorted_ids = np.array([0, 0, 2, 3], np.int32)
positive = R.uniform(0.5, 1.5, (3, 4))
away_from_bounds = np.array([[-1.7, -0.4, 0.3, 0.8], [1.6, -0.9, 0.1, 2.0]])
cumsum, cumprod, cumlse = np.cumsum, np.cumprod, np.logaddexp.accumulate

SPECS = [
    Spec("Cumsum", lambda x: tf.cumsum(x, 1), [f64(3, 4)], lambda x: np.cumsum(x, 1)),
    Spec("Cumsum", lambda x: tf.cumsum(x, -1, exclusive=True, reverse=True), [f64(2, 3, 4)],
         lambda x: np_scan(cumsum, 0, x, -1, True, True), name="Cumsum-excl-rev"),
    Spec("Cumsum", lambda x: tf.cumsum(x, exclusive=True), [f64(4, 2)],
         lambda x: np_scan(cumsum, 0, x, 0, True), name="Cumsum-excl"),
    Spec("Cumsum", lambda x: tf.cumsum(x, 0, reverse=True), [np.array([1, 2, 3], np.int8)],
         lambda x: np.array([6, 5, 3], np.int8), name="Cumsum-int8"),
    Spec("Cumprod", lambda x: tf.cumprod(x, 1), [positive], lambda x: np.cumprod(x, 1)),
    Spec("Cumprod", lambda x: tf.cumprod(x, 1, exclusive=True, reverse=True), [positive],
         lambda x: np_scan(cumprod, 1, x, 1, True, True), name="Cumprod-excl-rev"),
    Spec("Cumprod", lambda x: tf.cumprod(x, 0, exclusive=True), [positive],
         lambda x: np_scan(cumprod, 1, x, 0, True), name="Cumprod-excl"),
    Spec("CumulativeLogsumexp", lambda x: scan_ops.cumulative_logsumexp(x, 1), [f64(3, 4)],
         lambda x: cumlse(x, axis=1)),
    Spec("CumulativeLogsumexp", lambda x: scan_ops.cumulative_logsumexp(x, reverse=True),
         [f64(4, 2) * 5], lambda x: np_scan(cumlse, 0, x, 0, False, True), name="CumLSE-rev"),
    # exclusive starts at -inf: the Maximum keeps the loss finite for the numerical check
    Spec("CumulativeLogsumexp", lambda x: tf.maximum(
        scan_ops.cumulative_logsumexp(x, 1, exclusive=True), -50.0), [f64(2, 4)],
        lambda x: np.maximum(np_scan(cumlse, -np.inf, x, 1, True), -50), name="CumLSE-excl"),
    Spec("UnsortedSegmentSum", lambda d, i: tf.unsorted_segment_sum(d, i, 3),
         [f64(4, 2), ids4], lambda d, i: np_segment_sum(d, i, 3)),
    Spec("UnsortedSegmentSum", lambda d, i: tf.unsorted_segment_sum(d, i, 2),
         [f64(2, 2, 3), ids2d], lambda d, i: np_segment_sum(d, i, 2), name="UnsortedSeg-2d"),
    Spec("SegmentSum", tf.segment_sum, [f64(4, 3), sorted_ids],
         lambda d, i: np_segment_sum(d, i, 4)),
    # composites, through the harness for their numerical gradients (static and dynamic)
    Spec("Maximum", lambda x: tf.clip_by_value(x, -0.5, 1.0), [away_from_bounds],
         lambda x: np.clip(x, -0.5, 1.0), name="clip_by_value"),
    Spec("Maximum", lambda x, lo, hi: tf.clip_by_value(x, lo, hi),
         [away_from_bounds, np.array(-0.5), np.array([[0.9], [1.2]])],
         lambda x, lo, hi: np.clip(x, lo, hi), name="clip_by_value-tensor-bounds"),
    Spec("Maximum", lambda x: tf.clip_by_norm(x, 1.5), [f64(2, 3)],
         lambda x: np_clip_by_norm(x, 1.5), name="clip_by_norm"),
    Spec("Maximum", lambda x, c: tf.clip_by_norm(x, c, axes=[1]), [f64(3, 2), np.array(1.2)],
         lambda x, c: np_clip_by_norm(x, c, 1), name="clip_by_norm-axes"),
    Spec("Sqrt", lambda a, b: tf.global_norm([a, None, b]), [f64(2, 2), f64(3)],
         lambda a, b: np.sqrt(np.sum(a * a) + np.sum(b * b)), name="global_norm"),
    Spec("Minimum", lambda a, b: tf.clip_by_global_norm([a, b], 1.5)[0], [f64(2, 2), f64(3)],
         lambda a, b: [t * 1.5 / max(np.sqrt(np.sum(a * a) + np.sum(b * b)), 1.5)
                       for t in (a, b)], name="clip_by_global_norm"),
    Spec("Minimum", lambda x: tf.clip_by_average_norm(x, 0.1), [f64(2, 3)],
         lambda x: x * 0.1 / max(np.sqrt(np.sum(x * x)) / x.size, 0.1),
         name="clip_by_average_norm"),
    Spec("Log", lambda x: tf.reduce_logsumexp(x, 1), [f64(3, 4)], lambda x: np_lse(x, 1),
         name="reduce_logsumexp"),
    Spec("Log", lambda x: tf.reduce_logsumexp(x, keepdims=True), [f64(2, 3) * 10],
         lambda x: np_lse(x, None, True), name="reduce_logsumexp-all-keep"),
    Spec("Mean", lambda x: scan_ops.reduce_std(x, 0), [f64(3, 2)], lambda x: np.std(x, 0),
         name="reduce_std"),
    Spec("Sqrt", lambda x: scan_ops.reduce_euclidean_norm(x, 1, keepdims=True), [f64(2, 3)],
         lambda x: np.linalg.norm(x, axis=1, keepdims=True), name="reduce_euclidean_norm"),
]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_op(spec):
    run_spec(spec)


# ---- clip_by_value / clip_by_norm --------------------------------------------------------
def test_clip_by_value_gradient_passes_at_boundaries_like_tf():
    x = tf.constant([0.0, 1.0, 0.5, -1.0, 2.0])
    lo, hi = tf.constant(0.0), tf.constant(1.0)
    y = tf.clip_by_value(x, lo, hi)
    assert y.name == "clip_by_value:0" and y.op.type == "Maximum"
    value, grads = run([y, tf.gradients(tf.reduce_sum(y), [x, lo, hi])])
    np.testing.assert_array_equal(value, [0, 1, 0.5, 0, 1])
    np.testing.assert_array_equal(grads[0], [1, 1, 1, 0, 0])  # TF
    assert grads[1] == 1.0 and grads[2] == 1.0  # TF: one element below, one above


def test_clip_by_value_ints_unchecked_bounds_and_broadcast_error():
    assert run(tf.clip_by_value(tf.constant([1, 5, -3]), 0, 2)).tolist() == [1, 2, 0]
    assert run(tf.clip_by_value(tf.constant([1.0, 5.0]), 2.0, 0.0)).tolist() == [2, 2]  # TF
    with pytest.raises(ValueError, match=r"Shapes \(2,\) and \(2, 2\) are incompatible"):
        tf.clip_by_value(tf.constant([1.0, 2.0]), tf.constant([[0.0], [1.0]]), 1.0)


def test_clip_by_norm_values_and_finite_gradient_at_zero():
    t = np.array([[3.0, 4.0], [0.0, 0.0], [0.3, 0.4]], np.float32)
    x = tf.constant(t)
    y = tf.clip_by_norm(x, 1.0, axes=[1])
    assert y.name == "clip_by_norm:0"
    value, grad = run([y, tf.gradients(y, x)[0]])
    np.testing.assert_allclose(value, np_clip_by_norm(t, 1.0, 1), rtol=1e-6)
    np.testing.assert_allclose(grad, [[0.032, -0.024], [1, 1], [1, 1]], rtol=1e-4)  # TF
    with pytest.raises(TypeError, match="floating-point"):
        tf.clip_by_norm(tf.constant([3, 4]), 2)
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
        tf.clip_by_norm(tf.constant([3.0, 4.0]), tf.constant([1.0, 2.0, 3.0]))


# ---- global_norm / clip_by_global_norm ----------------------------------------------------
def test_global_norm_ignores_none_and_handles_empty():
    n = tf.global_norm([tf.constant([3.0, 4.0]), None, tf.constant([[12.0]])])
    assert n.name == "global_norm/global_norm:0" and n.dtype == tf.float32
    assert run(n) == 13.0
    assert run(tf.global_norm([])) == 0.0 and run(tf.global_norm([None])) == 0.0
    with pytest.raises(TypeError, match="sequence of tensors"):
        tf.global_norm(tf.constant([1.0]))


def test_clip_by_global_norm_matches_tf():
    a, b = tf.constant([3.0, 4.0]), tf.constant([[12.0]])
    clipped, norm = tf.clip_by_global_norm([a, None, b], 6.5)
    assert clipped[1] is None and norm.name == "global_norm/global_norm:0"
    assert clipped[0].name == "clip_by_global_norm/clip_by_global_norm/_0:0"
    got = run([clipped[0], clipped[2], norm])
    np.testing.assert_allclose(got[0], [1.5, 2.0])
    np.testing.assert_allclose(got[1], [[6.0]])
    assert got[2] == 13.0
    small, _ = tf.clip_by_global_norm([tf.constant([0.3, 0.4])], 1.0)  # norm < clip: unchanged
    np.testing.assert_allclose(run(small[0]), [0.3, 0.4])
    given, used = tf.clip_by_global_norm([a], 1.0, use_norm=tf.constant(10.0))
    np.testing.assert_allclose(run([given[0], used])[0], [0.3, 0.4])


def test_clip_by_global_norm_gradient_and_nan_cases():
    a, b = tf.constant([3.0, 4.0]), tf.constant([1.0])
    clipped, _ = tf.clip_by_global_norm([a, b], 1.0)
    ga, gb = run(tf.gradients(clipped[0] * tf.constant([1.0, 2.0]), [a, b]))
    np.testing.assert_allclose(ga, [-0.05280051, 0.06034341], rtol=1e-5)  # TF
    np.testing.assert_allclose(gb, [-0.08297221], rtol=1e-5)
    inf, _ = tf.clip_by_global_norm([tf.constant([np.inf, 4.0])], 1.0)
    assert np.isnan(run(inf[0])).all()  # TF: an infinite norm gives NaN, not 0 or inf
    zero = tf.constant([0.0, 0.0])
    clipped, norm = tf.clip_by_global_norm([zero], 1.0)
    value, n, grad = run([clipped[0], norm, tf.gradients(clipped[0], zero)[0]])
    assert value.tolist() == [0, 0] and n == 0 and np.isnan(grad).all()  # TF: NaN grad at 0


def test_clip_by_average_norm_value():
    np.testing.assert_allclose(run(tf.clip_by_average_norm(tf.constant([[3.0, 4.0]]), 1.0)),
                               [[1.2, 1.6]], rtol=1e-6)  # TF


# ---- scans -----------------------------------------------------------------------------
def test_cumsum_names_errors_and_second_derivative():
    assert tf.cumsum(tf.constant([1.0, 2.0])).name == "Cumsum:0"
    with pytest.raises(ValueError, match=r"range \[-1, 1\), but got 1"):
        tf.cumsum(tf.constant([1.0, 2.0]), axis=1)
    with pytest.raises(TypeError, match="bool"):
        tf.cumsum(tf.constant([True, False]))
    x = tf.constant([0.5, 2.0, 3.0])
    y = tf.reduce_sum(tf.cumprod(x) * tf.cumsum(x * x, axis=tf.constant(0)))
    g = tf.gradients(y, x)[0]
    h = tf.gradients(tf.reduce_sum(g * tf.constant([1.0, -1.0, 2.0])), x)[0]
    assert run(h).shape == (3,)


def test_cumprod_gradient_at_zero_is_tfs():
    x = tf.constant([2.0, 0.0, 3.0, 4.0])
    got = run([tf.gradients(tf.cumprod(x), x)[0],
               tf.gradients(tf.cumprod(x, exclusive=True), x)[0],
               tf.gradients(tf.cumprod(x, reverse=True), x)[0]])
    for g, expected in zip(got, [[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 4, 4]]):  # TF
        np.testing.assert_allclose(g, expected)


def test_cumulative_logsumexp_exclusive_gradient_matches_tf():
    x = tf.constant([1.0, 2.0, 3.0])
    y = scan_ops.cumulative_logsumexp(x, exclusive=True)
    value, grad = run([y, tf.gradients(y * tf.constant([1.0, -2.0, 3.0]), x)[0]])
    np.testing.assert_allclose(value, [-np.inf, 1.0, 2.3132617], rtol=1e-6)
    np.testing.assert_allclose(grad, [-1.1931758, 2.1931756, 0.0], rtol=1e-5, atol=1e-6)


# ---- reduce_logsumexp and friends --------------------------------------------------------
def test_reduce_logsumexp_is_stable_with_infinities():
    x = tf.constant([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 1.0], [1.0, 2.0]])
    y = tf.reduce_logsumexp(x, 1)
    assert y.name == "ReduceLogSumExp:0"
    value, grad = run([y, tf.gradients(y, x)[0]])
    np.testing.assert_allclose(value, [1000 + np.log(2), -np.inf, np.inf, 2.3132617], rtol=1e-6)
    np.testing.assert_allclose(grad[0], [0.5, 0.5])
    np.testing.assert_allclose(grad[3], [0.26894143, 0.7310586], rtol=1e-6)
    assert np.isnan(grad[1]).all()  # TF: NaN below an all -inf row
    big = tf.constant(np.float32([[1000.0, 1000.0]]))
    np.testing.assert_allclose(run(tf.reduce_logsumexp(big, 0, keep_dims=True)),
                               [[1000.0, 1000.0]])
    with pytest.raises(TypeError, match="floating-point"):
        tf.reduce_logsumexp(tf.constant([1, 2]))


def test_count_nonzero_dtypes_and_inputs():
    x = tf.constant([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    total = tf.count_nonzero(x)
    rows = tf.count_nonzero(x, 1, keepdims=True, dtype=tf.int32)
    assert total.dtype == tf.int64 and rows.dtype == tf.int32 and rows.shape.as_list() == [2, 1]
    got = run([total, rows, tf.count_nonzero(tf.constant(["", "a", "b"])),
               tf.count_nonzero(input=tf.constant([True, False, True]))])
    assert got[0] == 3 and got[1].tolist() == [[2], [1]] and got[2] == 2 and got[3] == 2


def test_variance_std_euclidean_norm():
    x = tf.constant([[1.0, 2.0], [3.0, 5.0]])
    got = run([scan_ops.reduce_variance(x), scan_ops.reduce_std(x, 1),
               scan_ops.reduce_euclidean_norm(tf.constant([1, 1, 1]))])
    assert got[0] == pytest.approx(2.1875) and got[1].tolist() == [0.5, 1.0] and got[2] == 1
    with pytest.raises(TypeError, match="integer"):
        scan_ops.reduce_variance(tf.constant([1, 2]))


# ---- segment sums ------------------------------------------------------------------------
def test_unsorted_segment_sum_shapes_and_errors():
    data = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert tf.unsorted_segment_sum(data, [0, 1], 5).shape.as_list() == [5, 2]
    n = tf.placeholder(tf.int32, [])
    assert tf.unsorted_segment_sum(data, [0, 1], n).shape.as_list() == [None, 2]
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
        tf.unsorted_segment_sum(data, [0, 1, 1], 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"out of range \[0, 3\)"):
        run(tf.unsorted_segment_sum(tf.constant([1.0, 2.0]), [0, 5], 3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not increasing"):
        run(tf.segment_sum(tf.constant([1.0, 2.0, 3.0]), [1, 0, 1]))
    assert tf.segment_sum(data, [0, 0]).shape.as_list() == [None, 2]  # TF


def test_segment_sum_gradient_shapes_with_partly_known_ids():
    data = tf.placeholder(tf.float32, [4, 2])
    ids = tf.placeholder(tf.int32, [None])
    grad = tf.gradients(tf.unsorted_segment_sum(data, ids, 3), data)[0]
    assert grad.shape.as_list() == [None, 2]
    value = run(grad, {data: np.ones((4, 2)), ids: [2, -1, 0, 2]})
    np.testing.assert_array_equal(value, [[1, 1], [0, 0], [1, 1], [1, 1]])
    sorted_grad = tf.gradients(tf.segment_sum(data, [0, 0, 1, 3]), data)[0]
    assert sorted_grad.shape.as_list() == [4, 2]


@pytest.mark.parametrize("shape", [[4, 2], None])
def test_unsorted_segment_sum_second_derivative(shape):
    ids, v = np.array([0, 2, -1, 0]), np.arange(1.0, 9.0).reshape(4, 2)
    x = tf.placeholder(tf.float64, shape)
    g = tf.gradients(tf.reduce_sum(tf.square(tf.unsorted_segment_sum(x, ids, 3))), x)[0]
    h = tf.gradients(tf.reduce_sum(g * v), x)[0]  # Hessian-vector product through the gather
    value = np.arange(8.0).reshape(4, 2)
    got_g, got_h = run([g, h], {x: value})
    keep = (ids >= 0)[:, None]
    np.testing.assert_allclose(got_g, 2 * np_segment_sum(value, ids, 3)[ids] * keep)
    np.testing.assert_allclose(got_h, 2 * np_segment_sum(v * keep, ids, 3)[ids] * keep)


def test_public_names():
    for name in tf.ops.clip_ops.__all__ + scan_ops.__all__:
        assert callable(getattr(tf, name)), name
    for name in scan_ops.MATH_ONLY:  # tf.math only in TF 1.x
        assert not hasattr(tf, name) and callable(getattr(scan_ops, name))
