"""Session and InteractiveSession: variable values live here, plans are cached here."""
import collections
import time
import weakref

from ..backends import NUMPY
from ..framework import context
from ..framework.graph import Tensor
from . import fetches as fetch_lib
from . import run_events
from .config import ConfigProto, DeviceStepStats, NodeExecStats, RunMetadata, RunOptions
from .devices import local_devices
from .dispatch import mode_for
from .executor import Executable, RunState
from .parallel import ParallelExecutable
from .plan import build_plan
from .threads import limit_threads, requested_threads

DeviceAttributes = collections.namedtuple(
    "DeviceAttributes", "name device_type memory_limit_bytes incarnation")


last_used = [lambda: None]  # weakref to the session that ran (or planned) most recently


class BaseSession:
    _holds_default_graph = False
    live = weakref.WeakSet()  # open sessions (the notebook layer reports kept variable values)

    def __init__(self, target="", graph=None, config=None):
        if target:
            raise NotImplementedError(f"Session target {target!r}: only in-process sessions "
                                      "(target='') are supported so far.")
        self._graph = graph if graph is not None else context.get_default_graph()
        self._config = config or ConfigProto()
        self._devices = local_devices(self._config)
        self._threads = requested_threads(self._config)
        self._mode = mode_for(self._config)
        self._state = RunState()
        self._closed = False
        self._executables = {}
        self.plans_built = 0  # how many (re)compilations this session made; caching is visible
        self.runs = 0         # Session.run calls seen while someone listened to run events
        self._context_managers = []
        BaseSession.live.add(self)
        self._weak = last_used[0] = weakref.ref(self)
        self.last_executable = None  # what the last run executed (its .plan): for the views
        self.last_step_stats = None  # per-device timings of the last traced run

    graph = property(lambda self: self._graph)
    graph_def = property(lambda self: self._graph)
    sess_str = property(lambda self: "")

    # ---- run ---------------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Evaluate `fetches` (any nesting of Tensors/Operations/names) given `feed_dict`."""
        if self._closed:
            raise RuntimeError(self._closed_message())
        if fetches.__class__ is Tensor and not feed_dict and options is None \
                and run_metadata is None and not run_events.channel.subscriptions:
            exe = self._executables.get((fetches,))
            if exe is not None and exe.plan.version == self._graph._version:
                return exe(())[0]
        targets, build = fetch_lib.flat_fetches(self._graph, fetches)
        if targets is None:
            mapper = fetch_lib.FetchMapper(self._graph, fetches)
            targets, build = tuple(mapper.targets), mapper.build
        feeds, values = fetch_lib.resolve_feeds(self._graph, feed_dict)
        traced = options is not None and options.trace_level == RunOptions.FULL_TRACE
        if run_events.channel.subscriptions:
            return build(self._run_published(targets, feeds, values, traced, run_metadata))
        exe = self._executable(targets, feeds, traced)
        values = [fetch_lib.convert_feed(t, v) for t, v in zip(feeds, values)]
        results = exe(values)
        if traced and run_metadata is not None:
            self._fill_metadata(exe, run_metadata)
        return build(results)

    def _closed_message(self):
        why = self._graph.closed_note
        return "Attempted to use a closed Session." + (
            f" It was closed because {why}: create a new session." if why else "")

    def _run_published(self, targets, feeds, values, traced, run_metadata):
        """run() while someone listens to run events: time it, sample a trace, publish."""
        index, self.runs = self.runs, self.runs + 1
        every = run_events.trace_every[0]
        sampled = not traced and every and index % every == 0
        exe = self._executable(targets, feeds, traced or sampled)
        values = [fetch_lib.convert_feed(t, v) for t, v in zip(feeds, values)]
        start = time.perf_counter()
        results = exe(values)
        duration = time.perf_counter() - start
        dev_stats = None
        if traced or sampled:
            metadata = run_metadata if traced and run_metadata is not None else RunMetadata()
            self._fill_metadata(exe, metadata)
            dev_stats = list(metadata.step_stats.dev_stats)
        run_events.publish(run_events.RunEvent(self, index, time.time(), duration, targets,
                                               results, exe.plan.records, dev_stats))
        return results

    def _executable(self, targets, feeds, traced=False):
        key = (targets + ("|",) + feeds) if feeds else targets
        if traced:
            key += ("trace",)
        exe = self._executables.get(key)
        last_used[0] = self._weak
        if exe is None or exe.plan.version != self._graph._version:
            if not self._graph._ops:
                raise RuntimeError("The Session graph is empty. Add operations to the graph "
                                   "before calling run().")
            if self._graph.closed_note:
                raise RuntimeError(f"This session's graph is gone: {self._graph.closed_note}. "
                                   "Create a new session (tf.Session()) on the new graph.")
            plan = build_plan(self._graph, targets, feeds, self._config, self._devices)
            _drop_reshaped_variables(plan.ops, self._state)
            if self._config.log_device_placement:
                print("\n".join(r.line() for r in plan.records))
            exe = limit_threads(_compile(plan, self._state, traced, self._mode), self._threads)
            if key in self._executables:
                self._executables[key].close()
            self._executables[key] = exe
            self.plans_built += 1
        self.last_executable = exe
        return exe

    def _fill_metadata(self, exe, run_metadata):
        by_device = {}
        for op, start, duration, size in exe.records:
            device = exe.plan.placement[op].name
            stats = by_device.setdefault(device, DeviceStepStats(device))
            stats.node_stats.append(NodeExecStats(op.name, op.type, int(start * 1e6),
                                                  int(duration * 1e6), size))
        exe.records.clear()
        run_metadata.step_stats.dev_stats.extend(by_device.values())
        self.last_step_stats = list(by_device.values())  # what the time-coloured views draw

    def placement(self, fetches, feed_list=()):
        """How `run(fetches)` would place its ops: PlacementRecords (op, requested device,
        actual device, reason), without running anything."""
        mapper = fetch_lib.FetchMapper(self._graph, fetches)
        feeds = tuple(self._graph.as_graph_element(f, allow_operation=False) for f in feed_list)
        return build_plan(self._graph, tuple(mapper.targets), feeds, self._config,
                          self._devices).records

    def make_callable(self, fetches, feed_list=None):
        """A function running `fetches` with positional feed values (TF1's fast path)."""
        mapper = fetch_lib.FetchMapper(self._graph, fetches)
        feeds = tuple(self._graph.as_graph_element(f, allow_operation=False)
                      for f in (feed_list or ()))

        def call(*feed_values):
            if self._closed:
                raise RuntimeError(self._closed_message())
            if len(feed_values) != len(feeds):
                raise ValueError(f"This callable takes {len(feeds)} feed values, got "
                                 f"{len(feed_values)}.")
            targets = tuple(mapper.targets)
            if run_events.channel.subscriptions:
                return mapper.build(self._run_published(targets, feeds, feed_values, False, None))
            exe = self._executable(targets, feeds)
            values = [fetch_lib.convert_feed(t, v) for t, v in zip(feeds, feed_values)]
            return mapper.build(exe(values))
        return call

    # ---- lifecycle -----------------------------------------------------------------------
    def list_devices(self):
        return [DeviceAttributes(d.name, d.device_type, d.memory_limit_bytes, i)
                for i, d in enumerate(self._devices)]

    def close(self):
        self._closed = True
        BaseSession.live.discard(self)
        self._state = RunState()
        self.last_executable = None
        for exe in self._executables.values():
            exe.close()
        self._executables.clear()

    def as_default(self):
        return context.session_as_default(self)

    def __enter__(self):
        stack = [self._graph.as_default(), self.as_default()]
        for cm in stack:
            cm.__enter__()
        self._context_managers.append(stack)
        return self

    def __exit__(self, exc_type, exc, tb):
        for cm in reversed(self._context_managers.pop()):
            cm.__exit__(exc_type, exc, tb)
        self.close()

    def __del__(self):
        self._closed = True


class Session(BaseSession):
    """TF1's `tf.Session(target='', graph=None, config=None)`."""


class InteractiveSession(BaseSession):
    """A session that installs itself (and its graph) as the default until `close()`."""

    _active = 0
    _holds_default_graph = True

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        if InteractiveSession._active:
            import warnings
            warnings.warn("An interactive session is already active. This can cause "
                          "out-of-memory errors in some cases. You must explicitly call "
                          "`InteractiveSession.close()` to release resources held by the "
                          "other session(s).", stacklevel=2)
        InteractiveSession._active += 1
        context._graph_stack.append(self._graph)
        context._session_stack.append(self)
        self._registered = True

    def close(self):
        if getattr(self, "_registered", False):
            self._registered = False
            InteractiveSession._active -= 1
            _remove_last(context._graph_stack, self._graph)
            _remove_last(context._session_stack, self)
        super().close()


def _remove_last(stack, item):
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is item:
            del stack[i]
            return


def _drop_reshaped_variables(ops, state):
    """A variable re-created (e.g. by a re-run notebook cell) with another shape or dtype
    under the same name starts uninitialised: its old value is dropped, and the reason kept
    for the uninitialised-value error."""
    for op in ops:
        if op.type != "VariableV2":
            continue
        value = state.variables.get(op.name)
        if value is None:
            continue
        shape, dtype = op.attrs["shape"], op.attrs["dtype"]
        if not shape.is_compatible_with(value.shape) or value.dtype != dtype.as_numpy_dtype:
            del state.variables[op.name]
            by = f" by {op.origin}" if op.origin else ""
            state.dropped[op.name] = (
                f"{op.name} was re-created{by} with shape {shape} and dtype "
                f"{dtype.name}; its old value (shape {list(value.shape)}, "
                f"{value.dtype}) was dropped")


def _compile(plan, state, traced=False, mode=None):
    """A single-device NumPy plan compiles to one function; anything else runs per device
    (`mode`: see runtime/dispatch.py)."""
    used = set(plan.placement.values())
    if len(used) <= 1 and all(d.backend is NUMPY for d in used):
        return Executable(plan, state, NUMPY, traced)
    return ParallelExecutable(plan, state, traced, mode=mode)
