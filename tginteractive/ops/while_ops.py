"""tf.while_loop: one `While` op whose cond and body are traced into sub-graphs.

The While kernel runs the cond and body sub-graphs (ops/cond_ops.py `run_branch`) until the
cond is false or `maximum_iterations` is reached, checking each loop variable's shape against
its shape invariant (the static shape of the While's outputs). Once a gradient of the loop has
been built, each forward run records every iteration's loop values and the intermediates the
body's gradient reads (unless back_prop=False); `WhileGrad` then runs the body's gradient
sub-graph backwards over those records, summing the gradients of captured tensors.
"""
import numpy as np

from ..framework import dtypes, errors
from ..framework.context import name_scope
from ..framework.function_graph import (Branch, FuncGraph, add_outer_controls, describe,
                                        flatten, innermost_graph, pack, same_structure,
                                        tracing, variant)
from ..framework.graph import Operation, Tensor
from ..framework.registry import convert_to_tensor, defop
from ..framework.shapes import TensorShape, as_shape
from .array_ops import placeholder
from .cond_ops import as_tuple, bind_captures, grad_branch, is_float, run_branch, truth

__all__ = ["while_loop"]


# ---- While --------------------------------------------------------------------------------
def _check_shapes(values, op, invariants, names, iteration):
    for k, (value, shape) in enumerate(zip(values, invariants)):
        dims, got = shape.dims, np.shape(value)
        if dims is None or (len(dims) == len(got) and
                            all(d is None or d == g for d, g in zip(dims, got))):
            continue
        when = "when entering the loop" if iteration == 0 else f"after iteration {iteration}"
        raise errors.InvalidArgumentError(
            None, None, f"tf.while_loop '{op.name}': loop variable {k} ('{names[k]}') has shape "
            f"{list(got)} {when}, but its shape invariant is {shape}. To let its shape vary "
            "across iterations, pass shape_invariants to tf.while_loop with a less specific "
            "shape for it, e.g. tf.TensorShape([None]).")


def _captured_values(ctx, body, num_vars, caps):
    """Captured values for the gradient; a variable (not an input value) is read by name."""
    inner = body.inputs[num_vars:]
    return [ctx.state.variables.get(t.op.name) if t.op.type == "VariableV2" else v
            for t, v in zip(inner, caps)]


def _while_kernel(ctx, xp, *args, cond_branch, body_branch, num_vars, has_max, invariants,
                  var_names, back_prop):
    limit = int(args[-1]) if has_max else None
    args = args[:-1] if has_max else args
    loop, caps = list(args[:num_vars]), list(args[num_vars:])
    steps = [] if back_prop and body_branch.record else None
    _check_shapes(loop, ctx.op, invariants, var_names, 0)
    count = 0
    while (limit is None or count < limit) and \
            truth(run_branch(ctx, cond_branch, loop + caps)[0], ctx.op):
        out = run_branch(ctx, body_branch, loop + caps)
        if steps is not None:
            steps.append((loop, out[-1]))
        loop = list(out[:num_vars])
        count += 1
        _check_shapes(loop, ctx.op, invariants, var_names, count)
    trace = None if steps is None else \
        (_captured_values(ctx, body_branch, num_vars, caps), steps)
    return tuple(loop) + (trace,)


def _while_grad(op, *dys):
    """WhileGrad over the recorded iterations, w.r.t. float loop inputs and captures."""
    if not op.attrs["back_prop"]:
        return [None] * len(op.inputs)
    body, num_vars = op.attrs["body_branch"], op.attrs["num_vars"]
    regular = op.inputs[:len(body.inputs)]
    out_idx = [j for j in range(num_vars) if is_float(op.outputs[j])]
    in_idx = [k for k, t in enumerate(regular) if is_float(t)]
    grads = [None] * len(op.inputs)
    if not out_idx or not in_idx:
        return grads
    specs = [(op.outputs[j].dtype, op.outputs[j].shape) for j in out_idx]
    grad = grad_branch(body, out_idx, in_idx, specs, op.graph.get_name_scope())
    body.record = True
    op.graph._bump()  # forward runs must now record their iterations
    outs = as_tuple(WhileGradOp(*[dys[j] for j in out_idx], op.outputs[-1], grad_branch=grad,
                                num_vars=num_vars, num_dvars=len(out_idx),
                                wrt=tuple(k - num_vars for k in in_idx[len(out_idx):]),
                                specs=tuple((regular[k].dtype, regular[k].shape)
                                            for k in in_idx), name="WhileGrad"))
    for k, g in zip(in_idx, outs):
        grads[k] = g
    return grads


WhileOp = defop(
    "While", shape=lambda op: list(op.attrs["invariants"]) + [TensorShape([])],
    dtype=lambda op: [t.dtype for t in op.inputs[:op.attrs["num_vars"]]] + [variant],
    kernel=_while_kernel, grad=_while_grad, needs_ctx=True, stateful=True, aliases=True)


def _while_grad_kernel(ctx, xp, *args, grad_branch, num_vars, num_dvars, wrt, specs):
    dvars, trace = list(args[:-1]), args[-1]
    if trace is None:
        raise errors.InternalError(None, None, f"{ctx.op.describe()}: its forward tf.while_loop "
                                   "recorded no iterations.")
    caps, steps = trace
    dcaps = [None] * len(wrt)
    for loop, saved in reversed(steps):
        out = run_branch(ctx, grad_branch, list(loop) + list(caps) + dvars, [saved])
        dvars = list(out[:num_dvars])
        for i, g in enumerate(out[num_dvars:-1]):
            dcaps[i] = g if dcaps[i] is None else dcaps[i] + g
    dcaps = [xp.zeros_like(caps[c]) if g is None else g for g, c in zip(dcaps, wrt)]
    result = tuple(dvars) + tuple(dcaps)
    return result if len(result) > 1 else result[0]


WhileGradOp = defop("WhileGrad", shape=lambda op: [s for _, s in op.attrs["specs"]],
                    dtype=lambda op: [d for d, _ in op.attrs["specs"]],
                    kernel=_while_grad_kernel, needs_ctx=True, stateful=True,
                    differentiable=False)


# ---- tf.while_loop ----------------------------------------------------------------------------
def _invariants(flat, shape_invariants, loop_vars):
    if shape_invariants is None:
        return [t.shape for t in flat]
    shapes = flatten(shape_invariants)
    if len(shapes) != len(flat):
        raise ValueError(f"shape_invariants must have the same structure as loop_vars "
                         f"({describe(loop_vars)}); got {describe(shape_invariants)}. Give one "
                         "tf.TensorShape per loop variable.")
    shapes = [as_shape(s) for s in shapes]
    for t, s in zip(flat, shapes):
        if not t.shape.is_compatible_with(s):
            raise ValueError(f"The shape invariant specified for {t.name} is not compatible "
                             f"with the initial shape of the loop variable. It enters the loop "
                             f"with shape {t.shape}, but the specified shape invariant is {s}.")
    return shapes


def _trace(outer, scope, fn, loop_vars, flat, invariants):
    body = FuncGraph(outer, scope)
    with tracing(body):
        phs = [placeholder(t.dtype, s, name="loop_var") for t, s in zip(flat, invariants)]
        args = pack(loop_vars, phs)
        result = fn(*args) if isinstance(loop_vars, (list, tuple)) else fn(args)
    return body, phs, result


def _body_outputs(body, result, loop_vars, flat, invariants, scope):
    if not same_structure(loop_vars, result) and isinstance(loop_vars, (list, tuple)) and \
            len(loop_vars) == 1 and same_structure(loop_vars, [result]):
        result = [result]  # TF1: a single loop var may be returned unwrapped
    if not same_structure(loop_vars, result):
        raise ValueError(f"The body of tf.while_loop '{scope}' must return the same nested "
                         f"structure as loop_vars: loop_vars is {describe(loop_vars)} but the "
                         f"body returned {describe(result)}.")
    outs = []
    with tracing(body):
        for k, (x, t, shape) in enumerate(zip(flatten(result), flat, invariants)):
            if isinstance(x, Operation) or x is None:
                raise TypeError(f"The body of tf.while_loop '{scope}' returned {x!r} for loop "
                                f"variable {k} ('{t.name}'); return a tensor.")
            out = convert_to_tensor(x, preferred_dtype=t.dtype)
            out = out if out.graph is body else body.capture(out)
            if out.dtype is not t.dtype:
                raise TypeError(f"Loop variable {k} ('{t.name}') enters tf.while_loop '{scope}' "
                                f"as {t.dtype.name}, but the body returns {out.dtype.name}.")
            if not out.shape.is_compatible_with(shape):
                raise ValueError(f"Input tensor '{t.name}' enters the loop with shape {shape}, "
                                 f"but has shape {out.shape} after one iteration. To allow the "
                                 "shape to vary across iterations, use the `shape_invariants` "
                                 "argument of tf.while_loop to specify a less-specific shape.")
            outs.append(out)
    return outs


def _loop_pred(body, pred, scope):
    with tracing(body):
        pred = convert_to_tensor(pred)
        pred = pred if pred.graph is body else body.capture(pred)
    if pred.dtype is not dtypes.bool:
        raise TypeError(f"The cond of tf.while_loop '{scope}' must return a bool tensor, not "
                        f"{pred.dtype.name} ('{pred.name}').")
    if pred.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.ndims} for the cond "
                         f"of tf.while_loop '{scope}' ('{pred.name}').")
    return pred


def _max_iterations(value):
    if value is None:
        return []
    value = convert_to_tensor(value, preferred_dtype=dtypes.int32, name="maximum_iterations")
    if not value.dtype.is_integer or value.shape.ndims not in (None, 0):
        raise ValueError(f"maximum_iterations must be a scalar integer, got {value!r}.")
    return [value]


def _check_args(cond, body, loop_vars, parallel_iterations):
    if not callable(cond):
        raise TypeError("'cond' must be callable.")
    if not callable(body):
        raise TypeError("'body' must be callable.")
    if not isinstance(parallel_iterations, int) or parallel_iterations < 1:
        raise TypeError("'parallel_iterations' must be a positive integer.")
    if loop_vars is None or (isinstance(loop_vars, (list, tuple, dict)) and not
                             flatten(loop_vars)):
        raise ValueError("'loop_vars' must be provided.")


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, name=None, maximum_iterations=None,
               return_same_structure=False):
    """TF1's `tf.while_loop`: repeat `loop_vars = body(*loop_vars)` while `cond(*loop_vars)`."""
    _check_args(cond, body, loop_vars, parallel_iterations)
    leaves = [x for x in flatten(loop_vars) if isinstance(x, Tensor) or hasattr(x, "_variable")]
    with name_scope(name, "while", leaves) as scope:
        flat = [convert_to_tensor(x) for x in flatten(loop_vars)]
        invariants = _invariants(flat, shape_invariants, loop_vars)
        extra = _max_iterations(maximum_iterations)
        outer = innermost_graph()
        cond_body, cond_phs, pred = _trace(outer, scope, cond, loop_vars, flat, invariants)
        pred = _loop_pred(cond_body, pred, scope.rstrip("/"))
        loop_body, body_phs, result = _trace(outer, scope, body, loop_vars, flat, invariants)
        outs = _body_outputs(loop_body, result, loop_vars, flat, invariants, scope.rstrip("/"))
        bodies = [cond_body, loop_body]
        inputs, inner = bind_captures(bodies)
        op = as_tuple(WhileOp(
            *flat, *inputs, *extra, cond_branch=Branch(cond_body, cond_phs + inner[0], [pred]),
            body_branch=Branch(loop_body, body_phs + inner[1], outs), num_vars=len(flat),
            has_max=bool(extra), invariants=tuple(invariants),
            var_names=tuple(t.name for t in flat), back_prop=bool(back_prop),
            name=scope))[0].op
        for b in bodies:
            b.seal()
        add_outer_controls(op, bodies)
        exits = op.outputs[:len(flat)]
        if return_same_structure or len(exits) != 1:
            return pack(loop_vars, exits)
        return exits[0]
