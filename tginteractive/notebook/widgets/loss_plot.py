"""LossPlot: scalar series drawn live while a cell trains, from two sources:

    with LossPlot(tensors=[loss]) as plot:        # the fetched value of `loss`, every run
        for step in range(1000):                  # that fetches it
            sess.run([train_op, loss])

    with LossPlot(tags=["loss"]):                 # tf.summary.scalar("loss", ...) values, run
        ...                                       # by Session.run or written by a FileWriter

Points go into a History (the data model); the figure is drawn from it with matplotlib's Agg
canvas (no pyplot state) into the plot's own Image widget, at most every `throttle` seconds
and within a share of the wall time, so the cell is never cleared and nothing flickers.
Leaving the `with` block unsubscribes, draws a last time and leaves a static PNG in the saved
notebook; leaving it with an exception (or calling `fail(exc)`) turns the plot red, as tqdm
does with its bar.
"""
import html
import io
import math
import threading
import time

import numpy as np

from ...runtime import run_events
from ...summary import stream
from ._history import (ERROR_COLOR, EMA, DisplaySlot, History, LiveView, Throttle, counted,
                       failure_text, format_value, require, static_bundle, warn_once)

MAX_DRAWN_POINTS = 1000   # per series; longer series are thinned for drawing only


class LossPlot(LiveView):
    """A live plot of scalar series.

    tags: summary tags to plot from the summary stream; tensors: Tensors (or Variables, or
    names such as "loss" / "loss:0"), or a dict {series name: tensor}, whose fetched values
    are plotted from run events. With neither, every scalar summary is plotted; with only
    tensors, summaries are not listened to. Watched tensors share one step per run: the
    fetched value of `global_step` when that run fetched it, else a counter of such runs.
    `smoothing` in [0, 1) is TensorBoard's smoothing weight.
    """

    def __init__(self, tags=None, tensors=None, smoothing=0.0, throttle=0.5, global_step=None,
                 title="", figsize=(6.0, 3.2), dpi=72, watch_summaries=True, budget=0.03,
                 clock=time.monotonic):
        widgets = require("ipywidgets", "LossPlot")
        require("matplotlib", "LossPlot")
        self.history = History()
        self.smoothing = float(smoothing)
        EMA(self.smoothing)  # validates the weight now rather than at the first draw
        self.tags = None if tags is None else list(tags)
        self._watch = _watch_map(tensors)
        self._listen_summaries = tags is not None or not self._watch
        self._step_key = None if global_step is None else _name_key(global_step)
        self.title, self.figsize, self.dpi = title, figsize, dpi
        self.watch_summaries, self.throttle, self.budget = watch_summaries, throttle, budget
        self.error, self.closed, self.draws = None, False, 0
        self._clock, self._lock = clock, threading.RLock()
        self._subscriptions, self._watching = [], False
        self._memo, self._emas, self._stepped = {}, {}, set()
        self._counter, self._png, self._canvas = 0, b"", None
        self._lines, self._legend_tags = {}, None
        self._throttle = Throttle(throttle, budget, clock)
        self._slot = DisplaySlot()
        self.header = widgets.HTML(value=html.escape(self._header_text()))
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([self.header, self.image])

    # ---- lifecycle ------------------------------------------------------------------------
    def open(self):
        """Subscribe to the sources (entering the `with` block does this)."""
        if self.closed:
            raise RuntimeError("This LossPlot is closed; create a new one to plot again.")
        if self._subscriptions:
            return self
        if self._watch:
            self._subscriptions.append(run_events.subscribe(self._on_run))
        if self._listen_summaries:
            self._subscriptions.append(stream.subscribe(self._on_records))
            if self.watch_summaries:
                _watch(True)
                self._watching = True
        self.draw()  # the empty axes; creating the figure is a one-off cost, so the
        self._throttle = Throttle(self.throttle, self.budget, self._clock)  # budget starts now
        return self

    def close(self):
        """Unsubscribe, draw the final image and leave it as a static PNG in the output."""
        if self.closed:
            return
        self._unsubscribe()
        self.closed = True
        self.draw(final=True)
        self._slot.update(self._repr_mimebundle_())

    def fail(self, exc):
        """Show the error state: 'stopped by KeyboardInterrupt', 'failed: ValueError'."""
        self.error = failure_text(exc) or "failed"
        self.draw()

    def _unsubscribe(self):
        for subscription in self._subscriptions:
            subscription.close()
        self._subscriptions = []
        if self._watching:
            _watch(False)
            self._watching = False

    # ---- sources (called in the thread running Session.run: keep them cheap) --------------
    def _on_run(self, event):
        hits = self._memo.get(event.targets)
        if hits is None:
            if len(self._memo) > 256:
                self._memo.clear()
            hits = self._memo[event.targets] = self._match(event.targets)
        watched, step_index = hits
        if not watched:
            return
        results = event.results
        step = self._counter if step_index is None else int(_scalar(results[step_index]))
        self._counter = step + 1
        for index, tag in watched:
            self.history.append(tag, _scalar(results[index]), step)
        self._changed()

    def _match(self, targets):
        """([(index, series name)], index of the global step or None) for one fetch list."""
        watched, step_index = [], None
        for i, target in enumerate(targets):
            name = getattr(target, "name", None)
            tag = self._watch.get(name)
            if tag is not None:
                watched.append((i, tag))
            if self._step_key is not None and name == self._step_key:
                step_index = i
        return watched, step_index

    def _on_records(self, records):
        """Scalar summaries. A tag also written with a step (FileWriter.add_summary) is plotted
        at those steps only: its unstepped points from Session.run are dropped."""
        changed = False
        for r in records:
            if r.kind != "scalar" or (self.tags is not None and r.tag not in self.tags):
                continue
            if r.step is None and r.tag in self._stepped:
                continue
            if r.step is not None and r.tag not in self._stepped:
                self._stepped.add(r.tag)
                self.history.clear(r.tag)
            self.history.append(r.tag, r.value, r.step)
            changed = True
        if changed:
            self._changed()

    def _changed(self):
        if self._throttle.due():
            self.draw()

    # ---- drawing ---------------------------------------------------------------------------
    def draw(self, final=False):
        """Draw now into the widget (live updates call this when the throttle allows).
        Never raises: a failed draw warns once and keeps the previous image."""
        with self._lock:
            try:
                with self._throttle.drawing():
                    png = self._render(compress=6 if final else 1)
            except Exception as e:  # noqa: BLE001 - a view must never break training
                warn_once(self, "draw", e)
                return
            self._png = png
            self.draws += 1
            self.image.value = png
            self.header.value = self._header_html()

    @property
    def png(self):
        """The PNG bytes of the latest drawing (b'' before the first)."""
        return self._png

    def _render(self, compress):
        figure, ax = self._axes()
        tags = self.history.tags
        for tag in set(self._lines) - set(tags):  # series cleared since the last draw
            for line in self._lines.pop(tag):
                line.remove()
        for tag in tags:
            raw, main = self._lines.get(tag) or self._add_lines(ax, tag)
            steps, values = self.history.series(tag)
            if raw is not None:
                raw.set_data(*_thin(steps, values))
                values = self._smoothed(tag, values)
            main.set_data(*_thin(steps, values))
        ax.relim()
        ax.autoscale_view()
        self._update_legend(ax, tags)
        color = ERROR_COLOR if self.error else "black"
        ax.set_title(" - ".join(filter(None, [self.title, self.error])), color=color)
        for spine in ax.spines.values():
            spine.set_edgecolor(color)
        figure.canvas.draw()
        return _encode_png(figure.canvas, compress)

    def _add_lines(self, ax, tag):
        color = f"C{len(self._lines) % 10}"
        raw = ax.plot([], [], color=color, alpha=0.3, linewidth=1)[0] if self.smoothing \
            else None
        main = ax.plot([], [], color=color, linewidth=1.5, label=tag)[0]
        self._lines[tag] = (raw, main)
        return raw, main

    def _update_legend(self, ax, tags):
        """A legend only for several series (one series is named in the header)."""
        if tuple(tags) == self._legend_tags:
            return
        self._legend_tags = tuple(tags)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        if len(tags) > 1:
            ax.legend(loc="upper right", fontsize="small")

    def _axes(self):
        if self._canvas is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
            figure = Figure(figsize=self.figsize, dpi=self.dpi)
            figure.subplots_adjust(left=0.12, right=0.97, bottom=0.15, top=0.9)
            self._canvas = FigureCanvasAgg(figure)
            ax = figure.add_subplot()
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
        figure = self._canvas.figure
        return figure, figure.axes[0]

    def _smoothed(self, tag, values):
        ema = self._emas.get(tag)
        if ema is None or len(ema.values) > len(values):
            ema = self._emas[tag] = EMA(self.smoothing)
        return ema.extend(values[len(ema.values):])

    # ---- text ------------------------------------------------------------------------------
    def _series_text(self, tag):
        step, value = self.history.last(tag)
        n = self.history.count(tag)
        return (f"{tag} {counted(n, 'point')} "
                f"(last {format_value(value)} at step {step})")

    def _header_text(self):
        parts = [self._series_text(tag) for tag in self.history.tags]
        return "; ".join(parts) or "no points yet"

    def _header_html(self):
        text = html.escape(self._header_text())
        if self.error:
            text += f' <b style="color:{ERROR_COLOR}">{html.escape(self.error)}</b>'
        return text

    def text(self, status=True):
        """The deterministic text/plain form: series, point counts, last values and (with
        `status`) the error state."""
        tags = self.history.tags
        if len(tags) <= 1:
            lines = ["LossPlot: " + (self._series_text(tags[0]) if tags else "no points yet")]
        else:
            lines = [f"LossPlot: {len(tags)} series"]
            lines += ["  " + self._series_text(tag) for tag in tags]
        if self.error and status:
            lines.append(self.error)
        return "\n".join(lines)

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The widget view, the text and, once closed, the final image as a static PNG."""
        return static_bundle(self.widget, repr(self), self._png if self.closed else b"")


# ---- helpers ---------------------------------------------------------------------------------
_watchers = {"count": 0, "before": False}


def _watch(on):
    """Session summaries are watched while any plot needs them; the last plot to close
    restores the setting found by the first."""
    if on:
        if _watchers["count"] == 0:
            _watchers["before"] = stream.watch_session_summaries(True)
        _watchers["count"] += 1
    else:
        _watchers["count"] -= 1
        if _watchers["count"] == 0:
            stream.watch_session_summaries(_watchers["before"])


def _name_key(item):
    """A tensor's name for matching fetched targets: 'loss' -> 'loss:0'."""
    name = item if isinstance(item, str) else item.name
    return name if ":" in name else name + ":0"


def _series_name(item):
    name = _name_key(item)
    return name[:-2] if name.endswith(":0") else name


def _watch_map(tensors):
    """{tensor name: series name} of `tensors` (list, tuple or dict). Fetches are matched
    by name, so a tensor rebuilt by re-running its cell is still watched."""
    if tensors is None:
        return {}
    items = tensors.items() if isinstance(tensors, dict) else \
        [(_series_name(t), t) for t in tensors]
    return {_name_key(item): tag for tag, item in items}


def _scalar(value):
    """A fetched value as one float (the mean of a non-scalar)."""
    array = np.asarray(value)
    return float(array.reshape(-1)[0]) if array.size == 1 else float(array.mean())


def _thin(steps, values, limit=MAX_DRAWN_POINTS):
    """Arrays of at most about `limit` evenly spaced points, always keeping the last one;
    infinities become gaps (NaN), as matplotlib cannot scale axes to them."""
    steps, values = np.asarray(steps, np.float64), np.asarray(values, np.float64)
    if len(steps) > limit:
        keep = np.r_[np.arange(0, len(steps) - 1, math.ceil(len(steps) / limit)),
                     len(steps) - 1]
        steps, values = steps[keep], values[keep]
    return steps, np.where(np.isfinite(values), values, np.nan)


def _encode_png(canvas, compress):
    from PIL import Image
    pixels = np.asarray(canvas.buffer_rgba())
    buffer = io.BytesIO()
    Image.fromarray(pixels[:, :, :3]).save(buffer, format="PNG", compress_level=compress)
    return buffer.getvalue()
