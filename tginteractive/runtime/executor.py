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
from .config import ConfigProto
from .devices import Device
from .plan import build_plan

_SOFT = ConfigProto(allow_soft_placement=True)


class RunState:
    """Per-session, per-device runtime state: variable values and random generators by name."""

    def __init__(self):
        self.variables = {}
        self.rngs = {}
        self.dropped = {}  # variable name -> why its value was dropped (see session.py)


class OpContext:
    """What a `needs_ctx` kernel sees: the session's state, its own op, and `run_graph`."""

    __slots__ = ("state", "op", "backend", "_compiled")

    def __init__(self, state, op, backend=None):
        self.state, self.op, self.backend, self._compiled = state, op, backend, {}

    def run_graph(self, graph, fetches, feeds, values):
        """Values of `fetches` (a tuple of tensors of `graph`, e.g. a tf.cond branch) given
        `values` for the tuple `feeds`, run with this session's state and backend. Control-flow
        kernels (ops/cond_ops.py, ops/while_ops.py) run their bodies with it, so ops never
        import the runtime. Each signature is compiled once and kept with this op's plan."""
        key = (graph, fetches, feeds)
        exe = self._compiled.get(key)
        if exe is None:  # the body runs where its op runs
            device = Device("GPU" if self.backend.name == "cupy" else "CPU", 0, self.backend)
            plan = build_plan(graph, fetches, feeds, _SOFT, [device])
            exe = self._compiled[key] = Executable(plan, self.state, self.backend, raw=True)
        return exe(values)


class KernelFailure(Exception):
    def __init__(self, index, error):
        super().__init__(index, error)
        self.index, self.error = index, error


def _bind(op, state, backend, kernel=None):
    kernel = kernel or op.op_def.kernel_for(backend.name)
    if op.op_def.needs_ctx:
        return functools.partial(kernel, OpContext(state, op, backend), backend.xp, **op.attrs)
    return functools.partial(kernel, backend.xp, **op.attrs)


DONATE_MIN_SIZE = 4096  # elements: below this, allocating is as cheap as writing in place


def _donating(inplace, kernel):
    """Run `inplace` (the result written into the dying first input); when broadcasting makes
    the result bigger than that input, fall back to the allocating kernel."""
    def run(x, *rest):
        try:
            return inplace(x, *rest)
        except ValueError:  # the output does not fit in x
            return kernel(x, *rest)
    return run


def donation_input(op):
    """The input `op` could write its result into, judged by the op alone: it has an
    in-place variant, input 0 is not a variable reference or a view, has the output's dtype
    and is not statically small. The plan still checks that this input dies at `op` and is
    a fresh buffer of its own. None when the op cannot donate."""
    if op.op_def.inplace is None or not op.inputs or 0 in op.op_def.ref_inputs:
        return None
    t = op.inputs[0]
    n = t.shape.num_elements()
    if t.op.op_def.aliases or t.dtype is not op.outputs[0].dtype or \
            (n is not None and n < DONATE_MIN_SIZE):
        return None
    return t


def donating_call(env, i, args, kernel, inplace, array_type_name):
    """Source of op i's call that runs `inplace` on a big enough array input 0, else
    `kernel` (both are put in `env` as k{i} / d{i})."""
    env[f"d{i}"] = _donating(inplace, kernel)
    return (f"(d{i} if {args[0]}.__class__ is {array_type_name} and {args[0]}.size >= "
            f"{DONATE_MIN_SIZE} else k{i})({', '.join(args)})")


class _Source:
    """Generates the straight-line source of a Plan; `env` holds what the lines refer to."""

    def __init__(self, plan, state, backend, traced):
        self.plan, self.state, self.backend, self.traced = plan, state, backend, traced
        self.env, self.lines, self.folded, self.lazy, self.donated = {}, [], set(), {}, []
        self.names = {t: f"f{k}" for k, t in enumerate(plan.feeds)}
        self.fetched = {t for t in plan.targets if isinstance(t, Tensor)}
        self.last_use = {t: i for i, op in enumerate(plan.ops) for j, t in enumerate(op.inputs)
                         if j not in op.op_def.ref_inputs}
        for i, op in enumerate(plan.ops):
            self._emit(i, op)

    def _outputs(self, op):
        outs = []
        for t in op.outputs:
            if t in self.names:  # fed: the op's own value for it is discarded
                outs.append("_")
            else:
                self.names[t] = f"t{len(self.names)}"
                outs.append(self.names[t])
        return outs

    def _donates(self, i, op):
        """True when op i may write its result into its first input's buffer: the input dies
        here and is a fresh array owned by this plan (not fed, folded or a variable)."""
        t = donation_input(op)
        return t is not None and self.last_use.get(t) == i and t not in self.fetched and \
            t not in self.folded and t not in self.lazy and self.names[t].startswith("t")

    def _call(self, i, op, outs):
        kernel = self.env[f"k{i}"] = _bind(op, self.state, self.backend)
        refs = op.op_def.ref_inputs  # variables named, not read: the kernel gets None
        args = [("None" if j in refs else self.names[t]) for j, t in enumerate(op.inputs)]
        target = ", ".join(outs) if outs else "_"
        call = f"k{i}({', '.join(args)})"
        if self._donates(i, op):  # write into the dying input when it is a big enough array
            self.donated.append(op.name)
            inplace = _bind(op, self.state, self.backend, op.op_def.inplace)
            call = donating_call(self.env, i, args, kernel, inplace, "_nd")
        if self.traced:
            return f"_i = {i}; _s = _clock(); {target} = {call}; _rec(_ops[{i}], _s, ({target}))"
        return f"_i = {i}; {target} = {call}"

    def _emit(self, i, op):
        outs = self._outputs(op)
        if not op.inputs and op.op_def.fold is not None and outs[:1] != ["_"] and len(outs) == 1:
            self.env[outs[0]] = self.backend.from_host(op.op_def.fold(op))
            self.folded.add(op.outputs[0])
            return
        if op.op_def.lazy and outs[:1] != ["_"]:  # read where consumed (TF ref semantics)
            self.lazy[op.outputs[0]] = self._call(i, op, outs)
            return
        for j, t in enumerate(op.inputs):
            if t in self.lazy and j not in op.op_def.ref_inputs:
                self.lines.append(self.lazy[t])
        self.lines.append(self._call(i, op, outs))
        dead = {self.names[t] for t in op.inputs if self.last_use.get(t) == i
                and t not in self.fetched and t not in self.folded and t not in self.lazy
                and self.names[t].startswith("t")}
        if dead:
            self.lines.append("del " + ", ".join(sorted(dead)))

    def _result(self, t):
        if not isinstance(t, Tensor):
            return "None"
        aliased = t in self.plan.feeds or t in self.folded or t.op.op_def.aliases
        return f"{'_outc' if aliased else '_out'}({self.names[t]})"

    def source(self):
        reads = [self.lazy[t] for t in dict.fromkeys(self.plan.targets) if t in self.lazy]
        body = "\n        ".join(self.lines + reads) or "pass"
        results = [self._result(t) for t in self.plan.targets]
        args = ", ".join(f"f{k}" for k in range(len(self.plan.feeds)))
        return (f"def run({args}):\n    _i = -1\n    try:\n        {body}\n"
                f"    except Exception as _e:\n        raise _fail(_i, _e) from None\n"
                f"    return ({', '.join(results)}{',' if results else ''})\n")


def _same(value):
    return value


class Executable:
    """A Plan bound to one session's state and backend: call it with the feed values.
    `raw=True` (sub-graphs run by a kernel) returns device values as they are, uncopied."""

    def __init__(self, plan, state, backend, traced=False, raw=False):
        self.plan, self.traced = plan, traced
        self.records = []  # traced runs: (op, start, duration_s, output_bytes)
        gen = _Source(plan, state, backend, traced)
        out, outc = (_same, _same) if raw else (backend.fetch_result, backend.fetch_copy)
        env = dict(gen.env, _fail=KernelFailure, _nd=backend.xp.ndarray, _out=out, _outc=outc,
                   _clock=time.perf_counter, _rec=self._record, _ops=plan.ops)
        self.source = gen.source()
        self.donated = gen.donated  # ops writing into their dying first input's buffer
        exec(compile(self.source, f"<plan {len(plan.ops)} ops>", "exec"), env)
        self._run = env["run"]
        self._quiet = backend.quiet

    def _record(self, op, start, value):
        end = time.perf_counter()
        size = sum(getattr(v, "nbytes", 0) for v in value) if isinstance(value, tuple) \
            else getattr(value, "nbytes", 0)
        self.records.append((op, start, end - start, size))

    def close(self):
        """Nothing to release for a single-device plan (ParallelExecutable has threads)."""

    def __call__(self, feed_values):
        try:
            with self._quiet():
                return self._run(*feed_values)
        except KernelFailure as failure:
            raise op_error(self.plan.ops[failure.index], failure.error) from (
                None if isinstance(failure.error, errors.OpError) else failure.error)


def op_error(op, error):
    """The OpError a kernel failure surfaces as: it names the op and where user code built it."""
    node = f"\n\t [[node {op.name} ({op.type}) defined at {format_site(op.site, op.origin)}]]"
    if isinstance(error, errors.OpError):
        if error.op is None:
            error.op = op
            error.message += node
            error.args = (error.message,)
        return error
    message = (f"Op {op.describe()} failed: {type(error).__name__}: {error}{node}")
    return errors.InvalidArgumentError(None, op, message)
