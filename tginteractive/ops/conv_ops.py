"""`tf.nn` convolutions: Conv2D and its two backprops, each of the three the others' gradient
(as in TF, so second derivatives work), plus conv2d_transpose, conv1d and depthwise_conv2d
built on them. Pooling and the sliding-window machinery (im2col) live in pool_ops.

Conv2D is im2col + one matmul: the [N, OH, OW, KH*KW*C] patches times the filter reshaped to
[KH*KW*C, O]. Conv2DBackpropInput multiplies the other way and scatters the patches back;
Conv2DBackpropFilter is patches^T times out_backprop.
"""
import numpy as np

from ..framework.context import name_scope
from ..framework.registry import defop
from ..framework.shapes import TensorShape
from .array_ops import constant, reshape, shape
from .manip_ops import expand_dims, int32_tensor, squeeze
from .op_utils import at_runtime, check_floating, same_dtype, shape_from_tensor
from .pool_ops import (Windows, avg_pool, avg_pool2d, max_pool, max_pool2d, nhwc_only,
                       padding_attrs, patches, rank4, same_shape_check, sizes_of, spatial,
                       unpatch)

__all__ = ["conv2d", "conv2d_transpose", "conv2d_backprop_input", "conv2d_backprop_filter",
           "conv1d", "depthwise_conv2d", "max_pool", "avg_pool", "max_pool2d", "avg_pool2d"]


# ---- shapes --------------------------------------------------------------------------------
def conv_output(x, f, attrs):
    """Static [N, OH, OW, O] of a Conv2D over input dims `x` and filter dims `f`."""
    if x[3] is not None and f[2] is not None and x[3] != f[2]:
        raise ValueError(f"Depth of input ({x[3]}) does not match the input depth of filter "
                         f"({f[2]}) (grouped convolutions are not supported)")
    return [x[0], *Windows(x[1:3], f[:2], attrs).out, f[3]]


def _merge(dims, other):
    return TensorShape(dims).merge_with(TensorShape(other)).dims


def _conv2d_shape(op):
    return TensorShape(conv_output(rank4(op.inputs[0].shape),
                                   rank4(op.inputs[1].shape, "filter"), op.attrs))


def _sizes_shape(op, index, what):
    dims = shape_from_tensor(op.inputs[index], 4).dims
    if dims is not None and len(dims) != 4:
        raise ValueError(f"{what} must have 4 entries, got {len(dims)}")
    return [None] * 4 if dims is None else list(dims)


def _check_out_backprop(x, f, dy, attrs):
    expected = conv_output(x, f, attrs)
    if not TensorShape(expected).is_compatible_with(TensorShape(dy)):
        raise ValueError(f"out_backprop has shape {TensorShape(dy)} but the convolution's "
                         f"output shape is {TensorShape(expected)}")
    return _merge(expected, dy)


def _input_grad_shape(op):  # inputs: input_sizes, filter, out_backprop
    x = _sizes_shape(op, 0, "input_sizes")
    f, dy = rank4(op.inputs[1].shape, "filter"), rank4(op.inputs[2].shape, "out_backprop")
    x = _merge(x, [dy[0], None, None, f[2]])
    _check_out_backprop(x, f, dy, op.attrs)
    return TensorShape(x)


def _filter_grad_shape(op):  # inputs: input, filter_sizes, out_backprop
    f = _sizes_shape(op, 1, "filter_sizes")
    x, dy = rank4(op.inputs[0].shape), rank4(op.inputs[2].shape, "out_backprop")
    f = _merge(f, [None, None, x[3], dy[3]])
    _check_out_backprop(x, f, dy, op.attrs)
    return TensorShape(f)


# ---- kernels -------------------------------------------------------------------------------
def _windows(x_shape, f_shape, attrs, dy_shape=None):
    """The run-time windows, after TF's run-time checks (ValueError → InvalidArgumentError)."""
    for what, dims in (("input", x_shape), ("filter", f_shape)):
        if len(dims) != 4:
            raise ValueError(f"{what} must be 4-dimensional, got shape {list(dims)}")
    expected = conv_output(list(x_shape), list(f_shape), attrs)
    if dy_shape is not None:
        same_shape_check("out_backprop", dy_shape, expected)
    return Windows(x_shape[1:3], f_shape[:2], attrs)


def _conv2d_kernel(xp, x, f, **attrs):
    win = at_runtime(_windows, x.shape, f.shape, attrs)
    cols = patches(xp, x, win)
    n, oh, ow, taps, c = cols.shape
    out = cols.reshape(n * oh * ow, taps * c) @ f.reshape(taps * c, f.shape[3])
    return out.reshape(n, oh, ow, f.shape[3])


def _input_grad_kernel(xp, sizes, f, dy, **attrs):
    n, _, _, c = sizes = sizes_of(sizes)
    win = at_runtime(_windows, sizes, f.shape, attrs, dy.shape)
    o = f.shape[3]
    cols = dy.reshape(-1, o) @ f.reshape(-1, o).T
    return unpatch(xp, cols.reshape(n, *win.out, win.k[0] * win.k[1], c), n, c, win)


def _filter_grad_kernel(xp, x, sizes, dy, **attrs):
    kh, kw, c, o = sizes = sizes_of(sizes)
    win = at_runtime(_windows, x.shape, sizes, attrs, dy.shape)
    cols = patches(xp, x, win).reshape(-1, kh * kw * c)
    return (cols.T @ dy.reshape(-1, o)).reshape(kh, kw, c, o)


# ---- gradients: each op's gradient is built from the other two -----------------------------
def _conv2d_grad(op, dy):
    x, f = op.inputs
    return [Conv2DBackpropInput(shape(x), f, dy, **op.attrs),
            Conv2DBackpropFilter(x, shape(f), dy, **op.attrs)]


def _input_grad_grad(op, dz):  # z = (d conv / d x)^T dy: linear in filter and dy
    _, f, dy = op.inputs
    return [None, Conv2DBackpropFilter(dz, shape(f), dy, **op.attrs),
            Conv2D(dz, f, **op.attrs)]


def _filter_grad_grad(op, dz):  # z = (d conv / d filter)^T dy: linear in x and dy
    x, _, dy = op.inputs
    return [Conv2DBackpropInput(shape(x), dz, dy, **op.attrs), None,
            Conv2D(x, dz, **op.attrs)]


Conv2D = defop("Conv2D", shape=_conv2d_shape, kernel=_conv2d_kernel, grad=_conv2d_grad)
Conv2DBackpropInput = defop("Conv2DBackpropInput", shape=_input_grad_shape,
                            dtype=lambda op: op.inputs[1].dtype, kernel=_input_grad_kernel,
                            grad=_input_grad_grad)
Conv2DBackpropFilter = defop("Conv2DBackpropFilter", shape=_filter_grad_shape,
                             kernel=_filter_grad_kernel, grad=_filter_grad_grad)


# ---- public functions ----------------------------------------------------------------------
def conv_attrs(strides, padding, dilations, fn):
    padding, explicit_paddings = padding_attrs(padding, fn)
    return dict(strides=spatial(strides, "strides", fn), padding=padding,
                explicit_paddings=explicit_paddings,
                dilations=spatial(dilations, "dilations", fn), data_format="NHWC")


def _alias(value, alias, name, alias_name):
    if value is not None and alias is not None:
        raise ValueError(f"Cannot specify both '{name}' and '{alias_name}'.")
    return alias if value is None else value


def _operands(x, f, fn):
    x, f = same_dtype([x, f], f"tf.nn.{fn}")
    check_floating(x, f"tf.nn.{fn}", "input")
    return x, f


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,
           data_format="NHWC", dilations=(1, 1, 1, 1), name=None, filters=None):
    """2-D convolution of NHWC `input` with a [KH, KW, C, O] filter (cross-correlation, as
    TF). padding: 'SAME', 'VALID' or [[0, 0], [top, bottom], [left, right], [0, 0]]."""
    filter = _alias(filter, filters, "filter", "filters")
    nhwc_only(data_format, "conv2d")
    attrs = conv_attrs(strides, padding, dilations, "conv2d")
    return Conv2D(*_operands(input, filter, "conv2d"), name=name, **attrs)


def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None,
                          padding=None, use_cudnn_on_gpu=True, data_format="NHWC",
                          dilations=(1, 1, 1, 1), name=None, filters=None):
    """The gradient of conv2d with respect to an input of shape `input_sizes`."""
    filter = _alias(filter, filters, "filter", "filters")
    nhwc_only(data_format, "conv2d_backprop_input")
    attrs = conv_attrs(strides, padding, dilations, "conv2d_backprop_input")
    filter, out_backprop = _operands(filter, out_backprop, "conv2d_backprop_input")
    return Conv2DBackpropInput(int32_tensor(input_sizes, "input_sizes"), filter, out_backprop,
                               name=name, **attrs)


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,
                           use_cudnn_on_gpu=True, data_format="NHWC", dilations=(1, 1, 1, 1),
                           name=None):
    """The gradient of conv2d with respect to a filter of shape `filter_sizes`."""
    nhwc_only(data_format, "conv2d_backprop_filter")
    attrs = conv_attrs(strides, padding, dilations, "conv2d_backprop_filter")
    input, out_backprop = _operands(input, out_backprop, "conv2d_backprop_filter")
    return Conv2DBackpropFilter(input, int32_tensor(filter_sizes, "filter_sizes"),
                                out_backprop, name=name, **attrs)


def _check_depth(got, expected, what):
    if got is not None and expected is not None and got != expected:
        raise ValueError(f"tf.nn.conv2d_transpose: {what} ({got}) must match the filter's "
                         f"({expected})")


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None, padding="SAME",
                     data_format="NHWC", name=None, input=None, filters=None, dilations=None):
    """The transpose (gradient) of conv2d: `value` [N, H, W, in] with a filter of shape
    [KH, KW, out, in] gives a tensor of `output_shape` [N, OH, OW, out]."""
    value, filter = _alias(value, input, "value", "input"), _alias(filter, filters, "filter",
                                                                     "filters")
    nhwc_only(data_format, "conv2d_transpose")
    attrs = conv_attrs(strides, padding, dilations, "conv2d_transpose")
    with name_scope(name, "conv2d_transpose", [value, filter, output_shape]) as name:
        value, filter = _operands(value, filter, "conv2d_transpose")
        sizes = int32_tensor(output_shape, "input_sizes")
        f = rank4(filter.shape, "filter")
        _check_depth(rank4(value.shape, "value")[3], f[3], "the input depth")
        _check_depth(_sizes_shape_of(sizes)[3], f[2], "output_shape's depth")
        return Conv2DBackpropInput(sizes, filter, value, name=name, **attrs)


def _sizes_shape_of(sizes):
    dims = shape_from_tensor(sizes, 4).dims
    return list(dims) if dims is not None and len(dims) == 4 else [None] * 4


def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None,
           data_format=None, name=None, input=None, dilations=None):
    """1-D convolution of [N, W, C] with a [K, C, O] filter, as a Conv2D over height 1."""
    value = _alias(value, input, "value", "input")
    if data_format not in (None, "NWC", "NHWC"):
        nhwc_only(data_format, "conv1d")
    attrs = conv_attrs([1, *_one(stride, "stride")], padding, [1, *_one(dilations, "dilations")],
                       "conv1d")
    with name_scope(name, "conv1d", [value, filters]) as name:
        value, filters = _operands(value, filters, "conv1d")
        out = Conv2D(expand_dims(value, -3), expand_dims(filters, 0), name=name, **attrs)
        return squeeze(out, [-3])


def _one(value, what):
    values = [1] if value is None else ([value] if np.ndim(value) == 0 else list(value))
    if len(values) == 3:
        values = values[1:2] if values[0] == values[2] == 1 else [0]
    if len(values) != 1 or int(values[0]) < 1:
        raise ValueError(f"tf.nn.conv1d: {what} should be a positive int or a list of 1 or "
                         f"3 ints [1, {what}, 1], got {value!r}")
    return [int(values[0])]


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None, data_format=None,
                     dilations=None):
    """Each input channel c convolved with its own filter[:, :, c, :] ([KH, KW, C, M]);
    output channel c * M + m. Built as one Conv2D with a block-diagonal filter."""
    nhwc_only(data_format, "depthwise_conv2d")
    attrs = conv_attrs(strides, padding, _alias(dilations, rate, "dilations", "rate"),
                       "depthwise_conv2d")
    with name_scope(name, "depthwise", [input, filter]) as name:
        input, filter = _operands(input, filter, "depthwise_conv2d")
        kh, kw, c, m = rank4(filter.shape, "filter")
        if c is None or m is None:
            raise ValueError("tf.nn.depthwise_conv2d needs the filter's last two dimensions "
                             f"known when the graph is built, got shape {filter.shape}")
        eye = constant(np.eye(c)[:, :, None], dtype=filter.dtype, name="eye")  # [C, C, 1]
        full = reshape(expand_dims(filter, 3) * eye, [kh or -1, kw or -1, c, c * m])
        return Conv2D(input, full, name=name, **attrs)
