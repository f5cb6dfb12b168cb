"""A channel of in-process subscribers: the summary stream and run events are two of them.

Publishers read `channel.subscriptions` without a lock (it is replaced, never mutated), so
checking for subscribers costs one attribute read. A subscriber that raises is warned about
once and then ignored: a view must never break training.
"""
import threading
import warnings


class Subscription:
    """Returned by `Channel.subscribe`; `close()` or leaving a `with` block unsubscribes."""

    def __init__(self, channel, callback, options):
        self.channel, self.callback, self.options = channel, callback, options
        self.closed, self._warned = False, False

    def close(self):
        self.channel._remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<Subscription {self.callback!r}{' closed' if self.closed else ''}>"


class Channel:
    def __init__(self, what, on_change=None):
        self.what, self.on_change = what, on_change  # on_change(subscriptions) after changes
        self.subscriptions = ()
        self._lock = threading.Lock()

    def subscribe(self, callback, **options):
        if not callable(callback):
            raise TypeError(f"subscribe() takes a callable, got {callback!r}.")
        subscription = Subscription(self, callback, options)
        with self._lock:
            self.subscriptions = self.subscriptions + (subscription,)
            self._changed()
        return subscription

    def _remove(self, subscription):
        with self._lock:
            self.subscriptions = tuple(s for s in self.subscriptions if s is not subscription)
            subscription.closed = True
            self._changed()

    def _changed(self):
        if self.on_change is not None:
            self.on_change(self.subscriptions)

    def publish(self, payload):
        for subscription in self.subscriptions:
            try:
                subscription.callback(payload)
            except Exception as e:  # noqa: BLE001 - a view must never break training
                if not subscription._warned:
                    subscription._warned = True
                    warnings.warn(f"{self.what} subscriber {subscription.callback!r} raised "
                                  f"{type(e).__name__}: {e}. Its later errors are not "
                                  "reported; close its subscription to stop calling it.",
                                  RuntimeWarning, stacklevel=3)
