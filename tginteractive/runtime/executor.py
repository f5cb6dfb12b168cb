"""Execution: a Plan is compiled once into straight-line Python and then called per run.

Each op becomes one line `t7 = k3(t2, t5)` where `k3` is the op's kernel bound to the backend's
array module and the op's attrs, so a run costs one Python call per op and nothing else.
Constants are evaluated at compile time; intermediates are deleted after their last use.
With `traced=True` every line is also timed, for RunMetadata step stats.
"""
import functools
import time

from ..framework import errors
from ..framework.graph import Tensor, format_site


class RunState:
    """Per-session, per-device runtime state: variable values and random generators by name."""

    def __init__(self):
        self.variables = {}
        self.rngs = {}


class OpContext:
    """What a `needs_ctx` kernel sees: the session's state and its own op."""

    __slots__ = ("state", "op")

    def __init__(self, state, op):
        self.state, self.op = state, op


class KernelFailure(Exception):
    def __init__(self, index, error):
        super().__init__(index, error)
        self.index, self.error = index, error


def _bind(op, state, backend):
    kernel = op.op_def.kernel_for(backend.name)
    if op.op_def.needs_ctx:
        return functools.partial(kernel, OpContext(state, op), backend.xp, **op.attrs)
    return functools.partial(kernel, backend.xp, **op.attrs)


def _needs_copy(tensor, plan, folded):
    return tensor in plan.feeds or tensor in folded or tensor.op.op_def.aliases


class Executable:
    """A Plan bound to one session's state and backend: call it with the feed values."""

    def __init__(self, plan, state, backend, traced=False):
        self.plan, self.traced = plan, traced
        self.records = []  # traced runs: (op, start, duration_s, output_bytes)
        env = {"_fail": KernelFailure, "_out": backend.fetch_result,
               "_outc": backend.fetch_copy, "_clock": time.perf_counter,
               "_rec": self._record, "_ops": plan.ops}
        names, folded, lines = {}, set(), []
        for k, t in enumerate(plan.feeds):
            names[t] = f"f{k}"
        fetched = {t for t in plan.targets if isinstance(t, Tensor)}
        last_use = {t: i for i, op in enumerate(plan.ops) for j, t in enumerate(op.inputs)
                    if j not in op.op_def.ref_inputs}
        for i, op in enumerate(plan.ops):
            outs = []
            for t in op.outputs:
                if t in names:  # fed: the op's own value for it is discarded
                    outs.append("_")
                else:
                    names[t] = f"t{len(names)}"
                    outs.append(names[t])
            if not op.inputs and op.op_def.fold is not None and len(outs) == 1 and outs[0] != "_":
                env[outs[0]] = backend.from_host(op.op_def.fold(op))
                folded.add(op.outputs[0])
                continue
            env[f"k{i}"] = _bind(op, state, backend)
            refs = op.op_def.ref_inputs  # variables named, not read: the kernel gets None
            args = ("None" if j in refs else names[t] for j, t in enumerate(op.inputs))
            call = f"k{i}({', '.join(args)})"
            target = ", ".join(outs) if outs else "_"
            if traced:
                lines.append(f"_i = {i}; _s = _clock(); {target} = {call}; "
                             f"_rec(_ops[{i}], _s, ({target}))")
            else:
                lines.append(f"_i = {i}; {target} = {call}")
            dead = {names[t] for t in op.inputs if last_use.get(t) == i and t not in fetched
                    and names[t].startswith("t") and t not in folded}
            if dead:
                lines.append("del " + ", ".join(sorted(dead)))
        results = []
        for t in plan.targets:
            if isinstance(t, Tensor):
                wrap = "_outc" if _needs_copy(t, plan, folded) else "_out"
                results.append(f"{wrap}({names[t]})")
            else:
                results.append("None")
        body = "\n        ".join(lines) or "pass"
        src = (f"def run({', '.join(f'f{k}' for k in range(len(plan.feeds)))}):\n"
               f"    _i = -1\n    try:\n        {body}\n"
               f"    except Exception as _e:\n        raise _fail(_i, _e) from None\n"
               f"    return ({', '.join(results)}{',' if results else ''})\n")
        exec(compile(src, f"<plan {len(plan.ops)} ops>", "exec"), env)
        self._run = env["run"]
        self.source = src

    def _record(self, op, start, value):
        end = time.perf_counter()
        size = sum(getattr(v, "nbytes", 0) for v in value) if isinstance(value, tuple) \
            else getattr(value, "nbytes", 0)
        self.records.append((op, start, end - start, size))

    def __call__(self, feed_values):
        try:
            return self._run(*feed_values)
        except KernelFailure as failure:
            raise op_error(self.plan.ops[failure.index], failure.error) from (
                None if isinstance(failure.error, errors.OpError) else failure.error)


def op_error(op, error):
    """The OpError a kernel failure surfaces as: it names the op and where user code built it."""
    node = f"\n\t [[node {op.name} ({op.type}) defined at {format_site(op.site)}]]"
    if isinstance(error, errors.OpError):
        if error.op is None:
            error.op = op
            error.message += node
            error.args = (error.message,)
        return error
    message = (f"Op {op.describe()} failed: {type(error).__name__}: {error}{node}")
    return errors.InvalidArgumentError(None, op, message)
