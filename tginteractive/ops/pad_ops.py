"""tf.pad: Pad (a constant border) and MirrorPad (REFLECT / SYMMETRIC borders), with
MirrorPadGrad folding mirrored gradients back. `paddings` is an int tensor: its value, when
known at build time, gives static shapes. Pad's gradient is a Slice; Slice's is a Pad."""
import numpy as np

from ..framework.registry import constant_value, convert_to_tensor, defop
from ..framework.shapes import TensorShape, unknown_shape
from .array_ops import shape
from .manip_ops import int32_tensor
from .op_utils import at_runtime, is_tensor_like

__all__ = ["pad"]


# ---- Pad / MirrorPad / MirrorPadGrad --------------------------------------------------------
def _pad_widths(paddings, shape, mode, sign=1):
    """Validated [(before, after)] per dim; `shape` is the unpadded shape (None = unknown)."""
    paddings = np.asarray(paddings)
    if paddings.shape != (len(shape), 2):
        raise ValueError(f"paddings must be a matrix of shape [{len(shape)}, 2] (one row per "
                         f"input dimension), got shape {list(paddings.shape)}")
    if (paddings < 0).any():
        raise ValueError(f"paddings must be non-negative, got {paddings.tolist()}")
    limit = {"REFLECT": 1, "SYMMETRIC": 0}.get(mode)
    for d, (a, b) in zip(shape, paddings.tolist()):
        if sign < 0 and d is not None:  # `shape` is the padded shape: recover the original
            d -= a + b
            if d < 0:
                raise ValueError(f"paddings {a}, {b} are larger than the padded dimension")
        if limit is not None and d is not None and max(a, b) > d - limit:
            raise ValueError(f"paddings must be no greater than the dimension size"
                             f"{' - 1' if limit else ''}: {a}, {b} greater than {d - limit}")
    return [tuple(row) for row in paddings.tolist()]


def _padded_shape(op, sign=1):
    x, p = op.inputs[0].shape, op.inputs[1]
    n = x.ndims if x.ndims is not None else (p.shape.dims[0] if p.shape.ndims == 2 else None)
    if n is None:
        return unknown_shape()
    value = constant_value(p)
    if value is None:
        return unknown_shape(n)
    dims = x.dims if x.dims is not None else (None,) * n
    widths = _pad_widths(value, dims, op.attrs.get("mode"), sign)
    return TensorShape(None if d is None else d + sign * (a + b) for d, (a, b) in zip(dims, widths))


def _pad_kernel(xp, x, paddings, constant_values):
    widths = at_runtime(_pad_widths, paddings.tolist(), x.shape, None)
    return xp.pad(x, widths, mode="constant", constant_values=constant_values)


def _mirror_pad_kernel(xp, x, paddings, mode):
    widths = at_runtime(_pad_widths, paddings.tolist(), x.shape, mode)
    return xp.pad(x, widths, mode="reflect" if mode == "REFLECT" else "symmetric")


def _mirror_pad_grad_kernel(xp, dy, paddings, mode):
    """Fold each mirrored border of dy back onto the positions it was copied from."""
    widths = at_runtime(_pad_widths, paddings.tolist(), dy.shape, mode, -1)
    offset = 1 if mode == "REFLECT" else 0
    g = dy
    for axis, (a, b) in enumerate(widths):
        g = xp.moveaxis(g, axis, 0)
        n = g.shape[0] - a - b
        core = g[a:a + n].copy()
        core[offset:offset + a] += g[:a][::-1]
        core[n - offset - b:n - offset] += g[a + n:][::-1]
        g = xp.moveaxis(core, 0, axis)
    return g if g is not dy else dy.copy()


def _pad_grad(op, dy):
    from .indexing_ops import slice as slice_  # indexing_ops imports Pad (Slice's gradient)
    return [slice_(dy, op.inputs[1][:, 0], shape(op.inputs[0])), None]


Pad = defop("Pad", shape=_padded_shape, kernel=_pad_kernel, grad=_pad_grad)
MirrorPad = defop("MirrorPad", shape=_padded_shape, kernel=_mirror_pad_kernel,
                  grad=lambda op, dy: [MirrorPadGrad(dy, op.inputs[1], mode=op.attrs["mode"]),
                                       None])
MirrorPadGrad = defop("MirrorPadGrad", shape=lambda op: _padded_shape(op, -1),
                      kernel=_mirror_pad_grad_kernel,
                      grad=lambda op, dy: [MirrorPad(dy, op.inputs[1], mode=op.attrs["mode"]),
                                           None])


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """Pad with a constant, or mirror the borders (REFLECT excludes the edge, SYMMETRIC not)."""
    tensor = convert_to_tensor(tensor)
    paddings = int32_tensor(paddings, "paddings")
    mode = str(mode).upper()
    if mode == "CONSTANT":
        value = constant_value(constant_values) if is_tensor_like(constant_values) \
            else constant_values
        if value is None:
            raise NotImplementedError("tf.pad's constant_values must be known when the graph is "
                                      "built.")
        value = np.asarray(value).astype(tensor.dtype.as_numpy_dtype).item()
        return Pad(tensor, paddings, constant_values=value, name=name or "Pad")
    if mode in ("REFLECT", "SYMMETRIC"):
        return MirrorPad(tensor, paddings, mode=mode, name=name or "MirrorPad")
    raise ValueError(f"Unknown padding mode: {mode!r}; expected 'CONSTANT', 'REFLECT' or "
                     "'SYMMETRIC'.")
