"""Static shape rules shared by many ops. Each takes the Operation and returns its shape(s)."""
from ..framework.shapes import TensorShape, unknown_shape


def same_shape(op):
    return op.inputs[0].shape


def scalar_shape(op):
    return TensorShape(())


def broadcast_shapes(a, b):
    """NumPy broadcasting on static shapes; None is unknown. ValueError when incompatible."""
    if a.dims is None or b.dims is None:
        return unknown_shape()
    out = []
    for x, y in zip(reversed((None,) * (len(b.dims) - len(a.dims)) + a.dims
                             if len(a.dims) < len(b.dims) else a.dims),
                    reversed((1,) * (len(a.dims) - len(b.dims)) + b.dims)):
        out.append(_broadcast_dim(x, y, a, b))
    if len(a.dims) < len(b.dims):  # padded dims of `a` were marked None above: restore them
        pad = len(b.dims) - len(a.dims)
        out[len(out) - pad:] = list(reversed(b.dims[:pad]))
    return TensorShape(reversed(out))


def _broadcast_dim(x, y, a, b):
    if x == 1:
        return y
    if y == 1:
        return x
    if x is None:
        return y if y is not None and y > 1 else None
    if y is None:
        return x if x > 1 else None
    if x != y:
        raise ValueError(f"Dimensions must be equal, but are {x} and {y}")
    return x


def broadcast_shape(op):
    shape = op.inputs[0].shape
    for t in op.inputs[1:]:
        shape = broadcast_shapes(shape, t.shape)
    return shape


def merged_shape(op):
    """The most specific shape compatible with every input's (ValueError if there is none)."""
    shape = unknown_shape()
    for t in op.inputs:
        shape = shape.merge_with(t.shape)
    return shape


def normalize_axis(axis, rank, what="axis"):
    """A non-negative axis when the rank is known (ValueError if out of range)."""
    if rank is None:
        return axis
    if not -rank <= axis < rank:
        raise ValueError(f"{what} {axis} is out of range for a tensor of rank {rank} "
                         f"(expected {-rank} <= {what} < {rank})")
    return axis % rank


def reduced_shape(shape, axis, keepdims):
    """The static shape of reducing `shape` over `axis` (a tuple, or None for all axes)."""
    if axis is None and not keepdims:
        return TensorShape(())
    if shape.dims is None:
        return unknown_shape()
    axes = range(len(shape.dims)) if axis is None else axis
    if keepdims:
        return TensorShape(1 if i in axes else d for i, d in enumerate(shape.dims))
    return TensorShape(d for i, d in enumerate(shape.dims) if i not in axes)
