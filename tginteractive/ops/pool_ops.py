"""Sliding windows over NHWC images (shared with conv_ops), and tf.nn pooling: MaxPool,
AvgPool and their gradients, each op mirroring TF's.

A window op sees its input through `patches`: the input padded (TF's SAME split: an odd extra
row or column goes at the bottom/right), then one strided slice per kernel tap, stacked into
[N, OH, OW, KH*KW, C]. `unpatch` is its adjoint: scatter-add each tap back, crop the padding.
The only Python loops run over the KH*KW taps; slicing, stack and pad work on NumPy and CuPy.
"""
import numpy as np

from ..framework.context import name_scope
from ..framework.registry import convert_to_tensor, defop
from ..framework.shapes import TensorShape
from .array_ops import shape, zeros_like
from .op_utils import at_runtime, check_floating, shape_from_tensor

__all__ = ["max_pool", "avg_pool", "max_pool2d", "avg_pool2d"]


# ---- attrs, as TF's Python wrappers normalise them -----------------------------------------
def spatial(value, what, fn):
    """TF's _get_sequence for two spatial dims: an int, [v], [h, w] or [1, h, w, 1]."""
    values = [1, 1, 1, 1] if value is None else (
        [value] if isinstance(value, (int, np.integer)) else list(value))
    if len(values) in (1, 2):
        values = [1] + values * (3 - len(values)) + [1]
    if len(values) != 4 or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"tf.nn.{fn}: {what} should be an int or a list of 1, 2 or 4 ints, "
                         f"got {value!r}")
    if values[0] != 1 or values[3] != 1:
        raise ValueError(f"tf.nn.{fn}: {what} in the batch and depth dimensions must be 1 "
                         f"(windows slide over height and width only), got {values}")
    if min(values) < 1:
        raise ValueError(f"tf.nn.{fn}: {what} must be positive, got {values}")
    return tuple(int(v) for v in values)


def padding_attrs(padding, fn, explicit=True):
    """(padding, explicit_paddings) as TF's convert_padding: 'SAME', 'VALID' or a list of
    [before, after] pairs, one per NHWC dimension (batch and channel pairs must be 0)."""
    if isinstance(padding, bytes):
        padding = padding.decode()
    if explicit and isinstance(padding, (list, tuple)):
        pairs = [tuple(int(v) for v in pair) for pair in padding]
        if len(pairs) != 4 or any(len(p) != 2 for p in pairs) or pairs[0] + pairs[3] != (
                0, 0, 0, 0) or min(sum(pairs, ())) < 0:
            raise ValueError(f"tf.nn.{fn}: explicit padding must be [[0, 0], [top, bottom], "
                             f"[left, right], [0, 0]] with non-negative sizes, got {padding!r}")
        return "EXPLICIT", sum(pairs, ())
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"tf.nn.{fn}: padding must be 'SAME' or 'VALID'"
                         f"{' or a list of [before, after] pairs' if explicit else ''}, "
                         f"got {padding!r}")
    return padding, ()


def nhwc_only(data_format, fn):
    if data_format not in (None, "NHWC"):
        raise NotImplementedError(
            f"tf.nn.{fn}: data_format={data_format!r} is not supported; tginteractive runs "
            "NHWC only (as TF's CPU kernels). Use tf.transpose(x, [0, 2, 3, 1]) to get NHWC.")


# ---- window geometry -----------------------------------------------------------------------
def window_dim(size, k, s, d, padding, pads):
    """(output size, pad before, pad after) of one spatial dim, by TF's formulas. Sizes may
    be None (unknown at build time): so is the output then, except SAME's ceil(size / s)."""
    reach = None if k is None else (k - 1) * d + 1
    if padding == "SAME":
        out = None if size is None else -(-size // s)
        if out is None or reach is None:
            return out, 0, 0
        total = max((out - 1) * s + reach - size, 0)
        return out, total // 2, total - total // 2
    before, after = pads if padding == "EXPLICIT" else (0, 0)
    if size is None or reach is None:
        return None, before, after
    if size + before + after < reach:
        raise ValueError(f"Negative dimension size caused by subtracting {reach} from "
                         f"{size + before + after}")
    return (size + before + after - reach) // s + 1, before, after


class Windows:
    """Where an op's windows sit over an input of spatial size `hw` (ints; None = unknown)."""

    def __init__(self, hw, khw, attrs):
        self.hw, self.k = tuple(hw), tuple(khw)
        self.s = attrs["strides"][1:3]
        self.d = attrs.get("dilations", (1, 1, 1, 1))[1:3]
        pads = attrs.get("explicit_paddings") or (0,) * 8
        dims = [window_dim(self.hw[a], self.k[a], self.s[a], self.d[a], attrs["padding"],
                           pads[2 * a + 2:2 * a + 4]) for a in (0, 1)]
        self.out = tuple(o for o, _, _ in dims)
        self.pads = tuple((b, a) for _, b, a in dims)

    def _slice(self, axis, tap):
        n, start, step = self.out[axis], tap * self.d[axis], self.s[axis]
        return slice(start, start + (n - 1) * step + 1 if n else start, step)

    def taps(self):
        """One (rows, columns) slice pair per kernel tap, row-major (TF's scan order)."""
        return [(self._slice(0, i), self._slice(1, j))
                for i in range(self.k[0]) for j in range(self.k[1])]


def patches(xp, x, win, fill=0):
    """[N, OH, OW, KH*KW, C]: every window of NHWC `x`, padded with `fill`."""
    (top, bottom), (left, right) = win.pads
    if top or bottom or left or right:
        x = xp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    return xp.stack([x[:, rows, cols, :] for rows, cols in win.taps()], axis=3)


def unpatch(xp, cols, n, c, win):
    """The adjoint of `patches`: [N, OH, OW, KH*KW, C] summed back into [N, H, W, C]."""
    (top, bottom), (left, right) = win.pads
    (h, w) = win.hw
    out = xp.zeros((n, h + top + bottom, w + left + right, c), cols.dtype)
    for tap, (rows, columns) in enumerate(win.taps()):
        out[:, rows, columns, :] += cols[:, :, :, tap, :]
    return xp.ascontiguousarray(out[:, top:top + h, left:left + w, :])


def rank4(shape, what="input"):
    """The 4 dims of a static shape (None = unknown); ValueError for another rank."""
    if shape.dims is None:
        return [None] * 4
    if len(shape.dims) != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {len(shape.dims)} ({what} must "
                         "be 4-D)")
    return list(shape.dims)


def sizes_of(value):
    """A 1-D int array's entries (a shape input such as input_sizes) as Python ints."""
    return tuple(int(v) for v in value.tolist())


def same_shape_check(what, got, expected):
    if tuple(got) != tuple(expected):
        raise ValueError(f"{what} has shape {list(got)}, expected {list(expected)}")


# ---- MaxPool / MaxPoolGrad / MaxPoolGradGrad -----------------------------------------------
def _pool_shape(op):
    x = rank4(op.inputs[0].shape)
    win = Windows(x[1:3], op.attrs["ksize"][1:3], op.attrs)
    return TensorShape([x[0], *win.out, x[3]])


def _pool_windows(x_shape, grad_shape, attrs):
    win = Windows(x_shape[1:3], attrs["ksize"][1:3], attrs)
    if grad_shape is not None:
        same_shape_check("The gradient", grad_shape, (x_shape[0], *win.out, x_shape[3]))
    return win


def _lowest(dtype):
    dtype = np.dtype(dtype)
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _first_max(xp, x, win):
    """[N, OH, OW, 1, C]: the tap of each window's maximum, the first one on ties (as TF)."""
    return patches(xp, x, win, _lowest(x.dtype)).argmax(axis=3)[:, :, :, None, :]


def _max_pool_kernel(xp, x, **attrs):
    win = at_runtime(_pool_windows, x.shape, None, attrs)
    return patches(xp, x, win, _lowest(x.dtype)).max(axis=3)


def _max_pool_grad_kernel(xp, x, y, g, **attrs):
    win = at_runtime(_pool_windows, x.shape, g.shape, attrs)
    taps = xp.arange(win.k[0] * win.k[1]).reshape(1, 1, 1, -1, 1)
    hits = xp.where(taps == _first_max(xp, x, win), g[:, :, :, None, :], xp.zeros((), g.dtype))
    return unpatch(xp, hits, x.shape[0], x.shape[3], win)


def _max_pool_grad_grad_kernel(xp, x, y, h, **attrs):
    win = at_runtime(_pool_windows, x.shape, None, attrs)
    at_runtime(same_shape_check, "The gradient's gradient", h.shape, x.shape)
    picked = xp.take_along_axis(patches(xp, h, win), _first_max(xp, x, win), axis=3)
    return picked[:, :, :, 0, :]


def _max_pool_grad_grad(op, dz):
    x, y, _ = op.inputs
    return [zeros_like(x), zeros_like(y), MaxPoolGrad(x, y, dz, **op.attrs)]


MaxPool = defop("MaxPool", shape=_pool_shape, kernel=_max_pool_kernel,
                grad=lambda op, dy: [MaxPoolGrad(op.inputs[0], op.outputs[0], dy, **op.attrs)])
MaxPoolGrad = defop(
    "MaxPoolGrad", shape=lambda op: TensorShape(rank4(op.inputs[0].shape)),
    kernel=_max_pool_grad_kernel,
    grad=lambda op, dz: [zeros_like(op.inputs[0]), zeros_like(op.inputs[1]),
                         MaxPoolGradGrad(*op.inputs[:2], dz, **op.attrs)])
MaxPoolGradGrad = defop("MaxPoolGradGrad", shape=_pool_shape, kernel=_max_pool_grad_grad_kernel,
                        grad=_max_pool_grad_grad)


def _pool_attrs(ksize, strides, padding, fn, explicit):
    padding, explicit_paddings = padding_attrs(padding, fn, explicit)
    attrs = dict(ksize=spatial(ksize, "ksize", fn), strides=spatial(strides, "strides", fn),
                 padding=padding, data_format="NHWC")
    if explicit:
        attrs["explicit_paddings"] = explicit_paddings
        _check_explicit_pads(explicit_paddings, attrs["ksize"], fn)
    return attrs


def _check_explicit_pads(pads, ksize, fn):
    """As TF: a window must never lie wholly in the padding."""
    for side, pad, k in zip(("Top", "Bottom", "Left", "Right"), pads[2:6],
                             (ksize[1], ksize[1], ksize[2], ksize[2])):
        if pad >= k:
            raise ValueError(f"tf.nn.{fn}: {side} padding {pad} needs to be smaller than the "
                             f"window size {k}")


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """The maximum of each ksize window (SAME pads with -inf, so padding never wins)."""
    value = input if value is None else value
    nhwc_only(data_format, "max_pool")
    with name_scope(name, "MaxPool", [value]) as name:
        attrs = _pool_attrs(ksize, strides, padding, "max_pool", explicit=True)
        return MaxPool(convert_to_tensor(value, name="input"), name=name, **attrs)


# ---- AvgPool / AvgPoolGrad -----------------------------------------------------------------
def _counts(xp, win, dtype):
    """[1, OH, OW, 1]: how many real (unpadded) elements each window averages."""
    return patches(xp, xp.ones((1, *win.hw, 1), dtype), win).sum(axis=3)


def _avg_pool_kernel(xp, x, **attrs):
    win = at_runtime(_pool_windows, x.shape, None, attrs)
    return patches(xp, x, win).sum(axis=3) / _counts(xp, win, x.dtype)


def _avg_pool_grad_kernel(xp, sizes, g, **attrs):
    n, h, w, c = at_runtime(_four_sizes, sizes, "orig_input_shape")
    win = at_runtime(_pool_windows, (n, h, w, c), g.shape, attrs)
    share = (g / _counts(xp, win, g.dtype))[:, :, :, None, :]
    cols = xp.broadcast_to(share, (*share.shape[:3], win.k[0] * win.k[1], c))
    return unpatch(xp, cols, n, c, win)


def _four_sizes(value, what):
    sizes = sizes_of(value)
    if len(sizes) != 4:
        raise ValueError(f"{what} must have 4 entries (NHWC), got {list(sizes)}")
    return sizes


AvgPool = defop("AvgPool", shape=_pool_shape, kernel=_avg_pool_kernel,
                grad=lambda op, dy: [AvgPoolGrad(shape(op.inputs[0]), dy, **op.attrs)])
AvgPoolGrad = defop("AvgPoolGrad", shape=lambda op: shape_from_tensor(op.inputs[0], 4),
                    dtype=lambda op: op.inputs[1].dtype, kernel=_avg_pool_grad_kernel,
                    grad=lambda op, dz: [None, AvgPool(dz, **op.attrs)])


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """The mean of each ksize window; SAME windows average over their real elements only."""
    value = input if value is None else value
    nhwc_only(data_format, "avg_pool")
    with name_scope(name, "AvgPool", [value]) as name:
        attrs = _pool_attrs(ksize, strides, padding, "avg_pool", explicit=False)
        value = convert_to_tensor(value, name="input")
        check_floating(value, "tf.nn.avg_pool", "value")
        return AvgPool(value, name=name, **attrs)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    return max_pool(input, ksize, strides, padding, data_format, name)


def avg_pool2d(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    return avg_pool(value, ksize, strides, padding, data_format, name, input)
