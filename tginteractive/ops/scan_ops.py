"""Scans (cumsum, cumprod, cumulative_logsumexp), log-sum-exp and friends, segment sums.

Scan axes are static Python ints (a constant tensor is accepted), like the reductions.
`reduce_variance`, `reduce_std`, `reduce_euclidean_norm` and `cumulative_logsumexp` exist
only as `tf.math.*` in TF 1.x, so they are listed in MATH_ONLY rather than `__all__`.
"""
import numpy as np

from ..framework import dtypes
from ..framework.context import name_scope
from ..framework.registry import constant_value, convert_to_tensor, defop
from ..framework.shapes import TensorShape, unknown_shape
from .array_ops import (cast, constant, ones, ones_like, rank, reshape, shape, stop_gradient,
                        zeros_like)
from .indexing_ops import gather, scatter_add_cupy
from .manip_ops import concat
from .math_ops import (SelectV2, abs, add, equal, exp, greater, greater_equal, less, log,
                       maximum, not_equal, sqrt, square, where)
from .op_utils import check_floating
from .reduction_ops import reduce_max, reduce_mean, reduce_sum

__all__ = [
    "cumsum", "cumprod", "reduce_logsumexp", "count_nonzero", "segment_sum",
    "unsorted_segment_sum",
]
MATH_ONLY = ["cumulative_logsumexp", "reduce_variance", "reduce_std", "reduce_euclidean_norm"]


# ---- scans ------------------------------------------------------------------------------
def _scan_kernel(accumulate, identity):
    """`accumulate` along `axis`; exclusive shifts by one and starts at `identity`."""
    def kernel(xp, x, axis, exclusive, reverse):
        if reverse:
            x = xp.flip(x, axis)
        if exclusive:
            out = xp.empty_like(x)
            head = [slice(None)] * x.ndim
            head[axis] = slice(0, 1)
            tail, body = list(head), list(head)
            tail[axis], body[axis] = slice(1, None), slice(None, -1)
            out[tuple(head)] = identity
            accumulate(xp, x[tuple(body)], axis, out[tuple(tail)])
        else:
            out = accumulate(xp, x, axis, None)
        return xp.flip(out, axis) if reverse else out
    return kernel


def _cumsum(xp, x, axis, out):
    return xp.cumsum(x, axis=axis, dtype=x.dtype, out=out)  # dtype: NumPy widens small ints


def _cumprod(xp, x, axis, out):
    return xp.cumprod(x, axis=axis, dtype=x.dtype, out=out)


def _cumlse(xp, x, axis, out):
    return xp.logaddexp.accumulate(x, axis=axis, out=out)


def _cumlse_cupy(xp, x, axis, out):
    """CuPy override: CuPy's logaddexp has no `.accumulate`. The same sequential recurrence
    as NumPy's, one elementwise kernel per step along `axis` (exact, slow for long axes)."""
    src = xp.moveaxis(x, axis, 0)
    res = xp.empty_like(src) if out is None else xp.moveaxis(out, axis, 0)
    if src.shape[0]:
        res[0] = src[0]
    for i in range(1, src.shape[0]):
        xp.logaddexp(res[i - 1], src[i], out=res[i])
    return xp.moveaxis(res, 0, axis) if out is None else out


def _scan_attrs(op, **changes):
    attrs = dict(axis=op.attrs["axis"], exclusive=op.attrs["exclusive"],
                 reverse=op.attrs["reverse"])
    attrs.update(changes)
    return attrs


def _cumsum_grad(op, dy):
    return [Cumsum(dy, **_scan_attrs(op, reverse=not op.attrs["reverse"]))]


def _div_no_nan(x, y):
    """x / y, and 0 where y == 0 (TF's div_no_nan), from differentiable ops."""
    zero = equal(y, 0)
    return where(zero, zeros_like(x), x / where(zero, ones_like(y), y))


def _cumprod_grad(op, dy):
    """TF's formula: cumsum(cumprod * dy, reverse flipped) / x, and 0 where x == 0."""
    x, prod = op.inputs[0], op.outputs[0]
    out = Cumsum(prod * dy, **_scan_attrs(op, reverse=not op.attrs["reverse"]))
    return [_div_no_nan(out, x)]


def _cumlse_grad(op, dy):
    """TF's formula: positive and negative parts of dy in log space, scanned the other way."""
    x, y = op.inputs[0], op.outputs[0]
    lowest = constant(np.finfo(dy.dtype.as_numpy_dtype).min, dy.dtype)
    attrs = _scan_attrs(op, reverse=not op.attrs["reverse"])
    parts = []
    for keep, signed in ((greater(dy, 0), dy), (less(dy, 0), -dy)):
        log_part = where(keep, log(where(keep, signed, ones_like(dy))), lowest + zeros_like(dy))
        parts.append(exp(CumulativeLogsumexp(log_part - y, **attrs) + x))
    return [parts[0] - parts[1]]


Cumsum = defop("Cumsum", shape=lambda op: op.inputs[0].shape, grad=_cumsum_grad,
               kernel=_scan_kernel(_cumsum, 0))
Cumprod = defop("Cumprod", shape=lambda op: op.inputs[0].shape, grad=_cumprod_grad,
                kernel=_scan_kernel(_cumprod, 1))
CumulativeLogsumexp = defop("CumulativeLogsumexp", shape=lambda op: op.inputs[0].shape,
                            grad=_cumlse_grad, kernel=_scan_kernel(_cumlse, -np.inf),
                            overrides={"cupy": _scan_kernel(_cumlse_cupy, -np.inf)})  # CuPy


def _scan_axis(x, axis):
    value = constant_value(axis) if not isinstance(axis, (int, np.integer)) else axis
    if value is None:
        raise NotImplementedError(f"The scan axis must be known when the graph is built (got "
                                  f"tensor '{axis.name}'); pass a Python int.")
    axis, rank = int(np.reshape(value, [])), x.shape.ndims
    if rank is not None and not -rank <= axis < rank:
        raise ValueError(f"ScanOp: Expected scan axis in the range [{-rank}, {rank}), but got "
                         f"{axis} (input '{x.name}' has shape {x.shape}).")
    return axis if rank is None else axis % rank


def _scan(op_def, x, axis, exclusive, reverse, name, floating_only=False):
    x = convert_to_tensor(x, name="x")
    numeric = x.dtype.is_floating or (x.dtype.is_integer and not floating_only)
    if not numeric:
        raise TypeError(f"{op_def.type} does not support dtype {x.dtype.name} (input "
                        f"'{x.name}'); cast it with tf.cast(x, tf.float32) first.")
    return op_def(x, axis=_scan_axis(x, axis), exclusive=bool(exclusive),
                  reverse=bool(reverse), name=name or op_def.type)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative sum along `axis`; `exclusive` starts at 0, `reverse` scans from the end."""
    return _scan(Cumsum, x, axis, exclusive, reverse, name)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative product along `axis`; `exclusive` starts at 1, `reverse` scans from the end.
    Its gradient is TF's, which is 0 (not the true value) wherever x == 0."""
    return _scan(Cumprod, x, axis, exclusive, reverse, name)


def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None):
    """log(cumsum(exp(x))) computed stably; `exclusive` starts at -inf. (tf.math only.)"""
    return _scan(CumulativeLogsumexp, x, axis, exclusive, reverse, name, floating_only=True)


# ---- log-sum-exp and other composite reductions --------------------------------------------
def _keepdims(keepdims, keep_dims):
    return bool(keepdims if keepdims is not None else keep_dims)


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None):
    """log(sum(exp(x))) over `axis`, stable for large x: the (finite) max is subtracted first
    and, as in TF, no gradient flows through it. All -inf gives -inf; any +inf gives +inf."""
    keepdims = _keepdims(keepdims, keep_dims)
    with name_scope(name, "ReduceLogSumExp", [input_tensor]) as name:
        x = convert_to_tensor(input_tensor)
        check_floating(x, "reduce_logsumexp")
        raw_max = reduce_max(x, axis, keepdims=True, reduction_indices=reduction_indices)
        finite = less(abs(raw_max), np.inf)
        my_max = stop_gradient(where(finite, raw_max, zeros_like(raw_max)))
        result = log(reduce_sum(exp(x - my_max), axis, keepdims=keepdims,
                                reduction_indices=reduction_indices))
        if not keepdims:
            my_max = reshape(my_max, shape(result))
        return add(result, my_max, name=name)


def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None, input=None):
    """The number of elements != 0 (!= "" for strings) over `axis`, as `dtype` (int64)."""
    if input is not None:
        if input_tensor is not None:
            raise ValueError("Cannot specify both 'input' and 'input_tensor'.")
        input_tensor = input
    keepdims = _keepdims(keepdims, keep_dims)
    with name_scope(name, "count_nonzero", [input_tensor]):
        x = convert_to_tensor(input_tensor)
        zero = constant(b"" if x.dtype is dtypes.string else 0, x.dtype, name="zeros")
        counted = reduce_sum(cast(not_equal(x, zero), dtypes.int64), axis, keepdims=keepdims,
                             reduction_indices=reduction_indices)
        return cast(counted, dtype)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance over `axis` (tf.math only); integer input is a TypeError."""
    with name_scope(name, "reduce_variance", [input_tensor]):
        x = convert_to_tensor(input_tensor)
        if not (x.dtype.is_floating or x.dtype.is_complex):
            raise TypeError(f"Input must be either real or complex. Received integer type "
                            f"{x.dtype} ('{x.name}').")
        means = reduce_mean(x, axis, keepdims=True)
        return reduce_mean(square(x - means), axis, keepdims=bool(keepdims))


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation over `axis` (tf.math only)."""
    with name_scope(name, "reduce_std", [input_tensor]):
        return sqrt(reduce_variance(input_tensor, axis, keepdims))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(sum(x**2)) over `axis` (tf.math only); integers are truncated, as TF does."""
    with name_scope(name, "EuclideanNorm", [input_tensor]):
        x = convert_to_tensor(input_tensor)
        wide = x if x.dtype.is_floating else cast(x, dtypes.float64)
        norm = sqrt(reduce_sum(square(wide), axis, keepdims=bool(keepdims)))
        return norm if wide is x else cast(norm, x.dtype)


# ---- segment sums ---------------------------------------------------------------------------
def _segment_rows(op, num_segments):
    """[num_segments] + data.shape[ids.rank:], after checking ids.shape prefixes data.shape."""
    data, ids = op.inputs[0].shape, op.inputs[1].shape
    if data.dims is None or ids.dims is None:
        return unknown_shape()
    if len(ids.dims) > len(data.dims):
        raise ValueError(f"segment_ids has rank {len(ids.dims)} but data only has rank "
                         f"{len(data.dims)}")
    for d, i in zip(data.dims, ids.dims):
        if d is not None and i is not None and d != i:
            raise ValueError(f"Dimensions must be equal, but are {d} and {i}")
    return TensorShape([num_segments] + list(data.dims[len(ids.dims):]))


def _scatter_add(xp, data, ids, n, add_at=None):
    flat = ids.reshape(-1)
    rows = data.reshape((flat.size,) + data.shape[ids.ndim:])
    too_big = xp.nonzero(flat >= n)[0]
    if too_big.size:
        i = int(too_big[0])
        raise ValueError(f"segment_ids[{i}] = {int(flat[i])} is out of range [0, {n})")
    out = xp.zeros((n,) + rows.shape[1:], dtype=data.dtype)
    keep = flat >= 0  # negative ids are dropped, as in TF
    (add_at or xp.add.at)(out, flat[keep], rows[keep])
    return out


def _scatter_add_cupy(xp, data, ids, n):
    """CuPy override of _scatter_add: np.add.at -> cupyx.scatter_add (see indexing_ops)."""
    return _scatter_add(xp, data, ids, n,
                        add_at=lambda out, index, rows: scatter_add_cupy(xp, out, index, rows))


def _unsorted_shape(op):
    n = constant_value(op.inputs[2])
    return _segment_rows(op, None if n is None else int(n))


def _sorted_shape(op):
    """The segment count is max(id) + 1, known only at run time (TF leaves it None too)."""
    if op.inputs[1].shape.ndims not in (None, 1):
        raise ValueError(f"segment_ids should be a vector, but has shape {op.inputs[1].shape}")
    return _segment_rows(op, None)


def _segment_count(xp, ids):
    """max(id) + 1 for sorted, non-negative segment ids (ValueError otherwise, as TF)."""
    if ids.size and (xp.any(ids[1:] < ids[:-1]) or ids[0] < 0):
        bad = "segment ids are not increasing" if ids[0] >= 0 else (
            f"Segment id {int(ids[0])} out of range, possibly because 'segment_ids' input "
            f"is not sorted.")
        raise ValueError(bad)
    return int(ids[-1]) + 1 if ids.size else 0


def _sorted_segment_sum(xp, data, ids):
    return _scatter_add(xp, data, ids, _segment_count(xp, ids))


def _sorted_segment_sum_cupy(xp, data, ids):
    """CuPy override of _sorted_segment_sum: the same checks, then cupyx.scatter_add."""
    return _scatter_add_cupy(xp, data, ids, _segment_count(xp, ids))


def _gather_drop_negatives(params, ids):
    """TF's _GatherDropNegatives: params[ids], with rows of zeros where ids < 0."""
    gathered = gather(params, maximum(ids, zeros_like(ids)))
    keep = greater_equal(ids, 0)
    ids_rank, out_rank = ids.shape.ndims, gathered.shape.ndims
    if ids.shape.is_fully_defined() and out_rank is not None:
        keep = reshape(keep, ids.shape.as_list() + [1] * (out_rank - ids_rank))
    else:  # [ids.shape..., 1, ...]: broadcasts along params' trailing dims
        extra = (out_rank - ids_rank if out_rank is not None and ids_rank is not None
                 else rank(gathered) - rank(ids))
        keep = reshape(keep, concat([shape(ids), ones([extra], dtypes.int32)], 0))
    return SelectV2(keep, gathered, zeros_like(gathered))


UnsortedSegmentSum = defop(
    "UnsortedSegmentSum", shape=_unsorted_shape,
    kernel=lambda xp, data, ids, n: _scatter_add(xp, data, ids, int(n)),
    overrides={"cupy": lambda xp, data, ids, n: _scatter_add_cupy(xp, data, ids, int(n))},
    grad=lambda op, dy: [_gather_drop_negatives(dy, op.inputs[1]), None, None])
SegmentSum = defop("SegmentSum", shape=_sorted_shape, kernel=_sorted_segment_sum,
                   overrides={"cupy": _sorted_segment_sum_cupy},  # CuPy: scatter_add
                   grad=lambda op, dy: [gather(dy, op.inputs[1]), None])


def _segment_args(data, segment_ids):
    data = convert_to_tensor(data, name="data")
    ids = convert_to_tensor(segment_ids, name="segment_ids")
    if ids.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"segment_ids must be int32 or int64; '{ids.name}' is "
                        f"{ids.dtype.name}.")
    return data, ids


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """out[i] = sum of data[j...] over j with segment_ids[j...] == i; ids < 0 are dropped
    and ids >= num_segments fail at run time, as in TF."""
    data, ids = _segment_args(data, segment_ids)
    n = convert_to_tensor(num_segments, preferred_dtype=dtypes.int32)
    if n.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"num_segments must be int32 or int64; '{n.name}' is {n.dtype.name}.")
    return UnsortedSegmentSum(data, ids, n, name=name or "UnsortedSegmentSum")


def segment_sum(data, segment_ids, name=None):
    """Sums of data's rows per (sorted, non-negative) segment id; max(id) + 1 rows."""
    data, ids = _segment_args(data, segment_ids)
    return SegmentSum(data, ids, name=name or "SegmentSum")
