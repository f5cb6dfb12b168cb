"""Run events: what each `Session.run` did, handed to in-process subscribers (the notebook views).

    with tf.run_events.subscribe(lambda event: print(event.duration), trace_every=100):
        sess.run(train_op)

A `RunEvent` carries the session, its run counter, wall time and duration (seconds), the
flattened fetch targets with their fetched values (None for Operations), the plan's placement
records and, on traced runs, per-device step stats (`RunMetadata.step_stats.dev_stats`).
A subscriber asking for `trace_every=N` makes every N-th run of each session a FULL_TRACE run,
so timing views sample without tracing every step.

With nobody subscribed `Session.run` checks one list and does nothing else.
"""
import threading
import warnings
from collections import namedtuple

__all__ = ["RunEvent", "subscribe", "has_subscribers"]

RunEvent = namedtuple("RunEvent", "session index wall_time duration targets results records "
                                  "dev_stats")
_subscriptions = []    # read without the lock by Session.run: only ever replaced, never mutated
_lock = threading.Lock()
trace_every = [0]      # the smallest trace_every > 0 among subscribers (0: never trace)


class Subscription:
    """Returned by `subscribe`; `close()` or leaving a `with` block unsubscribes."""

    def __init__(self, callback, trace_every):
        self.callback, self.trace_every, self.closed, self._warned = callback, trace_every, \
            False, False

    def close(self):
        global _subscriptions
        with _lock:
            _subscriptions = [s for s in _subscriptions if s is not self]
            self.closed = True
            _sync_trace()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<run_events.Subscription {self.callback!r}{' closed' if self.closed else ''}>"


def subscribe(callback, trace_every=0):
    """Call `callback(event)` after every Session.run from now on (any session, any thread).
    `trace_every=N` (N > 0) asks for per-op timings on every N-th run of each session."""
    global _subscriptions
    if not callable(callback):
        raise TypeError(f"subscribe() takes a callable, got {callback!r}.")
    if not isinstance(trace_every, int) or trace_every < 0:
        raise ValueError(f"trace_every must be an int >= 0, got {trace_every!r}.")
    subscription = Subscription(callback, trace_every)
    with _lock:
        _subscriptions = _subscriptions + [subscription]
        _sync_trace()
    return subscription


def has_subscribers():
    return bool(_subscriptions)


def _sync_trace():
    rates = [s.trace_every for s in _subscriptions if s.trace_every]
    trace_every[0] = min(rates) if rates else 0


def publish(event):
    """Hand `event` to every subscriber; a failing subscriber is warned about once."""
    for subscription in _subscriptions:
        try:
            subscription.callback(event)
        except Exception as e:  # noqa: BLE001 - a view must never break training
            if not subscription._warned:
                subscription._warned = True
                warnings.warn(f"Run-event subscriber {subscription.callback!r} raised "
                              f"{type(e).__name__}: {e}. Its later errors are not reported; "
                              "close its subscription to stop calling it.", RuntimeWarning,
                              stacklevel=3)
