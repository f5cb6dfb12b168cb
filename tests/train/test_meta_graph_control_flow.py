"""Meta graphs of tf.cond / tf.case / tf.while_loop: their bodies (FuncGraphs with captures,
mirrored variables and gradient regions) round-trip, and the imported graph runs, differentiates,
trains and restores exactly like the original. Across processes: test_saver_processes.py."""
import json
import warnings

import pytest

import tginteractive as tf
from tginteractive.framework import meta_graph
from tginteractive.framework.function_graph import Branch, FuncGraph
from tests.train.meta_graph_helpers import assert_same_graph, assert_same_results, roundtrip


def _run_both(graph, new, fetches, feeds, after=()):
    """For each value of "x:0": run `fetches`, then the ops named in `after`; finally read
    every variable. Both graphs must give the same results, bit for bit."""
    results = []
    for g in (graph, new):
        variables = g.get_collection("variables")
        with tf.Session(graph=g) as sess:
            sess.run([v.initializer for v in variables])
            out = []
            for value in feeds:
                out.append(sess.run(fetches, {"x:0": value}))
                for name in after:
                    sess.run(name, {"x:0": value})
            results.append(out + [sess.run([v.name for v in variables])])
    for a, b in zip(*results):
        assert_same_results(a, b)
    return results[0]


def _round_trip_and_compare(build, feeds, after=()):
    graph = tf.Graph()
    with graph.as_default():
        fetches = [t.name for t in build()]
    new = roundtrip(graph)
    assert_same_graph(graph, new)
    return _run_both(graph, new, fetches, feeds, after)


# ---- structure and values ------------------------------------------------------------------
def _nested_conds_with_assigns():
    v = tf.Variable(2.0, name="v")
    w = tf.Variable([1.0, -1.0], name="w")
    x = tf.placeholder(tf.float32, [], name="x")

    def deep():
        with tf.control_dependencies([v.assign_add(1.0)]):
            return v * x + w[0]
    y = tf.cond(x > 0, lambda: tf.cond(x > 1, deep, lambda: w[1] * x),
                lambda: x - v.assign_sub(0.5), name="outer")
    return [y] + tf.gradients(y, [x, v, w])


def test_nested_conds_with_variables_assigned_in_branches():
    results = _round_trip_and_compare(_nested_conds_with_assigns, [2.0, 0.5, -1.0, 3.0])
    assert results[-1][0] == 2.0 + 1.0 - 0.5 + 1.0  # the assigns of the taken branches ran


def _loops():
    x = tf.placeholder(tf.float32, [], name="x")
    v = tf.Variable(0.5, name="v")
    _, s = tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * x + v), [0, 1.0],
                         maximum_iterations=5, name="power")
    in_cond = tf.cond(x > 0, lambda: tf.while_loop(lambda a: a < 10.0, lambda a: a * 2.0 + v,
                                                   [x * x + 1.0]),
                      lambda: x)
    _, in_loop = tf.while_loop(
        lambda i, a: i < 2,
        lambda i, a: (i + 1, tf.cond(a > 1.0, lambda: a * v, lambda: a + x)), [0, x])
    total = s + in_cond + in_loop
    first = tf.gradients(total, [x, v])
    return [total] + first + tf.gradients(first[0], x)


def test_while_loops_with_gradients_and_nesting_both_ways():
    _round_trip_and_compare(_loops, [1.5, -0.5, 0.25])


def _case():
    x = tf.placeholder(tf.float32, [], name="x")
    v = tf.Variable(3.0, name="v")
    z = tf.case([(x > 2.0, lambda: x * v), (x < 2.5, lambda: v.assign_add(x))],
                default=lambda: -x, exclusive=True)
    return [z, tf.gradients(z, x)[0]]


def test_case_round_trips_and_keeps_its_exclusivity_check():
    _round_trip_and_compare(_case, [3.0, 1.0, 0.0, 3.5])
    graph = tf.Graph()
    with graph.as_default():
        z = _case()[0]
    with tf.Session(graph=roundtrip(graph)) as sess:
        sess.run("v/Assign")
        with pytest.raises(tf.errors.InvalidArgumentError, match="more than 1 conditions"):
            sess.run(z.name, {"x:0": 2.2})


# ---- after import: new gradients, names, scopes ----------------------------------------------
def _forward_model():
    x = tf.placeholder(tf.float32, [], name="x")
    v = tf.Variable(0.75, name="v")
    y = tf.cond(x > 0, lambda: tf.cond(x > 1, lambda: tf.sin(x) * v, lambda: x * x * v),
                lambda: tf.exp(x))
    _, s = tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * x + v), [0, 1.0])
    return tf.identity(y + s, name="out")


def _gradients_by_name(graph):
    """First and second derivatives of "out:0", built in `graph` now."""
    with graph.as_default():
        out, x, v = (graph.get_tensor_by_name(n) for n in ("out:0", "x:0", "v:0"))
        dx, dv = tf.gradients(out, [x, v])
        return [dx.name, dv.name, tf.gradients(dx, x)[0].name]


def test_gradients_built_after_import_equal_those_of_the_original():
    graph = tf.Graph()
    with graph.as_default():
        _forward_model()
    new = roundtrip(graph)
    fetches = _gradients_by_name(graph)
    assert _gradients_by_name(new) == fetches  # the same names, too
    _run_both(graph, new, ["out:0"] + fetches, [1.5, 0.5, -1.0])


def test_mirrored_variables_follow_renamed_and_scoped_variables():
    _forward_model()
    meta = tf.train.export_meta_graph()
    expected = _run_both(tf.get_default_graph(), tf.get_default_graph(), ["out:0"], [1.5, -1.0])
    for scope, name in ((None, "v_1"), ("m", "m/v")):
        tf.reset_default_graph()
        tf.Variable(5.0, name="v")  # an existing "v": the imported one is renamed
        tf.train.import_meta_graph(meta, import_scope=scope)
        graph = tf.get_default_graph()
        bodies = {op.attrs[k].graph for op in graph.get_operations() if op.type in ("If", "While")
                  for k in op.attrs if isinstance(op.attrs[k], Branch)}
        mirrors = {op.name for body in bodies for op in body.get_operations()
                   if op.type == "VariableV2"}
        assert mirrors == {name}
        out = f"{scope}/out:0" if scope else "out:0"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = [sess.run([out], {f"{scope}/x:0" if scope else "x:0": x}) for x in (1.5, -1.0)]
        assert_same_results(got, expected[:2])


def test_export_scope_keeps_bodies_and_their_gradient_regions():
    with tf.name_scope("tower"):
        x = tf.placeholder(tf.float32, [], name="x")
        y = tf.cond(x > 0, lambda: x * 3.0, lambda: -x, name="pick")
    tf.gradients(y, x)  # built outside "tower": its region in the bodies is exported too
    meta = tf.train.export_meta_graph(export_scope="tower")
    assert {r["name"] for r in meta.graph_def["ops"]} >= {"x", "pick"}
    assert any(r["name"].startswith("gradients/") for f in meta.graph_def["functions"]
               for r in f["ops"])
    new = tf.Graph()
    with new.as_default():
        tf.train.import_meta_graph(meta, import_scope="copy")
        with tf.Session() as sess:
            assert sess.run("copy/pick:0", {"copy/x:0": 2.0}) == 6.0
            assert sess.run("copy/pick:0", {"copy/x:0": -2.0}) == 2.0


# ---- the document ------------------------------------------------------------------------------
def test_bodies_are_stored_as_functions_referred_to_by_index():
    x = tf.placeholder(tf.float32, [], name="x")
    v = tf.Variable(1.0, name="v")
    tf.cond(x > 0, lambda: v * x, lambda: x, name="c")
    meta = tf.train.export_meta_graph()
    functions = meta.graph_def["functions"]
    op = next(r for r in meta.graph_def["ops"] if r["name"] == "c")
    assert op["attrs"]["then_branch"] == {"branch": [0, 0]}
    assert op["attrs"]["else_branch"] == {"branch": [1, 0]}
    then = functions[0]
    assert then["kind"] == "FuncGraph" and then["outer"] is None
    assert then["state"]["captured"] == ["v:0", "x:0"]
    assert then["state"]["inner"] == [[0, "v:0"], [0, "c/input:0"]]  # v is mirrored by name
    assert "Mul" in meta.meta_info_def["stripped_op_list"]  # op types inside bodies count


def test_an_op_holding_the_body_of_another_graph_is_unserialisable():
    other = tf.Graph()
    with other.as_default():
        p = tf.placeholder(tf.bool, [])
        branch = tf.cond(p, lambda: tf.constant(1.0), lambda: tf.constant(2.0)).op \
            .attrs["then_branch"]
    assert isinstance(branch.graph, FuncGraph)
    tf.identity(tf.constant(1.0), name="holder").op.attrs["body"] = branch
    with pytest.raises(meta_graph.UnserialisableGraphError,
                       match=r"'holder'.*attr 'body' holds a FuncGraph nested in another Graph"):
        tf.train.export_meta_graph()


def _damage(key):
    def first_function(doc):
        return doc["graph_def"]["functions"][0]
    return {
        "bad-region": lambda d: _if_record(d)["attrs"].update(then_branch={"branch": [0, 9]}),
        "bad-function": lambda d: _if_record(d)["attrs"].update(then_branch={"branch": [9, 0]}),
        "self-nested": lambda d: first_function(d).update(outer=0),
        "mutually-nested": lambda d: [f.update(outer=1 - i) for i, f in
                                      enumerate(d["graph_def"]["functions"][:2])],
        "unknown-kind": lambda d: first_function(d).update(kind="Mystery"),
        "dangling-capture": lambda d: first_function(d)["state"]["captured"].__setitem__(
            0, "nowhere:0"),
        "foreign-output": lambda d: first_function(d)["state"]["regions"][0]["outputs"]
        .__setitem__(0, "x:0"),
        "bad-start": lambda d: first_function(d)["state"]["regions"][0].update(start=10 ** 6),
        "not-a-list": lambda d: d["graph_def"].update(functions={}),
        "bad-op": lambda d: first_function(d)["ops"].append({"name": 3}),
    }[key]


def _if_record(doc):
    return next(r for r in doc["graph_def"]["ops"] if r["type"] == "If")


@pytest.mark.parametrize("damage", ["bad-region", "bad-function", "self-nested",
                                    "mutually-nested", "unknown-kind", "dangling-capture",
                                    "foreign-output", "bad-start", "not-a-list", "bad-op"])
def test_damaged_bodies_give_data_loss_errors(tmp_path, damage):
    x = tf.placeholder(tf.float32, [], name="x")
    v = tf.Variable(1.0, name="v")
    tf.gradients(tf.cond(x > 0, lambda: v * x, lambda: tf.sin(x)), [x, v])
    doc = json.loads(tf.train.export_meta_graph().to_bytes())
    _damage(damage)(doc)
    path = tmp_path / "bad.meta"
    path.write_text(json.dumps(doc))
    with tf.Graph().as_default(), pytest.raises(tf.errors.DataLossError, match=str(path)):
        tf.train.import_meta_graph(str(path))


# ---- training, saving, restoring ---------------------------------------------------------------
def _trainable_model():
    x = tf.placeholder(tf.float32, [], name="x")
    w = tf.Variable([0.5, -0.25], name="w")
    count = tf.Variable(0.0, name="count")

    def counted():
        with tf.control_dependencies([count.assign_add(1.0)]):
            return tf.reduce_sum(w * x)
    y = tf.cond(x > 0, counted, lambda: tf.reduce_sum(tf.square(w)) - x)
    _, s = tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, tf.tanh(s * w[0] + w[1])),
                         [0, y])
    loss = tf.square(s - 0.3, name="loss")
    tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss, name="train")
    tf.add_to_collection("loss", loss)
    return tf.train.Saver()


def _steps(sess, graph, n):
    train, loss = graph.get_collection("train_op")[0], graph.get_collection("loss")[0]
    out = []
    for k in range(n):
        feed = {"x:0": 1.5 if k % 3 else -0.5}
        out.append(sess.run([train, loss], feed)[1])
    return out + sess.run(["w:0", "count:0"])


def test_training_and_restoring_an_imported_graph_matches_the_original(tmp_path):
    saver = _trainable_model()
    graph = tf.get_default_graph()
    with tf.Session() as sess, warnings.catch_warnings():
        warnings.simplefilter("error")  # the meta graph is written: no "saved without" warning
        sess.run(tf.global_variables_initializer())
        _steps(sess, graph, 4)
        path = saver.save(sess, str(tmp_path / "model"))
        expected = _steps(sess, graph, 6)
    assert json.loads((tmp_path / "model.meta").read_text())["graph_def"]["functions"]
    tf.reset_default_graph()
    saver = tf.train.import_meta_graph(path + ".meta")
    with tf.Session() as sess:
        saver.restore(sess, path)
        assert_same_results(_steps(sess, tf.get_default_graph(), 6), expected)
    assert_same_graph(graph, tf.get_default_graph())


def test_saver_skips_the_meta_graph_only_for_unserialisable_attrs(tmp_path):
    v = tf.Variable(1.0, name="v")
    x = tf.placeholder(tf.float32, [], name="x")
    tf.gradients(tf.cond(x > 0, lambda: v * 2.0, lambda: x), x)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(v.initializer)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert saver.save(sess, str(tmp_path / "m")) and (tmp_path / "m.meta").exists()
        tf.identity(x, name="hook").op.attrs["callback"] = print  # e.g. a Python function
        with pytest.warns(UserWarning, match=r"saved without a meta graph.*'hook' \(Identity\)"):
            path = saver.save(sess, str(tmp_path / "m"))
        assert not (tmp_path / "m.meta").exists()  # the stale one is gone
        saver.restore(sess, path)
        assert tf.train.latest_checkpoint(str(tmp_path)) == path
