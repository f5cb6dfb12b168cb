"""Graph → DOT for the Graph view: what is drawn where. Pure Python, no optional imports.

Name scopes are clusters, or single nodes with their op count when collapsed. Sibling scopes
`tower_0`, `tower_1`, ... holding the same ops (modulo the prefix), with no edge between them,
fold into one ×N stack. DOT ids are an op's own name, or "scope:<path>", "stack:<key>",
"ext:<name>", "cluster:<path>": op names cannot contain ":", so nothing collides. The <title>
of each SVG element is that id, which is how the widget's script finds what was clicked.
"""
import re
import weakref

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
        self._outside = set()  # ops already drawn in an ext item
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
        if op not in self._outside:
            self._outside.add(op)
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
