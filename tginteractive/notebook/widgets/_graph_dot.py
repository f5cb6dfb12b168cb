"""Graph → DOT for the Graph view: what is drawn where. Pure Python, no optional imports.

Name scopes are clusters, or single nodes with their op count when collapsed. Sibling scopes
`tower_0`, `tower_1`, ... holding the same ops (modulo the prefix), with no edge between them,
fold into one ×N stack. DOT ids are an op's own name, or "scope:<path>", "stack:<key>",
"ext:<name>", "cluster:<path>": op names cannot contain ":", so nothing collides. The <title>
of each SVG element is that id, which is how the widget's script finds what was clicked.
"""
import re
import weakref
import zlib

from ..render import dot_attrs, dot_id

_NUMBERED = re.compile(r"^(.*?)(?:_(\d+))?$")
_structures = weakref.WeakKeyDictionary()


def parent(name):
    return name.rpartition("/")[0]


def leaf(name):
    return name.rpartition("/")[2]


def join(scope, name):
    return f"{scope}/{name}" if scope else name


class Stack:
    """Sibling scopes drawn as one: `key` is "<parent>/<base>_*"; `rep` is drawn for all."""

    def __init__(self, key, members):
        self.key, self.members, self.rep = key, members, members[0]
        self.label = leaf(key).replace("_*", "_N") + f" ×{len(members)}"


class Structure:
    """The name-scope tree of one graph version (computed once per version).

    `children[scope]`: ("op", op) and ("scope", path) entries in order of first appearance;
    `under[scope]`: every op inside, recursively. An op whose name is also a scope (a
    variable `w` next to `w/Assign`) lives inside that scope, as in TensorBoard."""

    def __init__(self, graph):
        self.ops = graph.get_operations()
        scopes = set()
        for op in self.ops:
            name = parent(op.name)
            while name and name not in scopes:
                scopes.add(name)
                name = parent(name)
        self.children, self.under, self.home = {"": []}, {}, {}
        for op in self.ops:
            home = op.name if op.name in scopes else parent(op.name)
            self._attach(home)
            self.children[home].append(("op", op))
            self.home[op.name] = home
            while home:
                self.under[home].append(op)
                home = parent(home)
        self.stacks = {}  # member scope -> Stack
        for scope, kids in self.children.items():
            self._find_stacks(scope, [x for kind, x in kids if kind == "scope"])
        self.stack_keys = {s.key: s for s in self.stacks.values()}

    def _attach(self, scope):
        if scope not in self.children:
            self.children[scope], self.under[scope] = [], []
            self._attach(parent(scope))
            self.children[parent(scope)].append(("scope", scope))

    def _find_stacks(self, scope, subscopes):
        by_base = {}
        for path in subscopes:
            by_base.setdefault(_NUMBERED.match(leaf(path)).group(1), []).append(path)
        for base, paths in by_base.items():
            if len(paths) < 2:
                continue
            by_signature = {}
            for path in paths:
                by_signature.setdefault(self._signature(path), []).append(path)
            same = [group for group in by_signature.values() if len(group) > 1]
            for j, group in enumerate(g for g in same if self._parallel(g)):
                stack = Stack(join(scope, f"{base}_*{j + 1 if j else ''}"), group)
                self.stacks.update(dict.fromkeys(group, stack))

    def _signature(self, path):
        """(relative name, type, inputs) of every op inside: equal for identical towers. The
        member's own name inside relative names (`tower_1/gradients/tower_1/...`, as
        compute_gradients names them in a tower) counts as the same for every member."""
        inside = {op.name for op in self.under[path]}
        cut, leaf = len(path), path.rsplit("/", 1)[-1]

        def relative(name):
            return "/".join("*" if part == leaf else part for part in name[cut:].split("/"))
        return tuple((relative(op.name), op.type,
                      tuple(relative(t.name) if t.op.name in inside else "^" for t in op.inputs))
                     for op in self.under[path])

    def _parallel(self, paths):
        """True when no member feeds another (towers, not a chain of layers)."""
        member = {op.name: path for path in paths for op in self.under[path]}
        return not any(member.get(t.op.name, path) != path
                       for path in paths for op in self.under[path] for t in op.inputs)


def structure(graph):
    cached = _structures.get(graph)
    if cached is None or cached[0] != graph.version:
        cached = (graph.version, Structure(graph))
        _structures[graph] = cached
    return cached[1]


def opened(key, level, depth, expanded, collapsed):
    """Is scope (or stack) `key`, `level` levels below the root, drawn as an open cluster?"""
    if key in expanded or key in collapsed:
        return key in expanded
    return depth is None or level < depth


def scopes_to_open(st, root, home, fold=True):
    """The scope and stack keys to expand, outermost first, so that scope `home` shows."""
    keys, current = [], root
    rest = home[len(root) + 1:] if root else home
    for part in rest.split("/") if rest else ():
        current = join(current, part)
        stack = st.stacks.get(current) if fold else None
        keys.append(stack.key if stack else current)
        current = stack.rep if stack else current
    return keys


# ---- what is shown: items (nodes) inside clusters ----------------------------------------------
class Item:
    """One node: kind is "op", "scope", "stack", "ext" or "ghost"; `ops` are the ops it
    stands for, `extra` the ops of other stack members it also stands for."""

    __slots__ = ("id", "kind", "key", "label", "ops", "extra")

    def __init__(self, id, kind, key, label, ops):
        self.id, self.kind, self.key, self.label, self.ops = id, kind, key, label, ops
        self.extra = []

    def all_ops(self):
        return self.ops + self.extra if self.extra else self.ops


class Cluster:
    __slots__ = ("id", "key", "label", "entries", "ops", "stack")

    def __init__(self, key, label, entries, ops, stack=None):
        self.id, self.key, self.label = "cluster:" + key, key, label
        self.entries, self.ops, self.stack = entries, ops, stack


class Layout:
    """Items and clusters for one setting of root/depth/expanded/collapsed/fold, and the
    aggregated edges between items."""

    def __init__(self, st, root="", depth=1, expanded=(), collapsed=(), fold=True,
                 removed=()):
        self.st, self.root, self.depth, self.fold = st, root, depth, fold
        self.expanded, self.collapsed = set(expanded), set(collapsed)
        self.item_of, self.ext, self._pending = {}, {}, []
        self.counts = {"collapsed": 0, "clusters": 0, "stacks": []}
        self.ops = st.under[root] if root else st.ops
        self.entries = self._container(root, 1) + self._ghosts(removed)
        for stack in self._pending:
            self._translate(stack)
        self.edges = self._edges()

    def _container(self, path, level):
        entries = []
        for kind, x in self.st.children.get(path, ()):
            stack = self.st.stacks.get(x) if kind == "scope" and self.fold else None
            if kind == "op":
                name = leaf(x.name)
                label = name if x.type.lower() in name.lower() else f"{name}\n{x.type}"
                entries.append(self._item("op", x.name, x.name, label, [x]))
            elif stack is None:
                entries.append(self._scope(x, level))
            elif x == stack.rep:
                entries.append(self._stack(stack, level))
        return entries

    def _scope(self, path, level):
        ops = self.st.under[path]
        if opened(path, level, self.depth, self.expanded, self.collapsed):
            self.counts["clusters"] += 1
            return Cluster(path, leaf(path), self._container(path, level + 1), ops)
        self.counts["collapsed"] += 1
        return self._item("scope", "scope:" + path, path, f"{leaf(path)}\n{len(ops)} ops", ops)

    def _stack(self, stack, level):
        self.counts["stacks"].append(len(stack.members))
        if opened(stack.key, level, self.depth, self.expanded, self.collapsed):
            self.counts["clusters"] += 1
            entries = self._container(stack.rep, level + 1)
            self._pending.append(stack)
            label = f"{stack.label} (showing {leaf(stack.rep)})"
            return Cluster(stack.key, label, entries, self.st.under[stack.rep], stack)
        ops = [op for member in stack.members for op in self.st.under[member]]
        label = f"{stack.label}\n{len(self.st.under[stack.rep])} ops each"
        return self._item("stack", "stack:" + stack.key, stack.key, label, ops)

    def _item(self, kind, id, key, label, ops):
        item = Item(id, kind, key, label, ops)
        for op in ops:
            self.item_of[op.name] = item
        return item

    def _translate(self, stack):
        """Ops of the other members of an open stack are drawn by the rep's nodes."""
        for member in stack.members[1:]:
            for op in self.st.under[member]:
                item = self.item_of.get(stack.rep + op.name[len(member):])
                if item is not None:
                    self.item_of[op.name] = item
                    item.extra.append(op)

    def _ghosts(self, removed):
        """Items for removed op names (of a diff) that are no longer in the graph."""
        prefix = self.root + "/" if self.root else ""
        gone = sorted(set(removed) - set(self.st.home))
        return [Item(name, "ghost", name, name[len(prefix):] + "\n(removed)", [])
                for name in gone if name.startswith(prefix)]

    def _ext_item(self, op):
        top = op.name.split("/")[0]
        if top not in self.ext:
            self.ext[top] = Item("ext:" + top, "ext", top, top + "\n(outside)", [])
        if op not in self.ext[top].ops:
            self.ext[top].ops.append(op)
        return self.ext[top]

    def _source(self, op):
        if getattr(op, "retired", None) is not None:
            return None  # its cell was re-run: the consumer is stale, drawn grey
        item = self.item_of.get(op.name)
        if item is None and self.root and op.name in self.st.home:
            item = self._ext_item(op)
        return item

    def _edges(self):
        """{(src item, dst item): [tensors, control ops]} between distinct items."""
        edges = {}
        for op in self.ops:
            dst = self.item_of.get(op.name)
            for inputs, is_control in ((op.inputs, False), (op.control_inputs, True)):
                for x in inputs:
                    src = self._source(x if is_control else x.op)
                    if src is None or src is dst:
                        continue
                    entry = edges.setdefault((src, dst), ([], []))
                    entry[is_control].append((x, op))
        return edges


# ---- how each item looks ------------------------------------------------------------------------
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
        return bool(record and record.reason and str(record.reason).startswith("soft"))

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


# ---- DOT text -----------------------------------------------------------------------------------
_FONT = "Helvetica,Arial,sans-serif"
HEADER = (
    "digraph G {",
    f'  graph [rankdir=TB fontname="{_FONT}" fontsize=10 nodesep=0.3 ranksep=0.4];',
    f'  node [shape=box style="rounded,filled" fontname="{_FONT}" fontsize=10 '
    'fillcolor="#ffffff" height=0.3 margin="0.1,0.04"];',
    f'  edge [fontname="{_FONT}" fontsize=9 color="#7f7f7f" arrowsize=0.6];',
)


def to_dot(layout, style, describe):
    """The DOT text of `layout`: looks from `style`, tooltips from `describe(entry)` (an item,
    a cluster, or an edge as (src, dst, tensors, controls))."""
    lines = list(HEADER)
    _write(layout.entries + list(layout.ext.values()), style, describe, lines, "  ")
    for (src, dst), (tensors, controls) in layout.edges.items():
        attrs = dict(style.edge(tensors, controls),
                     tooltip=describe((src, dst, tensors, controls)))
        lines.append(f"  {dot_id(src.id)} -> {dot_id(dst.id)} [{dot_attrs(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _write(entries, style, describe, lines, indent):
    for entry in entries:
        if isinstance(entry, Cluster):
            attrs = dict(style.cluster(entry), tooltip=describe(entry))
            lines.append(f"{indent}subgraph {dot_id(entry.id)} {{")
            lines.append(f"{indent}  graph [{dot_attrs(attrs)}];")
            _write(entry.entries, style, describe, lines, indent + "  ")
            lines.append(indent + "}")
        else:
            attrs = dict(style.node(entry), tooltip=describe(entry))
            lines.append(f"{indent}{dot_id(entry.id)} [{dot_attrs(attrs)}];")
