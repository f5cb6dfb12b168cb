"""How each item of the Graph view looks: colours by op type, device, placement or time,
shapes, tooltips' stale marks and diff colours (used by _graph_dot's layout and DOT writer)."""
import zlib

from ._graph_dot import Cluster


PALETTE = ("#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
           "#dbdb8d", "#9edae5", "#b5cf6b", "#e7ba52", "#ce6dbd")
HEAT = ("#fff5eb", "#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#8c2d04")
DIFF = {"added": "#b9e6b3", "removed": "#f5b3b3", "changed": "#ffd08a"}
GROUP_FILL, STALE_FILL, RED, BLUE = "#e3e9f1", "#e6e6e6", "#d62728", "#1f77b4"
SHAPES = {"scope": "tab", "stack": "box3d"}


def short_device(name):
    """'/job:localhost/replica:0/task:0/device:CPU:0' or '/device:CPU:0' -> 'CPU:0'."""
    name = name or ""
    return name[name.index("/device:") + 8:] if "/device:" in name else name.lstrip("/")


def stale_source(op):
    """(input, label of what replaced its op) when an input's cell was re-run, else None."""
    for x in list(op.inputs) + op.control_inputs:
        source = getattr(x, "op", x)
        if getattr(source, "retired", None) is not None:
            return x, source.retired
    return None


def walk(entries):
    for entry in entries:
        if isinstance(entry, Cluster):
            yield from walk(entry.entries)
        else:
            yield entry


class Style:
    """Fill, border and classes of every node, cluster and edge under one colour mode
    ("type", "device", "placement" or "time"); `legend` collects {label: colour}."""

    def __init__(self, layout, mode, records, times, diff, highlight):
        self.mode, self.records, self.times, self.legend = mode, records, times, {}
        self.diff = dict(zip(("added", "removed", "changed"), map(set, diff or ((), (), ()))))
        self.highlight = {layout.item_of[n].id for n in highlight if n in layout.item_of}
        keys = sorted({self.device(op, mode == "placement") for op in layout.ops}
                      - {"", "(not placed)"})  # these two stay white
        self.device_colors = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(keys)}
        self.layout = layout
        self.stale = {op.name: src for op in layout.ops for src in [stale_source(op)] if src}
        self.max_time = max([self.time(i.all_ops()) for i in walk(layout.entries)] + [0.0]) \
            if times else 0.0

    def device(self, op, actual):
        """'CPU:1': where `op` was placed (actual) or asked to be ('' for anywhere)."""
        if not actual:
            return short_device(op.device)
        record = self.records.get(op.name)
        return short_device(record.device.name) if record else "(not placed)"

    def time(self, ops):
        return sum(self.times.get(op.name, 0.0) for op in ops)

    def fallback(self, op):
        record = self.records.get(op.name)
        return bool(record and record.fallback)

    def note(self, color, label):
        self.legend.setdefault(label, color)
        return color

    def node(self, item):
        ops, classes = item.all_ops(), ["tg-" + ("scope tg-stack" if item.kind == "stack"
                                                   else item.kind)]
        attrs = {"label": item.label, "shape": SHAPES.get(item.kind, "box")}
        attrs.update(self._fill(item, ops, classes))
        if item.kind in ("ext", "ghost"):
            attrs["style"] = "rounded,filled,dashed"
        if any(self.fallback(op) for op in ops):
            classes.append("tg-fallback")
            attrs.update(color=self.note(RED, "soft-placement fallback (red dashed border)"),
                         penwidth="2", style="rounded,filled,dashed")
        if item.id in self.highlight:
            classes.append("tg-highlight")
            attrs.update(color=self.note(BLUE, "found (blue border)"), penwidth="3")
        attrs["class"] = " ".join(classes)
        return attrs

    def _fill(self, item, ops, classes):
        if item.kind == "ghost":
            classes.append("tg-removed")
            return {"fillcolor": self.note(DIFF["removed"], "removed")}
        if ops and all(op.name in self.stale for op in ops):
            classes.append("tg-stale")
            return {"fillcolor": self.note(STALE_FILL, "stale: an input's cell was re-run"),
                    "fontcolor": "#8c8c8c", "color": "#b0b0b0"}
        kinds = [k for k, names in self.diff.items() if any(op.name in names for op in ops)]
        if kinds:
            kind = kinds[0] if len(kinds) == 1 else "changed"
            classes.append("tg-" + kind)
            return {"fillcolor": self.note(DIFF[kind], kind)}
        if self.mode == "time":
            return self._heat(ops)
        return {"fillcolor": self._mode_fill(item, ops)}

    def _heat(self, ops):
        share = self.time(ops) / self.max_time if self.max_time else 0.0
        level = min(len(HEAT) - 1, int(share * len(HEAT)))
        self.note(HEAT[0], "0 µs")
        self.note(HEAT[-1], f"{self.max_time:.0f} µs (slowest shown)")
        return {"fillcolor": HEAT[level], **({"fontcolor": "white"} if level >= 6 else {})}

    def _mode_fill(self, item, ops):
        if self.mode == "type" or not ops:
            if item.kind != "op":
                return GROUP_FILL
            return self.note(PALETTE[zlib.crc32(ops[0].type.encode()) % len(PALETTE)],
                             ops[0].type)
        keys = sorted({self.device(op, self.mode == "placement") for op in ops})
        colors = [self.note(self.device_colors.get(k, "#ffffff"), k or "(any device)")
                  for k in keys]
        return ":".join(colors[:2])  # more than one device: a gradient; the tooltip lists all

    def cluster(self, cluster):
        fill = "#eef3fb" if cluster.stack else "#f6f7f9"
        return {"label": cluster.label, "style": "rounded,filled", "fillcolor": fill,
                "color": "#9aa5b1", "class": "tg-cluster" + (" tg-stack" if cluster.stack
                                                              else "")}

    def cross(self, tensors):
        """(from, to) device pairs that the tensors of an edge cross."""
        actual = bool(self.records)
        pairs = {(self.device(t.op, actual), self.device(op, actual)) for t, op in tensors}
        return sorted((a, b) for a, b in pairs
                      if a and b and a != b and "(not placed)" not in (a, b))

    def edge(self, tensors, controls):
        crossing = self.cross(tensors)
        attrs = {"class": "tg-edge" + (" tg-control" if not tensors else "")
                 + (" tg-cross" if crossing else "")}
        if len(tensors) + len(controls) > 1:
            attrs["label"] = str(len(tensors) + len(controls))
        if not tensors:
            attrs["style"] = "dashed"
        if crossing:
            attrs.update(color=self.note(RED, "crosses devices (red edge)"), penwidth="2")
        return attrs
