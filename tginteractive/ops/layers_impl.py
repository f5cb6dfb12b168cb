"""The machinery behind `tf.layers` (public functions in `tginteractive/layers.py`).

Everything is composed from existing public ops (get_variable, variable_scope, matmul,
conv2d, bias_add, pools, dropout, moments, cond, assign_sub); no op is registered here.

Naming follows TF1's `tf.layers` (checked against TF 2.21 compat.v1 with tf_keras):
an unnamed layer opens the variable scope `dense`, `dense_1`, ... (its ops land in the name
scope that variable scope opens, e.g. `dense/MatMul`, or `tower_1/dense/MatMul` on a second
entry of `variable_scope('tower', reuse=True)`); a named layer opens exactly `name`;
`reuse=True` without a name opens the base name itself.

Default names are unique per entry of the enclosing variable scope, as TF1 counts them
(ops/variable_scope.py): re-entering `variable_scope('tower', reuse=True)` builds
`tower/dense` again and shares its variables.
"""
import contextlib
import numbers

from ..framework.context import add_to_collection, name_scope
from ..framework.graph import GraphKeys, Tensor
from ..framework.registry import constant_value, convert_to_tensor
from .array_ops import cast, reshape, shape
from .cond_ops import cond
from .linalg_ops import matmul
from .manip_ops import concat, stack
from .math_ops import rsqrt, truediv
from .nn_ops import bias_add
from .variable_scope import get_variable, variable_scope
from .variables import Variable, assign_sub, global_variables

# ---- scopes -----------------------------------------------------------------------------------
@contextlib.contextmanager
def layer_scope(name, default_name, reuse):
    """Open the layer's variable scope (and with it the name scope its ops go in), as TF's
    Layer._set_scope: `name`, else a unique `default_name`; with reuse, the base name itself."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"tf.layers: name must be a string or None, got {name!r}")
    if name is None and reuse:
        name = default_name
    with variable_scope(name, default_name=default_name, reuse=reuse) as scope:
        yield scope


# ---- weights and losses --------------------------------------------------------------------
def add_weight(name, shape, dtype, initializer=None, regularizer=None, trainable=True):
    """get_variable in the layer's scope; the regularizer runs (in the layer's name scope,
    `dense/kernel/Regularizer/...`) only when the variable is new, as TF's layers do."""
    existing = {id(v) for v in global_variables()} if regularizer is not None else ()
    var = get_variable(name, shape, dtype, initializer=initializer, trainable=trainable)
    if regularizer is not None and id(var) not in existing:
        with name_scope(f"{name}/Regularizer"):
            loss = regularizer(var)
        if loss is not None:
            add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return var


def finish(outputs, bias, activation, activity_regularizer):
    """BiasAdd, activation, then the activity loss (mean over the batch), as TF's layers."""
    if bias is not None:
        outputs = bias_add(outputs, bias)
    if activation is not None:
        outputs = activation(outputs)
    if activity_regularizer is not None:
        with name_scope("ActivityRegularizer"):
            loss = activity_regularizer(outputs)
            if loss is not None:
                loss = convert_to_tensor(loss)
                batch = cast(shape(outputs)[0], loss.dtype)
                add_to_collection(GraphKeys.REGULARIZATION_LOSSES, truediv(loss, batch))
    return outputs


# ---- argument checks -----------------------------------------------------------------------
def no_constraints(layer, **constraints):
    for arg, value in constraints.items():
        if value is not None:
            raise NotImplementedError(
                f"tf.layers.{layer}: {arg} is not supported (the optimizers here do not apply "
                f"variable constraints); pass {arg}=None and apply it after the training step "
                f"with tf.assign(var, constraint(var)).")


def unsupported(layer, **options):
    for arg, value in options.items():
        if value not in (None, False):
            raise NotImplementedError(f"tf.layers.{layer}: {arg}={value!r} is not supported; "
                                      f"leave it at its default.")


def channels_last(data_format, layer):
    value = str(data_format).lower()
    if value == "channels_first":
        raise NotImplementedError(
            f"tf.layers.{layer}: data_format='channels_first' is not supported, only "
            f"'channels_last' (NHWC); transpose with tf.transpose(x, [0, 2, 3, 1]) first.")
    if value != "channels_last":
        raise ValueError("The `data_format` argument must be one of \"channels_first\", "
                         f"\"channels_last\". Received: {data_format}")


def pair(value, arg):
    """An int or a tuple/list of two ints (kernel_size, strides, pool_size...)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return int(value[0]), int(value[1])
    raise ValueError(f"The `{arg}` argument must be a tuple of 2 integers. Received: {value!r}")


def padding_of(padding):
    value = str(padding).lower()
    if value not in ("valid", "same"):
        raise ValueError("The `padding` argument must be one of \"valid\", \"same\". "
                         f"Received: {padding}")
    return value.upper()


def floating_input(inputs, layer):
    x = convert_to_tensor(inputs)
    if not x.dtype.is_floating:
        raise TypeError(f"A {layer} layer can only be built with a floating-point dtype. "
                        f"Received: dtype={x.dtype.name}")
    return x


def check_rank(x, layer, expected, at_least=False):
    ndims = x.shape.ndims
    if ndims is not None and (ndims < expected if at_least else ndims != expected):
        kind = "min_ndim" if at_least else "ndim"
        raise ValueError(f'Input 0 of layer "{layer}" is incompatible with the layer: expected '
                         f"{kind}={expected}, found ndim={ndims}. Full shape received: "
                         f"{x.shape}")


def defined_dim(x, axis, message):
    if x.shape.ndims is None or x.shape.as_list()[axis] is None:
        raise ValueError(message)
    return x.shape.as_list()[axis]


# ---- computations --------------------------------------------------------------------------
def matmul_last_axis(x, kernel, units):
    """x @ kernel over x's last axis: MatMul for rank 2, else TF's Tensordot (reshape to
    [-1, d], MatMul, reshape back), whose final Reshape is named `<layer>/Tensordot`."""
    if x.shape.ndims == 2:
        return matmul(x, kernel)
    lead = x.shape.as_list()[:-1]
    with name_scope("Tensordot") as scope:
        flat = reshape(x, [-1, kernel.shape.as_list()[0]])
        product = matmul(flat, kernel)
        out_shape = lead + [units] if None not in lead else concat(
            [shape(x)[:-1], [units]], 0)
        outputs = reshape(product, out_shape, name=scope)
    outputs.set_shape(lead + [units])
    return outputs


def flat_shape(x):
    """The shape argument of flatten's Reshape: [-1, prod] when known, else [N, -1]."""
    rest = x.shape.as_list()[1:] if x.shape.ndims is not None else [None]
    if None not in rest:
        size = 1
        for dim in rest:
            size *= dim
        return [-1, size]
    return stack([shape(x)[0], -1], name="Reshape/shape")


def static_training(training):
    """True / False when `training` is known now (Python value or constant tensor), else the
    bool tensor (TF's smart_cond rule). None means False: there is no Keras learning phase."""
    if training is None:
        return False
    if isinstance(training, (Tensor, Variable)):
        tensor = convert_to_tensor(training)
        value = constant_value(tensor)
        if value is None:
            if not tensor.dtype.is_bool:
                raise TypeError(f"`training` must be a bool tensor, got {tensor.dtype.name}")
            return tensor
        training = bool(value)
    if training not in (True, False):
        raise TypeError("`training` must be a Tensor, or a Python bool, or 1 or 0. Found "
                        f"instead: {training!r}")
    return bool(training)


def smart_cond(training, true_fn, false_fn):
    training = static_training(training)
    if isinstance(training, bool):
        return true_fn() if training else false_fn()
    return cond(training, true_fn, false_fn)


def moving_average_update(var, value, momentum, training):
    """TF's assign_moving_average: var -= (var - value) * (1 - momentum), named
    `AssignMovingAvg`. With a bool tensor `training` the decay is 0 when it is False (TF
    uses a cond there; the effect is the same). Added to UPDATE_OPS (as an op, as TF 2.x)."""
    with name_scope(None, "AssignMovingAvg") as scope:
        decay = convert_to_tensor(1.0 - momentum, dtype=var.dtype.base_dtype, name="decay")
        if not isinstance(training, bool):
            decay = decay * cast(training, decay.dtype)
        update = assign_sub(var, (var - value) * decay, name=scope)
    add_to_collection(GraphKeys.UPDATE_OPS, update.op)
    return update


def batchnorm(x, mean, variance, offset, scale, epsilon):
    """TF's nn.batch_normalization, op for op: batchnorm/{add, Rsqrt, mul, ..., add_1}."""
    with name_scope("batchnorm"):
        inv = rsqrt(variance + epsilon)
        if scale is not None:
            inv = inv * scale
        scaled = x * inv
        shift = offset - mean * inv if offset is not None else -mean * inv
        return scaled + shift
