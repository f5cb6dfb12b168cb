"""Shape manipulation: transpose, expand_dims/squeeze, concat/split, stack/unstack, tile,
reverse, meshgrid. Axes, perms and split sizes are static Python ints (attrs); `multiples` is
an int tensor whose values, when known at build time, give static shapes. (tf.pad: pad_ops.)"""
import numpy as np

from ..framework import dtypes, errors
from ..framework.context import name_scope
from ..framework.registry import constant_value, convert_to_tensor, defop
from ..framework.shapes import TensorShape, unknown_shape
from .array_ops import broadcast_to, cast, identity, reshape, shape, size
from .op_utils import (as_list, fold_by_kernel, is_tensor_like, kernel_axis, kernel_outputs,
                       partial_ints,
                       same_dtype, static_int, static_ints)
from .shape_rules import merged_shape, normalize_axis

__all__ = [
    "transpose", "expand_dims", "squeeze", "concat", "split", "stack", "unstack", "tile",
    "reverse", "reverse_v2", "meshgrid",
]


def _reshape_like(dy, x):
    return reshape(dy, x.shape.as_list() if x.shape.is_fully_defined() else shape(x))


# ---- Transpose ----------------------------------------------------------------------------
def _transpose_shape(op):
    x, perm = op.inputs[0].shape, op.attrs["perm"]
    if perm is None:
        return unknown_shape() if x.dims is None else TensorShape(x.dims[::-1])
    if sorted(perm) != list(range(len(perm))):
        raise ValueError(f"perm {list(perm)} is not a permutation of 0..{len(perm) - 1}")
    if x.dims is None:
        return unknown_shape(len(perm))
    if len(perm) != len(x.dims):
        raise ValueError(f"Dimension must be {len(x.dims)} but is {len(perm)}")
    return TensorShape(x.dims[p] for p in perm)


def _transpose_kernel(xp, x, perm, conjugate):
    y = xp.transpose(x, perm)
    return xp.conj(y) if conjugate and y.dtype.kind == "c" else y


Transpose = defop("Transpose", shape=_transpose_shape, kernel=_transpose_kernel, aliases=True,
                  grad=lambda op, dy: [Transpose(
                      dy, perm=None if op.attrs["perm"] is None else
                      tuple(int(i) for i in np.argsort(op.attrs["perm"])),
                      conjugate=op.attrs["conjugate"])])


def transpose(a, perm=None, name="transpose", conjugate=False):
    """Permute dimensions; perm=None reverses them (works even when the rank is unknown)."""
    perm = None if perm is None else static_ints(perm, "transpose perm")
    return Transpose(convert_to_tensor(a), perm=perm, conjugate=bool(conjugate), name=name)


# ---- ExpandDims / Squeeze -----------------------------------------------------------------
def _expand_dims_shape(op):
    x = op.inputs[0].shape
    if x.dims is None:
        return unknown_shape()
    axis = normalize_axis(op.attrs["axis"], len(x.dims) + 1)
    return TensorShape(x.dims[:axis] + (1,) + x.dims[axis:])


ExpandDims = defop("ExpandDims", shape=_expand_dims_shape, aliases=True,
                   kernel=lambda xp, x, axis: xp.expand_dims(x, axis),
                   grad=lambda op, dy: [_reshape_like(dy, op.inputs[0])])


def expand_dims(input, axis=None, name=None, dim=None):
    if axis is not None and dim is not None:
        raise ValueError("Can't specify both 'dim' and 'axis'.")
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return ExpandDims(convert_to_tensor(input), axis=static_int(axis, "expand_dims axis"),
                      name=name or "ExpandDims")


def _squeeze_shape(op):
    x = op.inputs[0].shape
    if x.dims is None:
        return unknown_shape()
    axes = {normalize_axis(a, len(x.dims)) for a in op.attrs["squeeze_dims"]}
    for a in sorted(axes):
        if x.dims[a] not in (1, None):
            raise ValueError(f"Can not squeeze dim[{a}], expected a dimension of 1, "
                             f"got {x.dims[a]}")
    if not axes and None in x.dims:
        return unknown_shape()
    return TensorShape(d for i, d in enumerate(x.dims) if (i not in axes if axes else d != 1))


def _squeeze_kernel(xp, x, squeeze_dims):
    axes = {kernel_axis(a, x.ndim, "Squeeze") for a in squeeze_dims}
    for a in sorted(axes):
        if x.shape[a] != 1:
            raise errors.InvalidArgumentError(None, None, f"Can not squeeze dim[{a}], "
                                              f"expected a dimension of 1, got {x.shape[a]}")
    return xp.reshape(x, tuple(d for i, d in enumerate(x.shape)
                               if (i not in axes if axes else d != 1)))


Squeeze = defop("Squeeze", shape=_squeeze_shape, kernel=_squeeze_kernel, aliases=True,
                grad=lambda op, dy: [_reshape_like(dy, op.inputs[0])])


def squeeze(input, axis=None, name=None, squeeze_dims=None):
    if axis is not None and squeeze_dims is not None:
        raise ValueError("Cannot specify both 'squeeze_dims' and 'axis'")
    axis = squeeze_dims if axis is None else axis
    axes = () if axis is None else static_ints(axis, "squeeze axis")
    return Squeeze(convert_to_tensor(input), squeeze_dims=axes, name=name or "Squeeze")


# ---- ConcatV2 (gradient: SplitLike, which splits dy like the inputs) --------------------
def _concat_shape(op):
    rest, total, axis = unknown_shape(), 0, op.attrs["axis"]
    for s in (t.shape for t in op.inputs):  # merge all but the axis dim; add up the axis dim
        if s.dims is None:
            total = None
            continue
        if not s.dims:
            raise ValueError("Can't concatenate scalars (use tf.stack instead)")
        axis = normalize_axis(op.attrs["axis"], len(s.dims))
        other = TensorShape(d if i != axis else None for i, d in enumerate(s.dims))
        if not rest.is_compatible_with(other):
            raise ValueError(f"Dimensions other than axis {axis} must match, but the inputs "
                             f"have shapes {rest} and {other} off that axis")
        rest = rest.merge_with(other)
        total = None if total is None or s.dims[axis] is None else total + s.dims[axis]
    if rest.dims is None:
        return rest
    return TensorShape(rest.dims[:axis] + (total,) + rest.dims[axis + 1:])


ConcatV2 = defop("ConcatV2", shape=_concat_shape, fold=fold_by_kernel,
                 kernel=lambda xp, *xs, axis: xp.concatenate(xs, axis=axis),
                 grad=lambda op, dy: as_list(SplitLike(dy, *op.inputs, axis=op.attrs["axis"])))


def _split_like_shape(op):
    dy, axis = op.inputs[0].shape, op.attrs["axis"]
    if dy.dims is None:
        return [t.shape for t in op.inputs[1:]]
    axis = normalize_axis(axis, len(dy.dims))
    rest = TensorShape(d if i != axis else None for i, d in enumerate(dy.dims))
    return [rest.merge_with(t.shape) for t in op.inputs[1:]]


def _split_like_kernel(xp, dy, *likes, axis):
    ends = np.cumsum([like.shape[axis] for like in likes])[:-1]
    return kernel_outputs(xp.split(dy, ends.tolist(), axis=axis))


SplitLike = defop("SplitLike", shape=_split_like_shape, kernel=_split_like_kernel,
                  aliases=True, grad=lambda op, *dys: [ConcatV2(*dys, axis=op.attrs["axis"])]
                  + [None] * (len(op.inputs) - 1))


def concat(values, axis, name="concat"):
    values = same_dtype(list(values), "ConcatV2")
    axis = static_int(axis, "concat axis")
    if len(values) == 1:  # as TF: concatenating one tensor is an identity
        return identity(values[0], name=name)
    return ConcatV2(*values, axis=axis, name=name)


# ---- Split --------------------------------------------------------------------------------
def split_sizes(total, num_split, size_splits):
    """Sizes of the pieces (None where unknown); ValueError when they cannot fit `total`."""
    if size_splits is None:
        if total is not None and total % num_split:
            raise ValueError(f"Dimension size must be evenly divisible by {num_split} but is "
                             f"{total}")
        return [None if total is None else total // num_split] * num_split
    sizes = list(size_splits)
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise ValueError(f"size_splits {sizes} may hold at most one -1 and no other negative "
                         "sizes")
    known = sum(s for s in sizes if s != -1)
    if total is None:
        return [None if s == -1 else s for s in sizes]
    if -1 in sizes and known <= total:
        sizes[sizes.index(-1)] = total - known
    elif known != total:
        raise ValueError(f"size_splits {list(size_splits)} do not add up to the size of the "
                         f"split dimension, {total}")
    return sizes


def _split_shape(op):
    x, n = op.inputs[0].shape, op.attrs["num_split"]
    if x.dims is None:
        split_sizes(None, n, op.attrs["size_splits"])
        return [unknown_shape()] * n
    axis = normalize_axis(op.attrs["axis"], len(x.dims))
    sizes = split_sizes(x.dims[axis], n, op.attrs["size_splits"])
    return [TensorShape(x.dims[:axis] + (s,) + x.dims[axis + 1:]) for s in sizes]


def _split_kernel(xp, x, axis, num_split, size_splits):
    axis = kernel_axis(axis, x.ndim, "Split")
    sizes = split_sizes(x.shape[axis], num_split, size_splits)
    return kernel_outputs(xp.split(x, np.cumsum(sizes)[:-1].tolist(), axis=axis))


Split = defop("Split", shape=_split_shape, kernel=_split_kernel, aliases=True,
              grad=lambda op, *dys: [ConcatV2(*dys, axis=op.attrs["axis"])])


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """A list of pieces: an int splits evenly; a list gives sizes (one may be -1)."""
    value = convert_to_tensor(value)
    sizes = static_ints(num_or_size_splits, "num_or_size_splits")
    if np.ndim(constant_value(num_or_size_splits) if is_tensor_like(num_or_size_splits)
               else num_or_size_splits) == 0:
        if sizes[0] < 1:
            raise ValueError(f"num_or_size_splits must be >= 1, got {sizes[0]}")
        num_split, size_splits = sizes[0], None
    else:
        num_split, size_splits = len(sizes), sizes
        if num is not None and num != num_split:
            raise ValueError(f"num={num} does not match the {num_split} size_splits given")
    return as_list(Split(value, axis=static_int(axis, "split axis"), num_split=num_split,
                         size_splits=size_splits, name=name))


# ---- Pack / Unpack ------------------------------------------------------------------------
def _pack_shape(op):
    merged = merged_shape(op)
    if merged.dims is None:
        return unknown_shape()
    axis = normalize_axis(op.attrs["axis"], len(merged.dims) + 1)
    return TensorShape(merged.dims[:axis] + (len(op.inputs),) + merged.dims[axis:])


Pack = defop("Pack", shape=_pack_shape, fold=fold_by_kernel,
             kernel=lambda xp, *xs, axis: xp.stack(xs, axis=axis),
             grad=lambda op, dy: as_list(Unpack(dy, num=len(op.inputs),
                                                axis=op.attrs["axis"])))


def stack(values, axis=0, name="stack"):
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"tf.stack takes a non-empty list of tensors, got {values!r}")
    return Pack(*same_dtype(list(values), "Pack"), axis=static_int(axis, "stack axis"),
                name=name)


def _unpack_shape(op):
    x, num = op.inputs[0].shape, op.attrs["num"]
    if x.dims is None:
        return [unknown_shape()] * num
    axis = normalize_axis(op.attrs["axis"], len(x.dims))
    if x.dims[axis] not in (None, num):
        raise ValueError(f"Dimension {axis} has size {x.dims[axis]}, but num={num}")
    return [TensorShape(x.dims[:axis] + x.dims[axis + 1:])] * num


def _unpack_kernel(xp, x, num, axis):
    axis = kernel_axis(axis, x.ndim, "Unpack")
    if x.shape[axis] != num:
        raise errors.InvalidArgumentError(None, None, f"Input dimension {axis} has size "
                                          f"{x.shape[axis]}, but num={num}")
    moved = xp.moveaxis(x, axis, 0)
    return kernel_outputs(moved[i] for i in range(num))


Unpack = defop("Unpack", shape=_unpack_shape, kernel=_unpack_kernel, aliases=True,
               grad=lambda op, *dys: [Pack(*dys, axis=op.attrs["axis"])])


def unstack(value, num=None, axis=0, name="unstack"):
    value = convert_to_tensor(value)
    axis = static_int(axis, "unstack axis")
    if num is None:
        dims = value.shape.dims
        if dims is None or dims[normalize_axis(axis, len(dims))] is None:
            raise ValueError(f"Cannot infer num from shape {value.shape} of '{value.name}' "
                             f"along axis {axis}; pass num=.")
        num = dims[normalize_axis(axis, len(dims))]
    return [] if num == 0 else as_list(Unpack(value, num=int(num), axis=axis, name=name))


# ---- Tile ---------------------------------------------------------------------------------
def _tile_shape(op):
    x, m = op.inputs[0].shape, op.inputs[1]
    n = m.shape.dims[0] if m.shape.ndims == 1 else None
    n = x.ndims if n is None else n
    if n is None:
        return unknown_shape()
    if x.ndims is not None and x.ndims != n:
        raise ValueError(f"multiples has length {n}, but the input has rank {x.ndims}")
    dims = x.dims if x.dims is not None else (None,) * n
    return TensorShape(None if d is None or k is None else d * k
                       for d, k in zip(dims, partial_ints(m, n)))


def _tile_kernel(xp, x, multiples):
    if multiples.shape != (x.ndim,):
        raise errors.InvalidArgumentError(None, None, f"Expected multiples argument to be a "
                                          f"vector of length {x.ndim} but got length "
                                          f"{multiples.size}")
    return xp.tile(x, tuple(multiples.tolist()))


def _tile_grad(op, dy):
    x, m = op.inputs
    n = m.shape.dims[0] if m.shape.ndims == 1 else x.shape.ndims
    if n is None:
        raise ValueError(f"The gradient of {op.describe()} needs the rank of its input.")
    ms, ds = partial_ints(m, n), x.shape.dims or (None,) * n
    s = shape(x) if None in ds else None  # dy viewed as [m0, d0, m1, d1, ...], then summed
    pairs = reshape(dy, [v for i in range(n) for v in (m[i] if ms[i] is None else ms[i],
                                                      s[i] if ds[i] is None else ds[i])])
    from .reduction_ops import reduce_sum
    return [reduce_sum(pairs, axis=list(range(0, 2 * n, 2))), None]


Tile = defop("Tile", shape=_tile_shape, kernel=_tile_kernel, grad=_tile_grad)


def tile(input, multiples, name=None):
    return Tile(convert_to_tensor(input), int32_tensor(multiples, "multiples"),
                name=name or "Tile")


def int32_tensor(value, name):
    """An int32 tensor from ints, an int tensor, or (nested) lists mixing both."""
    if is_tensor_like(value):
        value = convert_to_tensor(value)
        if not value.dtype.is_integer:
            raise TypeError(f"{name} must be an int32 or int64 tensor, got '{value.name}' of "
                            f"type {value.dtype.name}")
        return cast(value, dtypes.int32)
    if isinstance(value, (list, tuple)) and _holds_tensor(value):
        return stack([int32_tensor(v, name) for v in value], name=name)
    static_ints(value, name)
    return convert_to_tensor(np.asarray(value, dtype=np.int32), name=name)


def _holds_tensor(value):
    return is_tensor_like(value) or (isinstance(value, (list, tuple))
                                     and any(_holds_tensor(v) for v in value))


# ---- ReverseV2 / meshgrid -----------------------------------------------------------------
def _reverse_shape(op):
    x = op.inputs[0].shape
    if x.dims is not None:
        axes = [normalize_axis(a, len(x.dims)) for a in op.attrs["axis"]]
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis {list(op.attrs['axis'])} names a dimension more than once")
    return x


ReverseV2 = defop("ReverseV2", shape=_reverse_shape, aliases=True,
                  kernel=lambda xp, x, axis: xp.flip(x, axis),
                  grad=lambda op, dy: [ReverseV2(dy, axis=op.attrs["axis"])])


def reverse(tensor, axis, name=None):
    return ReverseV2(convert_to_tensor(tensor), axis=static_ints(axis, "reverse axis"),
                     name=name or "ReverseV2")


reverse_v2 = reverse


def meshgrid(*args, **kwargs):
    """N-D coordinate grids; indexing='xy' (default) swaps the first two output dims."""
    indexing, name = kwargs.pop("indexing", "xy"), kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(f"meshgrid got unexpected keyword arguments {sorted(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    with name_scope(name, "meshgrid", list(args)):
        xs = [reshape(convert_to_tensor(a), [-1]) for a in args]
        order = list(range(len(xs)))
        if indexing == "xy" and len(xs) > 1:
            order[0], order[1] = 1, 0
        out_shape = [size(xs[i]) for i in order]
        return [broadcast_to(reshape(x, [-1 if order[j] == i else 1 for j in range(len(xs))]),
                             out_shape) for i, x in enumerate(xs)]
