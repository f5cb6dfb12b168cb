"""Run events: what each `Session.run` did, handed to in-process subscribers (the notebook views).

    with tf.run_events.subscribe(lambda event: print(event.duration), trace_every=100):
        sess.run(train_op)

A `RunEvent` carries the session, its run counter, wall time and duration (seconds), the
flattened fetch targets with their fetched values (None for Operations), the plan's placement
records and, on traced runs, per-device step stats (`RunMetadata.step_stats.dev_stats`).
A subscriber asking for `trace_every=N` makes every N-th run of each session a FULL_TRACE run,
so timing views sample without tracing every step.

With nobody subscribed `Session.run` reads one attribute and does nothing else.
"""
from collections import namedtuple

from ..framework.pubsub import Channel

__all__ = ["RunEvent", "subscribe", "has_subscribers"]

RunEvent = namedtuple("RunEvent", "session index wall_time duration targets results records "
                                  "dev_stats")
trace_every = [0]      # the smallest trace_every > 0 among subscribers (0: never trace)


def _sync_trace(subscriptions):
    rates = [s.options["trace_every"] for s in subscriptions if s.options["trace_every"]]
    trace_every[0] = min(rates) if rates else 0


channel = Channel("Run-event", on_change=_sync_trace)
publish = channel.publish


def subscribe(callback, trace_every=0):
    """Call `callback(event)` after every Session.run from now on (any session, any thread).
    `trace_every=N` (N > 0) asks for per-op timings on every N-th run of each session."""
    if not isinstance(trace_every, int) or trace_every < 0:
        raise ValueError(f"trace_every must be an int >= 0, got {trace_every!r}.")
    return channel.subscribe(callback, trace_every=trace_every)


def has_subscribers():
    return bool(channel.subscriptions)
