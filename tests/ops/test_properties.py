"""Property-based checks (hypothesis) of broadcasting arithmetic, broadcast gradients,
reductions and shape errors against NumPy. One fresh Graph and Session per example."""
import functools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tginteractive as tf

SETTINGS = settings(max_examples=40, deadline=None)
FLOATS = st.sampled_from([np.float32, np.float64])
BINARY = {
    "add": (tf.add, np.add), "sub": (tf.subtract, np.subtract),
    "mul": (tf.multiply, np.multiply), "div": (tf.truediv, np.true_divide),
    "maximum": (tf.maximum, np.maximum), "minimum": (tf.minimum, np.minimum),
}
REDUCTIONS = {  # NumPy references give TF's values for empty reductions too
    "sum": (tf.reduce_sum, np.sum), "mean": (tf.reduce_mean, np.mean),
    "max": (tf.reduce_max, functools.partial(np.max, initial=-np.inf)),
    "min": (tf.reduce_min, functools.partial(np.min, initial=np.inf)),
    "prod": (tf.reduce_prod, np.prod),
}
SHAPE_PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                min_side=0, max_side=4)


def values(draw, shape, dtype, nonzero=False):
    elements = st.floats(-100, 100, width=32 if dtype == np.float32 else 64)
    x = draw(hnp.arrays(dtype, shape, elements=elements))
    if nonzero:
        x[np.abs(x) < 1e-3] = 1.5
    return x


def placeholders(arrays, mode):
    """Placeholders for `arrays`: full static shapes, partially known (all None) or unknown."""
    shape = {"static": lambda a: a.shape, "partial": lambda a: [None] * a.ndim,
             "unknown": lambda a: None}[mode]
    return [tf.placeholder(tf.as_dtype(a.dtype), shape(a)) for a in arrays]


def run(graph, fetches, feed):
    with np.errstate(all="ignore"), tf.Session(graph=graph) as sess:
        return sess.run(fetches, feed)


def sum_to(g, shape):
    """NumPy's reference for un-broadcasting: sum g over the axes that broadcast `shape`."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def tolerance(dtype):
    return dict(rtol=2e-6, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-10)


def assert_shape_agrees(tensor, value, mode):
    if mode == "static":
        assert tensor.shape.as_list() == list(np.shape(value)), (tensor.shape, np.shape(value))
    else:
        assert tensor.shape.is_compatible_with(np.shape(value)), (tensor.shape, np.shape(value))


# ---- broadcasting arithmetic ---------------------------------------------------------------
@SETTINGS
@given(data=st.data(), op=st.sampled_from(sorted(BINARY)), dtype=FLOATS, shapes=SHAPE_PAIRS,
       mode=st.sampled_from(["static", "partial", "unknown"]))
def test_broadcast_binary_matches_numpy(data, op, dtype, shapes, mode):
    tf_fn, np_fn = BINARY[op]
    a_shape, b_shape = shapes.input_shapes
    a = values(data.draw, a_shape, dtype)
    b = values(data.draw, b_shape, dtype, nonzero=op == "div")
    graph = tf.Graph()
    with graph.as_default():
        pa, pb = placeholders([a, b], mode)
        out = tf_fn(pa, pb)
        got = run(graph, out, {pa: a, pb: b})
    expected = np_fn(a, b)
    assert out.dtype.as_numpy_dtype == dtype and got.dtype == dtype
    assert got.shape == expected.shape == shapes.result_shape
    assert_shape_agrees(out, got, mode)
    np.testing.assert_array_equal(got, expected)  # same elementwise op in the same dtype


@SETTINGS
@given(data=st.data(), op=st.sampled_from(["add", "mul"]), dtype=FLOATS, shapes=SHAPE_PAIRS,
       mode=st.sampled_from(["static", "unknown"]))
def test_broadcast_gradients_sum_over_broadcast_axes(data, op, dtype, shapes, mode):
    tf_fn, np_fn = BINARY[op]
    a_shape, b_shape = shapes.input_shapes
    a, b = values(data.draw, a_shape, dtype), values(data.draw, b_shape, dtype)
    w = values(data.draw, shapes.result_shape, dtype)
    graph = tf.Graph()
    with graph.as_default():
        pa, pb = placeholders([a, b], mode)
        loss = tf.reduce_sum(tf_fn(pa, pb) * w)
        grads = tf.gradients(loss, [pa, pb])
        ga, gb = run(graph, grads, {pa: a, pb: b})
    ea, eb = (sum_to(w, a_shape), sum_to(w, b_shape)) if op == "add" else (
        sum_to(w * b, a_shape), sum_to(a * w, b_shape))
    for grad, got, expected, x in ((grads[0], ga, ea, a), (grads[1], gb, eb, b)):
        assert got.shape == x.shape and got.dtype == dtype
        assert_shape_agrees(grad, got, mode)
        np.testing.assert_allclose(got, expected, **tolerance(dtype))


# ---- reductions ----------------------------------------------------------------------------
@st.composite
def reduction_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    if draw(st.booleans()):
        axis = None
    else:
        axes = draw(st.lists(st.integers(0, max(len(shape) - 1, 0)), unique=True,
                             max_size=len(shape)))
        axis = [a - len(shape) if draw(st.booleans()) else a for a in axes]  # negatives too
    return shape, axis, draw(st.booleans())


@SETTINGS
@given(data=st.data(), op=st.sampled_from(sorted(REDUCTIONS)), dtype=FLOATS,
       case=reduction_cases(), static=st.booleans())
def test_reductions_match_numpy(data, op, dtype, case, static):
    shape, axis, keepdims = case
    tf_fn, np_fn = REDUCTIONS[op]
    elements = st.floats(-2, 2, width=32 if dtype == np.float32 else 64)
    x = data.draw(hnp.arrays(dtype, shape, elements=elements))
    graph = tf.Graph()
    with graph.as_default():
        (px,) = placeholders([x], "static" if static else "partial")
        out = tf_fn(px, axis=axis, keepdims=keepdims)
        got = run(graph, out, {px: x})
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "mean of empty slice"
        expected = np_fn(x, axis=None if axis is None else tuple(axis), keepdims=keepdims)
    assert got.dtype == dtype and out.dtype.as_numpy_dtype == dtype
    assert got.shape == expected.shape
    assert_shape_agrees(out, got, "static" if static else "partial")
    np.testing.assert_allclose(got, expected, **tolerance(dtype))


# ---- shape errors ------------------------------------------------------------------------
@st.composite
def incompatible_shapes(draw):
    a = list(draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)))
    b = list(draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)))
    i = draw(st.integers(1, min(len(a), len(b))))  # counted from the right
    d = draw(st.integers(2, 5))
    a[-i], b[-i] = d, draw(st.integers(0, 5).filter(lambda e: e not in (1, d)))
    return a, b


def shape_text(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


@SETTINGS
@given(shapes=incompatible_shapes(), op=st.sampled_from(sorted(BINARY)),
       use_constants=st.booleans())
def test_incompatible_shapes_raise_value_error_naming_both(shapes, op, use_constants):
    a, b = shapes
    with pytest.raises(ValueError) as info, tf.Graph().as_default():
        if use_constants:
            x, y = tf.constant(np.ones(a, np.float32)), tf.constant(np.ones(b, np.float32))
        else:
            x, y = tf.placeholder(tf.float32, a), tf.placeholder(tf.float32, b)
        BINARY[op][0](x, y)
    message = str(info.value)
    assert shape_text(a) in message and shape_text(b) in message, message
    assert "Dimensions must be equal" in message


def test_reduction_axis_out_of_range_is_value_error():
    with pytest.raises(ValueError, match="out of range"):
        tf.reduce_sum(tf.placeholder(tf.float32, [2, 2]), axis=2)


@pytest.mark.parametrize("op,expected", [
    ("sum", 0.0), ("prod", 1.0), ("mean", np.nan), ("max", -np.inf), ("min", np.inf)])
def test_empty_reductions_give_tfs_identities(op, expected):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [0, 3])
        out = REDUCTIONS[op][0](x, axis=0)
        got = run(graph, out, {x: np.zeros((0, 3), np.float32)})
    np.testing.assert_array_equal(got, np.full(3, expected, np.float32))  # TF, FINDINGS 9
