"""tf.cond and tf.case: one `If` op whose two branches are traced into sub-graphs.

Only the taken branch runs: the If kernel runs that branch's sub-graph through its OpContext
(`ctx.run_graph`, the runtime's compiled executor, with the session's variable state), so ops
in the other branch — assigns, prints, random draws — never execute. As in TF1, a branch
runs only what its returned values need.

Gradients: the gradient of an If is another If on the same predicate whose branches compute
the branch gradients, built inside the same sub-graphs. The forward If returns, as its last
output (a `variant` trace), the intermediates those gradients read, and the gradient If feeds
them back instead of recomputing them. Variables used in a branch are mirrored there by name
(framework/function_graph.py) and reach the If as `RefCapture` inputs, which name a variable
without reading it, so gradients also flow to variables used inside branches.
"""
import collections
import functools

import numpy as np

from ..framework import dtypes, errors
from ..framework.context import control_dependencies, name_scope
from ..framework.function_graph import (Branch, FuncGraph, add_outer_controls, describe,
                                        flatten, gradients, innermost_graph, pack,
                                        record_saved, same_structure, tracing, variant)
from ..framework.graph import Operation, Tensor
from ..framework.registry import convert_to_tensor, defop
from ..framework.shapes import TensorShape
from .array_ops import cast, identity, placeholder, zeros_like
from .control_flow_ops import Assert
from .manip_ops import stack
from .math_ops import less_equal
from .reduction_ops import reduce_sum

__all__ = ["cond", "case"]

# Names a variable as an input of a control-flow op without reading it (the body reads it by
# name where it is used). Its gradient passes through to the variable.
RefCapture = defop("RefCapture", shape=lambda op: op.inputs[0].shape,
                   kernel=lambda xp, ref: None, ref_inputs=(0,), grad=lambda op, dy: [dy])


# ---- helpers shared with ops/while_ops.py ---------------------------------------------------
def is_float(t):
    return t.dtype.is_floating or t.dtype.is_complex


def truth(value, op):
    """A predicate's value as a Python bool (it must be a scalar)."""
    if np.ndim(value) != 0:
        raise errors.InvalidArgumentError(
            None, None, f"The predicate of {op.describe()} must be a scalar, but it has shape "
            f"{list(np.shape(value))}.")
    return bool(value)


def run_branch(ctx, branch, values, traces=()):
    """Run `branch` with `values` for the op's regular inputs and the intermediates recorded
    in `traces`: (*outputs, trace of this run's saved intermediates or None)."""
    feeds, vals = branch.feeds, [values[i] for i in branch.fed]
    for trace in traces:
        if trace:
            feeds += tuple(trace)
            vals.extend(trace.values())
    fetches = branch.fetches()
    out = ctx.run_graph(branch.graph, fetches, feeds, vals)
    n = len(branch.outputs)
    return out[:n] + ((dict(zip(fetches[n:], out[n:])) if len(out) > n else None),)


def bind_captures(bodies):
    """The op inputs for what `bodies` (the traced bodies of one op) captured, and for each
    body its inner tensors for them, in that order (a body gets one for each, used or not)."""
    outer = []
    for body in bodies:
        outer.extend(t for t in body.captured if t not in outer)
    inner = [[body.capture(t) for t in outer] for body in bodies]
    inputs = [RefCapture(t) if t.op.type == "VariableV2" else t for t in outer]
    return inputs, inner


def grad_branch(branch, out_idx, in_idx, dy_specs, name_stack):
    """A Branch computing the gradients of `branch`'s outputs `out_idx` (given placeholders
    for their upstream gradients, appended to its inputs) w.r.t. its inputs `in_idx`."""
    graph = branch.graph
    mark = graph._last_id
    with tracing(graph, name_stack):
        dys = [placeholder(dtype, shape, name="dy") for dtype, shape in dy_specs]
        xs = [branch.inputs[k] for k in in_idx]
        grads = gradients([branch.outputs[j] for j in out_idx], xs, dys)
        grads = [zeros_like(x) if g is None else g for g, x in zip(grads, xs)]
    result = Branch(graph, branch.inputs + tuple(dys), grads, start=mark)
    record_saved(graph, mark)
    return result


def as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


# ---- If ---------------------------------------------------------------------------------------
def _merged_shape(a, b):
    if a.dims is None or b.dims is None or len(a.dims) != len(b.dims):
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.dims, b.dims)])


def _if_shapes(op):
    then, other = op.attrs["then_branch"].outputs, op.attrs["else_branch"].outputs
    return [_merged_shape(a.shape, b.shape) for a, b in zip(then, other)] + [TensorShape([])]


def _if_kernel(ctx, xp, pred, *args, then_branch, else_branch, num_traces):
    split = len(args) - num_traces
    branch = then_branch if truth(pred, ctx.op) else else_branch
    out = run_branch(ctx, branch, args[:split], args[split:])
    return out if len(out) > 1 else out[0]


def _if_grad(op, *dys):
    """Another If on the same predicate: each branch computes its own branch's gradients."""
    n = len(op.inputs) - 1 - op.attrs["num_traces"]
    regular = op.inputs[1:1 + n]
    out_idx = [j for j, t in enumerate(op.outputs[:-1]) if is_float(t)]
    in_idx = [k for k, t in enumerate(regular) if is_float(t)]
    grads = [None] * len(op.inputs)
    if not out_idx or not in_idx:
        return grads
    specs = [(op.outputs[j].dtype, op.outputs[j].shape) for j in out_idx]
    scope = op.graph.get_name_scope()
    then_grad, else_grad = (grad_branch(op.attrs[k], out_idx, in_idx, specs, scope)
                            for k in ("then_branch", "else_branch"))
    traces = list(op.inputs[1 + n:]) + [op.outputs[-1]]
    outs = as_tuple(IfOp(op.inputs[0], *regular, *[dys[j] for j in out_idx], *traces,
                         then_branch=then_grad, else_branch=else_grad,
                         num_traces=len(traces), name="If"))
    for k, g in zip(in_idx, outs[:-1]):
        grads[1 + k] = g
    return grads


IfOp = defop("If", shape=_if_shapes, kernel=_if_kernel, grad=_if_grad, needs_ctx=True,
             stateful=True, aliases=True,
             dtype=lambda op: [t.dtype for t in op.attrs["then_branch"].outputs] + [variant])


# ---- tf.cond ----------------------------------------------------------------------------------
def _callable(fn, old, name, old_name):
    if old is not None:
        if fn is not None:
            raise TypeError(f"Pass only {name}: {old_name} is its deprecated name.")
        fn = old
    if not callable(fn):
        raise TypeError(f"{name} must be callable.")
    return fn


def _check_pred(pred):
    if isinstance(pred, bool):
        raise TypeError("pred must not be a Python bool")
    pred = convert_to_tensor(pred)
    if pred.dtype is not dtypes.bool:
        raise TypeError(f"pred must be a bool Tensor, but '{pred.name}' has dtype "
                        f"{pred.dtype.name}. Compare it (e.g. tf.cond(x > 0, ...)) or cast it.")
    if pred.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.ndims} for the pred "
                         f"'{pred.name}' of tf.cond (shape {pred.shape}).")
    return pred


def _output(body, x, pred, which):
    """One leaf a branch returned, as a tensor of the branch's graph."""
    if isinstance(x, Operation):  # TF1: the predicate, computed after the op
        with control_dependencies([x]):
            return identity(pred)
    if x is None:
        raise TypeError(f"{which} of tf.cond '{body._scope}' returned None inside its result; "
                        "return tensors (or nothing at all).")
    t = convert_to_tensor(x)
    return t if t.graph is body else body.capture(t)


def _trace_branch(outer, scope, fn, pred, which, strict):
    body = FuncGraph(outer, scope)
    with tracing(body):
        result = fn()
        if result is None:
            result = []
        if not strict and isinstance(result, (list, tuple)) and len(result) == 1:
            result = result[0]
        flat = [_output(body, x, pred, which) for x in flatten(result)]
    return body, result, flat


def _check_branches(scope, then, other):
    if not same_structure(then[1], other[1]):
        raise ValueError(f"true_fn and false_fn of tf.cond '{scope}' must return the same "
                         f"nested structure: true_fn returned {describe(then[1])} but "
                         f"false_fn returned {describe(other[1])}.")
    for k, (a, b) in enumerate(zip(then[2], other[2])):
        if a.dtype is not b.dtype:
            raise ValueError(f"Outputs of 'true_fn' and 'false_fn' must have the same "
                             f"type(s). Received {a.dtype.name} from 'true_fn' and "
                             f"{b.dtype.name} from 'false_fn' (output {k} of tf.cond "
                             f"'{scope}': '{a.name}' vs '{b.name}').")


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """TF1's `tf.cond`: `true_fn()` if `pred` else `false_fn()`; only that branch runs."""
    true_fn = _callable(true_fn, fn1, "true_fn", "fn1")
    false_fn = _callable(false_fn, fn2, "false_fn", "fn2")
    pred = _check_pred(pred)
    with name_scope(name, "cond", [pred]) as scope:
        outer = innermost_graph()
        then = _trace_branch(outer, scope, true_fn, pred, "true_fn", strict)
        other = _trace_branch(outer, scope, false_fn, pred, "false_fn", strict)
        _check_branches(scope.rstrip("/"), then, other)
        bodies = [then[0], other[0]]
        inputs, inner = bind_captures(bodies)
        branches = [Branch(b[0], ins, b[2]) for b, ins in zip((then, other), inner)]
        outs = as_tuple(IfOp(pred, *inputs, then_branch=branches[0], else_branch=branches[1],
                             num_traces=0, name=scope))
        for body in bodies:
            body.seal()
        add_outer_controls(outs[0].op, bodies)
        if len(outs) == 1:
            return outs[0].op
        return pack(then[1], outs[:-1])


# ---- tf.case ----------------------------------------------------------------------------------
def _case_pairs(pairs):
    if isinstance(pairs, collections.OrderedDict):
        items = list(pairs.items())
    elif isinstance(pairs, dict):  # TF1 graph mode: ordered by predicate name
        items = sorted(pairs.items(), key=lambda kv: getattr(kv[0], "name", ""))
    elif isinstance(pairs, (list, tuple)):
        items = list(pairs)
    else:
        raise TypeError(f"'pred_fn_pairs' must be a list, tuple, or dict. Received: "
                        f"{type(pairs)}")
    for item in items:
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(f"Each entry in 'pred_fn_pairs' must be a 2-tuple. Received "
                            f"{item}.")
        pred, fn = item
        if not isinstance(pred, Tensor):
            raise TypeError(f"pred must be a Tensor, got: {pred}")
        if pred.dtype is not dtypes.bool:
            raise TypeError(f"pred must be Tensor of type bool: {pred.name}")
        if not callable(fn):
            raise TypeError(f"fn for pred {pred.name} must be callable.")
    return [p for p, _ in items], [f for _, f in items]


def _at_most_one_true(preds):
    preds_c = stack(list(preds), name="preds_c")
    count = reduce_sum(cast(preds_c, dtypes.int32), name="num_true_conds")
    names = ", ".join(p.name for p in preds)
    return Assert(less_equal(count, 1), [f"Input error: exclusive=True: more than 1 "
                                         f"conditions ({names}) evaluated as True:", preds_c],
                  summarize=len(preds))


def _default_action(preds, fns):
    """TF's default when none is given: the last pair's fn, asserting its pred is true."""
    last_pred, last_fn = preds[-1], fns[-1]

    def default():
        none_true = Assert(last_pred, ["Input error: None of conditions evaluated as True:",
                                       stack(list(preds), name="preds_c")],
                           summarize=len(preds))
        with control_dependencies([none_true]):
            result = last_fn()
            leaves = [x if isinstance(x, Operation) else identity(x) for x in flatten(result)]
            return pack(result, leaves) if result is not None else None
    return default, preds[:-1], fns[:-1]


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """TF1's `tf.case`: the fn of the first true predicate (all, if `exclusive`, checked to
    have at most one true), else `default`; built as nested tf.conds."""
    preds, fns = _case_pairs(pred_fn_pairs)
    with name_scope(name, "case", list(preds)):
        if default is None:
            if not preds:
                raise ValueError("tf.case needs at least one (pred, fn) pair or a default.")
            default, preds, fns = _default_action(preds, fns)
        elif not callable(default):
            raise TypeError("default must be callable.")
        fn = default
        for pred, action in reversed(list(zip(preds, fns))):
            fn = functools.partial(cond, pred, action, fn, strict=strict)
        if exclusive and len(preds) > 1:
            with control_dependencies([_at_most_one_true(preds)]):
                return fn()
        return fn()
