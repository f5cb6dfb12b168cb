"""The last-resort renderer: parse back the DOT that graph views write and draw it as layers
of boxes (same titles and classes as Graphviz's SVG), when no Graphviz binary is available."""
import html
import re
import collections
from xml.sax.saxutils import escape, quoteattr

INSTALL_HINT = "install Graphviz (apt-get install graphviz) or `pip install graphviz-pure`"

_TOKEN = re.compile(r'\s+|//[^\n]*|/\*.*?\*/|"((?:[^"\\]|\\.)*)"|(->|--)|([{}\[\];,=:])'
                    r'|([A-Za-z0-9_.\-\x80-\U0010ffff]+)|(.)', re.S)
_COLOR = re.compile(r"^#?[A-Za-z0-9]+$")


def _tokens(text):
    for m in _TOKEN.finditer(text):
        quoted, arrow, punct, word, bad = m.groups()
        if bad is not None:
            raise ValueError(f"unsupported DOT character {bad!r}")
        if quoted is not None:
            yield ("id", quoted)
        elif word is not None:
            yield ("id", word)
        elif arrow or punct:
            yield ("op", arrow or punct)


def _text(dot_string):
    """A label or tooltip as the text it shows: HTML entities, then escapes, resolved (the
    order Graphviz uses)."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nlr" else m.group(1),
                  html.unescape(dot_string))


def _name(dot_id):
    """A node or cluster name as its SVG <title> reads: entities resolved, backslashes kept."""
    return html.unescape(dot_id)


class _Dot:
    """The statements of a DOT graph: nodes, edges and clusters, in order."""

    def __init__(self, text):
        self.nodes, self.edges, self.clusters = {}, [], {}
        self.node_of = {}  # node id -> innermost cluster it was declared in
        self._toks = list(_tokens(text))
        self._i = 0
        while self._peek() in ("strict", "digraph", "graph"):
            self._i += 1
        if self._peek() != "{":
            self._i += 1
        self._block(None, {})

    def _peek(self):
        return self._toks[self._i][1] if self._i < len(self._toks) else None

    def _next(self):
        self._i += 1
        return self._toks[self._i - 1][1]

    def _attrs(self):
        attrs = {}
        while self._peek() == "[":
            self._next()
            while self._peek() not in ("]", None):
                key = self._next()
                if self._peek() == "=":
                    self._next()
                    attrs[key] = self._next()
                if self._peek() in (",", ";"):
                    self._next()
            self._next()
        return attrs

    def _block(self, cluster, node_defaults):
        self._next()  # "{"
        node_defaults = dict(node_defaults)
        while self._peek() not in ("}", None):
            self._statement(cluster, node_defaults)
        self._next()

    def _statement(self, cluster, node_defaults):
        word = self._next()
        if word == ";":
            return
        if word == "subgraph" or word == "{":
            name = self._next() if word == "subgraph" and self._peek() != "{" else ""
            if word == "{":
                self._i -= 1
            if name.startswith("cluster"):
                self.clusters[name] = {"parent": cluster, "attrs": {}}
            self._block(name if name.startswith("cluster") else cluster, node_defaults)
        elif word in ("graph", "node", "edge"):
            attrs = self._attrs()
            if word == "node":
                node_defaults.update(attrs)
            elif word == "graph" and cluster in self.clusters:
                self.clusters[cluster]["attrs"].update(attrs)
        elif self._peek() == "=":
            self._next()
            value = self._next()
            if cluster in self.clusters:
                self.clusters[cluster]["attrs"][word] = value
        else:
            self._node_or_edge(word, cluster, node_defaults)

    def _node_or_edge(self, first, cluster, node_defaults):
        chain = [first]
        while self._peek() in ("->", "--"):
            self._next()
            chain.append(self._next())
        attrs = self._attrs()
        for name in chain:
            if name not in self.nodes:
                self.nodes[name] = dict(node_defaults)
                self.node_of[name] = cluster
        if len(chain) == 1:
            self.nodes[first].update(attrs)
        for a, b in zip(chain, chain[1:]):
            self.edges.append((a, b, attrs))


def _ranks(dot):
    """Longest-path layer of every node; edges closing a cycle are ignored."""
    preds = {n: [] for n in dot.nodes}
    indegree = dict.fromkeys(dot.nodes, 0)
    succs = {n: [] for n in dot.nodes}
    for a, b, _ in dot.edges:
        if a != b:
            succs[a].append(b)
            preds[b].append(a)
            indegree[b] += 1
    rank, ready = {}, collections.deque(n for n in dot.nodes if not indegree[n])
    while len(rank) < len(dot.nodes):
        if not ready:  # a cycle: start from the first node not placed yet
            ready.append(next(n for n in dot.nodes if n not in rank))
        node = ready.popleft()
        if node in rank:
            continue
        rank[node] = max((rank[p] + 1 for p in preds[node] if p in rank), default=0)
        for s in succs[node]:
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
    return rank


def _cluster_path(dot, cluster):
    path = []
    while cluster is not None:
        path.append(cluster)
        cluster = dot.clusters.get(cluster, {}).get("parent")
    return tuple(reversed(path))


def _layout(dot):
    """{node: (x, y, w, h)}: layers top to bottom; each cluster gets its own band of columns
    (bands nested like the clusters), so cluster boxes never overlap."""
    rank, first = _ranks(dot), {c: i for i, c in enumerate(dot.clusters)}
    band = {n: tuple(first.get(c, -1) for c in _cluster_path(dot, dot.node_of[n]))
            for n in dot.nodes}
    nesting = min(3, max((len(b) for b in band.values()), default=0))
    sizes = {}
    for node, attrs in dot.nodes.items():
        lines = _text(attrs.get("label", node)).split("\n")
        sizes[node] = (max(len(line) for line in lines) * 7 + 20, len(lines) * 14 + 12)
    cells = collections.defaultdict(list)  # (band, rank) -> nodes in creation order
    for node in dot.nodes:
        cells[band[node], rank[node]].append(node)
    widths = collections.defaultdict(int)
    for (b, _), nodes in cells.items():
        widths[b] = max(widths[b], sum(sizes[n][0] + 24 for n in nodes))
    starts, x = {}, 20
    for b in sorted(widths):
        starts[b], x = x, x + widths[b] + 12 * (1 + nesting)
    heights = collections.defaultdict(int)
    for node in dot.nodes:
        heights[rank[node]] = max(heights[rank[node]], sizes[node][1])
    tops, y = {}, 40 + 16 * nesting
    for r in sorted(heights):
        tops[r], y = y, y + heights[r] + 40 + 16 * nesting
    boxes = {}
    for (b, r), nodes in cells.items():
        x = starts[b]
        for node in nodes:
            boxes[node] = (x, tops[r], *sizes[node])
            x += sizes[node][0] + 24
    return boxes


def _attr_fill(attrs, key, default):
    value = attrs.get(key, default).split(":")[0]
    return value if _COLOR.match(value) else default


def _classes(kind, attrs):
    return quoteattr((kind + " " + _text(attrs.get("class", ""))).strip())


def _node_svg(i, name, attrs, box):
    x, y, w, h = box
    dashed = ' stroke-dasharray="5,2"' if "dashed" in attrs.get("style", "") else ""
    lines = _text(attrs.get("label", name)).split("\n")
    texts = "".join(f'<text text-anchor="middle" x="{x + w / 2:.1f}" y="{y + 18 + 14 * k:.1f}" '
                    f'font-family="Helvetica,sans-Serif" font-size="11.00">{escape(line)}</text>'
                    for k, line in enumerate(lines))
    tooltip = _text(attrs.get("tooltip", attrs.get("label", name)))
    return (f'<g id="node{i}" class={_classes("node", attrs)}>'
            f'<title>{escape(_name(name))}</title><g><a xlink:title={quoteattr(tooltip)}>'
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" '
            f'fill="{_attr_fill(attrs, "fillcolor", "white")}" '
            f'stroke="{_attr_fill(attrs, "color", "black")}"{dashed}/>{texts}</a></g></g>')


def _edge_svg(i, a, b, attrs, boxes):
    ax, ay, aw, ah = boxes[a]
    bx, by, bw, bh = boxes[b]
    x1, y1, x2, y2 = ax + aw / 2, ay + ah, bx + bw / 2, by
    color = _attr_fill(attrs, "color", "black")
    dashed = ' stroke-dasharray="4,2"' if "dashed" in attrs.get("style", "") else ""
    title = escape(_name(a) + "->" + _name(b))
    return (f'<g id="edge{i}" class={_classes("edge", attrs)}>'
            f'<title>{title}</title><path fill="none" stroke="{color}"{dashed} '
            f'd="M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}"/><polygon fill="{color}" '
            f'stroke="{color}" points="{x2:.1f},{y2:.1f} {x2 - 3:.1f},{y2 - 7:.1f} '
            f'{x2 + 3:.1f},{y2 - 7:.1f}"/></g>')


def _cluster_svg(i, name, dot, boxes, members, below):
    """A cluster's box around its members, padded for the clusters nested `below` it."""
    path_members = members.get(name)
    if not path_members:
        return ""
    pad = 6 * below[name]
    x0 = min(boxes[n][0] for n in path_members) - 8 - pad
    y0 = min(boxes[n][1] for n in path_members) - 20 - 16 * below[name]
    x1 = max(boxes[n][0] + boxes[n][2] for n in path_members) + 8 + pad
    y1 = max(boxes[n][1] + boxes[n][3] for n in path_members) + 6 + pad
    attrs = dot.clusters[name]["attrs"]
    return (f'<g id="clust{i}" class={_classes("cluster", attrs)}>'
            f'<title>{escape(_name(name))}</title><rect x="{x0}" y="{y0}" width="{x1 - x0}" '
            f'height="{y1 - y0}" fill="{_attr_fill(attrs, "fillcolor", "none")}" '
            f'stroke="{_attr_fill(attrs, "color", "black")}"/><text x="{x0 + 6}" y="{y0 + 14}" '
            f'font-family="Helvetica,sans-Serif" font-size="11.00">'
            f'{escape(_text(attrs.get("label", name)))}</text></g>')


def python_svg(dot_source):
    """A plain SVG of `dot_source` in Graphviz's element structure (g.node / g.edge /
    g.cluster with <title>s); an SVG holding only a note when the DOT cannot be read."""
    try:
        dot = _Dot(dot_source)
        boxes = _layout(dot)
    except Exception as e:  # noqa: BLE001 - unreadable DOT still gives a valid picture
        return _svg(400, 40, f"could not draw this graph ({type(e).__name__}: {e})", [])
    members = collections.defaultdict(list)  # cluster -> nodes inside it, at any depth
    below = collections.defaultdict(int)     # cluster -> levels of clusters inside it
    for node, cluster in dot.node_of.items():
        path = _cluster_path(dot, cluster)
        for k, c in enumerate(path):
            members[c].append(node)
            below[c] = max(below[c], len(path) - k - 1)
    parts = [_cluster_svg(i, name, dot, boxes, members, below)
             for i, name in enumerate(dot.clusters, 1)]
    parts += [_node_svg(i, name, attrs, boxes[name])
              for i, (name, attrs) in enumerate(dot.nodes.items(), 1)]
    parts += [_edge_svg(i, a, b, attrs, boxes) for i, (a, b, attrs) in enumerate(dot.edges, 1)]
    width = max((x + w for x, _, w, _ in boxes.values()), default=200) + 20
    height = max((y + h for _, y, _, h in boxes.values()), default=20) + 40
    return _svg(max(width, 420), height, f"drawn without Graphviz: {INSTALL_HINT}", parts)


def _svg(width, height, note, parts):
    return (f'<svg width="{width}pt" height="{height}pt" viewBox="0.00 0.00 {width} {height}" '
            'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">\n'
            '<g id="graph0" class="graph"><title>G</title>\n' + "\n".join(p for p in parts if p)
            + f'\n<text x="8" y="{height - 10}" font-family="Helvetica,sans-Serif" '
            f'font-size="10.00" fill="#888888">{escape(note)}</text>\n</g>\n</svg>\n')
