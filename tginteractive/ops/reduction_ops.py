"""Reductions (sum/mean/max/min/prod/any/all), arg-max/min. Axes are static Python ints."""
import numpy as np

from ..framework import dtypes
from ..framework.registry import constant_value, convert_to_tensor, defop
from ..framework.shapes import TensorShape
from .array_ops import BroadcastLike, broadcast_to, cast, ones_like, reshape, shape, zeros_like
from .math_ops import equal, where
from .shape_rules import normalize_axis, reduced_shape

__all__ = [
    "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any",
    "reduce_all", "argmax", "argmin", "arg_max", "arg_min",
]


def _reduce_shape(op):
    return reduced_shape(op.inputs[0].shape, op.attrs["axis"], op.attrs["keepdims"])


def _kept_shape(op):
    """The input's shape with reduced axes set to 1: a constant when static, else a tensor."""
    x, axis = op.inputs[0], op.attrs["axis"]
    dims = x.shape.dims
    if dims is not None and None not in dims:
        return [1 if axis is None or i in axis else d for i, d in enumerate(dims)]
    return KeptShape(shape(x), axis=axis)


KeptShape = defop("KeptShape", shape=lambda op: op.inputs[0].shape,
                  differentiable=False,
                  kernel=lambda xp, s, axis: xp.asarray(
                      [1 if axis is None or i in axis or i - len(s) in axis else d
                       for i, d in enumerate(s.tolist())], dtype=s.dtype))


def _spread(op, dy):
    """dy broadcast back to the reduction's input shape."""
    x = op.inputs[0]
    if not op.attrs["keepdims"] and op.outputs[0].shape.ndims != 0:
        dy = reshape(dy, _kept_shape(op))
    if x.shape.is_fully_defined():
        return broadcast_to(dy, x.shape.as_list())
    return BroadcastLike(dy, x)


ReducedCount = defop("ReducedCount", shape=lambda op: (), differentiable=False,
                     kernel=lambda xp, x, y: xp.asarray(x.size // max(y.size, 1),
                                                        dtype=x.dtype))


def _reduced_count(op):
    x, y = op.inputs[0], op.outputs[0]
    n, m = x.shape.num_elements(), y.shape.num_elements()
    if n is not None and m is not None:
        return np.asarray(n // max(m, 1), dtype=x.dtype.as_numpy_dtype)
    return ReducedCount(x, y)


def _minmax_grad(op, dy):
    x, y = op.inputs[0], op.outputs[0]
    y_full = _spread(op, y)
    hits = cast(equal(x, y_full), x.dtype)
    count = Sum(hits, axis=op.attrs["axis"], keepdims=True)
    return [hits / count * _spread(op, dy)]


def _prod_grad(op, dy):
    x = op.inputs[0]
    y_full = _spread(op, op.outputs[0])
    # exact where x != 0; zeros are handled by recomputing the product without that element
    safe = where(equal(x, 0), ones_like(x), x)
    zero = cast(equal(x, 0), x.dtype)
    zeros_in_slice = Sum(zero, axis=op.attrs["axis"], keepdims=True)
    prod_nonzero = Prod(safe, axis=op.attrs["axis"], keepdims=True)
    with_zero = where(equal(zeros_in_slice, 1), prod_nonzero * zero,
                      zeros_like(prod_nonzero * zero))
    grad = where(equal(zeros_in_slice, 0), y_full / safe, with_zero)
    return [grad * _spread(op, dy)]


def _rdef(type, kernel, grad, dtype=None, overrides=None):
    return defop(type, shape=_reduce_shape, kernel=kernel, grad=grad, dtype=dtype,
                 differentiable=grad is not None, overrides=overrides)


Sum = _rdef("Sum", lambda xp, x, axis, keepdims: _same_dtype(x.sum(axis=axis, keepdims=keepdims),
                                                              x),
            lambda op, dy: [_spread(op, dy)])
Mean = _rdef("Mean", lambda xp, x, axis, keepdims: _mean(xp, x, axis, keepdims),
             lambda op, dy: [_spread(op, dy / _reduced_count(op))])


def _extreme(method, float_identity, int_limit):
    """max/min whose empty reductions give TF's identity (-inf/+inf, or the integer limit)."""
    def kernel(xp, x, axis, keepdims):
        if x.size:
            return getattr(x, method)(axis=axis, keepdims=keepdims)
        start = float_identity if x.dtype.kind == "f" else getattr(xp.iinfo(x.dtype), int_limit)
        return getattr(x, method)(axis=axis, keepdims=keepdims, initial=start)
    return kernel


def _extreme_cupy(method, float_identity, int_limit):
    """CuPy override of _extreme: CuPy's max/min take no `initial`, so an empty reduction
    is a full array of the identity."""
    def kernel(xp, x, axis, keepdims):
        if x.size:
            return getattr(x, method)(axis=axis, keepdims=keepdims)
        start = float_identity if x.dtype.kind == "f" else getattr(xp.iinfo(x.dtype), int_limit)
        axes = range(x.ndim) if axis is None else {a % x.ndim for a in axis}
        shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)
                      if keepdims or i not in axes)
        return xp.full(shape, start, dtype=x.dtype)
    return kernel


Max = _rdef("Max", _extreme("max", -np.inf, "min"), _minmax_grad,
            overrides={"cupy": _extreme_cupy("max", -np.inf, "min")})  # CuPy: no initial=
Min = _rdef("Min", _extreme("min", np.inf, "max"), _minmax_grad,
            overrides={"cupy": _extreme_cupy("min", np.inf, "max")})
Prod = _rdef("Prod", lambda xp, x, axis, keepdims: _same_dtype(
    x.prod(axis=axis, keepdims=keepdims), x),
             _prod_grad)
Any = _rdef("Any", lambda xp, x, axis, keepdims: xp.any(x, axis=axis, keepdims=keepdims),
            None)
All = _rdef("All", lambda xp, x, axis, keepdims: xp.all(x, axis=axis, keepdims=keepdims),
            None)


def _same_dtype(out, x):
    """NumPy widens small ints in sum/prod (and divides ints into floats); TF keeps the dtype.
    Kernels call array methods (x.sum) rather than xp.sum: half the Python overhead."""
    return out if out.dtype == x.dtype else out.astype(x.dtype)


def _mean(xp, x, axis, keepdims):
    if x.dtype.kind in "iu":  # TF: integer mean is integer (truncated) division
        total = xp.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
        count = x.size // max(total.size, 1) if x.size else 1
        return (total // count if x.dtype.kind == "u" else
                xp.trunc(total / count).astype(x.dtype))
    total = x.sum(axis=axis, keepdims=keepdims)  # np.mean's Python overhead is ~5us
    count = x.size // total.size if total.size else 1  # an empty input gives 0/0 = NaN, as TF
    return _same_dtype(total / count, x)


def _static_axis(input, axis, what="axis"):
    if axis is None:
        return None
    value = constant_value(axis) if not isinstance(axis, (int, list, tuple, np.ndarray,
                                                          np.integer)) else axis
    if value is None:
        raise NotImplementedError(f"The reduction axis must be known when the graph is built "
                                  f"(got tensor '{axis.name}'); pass Python ints.")
    rank = input.shape.ndims
    axes = [int(a) for a in np.reshape(np.asarray(value), [-1])]
    return tuple(sorted({normalize_axis(a, rank, what) for a in axes}))


def _reducer(op_def, default_name, bool_only=False):
    def fn(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
           keep_dims=None):
        x = convert_to_tensor(input_tensor)
        if bool_only and x.dtype is not dtypes.bool:
            raise TypeError(f"{default_name} takes a bool tensor; '{x.name}' is "
                            f"{x.dtype.name}.")
        if axis is not None and reduction_indices is not None:
            raise ValueError("Can not specify both 'axis' and 'reduction_indices'.")
        axis = axis if axis is not None else reduction_indices
        keepdims = bool(keepdims if keepdims is not None else keep_dims)
        return op_def(x, axis=_static_axis(x, axis), keepdims=keepdims,
                      name=name or default_name)
    fn.__name__ = default_name
    return fn


reduce_sum = _reducer(Sum, "Sum")
reduce_mean = _reducer(Mean, "Mean")
reduce_max = _reducer(Max, "Max")
reduce_min = _reducer(Min, "Min")
reduce_prod = _reducer(Prod, "Prod")
reduce_any = _reducer(Any, "Any", bool_only=True)
reduce_all = _reducer(All, "All", bool_only=True)


def _arg_shape(op):
    x = op.inputs[0].shape
    if x.dims is None:
        return TensorShape(None)
    return TensorShape(d for i, d in enumerate(x.dims) if i != op.attrs["axis"])


ArgMax = defop("ArgMax", shape=_arg_shape, dtype=lambda op: op.attrs["output_type"],
               differentiable=False,
               kernel=lambda xp, x, axis, output_type: xp.argmax(x, axis=axis).astype(
                   output_type.as_numpy_dtype))
ArgMin = defop("ArgMin", shape=_arg_shape, dtype=lambda op: op.attrs["output_type"],
               differentiable=False,
               kernel=lambda xp, x, axis, output_type: xp.argmin(x, axis=axis).astype(
                   output_type.as_numpy_dtype))


def _arg(op_def, default_name):
    def fn(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):
        x = convert_to_tensor(input)
        axis = dimension if axis is None else axis
        axis = 0 if axis is None else axis
        (axis,) = _static_axis(x, axis)
        return op_def(x, axis=axis, output_type=dtypes.as_dtype(output_type),
                      name=name or default_name)
    return fn


argmax = arg_max = _arg(ArgMax, "ArgMax")
argmin = arg_min = _arg(ArgMin, "ArgMin")
