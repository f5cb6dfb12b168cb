"""`tf.layers`: TF 1.x's functional layers, built from existing ops (no kernels of their own).

    h = tf.layers.dense(x, 64, activation=tf.nn.relu)         # dense/kernel, dense/bias
    h = tf.layers.dropout(h, 0.5, training=is_training)       # bool tensor -> tf.cond
    y = tf.layers.dense(h, 10)                                # dense_1/...

Variable and op names, default initializers (kernel glorot_uniform via get_variable, bias
zeros), `reuse=True / tf.AUTO_REUSE`, regularizer collections and error messages follow TF1
(checked against TF 2.21 compat.v1 with tf_keras); the scoping rules and their two known
differences are described in `ops/layers_impl.py`. Only the functional API is offered (no
Layer classes), data_format='channels_last' only for conv/pooling, dilation_rate 1 only,
and no variable constraints. batch_normalization always computes TF's non-fused graph:
TF 2.x picks its fused kernel for 4-D inputs by default (op `FusedBatchNormV3`, and a moving
variance with Bessel's correction, n/(n-1)); here the moving variance is the batch's
population variance, as TF's non-fused path (fused=False) does.
"""
from .framework.registry import convert_to_tensor as _convert_to_tensor
from .ops import layers_impl as _impl
from .ops.conv_ops import conv2d as _conv2d
from .ops.init_ops import ones_initializer as _ones
from .ops.init_ops import zeros_initializer as _zeros
from .ops.manip_ops import expand_dims as _expand_dims
from .ops.manip_ops import transpose as _transpose
from .ops.array_ops import identity as _identity
from .ops.array_ops import reshape as _reshape
from .ops.nn_ops import dropout as _dropout
from .ops.nn_ops import moments as _moments
from .ops.pool_ops import avg_pool as _avg_pool
from .ops.pool_ops import max_pool as _max_pool

__all__ = ["dense", "conv2d", "max_pooling2d", "average_pooling2d", "flatten", "dropout",
           "batch_normalization"]


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=_zeros(), kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          trainable=True, name=None, reuse=None):
    """outputs = activation(inputs @ kernel + bias), over the last axis of `inputs`."""
    _impl.no_constraints("dense", kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint)
    units = int(units)
    if units < 0:
        raise ValueError("Received an invalid value for `units`, expected a positive integer. "
                         f"Received: units={units}")
    x = _impl.floating_input(inputs, "Dense")
    _impl.check_rank(x, name or "dense", 2, at_least=True)
    depth = _impl.defined_dim(x, -1, "The last dimension of the inputs to a Dense layer should "
                              f"be defined. Found None. Full input shape received: {x.shape}")
    with _impl.layer_scope(name, "dense", reuse):
        kernel = _impl.add_weight("kernel", [depth, units], x.dtype, kernel_initializer,
                                  kernel_regularizer, trainable)
        bias = _impl.add_weight("bias", [units], x.dtype, bias_initializer, bias_regularizer,
                                trainable) if use_bias else None
        outputs = _impl.matmul_last_axis(x, kernel, units)
        return _impl.finish(outputs, bias, activation, activity_regularizer)


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1), activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=_zeros(),
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None, reuse=None):
    """2-D convolution of NHWC `inputs` with a [kh, kw, in, filters] kernel, plus bias."""
    _impl.no_constraints("conv2d", kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint)
    _impl.channels_last(data_format, "conv2d")
    if _impl.pair(dilation_rate, "dilation_rate") != (1, 1):
        raise NotImplementedError(f"tf.layers.conv2d: dilation_rate={dilation_rate!r} is not "
                                  "supported, only 1; call tf.nn.conv2d(x, kernel, strides, "
                                  "padding, dilations=[1, d, d, 1]) with your own variables.")
    kh, kw = _impl.pair(kernel_size, "kernel_size")
    sh, sw = _impl.pair(strides, "strides")
    pad = _impl.padding_of(padding)
    x = _impl.floating_input(inputs, "Conv2D")
    _impl.check_rank(x, name or "conv2d", 4)
    channels = _impl.defined_dim(x, -1, "The channel dimension of the inputs should be "
                                 f"defined. The input_shape received is {x.shape}, where axis "
                                 "-1 (0-based) is the channel dimension, which found to be "
                                 "`None`.")
    with _impl.layer_scope(name, "conv2d", reuse):
        kernel = _impl.add_weight("kernel", [kh, kw, channels, int(filters)], x.dtype,
                                  kernel_initializer, kernel_regularizer, trainable)
        bias = _impl.add_weight("bias", [int(filters)], x.dtype, bias_initializer,
                                bias_regularizer, trainable) if use_bias else None
        outputs = _conv2d(x, kernel, strides=[1, sh, sw, 1], padding=pad, name="Conv2D")
        return _impl.finish(outputs, bias, activation, activity_regularizer)


def _pooling(pool, layer, inputs, pool_size, strides, padding, data_format, name):
    _impl.channels_last(data_format, layer)
    kh, kw = _impl.pair(pool_size, "pool_size")
    sh, sw = _impl.pair(strides, "strides")
    pad = _impl.padding_of(padding)
    x = _impl.floating_input(inputs, layer)
    _impl.check_rank(x, name or layer, 4)
    with _impl.layer_scope(name, layer, None):
        return pool(x, [1, kh, kw, 1], [1, sh, sw, 1], pad)


def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    """Max over each pool_size window of NHWC `inputs` (op `max_pooling2d/MaxPool`)."""
    return _pooling(_max_pool, "max_pooling2d", inputs, pool_size, strides, padding,
                    data_format, name)


def average_pooling2d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    """Mean over each pool_size window of NHWC `inputs` (op `average_pooling2d/AvgPool`)."""
    return _pooling(_avg_pool, "average_pooling2d", inputs, pool_size, strides, padding,
                    data_format, name)


def flatten(inputs, name=None, data_format="channels_last"):
    """[N, d1, d2, ...] -> [N, d1*d2*...]; rank 1 -> [N, 1]. channels_first inputs are put
    in channels-last order first, as TF does."""
    first = str(data_format).lower() == "channels_first"
    if not first:
        _impl.channels_last(data_format, "flatten")
    x = _convert_to_tensor(inputs)
    if x.shape.ndims == 0:
        raise ValueError(f"tf.layers.flatten needs inputs of rank >= 1, got shape {x.shape}")
    with _impl.layer_scope(name, "flatten", None):
        if x.shape.ndims == 1:
            return _expand_dims(x, 1)
        if first and x.shape.ndims is None:
            raise NotImplementedError("tf.layers.flatten: channels_first needs a known rank")
        if first and x.shape.ndims > 2:
            x = _transpose(x, [0, *range(2, x.shape.ndims), 1])
        return _reshape(x, _impl.flat_shape(x))


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """tf.nn.dropout(inputs, rate) when `training` (a Python bool, or a bool tensor through
    tf.cond), else `inputs` unchanged (an Identity op)."""
    if isinstance(rate, (int, float)) and not 0 <= rate <= 1:
        raise ValueError(f"Invalid value {rate} received for `rate`, expected a value between "
                         "0 and 1.")
    x = _convert_to_tensor(inputs)
    with _impl.layer_scope(name, "dropout", None):
        return _impl.smart_cond(
            training, lambda: _dropout(x, rate=rate, noise_shape=noise_shape, seed=seed),
            lambda: _identity(x))


def _norm_axis(x, axis):
    if not isinstance(axis, int):
        raise NotImplementedError(f"tf.layers.batch_normalization: axis must be one int, got "
                                  f"{axis!r}")
    ndims = x.shape.ndims
    if ndims is None:
        raise ValueError(f"Input has undefined rank. Received: input_shape={x.shape}.")
    if not -ndims <= axis < ndims:
        raise ValueError(f"Invalid axis: {axis} for input of rank {ndims}")
    axis %= ndims
    _impl.defined_dim(x, axis, "Input has undefined `axis` dimension. Received input with "
                      f"shape {x.shape}. Axis value: {axis}")
    return axis


def _bn_statistics(x, axis, moving_mean, moving_variance, momentum, training):
    """(mean, variance) to normalise with; adds the moving-average updates when training."""
    training = _impl.static_training(training)
    if training is False:
        return moving_mean, moving_variance
    axes = [i for i in range(x.shape.ndims) if i != axis]
    mean, variance = _moments(x, axes)
    if training is not True:
        mean, variance = (_impl.smart_cond(training, lambda b=b: b, lambda m=m: _identity(m))
                          for b, m in ((mean, moving_mean), (variance, moving_variance)))
    for var, value in ((moving_mean, mean), (moving_variance, variance)):
        _impl.moving_average_update(var, value, momentum, training)
    return mean, variance


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=_zeros(),
                        gamma_initializer=_ones(),
                        moving_mean_initializer=_zeros(),
                        moving_variance_initializer=_ones(), beta_regularizer=None,
                        gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                        training=False, trainable=True, name=None, reuse=None, renorm=False,
                        renorm_clipping=None, renorm_momentum=0.99, fused=None,
                        virtual_batch_size=None, adjustment=None):
    """Normalise with the batch's statistics when `training` (updating moving_mean and
    moving_variance through ops in tf.GraphKeys.UPDATE_OPS — run them, e.g. with
    tf.control_dependencies), else with the moving statistics."""
    _impl.no_constraints("batch_normalization", beta_constraint=beta_constraint,
                         gamma_constraint=gamma_constraint)
    _impl.unsupported("batch_normalization", renorm=renorm, renorm_clipping=renorm_clipping,
                      virtual_batch_size=virtual_batch_size, adjustment=adjustment)
    x = _impl.floating_input(inputs, "BatchNormalization")
    axis = _norm_axis(x, axis)
    size, dtype = x.shape.as_list()[axis], x.dtype
    with _impl.layer_scope(name, "batch_normalization", reuse):
        gamma = _impl.add_weight("gamma", [size], dtype, gamma_initializer, gamma_regularizer,
                                 trainable) if scale else None
        beta = _impl.add_weight("beta", [size], dtype, beta_initializer, beta_regularizer,
                                trainable) if center else None
        moving_mean = _impl.add_weight("moving_mean", [size], dtype, moving_mean_initializer,
                                       trainable=False)
        moving_variance = _impl.add_weight("moving_variance", [size], dtype,
                                           moving_variance_initializer, trainable=False)
        stats = _bn_statistics(x, axis, moving_mean, moving_variance, momentum, training)
        if axis != x.shape.ndims - 1:  # broadcast the per-channel vectors along `axis`
            bshape = [size if i == axis else 1 for i in range(x.shape.ndims)]
            stats, gamma, beta = ([_reshape(s, bshape) for s in stats],
                                  *(None if p is None else _reshape(p, bshape)
                                    for p in (gamma, beta)))
        return _impl.batchnorm(x, *stats, beta, gamma, epsilon)
