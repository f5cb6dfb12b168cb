"""Dashboard: a progress bar, a LossPlot and a PlacementView for one training cell.

    dash = Dashboard(tags=["loss"], tensors=[loss], total=1000)
    display(dash)
    with dash:
        for step in range(1000):
            sess.run(train_op)

The bar advances once per Session.run (any session, in any thread); the plot and the
placement view update themselves, throttled. Leaving the block closes every subscription,
even on an exception, which turns all three parts to their error state. The saved notebook
keeps text/plain and the final loss plot as a PNG.
"""
import time

from ...runtime import run_events
from ._history import DisplaySlot, LiveView, failure_text, require, static_bundle
from .loss_plot import LossPlot
from .placement_view import PlacementView


class Dashboard(LiveView):
    """Progress bar + LossPlot + PlacementView, entered and closed together."""

    def __init__(self, tags=None, tensors=None, total=None, smoothing=0.6, throttle=1.0,
                 trace_every=100, global_step=None, title="", clock=time.monotonic):
        widgets = require("ipywidgets", "Dashboard")
        self.plot = LossPlot(tags=tags, tensors=tensors, smoothing=smoothing,
                             throttle=throttle, global_step=global_step, title=title,
                             clock=clock)
        self.placement = PlacementView(trace_every=trace_every, throttle=throttle,
                                       clock=clock)
        self.progress = _progress_bar(total)
        self.total, self.runs, self.error, self.closed = total, 0, None, False
        self._subscription, self._slot = None, DisplaySlot()
        placement = widgets.Accordion(children=[self.placement.widget], titles=("placement",))
        self.widget = widgets.VBox([self.progress.container, self.plot.widget, placement])

    # ---- lifecycle ------------------------------------------------------------------------
    def open(self):
        if self.closed:
            raise RuntimeError("This Dashboard is closed; create a new one for the next run.")
        if self._subscription is None:
            try:
                self.plot.open()
                self.placement.open()
                self.progress.reset(total=self.total)  # time the runs, not the set-up
                self._subscription = run_events.subscribe(self._on_run)
            except BaseException:
                self.close()
                raise
        return self

    def close(self):
        """Close every subscription, draw the final state and leave the static output."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._subscription is not None:
                self._subscription.close()
                self._subscription = None
            self.progress.close()
            if self.error:
                self.progress.disp(bar_style="danger", check_delay=False)
        finally:
            try:
                self.plot.close()
            finally:
                self.placement.close()
        self._slot.update(self._repr_mimebundle_())

    def fail(self, exc):
        """Show the error state in every part: red bar, red plot title, red summary."""
        self.error = failure_text(exc) or "failed"
        self.plot.fail(exc)
        self.placement.fail(exc)

    def _on_run(self, event):
        self.runs += 1
        self.progress.update(1)

    # ---- text and display ------------------------------------------------------------------
    def text(self):
        """Deterministic text/plain: run count (of total), the plot's and placement's text."""
        of = f"/{self.total}" if self.total else ""
        lines = [f"Dashboard: {self.runs}{of} runs" + (f", {self.error}" if self.error else "")]
        lines += ["  " + line for line in self.plot.text(status=False).splitlines()]
        lines += ["  " + line for line in self.placement.text(status=False).splitlines()]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return static_bundle(self.widget, repr(self), self.plot.png if self.closed else b"")


def _progress_bar(total):
    """tqdm's notebook bar, not displayed on its own: its container goes into the dashboard."""
    tqdm_notebook = require("tqdm.notebook", "Dashboard")
    return tqdm_notebook.tqdm(total=total, unit="run", desc="runs", display=False,
                              leave=True, smoothing=0)
