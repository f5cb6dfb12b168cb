"""`%tg_board [logdir]`: TensorBoard's scalars and histograms drawn inline, with no server.

Each directory under `logdir` holding events files is a run, as in TensorBoard. The files are
read by TensorBoard's own reader and kept as a default `tensorboard --logdir` (its data
server) keeps them: per tag and run, a point at step s replaces the points read before it at
steps >= s, so a restart or a re-run cell replaces its steps instead of drawing overlapping
curves. (TensorBoard's Python loader, `--load_fast=false`, purges at a SessionLog.START
instead, but not at a run's first: the notebook writer policy starts each writer with one, so
both show the same.) A cut-short or corrupt file stops TensorBoard's reading of it silently;
the board warns. The data ({tag: {run: series}}) is apart from its drawing: one Agg figure,
a panel per scalar tag (a line per run, TensorBoard's EMA smoothing) and per histogram tag
and run (TensorBoard's offset view or distribution bands), as a PNG + deterministic text.
"""
import base64
import io
import math
import os
import warnings

import numpy as np

from ._event_reading import Histograms, Kept, Scalars, read_events, select  # noqa: F401
from ._event_reading import check_logdir
from ._history import (EMA, TextRepr, counted, format_value, require, smooth, static_bundle,
                       warn_once)

COLUMNS, PANEL_INCHES, DPI = 3, (3.0, 2.5), 80  # panels of 240 x 200 px, 720 px wide
HISTOGRAM_BINS = 30      # TensorBoard's histogram dashboard redraws every step on 30 bins
MAX_HISTOGRAM_LINES = 40
MODES = ("offset", "distribution")
ALL_TAGS = ("all tags", "")



def show_board(logdir, tags=None, *, smoothing=0.6, histograms="offset", interactive=False):
    """The Board of `logdir` (ValueError naming it when it is no directory); with
    `interactive`, its widget with a tag filter and a refresh button. `tags`: a regular
    expression searched in tag names (TensorBoard's tag filter) or a list of exact names."""
    board = Board(logdir, tags=tags, smoothing=smoothing, histograms=histograms)
    return board.interactive() if interactive else board


# ---- the board ---------------------------------------------------------------------------------
class Board(TextRepr):
    """The scalars and histograms of the runs under `logdir`, as TensorBoard shows them.

    `scalars` / `histograms`: {tag: {run: Scalars(steps, values) / Histograms(steps,
    buckets)}} after the `tags` filter; `smoothing` in [0, 1) is TensorBoard's slider (0.6
    there too); `histograms` mode "offset" (TensorBoard's histograms) or "distribution"."""

    def __init__(self, logdir, tags=None, smoothing=0.6, histograms="offset"):
        require("matplotlib", "%tg_board")
        require("tensorboard", "%tg_board")
        self.logdir = check_logdir(logdir)
        EMA(smoothing)  # ValueError now rather than while drawing
        if histograms not in MODES:
            raise ValueError(f"histograms must be one of {MODES}, not {histograms!r}.")
        self.tags, self.smoothing, self.mode = tags, float(smoothing), histograms
        self.refresh()

    def refresh(self):
        """Read the events files again (new points, new runs); never raises."""
        try:
            self.runs, self._scalars, self._histograms, self.problems = \
                read_events(self.logdir)
        except Exception as e:  # noqa: BLE001 - a view shows what it can, and says why
            warnings.warn(f"Reading {self.logdir!r} failed: {type(e).__name__}: {e}",
                          RuntimeWarning, stacklevel=2)
            self.runs, self._scalars, self._histograms = [], {}, {}
            self.problems = [f"reading failed: {type(e).__name__}"]
        self._png = (None, b"")
        return self

    def with_tags(self, tags):
        """This board's data (not read again) under another tag filter."""
        view = object.__new__(Board)
        view.__dict__.update(self.__dict__, tags=tags, _png=(None, b""))
        return view

    @property
    def scalars(self):
        return select(self._scalars, self.tags)

    @property
    def histograms(self):
        return select(self._histograms, self.tags)

    def smoothed(self, tag, run):
        """The smoothed values of scalar `tag` in `run`, as TensorBoard draws them."""
        return np.array(smooth(self._scalars[tag][run].values.tolist(), self.smoothing))

    def text(self):
        """The deterministic text/plain form: runs, tags, counts, last values, problems."""
        n = len(self.runs)
        lines = [f"Board {self.logdir!r}: " + (
            f"{counted(n, 'run')} ({', '.join(self.runs)})" if n else
            f"no runs: no events files under {self.logdir!r}. Write some with "
            f"tf.summary.FileWriter({os.path.join(self.logdir, 'run1')!r}).")]
        for kind, series, describe in (("scalar", self.scalars, _scalar_text),
                                       ("histogram", self.histograms, _histogram_text)):
            for tag, by_run in series.items():
                lines.append(f"  {kind} {tag}")
                lines += [f"    {run}: {describe(s)}" for run, s in by_run.items()]
        every = list(self._scalars) + list(self._histograms)
        if n and len(lines) == 1:
            lines.append(f"  no tags match {self.tags!r}; tags: {', '.join(every)}" if every
                         else "  no scalar or histogram summaries yet")
        return "\n".join(lines + [f"  warning: {p}" for p in self.problems])

    @property
    def png(self):
        """The figure as PNG bytes; b'' with nothing to draw or when drawing failed (warns)."""
        key = (repr(self.tags), self.smoothing, self.mode)
        if self._png[0] != key:
            try:
                self._png = (key, render(self))
            except Exception as e:  # noqa: BLE001 - a view must never raise while rendering
                warn_once(self, "draw", e)
                self._png = (key, b"")
        return self._png[1]

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle, png = {"text/plain": repr(self)}, self.png
        if png:
            bundle["image/png"] = base64.b64encode(png).decode("ascii")
        return bundle

    def interactive(self):
        """A widget of this board: a tag filter, a refresh button and the figure."""
        return BoardWidget(self)


def _scalar_text(s):
    return f"{counted(len(s.steps), 'point')}, last {format_value(s.values[-1])} at step " \
           f"{s.steps[-1]}"


def _histogram_text(h):
    last = h.buckets[-1]
    values = (f"{counted(int(last[:, 2].sum()), 'value')} in [{format_value(last[0, 0])}, "
              f"{format_value(last[-1, 1])}]") if len(last) else "empty"
    return f"{counted(len(h.steps), 'step')}, last at step {h.steps[-1]}: {values}"


# ---- drawing -----------------------------------------------------------------------------------
def render(board):
    """The board's figure as PNG bytes (b'' with no panel), on matplotlib's Agg canvas: a
    row of panels per COLUMNS scalar tags, then per COLUMNS histogram (tag, run) pairs."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    pairs = [(tag, run, h) for tag, by in board.histograms.items() for run, h in by.items()]
    draw = {"offset": _draw_offset, "distribution": _draw_distribution}[board.mode]
    top = math.ceil(len(board.scalars) / COLUMNS)
    rows = top + math.ceil(len(pairs) / COLUMNS)
    if not rows:
        return b""
    figure = Figure(figsize=(COLUMNS * PANEL_INCHES[0], rows * PANEL_INCHES[1]), dpi=DPI,
                    layout="constrained")
    grid, colors = figure.add_gridspec(rows, COLUMNS), {r: f"C{i % 10}" for i, r in
                                                        enumerate(board.runs)}
    for i, (tag, by_run) in enumerate(board.scalars.items()):
        ax = figure.add_subplot(grid[i // COLUMNS, i % COLUMNS])
        _draw_scalars(ax, tag, by_run, colors, board.smoothing)
    for i, (tag, run, h) in enumerate(pairs):
        ax = figure.add_subplot(grid[top + i // COLUMNS, i % COLUMNS])
        draw(ax, h, colors[run])
        _style(ax, f"{tag} ({run})")
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def _style(ax, title):
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=6)
    ax.grid(alpha=0.3)


def _draw_scalars(ax, tag, by_run, colors, smoothing):
    """One line per run; with smoothing, the raw line faint under the smoothed one."""
    for run, s in by_run.items():
        marker = "o" if len(s.steps) == 1 else None
        if smoothing:
            ax.plot(s.steps, s.values, color=colors[run], alpha=0.25, linewidth=1)
        values = smooth(s.values.tolist(), smoothing) if smoothing else s.values
        ax.plot(s.steps, values, color=colors[run], linewidth=1.5, marker=marker, label=run)
    if len(by_run) > 1:
        ax.legend(fontsize=6, loc="best")
    _style(ax, tag)


def rebin(buckets, edges):
    """The counts of `buckets` (rows left, right, count) spread onto the bins between
    `edges` in proportion to their overlap (TensorBoard's intermediateToD3); a bucket of
    no width falls wholly into the bin that holds it."""
    out = np.zeros(len(edges) - 1)
    if not len(buckets):
        return out
    left, right, count = np.asarray(buckets, np.float64).T
    width, wide = right - left, right > left
    overlap = np.minimum(right[:, None], edges[None, 1:]) - np.maximum(left[:, None],
                                                                       edges[None, :-1])
    out += (np.clip(overlap[wide], 0, None) / width[wide, None] * count[wide, None]).sum(0)
    index = np.clip(np.searchsorted(edges, left[~wide], side="right") - 1, 0, len(out) - 1)
    np.add.at(out, index, count[~wide])
    return out


def _x_range(buckets):
    filled = [b for b in buckets if len(b)] or [np.zeros((1, 3))]
    lo, hi = min(b[0, 0] for b in filled), max(b[-1, 1] for b in filled)
    if hi <= lo:  # TensorBoard's widening of a range of one value
        lo, hi = lo / 1.1 - 1, lo * 1.1 + 1
    return lo, hi


def _draw_offset(ax, h, color):
    """TensorBoard's offset view: a density curve per step, older steps behind (above)."""
    keep = _thin(len(h.steps), MAX_HISTOGRAM_LINES)
    steps = h.steps[keep]
    edges = np.linspace(*_x_range([h.buckets[i] for i in keep]), HISTOGRAM_BINS + 1)
    density = np.array([rebin(h.buckets[i], edges) for i in keep])
    x = (edges[:-1] + edges[1:]) / 2
    spacing = (steps[-1] - steps[0]) / max(len(steps) - 1, 1) or 1.0
    scale = 2.5 * spacing / (density.max() or 1.0)
    for i, (step, d) in enumerate(zip(steps, density)):
        ax.fill_between(x, step, step - d * scale, color="white", zorder=2 * i)
        ax.plot(x, step - d * scale, color=color, linewidth=1, zorder=2 * i + 1,
                alpha=0.35 + 0.65 * (i + 1) / len(steps))
    ax.invert_yaxis()
    ax.set_ylabel("step", fontsize=6)


def _draw_distribution(ax, h, color):
    """TensorBoard's distributions: bands between the percentiles of a normal's
    [min, -1.5σ, -σ, -σ/2, median, σ/2, σ, 1.5σ, max], from its own compressor."""
    from tensorboard.plugins.distribution import compressor
    q = np.array([[v for _, v in compressor.compress_histogram(b)] for b in h.buckets])
    for k, alpha in enumerate((0.15, 0.3, 0.45, 0.6)):
        ax.fill_between(h.steps, q[:, k], q[:, 8 - k], color=color, alpha=alpha, linewidth=0)
    ax.plot(h.steps, q[:, 4], color=color, linewidth=1)


def _thin(n, limit):
    """At most `limit` evenly spaced indices of range(n), the first and the last included."""
    return np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(int))


# ---- the widget --------------------------------------------------------------------------------
class BoardWidget:
    """A Board with a tag filter and a refresh button, drawn into its own Output; its
    display bundle keeps the static PNG and text for front ends without widgets."""

    def __init__(self, board):
        widgets = require("ipywidgets", "The interactive %tg_board")
        self.board = self.view = board
        self.filter = widgets.Dropdown(options=self._options(board), value="",
                                       description="tags")
        self.button = widgets.Button(description="Refresh", icon="refresh")
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.filter, self.button]), self.output])
        self._quiet = False
        self.filter.observe(lambda change: self._quiet or self.draw(), names="value")
        self.button.on_click(lambda button: self.refresh())
        self.draw()

    @staticmethod
    def _options(board):
        tags = list(board.scalars) + list(board.histograms)
        return [ALL_TAGS] + [(tag, tag) for tag in dict.fromkeys(tags)]

    def refresh(self):
        """Read the events files again, keep the selected tag if it is still there."""
        selected, self._quiet = self.filter.value, True
        try:
            self.filter.options = options = self._options(self.board.refresh())
            self.filter.value = selected if selected in [v for _, v in options] else ""
        finally:
            self._quiet = False
        self.draw()

    def draw(self):
        tag = self.filter.value
        self.view = self.board.with_tags([tag]) if tag else self.board
        bundle = self.view._repr_mimebundle_()
        self.output.outputs = ({"output_type": "display_data", "data": bundle,
                                "metadata": {}},)

    def __repr__(self):
        return repr(self.view)

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The widget, and for front ends without widgets, the text and the PNG."""
        return static_bundle(self.widget, repr(self), self.view.png)
