"""Sequences: one_hot and range (neither is differentiable)."""
import numpy as np

from ..framework import dtypes, errors
from ..framework.context import name_scope
from ..framework.registry import constant_value, convert_to_tensor, defop
from ..framework.shapes import TensorShape, unknown_shape
from .array_ops import cast
from .op_utils import at_runtime, fold_by_kernel, is_tensor_like, static_int
from .shape_rules import normalize_axis

__all__ = ["one_hot", "range"]


# ---- OneHot / Range (not differentiable) ------------------------------------------------------
def _one_hot_shape(op):
    i, depth = op.inputs[0].shape, constant_value(op.inputs[1])
    if i.dims is None:
        return unknown_shape()
    axis = normalize_axis(op.attrs["axis"], len(i.dims) + 1)
    d = None if depth is None else int(depth)
    return TensorShape(i.dims[:axis] + (d,) + i.dims[axis:])


def _one_hot_kernel(xp, indices, depth, on_value, off_value, axis):
    if depth < 0:
        raise errors.InvalidArgumentError(None, None, f"depth must be non-negative, got {depth}")
    hot = xp.moveaxis(indices[..., None] == xp.arange(int(depth)), -1, axis)
    return xp.where(hot, on_value, off_value).astype(on_value.dtype, copy=False)


OneHot = defop("OneHot", shape=_one_hot_shape, dtype=lambda op: op.inputs[2].dtype,
               kernel=_one_hot_kernel, differentiable=False)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """A new axis (last by default) of size depth: on_value at each index, else off_value."""
    indices = convert_to_tensor(indices)
    if not indices.dtype.is_integer:
        raise TypeError(f"one_hot indices must be integers, got '{indices.name}' of type "
                        f"{indices.dtype.name}")
    given = [v.dtype for v in (on_value, off_value) if is_tensor_like(v)]
    dtype = dtypes.as_dtype(dtype or (given[0] if given else dtypes.float32))
    if any(d is not dtype for d in given):
        raise TypeError(f"on_value/off_value dtypes {[d.name for d in given]} do not match "
                        f"the one_hot dtype {dtype.name}")
    axis = -1 if axis is None else static_int(axis, "one_hot axis")
    if axis < -1:
        raise ValueError(f"one_hot axis must be >= -1, got {axis}")
    with name_scope(name, "one_hot", [indices]) as scope:
        on = convert_to_tensor(1 if on_value is None else on_value, dtype=dtype, name="on_value")
        off = convert_to_tensor(0 if off_value is None else off_value, dtype=dtype,
                                name="off_value")
        depth = cast(convert_to_tensor(depth, name="depth"), dtypes.int32)
        return OneHot(indices, depth, on, off, axis=axis, name=scope)


def _range_length(start, limit, delta):
    start, limit, delta = (np.asarray(v).item() for v in (start, limit, delta))
    if delta == 0:
        raise ValueError(f"Requires delta != 0: {delta}")
    if (delta > 0 and start > limit) or (delta < 0 and start < limit):
        raise ValueError(f"Requires start {'<=' if delta > 0 else '>='} limit when delta "
                         f"{'>' if delta > 0 else '<'} 0: {start}/{limit}")
    return int(np.ceil((limit - start) / delta))


def _range_shape(op):
    values = [constant_value(t) for t in op.inputs]
    return TensorShape([None if any(v is None for v in values) else _range_length(*values)])


def _range_kernel(xp, start, limit, delta):
    n = at_runtime(_range_length, start.item(), limit.item(), delta.item())
    return (start + xp.arange(n, dtype=start.dtype) * delta).astype(start.dtype, copy=False)


Range = defop("Range", shape=_range_shape, kernel=_range_kernel, fold=fold_by_kernel,
              differentiable=False)
_RANGE_DTYPES = [dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64]


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    """TF1's range: without dtype, the widest of the arguments' dtypes (int32 < int64 <
    float32 < float64; Python ints are int32, Python floats float32)."""
    if limit is None:
        start, limit = 0, start
    args = [start, limit, delta]
    if dtype is None:
        found = [convert_to_tensor(a).dtype if is_tensor_like(a) else dtypes.dtype_of_value(a)
                 for a in args]
        if any(d not in _RANGE_DTYPES for d in found):
            raise TypeError(f"tf.range arguments must be int32/int64/float32/float64, got "
                            f"{[d.name for d in found]}")
        dtype = max(found, key=_RANGE_DTYPES.index)
    dtype = dtypes.as_dtype(dtype)
    with name_scope(name, "Range", [a for a in args if is_tensor_like(a)]) as scope:
        tensors = [cast(convert_to_tensor(a), dtype) if is_tensor_like(a) else
                   convert_to_tensor(np.asarray(a).astype(dtype.as_numpy_dtype), name=n)
                   for a, n in zip(args, ("start", "limit", "delta"))]
        return Range(*tensors, name=scope)
