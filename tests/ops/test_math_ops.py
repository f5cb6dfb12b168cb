"""Specs for elementwise math, comparisons, logic, select, add_n, matmul and reductions."""
import numpy as np
import pytest

import tginteractive as tf
from tests.ops.harness import Spec, run_spec, spec_id

R = np.random.RandomState(42)


def f64(*shape, low=-2.0, high=2.0):
    return R.uniform(low, high, shape)


def pos(*shape):
    return R.uniform(0.5, 2.0, shape)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


UNARY = [
    ("Neg", tf.negative, np.negative, f64(3, 4)),
    ("Abs", tf.abs, np.abs, f64(3, 4)),
    ("Sign", tf.sign, np.sign, f64(3, 4)),
    ("Square", tf.square, np.square, f64(3, 4)),
    ("Sqrt", tf.sqrt, np.sqrt, pos(3, 4)),
    ("Rsqrt", tf.rsqrt, lambda x: 1 / np.sqrt(x), pos(3, 4)),
    ("Exp", tf.exp, np.exp, f64(3, 4)),
    ("Log", tf.log, np.log, pos(3, 4)),
    ("Log1p", tf.log1p, np.log1p, pos(3, 4)),
    ("Sin", tf.sin, np.sin, f64(3, 4)),
    ("Cos", tf.cos, np.cos, f64(3, 4)),
    ("Tanh", tf.tanh, np.tanh, f64(3, 4)),
    ("Sigmoid", tf.sigmoid, sigmoid, f64(3, 4) * 5),
    ("Reciprocal", tf.reciprocal, np.reciprocal, pos(3, 4)),
    ("Floor", tf.floor, np.floor, f64(3, 4)),
    ("Ceil", tf.ceil, np.ceil, f64(3, 4)),
    ("Round", tf.round, np.round, f64(3, 4)),
]

BINARY = [
    ("AddV2", tf.add, np.add, f64(3, 4), f64(4)),
    ("Sub", tf.subtract, np.subtract, f64(3, 1), f64(1, 4)),
    ("Mul", tf.multiply, np.multiply, f64(2, 3, 4), f64(3, 1)),
    ("RealDiv", tf.truediv, np.true_divide, f64(3, 4), pos(4)),
    ("Pow", tf.pow, np.power, pos(3, 4), f64(4)),
    ("Maximum", tf.maximum, np.maximum, f64(3, 4), f64(3, 4)),
    ("Minimum", tf.minimum, np.minimum, f64(3, 4), f64(1)),
    ("SquaredDifference", tf.squared_difference, lambda x, y: (x - y) ** 2, f64(3, 4), f64(4)),
    ("FloorMod", tf.floormod, np.mod, f64(3, 4) * 3, pos(4)),
]

CMP = [
    ("Less", tf.less, np.less), ("LessEqual", tf.less_equal, np.less_equal),
    ("Greater", tf.greater, np.greater), ("GreaterEqual", tf.greater_equal, np.greater_equal),
    ("Equal", tf.equal, np.equal), ("NotEqual", tf.not_equal, np.not_equal),
]

ints_a = np.array([[-7, 7, 5], [0, -3, 9]], dtype=np.int32)
ints_b = np.array([2, -2, 3], dtype=np.int32)
bools_a = np.array([[True, False, True], [False, False, True]])
bools_b = np.array([True, False, False])
rounded = np.round(f64(3, 4))

SPECS = (
    [Spec(t, fn, [x], ref) for t, fn, ref, x in UNARY]
    + [Spec(t, fn, [x, y], ref) for t, fn, ref, x, y in BINARY]
    + [Spec(t, fn, [rounded, np.round(f64(4))], ref) for t, fn, ref in CMP]
    + [
        Spec("FloorDiv", tf.floordiv, [ints_a, ints_b], np.floor_divide, name="FloorDiv-int"),
        Spec("FloorDiv", lambda x, y: x // y, [f64(3, 4), pos(4)], np.floor_divide),
        Spec("FloorMod", tf.floormod, [ints_a, ints_b], np.mod, name="FloorMod-int"),
        Spec("LogicalAnd", tf.logical_and, [bools_a, bools_b], np.logical_and),
        Spec("LogicalOr", tf.logical_or, [bools_a, bools_b], np.logical_or),
        Spec("LogicalNot", tf.logical_not, [bools_a], np.logical_not),
        Spec("SelectV2", tf.where, [bools_a, f64(2, 3), f64(2, 3)], np.where),
        Spec("SelectV2", tf.where, [bools_b, f64(3), f64(2, 3)], np.where, name="Select-bcast"),
        Spec("Where", tf.where, [bools_a], np.argwhere),
        Spec("AddN", lambda a, b, c: tf.add_n([a, b, c]), [f64(2, 3), f64(2, 3), f64(2, 3)],
             lambda a, b, c: a + b + c),
        Spec("MatMul", tf.matmul, [f64(2, 3), f64(3, 4)], np.matmul),
        Spec("MatMul", lambda a, b: tf.matmul(a, b, transpose_a=True), [f64(3, 2), f64(3, 4)],
             lambda a, b: a.T @ b, name="MatMul-ta"),
        Spec("MatMul", lambda a, b: tf.matmul(a, b, transpose_b=True), [f64(2, 3), f64(4, 3)],
             lambda a, b: a @ b.T, name="MatMul-tb"),
        Spec("MatMul", lambda a, b: tf.matmul(a, b, True, True), [f64(3, 2), f64(4, 3)],
             lambda a, b: a.T @ b.T, name="MatMul-tatb"),
        Spec("BatchMatMulV2", tf.matmul, [f64(2, 2, 3), f64(3, 4)], np.matmul, dynamic=False),
        Spec("BatchMatMulV2", lambda a, b: tf.matmul(a, b, adjoint_a=True, adjoint_b=True),
             [f64(2, 3, 2), f64(1, 4, 3)], lambda a, b: np.swapaxes(a, -1, -2) @
             np.swapaxes(b, -1, -2), name="BatchMatMul-adj", dynamic=False),
        Spec("Sum", tf.reduce_sum, [f64(3, 4)], np.sum),
        Spec("Sum", lambda x: tf.reduce_sum(x, axis=1, keepdims=True), [f64(3, 4)],
             lambda x: x.sum(axis=1, keepdims=True), name="Sum-axis1-keep"),
        Spec("Sum", lambda x: tf.reduce_sum(x, reduction_indices=[0, 2]), [f64(2, 3, 4)],
             lambda x: x.sum(axis=(0, 2)), name="Sum-legacy-axes"),
        Spec("Sum", lambda x: tf.reduce_sum(x, -1), [ints_a], lambda x: x.sum(-1).astype(
            np.int32), name="Sum-int"),
        Spec("Mean", tf.reduce_mean, [f64(3, 4)], np.mean),
        Spec("Mean", lambda x: tf.reduce_mean(x, 0, keep_dims=True), [f64(3, 4)],
             lambda x: x.mean(0, keepdims=True), name="Mean-axis0-keep"),
        Spec("Mean", lambda x: tf.reduce_mean(x, 1), [ints_a],
             lambda x: np.trunc(x.sum(1) / 3).astype(np.int32), name="Mean-int"),
        Spec("Max", lambda x: tf.reduce_max(x, 1), [f64(3, 4)], lambda x: x.max(1)),
        Spec("Max", tf.reduce_max, [np.array([1.0, 3.0, 3.0, 2.0])], np.max, name="Max-ties",
             grad_rtol=1e-3),
        Spec("Min", lambda x: tf.reduce_min(x, [0, 1], keepdims=True), [f64(3, 4)],
             lambda x: x.min(keepdims=True)),
        Spec("Prod", lambda x: tf.reduce_prod(x, 1), [f64(3, 4)], lambda x: x.prod(1)),
        Spec("Prod", lambda x: tf.reduce_prod(x, 1), [np.array([[1.5, 0.0, 2.0],
                                                                [0.0, 0.0, 3.0]])],
             lambda x: x.prod(1), name="Prod-zeros"),
        Spec("Any", lambda x: tf.reduce_any(x, 1), [bools_a], lambda x: x.any(1)),
        Spec("All", tf.reduce_all, [bools_a], np.all),
        Spec("ArgMax", lambda x: tf.argmax(x, 1), [f64(3, 4)], lambda x: x.argmax(1)),
        Spec("ArgMin", lambda x: tf.argmin(x, 0, output_type=tf.int32), [f64(3, 4)],
             lambda x: x.argmin(0).astype(np.int32)),
        Spec("Cast", lambda x: tf.cast(x, tf.float32), [f64(3, 4)],
             lambda x: x.astype(np.float32), rtol=1e-6, check_grad=False),
        Spec("Cast", lambda x: tf.cast(x, tf.float64), [f64(3, 4).astype(np.float32)],
             lambda x: x.astype(np.float64), name="Cast-up"),
        Spec("Cast", lambda x: tf.cast(x, tf.int32), [f64(3, 4) * 3],
             lambda x: x.astype(np.int32), name="Cast-trunc"),
    ]
)


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_op(spec):
    run_spec(spec)
