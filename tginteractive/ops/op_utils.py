"""Build-time helpers shared by the op modules: what a Python value or a tensor is known to be
when the graph is built, dtype checks, and constant folding through a kernel.

Imports only `framework/` (and NumPy), so every op module can use it without an import cycle.
"""
import numpy as np

from ..framework import errors, graph, registry
from ..framework.registry import constant_value, convert_to_tensor
from ..framework.shapes import TensorShape, unknown_shape

_FOLD_LIMIT = 4096  # constant_value() folds ops only over inputs this small (elements)


def is_tensor_like(value):
    """A Tensor, or a value with a registered tensor conversion (e.g. a Variable)."""
    return isinstance(value, graph.Tensor) or any(isinstance(value, t)
                                                  for t, _ in registry._conversions)


# ---- values known when the graph is built ---------------------------------------------------
def kernel_outputs(values):
    """A variable-arity kernel's result: one value for one output, else a tuple (the
    registry's convention; e.g. tf.split(x, 1) has a single output)."""
    values = tuple(values)
    return values[0] if len(values) == 1 else values


def is_zero(tensor):
    """True for a tensor known to be all zeros: autodiff passes ZerosLike for the outputs of a
    multi-output op that got no gradient, which a gradient builder may then skip (unused, the
    ZerosLike op is pruned and never runs)."""
    return tensor is None or tensor.op.type == "ZerosLike"


def static_ints(value, what):
    """`value` (ints, or a tensor known at build time) as a tuple of Python ints."""
    if is_tensor_like(value):
        tensor = convert_to_tensor(value)
        value = constant_value(tensor)
        if value is None:
            raise NotImplementedError(f"{what} must be known when the graph is built (got "
                                      f"tensor '{tensor.name}'); pass Python ints.")
    array = np.asarray(value)
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"{what} must be integers, got {value!r}")
    return tuple(int(v) for v in array.reshape(-1))


def static_int(value, what):
    ints = static_ints(value, what)
    if isinstance(value, (list, tuple)) or len(ints) != 1:
        raise TypeError(f"{what} must be a single integer, got {value!r}")
    return ints[0]


def known_ints(tensor):
    """The entries of a 1-D int tensor as ints, None where unknown at build time; None when
    not even its length is known. Understands constants, Pack (tf.stack of scalars) and
    Shape (its input's partial static shape)."""
    value = constant_value(tensor)
    if value is not None:
        return [int(v) for v in np.reshape(value, [-1])]
    if tensor.op.type == "Pack":
        return [None if constant_value(t) is None else int(constant_value(t))
                for t in tensor.op.inputs]
    if tensor.op.type == "Shape" and tensor.op.inputs[0].shape.dims is not None:
        return list(tensor.op.inputs[0].shape.dims)
    return None


def shape_entry(tensor):
    """(x, i) when `tensor` is tf.shape(x)[i] for a static index (i made >= 0), else None."""
    op = tensor.op
    if op.type != "StridedSlice" or op.inputs[0].op.type != "Shape":
        return None
    spec, x = op.attrs["spec"], op.inputs[0].op.inputs[0]
    if len(spec) != 1 or spec[0][0] != "index" or not isinstance(spec[0][1], int) \
            or x.shape.dims is None or not -len(x.shape.dims) <= spec[0][1] < len(x.shape.dims):
        return None
    return x, spec[0][1] % len(x.shape.dims)


def partial_ints(tensor, n):
    """known_ints(tensor), or n unknowns when nothing about its entries is known."""
    values = known_ints(tensor)
    return [None] * n if values is None else values


def shape_from_tensor(shape_tensor, rank=None):
    """Static TensorShape described by a 1-D int tensor (unknown or negative entries → None)."""
    values = known_ints(shape_tensor)
    if values is None:
        n = shape_tensor.shape.dims[0] if shape_tensor.shape.ndims == 1 else rank
        return unknown_shape(n)
    return TensorShape([None if d is None or d < 0 else d for d in values])


def fold_by_kernel(op):
    """The op's value when all its (small) inputs are known at build time, else None."""
    values = [constant_value(t) for t in op.inputs]
    if any(v is None for v in values) or sum(np.size(v) for v in values) > _FOLD_LIMIT:
        return None
    try:
        out = op.op_def.kernel(np, *values, **op.attrs)
    except (errors.OpError, ValueError, IndexError, TypeError):
        return None  # the error is reported when the graph runs
    return tuple(np.array(o) for o in out) if isinstance(out, tuple) else np.array(out)


def as_list(out):
    """An op call's result (one Tensor or a tuple of them) as a list."""
    return list(out) if isinstance(out, tuple) else [out]


# ---- dtypes ---------------------------------------------------------------------------------
def same_dtype(values, op_type):
    """Convert `values` to Tensors of one dtype (Python values take the first tensor's)."""
    first = next((convert_to_tensor(v) for v in values if is_tensor_like(v)), None)
    dtype = None if first is None else first.dtype
    tensors = [convert_to_tensor(v, dtype=None if is_tensor_like(v) else dtype) for v in values]
    for t in tensors:
        if t.dtype is not tensors[0].dtype:
            raise TypeError(f"{op_type} inputs must all have the same dtype: '{t.name}' is "
                            f"{t.dtype.name}, '{tensors[0].name}' is {tensors[0].dtype.name}.")
    return tensors


def check_floating(t, fn, arg="x"):
    """TypeError unless `t` is floating point; `arg` names it in the suggested tf.cast."""
    if not t.dtype.is_floating:
        raise TypeError(f"{fn} needs a floating-point tensor; '{t.name}' has dtype "
                        f"{t.dtype.name}. Use tf.cast({arg}, tf.float32) first.")


def floating_tensor(x, what, name=None):
    """`x` as a Tensor, which must be floating point (TypeError naming `what` otherwise)."""
    x = convert_to_tensor(x, name=name)
    check_floating(x, what)
    return x


# ---- kernels ----------------------------------------------------------------------------------
def kernel_axis(axis, ndim, op_type):
    """`axis` made non-negative at run time (InvalidArgumentError when out of range)."""
    if not -ndim <= axis < ndim:
        raise errors.InvalidArgumentError(None, None, f"{op_type}: axis {axis} is out of "
                                          f"range for a tensor of rank {ndim}")
    return axis % ndim


def at_runtime(check, *args):
    """check(*args), its ValueError raised as InvalidArgumentError (as kernels report)."""
    try:
        return check(*args)
    except ValueError as e:
        raise errors.InvalidArgumentError(None, None, str(e)) from None
