"""`tf.nn`: activations, softmax, bias_add, dropout, moments, top-k. (Losses: loss_ops.)

Kernels are numerically stable (softmax subtracts the row max, log-softmax uses logsumexp).
Every gradient is built from differentiable ops, so second derivatives work.
"""
import numbers

import numpy as np

from ..framework import dtypes
from ..framework.context import name_scope
from ..framework.registry import constant_value, convert_to_tensor, defop
from .array_ops import cast, shape, stop_gradient, zeros_like
from .linalg_ops import matmul
from .manip_ops import expand_dims, squeeze
from .math_ops import (SelectV2, binary_operands, exp, greater, greater_equal, less,
                       logical_and, sigmoid, square, squared_difference)
from .math_ops import abs as abs_
from .op_utils import floating_tensor
from .random_ops import random_uniform
from .reduction_ops import reduce_mean, reduce_sum
from .sequence_ops import one_hot
from .shape_rules import normalize_axis, same_shape

__all__ = [
    "relu", "relu6", "elu", "selu", "softplus", "softsign", "leaky_relu", "softmax",
    "log_softmax", "bias_add", "xw_plus_b", "dropout", "moments", "in_top_k", "top_k",
]


def _gate(cond, dy):
    """dy where `cond` holds, else 0 (a SelectV2, so it stays differentiable in dy)."""
    return SelectV2(cond, dy, zeros_like(dy))


# ---- activations ---------------------------------------------------------------------------
def _activation(type, kernel, grad, floats_only=True, inplace=None):
    op_def = defop(type, shape=same_shape, kernel=kernel, grad=grad, inplace=inplace)

    def fn(features, name=None):
        features = convert_to_tensor(features, name="features")
        return op_def(floating_tensor(features, type) if floats_only else features, name=name)
    fn.__name__ = type.lower()
    return op_def, fn


_SELU_SCALE, _SELU_ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717

# TF's formulation: one fused ReluGrad(dy, y) op (dy where y > 0) instead of compare+select.
ReluGrad = defop("ReluGrad", shape=same_shape,
                 kernel=lambda xp, dy, y: xp.multiply(dy, y > 0, dtype=dy.dtype),
                 inplace=lambda xp, dy, y: xp.multiply(dy, y > 0, out=dy),
                 grad=lambda op, ddy: [ReluGrad(ddy, op.inputs[1]), None])
Relu, relu = _activation("Relu", lambda xp, x: xp.maximum(x, 0),
                         lambda op, dy: [ReluGrad(dy, op.outputs[0])], False,
                         inplace=lambda xp, x: xp.maximum(x, 0, out=x))
Relu6, relu6 = _activation(
    "Relu6", lambda xp, x: xp.clip(x, 0, 6),
    lambda op, dy: [_gate(logical_and(greater(op.inputs[0], 0), less(op.inputs[0], 6)), dy)],
    False)
Elu, elu = _activation(
    "Elu", lambda xp, x: xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0))),
    lambda op, dy: [SelectV2(greater(op.inputs[0], 0), dy, dy * (op.outputs[0] + 1))])
Selu, selu = _activation(
    "Selu", lambda xp, x: _SELU_SCALE * xp.where(x > 0, x, _SELU_ALPHA * xp.expm1(
        xp.minimum(x, 0))),
    lambda op, dy: [SelectV2(greater(op.inputs[0], 0), dy * _SELU_SCALE,
                             dy * (op.outputs[0] + _SELU_SCALE * _SELU_ALPHA))])
Softplus, softplus = _activation("Softplus", lambda xp, x: xp.logaddexp(0, x),
                                 lambda op, dy: [dy * sigmoid(op.inputs[0])])
Softsign, softsign = _activation("Softsign", lambda xp, x: x / (1 + xp.abs(x)),
                                 lambda op, dy: [dy / square(1 + abs_(op.inputs[0]))])

LeakyRelu = defop("LeakyRelu", shape=same_shape,
                  kernel=lambda xp, x, alpha: xp.where(x > 0, x, x * alpha),
                  grad=lambda op, dy: [SelectV2(greater(op.inputs[0], 0), dy,
                                                dy * op.attrs["alpha"])])


def leaky_relu(features, alpha=0.2, name=None):
    features = convert_to_tensor(features, name="features")
    if features.dtype.is_integer:
        features = cast(features, dtypes.float32)
    return LeakyRelu(features, alpha=float(alpha), name=name)


# ---- softmax / log_softmax -----------------------------------------------------------------
def log_softmax_value(xp, x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def _softmax_value(xp, x, axis):
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _softmax_grad(op, dy):
    y, axis = op.outputs[0], op.attrs["axis"]
    return [(dy - reduce_sum(dy * y, axis=axis, keepdims=True)) * y]


def _log_softmax_grad(op, dy):
    axis = op.attrs["axis"]
    return [dy - exp(op.outputs[0]) * reduce_sum(dy, axis=axis, keepdims=True)]


Softmax = defop("Softmax", shape=same_shape, kernel=_softmax_value, grad=_softmax_grad)
LogSoftmax = defop("LogSoftmax", shape=same_shape, kernel=log_softmax_value,
                   grad=_log_softmax_grad)


def softmax_axis(x, axis, dim):
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'.")
    axis = -1 if axis is None and dim is None else (dim if axis is None else axis)
    rank = x.shape.ndims
    if rank == 0:
        raise ValueError(f"'{x.name}' is a scalar: softmax needs a tensor of rank >= 1.")
    return normalize_axis(int(axis), rank, "axis")


def softmax(logits, axis=None, name=None, dim=None):
    logits = floating_tensor(logits, "softmax", name="logits")
    return Softmax(logits, axis=softmax_axis(logits, axis, dim), name=name)


def log_softmax(logits, axis=None, name=None, dim=None):
    logits = floating_tensor(logits, "log_softmax", name="logits")
    return LogSoftmax(logits, axis=softmax_axis(logits, axis, dim), name=name)


# ---- bias_add / xw_plus_b ------------------------------------------------------------------
def _bias_add_shape(op):
    value, bias = (t.shape for t in op.inputs)
    nchw = op.attrs["data_format"] == "NCHW"
    if bias.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {bias.ndims}: the bias of "
                         "tf.nn.bias_add is a vector with one entry per channel")
    if value.ndims is None and nchw:
        raise ValueError("bias_add with data_format='NCHW' needs the rank of value known")
    if value.ndims is None:
        return value
    if value.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {value.ndims}")
    channel = value.dims[1] if nchw else value.dims[-1]
    size = bias.dims[0] if bias.ndims else None
    if channel is not None and size is not None and channel != size:
        raise ValueError(f"Dimensions must be equal, but are {channel} and {size}: the bias "
                         f"needs one entry per channel of value ({channel})")
    return value


def _bias_add_kernel(xp, value, bias, data_format, out=None):
    if data_format == "NCHW":
        bias = bias.reshape((-1,) + (1,) * (value.ndim - 2))
    return xp.add(value, bias, out=out)


def _bias_add_grad(op, dy):
    if op.attrs["data_format"] == "NCHW":
        rank = op.inputs[0].shape.ndims
        return [dy, reduce_sum(dy, axis=[0] + list(range(2, rank)))]
    return [dy, dy]  # autodiff sums the bias gradient back to its shape


BiasAdd = defop("BiasAdd", shape=_bias_add_shape, kernel=_bias_add_kernel,
                inplace=lambda xp, v, b, data_format: _bias_add_kernel(xp, v, b, data_format, v),
                grad=_bias_add_grad, broadcasting=True)


def bias_add(value, bias, data_format=None, name=None):
    """value + bias, the 1-D bias added along the channel (last, or NCHW's second) axis."""
    if data_format not in (None, "NHWC", "NCHW", "N..C", "NC.."):
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    with name_scope(name, "BiasAdd", [value, bias]) as name:
        value, bias = binary_operands(value, bias, "BiasAdd")
        data_format = "NCHW" if data_format in ("NCHW", "NC..") else "NHWC"
        return BiasAdd(value, bias, data_format=data_format, name=name)


def xw_plus_b(x, weights, biases, name=None):
    """matmul(x, weights) + biases."""
    with name_scope(name, "xw_plus_b", [x, weights, biases]) as name:
        return bias_add(matmul(x, weights), biases, name=name)


# ---- dropout, moments -------------------------------------------------------------------
def _dropout_rate(keep_prob, rate):
    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both 'keep_prob' and 'rate'.")
    if keep_prob is not None:
        rate = 1 - keep_prob  # TF1 compat: a Tensor keep_prob gives a top-level `sub` op
    if rate is None:
        raise ValueError("`rate` must be provided. Received: rate=None")
    if isinstance(rate, numbers.Real) and not 0 <= rate < 1:
        raise ValueError(f"`rate` must be a scalar tensor or a float in the range [0, 1). "
                         f"Received: rate={rate}")
    return rate


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Zero each element with probability `rate` (= 1 - keep_prob), scale the rest by
    1 / keep_prob. keep_prob == 1 (a Python number) returns `x` itself."""
    rate = _dropout_rate(keep_prob, rate)
    with name_scope(name, "dropout", [x]):
        x = floating_tensor(x, "dropout (x is scaled)", name="x")
        if isinstance(rate, numbers.Real):
            if rate == 0:
                return x
            scaled = x * convert_to_tensor(1 / (1 - rate), dtype=x.dtype, name="Const")
        else:
            rate = convert_to_tensor(rate, dtype=x.dtype)
            scaled = x / (convert_to_tensor(1, dtype=x.dtype) - rate)
        noise = shape(x) if noise_shape is None else noise_shape
        keep = greater_equal(random_uniform(noise, seed=seed, dtype=x.dtype), rate)
        out = SelectV2(keep, scaled, convert_to_tensor(0, dtype=x.dtype))
        if noise_shape is None:
            out.set_shape(x.shape)
        return out


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """(mean, variance) of `x` over `axes` (population variance)."""
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with name_scope(name, "moments", [x, axes]):
        x = floating_tensor(x, "moments")
        mean = reduce_mean(x, axes, keepdims=True, name="mean")
        variance = reduce_mean(squared_difference(x, stop_gradient(mean)), axes,
                               keepdims=True, name="variance")
        if keep:
            return mean, variance
        return squeeze(mean, axes), squeeze(variance, axes)


def one_hot_like(indices, x):
    """one_hot(indices) over x's last dimension, in x's dtype."""
    depth = x.shape[-1].value if x.shape.dims else None
    return one_hot(indices, shape(x)[-1] if depth is None else depth, dtype=x.dtype)


# ---- in_top_k / top_k ----------------------------------------------------------------------
def _in_top_k_kernel(xp, predictions, targets, k):
    n = predictions.shape[1]
    valid = (targets >= 0) & (targets < n)
    safe = xp.where(valid, targets, 0).astype(np.intp)
    target = xp.take_along_axis(predictions, safe[:, None], axis=1)
    higher = (predictions > target).sum(axis=1)
    return valid & xp.isfinite(predictions).all(axis=1) & (higher < k)


def _in_top_k_shape(op):
    predictions, targets = op.inputs[0].shape, op.inputs[1].shape
    if predictions.ndims not in (None, 2) or targets.ndims not in (None, 1):
        raise ValueError(f"in_top_k needs predictions of rank 2 and targets of rank 1, got "
                         f"shapes {predictions} and {targets}")
    return predictions.with_rank(2)[:1].merge_with(targets)


InTopKV2 = defop("InTopKV2", shape=_in_top_k_shape, dtype=lambda op: dtypes.bool,
                 kernel=_in_top_k_kernel, differentiable=False)


def in_top_k(predictions, targets, k, name=None):
    """Whether each target is among the k largest predictions of its row. Ties count in:
    a target is in the top k when fewer than k predictions are strictly greater."""
    with name_scope(name, "in_top_k", [predictions, targets]):
        targets = convert_to_tensor(targets, name="targets")
        if targets.dtype not in (dtypes.int32, dtypes.int64):
            raise TypeError(f"in_top_k targets must be int32 or int64, got {targets.dtype.name}")
        return InTopKV2(convert_to_tensor(predictions, name="predictions"), targets,
                        convert_to_tensor(k, dtype=targets.dtype, name="k"))


def _top_k_shape(op):
    x, k = op.inputs[0].shape, constant_value(op.inputs[1])
    if x.ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    if x.dims and k is not None and x.dims[-1] is not None and x.dims[-1] < k:
        raise ValueError(f"input must have at least k columns. Had {x.dims[-1]}, needed {k}")
    return [x[:-1].concatenate([None if k is None else int(k)])] * 2


def _top_k_kernel(xp, x, k, sorted):
    order = xp.argsort(-x, axis=-1, kind="stable")[..., :int(k)]  # ties: lower index first
    return xp.take_along_axis(x, order, axis=-1), order.astype(np.int32)


def _top_k_grad(op, dvalues, dindices):
    hot = one_hot_like(op.outputs[1], op.inputs[0])
    return [reduce_sum(expand_dims(dvalues, -1) * hot, axis=-2), None]  # [..., k, n] -> n


TopKV2 = defop("TopKV2", shape=_top_k_shape, kernel=_top_k_kernel, grad=_top_k_grad,
               dtype=lambda op: [op.inputs[0].dtype, dtypes.int32])


def top_k(input, k=1, sorted=True, name=None):
    """(values, indices) of the k largest entries along the last axis, largest first."""
    return TopKV2(convert_to_tensor(input), convert_to_tensor(k, dtype=dtypes.int32),
                  sorted=bool(sorted), name=name)
