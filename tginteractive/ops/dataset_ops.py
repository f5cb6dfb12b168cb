"""Iterator ops for `tf.data` (the datasets themselves are Python pipeline descriptions in
`tginteractive/data/`).

An iterator is named by a string key. Its state (a Python iterator over elements) lives per
session in the RunState, in `state.iterators[key]`, so two sessions iterate independently:

    MakeIterator(*captured, dataset=ds, iterator=key)     # (re)starts the pipeline
    IteratorGetNext(*captured, iterator=key, one_shot=..) # next element, or OutOfRangeError

`captured` are the tensors the pipeline reads (slices, map captures), evaluated when the
iterator is (re)initialized. A one-shot GetNext takes them itself and initializes on first use.
Pipelines hold only a weak proxy of the session state, so closing a session frees it and
background prefetch threads notice and stop. Datasets are Python objects: meta graphs cannot
store these ops (export raises UnserialisableGraphError).
"""
import weakref

import numpy as np

from ..framework import errors
from ..framework.registry import defop


def _iterators(state):
    return state.__dict__.setdefault("iterators", {})


class _Runner:
    """What a pipeline uses to run traced functions: the op's context over a weak proxy of
    the session state (so pipelines never keep a closed session's state alive)."""

    def __init__(self, ctx, state=None):
        self.alive = weakref.ref(ctx.state) if state is None else state
        self._ctx = type(ctx)(weakref.proxy(ctx.state) if state is None else ctx.state,
                              ctx.op, ctx.backend)

    def fork(self):
        """A runner for another thread (its own compiled sub-graphs)."""
        return _Runner(self._ctx, self.alive)

    def run_graph(self, graph, fetches, feeds, values):
        if self.alive() is None:
            raise errors.CancelledError(None, None, "The session of this iterator was closed.")
        return self._ctx.run_graph(graph, fetches, feeds, values)


def _start(ctx, dataset, key, values):
    table = _iterators(ctx.state)
    old = table.pop(key, None)
    if old is not None:
        old.close()
    table[key] = dataset._make_pipeline(list(values), _Runner(ctx))


def _make_iterator_kernel(ctx, xp, *values, dataset, iterator):
    _start(ctx, dataset, iterator, values)


MakeIterator = defop("MakeIterator", shape=lambda op: [], kernel=_make_iterator_kernel,
                     dtype=lambda op: [], needs_ctx=True, stateful=True, host_only=True,
                     differentiable=False)


def _get_next_kernel(ctx, xp, *values, iterator, one_shot, dataset, output_types,
                     output_shapes):
    table = _iterators(ctx.state)
    pipe = table.get(iterator)
    if pipe is None:
        if not one_shot:
            raise errors.FailedPreconditionError(
                None, None, f"GetNext() failed because the iterator '{iterator}' has not been "
                "initialized. Ensure that you have run the initializer operation for this "
                "iterator before getting the next element.")
        _start(ctx, dataset, iterator, values)
        pipe = table[iterator]
    element = pipe.next()
    if element is None:
        raise errors.OutOfRangeError(None, None, "End of sequence")
    out = tuple(np.asarray(v, dtype=d.as_numpy_dtype) for v, d in zip(element, output_types))
    return out if len(out) != 1 else out[0]


IteratorGetNext = defop(
    "IteratorGetNext", shape=lambda op: list(op.attrs["output_shapes"]),
    kernel=_get_next_kernel, dtype=lambda op: list(op.attrs["output_types"]), needs_ctx=True,
    stateful=True, host_only=True, differentiable=False)
