"""What the live views share: the History data model, TensorBoard's smoothing, the
optional-import guard and a throttle that keeps drawing within a share of the wall time.

A History is only data, (step, tag, value) points per series; the views decide how to draw it
(as livelossplot keeps `MainLogger` apart from its `outputs/`).
"""
import base64
import importlib
import math
import time
import warnings

HINT = 'pip install "tginteractive[notebook]"'


def require(module, feature):
    """Import `module` for `feature`, or fail with the one command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{feature} needs {module.split('.')[0]}, which is not installed. "
                          f"Install the notebook extras: {HINT}") from e


class History:
    """Points (step, value) per tag, in arrival order. A point without a step gets the next
    step of its own series (0, 1, 2, ...)."""

    def __init__(self):
        self._steps, self._values = {}, {}

    def append(self, tag, value, step=None):
        steps = self._steps.get(tag)
        if steps is None:
            steps = self._steps[tag] = []
            self._values[tag] = []
        if step is None:
            step = steps[-1] + 1 if steps else 0
        steps.append(int(step))
        self._values[tag].append(float(value))
        return step

    def clear(self, tag=None):
        """Forget one series (or all of them)."""
        for tag in ([tag] if tag is not None else list(self._steps)):
            self._steps.pop(tag, None)
            self._values.pop(tag, None)

    @property
    def tags(self):
        return list(self._steps)

    def series(self, tag):
        """(steps, values) of `tag`, as copies of equal length (another thread may be
        appending a point between the two copies)."""
        steps, values = list(self._steps.get(tag, ())), list(self._values.get(tag, ()))
        n = min(len(steps), len(values))
        return steps[:n], values[:n]

    def last(self, tag):
        """(step, value) of the latest point of `tag`, or None."""
        steps = self._steps.get(tag)
        return (steps[-1], self._values[tag][-1]) if steps else None

    def count(self, tag):
        return len(self._steps.get(tag, ()))

    def __len__(self):
        return sum(len(steps) for steps in self._steps.values())

    def __iter__(self):
        """(step, tag, value) of every point, series by series."""
        for tag, steps in list(self._steps.items()):
            for step, value in zip(steps, self._values[tag]):
                yield step, tag, value


class EMA:
    """TensorBoard's debiased exponential moving average, fed incrementally:
    last = weight * last + (1 - weight) * value; smoothed = last / (1 - weight ** n),
    n counting the finite values so far; non-finite values pass through unsmoothed."""

    def __init__(self, weight):
        if not 0 <= weight < 1:
            raise ValueError(f"smoothing must be in [0, 1), got {weight!r}.")
        self.weight, self.last, self.count, self.values = weight, 0.0, 0, []

    def extend(self, values):
        w = self.weight
        for value in values:
            if not math.isfinite(value):
                self.values.append(value)
                continue
            self.last = self.last * w + (1 - w) * value
            self.count += 1
            self.values.append(self.last / (1 - w ** self.count))
        return self.values


def smooth(values, weight):
    """The smoothed copy of `values` (a list), as TensorBoard's smoothing slider draws it."""
    return list(EMA(weight).extend(values))


class Throttle:
    """Says when a view may redraw: not before `interval` seconds since the last draw began,
    and, for slow draws, not before `cost / budget` seconds, so drawing takes at most about
    `budget` of the wall time whatever it costs. `clock` is injectable for tests."""

    def __init__(self, interval, budget=0.05, clock=time.monotonic):
        self.interval, self.budget, self.clock = interval, budget, clock
        self.started = clock()
        self.next_at = self.started + interval

    def due(self):
        return self.clock() >= self.next_at

    def drawing(self):
        """A context manager around one draw that schedules the next one."""
        return _Timed(self)


class _Timed:
    def __init__(self, throttle):
        self.throttle = throttle

    def __enter__(self):
        self.start = self.throttle.clock()

    def __exit__(self, *exc):
        t = self.throttle
        cost = t.clock() - self.start
        t.next_at = self.start + max(t.interval, cost / t.budget if t.budget else 0.0)


def warn_once(owner, what, error):
    """Warn about a failed draw once per view; the views never raise while rendering."""
    if not getattr(owner, "_warned", False):
        owner._warned = True
        warnings.warn(f"{type(owner).__name__} could not {what}: {type(error).__name__}: "
                      f"{error}. It keeps its data and tries again on the next update.",
                      RuntimeWarning, stacklevel=3)


def counted(n, noun):
    """'1 op', '3 ops', '2 control dependencies': a count with its noun."""
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n} {noun if n == 1 else plural}"


def format_value(value):
    """A value rounded for deterministic text (4 significant digits)."""
    return f"{value:.4g}"


def failure_text(exc):
    """tqdm-style state of an interrupted view: 'stopped by KeyboardInterrupt' for an
    interrupt, else 'failed: ValueError' (the type only, so the text stays deterministic)."""
    if exc is None:
        return ""
    kind = exc if isinstance(exc, type) else type(exc)
    verb = "stopped by" if issubclass(kind, KeyboardInterrupt) else "failed:"
    return f"{verb} {kind.__name__}"


class DisplaySlot:
    """A view's place in the notebook: shown with a display id, so that on close the live
    widget's output can be updated in place with a static bundle (PNG + text) that stays
    in the saved notebook for nbconvert, GitHub and nbval."""

    def __init__(self):
        self.handle = None

    def show(self, bundle):
        from IPython.display import display
        self.handle = display(bundle, raw=True, display_id=True)

    def update(self, bundle):
        if self.handle is not None:
            try:
                self.handle.update(bundle, raw=True)
            except Exception as e:  # noqa: BLE001 - a closed front end must not break close()
                warn_once(self, "update its output", e)


ERROR_COLOR = "#c62828"  # the red of a view's error state


def static_bundle(widget, text, png=b""):
    """A display bundle: the widget's view (when it has one), text/plain and an optional PNG
    that front ends without the widget (nbconvert, GitHub) show instead."""
    bundle = {}
    try:
        bundle.update(widget._repr_mimebundle_())
    except Exception:  # noqa: BLE001, S110 - the text and image still make a bundle
        pass
    bundle["text/plain"] = text
    if png:
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
    return bundle


class TextRepr:
    """repr() is the view's deterministic `text()`, and never raises."""

    def __repr__(self):
        try:
            return self.text()
        except Exception as e:  # noqa: BLE001 - a repr must never raise
            return f"{type(self).__name__}: (no text: {type(e).__name__})"


class LiveView(TextRepr):
    """`with view:` opens it (subscribes), and on leaving shows the error state if the block
    raised, then closes it (unsubscribes, leaves the final static output). Subclasses define
    open(), close(), fail(exc), _repr_mimebundle_() and a DisplaySlot `_slot`."""

    def __enter__(self):
        return self.open()

    def _ipython_display_(self):
        self._slot.show(self._repr_mimebundle_())

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is not None:
                self.fail(exc if exc is not None else exc_type)
        finally:
            self.close()
        return False
