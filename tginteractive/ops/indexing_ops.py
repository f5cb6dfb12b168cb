"""Indexing: `Tensor.__getitem__`/strided_slice, slice, gather and gather_nd.

Gradients are dense: gather's gradient is a scatter-add of dy into zeros of the params' shape
(GatherGrad), not TF's IndexedSlices, so an embedding table's gradient is as big as the table.
"""
import builtins
import functools
import numbers

import numpy as np

from ..framework import dtypes, errors, graph
from ..framework.registry import constant_value, convert_to_tensor, defop
from ..framework.shapes import TensorShape, unknown_shape
from .array_ops import shape
from .manip_ops import int32_tensor, stack
from .op_utils import fold_by_kernel, is_tensor_like, partial_ints, shape_entry, static_int
from .pad_ops import Pad
from .shape_rules import normalize_axis

__all__ = ["strided_slice", "slice", "gather", "gather_nd", "newaxis"]
newaxis = None
_FULL = ("slice", None, None, None)
_BAD_INDEX = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
              "tf.int32/tf.int64 tensors are valid indices, got {!r}")


# ---- StridedSlice: the static index spec -----------------------------------------------------
# A spec is a tuple of ("index", i) / ("slice", start, stop, step) / ("newaxis",) /
# ("ellipsis",); each i/start/stop/step is an int, None, or ("in", k): the op's input 1 + k.
def _parse_key(key):
    """(spec, tensors) for a NumPy-style index `key`; TypeError for non-integer indices."""
    tensors = []

    def ref(v):
        if is_tensor_like(v):
            t = convert_to_tensor(v)
            if not t.dtype.is_integer or t.shape.ndims not in (0, None):
                raise TypeError(_BAD_INDEX.format(v))
            tensors.append(t)
            return ("in", len(tensors) - 1)
        if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iu":
            v = int(v)
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral)):
            raise TypeError(_BAD_INDEX.format(v))
        return None if v is None else int(v)

    spec = []
    for k in key if isinstance(key, tuple) else (key,):
        if k is Ellipsis or k is None:
            spec.append(("ellipsis",) if k is Ellipsis else ("newaxis",))
        elif isinstance(k, builtins.slice):
            spec.append(("slice", ref(k.start), ref(k.stop), ref(k.step)))
            if spec[-1][3] == 0:
                raise ValueError("slice step cannot be zero")
        else:
            spec.append(("index", ref(k)))
    if spec.count(("ellipsis",)) > 1:
        raise ValueError("An index can only have a single ellipsis ('...')")
    return tuple(spec), tensors


def _expanded(spec, rank):
    """`spec` with its ellipsis (or the implied trailing one) replaced by full slices."""
    used = sum(e[0] in ("index", "slice") for e in spec)
    if used > rank:
        raise ValueError(f"Index out of range: {used} indices for a tensor of rank {rank}")
    fill = (_FULL,) * (rank - used)
    if ("ellipsis",) in spec:
        at = spec.index(("ellipsis",))
        return spec[:at] + fill + spec[at + 1:]
    return spec + fill


def _slice_length(d, start, stop, step):
    step = 1 if step is None else step
    if d is None or "?" in (start, stop, step):
        return d if start is None and stop is None and step in (1, -1) else None
    return len(builtins.range(*builtins.slice(start, stop, step).indices(d)))


def _strided_slice_shape(op):
    x = op.inputs[0].shape
    if x.dims is None:
        return unknown_shape()
    known = [constant_value(t) for t in op.inputs[1:]]

    def value(v):  # an int, None (absent) or "?" (a tensor unknown at build time)
        if isinstance(v, tuple):
            return "?" if known[v[1]] is None else int(known[v[1]])
        return v
    dims, axis = [], 0
    for entry in _expanded(op.attrs["spec"], len(x.dims)):
        if entry[0] == "newaxis":
            dims.append(1)
            continue
        d = x.dims[axis]
        if entry[0] == "slice":
            dims.append(_slice_length(d, *(value(v) for v in entry[1:])))
        elif d is not None and value(entry[1]) != "?" and not -d <= value(entry[1]) < d:
            raise ValueError(f"slice index {value(entry[1])} of dimension {axis} out of bounds")
        axis += 1
    return TensorShape(dims)


def _key(spec, values):
    """The NumPy index for `spec`, with the index tensors' run-time `values` filled in."""
    def get(v):
        return int(values[v[1]]) if isinstance(v, tuple) else v
    return tuple(Ellipsis if e[0] == "ellipsis" else None if e[0] == "newaxis" else
                 get(e[1]) if e[0] == "index" else builtins.slice(*map(get, e[1:]))
                 for e in spec)


_static_key = functools.lru_cache(maxsize=4096)(lambda spec: _key(spec, ()))


def _strided_slice_kernel(xp, x, *index_values, spec):
    key = _key(spec, index_values) if index_values else _static_key(spec)
    try:
        return xp.asarray(x[key])
    except IndexError as e:
        raise errors.InvalidArgumentError(None, None, f"{e} (indexing shape {list(x.shape)} "
                                          f"with {key})") from None


def _strided_slice_grad_kernel(xp, dy, like, *index_values, spec):
    out = xp.zeros(like.shape, dtype=dy.dtype)
    out[_key(spec, index_values)] = dy
    return out


def _fold_strided_slice(op):
    """Also knows `tf.shape(x)[i]` when only dim i of x is known at build time."""
    value = fold_by_kernel(op)
    entry = shape_entry(op.outputs[0]) if value is None else None
    if entry is not None and entry[0].shape.dims[entry[1]] is not None:
        return np.array(entry[0].shape.dims[entry[1]], dtype=op.inputs[0].dtype.as_numpy_dtype)
    return value


StridedSlice = defop(
    "StridedSlice", shape=_strided_slice_shape, kernel=_strided_slice_kernel, aliases=True,
    fold=_fold_strided_slice,
    grad=lambda op, dy: [StridedSliceGrad(dy, op.inputs[0], *op.inputs[1:], spec=op.attrs[
        "spec"])] + [None] * (len(op.inputs) - 1))
# dy assigned into zeros shaped like input 1 (the sliced tensor, lending its shape only)
StridedSliceGrad = defop(
    "StridedSliceGrad", shape=lambda op: op.inputs[1].shape, kernel=_strided_slice_grad_kernel,
    grad=lambda op, dy: [StridedSlice(dy, *op.inputs[2:], spec=op.attrs["spec"])]
    + [None] * (len(op.inputs) - 1))


def _getitem(tensor, key, name="strided_slice"):
    spec, tensors = _parse_key(key)
    return StridedSlice(convert_to_tensor(tensor), *tensors, spec=spec, name=name)


graph._OPERATORS["__getitem__"] = _getitem


def _entries(value, what):
    if value is None or isinstance(value, (list, tuple)):
        return list(value or ())
    known = constant_value(value) if is_tensor_like(value) else np.asarray(value)
    if known is not None:
        return [int(v) for v in np.reshape(known, [-1])]
    n = convert_to_tensor(value).shape.dims
    if n is None or len(n) != 1 or n[0] is None:
        raise ValueError(f"strided_slice needs {what} of static length, got {value!r}")
    return [value[i] for i in builtins.range(n[0])]


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """TF's strided_slice: bit i of a mask changes how entry i of begin/end/strides is read."""
    b, e = _entries(begin, "begin"), _entries(end, "end")
    s = _entries(strides, "strides") if strides is not None else [1] * len(b)
    if not len(b) == len(e) == len(s):
        raise ValueError(f"begin, end and strides must have the same length, got {len(b)}, "
                         f"{len(e)} and {len(s)}")
    key = []
    for i in builtins.range(len(b)):
        bit = 1 << i
        if ellipsis_mask & bit or new_axis_mask & bit:
            key.append(Ellipsis if ellipsis_mask & bit else None)
        elif shrink_axis_mask & bit:
            key.append(b[i])
        else:
            key.append(builtins.slice(None if begin_mask & bit else b[i],
                                      None if end_mask & bit else e[i], s[i]))
    return _getitem(input_, tuple(key), name=name or "strided_slice")


# ---- Slice (gradient: Pad with zeros; Pad's gradient is a Slice) -------------------------
def _slice_shape(op):
    x, begin_t, size_t = op.inputs
    lengths = [t.shape.dims[0] for t in (begin_t, size_t) if t.shape.ndims == 1]
    n = next((k for k in lengths if k is not None), x.shape.ndims)
    if n is None:
        return unknown_shape()
    if x.shape.ndims not in (None, n):
        raise ValueError(f"Expected begin and size arguments to be 1-D tensors of size "
                         f"{x.shape.ndims}, but got length {n} instead")
    dims = x.shape.dims or (None,) * n
    out = []
    for i, (d, b, s) in enumerate(zip(dims, partial_ints(begin_t, n), partial_ints(size_t, n))):
        if d is not None and b is not None and s is not None and not (
                0 <= b <= d and (s == -1 or 0 <= s <= d - b)):
            raise ValueError(f"Expected begin[{i}] in [0, {d}] and size[{i}] in "
                             f"[0, {d} - begin], but got begin {b} and size {s}")
        out.append((None if d is None or b is None else d - b) if s == -1 else s)
    return TensorShape(out)


def _slice_kernel(xp, x, begin, size):
    if begin.shape != (x.ndim,) or size.shape != (x.ndim,):
        raise errors.InvalidArgumentError(None, None, f"Expected begin and size arguments to "
                                          f"be 1-D tensors of size {x.ndim}")
    key = []
    for i, (d, b, s) in enumerate(zip(x.shape, begin.tolist(), size.tolist())):
        e = d if s == -1 else b + s
        if not 0 <= b <= e <= d:
            raise errors.InvalidArgumentError(None, None, f"Expected begin[{i}] in [0, {d}] "
                                              f"and size[{i}] in [0, {d} - begin], but got "
                                              f"begin {b} and size {s}")
        key.append(builtins.slice(b, e))
    return x[tuple(key)]


def _slice_grad(op, dy):
    x, begin, _ = op.inputs
    after = shape(x) - begin - shape(op.outputs[0])
    return [Pad(dy, stack([begin, after], axis=1), constant_values=0), None, None]


Slice = defop("Slice", shape=_slice_shape, kernel=_slice_kernel, aliases=True,
              fold=fold_by_kernel, grad=_slice_grad)


def slice(input_, begin, size, name=None):  # noqa: A001 - TF's public name
    """input_[begin[i] : begin[i] + size[i]] on every dim; size -1 means "to the end"."""
    return Slice(convert_to_tensor(input_), int32_tensor(begin, "begin"),
                 int32_tensor(size, "size"), name=name or "Slice")


# ---- GatherV2 / GatherGrad (a dense scatter-add) ---------------------------------------------
def _check_indices(xp, indices, limit):
    bad = (indices < 0) | (indices >= limit)
    if bad.any():
        pos = tuple(int(v) for v in xp.argwhere(bad)[0])
        where = f"[{','.join(map(str, pos))}]" if pos else ""
        raise errors.InvalidArgumentError(None, None, f"indices{where} = {int(indices[pos])} "
                                          f"is not in [0, {limit})")


def _gather_key(xp, params_shape, indices, axis, batch_dims):
    """(axis, key): params moved so `axis` follows the batch dims, indexed by `key`, gives
    batch + indices' other dims + params' dims between batch and axis + the rest."""
    axis = axis % len(params_shape)
    _check_indices(xp, indices, params_shape[axis])
    extra = indices.ndim - batch_dims
    grids = tuple(xp.arange(n).reshape((1,) * j + (n,) + (1,) * (batch_dims - j - 1 + extra))
                  for j, n in enumerate(params_shape[:batch_dims]))
    return axis, grids + (indices,)


def _gather_kernel(xp, params, indices, axis, batch_dims):
    axis, key = _gather_key(xp, params.shape, indices, axis, batch_dims)
    out = xp.asarray(xp.moveaxis(params, axis, batch_dims)[key])
    k, mid = indices.ndim, axis - batch_dims
    return xp.moveaxis(out, list(builtins.range(k, k + mid)),
                       list(builtins.range(batch_dims, batch_dims + mid)))


def _gather_grad_kernel(xp, dy, indices, like, axis, batch_dims):
    return _gather_grad(xp, dy, indices, like, axis, batch_dims, xp.add.at)


def _gather_grad(xp, dy, indices, like, axis, batch_dims, add_at):
    """Dense gradient of a gather: dy scatter-added into zeros of params' shape."""
    out = xp.zeros(like.shape, dtype=dy.dtype)
    axis, key = _gather_key(xp, like.shape, indices, axis, batch_dims)
    k, mid = indices.ndim, axis - batch_dims
    dy = xp.moveaxis(dy, list(builtins.range(batch_dims, batch_dims + mid)),
                     list(builtins.range(k, k + mid)))
    add_at(xp.moveaxis(out, axis, batch_dims), key, dy)
    return out


# ---- CuPy override: np.add.at -> cupyx.scatter_add (as the `ndarray.scatter_add` method, so
# ops/ never imports CuPy). CUDA's atomicAdd covers only these dtypes; the others (int64,
# int8/16, uint8/16, complex) are added on the host: rare, correct, slow.
_ATOMIC_ADD_DTYPES = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64,
                                                      np.int32, np.uint32, np.uint64))


def scatter_add_cupy(xp, target, key, values):
    """np.add.at(target, key, values) for CuPy arrays (`target` may be a view). The order of
    float additions into one element is unspecified on a GPU (last-bit differences)."""
    if target.dtype in _ATOMIC_ADD_DTYPES:
        target.scatter_add(key, values)
        return
    keys = key if isinstance(key, tuple) else (key,)
    host = xp.asnumpy(target)
    np.add.at(host, tuple(xp.asnumpy(k) if isinstance(k, xp.ndarray) else k for k in keys),
              xp.asnumpy(values))
    target[...] = xp.asarray(host)


def _gather_grad_kernel_cupy(xp, dy, indices, like, axis, batch_dims):
    return _gather_grad(xp, dy, indices, like, axis, batch_dims,
                        lambda out, key, dy: scatter_add_cupy(xp, out, key, dy))


def _gather_shape(op):
    p, i = (t.shape for t in op.inputs[:2])
    bd = op.attrs["batch_dims"]
    if p.dims is None or i.dims is None:
        return unknown_shape()
    axis = normalize_axis(op.attrs["axis"], len(p.dims))
    if not bd <= min(axis, len(i.dims)):
        raise ValueError(f"batch_dims ({bd}) must be <= axis ({axis}) and <= the rank of "
                         f"indices ({len(i.dims)})")
    TensorShape(p.dims[:bd]).merge_with(TensorShape(i.dims[:bd]))
    return TensorShape(p.dims[:axis] + i.dims[bd:] + p.dims[axis + 1:])


GatherV2 = defop("GatherV2", shape=_gather_shape, kernel=_gather_kernel,
                 grad=lambda op, dy: [GatherGrad(dy, op.inputs[1], op.inputs[0], **op.attrs),
                                      None])
# dy scatter-added into zeros shaped like input 2 (the params, lending their shape only)
GatherGrad = defop("GatherGrad", shape=lambda op: op.inputs[2].shape,
                   kernel=_gather_grad_kernel,
                   overrides={"cupy": _gather_grad_kernel_cupy},  # CuPy: no add.at dtypes
                   grad=lambda op, dy: [GatherV2(dy, op.inputs[1], **op.attrs), None, None])


def _indices(indices, op_type):
    indices = convert_to_tensor(indices)
    if indices.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter 'indices' of {op_type} has DataType "
                        f"{indices.dtype.name} not in list of allowed values: int32, int64")
    return indices


def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0):
    """params gathered along `axis` (default: batch_dims); indices out of [0, dim) fail at
    run time with InvalidArgumentError."""
    params, indices = convert_to_tensor(params), _indices(indices, "GatherV2")
    batch_dims = static_int(batch_dims, "batch_dims")
    if batch_dims < 0:
        if indices.shape.ndims is None:
            raise ValueError("A negative batch_dims needs indices of known rank.")
        batch_dims += indices.shape.ndims
    axis = batch_dims if axis is None else static_int(axis, "gather axis")
    return GatherV2(params, indices, axis=axis, batch_dims=batch_dims, name=name or "GatherV2")


# ---- GatherNd / GatherNdGrad --------------------------------------------------------------
def _nd_key(xp, params_shape, indices):
    k = indices.shape[-1]
    if not 1 <= k <= len(params_shape):
        raise errors.InvalidArgumentError(None, None, f"indices.shape[-1] must be in [1, "
                                          f"{len(params_shape)}], got {k}")
    bad = ((indices < 0) | (indices >= xp.asarray(params_shape[:k]))).any(axis=-1)
    if bad.any():
        pos = tuple(int(v) for v in xp.argwhere(bad)[0])
        raise errors.InvalidArgumentError(None, None, f"indices{list(pos)} = "
                                          f"{indices[pos].tolist()} does not index into param "
                                          f"shape {list(params_shape)}")
    return tuple(xp.moveaxis(indices, -1, 0))


def _gather_nd_grad_kernel(xp, dy, indices, like):
    out = xp.zeros(like.shape, dtype=dy.dtype)
    xp.add.at(out, _nd_key(xp, like.shape, indices), dy)
    return out


def _gather_nd_grad_kernel_cupy(xp, dy, indices, like):  # CuPy override: see scatter_add_cupy
    out = xp.zeros(like.shape, dtype=dy.dtype)
    scatter_add_cupy(xp, out, _nd_key(xp, like.shape, indices), dy)
    return out


def _gather_nd_shape(op):
    p, i = (t.shape for t in op.inputs[:2])
    if p.dims is None or i.dims is None or not i.dims or i.dims[-1] is None:
        return unknown_shape()
    if not 1 <= i.dims[-1] <= len(p.dims):
        raise ValueError(f"indices.shape[-1] must be in [1, {len(p.dims)}] (the rank of "
                         f"params), got {i.dims[-1]}")
    return TensorShape(i.dims[:-1] + p.dims[i.dims[-1]:])


GatherNd = defop("GatherNd", shape=_gather_nd_shape,
                 kernel=lambda xp, p, i: xp.asarray(p[_nd_key(xp, p.shape, i)]),
                 grad=lambda op, dy: [GatherNdGrad(dy, op.inputs[1], op.inputs[0]), None])
GatherNdGrad = defop("GatherNdGrad", shape=lambda op: op.inputs[2].shape,
                     kernel=_gather_nd_grad_kernel,
                     overrides={"cupy": _gather_nd_grad_kernel_cupy},  # CuPy: scatter_add
                     grad=lambda op, dy: [GatherNd(dy, op.inputs[1]), None, None])


def gather_nd(params, indices, name=None, batch_dims=0):
    if batch_dims:
        raise NotImplementedError("gather_nd with batch_dims != 0 is not supported.")
    return GatherNd(convert_to_tensor(params), _indices(indices, "GatherNd"),
                    name=name or "GatherNd")
