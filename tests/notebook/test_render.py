"""render.to_svg: system dot, then graphviz-pure, then the plain drawing; never raises.

Every renderer runs for real; fallbacks are forced by naming renderers, by the environment
variable, or by emptying PATH."""
import shutil
import xml.etree.ElementTree as ET

import pytest

from tginteractive.notebook import render

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
NASTY = 'a\\b"];evil<script>alert(1)</script>&amp;\\'
DOT = "\n".join([
    "digraph G {",
    '  subgraph "cluster:s" { graph [label="s" class="tg-cluster"];',
    f'    "s/x" [label="x" class="tg-op"]; {render.dot_id(NASTY)} [label={render.dot_string(NASTY)}'
    f' tooltip={render.dot_string(NASTY + chr(10) + "line 2")} class="tg-op"]; }}',
    '  "scope:t" [label="t\\n3 ops" class="tg-scope"];',
    '  "s/x" -> "scope:t" [label="2"]; "scope:t" -> ' + render.dot_id(NASTY) + ";",
    "}",
])
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="no system Graphviz")
needs_pure = pytest.mark.skipif(render._find_graphviz_pure() is None,
                                reason="graphviz-pure is not installed")


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    monkeypatch.delenv(render.ENV_VAR, raising=False)
    render.clear_cache()
    yield
    render.clear_cache()


def parse(svg):
    root = ET.fromstring(svg)
    groups = {}
    for g in root.iter(SVG + "g"):
        kind = (g.get("class") or "").split(" ")[0]
        title = g.find(SVG + "title")
        groups.setdefault(kind, []).append(title.text if title is not None else None)
    return root, groups


def check_structure(svg):
    root, groups = parse(svg)
    assert sorted(groups["node"]) == sorted(["s/x", NASTY, "scope:t"])
    assert sorted(groups["cluster"]) == ["cluster:s"]
    assert sorted(groups["edge"]) == sorted(["s/x->scope:t", f"scope:t->{NASTY}"])
    assert not list(root.iter(SVG + "script"))
    tooltips = [a.get(XLINK + "title") for a in root.iter(SVG + "a")]
    assert NASTY + "\nline 2" in tooltips
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    assert NASTY in texts
    classes = [g.get("class") for g in root.iter(SVG + "g")]
    assert "node tg-scope" in classes and "cluster tg-cluster" in classes


@needs_dot
def test_system_dot_comes_first_and_draws_the_structure():
    rendered = render.to_svg(DOT)
    assert rendered.renderer == "dot" and rendered.note == ""
    check_structure(rendered.svg)


@needs_pure
def test_graphviz_pure_binary_is_found_and_draws_the_same_structure():
    rendered = render.to_svg(DOT, renderers=["graphviz-pure"])
    assert rendered.renderer == "graphviz-pure", rendered.note
    assert "graphviz-pure" in rendered.svg
    check_structure(rendered.svg)


def test_python_drawing_keeps_titles_classes_and_escaping():
    rendered = render.to_svg(DOT, renderers=("python",))
    assert rendered.renderer == "python"
    assert "pip install graphviz-pure" in rendered.note
    check_structure(rendered.svg)


@needs_pure
def test_without_dot_on_path_graphviz_pure_takes_over(monkeypatch):
    monkeypatch.setenv("PATH", "")
    rendered = render.to_svg(DOT)
    assert rendered.renderer == "graphviz-pure"
    assert "dot: not found" in rendered.note
    check_structure(rendered.svg)


def test_environment_variable_orders_the_renderers(monkeypatch):
    monkeypatch.setenv(render.ENV_VAR, "python")
    assert render.to_svg(DOT).renderer == "python"
    monkeypatch.setenv(render.ENV_VAR, "missing-one, python")
    rendered = render.to_svg(DOT)
    assert rendered.renderer == "python" and "unknown renderer 'missing-one'" in rendered.note


@needs_dot
def test_a_failing_renderer_falls_through_to_the_next():
    bad = "digraph G { a -> }"
    rendered = render.to_svg(bad, renderers=["dot", "python"])
    assert rendered.renderer == "python"
    assert "dot: exit status" in rendered.note
    ET.fromstring(rendered.svg)


@needs_dot
def test_a_timeout_skips_the_other_graphviz_renderers():
    big = "digraph G {" + " ".join(f"n{i} -> n{i + 1};" for i in range(3000)) + "}"
    rendered = render.to_svg(big, renderers=["dot", "graphviz-pure", "python"], timeout=0.001)
    assert rendered.renderer == "python"
    assert "timed out" in rendered.note and "skipped after a timeout" in rendered.note


@pytest.mark.parametrize("source", [None, 42, b"digraph {}", "", "digraph { a -> <b> }",
                                    "digraph { a [label=\"unterminated] }"])
def test_to_svg_never_raises(source):
    rendered = render.to_svg(source, renderers=["python"])
    assert isinstance(rendered, render.Rendered)
    if rendered.svg is not None:
        ET.fromstring(rendered.svg)
    else:
        assert rendered.note


def test_nothing_available_gives_no_svg_and_says_what_to_install():
    rendered = render.to_svg(DOT, renderers=["no-such-renderer"])
    assert rendered.svg is None and rendered.renderer == "none"
    assert "pip install graphviz-pure" in rendered.note


def test_renders_are_cached_by_dot_text():
    first = render.to_svg(DOT, renderers=["python"])
    assert render.to_svg(DOT, renderers=["python"]) is first
    assert render.to_svg(DOT + " ", renderers=["python"]) is not first
    render.clear_cache()
    assert render.to_svg(DOT, renderers=["python"]) is not first
    for i in range(render._CACHE_SIZE + 5):
        render.to_svg(f"digraph G {{ n{i} }}", renderers=["python"])
    assert len(render._cache) == render._CACHE_SIZE


def test_dot_quoting_cannot_be_escaped():
    assert render.dot_id('x"];evil') == '"x&quot;];evil"'
    assert render.dot_id("a\\") == '"a&#92;"'
    assert render.dot_string('q"\\\n<b>\t&') == '"q&quot;\\\\\\n&lt;b&gt; &amp;"'
