"""The Graph view: a Graphviz picture of a tginteractive graph, name scopes collapsible.

    show_graph()                          # the default graph, top-level scopes collapsed
    show_graph(loss, color="placement", placement=sess.placement(train_op))
    view = GraphView(graph, depth=2); view.find("MatMul"); view.toggle("tower_*")

`graph_to_dot` is the pure function underneath. `GraphView` is an anywidget (a click on a
scope expands or collapses it, a search box finds ops) whose text/plain and image/svg+xml
outputs are static, so nbval, nbconvert and GitHub show the same picture. Without anywidget
it is a static view with the same methods.
"""
import os
import pathlib
import warnings
from collections import Counter, namedtuple

from .. import render
from . import _graph_dot as gd
from ._history import HINT, counted
from . import _graph_style as gs

try:
    import anywidget
    import traitlets
except ImportError:  # pragma: no cover - exercised in a subprocess test
    anywidget = traitlets = None

__all__ = ["graph_to_dot", "GraphView", "show_graph", "COLOR_MODES"]

COLOR_MODES = {"type": "type", "device": "device", "requested": "device",
               "placement": "placement", "actual": "placement", "time": "time"}
# ---- inputs: placement records and step stats in any of the shapes the engine hands out ------
def records_by_name(placement):
    """PlacementRecords (a list, a Plan, a RunEvent or a dict) by op name."""
    records = getattr(placement, "records", placement) or ()
    if isinstance(records, dict):
        records = records.values()
    return {r.op.name: r for r in records}


def times_by_name(step_stats):
    """Compute micros by op name from RunMetadata, StepStats, a RunEvent, dev_stats or a dict."""
    if isinstance(step_stats, dict):
        return {getattr(k, "name", k): float(v) for k, v in step_stats.items()}
    stats = getattr(step_stats, "step_stats", step_stats)
    times = Counter()
    for device in getattr(stats, "dev_stats", stats) or ():
        for node in device.node_stats:
            times[node.node_name] += node.all_end_rel_micros
    return dict(times)


# ---- tooltips: what each node, cluster and edge says ------------------------------------------
def _brief(value, limit=80):
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def describe(style, entry):
    if isinstance(entry, tuple):
        return _edge_text(style, *entry)
    if isinstance(entry, gd.Cluster):
        what = ", ".join(entry.stack.members) if entry.stack else f"scope {entry.key}"
        return f"{what}: {len(entry.ops)} ops{' each' if entry.stack else ''} " \
               "(click to collapse)"
    ops = entry.all_ops()
    if entry.kind == "op":
        return op_text(style, ops[0], entry.extra)
    if entry.kind == "ghost":
        return f"{entry.key}\nremoved since the previous version of the graph"
    if entry.kind == "stack":
        members = style.layout.st.stack_keys[entry.key].members
        head = f"{len(ops)} ops in identical scopes {', '.join(members)} (click to expand)"
    elif entry.kind == "scope":
        head = f"scope {entry.key}: {len(ops)} ops (click to expand)"
    else:
        head = f"{entry.key}: {counted(len(ops), 'op')} outside the view feeding it"
    return "\n".join([head] + _group_lines(style, ops))


def op_text(style, op, extra=()):
    record = style.records.get(op.name)
    lines = [f"{op.name} ({op.type})"]
    lines += [f"output {i}: {t.dtype.name} {t.shape}" for i, t in enumerate(op.outputs[:4])]
    lines.append(f"requested device: {op.device or '(none)'}")
    if record is not None:
        lines.append(f"actual device: {record.device.name}"
                     + (" (simulated)" if getattr(record.device, "simulated", False) else "")
                     + (f" — {record.reason}" if record.reason else ""))
    origin = getattr(op, "origin", None) or (f"cell {op.tag}" if op.tag else None)
    if origin:
        lines.append(f"created by: {origin}")
    if op.site:
        lines.append(f"at: {os.path.basename(op.site[0])}:{op.site[1]} in {op.site[2]}")
    if op.name in style.times:
        lines.append(f"compute: {style.times[op.name]:.0f} µs")
    stale = style.stale.get(op.name) or gs.stale_source(op)
    if stale:
        lines.append(f"stale: input '{stale[0].name}' was replaced by {stale[1]}")
    lines += [f"{k}: {_brief(v)}" for k, v in sorted(op.attrs.items())[:6]]
    if extra:
        lines.append(f"also stands for: {', '.join(o.name for o in extra[:8])}")
    return "\n".join(lines)


def _group_lines(style, ops):
    types = Counter(op.type for op in ops).most_common(6)
    lines = ["types: " + ", ".join(f"{t} ×{n}" for t, n in types)]
    for label, actual in (("requested", False), ("actual", True)):
        if not actual or style.records:
            devices = Counter(style.device(op, actual) or "(none)" for op in ops)
            lines.append(f"{label} devices: "
                         + ", ".join(f"{d} ×{n}" for d, n in sorted(devices.items())))
    if style.times:
        lines.append(f"compute: {style.time(ops):.0f} µs")
    stale = sum(1 for op in ops if op.name in style.stale)
    if stale:
        lines.append(f"{stale} stale ops (an input's cell was re-run)")
    return lines


def _edge_text(style, src, dst, tensors, controls):
    lines = [f"{src.key} → {dst.key}: {counted(len(tensors), 'tensor')}"
             + (f", {counted(len(controls), 'control dependency')}" if controls else "")]
    lines += [f"{t.name} {t.dtype.name} {t.shape}" for t, _ in tensors[:4]]
    lines += [f"crosses devices: {a} → {b}" for a, b in style.cross(tensors)]
    return "\n".join(lines)


# ---- the pure function ------------------------------------------------------------------------
View = namedtuple("View", "dot legend summary style")  # legend: [(label, colour)]


def build_view(graph, root=None, depth=1, expanded=(), collapsed=(), color="type",
               placement=None, step_stats=None, diff=None, highlight=(), fold=True):
    mode = COLOR_MODES.get(color)
    if mode is None:
        raise ValueError(f"color={color!r} is not one of: {', '.join(COLOR_MODES)}.")
    st, root = gd.structure(graph), (root or "").strip("/")
    if root and root not in st.children:
        raise ValueError(f"No name scope '{root}' in the graph; its top-level scopes are: "
                         f"{', '.join(x for k, x in st.children[''] if k == 'scope')}.")
    layout = gd.Layout(st, root, depth, expanded, collapsed, fold, diff[1] if diff else ())
    style = gs.Style(layout, mode, records_by_name(placement), times_by_name(step_stats),
                     diff, highlight)
    dot = gd.to_dot(layout, style, lambda entry: describe(style, entry))
    return View(dot, sorted(style.legend.items()), _summary(layout, depth, color, style), style)


def graph_to_dot(graph, *, root=None, depth=1, expanded=(), collapsed=(), color="type",
                 placement=None, step_stats=None, diff=None, highlight=(), fold=True):
    """DOT text for `graph` (under scope `root`): name scopes `depth` levels down and deeper
    are collapsed, except those in `expanded` (shallower ones in `collapsed` are collapsed
    too); identical tower_N scopes fold into one ×N stack unless fold=False. color: "type",
    "device" (requested), "placement" (actual, from PlacementRecords) or "time" (from
    step_stats). diff=(added, removed, changed) op names; `highlight`: op names."""
    return build_view(graph, root, depth, expanded, collapsed, color, placement, step_stats,
                      diff, highlight, fold).dot


def _summary(layout, depth, color, style):
    counts = layout.counts
    parts = [counted(len(layout.ops), "op"), f"{counted(counts['collapsed'], 'scope')} shown "
             f"collapsed (depth {'all' if depth is None else depth})"]
    if counts["clusters"]:
        parts.append(f"{counts['clusters']} expanded")
    if counts["stacks"]:
        parts.append(f"{counted(len(counts['stacks']), 'folded stack')} ("
                     + ", ".join(f"×{n}" for n in counts["stacks"]) + ")")
    parts.append(f"colour={color}")
    if style.highlight:
        parts.append(f"{len(style.highlight)} highlighted")
    head = f"GraphView of '{layout.root}'" if layout.root else "GraphView"
    return head + ": " + ", ".join(parts)


# ---- the view: Python state shared by the widget and the static fallback ----------------------
MAX_OPENED_BY_FIND = 20  # find() opens the scopes of this many matches, highlights all


class _GraphState:
    """What is shown and how; `refresh()` redraws and never raises."""

    def _configure(self, graph, root=None, depth=1, expanded=(), collapsed=(), color="type",
                   placement=None, step_stats=None, diff=None, highlight=(), fold=True,
                   renderers=None):
        """Keep the options; wrong ones raise here, before anything is displayed."""
        from ... import get_default_graph
        self.graph = get_default_graph() if graph is None else graph
        if color not in COLOR_MODES or (root and root.strip("/") not in
                                        gd.structure(self.graph).children):
            build_view(self.graph, root=root, color=color)  # raises, saying what exists
        self.root, self.depth, self.color, self.fold = root, depth, color, fold
        self.placement, self.step_stats, self.diff = placement, step_stats, diff
        self.expanded, self.collapsed = set(expanded), set(collapsed)
        self.highlight, self.renderers, self.view = set(highlight), renderers, None

    def _options(self):
        return dict(root=self.root, depth=self.depth, expanded=self.expanded,
                    collapsed=self.collapsed, color=self.color, placement=self.placement,
                    step_stats=self.step_stats, diff=self.diff, highlight=self.highlight,
                    fold=self.fold)

    def refresh(self):
        """Redraw from the current options; on any error show text saying why."""
        try:
            self.view = build_view(self.graph, **self._options())
            rendered = render.to_svg(self.view.dot, self.renderers)
            self.note = rendered.note
            status = self.view.summary + ("" if rendered.svg else f"\n(no picture: "
                                                                  f"{rendered.note})")
            svg = rendered.svg[rendered.svg.find("<svg"):] if rendered.svg else ""
            self._show(svg=svg, status=status, legend=[list(x) for x in self.view.legend])
        except Exception as e:  # noqa: BLE001 - a view must never break the notebook
            self.note = f"{type(e).__name__}: {e}"
            self._show(svg="", status=f"GraphView: not drawn ({self.note})", legend=[])

    def toggle(self, key):
        """Expand a collapsed scope (or ×N stack key such as 'tower_*'), or collapse an
        expanded one; returns True when it is now expanded."""
        st = gd.structure(self.graph)
        if not key or (key not in st.children and key not in st.stack_keys):
            raise ValueError(f"No name scope or stack '{key}' in the graph.")
        root = (self.root or "").strip("/")
        level = len((key[len(root) + 1:] if root else key).split("/"))
        opened = gd.opened(key, level, self.depth, self.expanded, self.collapsed)
        (self.collapsed if opened else self.expanded).add(key)
        (self.expanded if opened else self.collapsed).discard(key)
        self.refresh()
        return not opened

    def find(self, text):
        """Highlight the ops whose name contains `text` (any case) and open the scopes of the
        first few; returns the matching names."""
        st, root = gd.structure(self.graph), (self.root or "").strip("/")
        needle = str(text).strip().lower()
        ops = st.under[root] if root else st.ops
        names = [op.name for op in ops if needle in op.name.lower()] if needle else []
        for name in names[:MAX_OPENED_BY_FIND]:
            for key in gd.scopes_to_open(st, root, st.home[name], self.fold):
                self.expanded.add(key)
                self.collapsed.discard(key)
        self.highlight = set(names)
        self.refresh()
        self._show(details=f"found {counted(len(names), 'op')} named like {text!r}"
                   if needle else "")
        return names

    def select(self, name):
        """Show the details of op `name` (what its tooltip says)."""
        try:
            op = self.graph.get_operation_by_name(name)
        except (KeyError, TypeError):
            op = None
        self._show(details=op_text(self.view.style, op) if op and self.view else "")

    def handle_message(self, content):
        """{"toggle": key}, {"find": text} or {"select": op name} from the page."""
        if not isinstance(content, dict):
            return None
        try:
            for verb in ("toggle", "find", "select"):
                if verb in content:
                    return getattr(self, verb)(content[verb])
        except Exception as e:  # noqa: BLE001 - a click must not raise into the kernel
            self._show(details=f"{type(e).__name__}: {e}")

    def __repr__(self):
        return self.status or "GraphView"

    def _repr_mimebundle_(self, **kwargs):
        try:
            data, meta = self._widget_bundle(**kwargs)
        except Exception:  # noqa: BLE001 - e.g. a closed widget: the static parts remain
            data, meta = {}, {}
        data = dict(data, **{"text/plain": self.status or "GraphView"})
        if self.svg:
            data["image/svg+xml"] = self.svg
        return data, meta


# ---- the page side: anywidget ESM and CSS ------------------------------------------------------
_HERE = pathlib.Path(__file__).parent  # the widget's front end: graph_view.js and .css
_ESM = (_HERE / "graph_view.js").read_text()
_CSS = (_HERE / "graph_view.css").read_text()


if anywidget is not None:
    class GraphView(_GraphState, anywidget.AnyWidget):
        """The graph as an interactive picture; see the module docstring."""

        _esm, _css = _ESM, _CSS
        svg = traitlets.Unicode("").tag(sync=True)
        status = traitlets.Unicode("").tag(sync=True)
        details = traitlets.Unicode("").tag(sync=True)
        legend = traitlets.List([]).tag(sync=True)

        def __init__(self, graph=None, **options):
            self._configure(graph, **options)
            anywidget.AnyWidget.__init__(self)
            self.on_msg(lambda _widget, content, _buffers: self.handle_message(content))
            self.refresh()

        def _show(self, **values):
            with self.hold_sync():
                for name, value in values.items():
                    setattr(self, name, value)

        def _widget_bundle(self, **kwargs):
            return anywidget.AnyWidget._repr_mimebundle_(self, **kwargs)
else:
    class GraphView(_GraphState):
        """The graph as a static picture (anywidget is not installed)."""

        svg = status = details = ""
        legend = ()

        def __init__(self, graph=None, **options):
            warnings.warn("GraphView is a static picture without anywidget; for clicks and "
                          f"search, {HINT}", RuntimeWarning, stacklevel=2)
            self._configure(graph, **options)
            self.refresh()

        def _show(self, **values):
            self.__dict__.update(values)

        def _widget_bundle(self, **kwargs):
            return {}, {}


def show_graph(target=None, **options):
    """A GraphView of `target`: None (the default graph), a Graph, a Tensor or Operation (its
    graph rooted at its name scope, it highlighted) or a name scope or op name (default
    graph). Options as for graph_to_dot, plus renderers= (see render.to_svg)."""
    graph, root, names = _resolve(target)
    if root:
        options.setdefault("root", root)
    options["highlight"] = set(options.get("highlight", ())) | set(names)
    return GraphView(graph, **options)


def _resolve(target):
    from ... import get_default_graph
    from ...framework.graph import Graph, Operation, Tensor
    if target is None or isinstance(target, Graph):
        return target if target is not None else get_default_graph(), None, ()
    if isinstance(target, Tensor):
        target = target.op
    if isinstance(target, Operation):
        return target.graph, gd.parent(target.name), (target.name,)
    if not isinstance(target, str):
        raise TypeError(f"show_graph() takes a Graph, Tensor, Operation or name, got "
                        f"{type(target).__name__}.")
    graph, name = get_default_graph(), target.strip("/")
    st = gd.structure(graph)
    if name in st.children:
        return graph, name, ()
    if name.split(":")[0] in st.home:
        return graph, gd.parent(name.split(":")[0]), (name.split(":")[0],)
    raise ValueError(f"No op or name scope '{target}' in the default graph; its top-level "
                     f"scopes are: {', '.join(x for k, x in st.children[''] if k == 'scope')}.")
