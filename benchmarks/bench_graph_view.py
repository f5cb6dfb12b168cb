"""Graph view benchmark: graph_to_dot + to_svg on a 5,000-op graph in 20 top-level scopes.

    python benchmarks/bench_graph_view.py             # full run: ~20 s
    python benchmarks/bench_graph_view.py --quick     # smoke run, a few seconds
    python benchmarks/bench_graph_view.py --json benchmarks/results/graph_view.json
    python benchmarks/bench_graph_view.py --expand-all    # also draw all 5,000 ops (slow)

Each of the 20 scopes `block_i` holds 50 scopes `unit_k` of 5 ops (Const, Mul, Const, AddV2,
Tanh). Rows: the first drawing after the graph changed (scope tree rebuilt), a redraw with
the tree cached, one scope expanded (50 collapsed units), a widget click (toggle message →
DOT → SVG → trait), each per renderer found (system `dot`, `graphviz-pure`, the plain Python
drawing). SVG caching is off for every timing. Target: the default collapsed view and a
click each under TARGET_MS with the first Graphviz renderer found.
"""
import sys

import common

common.use_repo_checkout()
import numpy  # noqa: E402
import tginteractive as tf  # noqa: E402
from tginteractive.notebook import render  # noqa: E402
from tginteractive.notebook.widgets import _graph_dot, graph_view  # noqa: E402

graph_to_dot = graph_view.graph_to_dot
SCOPES, UNITS = 20, 50
TARGET_MS = 250.0


def build_graph():
    g = tf.Graph()
    with g.as_default():
        h = tf.placeholder(tf.float32, [None, 16], name="x")
        for s in range(SCOPES):
            with tf.name_scope("block_%d" % s):
                for k in range(UNITS):
                    with tf.name_scope("unit_%d" % k):
                        h = tf.tanh(h * 0.5 + 1.0)
    return g


def timings(g, renderer, settings):
    """[(row name, Timing)] for one renderer."""
    def draw(**options):
        return render.to_svg(graph_to_dot(g, **options), [renderer], cache=False)

    def fresh_tree(_):
        _graph_dot._structures.pop(g, None)
        draw()

    view = graph_view.GraphView(g, renderers=[renderer])

    def click():
        view.handle_message({"toggle": "block_3"})
        render.clear_cache()

    measure = lambda fn: common.measure(fn, repeats=settings["repeats"],  # noqa: E731
                                        min_time=settings["min_time"])
    rows = [("first drawing (scope tree rebuilt)",
             common.measure_each(lambda: None, fresh_tree, settings["repeats"])),
            ("collapsed, depth 1 (21 nodes)", measure(draw)),
            ("block_3 expanded (70 nodes)", measure(lambda: draw(expanded={"block_3"}))),
            ("widget click: toggle block_3", measure(click))]
    if settings["expand_all"]:
        rows.append(("everything expanded (5,001 nodes)",
                     common.measure_each(lambda: None, lambda _: draw(depth=None), 1)))
    return rows


def dot_only(g, settings):
    return [(f"graph_to_dot only, {name}", common.measure(
        lambda: graph_to_dot(g, **options), repeats=settings["repeats"],
        min_time=settings["min_time"]))
        for name, options in (("collapsed", {}), ("block_3 expanded", {"expanded": {"block_3"}}))]


def main(argv=None):
    p = common.parser(__doc__, f"the collapsed view or a click takes over {TARGET_MS:.0f} ms")
    p.add_argument("--expand-all", action="store_true",
                   help="also time drawing all 5,000 ops (Graphviz needs tens of seconds)")
    args = p.parse_args(argv)
    settings = common.settings(args, {"repeats": 3, "min_time": 0.05},
                               {"repeats": 5, "min_time": 0.3})
    settings["expand_all"] = args.expand_all
    env = common.environment(numpy, tf, tf_skip_reason="not used by this benchmark")
    common.print_header(env, "quick" if args.quick else "full")
    g = build_graph()
    renderers = [r for r in ("dot", "graphviz-pure") if render._chain([r])[0][1]] + ["python"]
    print(f"graph: {len(g.get_operations())} ops in {SCOPES} scopes of {UNITS} scopes each; "
          f"renderers: {', '.join(renderers)}; {settings['stat']} of {settings['repeats']}\n")
    rows = [("(none)", name, t) for name, t in dot_only(g, settings)]
    for renderer in renderers:
        rows += [(renderer, name, t) for name, t in timings(g, renderer, settings)]
    common.print_table(["renderer", "what", "ms (median)", "ms (best)"],
                       [(r, n, f"{t.median / 1e3:.1f}", f"{t.best / 1e3:.1f}") for r, n, t in rows])
    primary = renderers[0]
    stat = settings["stat"]
    missed = [n for r, n, t in rows if r == primary and n.startswith(("collapsed", "widget"))
              and getattr(t, stat) / 1e3 > TARGET_MS]
    print(f"\ntarget: collapsed view and a click under {TARGET_MS:.0f} ms with {primary}: "
          + ("MISSED " + ", ".join(missed) if missed else "met"))
    if args.json:
        common.write_json(args.json, {"environment": env, "settings": settings, "results": [
            {"renderer": r, "what": n, **t.as_dict()} for r, n, t in rows]})
    return 1 if missed and args.fail_on_miss else 0


if __name__ == "__main__":
    sys.exit(main())
