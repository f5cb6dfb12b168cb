"""`gradients(ys, xs)`: builds gradient ops backwards through the graph; never executes.

Each op's gradient builder returns one entry per input. Here, once for all ops, gradients of
broadcasting ops are summed back to their input's shape, fan-in is aggregated with add_n,
and integer tensors, stop_gradients and non-differentiable ops end the backward pass.
"""
import numpy as np

from .framework.context import name_scope
from .framework.function_graph import set_gradients_function
from .framework.registry import convert_to_tensor
from .ops.array_ops import SumLike, constant, ones_like, reshape, zeros_like
from .ops.math_ops import add_n
from .ops.reduction_ops import reduce_sum


def _unbroadcast(grad, like):
    """`grad` summed over the axes along which `like` was broadcast."""
    g, x = grad.shape, like.shape
    if g.is_fully_defined() and x.is_fully_defined():
        if g.dims == x.dims:
            return grad
        lead = len(g.dims) - len(x.dims)
        axes = list(range(lead)) + [lead + i for i, d in enumerate(x.dims)
                                    if d == 1 and g.dims[lead + i] != 1]
        summed = reduce_sum(grad, axis=axes, keepdims=False) if axes else grad
        return reshape(summed, x.as_list()) if summed.shape.dims != x.dims else summed
    return SumLike(grad, like)


def _differentiable(t):
    return t.dtype.is_floating or t.dtype.is_complex


def _as_tensor_list(xs):
    xs = list(xs) if isinstance(xs, (list, tuple)) else [xs]
    return [x._as_graph_element() if hasattr(x, "_as_graph_element") else convert_to_tensor(x)
            for x in xs]


def _between(ys, xs):
    """Ops downstream of some x and upstream of some y (data edges only)."""
    downstream, stack = set(), [op for x in xs for op in x._consumers]
    while stack:
        op = stack.pop()
        if op not in downstream:
            downstream.add(op)
            stack.extend(c for t in op.outputs for c in t._consumers)
    between, stack = set(), [y.op for y in ys if y.op in downstream]
    while stack:
        op = stack.pop()
        if op not in between:
            between.add(op)
            stack.extend(t.op for t in op.inputs if t.op in downstream)
    return between


def _seed(y, grad_y):
    if grad_y is None:
        if not _differentiable(y):
            raise TypeError(f"Gradients of '{y.name}' ({y.dtype.name}) are not defined: only "
                            "floating-point tensors can be differentiated.")
        if y.shape.is_fully_defined():
            return constant(np.ones(y.shape.as_list(), y.dtype.as_numpy_dtype), y.dtype,
                            name="grad_ys")
        return ones_like(y, name="grad_ys")
    grad_y = convert_to_tensor(grad_y, dtype=y.dtype)
    if not grad_y.shape.is_compatible_with(y.shape):
        raise ValueError(f"grad_ys for '{y.name}' has shape {grad_y.shape}, which is not "
                         f"compatible with the shape of y: {y.shape}")
    return grad_y


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None):
    """Symbolic d(sum(ys))/d(xs): a list with one Tensor (or None if unconnected) per x."""
    ys, xs = _as_tensor_list(ys), _as_tensor_list(xs)
    grad_ys = grad_ys if isinstance(grad_ys, (list, tuple)) else [grad_ys] * len(ys)
    if len(grad_ys) != len(ys):
        raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys")
    stop = set(_as_tensor_list(stop_gradients)) if stop_gradients is not None else set()
    with name_scope(name, "gradients", ys + xs):
        pending = {}
        for y, gy in zip(ys, grad_ys):
            pending.setdefault(y, []).append(_seed(y, gy))
        for op in sorted(_between(ys, xs), key=lambda o: o._id, reverse=True):
            out_grads = [_aggregate(pending.get(t)) for t in op.outputs]
            if all(g is None for g in out_grads) or not op.op_def.differentiable:
                continue
            if any(g is None for g in out_grads):
                out_grads = [zeros_like(t) if g is None else g
                             for g, t in zip(out_grads, op.outputs)]
            with name_scope(op.name + "_grad"):
                in_grads = op.op_def.grad(op, *out_grads)
                if len(in_grads) != len(op.inputs):
                    raise ValueError(f"The gradient of {op.describe()} returned "
                                     f"{len(in_grads)} values for {len(op.inputs)} inputs.")
                for t, g in zip(op.inputs, in_grads):
                    if g is None or t in stop or not _differentiable(t):
                        continue
                    g = convert_to_tensor(g, dtype=t.dtype)
                    if op.op_def.broadcasting:
                        g = _unbroadcast(g, t)
                    pending.setdefault(t, []).append(g)
        return [_aggregate(pending.get(x)) for x in xs]


def _aggregate(grads):
    if not grads:
        return None
    if len(grads) == 1:
        return grads[0]
    return add_n(grads)


# tf.cond/tf.while_loop gradient builders (ops/cond_ops.py, ops/while_ops.py) differentiate their
# bodies with this; they sit below autodiff in the import arrows, so autodiff plugs itself in.
set_gradients_function(gradients)
