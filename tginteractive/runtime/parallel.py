"""Multi-device execution: a placed Plan cut into per-device segments run by device threads.

`schedule.segments` orders the ops and cuts each device's share into segments; each segment
is compiled like a single-device plan into straight-line code, and segments exchange values
through one slot list. Where an op consumes a tensor from another device, a copy (the
backend's `transfer`) is made once per tensor and destination device per run. Each device has
a worker thread that runs its segments in order, waiting only for the segments on other
devices that the schedule says it depends on. NumPy, BLAS and CuPy release the GIL, so
independent towers really overlap. Small plans run faster with every segment on the calling
thread, in schedule order; runtime/dispatch.py decides which way each run goes.
"""
import concurrent.futures
import contextlib
import threading
import time

from ..backends.base import Backend
from ..framework import errors
from ..framework.graph import Tensor
from .dispatch import INLINE, THREADS, ModeChooser
from .executor import KernelFailure, _bind, donating_call, donation_input, op_error
from .schedule import segments


class ParallelExecutable:
    """A multi-device Plan bound to one session's state: call it with the feed values.
    `mode`: THREADS or INLINE (see dispatch.py); None measures both and keeps the faster.
    Traced runs always use device threads, so their timelines show real overlap."""

    def __init__(self, plan, state, traced=False, raw=False, mode=None):
        self.plan, self.traced, self.raw = plan, traced, raw
        self.records, self.donated = [], []
        self.host = plan.devices[0]
        self._state, self._env = state, {}
        self._slots = {}             # (tensor, device) -> slot in the per-run value list
        self._producer = {}          # slot -> index of the segment that stores it
        self._stored = set()         # (tensor, device) keys some segment stores
        self._index = {op: i for i, op in enumerate(plan.ops)}
        self._lazy = {op for op in plan.ops if op.op_def.lazy}
        for t in plan.feeds:
            self._slot((t, self.host))
        self.segments = segments(plan)
        self._owner = {i: seg.index for seg in self.segments for i in seg.ops}
        self._shared = self._shared_tensors()
        self._last_use = {t: i for seg in self.segments for i in seg.ops
                          for j, t in enumerate(plan.ops[i].inputs)
                          if j not in plan.ops[i].op_def.ref_inputs}
        sources = [self._compile(seg) for seg in self.segments]
        env = dict(self._env, _fail=KernelFailure, _clock=time.perf_counter, _rec=self._record)
        self._fns = []
        for seg, src in zip(self.segments, sources):
            exec(compile(src, f"<segment {seg.index} on {seg.device.short_name}>", "exec"), env)
            self._fns.append(env.pop("run"))
        self.source = "\n".join(sources)
        self._prepare_runs()
        self._pool = None
        self._runner = {THREADS: self._run_segments, INLINE: self._run_inline}
        self.mode = THREADS if traced else mode
        self.chooser = ModeChooser() if self.mode is None else None

    # ---- compilation ------------------------------------------------------------------------
    def _shared_tensors(self):
        """Tensors another segment consumes, or a fetch: only these go into the slot list, so
        each segment's other intermediates are freed when it returns."""
        shared = {t for t in self.plan.targets if isinstance(t, Tensor)}
        for seg in self.segments:
            for i in seg.ops:
                for t in self.plan.ops[i].inputs:
                    if self._owner.get(self._index.get(t.op)) != seg.index:
                        shared.add(t)
        return shared

    def _slot(self, key):
        if key not in self._slots:
            self._slots[key] = len(self._slots)
        return self._slots[key]

    def _device_of(self, t):
        return self.host if t in self.plan.feeds else self.plan.placement[t.op]

    def _compile(self, seg):
        lines, local = [], {}
        for i in seg.ops:
            op = self.plan.ops[i]
            args = [self._input(seg, op, j, t, lines, local) for j, t in enumerate(op.inputs)]
            outs = self._outputs(seg, op, local)
            self._env[f"k{i}"] = _bind(op, self._state, seg.device.backend)
            target = ", ".join(outs) if outs else "_"
            call = self._call(i, op, seg, args, local)
            if self.traced:
                lines.append(f"_i = {i}; _s = _clock(); {target} = {call}; "
                             f"_rec({i}, _s, ({target}))")
            else:
                lines.append(f"_i = {i}; {target} = {call}")
        lines += [f"vals[{self._slots[key]}] = {name}" for key, name in local.items()
                  if key in self._stored and self._producer.get(self._slots[key]) == seg.index]
        body = "\n        ".join(lines) or "pass"
        loads = "".join(f"    {name} = vals[{slot}]\n" for slot, name in seg.loads.items())
        return (f"def run(vals):\n{loads}    _i = -1\n    try:\n        {body}\n"
                f"    except Exception as _e:\n        raise _fail(_i, _e) from None\n")

    def _call(self, i, op, seg, args, local):
        """The call of op i; it writes into its first input's buffer when that input was made
        in this segment, is not shared, dies here, and is a big enough array."""
        t = donation_input(op)
        if t is None or local.get((t, seg.device)) != f"t{self._slots.get((t, seg.device))}" \
                or t in self._shared or self._last_use.get(t) != i:
            return f"k{i}({', '.join(args)})"
        self.donated.append(op.name)
        self._env[f"_nd{seg.index}"] = seg.device.backend.xp.ndarray
        inplace = _bind(op, self._state, seg.device.backend, op.op_def.inplace)
        return donating_call(self._env, i, args, self._env[f"k{i}"], inplace, f"_nd{seg.index}")

    def _input(self, seg, op, j, t, lines, local):
        if j in op.op_def.ref_inputs:
            return "None"
        if t.op in self._lazy and t not in self.plan.feeds:
            return self._variable_read(seg, t, lines)
        if not t.op.inputs and t.op.op_def.fold is not None and t not in self.plan.feeds:
            name = f"c{self._index[t.op]}_{seg.index}"
            self._env[name] = seg.device.backend.from_host(t.op.op_def.fold(t.op))
            return name
        key = (t, seg.device)
        if key in local:
            return local[key]
        if self._producer.get(self._slots.get(key)) is not None:  # made or copied earlier
            local[key] = self._load(seg, key, "v")
            return local[key]
        source = (t, self._device_of(t))
        name = self._load(seg, source, "s")
        if source[1] is seg.device:  # a feed, used on the host device
            local[key] = name
            return name
        local[key] = self._copy(seg, source[1], name, lines)
        self._stored.add(key)
        self._producer[self._slot(key)] = seg.index
        return local[key]

    def _load(self, seg, key, prefix):
        slot = self._slot(key)
        return seg.loads.setdefault(slot, f"{prefix}{slot}")

    def _variable_read(self, seg, t, lines):
        index = self._index[t.op]
        var_device = self.plan.placement[t.op]
        self._env[f"k{index}"] = _bind(t.op, self._state, var_device.backend)
        name = f"r{index}_{len(lines)}"
        lines.append(f"{name} = k{index}()")
        return name if var_device is seg.device else self._copy(seg, var_device, name, lines)

    def _copy(self, seg, source, name, lines):
        fn = f"cp_{source.device_type}{source.index}_{seg.device.device_type}{seg.device.index}"
        self._env[fn] = (lambda d, s: lambda v: d.transfer(v, s))(seg.device.backend,
                                                                  source.backend)
        copied = f"x{len(lines)}"
        lines.append(f"{copied} = {fn}({name})")
        return copied

    def _outputs(self, seg, op, local):
        outs = []
        for t in op.outputs:
            if t in self.plan.feeds:
                outs.append("_")
                continue
            key = (t, seg.device)
            slot = self._slot(key)
            local[key] = f"t{slot}"
            if t in self._shared:
                self._stored.add(key)
                self._producer[slot] = seg.index
            outs.append(f"t{slot}")
        return outs

    # ---- running ------------------------------------------------------------------------------
    def _record(self, i, start, value):
        end = time.perf_counter()
        size = sum(getattr(v, "nbytes", 0) for v in value) if isinstance(value, tuple) \
            else getattr(value, "nbytes", 0)
        self.records.append((self.plan.ops[i], start, end - start, size))

    def __call__(self, feed_values):
        vals = [None] * len(self._slots)
        for t, value in zip(self.plan.feeds, feed_values):
            vals[self._slots[(t, self.host)]] = value
        if self.chooser is None:
            self._runner[self.mode](vals)
            return tuple(self._result(t, vals) for t in self.plan.targets)
        mode = self.chooser.choose()
        start = time.perf_counter()
        self._runner[mode](vals)
        results = tuple(self._result(t, vals) for t in self.plan.targets)  # GPU fetches sync
        self.chooser.record(mode, time.perf_counter() - start)
        return results

    def _result(self, t, vals):
        if not isinstance(t, Tensor):
            return None
        device = self._device_of(t)
        if t.op in self._lazy and t not in self.plan.feeds:
            value = _bind(t.op, self._state, device.backend)()
        elif not t.op.inputs and t.op.op_def.fold is not None and t not in self.plan.feeds:
            value = t.op.op_def.fold(t.op)
            device = self.host
        else:
            value = vals[self._slots[(t, device)]]
        if self.raw:
            return value
        return device.backend.fetch_copy(value)

    def _prepare_runs(self):
        """For device threads: per device, its segments as (function, events to wait for,
        event to set), where only segments another device waits for get an event. For inline
        runs: every segment's function, with the backend to make current if it has one."""
        awaited = sorted({d for seg in self.segments for d in seg.deps})
        event_of = {seg_index: k for k, seg_index in enumerate(awaited)}
        self._event_count = len(awaited)
        self._free_events = []  # event lists of finished runs, reused (runs may overlap)
        queues = {}
        for seg in self.segments:
            queues.setdefault(seg.device, []).append(
                (self._fns[seg.index], tuple(event_of[d] for d in seg.deps),
                 event_of.get(seg.index)))
        self._runs = list(queues.items())
        self._backends = list({seg.device.backend: None for seg in self.segments})
        self._inline = [(self._fns[seg.index], seg.device.backend if type(
            seg.device.backend).run_context is not Backend.run_context else None)
            for seg in self.segments]

    def _run_inline(self, vals):
        """Every segment on the calling thread, in schedule order."""
        with contextlib.ExitStack() as stack:
            for backend in self._backends:
                stack.enter_context(backend.quiet())
            try:
                for fn, backend in self._inline:
                    if backend is None:
                        fn(vals)
                    else:
                        with backend.run_context():
                            fn(vals)
            except KernelFailure as failure:
                self._raise(failure)

    def _run_segments(self, vals):
        if not self._runs:  # only variables fetched: nothing to run
            return
        done = self._free_events.pop() if self._free_events else \
            [threading.Event() for _ in range(self._event_count)]
        failures = []
        if len(self._runs) > 1 and self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=len(self._runs) - 1, thread_name_prefix="tginteractive-device")
        futures = [self._pool.submit(self._run_queue, d, q, vals, done, failures)
                   for d, q in self._runs[1:]]
        try:
            self._run_queue(*self._runs[0], vals, done, failures)
        except BaseException as e:  # an interrupt in the main thread stops the workers too
            failures.append(e)
            for event in done:
                event.set()
            raise
        finally:
            for future in futures:
                future.result()
        if failures:
            self._raise(failures[0])
        for event in done:
            event.clear()
        self._free_events.append(done)

    @staticmethod
    def _run_queue(device, queue, vals, done, failures):
        backend = device.backend
        with backend.quiet(), backend.run_context():
            for fn, waits, signal in queue:
                for k in waits:
                    done[k].wait()
                if failures:
                    break
                try:
                    fn(vals)
                except BaseException as e:
                    failures.append(e)
                    for event in done:
                        event.set()
                    return
                finally:
                    if signal is not None:
                        done[signal].set()

    def _raise(self, failure):
        if isinstance(failure, KernelFailure):
            raise op_error(self.plan.ops[failure.index], failure.error) from (
                None if isinstance(failure.error, errors.OpError) else failure.error)
        raise failure

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
