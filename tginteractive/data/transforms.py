"""Dataset transformations: map, filter, shuffle, batch, padded_batch, repeat, take, skip,
prefetch, cache, concatenate. Each `_iter(env)` wraps its parent's Python iterator."""
import collections
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..framework import dtypes, errors
from ..framework.context import name_scope
from ..framework.function_graph import Branch, FuncGraph, innermost_graph, tracing
from ..framework.graph import Tensor
from ..framework.registry import convert_to_tensor
from ..framework.shapes import TensorShape, as_shape
from ..ops.array_ops import identity, placeholder
from ..ops.random_ops import get_seed
from .dataset import Dataset, count_arg, count_value, flatten, pack, static_int


def rng_for(seeds):
    """A generator from TF1-style `(seed, seed2)` (nondeterministic when both are None)."""
    if seeds == (None, None):
        return np.random.default_rng()
    return np.random.default_rng([int(seeds[0]), int(seeds[1])])


# ---- traced functions (map, filter) -----------------------------------------------------------
class TracedFunction:
    """`fn` traced once into a FuncGraph taking one placeholder per element component;
    run per element through the session (`env.runner.run_graph`). Subclasses choose what
    the graph outputs (`_outputs`)."""

    def __init__(self, fn, dataset, scope):
        with name_scope(None, scope) as name:
            self.graph = FuncGraph(innermost_graph(), name)
            with tracing(self.graph):
                args = [placeholder(t, s, name="arg") for t, s in
                        zip(dataset._flat_types(), dataset._flat_shapes())]
                element = pack(dataset._types, args)
                result = fn(*element) if isinstance(element, tuple) else fn(element)
                outs = self._outputs(result, scope)
        self.captured = list(self.graph.captured)
        inner = [self.graph._inner[t] for t in self.captured]
        self.branch = Branch(self.graph, args + inner, outs)
        self.graph.seal()
        self.outputs = outs
        self.fetches = tuple(outs)

    def _outputs(self, result, scope):
        self.structure = result
        return [self._output(x) for x in flatten(result)]

    def _output(self, x):
        if x is None:
            raise TypeError("A Dataset function returned None in its result; return tensors.")
        t = convert_to_tensor(x)
        t = t if t.graph is self.graph else self.graph.capture(t)
        if t.op.type in ("Placeholder", "Const", "VariableV2"):
            t = identity(t)
        return t

    def graph_captures(self):
        return [t for t in self.captured if t.op.type != "VariableV2"]

    def run(self, env, element, runner=None):
        """The graph's outputs for one element (captured values come from `env`)."""
        values = list(element) + [None if t.op.type == "VariableV2" else env.value(t)
                                  for t in self.captured]
        fed = [values[i] for i in self.branch.fed]
        runner = runner or env.runner
        return runner.run_graph(self.graph, self.fetches, self.branch.feeds, fed)

    __call__ = run


class MapDataset(Dataset):
    """`map(fn, num_parallel_calls)`: with several calls, elements are mapped by a pool of
    threads (each with its own runner), at most that many ahead, in the input order."""

    def __init__(self, parent, fn, num_parallel_calls=None):
        self._inputs = (parent,)
        self._parallel = static_int(num_parallel_calls or 1, "num_parallel_calls")
        self._fn = TracedFunction(fn, parent, "Dataset_map")
        self._captures = self._fn.graph_captures()
        outs = self._fn.outputs
        self._types = pack(self._fn.structure, [t.dtype for t in outs])
        self._shapes = pack(self._fn.structure, [t.shape for t in outs])

    def _iter(self, env):
        if self._parallel <= 1 or not hasattr(env.runner, "fork"):
            for element in self._inputs[0]._iter(env):
                yield tuple(self._fn(env, element))
            return
        yield from self._parallel_iter(env)

    def _parallel_iter(self, env):
        local = threading.local()

        def call(element):
            if not hasattr(local, "runner"):
                local.runner = env.runner.fork()
            return tuple(self._fn(env, element, local.runner))
        pool = ThreadPoolExecutor(self._parallel, thread_name_prefix="tf.data map")
        env.threads.append(lambda: pool.shutdown(wait=False, cancel_futures=True))
        pending = collections.deque()
        try:
            for element in self._inputs[0]._iter(env):
                pending.append(pool.submit(call, element))
                if len(pending) >= self._parallel:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


class FilterDataset(Dataset):
    def __init__(self, parent, predicate):
        self._inputs = (parent,)
        self._fn = TracedFunction(predicate, parent, "Dataset_filter")
        out = self._fn.outputs
        if len(out) != 1 or out[0].dtype is not dtypes.bool or out[0].shape.ndims not in \
                (None, 0):
            raise ValueError("`predicate` must return a scalar boolean tensor.")
        self._captures = self._fn.graph_captures()
        self._types, self._shapes = parent._types, parent._shapes

    def _iter(self, env):
        for element in self._inputs[0]._iter(env):
            if bool(self._fn(env, element)[0]):
                yield element


# ---- reordering -------------------------------------------------------------------------------
class ShuffleDataset(Dataset):
    """TF's buffer algorithm: fill a buffer of `buffer_size`, then emit a random slot and
    refill it from upstream. Seeds follow tf.set_random_seed's rules."""

    def __init__(self, parent, buffer_size, seed, reshuffle):
        self._inputs = (parent,)
        self._size = count_arg(self, buffer_size, "buffer_size")
        if isinstance(self._size, int) and self._size <= 0:
            raise ValueError("buffer_size must be greater than zero.")
        self._seeds, self._reshuffle = get_seed(seed), reshuffle
        self._types, self._shapes = parent._types, parent._shapes

    def _iter(self, env):
        rng = env.state.get(id(self)) if self._reshuffle else None
        if rng is None:
            rng = env.state[id(self)] = rng_for(self._seeds)
        upstream, buf, size = iter(self._inputs[0]._iter(env)), [], count_value(env, self._size)
        for element in upstream:
            buf.append(element)
            if len(buf) >= size:
                break
        for element in upstream:
            k = int(rng.integers(len(buf)))
            yield buf[k]
            buf[k] = element
        while buf:
            k = int(rng.integers(len(buf)))
            buf[k], buf[-1] = buf[-1], buf[k]
            yield buf.pop()


class RepeatDataset(Dataset):
    def __init__(self, parent, count):
        self._inputs = (parent,)
        self._count = -1 if count is None else count_arg(self, count, "count")
        self._types, self._shapes = parent._types, parent._shapes

    def _iter(self, env):
        epoch, count = 0, count_value(env, self._count)
        while count < 0 or epoch < count:
            empty = True
            for element in self._inputs[0]._iter(env):
                empty = False
                yield element
            if empty:
                return
            epoch += 1


class TakeDataset(Dataset):
    def __init__(self, parent, count):
        self._inputs, self._count = (parent,), count_arg(self, count, "count")
        self._types, self._shapes = parent._types, parent._shapes

    def _iter(self, env):
        count = count_value(env, self._count)
        if count == 0:
            return
        for i, element in enumerate(self._inputs[0]._iter(env)):
            yield element
            if i + 1 == count:
                return


class SkipDataset(Dataset):
    def __init__(self, parent, count):
        self._inputs, self._count = (parent,), count_arg(self, count, "count")
        self._types, self._shapes = parent._types, parent._shapes

    def _iter(self, env):
        it, count = iter(self._inputs[0]._iter(env)), count_value(env, self._count)
        if count < 0:
            return
        for _ in zip(range(count), it):
            pass
        yield from it


class ConcatenateDataset(Dataset):
    def __init__(self, first, second):
        if flatten(first._types) != flatten(second._types):
            raise TypeError("Datasets to concatenate must have the same element types.")
        self._inputs, self._types = (first, second), first._types
        self._shapes = pack(first._types, [_merge(a, b) for a, b in
                                           zip(first._flat_shapes(), second._flat_shapes())])

    def _iter(self, env):
        for ds in self._inputs:
            yield from ds._iter(env)


def _merge(a, b):
    if a.dims is None or b.dims is None or len(a.dims) != len(b.dims):
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.dims, b.dims)])


# ---- batching -----------------------------------------------------------------------------------
def _batched(shape, size):
    return TensorShape(None) if shape.dims is None else TensorShape([size] + list(shape.dims))


class BatchDataset(Dataset):
    def __init__(self, parent, batch_size, drop_remainder=False):
        self._inputs, self._size = (parent,), count_arg(self, batch_size, "batch_size")
        if isinstance(self._size, int) and self._size <= 0:
            raise ValueError("batch_size must be greater than zero.")
        self._drop = bool(drop_remainder)
        dim = self._size if self._drop and isinstance(self._size, int) else None
        self._types = parent._types
        self._shapes = pack(parent._types, [_batched(s, dim) for s in parent._flat_shapes()])

    def _groups(self, env):
        group, size = [], count_value(env, self._size)
        if size <= 0:
            raise errors.InvalidArgumentError(None, None, "Batch size must be greater than "
                                              f"zero, but is {size}.")
        for element in self._inputs[0]._iter(env):
            group.append(element)
            if len(group) == size:
                yield group
                group = []
        if group and not self._drop:
            yield group

    def _iter(self, env):
        for group in self._groups(env):
            try:
                yield tuple(np.stack(parts) for parts in zip(*group))
            except ValueError as e:
                raise errors.InvalidArgumentError(
                    None, None, f"Cannot batch tensors with different shapes ({e}); use "
                    "padded_batch.") from None


class PaddedBatchDataset(BatchDataset):
    def __init__(self, parent, batch_size, padded_shapes, padding_values, drop_remainder):
        super().__init__(parent, batch_size, drop_remainder)
        flat = flatten(padded_shapes) if isinstance(parent._types, (tuple, list, dict)) \
            else [padded_shapes]
        self._pads = [as_shape(s) for s in _shape_leaves(padded_shapes, parent._types)]
        if len(self._pads) != len(parent._flat_types()):
            raise ValueError(f"padded_shapes {flat} does not match the element structure.")
        values = [None] * len(self._pads) if padding_values is None else \
            flatten(padding_values)
        self._values = [convert_to_tensor(_default_pad(t) if v is None else v, dtype=t)
                        for v, t in zip(values, parent._flat_types())]
        self._captures = list(self._captures) + list(self._values)
        dim = self._size if self._drop and isinstance(self._size, int) else None
        self._shapes = pack(parent._types, [_batched(s, dim) for s in self._pads])

    def _iter(self, env):
        types = self._flat_types()
        for group in self._groups(env):
            out = []
            for k, parts in enumerate(zip(*group)):
                parts = [np.asarray(p) for p in parts]
                pad = self._pads[k]
                target = [max(p.shape[i] for p in parts) if d is None else d
                          for i, d in enumerate(pad.dims or [None] * parts[0].ndim)]
                batch = np.full([len(parts)] + target, env.value(self._values[k]),
                                dtype=types[k].as_numpy_dtype)
                for j, p in enumerate(parts):
                    if any(a > b for a, b in zip(p.shape, target)):
                        raise errors.InvalidArgumentError(
                            None, None, f"Attempted to pad to a smaller size than the input "
                            f"element: {list(p.shape)} into {target}.")
                    batch[(j,) + tuple(slice(0, n) for n in p.shape)] = p
                out.append(batch)
            yield tuple(out)


def _shape_leaves(padded_shapes, types):
    """Leaves of `padded_shapes` laid out like `types` (a shape is itself a list)."""
    if isinstance(types, dict):
        return [x for k in sorted(types) for x in _shape_leaves(padded_shapes[k], types[k])]
    if isinstance(types, tuple):
        return [x for p, t in zip(padded_shapes, types) for x in _shape_leaves(p, t)]
    if isinstance(padded_shapes, Tensor):
        from ..framework.registry import constant_value
        padded_shapes = constant_value(padded_shapes)
    if isinstance(padded_shapes, TensorShape):
        return [padded_shapes]
    return [[None if d is None or int(d) < 0 else int(d) for d in padded_shapes]]


def _default_pad(dtype):
    return b"" if dtype is dtypes.string else 0


# ---- prefetch and cache ---------------------------------------------------------------------------
_END = object()


class PrefetchDataset(Dataset):
    """A background thread fills a bounded queue with upstream elements while the session
    consumes them. Upstream exceptions reach the consumer; the thread stops when the iterator
    is re-initialized, its session is closed, or upstream ends."""

    def __init__(self, parent, buffer_size):
        self._inputs = (parent,)
        self._size = static_int(buffer_size, "buffer_size")
        self._types, self._shapes = parent._types, parent._shapes

    def _iter(self, env):
        size = self._size if self._size > 0 else 1  # AUTOTUNE (-1) -> one element ahead
        box, stop = queue.Queue(maxsize=size), threading.Event()
        upstream = self._inputs[0]._iter(env)
        alive = getattr(env.runner, "alive", lambda: True)
        thread = threading.Thread(target=_produce, args=(upstream, box, stop, alive),
                                  name="tf.data prefetch", daemon=True)
        env.threads.append(stop.set)
        env.state.setdefault("prefetch_threads", []).append(thread)
        thread.start()
        try:
            while True:
                item = box.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()


def _put(box, item, stop, alive):
    while not stop.is_set() and alive() is not None:
        try:
            box.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


def _produce(upstream, box, stop, alive):
    try:
        for element in upstream:
            if not _put(box, element, stop, alive):
                return
    except BaseException as e:  # handed to the consumer, raised there
        _put(box, e, stop, alive)
        return
    _put(box, _END, stop, alive)


class CacheDataset(Dataset):
    """In-memory cache: the first complete pass is recorded; later passes (after `repeat`)
    replay it without running upstream again."""

    def __init__(self, parent, filename=""):
        if filename:
            raise NotImplementedError("Dataset.cache(filename) to a file is not supported; "
                                      "use cache() to cache in memory.")
        self._inputs, self._types, self._shapes = (parent,), parent._types, parent._shapes

    def _iter(self, env):
        cached = env.state.get(id(self))
        if cached is not None:
            yield from cached
            return
        record = []
        for element in self._inputs[0]._iter(env):
            record.append(element)
            yield element
        env.state[id(self)] = record
