"""The Graph view: DOT from graphs, the SVG Graphviz draws from it, and the widget's messages.

SVG is checked by structure (node/edge/cluster groups, titles, classes), never byte by byte,
and always drawn by a real renderer."""
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
from IPython.core.formatters import DisplayFormatter

import tginteractive as tf
from tginteractive.framework import context
from tginteractive.notebook import render
from tginteractive.runtime import run_events
from tginteractive.notebook.widgets import graph_view as gv
from tginteractive.notebook.widgets.graph_view import GraphView, graph_to_dot, show_graph

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Drawing:
    """An SVG parsed into {kind: {title: classes}} plus tooltips and fills by title."""

    def __init__(self, svg):
        self.root = ET.fromstring(svg)
        self.groups, self.tooltips, self.fills, self.strokes = {}, {}, {}, {}
        for g in self.root.iter(SVG + "g"):
            classes = (g.get("class") or "").split()
            title = g.find(SVG + "title")
            if not classes or title is None or classes[0] == "graph":
                continue
            self.groups.setdefault(classes[0], {})[title.text] = set(classes[1:])
            link = g.find(f"{SVG}g/{SVG}a")
            self.tooltips[title.text] = link.get(XLINK + "title") if link is not None else None
            shape = next((e for e in g.iter() if e.tag in (SVG + "polygon", SVG + "path",
                                                           SVG + "rect", SVG + "ellipse")), None)
            if shape is not None:
                self.fills[title.text] = shape.get("fill")
                self.strokes[title.text] = (shape.get("stroke"), shape.get("stroke-dasharray"))

    def titles(self, kind):
        return set(self.groups.get(kind, {}))

    def with_class(self, kind, cls):
        return {t for t, classes in self.groups.get(kind, {}).items() if cls in classes}


def draw(graph, renderers=("dot", "graphviz-pure"), **options):
    rendered = render.to_svg(graph_to_dot(graph, **options), renderers)
    assert rendered.svg is not None, rendered.note
    return Drawing(rendered.svg)


def towers_graph(towers=2, fold_breaker=False):
    """The CIFAR-10 multi-GPU pattern, on CPUs: shared variables, one tower per device."""
    g = tf.Graph()
    with g.as_default():
        images = tf.placeholder(tf.float32, [None, 8], name="images")
        losses = []
        for i in range(towers):
            with tf.device("/cpu:%d" % i), tf.name_scope("tower_%d" % i):
                with tf.variable_scope("model", reuse=i > 0):
                    w = tf.get_variable("w", [8, 4])
                    b = tf.get_variable("b", [4])
                    h = tf.nn.relu(tf.matmul(images, w) + b)
                    if fold_breaker and i == towers - 1:
                        h = tf.tanh(h)
                    losses.append(tf.reduce_mean(h, name="loss"))
        tf.add_n(losses, name="total_loss")
    return g


def layers_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        with tf.name_scope("layer1"):
            w1 = tf.constant([[1.0] * 3] * 3, name="w")
            h1 = tf.nn.relu(tf.matmul(x, w1))
        with tf.name_scope("layer2"):
            w2 = tf.constant([[1.0] * 3] * 3, name="w")
            h2 = tf.nn.relu(tf.matmul(h1, w2) + tf.matmul(x, w2))
            with tf.name_scope("inner"):
                tf.identity(h2, name="out")
    return g


# ---- collapse and expand -------------------------------------------------------------------
def test_depth_one_collapses_top_level_scopes_into_counted_nodes():
    d = draw(layers_graph())
    assert d.titles("node") == {"x", "scope:layer1", "scope:layer2"}
    assert d.titles("cluster") == set()
    assert d.with_class("node", "tg-scope") == {"scope:layer1", "scope:layer2"}
    label = "".join(d.root.find(f".//{SVG}g[{SVG}title='scope:layer2']").itertext())
    assert "layer2" in label and "6 ops" in label


def test_edges_between_collapsed_scopes_are_merged_with_a_count():
    d = draw(layers_graph())
    assert d.titles("edge") == {"x->scope:layer1", "x->scope:layer2",
                                "scope:layer1->scope:layer2"}
    edge = d.root.find(f".//{SVG}g[{SVG}title='x->scope:layer2']")
    assert "".join(edge.itertext()).strip().endswith("2")  # two MatMuls read x


def test_expanding_shows_clusters_and_deeper_scopes_stay_collapsed():
    g = layers_graph()
    d = draw(g, expanded={"layer2"})
    assert d.titles("cluster") == {"cluster:layer2"}
    assert "scope:layer2/inner" in d.titles("node")
    assert {"layer2/MatMul", "layer2/MatMul_1", "layer2/w"} <= d.titles("node")
    full = draw(g, depth=None)
    assert full.titles("cluster") == {"cluster:layer1", "cluster:layer2", "cluster:layer2/inner"}
    assert full.titles("node") == {op.name for op in g.get_operations()}
    assert len(full.titles("edge")) == sum(len(op.inputs) for op in g.get_operations())
    shallow = draw(g, depth=None, collapsed={"layer2"})
    assert "scope:layer2" in shallow.titles("node")


def test_root_shows_one_scope_and_its_outside_inputs():
    d = draw(layers_graph(), root="layer2", depth=None)
    assert "ext:x" in d.titles("node") and "ext:layer1" in d.titles("node")
    assert "x" not in d.titles("node")
    with pytest.raises(ValueError, match="No name scope 'nope'.*layer1, layer2"):
        graph_to_dot(layers_graph(), root="nope")


# ---- towers -------------------------------------------------------------------------------
def test_identical_towers_fold_into_one_stack():
    g = towers_graph(2)
    d = draw(g)
    assert d.with_class("node", "tg-stack") == {"stack:tower_*"}
    assert not any(t.startswith("scope:tower_") for t in d.titles("node"))
    label = "".join(d.root.find(f".//{SVG}g[{SVG}title='stack:tower_*']").itertext())
    assert "tower_N ×2" in label and "4 ops each" in label
    assert "stack:tower_*->total_loss" in d.titles("edge")
    unfolded = draw(g, fold=False)
    assert {"scope:tower_0", "scope:tower_1"} <= unfolded.titles("node")


def test_towers_with_their_own_gradients_fold_as_in_the_cifar10_pattern():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 2], name="x")
        opt = tf.train.GradientDescentOptimizer(0.1)
        with tf.variable_scope(tf.get_variable_scope()):
            for i, part in enumerate(tf.split(x, 2)):
                with tf.device("/cpu:%d" % i), tf.name_scope("tower_%d" % i):
                    loss = tf.reduce_mean(tf.matmul(part, tf.get_variable("w", [2, 1])))
                    tf.get_variable_scope().reuse_variables()
                    opt.compute_gradients(loss)
    assert "tower_1/gradients/tower_1/MatMul_grad/MatMul" in \
        {op.name for op in g.get_operations()}
    assert draw(g).with_class("node", "tg-stack") == {"stack:tower_*"}


def test_an_open_stack_draws_one_tower_for_all():
    g = towers_graph(3)
    d = draw(g, expanded={"tower_*", "tower_0/model"})
    assert d.titles("cluster") == {"cluster:tower_*", "cluster:tower_0/model"}
    assert "tower_0/model/MatMul" in d.titles("node")
    assert not any(t.startswith("tower_1") or t.startswith("tower_2") for t in d.titles("node"))
    assert "also stands for: tower_1/model/MatMul, tower_2/model/MatMul" in \
        d.tooltips["tower_0/model/MatMul"]


def test_different_or_chained_scopes_do_not_fold():
    d = draw(towers_graph(2, fold_breaker=True))
    assert {"scope:tower_0", "scope:tower_1"} <= d.titles("node")
    g = tf.Graph()
    with g.as_default():  # dense, dense_1: same ops, but one feeds the other
        h = tf.placeholder(tf.float32, [None, 2], name="x")
        for _ in range(2):
            with tf.name_scope("dense"):
                h = tf.nn.relu(h * 2.0)
    assert {"scope:dense", "scope:dense_1"} <= draw(g).titles("node")


# ---- colours ------------------------------------------------------------------------------
def test_colour_by_type_matches_types():
    d = draw(layers_graph(), depth=None)
    assert d.fills["layer1/MatMul"] == d.fills["layer2/MatMul"] == d.fills["layer2/MatMul_1"]
    assert d.fills["layer1/MatMul"] != d.fills["layer1/Relu"]


def test_colour_by_requested_device_and_cross_device_edges():
    d = draw(towers_graph(2), fold=False, depth=None, color="device")
    assert d.fills["tower_0/model/MatMul"] != d.fills["tower_1/model/MatMul"]
    assert d.fills["tower_0/model/MatMul"] == d.fills["model/w/read"]  # both CPU:0
    cross = d.with_class("edge", "tg-cross")
    assert "model/w/read->tower_1/model/MatMul" in cross
    assert "model/w/read->tower_0/model/MatMul" not in cross
    assert d.strokes["model/w/read->tower_1/model/MatMul"][0] == gv.gs.RED


def test_colour_by_actual_placement_from_a_session():
    g = towers_graph(2)
    fetch = g.get_operation_by_name("total_loss")
    with tf.Session(graph=g, config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        records = sess.placement(fetch, feed_list=[g.get_tensor_by_name("images:0")])
    d = draw(g, fold=False, depth=None, color="placement", placement=records)
    assert d.fills["tower_0/model/Relu"] != d.fills["tower_1/model/Relu"]
    assert "actual device: /job:localhost/replica:0/task:0/device:CPU:1" in \
        d.tooltips["tower_1/model/Relu"]
    assert "model/b/read->tower_1/model/add" in d.with_class("edge", "tg-cross")
    folded = graph_to_dot(g, color="placement", placement=records)
    assert "actual devices: CPU:0 ×4, CPU:1 ×4" in folded


def test_soft_placement_fallback_is_marked_red_and_dashed():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant([1.0, 2.0], name="a")
        with tf.device("/gpu:0"):
            b = tf.multiply(a, 2.0, name="on_gpu")
    with tf.Session(graph=g, config=tf.ConfigProto(allow_soft_placement=True)) as sess:
        records = sess.placement(b)
    d = draw(g, color="placement", placement=records)
    assert d.with_class("node", "tg-fallback") == {"on_gpu", "Const"}
    stroke, dashes = d.strokes["on_gpu"]
    assert stroke == gv.gs.RED and dashes
    assert "soft placement: /device:GPU:0" in d.tooltips["on_gpu"]
    assert "requested device: /device:GPU:0" in d.tooltips["on_gpu"]


def test_colour_by_compute_time_from_run_metadata():
    g = layers_graph()
    metadata = tf.RunMetadata()
    out = g.get_operation_by_name("layer2/inner/out").outputs[0]
    with tf.Session(graph=g) as sess:
        sess.run(out, {g.get_tensor_by_name("x:0"): [[1.0, 2.0, 3.0]]},
                 options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=metadata)
    d = draw(g, color="time", step_stats=metadata)
    assert d.fills["scope:layer2"] != gv.gs.HEAT[0]
    assert "compute:" in d.tooltips["scope:layer2"]
    view = gv.build_view(g, color="time", step_stats=metadata)
    assert any("µs" in label for label, _ in view.legend)


def test_run_events_carry_placement_and_timings_for_the_view():
    g = layers_graph()
    out = g.get_operation_by_name("layer2/inner/out").outputs[0]
    events = []
    with tf.Session(graph=g) as sess, run_events.subscribe(events.append, trace_every=1):
        sess.run(out, {g.get_tensor_by_name("x:0"): [[1.0, 2.0, 3.0]]})
    d = draw(g, color="time", placement=events[0], step_stats=events[0], depth=None)
    assert "actual device: /job:localhost/replica:0/task:0/device:CPU:0" in \
        d.tooltips["layer2/Relu"]
    assert "compute:" in d.tooltips["layer2/MatMul"]


def test_dot_text_does_not_depend_on_the_hash_seed():
    code = ("import sys; sys.path.insert(0, 'tests/notebook'); import test_graph_view as t; "
            "print(t.graph_to_dot(t.towers_graph(3), color='device', "
            "diff=({'x'}, {'gone', 'model/zz'}, {'model/w'})).replace(t.__file__, ''))")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, timeout=60, env=dict(os.environ, PYTHONHASHSEED=seed))
            for seed in ("1", "2")]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout and "stack:tower_*" in runs[0].stdout


def test_unknown_colour_mode_or_root_is_refused_before_anything_is_shown():
    with pytest.raises(ValueError, match="color='size' is not one of: type, device"):
        graph_to_dot(layers_graph(), color="size")
    with pytest.raises(ValueError, match="color='size'"):
        GraphView(layers_graph(), color="size")
    with pytest.raises(ValueError, match="No name scope 'layer9'"):
        GraphView(layers_graph(), root="layer9")


def test_stale_ops_are_grey():
    g = tf.Graph()
    with g.as_default():
        with context.tag_scope("cell-1", "cell [1]"):
            a = tf.constant(1.0, name="a")
        with context.tag_scope("cell-2", "cell [2]"):
            tf.multiply(a, 2.0, name="uses_a")
        g.discard("cell-1", "cell [3]")
        with context.tag_scope("cell-1", "cell [3]"):
            tf.constant(1.0, name="a")
    d = draw(g)
    assert d.with_class("node", "tg-stale") == {"uses_a"}
    assert d.fills["uses_a"] == gv.gs.STALE_FILL
    assert "stale: input 'a:0' was replaced by cell [3]" in d.tooltips["uses_a"]
    assert "created by: cell [2]" in d.tooltips["uses_a"]
    assert "a->uses_a" not in d.titles("edge")


def test_diff_colours_added_removed_changed():
    d = draw(layers_graph(), expanded={"layer1"},
             diff=({"layer1/MatMul"}, {"layer1/old_op"}, {"layer1/Relu"}))
    assert d.with_class("node", "tg-added") == {"layer1/MatMul"}
    assert d.with_class("node", "tg-changed") == {"layer1/Relu"}
    assert d.with_class("node", "tg-removed") == {"layer1/old_op"}
    assert d.fills["layer1/MatMul"] == gv.gs.DIFF["added"]
    collapsed = draw(layers_graph(), diff=({"layer2/w"}, (), ()))
    assert collapsed.with_class("node", "tg-added") == {"scope:layer2"}


# ---- escaping -------------------------------------------------------------------------------
def test_names_and_attribute_strings_are_escaped_for_dot_and_svg():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        tf.identity(x, name="a>b")
        with tf.name_scope("we.ird>-\\sc"):
            tf.identity(x, name="back\\slash")
        tf.constant("<script>alert(1)</script>", name="s")
        tf.constant('"];evil [label="x', name="quote")
    for renderers in (["dot"], ["graphviz-pure"], ["python"]):
        d = draw(g, renderers, depth=None)
        assert {"a>b", "we.ird>-\\sc/back\\slash", "s", "quote"} <= d.titles("node")
        assert "cluster:we.ird>-\\sc" in d.titles("cluster")
        assert not list(d.root.iter(SVG + "script"))
        assert "value: array('<script>alert(1)</script>'" in d.tooltips["s"] or \
            "<script>alert(1)</script>" in d.tooltips["s"]
        assert '"];evil [label="x' in d.tooltips["quote"]
        raw = render.to_svg(graph_to_dot(g, depth=None), renderers).svg
        assert "<script" not in raw and "&lt;script&gt;" in raw


# ---- search and targets ---------------------------------------------------------------------
def test_find_highlights_matches_and_opens_their_scopes():
    view = GraphView(layers_graph())
    names = view.find("matmul_1")
    assert names == ["layer2/MatMul_1"]
    d = Drawing(view.svg)
    assert d.with_class("node", "tg-highlight") == {"layer2/MatMul_1"}
    assert "cluster:layer2" in d.titles("cluster")
    assert view.details == "found 1 op named like 'matmul_1'"
    assert view.find("") == [] and not Drawing(view.svg).with_class("node", "tg-highlight")


def test_find_inside_a_folded_stack_opens_the_stack():
    view = GraphView(towers_graph(2))
    assert view.find("tower_1/model/Relu") == ["tower_1/model/Relu"]
    d = Drawing(view.svg)
    assert d.with_class("node", "tg-highlight") == {"tower_0/model/Relu"}
    assert {"tower_*", "tower_0/model"} <= view.expanded


def test_show_graph_targets():
    g = layers_graph()
    with g.as_default():
        relu = g.get_operation_by_name("layer2/Relu")
        view = show_graph(relu.outputs[0])
        assert view.root == "layer2" and view.highlight == {"layer2/Relu"}
        assert view.status.startswith("GraphView of 'layer2': 6 ops")
        assert Drawing(view.svg).with_class("node", "tg-highlight") == {"layer2/Relu"}
        assert show_graph().graph is g
        assert show_graph("layer1").root == "layer1"
        assert show_graph("layer2/Relu:0").highlight == {"layer2/Relu"}
        assert show_graph("x").highlight == {"x"} and show_graph("x").root is None
        with pytest.raises(ValueError, match="No op or name scope 'zzz'"):
            show_graph("zzz")
    assert show_graph(g).graph is g
    with pytest.raises(TypeError):
        show_graph(3.0)


# ---- the widget ----------------------------------------------------------------------------
def send(view, content):
    """What the comm does with a message from the page's model.send(content)."""
    view._handle_msg({"content": {"data": {"method": "custom", "content": content}},
                      "buffers": []})


def test_widget_toggle_message_rerenders_the_svg_trait():
    view = GraphView(layers_graph())
    changes = []
    view.observe(lambda change: changes.append(change["name"]), names=["svg", "status"])
    assert "scope:layer1" in Drawing(view.svg).titles("node")
    send(view, {"toggle": "layer1"})
    assert "cluster:layer1" in Drawing(view.svg).titles("cluster")
    assert "svg" in changes and "status" in changes
    assert view.status == ("GraphView: 10 ops, 1 scope shown collapsed (depth 1), "
                           "1 expanded, colour=type")
    send(view, {"toggle": "layer1"})
    assert "scope:layer1" in Drawing(view.svg).titles("node")
    assert view.toggle("layer2") is True and view.toggle("layer2") is False


def test_widget_stack_toggle_find_select_and_bad_messages():
    view = GraphView(towers_graph(2), color="device")
    send(view, {"toggle": "tower_*"})
    assert "cluster:tower_*" in Drawing(view.svg).titles("cluster")
    send(view, {"find": "loss"})
    assert view.details == "found 3 ops named like 'loss'"
    send(view, {"select": "tower_0/model/MatMul"})
    assert view.details.startswith("tower_0/model/MatMul (MatMul)")
    assert "requested device: /device:CPU:0" in view.details
    svg = view.svg
    send(view, {"toggle": "no/such/scope"})
    assert view.details == "ValueError: No name scope or stack 'no/such/scope' in the graph."
    assert view.svg == svg
    send(view, {"unknown": 1})


def test_mimebundle_has_widget_static_svg_and_deterministic_text():
    def bundle():
        data, _ = GraphView(towers_graph(2))._repr_mimebundle_()
        return data
    first, second = bundle(), bundle()
    assert set(first) == {"text/plain", "image/svg+xml",
                          "application/vnd.jupyter.widget-view+json"}
    assert first["text/plain"] == second["text/plain"] == (
        "GraphView: 30 ops, 1 scope shown collapsed (depth 1), 1 folded stack (×2), "
        "colour=type")
    assert first["image/svg+xml"].startswith("<svg")
    assert first["image/svg+xml"] == second["image/svg+xml"]
    assert "0x" not in first["text/plain"] and repr(GraphView(towers_graph(2))) == \
        first["text/plain"]
    Drawing(first["image/svg+xml"])


def test_rendering_never_raises():
    view = GraphView(layers_graph(), renderers=["no-such-renderer"])
    assert view.svg == "" and "(no picture:" in view.status
    data, _ = view._repr_mimebundle_()
    assert "image/svg+xml" not in data and "no picture" in data["text/plain"]

    class Broken:
        version = 1

        def get_operations(self):
            raise RuntimeError("graph went away")
    view.graph = Broken()
    view.refresh()
    assert view.status == "GraphView: not drawn (RuntimeError: graph went away)"
    view.close()  # a closed widget displays as its text
    data, _ = DisplayFormatter().format(view)
    assert data == {"text/plain": "GraphView: not drawn (RuntimeError: graph went away)"}


def test_python_renderer_view_is_clickable_the_same_way():
    view = GraphView(towers_graph(2), renderers=["python"])
    d = Drawing(view.svg)
    assert "stack:tower_*" in d.with_class("node", "tg-scope")


def test_without_anywidget_the_view_is_a_static_picture():
    code = ("import sys, warnings; sys.modules['anywidget'] = None\n"
            "import tginteractive as tf\n"
            "from tginteractive.notebook.widgets.graph_view import show_graph\n"
            "tf.identity(tf.constant(1.0), name='out')\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    view = show_graph()\n"
            "data, _ = view._repr_mimebundle_()\n"
            "print(sorted(data)); print(data['text/plain']); print(w[0].message)\n"
            "view.toggle\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "['image/svg+xml', 'text/plain']"
    assert lines[1] == "GraphView: 2 ops, 0 scopes shown collapsed (depth 1), colour=type"
    assert 'pip install "tginteractive[notebook]"' in lines[2]


# ---- size ------------------------------------------------------------------------------------
def test_five_thousand_ops_stay_responsive():
    g = tf.Graph()
    with g.as_default():
        h = tf.placeholder(tf.float32, [None, 4], name="x")
        for s in range(20):
            with tf.name_scope("block_%d" % s):
                for _ in range(50):
                    h = tf.tanh(h * 0.5 + 1.0)
    assert len(g.get_operations()) > 5000
    start = time.perf_counter()
    view = GraphView(g)
    send(view, {"toggle": "block_3"})
    elapsed = time.perf_counter() - start
    d = Drawing(view.svg)
    assert len(d.titles("node")) == 1 + 19 + 250 and d.titles("cluster") == {"cluster:block_3"}
    assert elapsed < 10, elapsed


def test_benchmark_quick_run(tmp_path):
    out = tmp_path / "graph_view.json"
    done = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "bench_graph_view.py"),
                           "--quick", "--repeats", "1", "--min-time", "0.01", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(out.read_text())["results"]
    assert {r["renderer"] for r in results} >= {"(none)", "python"}
    assert any(r["what"].startswith("widget click") for r in results)
