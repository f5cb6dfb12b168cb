"""Core array ops: constants, placeholders, identity, shapes, reshape, broadcast, cast, fill."""
import numpy as np

from ..framework import dtypes, registry
from ..framework.context import get_default_graph, name_scope
from ..framework.graph import Tensor
from ..framework.registry import constant_value, convert_to_tensor, defop
from ..framework.shapes import TensorShape, as_shape
from .op_utils import known_ints, shape_entry, shape_from_tensor
from .shape_rules import broadcast_shapes, same_shape

__all__ = [
    "constant", "placeholder", "placeholder_with_default", "identity", "stop_gradient",
    "no_op", "shape", "size", "rank", "reshape", "broadcast_to", "cast", "to_float",
    "to_double", "to_int32", "to_int64", "saturate_cast", "fill", "zeros", "ones",
    "zeros_like", "ones_like",
]


# ---- Const ------------------------------------------------------------------------------
def _to_numpy(value, dtype):
    """`value` as a NumPy array of `dtype` under TF1's conversion rules (TypeError if lossy)."""
    if dtype is None:
        dtype = dtypes.dtype_of_value(value)
    if dtype is dtypes.string:
        return dtypes.encode_strings(value)
    if isinstance(value, (np.ndarray, np.generic)):
        return np.array(value, dtype=dtype.as_numpy_dtype)
    array = np.asarray(value)
    kind = array.dtype.kind if array.size else "b"  # [] converts to any dtype
    lossy = (kind == "f" and not (dtype.is_floating or dtype.is_complex)) or \
        (kind == "c" and not dtype.is_complex) or kind in "USO"
    if lossy or (dtype.is_integer and array.size and (array.min() < dtype.min
                                                      or array.max() > dtype.max)):
        raise TypeError(f"Expected {dtype.name}, got {value!r} of type "
                        f"'{type(value).__name__}' instead.")
    return array.astype(dtype.as_numpy_dtype)


def _const_dtype(op):
    return op.attrs["dtype"]


Const = defop("Const", shape=lambda op: op.attrs["value"].shape, dtype=_const_dtype,
              kernel=lambda xp, value, dtype: value, fold=lambda op: op.attrs["value"],
              differentiable=False, aliases=True)


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """TF1's `tf.constant`: a scalar fills `shape`; otherwise the element count must match."""
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    array = _to_numpy(value, dtype)
    if shape is not None:
        shape = tuple(as_shape(shape).as_list())
        if verify_shape and array.shape != shape:
            raise TypeError(f"Expected Tensor's shape: {shape}, got {array.shape}.")
        if array.size == 1:
            array = np.full(shape, array.reshape(()), dtype=array.dtype)
        elif array.size == int(np.prod(shape)):
            array = array.reshape(shape)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tried to "
                            f"convert {array.size} element(s) to shape {list(shape)}: "
                            f"{int(np.prod(shape))} needed.")
    return Const(value=array, dtype=dtypes.as_dtype(array.dtype) if dtype is None else dtype,
                 name=name)


registry.set_constant_maker(lambda value, dtype, name: constant(value, dtype,
                                                                name=name or "Const"))


# ---- Placeholders and identity ----------------------------------------------------------
def _never_runs(xp, **attrs):
    raise RuntimeError("A Placeholder executed without a feed (the planner should prevent this)")


Placeholder = defop("Placeholder", shape=lambda op: op.attrs["shape"], dtype=_const_dtype,
                    kernel=_never_runs, differentiable=False)


def placeholder(dtype, shape=None, name=None):
    return Placeholder(dtype=dtypes.as_dtype(dtype), shape=as_shape(shape), name=name)


PlaceholderWithDefault = defop(
    "PlaceholderWithDefault", shape=lambda op: op.attrs["shape"],
    kernel=lambda xp, x, shape: x, aliases=True, grad=lambda op, dy: [dy])


def placeholder_with_default(input, shape, name=None):
    input = convert_to_tensor(input)
    shape = as_shape(shape)
    if not shape.is_compatible_with(input.shape):
        raise ValueError(f"placeholder_with_default: shape {shape} is not compatible with the "
                         f"default value's shape {input.shape}")
    return PlaceholderWithDefault(input, shape=shape, name=name)


Identity = defop("Identity", shape=same_shape, kernel=lambda xp, x: x, aliases=True,
                 grad=lambda op, dy: [dy], fold=lambda op: constant_value(op.inputs[0]))


def identity(input, name=None):
    return Identity(input, name=name)


StopGradient = defop("StopGradient", shape=same_shape, kernel=lambda xp, x: x, aliases=True,
                     differentiable=False)


def stop_gradient(input, name=None):
    return StopGradient(input, name=name)


NoOp = defop("NoOp", shape=lambda op: [], kernel=lambda xp: (), differentiable=False)


def no_op(name=None):
    return NoOp(name=name)


# ---- Shapes -----------------------------------------------------------------------------
def _out_type(op):
    return op.attrs["out_type"]


def _fold_shape(op):
    shape = op.inputs[0].shape
    if shape.is_fully_defined():
        return np.array(shape.as_list(), dtype=op.attrs["out_type"].as_numpy_dtype)
    return None


Shape = defop("Shape", shape=lambda op: [op.inputs[0].shape.ndims], dtype=_out_type,
              kernel=lambda xp, x, out_type: xp.asarray(x.shape, dtype=out_type.as_numpy_dtype),
              differentiable=False, fold=_fold_shape)


def shape(input, name=None, out_type=dtypes.int32):
    return Shape(input, out_type=dtypes.as_dtype(out_type), name=name)


def _fold_size(op):
    n = op.inputs[0].shape.num_elements()
    return None if n is None else np.array(n, dtype=op.attrs["out_type"].as_numpy_dtype)


Size = defop("Size", shape=lambda op: (), dtype=_out_type, differentiable=False,
             kernel=lambda xp, x, out_type: xp.asarray(x.size, dtype=out_type.as_numpy_dtype),
             fold=_fold_size)


def size(input, name=None, out_type=dtypes.int32):
    return Size(input, out_type=dtypes.as_dtype(out_type), name=name)


def _fold_rank(op):
    n = op.inputs[0].shape.ndims
    return None if n is None else np.array(n, dtype=np.int32)


Rank = defop("Rank", shape=lambda op: (), dtype=lambda op: dtypes.int32, differentiable=False,
             kernel=lambda xp, x: xp.asarray(x.ndim, dtype=np.int32), fold=_fold_rank)


def rank(input, name=None):
    return Rank(input, name=name)


def as_shape_tensor(shape, name="shape"):
    """A 1-D int32 tensor from a list (which may hold scalar tensors), a tuple or a tensor."""
    if isinstance(shape, (list, tuple)) and any(isinstance(d, Tensor) for d in shape):
        from .manip_ops import stack
        return stack([convert_to_tensor(d, dtype=dtypes.int32) for d in shape], name=name)
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    return convert_to_tensor(shape, dtype=dtypes.int32, name=name)


# ---- Reshape / BroadcastTo ----------------------------------------------------------------
def _reshape_shape(op):
    x, target = op.inputs[0], op.inputs[1]
    out, values = shape_from_tensor(target), known_ints(target)
    if out.dims is not None and values is not None and -1 in values:
        dims = list(out.dims)
        dims[values.index(-1)] = _inferred_dim(x, target, values, out)
        return TensorShape(dims)
    n, m = x.shape.num_elements(), out.num_elements()
    if n is not None and m is not None and n != m:
        raise ValueError(f"Cannot reshape a tensor with {n} elements to shape "
                         f"{list(out.dims)} ({m} elements)")
    return out


def _inferred_dim(x, target, values, out):
    """The size a reshape of `x` to `values` gives its -1 entry, or None when not known at
    build time. An entry tf.shape(x)[i] cancels x's unknown dim i, as in TF: reshaping
    x [None, 6] to [tf.shape(x)[0], 2, -1] gives [None, 2, 3]."""
    if x.shape.dims is None:
        return None
    at, matched = values.index(-1), {}
    for k, t in enumerate(target.op.inputs if target.op.type == "Pack" else ()):
        entry = shape_entry(t)
        if values[k] is None and entry is not None and entry[0] is x \
                and entry[1] not in matched.values():
            matched[k] = entry[1]
    rest = [v for k, v in enumerate(values) if k != at and k not in matched]
    size = [d for i, d in enumerate(x.shape.dims) if i not in matched.values()]
    if None in rest or None in size:
        return None
    known, n = int(np.prod([v for v in rest if v >= 0])), int(np.prod(size))
    if known == 0 or n % known:
        if matched:
            return None  # not a whole number: the reshape fails when it runs
        raise ValueError(f"Cannot reshape a tensor with {n} elements to shape {_listed(out)}")
    return n // known


def _listed(shape):
    return "[" + ",".join("-1" if d is None else str(d) for d in shape.dims) + "]"


Reshape = defop("Reshape", shape=_reshape_shape, aliases=True,
                kernel=lambda xp, x, s: xp.reshape(x, tuple(s.tolist())),
                grad=lambda op, dy: [reshape(dy, shape(op.inputs[0])), None])


def reshape(tensor, shape, name=None):
    return Reshape(tensor, as_shape_tensor(shape), name=name)


def _broadcast_to_shape(op):
    target = shape_from_tensor(op.inputs[1])
    merged = broadcast_shapes(op.inputs[0].shape, target)
    return target if target.dims is not None else merged


BroadcastTo = defop("BroadcastTo", shape=_broadcast_to_shape,
                    kernel=lambda xp, x, s: broadcast_value(xp, x, tuple(s.tolist())),
                    broadcasting=True, grad=lambda op, dy: [dy, None])


def broadcast_to(input, shape, name=None):
    return BroadcastTo(input, as_shape_tensor(shape), name=name)


def _sum_to(xp, g, target):
    """`g` summed over the axes along which an array of shape `target` was broadcast."""
    if g.shape == target:
        return g
    lead = g.ndim - len(target)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(target)
                                      if d == 1 and g.shape[lead + i] != 1)
    return (g.sum(axis=axes) if axes else g).reshape(target)


def broadcast_value(xp, g, shape):
    """`g` broadcast to `shape` as a fresh array (faster than NumPy's broadcast_to view)."""
    out = xp.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


# SumLike(g, x) undoes broadcasting x to g's shape; BroadcastLike(g, x) broadcasts g to x's.
# Each is the other's gradient; `x` only lends its runtime shape (no gradient flows to it).
SumLike = defop("SumLike", shape=lambda op: op.inputs[1].shape, aliases=True,
                kernel=lambda xp, g, like: _sum_to(xp, g, like.shape),
                grad=lambda op, dy: [BroadcastLike(dy, op.inputs[0]), None])
BroadcastLike = defop("BroadcastLike", shape=lambda op: op.inputs[1].shape,
                      kernel=lambda xp, g, like: broadcast_value(xp, g, like.shape),
                      grad=lambda op, dy: [SumLike(dy, op.inputs[0]), None])


# ---- Cast and fill ----------------------------------------------------------------------
def _cast_grad(op, dy):
    src = op.inputs[0].dtype
    if not (src.is_floating or src.is_complex) or not (op.attrs["DstT"].is_floating
                                                        or op.attrs["DstT"].is_complex):
        return [None]
    return [cast(dy, src)]


Cast = defop("Cast", shape=same_shape, dtype=lambda op: op.attrs["DstT"], aliases=True,
             kernel=lambda xp, x, DstT: x.astype(DstT.as_numpy_dtype, copy=False)
             if hasattr(x, "astype") else xp.asarray(x, dtype=DstT.as_numpy_dtype),
             grad=_cast_grad)


def cast(x, dtype, name=None):
    dtype = dtypes.as_dtype(dtype)
    x = convert_to_tensor(x)
    if x.dtype is dtype:
        return x
    return Cast(x, DstT=dtype, name=name or "Cast")


def to_float(x, name="ToFloat"):
    return cast(x, dtypes.float32, name=name)


def to_double(x, name="ToDouble"):
    return cast(x, dtypes.float64, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, dtypes.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, dtypes.int64, name=name)


def saturate_cast(value, dtype, name=None):
    value = convert_to_tensor(value)
    dtype = dtypes.as_dtype(dtype)
    with name_scope(name, "saturate_cast", [value]) as name:
        if value.dtype.is_floating and dtype.is_integer or value.dtype.size > dtype.size:
            from .math_ops import maximum, minimum
            np_type = value.dtype.as_numpy_dtype
            value = maximum(minimum(value, np.asarray(dtype.max).astype(np_type)),
                            np.asarray(dtype.min).astype(np_type))
        return cast(value, dtype, name=name)


def _fill_shape(op):
    return shape_from_tensor(op.inputs[0])


Fill = defop("Fill", shape=_fill_shape, dtype=lambda op: op.inputs[1].dtype,
             kernel=lambda xp, dims, value: xp.full(tuple(dims.tolist()), value,
                                                    dtype=value.dtype),
             grad=lambda op, dy: [None, _sum_all(dy)])


def _sum_all(x):
    from .reduction_ops import reduce_sum
    return reduce_sum(x)


def fill(dims, value, name=None):
    return Fill(as_shape_tensor(dims), convert_to_tensor(value), name=name)


def _filled(shape, value, dtype, name):
    dtype = dtypes.as_dtype(dtype)
    if isinstance(shape, Tensor) or (isinstance(shape, (list, tuple))
                                     and any(isinstance(d, Tensor) for d in shape)):
        with name_scope(name) as scope:
            return fill(shape, constant(value, dtype), name=scope)
    return constant(np.full(tuple(as_shape(shape).as_list()), value,
                            dtype=dtype.as_numpy_dtype), dtype, name=name)


def zeros(shape, dtype=dtypes.float32, name="zeros"):
    return _filled(shape, 0, dtype, name)


def ones(shape, dtype=dtypes.float32, name="ones"):
    return _filled(shape, 1, dtype, name)


ZerosLike = defop("ZerosLike", shape=same_shape, kernel=lambda xp, x: xp.zeros_like(x),
                  differentiable=False)
OnesLike = defop("OnesLike", shape=same_shape, kernel=lambda xp, x: xp.ones_like(x),
                 differentiable=False)


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    tensor = convert_to_tensor(tensor)
    out = ZerosLike(tensor, name=name)
    return out if dtype is None else cast(out, dtype)


def ones_like(tensor, dtype=None, name=None, optimize=True):
    tensor = convert_to_tensor(tensor)
    out = OnesLike(tensor, name=name)
    return out if dtype is None else cast(out, dtype)


def get_default_graph_seed():
    return get_default_graph().seed
