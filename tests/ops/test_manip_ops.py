"""Specs and focused tests for transpose, expand_dims/squeeze, concat/split, stack/unstack,
tile, pad (constant and mirrored), reverse and meshgrid."""
import warnings

import numpy as np
import pytest

import tginteractive as tf
from tginteractive.ops import manip_ops, pad_ops
from tests.ops.harness import Spec, check_second_derivative, run, run_spec, spec_id

R = np.random.RandomState(7)


def f64(*shape):
    return R.uniform(-2.0, 2.0, shape)


def mirror_pad_adjoint(dy, paddings, mode):
    """NumPy reference for MirrorPadGrad: scatter dy back through np.pad's index map."""
    shape = tuple(d - a - b for d, (a, b) in zip(dy.shape, paddings))
    source = np.pad(np.arange(int(np.prod(shape))).reshape(shape), paddings, mode.lower())
    out = np.zeros(int(np.prod(shape)))
    np.add.at(out, source.ravel(), dy.ravel())
    return out.reshape(shape)


P2 = [[1, 2], [2, 0]]
SPECS = [
    Spec("Transpose", tf.transpose, [f64(2, 3)], np.transpose),
    Spec("Transpose", lambda x: tf.transpose(x, [1, 2, 0]), [f64(2, 3, 4)],
         lambda x: np.transpose(x, [1, 2, 0]), name="Transpose-perm"),
    Spec("ExpandDims", lambda x: tf.expand_dims(x, 1), [f64(2, 3)],
         lambda x: np.expand_dims(x, 1)),
    Spec("ExpandDims", lambda x: tf.expand_dims(x, -1), [f64(2, 3)],
         lambda x: x[..., None], name="ExpandDims-neg"),
    Spec("Squeeze", tf.squeeze, [f64(1, 3, 1)], np.squeeze),
    Spec("Squeeze", lambda x: tf.squeeze(x, [-1]), [f64(1, 3, 1)], lambda x: x[..., 0],
         name="Squeeze-axis"),
    Spec("ConcatV2", lambda a, b, c: tf.concat([a, b, c], 1), [f64(2, 1), f64(2, 3), f64(2, 2)],
         lambda a, b, c: np.concatenate([a, b, c], 1)),
    Spec("ConcatV2", lambda a, b: tf.concat([a, b], -1), [f64(2, 2, 1), f64(2, 2, 3)],
         lambda a, b: np.concatenate([a, b], -1), name="ConcatV2-neg"),
    Spec("SplitLike", lambda dy, a, b: manip_ops.SplitLike(dy, a, b, axis=1),
         [f64(2, 5), f64(2, 2), f64(2, 3)], lambda dy, a, b: np.split(dy, [2], 1),
         grad_inputs=[0]),
    Spec("Split", lambda x: tf.split(x, 3, axis=1), [f64(2, 6)], lambda x: np.split(x, 3, 1)),
    Spec("Split", lambda x: tf.split(x, [1, -1, 2], 0), [f64(6, 2)],
         lambda x: np.split(x, [1, 4], 0), name="Split-sizes"),
    Spec("Pack", lambda a, b: tf.stack([a, b]), [f64(2, 3), f64(2, 3)],
         lambda a, b: np.stack([a, b])),
    Spec("Pack", lambda a, b, c: tf.stack([a, b, c], axis=-1), [f64(2), f64(2), f64(2)],
         lambda a, b, c: np.stack([a, b, c], -1), name="Pack-last"),
    # num is passed because the dynamic run feeds a placeholder of unknown shape
    Spec("Unpack", lambda x: tf.unstack(x, num=3, axis=1), [f64(2, 3, 2)],
         lambda x: [x[:, i] for i in range(3)]),
    Spec("Tile", lambda x: tf.tile(x, [2, 1, 3]), [f64(2, 3, 2)],
         lambda x: np.tile(x, [2, 1, 3])),
    Spec("Pad", lambda x: tf.pad(x, P2, constant_values=1.5), [f64(2, 3)],
         lambda x: np.pad(x, P2, constant_values=1.5)),
    Spec("MirrorPad", lambda x: tf.pad(x, P2, "reflect"), [f64(3, 3)],
         lambda x: np.pad(x, P2, "reflect")),
    Spec("MirrorPad", lambda x: tf.pad(x, [[2, 3]], "SYMMETRIC"), [f64(3)],
         lambda x: np.pad(x, [[2, 3]], "symmetric"), name="MirrorPad-symmetric"),
    Spec("MirrorPadGrad", lambda dy: pad_ops.MirrorPadGrad(
        dy, tf.constant(P2), mode="REFLECT"), [f64(6, 5)],
         lambda dy: mirror_pad_adjoint(dy, P2, "REFLECT")),
    Spec("MirrorPadGrad", lambda dy: pad_ops.MirrorPadGrad(
        dy, tf.constant([[2, 2]]), mode="SYMMETRIC"), [f64(6)],
         lambda dy: mirror_pad_adjoint(dy, [[2, 2]], "SYMMETRIC"),
         name="MirrorPadGrad-symmetric"),
    Spec("ReverseV2", lambda x: tf.reverse(x, [0, -1]), [f64(2, 3, 4)],
         lambda x: x[::-1, :, ::-1]),
]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_op(spec):
    run_spec(spec)


# ---- static shapes ------------------------------------------------------------------------
def test_static_shapes_with_unknown_dims():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    assert tf.transpose(x).shape.as_list() == [4, 3, None]
    assert tf.expand_dims(x, 0).shape.as_list() == [1, None, 3, 4]
    assert tf.concat([x, x], 0).shape.as_list() == [None, 3, 4]
    assert tf.concat([x, tf.zeros([2, 3, 4])], 1).shape.as_list() == [2, 6, 4]
    assert tf.concat([x, x], 2).shape.as_list() == [None, 3, 8]
    assert [t.shape.as_list() for t in tf.split(x, [1, -1], 2)] == [[None, 3, 1],
                                                                   [None, 3, 3]]
    assert tf.stack([x, x], 1).shape.as_list() == [None, 2, 3, 4]
    assert tf.tile(x, [2, 2, 1]).shape.as_list() == [None, 6, 4]
    assert tf.pad(x, [[1, 1], [0, 2], [3, 0]]).shape.as_list() == [None, 5, 7]
    assert tf.squeeze(tf.placeholder(tf.float32, [1, None, 2])).shape.dims is None
    assert tf.squeeze(tf.placeholder(tf.float32, [1, None]), 0).shape.as_list() == [None]


def test_unknown_rank_is_tolerated():
    x = tf.placeholder(tf.float32)
    assert tf.transpose(x).shape.dims is None
    assert tf.transpose(x, [1, 0]).shape.as_list() == [None, None]
    assert tf.tile(x, [1, 2]).shape.as_list() == [None, None]
    value = f64(2, 3)
    assert np.allclose(run(tf.transpose(x), {x: value}), value.T)


def test_shape_tensor_from_scalar_tensors_is_a_pack():
    x = tf.placeholder(tf.float32, [None, 6])
    y = tf.reshape(x, [tf.shape(x)[0], 2, 3])
    assert y.shape.as_list() == [None, 2, 3]
    assert y.op.inputs[1].op.type == "Pack"
    flat = tf.reshape(x, [-1, tf.constant(3)])
    assert flat.shape.as_list() == [None, 3]
    assert run(y, {x: np.ones((4, 6))}).shape == (4, 2, 3)


def test_stack_of_constants_folds():
    packed = tf.stack([tf.constant(2), tf.constant(3)])
    np.testing.assert_array_equal(tf.constant_value(packed), [2, 3])
    assert tf.constant_value(tf.stack([tf.placeholder(tf.int32, []), 1])) is None


# ---- structures ---------------------------------------------------------------------------
def test_split_stack_unstack_return_lists():
    x = tf.constant(np.arange(12.0).reshape(3, 4))
    parts = tf.split(x, 2, axis=1)
    assert isinstance(parts, list) and len(parts) == 2
    assert [p.name for p in parts] == ["split:0", "split:1"]
    one = tf.split(x, 1)
    assert isinstance(one, list) and len(one) == 1 and one[0].shape.as_list() == [3, 4]
    rows = tf.unstack(x)
    assert isinstance(rows, list) and [r.shape.as_list() for r in rows] == [[4]] * 3
    assert tf.unstack(x, axis=1)[0].shape.as_list() == [3]
    assert tf.unstack(tf.zeros([0, 2])) == []
    restacked = tf.stack(rows)
    np.testing.assert_array_equal(run(restacked), np.arange(12.0).reshape(3, 4))
    assert restacked.op.type == "Pack" and restacked.name == "stack:0"


def test_stack_converts_python_values_and_checks_dtypes():
    t = tf.constant(1.5)
    np.testing.assert_array_equal(run(tf.stack([t, 2, 3.0])), np.float32([1.5, 2, 3]))
    with pytest.raises(TypeError, match="same dtype"):
        tf.stack([t, tf.constant(1)])
    assert tf.concat([tf.constant([1.0])], 0).op.type == "Identity"


def test_split_sizes_run_and_legacy_aliases():
    x = np.arange(10.0)
    got = run(tf.split(tf.constant(x), [3, -1, 2]))
    assert [list(g) for g in got] == [list(x[:3]), list(x[3:8]), list(x[8:])]
    with warnings.catch_warnings():  # the legacy aliases warn once per process
        warnings.simplefilter("ignore", DeprecationWarning)
        packed = tf.pack([tf.constant(1.0), tf.constant(2.0)])
        assert packed.op.type == "Pack" and len(tf.unpack(packed)) == 2


def test_meshgrid_matches_numpy():
    a, b = np.arange(3.0), np.arange(4.0) * 10
    for indexing in ("xy", "ij"):
        got = run(tf.meshgrid(a, b, indexing=indexing))
        for g, e in zip(got, np.meshgrid(a, b, indexing=indexing)):
            np.testing.assert_array_equal(g, e)
    x = tf.placeholder(tf.float64, [3])
    gx, gy = tf.meshgrid(x, tf.constant(b))
    assert gx.shape.as_list() == [4, 3]
    grad = tf.gradients(tf.reduce_sum(gx * gy), x)[0]
    np.testing.assert_allclose(run(grad, {x: a}), np.full(3, b.sum()))


# ---- second derivatives through the gradient ops -------------------------------------------
SECOND_ORDER = [
    ("transpose", lambda x: tf.transpose(x, [1, 0])),
    ("concat", lambda x: tf.concat([x, 2 * x], 1)),
    ("split", lambda x: tf.split(x, [1, 2], 1)[1]),
    ("stack", lambda x: tf.stack([x, x * x])),
    ("unstack", lambda x: tf.unstack(x)[1]),
    ("tile", lambda x: tf.tile(x, [2, 3])),
    ("pad", lambda x: tf.pad(x, [[1, 0], [0, 2]])),
    ("reflect", lambda x: tf.pad(x, [[1, 1], [2, 1]], "REFLECT")),
    ("symmetric", lambda x: tf.pad(x, [[2, 0], [1, 3]], "SYMMETRIC")),
    ("reverse", lambda x: tf.reverse(x, [1])),
    ("squeeze", lambda x: tf.squeeze(tf.expand_dims(x, 0))),
]


@pytest.mark.parametrize("build", [b for _, b in SECOND_ORDER], ids=[n for n, _ in SECOND_ORDER])
def test_second_derivative(build):
    """d/dx of g(x) = d/dx sum(f(x)^3) checked against central differences of g."""
    value = f64(2, 3)
    check_second_derivative(build, value, weights=R.uniform(0.5, 1.5, (2, 3)))


# ---- errors -------------------------------------------------------------------------------
def test_axis_errors_name_the_op():
    x = tf.zeros([2, 3])
    with pytest.raises(ValueError, match=r"axis 3 is out of range.*'ExpandDims'"):
        tf.expand_dims(x, 3)
    with pytest.raises(ValueError, match=r"out of range.*'concat' \(op: 'ConcatV2'\)"):
        tf.concat([x, x], 2)
    with pytest.raises(ValueError, match=r"'stack' \(op: 'Pack'\)"):
        tf.stack([x, x], axis=4)
    with pytest.raises(ValueError, match=r"Can not squeeze dim\[1\].*'Squeeze'"):
        tf.squeeze(x, [1])
    with pytest.raises(ValueError, match="Dimension must be 2 but is 3"):
        tf.transpose(x, [0, 1, 2])
    with pytest.raises(ValueError, match=r"other than axis 0 must match.*concat"):
        tf.concat([x, tf.zeros([2, 4])], 0)
    with pytest.raises(TypeError, match="integers"):
        tf.expand_dims(x, 1.5)


def test_split_errors():
    x = tf.zeros([10, 2])
    with pytest.raises(ValueError, match=r"evenly divisible by 3 but is 10.*'split'"):
        tf.split(x, 3)
    with pytest.raises(ValueError, match="do not add up"):
        tf.split(x, [3, 3])
    with pytest.raises(ValueError, match="at most one -1"):
        tf.split(x, [-1, -1, 2])
    with pytest.raises(ValueError, match="num=3 does not match"):
        tf.split(x, [5, 5], num=3)
    with pytest.raises(ValueError, match="Cannot infer num"):
        tf.unstack(tf.placeholder(tf.float32, [None, 2]))
    p = tf.placeholder(tf.float32, [None])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"evenly divisible[\s\S]*split"):
        run(tf.split(p, 3), {p: np.zeros(7)})


def test_runtime_shape_errors_name_the_op():
    p = tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Can not squeeze[\s\S]*Squeeze"):
        run(tf.squeeze(p, [0]), {p: np.zeros((2, 1))})
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"num=2[\s\S]*unstack"):
        run(tf.unstack(p, num=2), {p: np.zeros((3, 1))})
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"multiples[\s\S]*Tile"):
        run(tf.tile(p, [2, 2]), {p: np.zeros(3)})


def test_pad_errors():
    x = tf.zeros([2, 3])
    with pytest.raises(ValueError, match="Unknown padding mode"):
        tf.pad(x, [[1, 1], [1, 1]], "WRAP")
    with pytest.raises(ValueError, match=r"no greater than the dimension size - 1.*MirrorPad"):
        tf.pad(x, [[2, 0], [0, 0]], "REFLECT")
    assert tf.pad(x, [[2, 0], [0, 0]], "symmetric").shape.as_list() == [4, 3]
    with pytest.raises(ValueError, match=r"shape \[2, 2\].*'Pad'"):
        tf.pad(x, [[1, 1]])
    with pytest.raises(ValueError, match="non-negative"):
        tf.pad(x, [[1, -1], [0, 0]])
    p = tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"size - 1[\s\S]*MirrorPad"):
        run(tf.pad(p, [[3, 0]], "REFLECT"), {p: np.zeros(3)})


def test_single_output_split_unstack_and_their_gradients():
    x = tf.placeholder(tf.float64, [3, 1])
    (only,) = tf.split(x, 1)
    (row,) = tf.unstack(x, axis=1)
    (g,) = tf.gradients(tf.reduce_sum(only * 2.0) + tf.reduce_sum(row), x)
    xv = np.arange(3.0).reshape(3, 1)
    got_only, got_row, got_g = run([only, row, g], {x: xv})
    np.testing.assert_array_equal(got_only, xv)
    np.testing.assert_array_equal(got_row, xv[:, 0])
    np.testing.assert_array_equal(got_g, np.full((3, 1), 3.0))
