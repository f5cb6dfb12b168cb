"""PlacementView: where each op runs, what each device costs, and what crosses devices.

    PlacementView.from_session(sess, train_op)     # a dry run: sess.placement(), nothing runs
    with PlacementView(trace_every=10) as view:    # live: updated by run events, every 10th
        ...                                        # run traced for per-op timings

Per device: the ops placed there, their share of the sampled run time, and the bytes copied
in and out per run (an op consuming a tensor made on another device; sizes from traced output
bytes, else static shape x dtype size, 0 when the shape is unknown). Below, TF1's
log_device_placement lines as a table with a filter box; simulated GPUs are marked and
soft-placement fallbacks show their reason.
"""
import html
import threading
import time
from collections import Counter

from ...runtime import run_events
from ...runtime.plan import LOCAL_CPU
from ._history import (ERROR_COLOR, DisplaySlot, LiveView, Throttle, counted, failure_text,
                       require, warn_once)

_TABLE_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px"
_CELL = 'style="padding:1px 8px;text-align:left"'


class _PlanInfo:
    """One plan's cross-device edges: [(tensor, source device name, destination name)]."""

    def __init__(self, records):
        self.records = records  # kept so that id(records) stays this plan's key
        placed = {r.op: r.device.name for r in records}
        seen, self.edges = set(), []
        for r in records:
            for j, t in enumerate(r.op.inputs):
                if j in r.op.op_def.ref_inputs or _folded_constant(t):
                    continue
                source = placed.get(t.op, LOCAL_CPU)  # not in the plan: fed on the host
                if source != r.device.name and (t, r.device.name) not in seen:
                    seen.add((t, r.device.name))
                    self.edges.append((t, source, r.device.name))
        self.bytes_in, self.bytes_out = Counter(), Counter()

    def size(self, sizes):
        """Recount bytes per device from `sizes` ({op name: traced output bytes})."""
        self.bytes_in, self.bytes_out = Counter(), Counter()
        for t, source, dest in self.edges:
            n = _tensor_bytes(t, sizes)
            self.bytes_out[source] += n
            self.bytes_in[dest] += n


class PlacementStats:
    """The data the view draws: placement records (every op seen, first placement kept),
    sampled time per device and per op (µs), and bytes copied between devices."""

    def __init__(self):
        self.records, self.devices = {}, {}
        self.runs = self.traced_runs = self.samples = 0
        self.device_us, self.op_us = Counter(), Counter()
        self.copied_in, self.copied_out = Counter(), Counter()
        self._plans, self._sizes = {}, {}

    def add_plan(self, records):
        """A planned (dry) run: placements and static copy sizes, counted as one sample."""
        self._count(self._plan(records))

    def add_run(self, records, dev_stats=None):
        """One live run; its traced step stats (if any) refine the timings and sizes."""
        if self.runs == 0 and self.samples:  # drop the dry run's estimate, now measured
            self.samples, self.copied_in, self.copied_out = 0, Counter(), Counter()
        self.runs += 1
        plan = self._plan(records)
        if dev_stats:
            self._add_trace(dev_stats)
            for known in self._plans.values():
                known.size(self._sizes)
        self._count(plan)

    def _plan(self, records):
        plan = self._plans.get(id(records))
        if plan is None:
            plan = self._plans[id(records)] = _PlanInfo(records)
            plan.size(self._sizes)
            for r in records:
                self.records.setdefault(r.op, r)
                self.devices.setdefault(r.device.name, r.device)
            for _, source, _ in plan.edges:
                self.devices.setdefault(source, None)
        return plan

    def _count(self, plan):
        self.samples += 1
        if plan.edges:
            self.copied_in.update(plan.bytes_in)
            self.copied_out.update(plan.bytes_out)

    def _add_trace(self, dev_stats):
        self.traced_runs += 1
        for device in dev_stats:
            for node in device.node_stats:
                self.device_us[device.device] += node.all_end_rel_micros
                self.op_us[node.node_name] += node.all_end_rel_micros
                self._sizes[node.node_name] = node.output_bytes

    # ---- derived figures -------------------------------------------------------------------
    def device_names(self):
        return sorted(self.devices, key=lambda name: _device_order(self.devices[name], name))

    def ops_on(self, name):
        return [r for r in self.records.values() if r.device.name == name]

    def time_share(self, name):
        """The device's fraction of the sampled op time, or None before a traced run."""
        total = sum(self.device_us.values())
        return self.device_us[name] / total if total else None

    def per_run(self, counter, name):
        return counter[name] / self.samples if self.samples else 0.0

    def fallbacks(self):
        return [r for r in self.records.values() if r.fallback]


class PlacementView(LiveView):
    """The placement widget: a per-device summary and a filterable table of placements."""

    def __init__(self, records=None, placeholders=(), trace_every=10, throttle=0.5,
                 max_rows=200, clock=time.monotonic):
        widgets = require("ipywidgets", "PlacementView")
        self.stats = PlacementStats()
        self.placeholders = [getattr(p, "name", p) for p in placeholders or ()]
        self.trace_every, self.max_rows = trace_every, max_rows
        self.error, self.closed = None, False
        self._throttle = Throttle(throttle, 0.05, clock)
        self._subscription, self._lock, self._slot = None, threading.RLock(), DisplaySlot()
        self.summary = widgets.HTML()
        self.filter_box = widgets.Text(value="", placeholder="op, type, device or reason",
                                       description="Filter")
        self.table = widgets.HTML()
        self.widget = widgets.VBox([self.summary, self.filter_box, self.table])
        self.filter_box.observe(lambda change: self.refresh(), names="value")
        if records is not None:
            self.stats.add_plan(records)
        self.refresh()

    @classmethod
    def from_session(cls, sess, fetches, feed_list=(), **kwargs):
        """The placement `sess.run(fetches)` would use, without running anything; the fed
        tensors of `feed_list` are listed as its placeholders."""
        kwargs.setdefault("placeholders", [t.op.name if hasattr(t, "op") else t
                                           for t in feed_list])
        return cls(records=sess.placement(fetches, feed_list), **kwargs)

    # ---- lifecycle ------------------------------------------------------------------------
    def open(self):
        if self._subscription is None and not self.closed:
            self._subscription = run_events.subscribe(self._on_run, self.trace_every)
        return self

    def close(self):
        if self.closed:
            return
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        self.closed = True
        self.refresh()
        self._slot.update(self._repr_mimebundle_())

    def fail(self, exc):
        self.error = failure_text(exc) or "failed"
        self.refresh()

    def _on_run(self, event):
        self.stats.add_run(event.records, event.dev_stats)
        if self._throttle.due():
            with self._throttle.drawing():
                self.refresh()

    # ---- drawing ---------------------------------------------------------------------------
    @property
    def filter(self):
        return self.filter_box.value

    @filter.setter
    def filter(self, text):
        self.filter_box.value = text

    def rows(self, text=None):
        """The placement records the filter (or `text`) lets through: a case-insensitive
        substring of the log line, the requested device or the reason."""
        needle = (self.filter_box.value if text is None else text).strip().lower()
        return [r for r in self.stats.records.values()
                if not needle or needle in _row_text(r).lower()]

    def refresh(self):
        """Redraw the summary and the table now. Never raises."""
        with self._lock:
            try:
                self.summary.value = self._summary_html()
                self.table.value = self._table_html()
            except Exception as e:  # noqa: BLE001 - a view must never break training
                warn_once(self, "draw", e)

    def _summary_html(self, timings=True):
        s = self.stats
        head = ["device", "ops", "time (sampled)", "copied in / run", "copied out / run"]
        body = []
        for name in s.device_names():
            share = s.time_share(name)
            body.append([_device_label(s.devices[name], name), str(len(s.ops_on(name))),
                         "n/a" if share is None or not timings else f"{100 * share:.1f}%",
                         format_bytes(s.per_run(s.copied_in, name)),
                         format_bytes(s.per_run(s.copied_out, name))])
        caption = "<br>".join(html.escape(line) for line in [self._headline()]
                              + self._feeds_line())
        if self.error:
            caption += f' <b style="color:{ERROR_COLOR}">{html.escape(self.error)}</b>'
        return f"<div>{caption}</div>" + _html_table(head, body)

    def _table_html(self, text=None):
        rows = self.rows(text)
        body = [[r.line(), r.requested or "", _note(r)] for r in rows[:self.max_rows]]
        more = len(rows) - len(body)
        tail = f"<div>... {more} more rows; type in the filter to narrow them</div>" if more \
            else ""
        return _html_table(["placement (log_device_placement)", "requested", "why"],
                           body) + tail

    # ---- text ------------------------------------------------------------------------------
    def _headline(self):
        s = self.stats
        head = (f"PlacementView: {counted(len(s.devices), 'device')}, "
                f"{counted(len(s.records), 'op')}")
        if s.runs:
            return head + f", {counted(s.runs, 'run')}"
        return head + (", planned (not run)" if s.samples else ", nothing run yet")

    def text(self, status=True):
        """The deterministic text/plain form (no timings); `status` adds the error state."""
        s = self.stats
        lines = [self._headline()] + self._feeds_line()
        for name in s.device_names():
            ops = counted(len(s.ops_on(name)), "op")
            lines.append(f"{_device_label(s.devices[name], name)}  {ops}  "
                         f"copied in {format_bytes(s.per_run(s.copied_in, name))}, "
                         f"out {format_bytes(s.per_run(s.copied_out, name))} per run")
        lines += [f"fallback: {r.op.name}: {r.reason}" for r in s.fallbacks()]
        if self.error and status:
            lines.append(self.error)
        return "\n".join(lines)

    def _feeds_line(self):
        """The placeholders a dry run assumed fed (on the host, CPU:0)."""
        return ["feeds: " + ", ".join(self.placeholders)] if self.placeholders else []

    def static_html(self):
        """The summary and the unfiltered table without timings: deterministic HTML."""
        return self._summary_html(timings=False) + self._table_html(text="")

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": repr(self)}
        try:
            bundle.update(self.widget._repr_mimebundle_())
            bundle["text/plain"] = repr(self)
            if self.closed:
                bundle["text/html"] = self.static_html()
        except Exception:  # noqa: BLE001, S110 - the text alone is a valid bundle
            pass
        return bundle


# ---- helpers ---------------------------------------------------------------------------------
def _folded_constant(t):
    """Constants are materialized on each device that uses them: never copied per run."""
    return not t.op.inputs and t.op.op_def.fold is not None


def _tensor_bytes(t, sizes):
    """Bytes of `t`: traced output bytes of its op (split evenly between several outputs
    of unknown shape), else its static size, else 0."""
    n = t.shape.num_elements()
    static = None if n is None else n * t.dtype.size
    traced = sizes.get(t.op.name)
    if traced is not None and (len(t.op.outputs) == 1 or static is None):
        return traced // max(1, len(t.op.outputs))
    return static or 0


def _device_order(device, name):
    if device is None:
        return (name.rsplit(":", 2)[-2] != "CPU", 0, name)
    return (device.device_type != "CPU", device.index, device.device_type)


def _device_label(device, name):
    short = name[name.find("/device:"):] if "/device:" in name else name
    return short + (" (simulated)" if device is not None and device.simulated else "")


def _note(record):
    notes = [record.reason or ""]
    if record.device.simulated:
        notes.append("simulated on the CPU")
    return "; ".join(n for n in notes if n)


def _row_text(record):
    return " ".join([record.line(), record.requested or "", _note(record)])


def _html_table(head, body):
    cells = "".join(f"<th {_CELL}>{html.escape(h)}</th>" for h in head)
    rows = "".join("<tr>" + "".join(f"<td {_CELL}>{html.escape(str(c))}</td>" for c in row)
                   + "</tr>" for row in body)
    return f'<table style="{_TABLE_STYLE}"><thead><tr>{cells}</tr></thead>' \
           f"<tbody>{rows}</tbody></table>"


def format_bytes(n):
    """'0 B', '512 B', '1.5 KiB', '2.0 MiB': rounded so that the text is deterministic."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
