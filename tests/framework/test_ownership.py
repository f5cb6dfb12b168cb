"""Graph.discard and tag_scope: what the notebook layer's per-cell ownership is built on."""
import numpy as np
import pytest

import tginteractive as tf
from tginteractive.framework.context import tag_scope
from tginteractive.runtime import run_events


def build(graph, tag, label, fn):
    with graph.as_default(), tag_scope(tag, label):
        graph.discard(tag, replaced_by=label)
        return fn()


def layer():
    with tf.variable_scope(None, default_name="dense"):
        w = tf.get_variable("w", [2], initializer=tf.ones_initializer())
    with tf.name_scope("layer"):
        out = tf.multiply(w, 2.0, name="out")
    tf.summary.scalar("out_sum", tf.reduce_sum(out))
    return out


def test_rebuilding_a_tag_gives_the_same_names_and_clean_collections():
    g = tf.Graph()
    build(g, "A", "cell [1]", layer)
    with g.as_default():
        tf.constant(0.0, name="other")
    first = [op.name for op in g.get_operations() if op.tag == "A"]
    build(g, "A", "cell [3]", layer)
    assert [op.name for op in g.get_operations() if op.tag == "A"] == first
    assert [op.name for op in g.get_operations() if op.tag is None] == ["other"]
    with g.as_default():
        assert [v.op.name for v in tf.global_variables()] == ["dense/w"]
        assert len(tf.get_collection(tf.GraphKeys.SUMMARIES)) == 1
    assert {op.origin for op in g.get_operations() if op.tag == "A"} == {"cell [3]"}


def test_names_shared_with_other_owners_stay_taken():
    g = tf.Graph()
    build(g, "A", "cell [1]", lambda: tf.constant(1.0, name="c"))
    build(g, "B", "cell [2]", lambda: tf.constant(1.0, name="c"))
    assert build(g, "B", "cell [3]", lambda: tf.constant(1.0, name="c")).op.name == "c_1"
    assert build(g, "A", "cell [4]", lambda: tf.constant(1.0, name="c")).op.name == "c"
    assert sorted(op.name for op in g.get_operations()) == ["c", "c_1"]


def test_discarded_ops_leave_lookups_and_consumer_lists():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1.0, name="a")
    b = build(g, "B", "cell [2]", lambda: tf.identity(a, name="b"))
    g.discard("B", "cell [5]")
    assert a.consumers() == [] and b.op.retired == "cell [5]"
    with pytest.raises(KeyError):
        g.get_operation_by_name("b")


def test_compiled_plans_survive_a_discard_that_retires_no_op():
    g = tf.Graph()
    x = build(g, "A", "cell [1]", lambda: tf.constant(2.0, name="x") * 3.0)
    with g.as_default(), tf.Session() as sess:
        assert sess.run(x) == 6.0 and sess.plans_built == 1
        g.discard("cell that built nothing", "cell [2]")  # e.g. a cell that only printed
        assert sess.run(x) == 6.0 and sess.plans_built == 1
        y = build(g, "B", "cell [3]", lambda: tf.constant(1.0, name="y"))
        g.discard("B", "cell [4]")  # retires y: plans are rebuilt against the new graph
        assert sess.run(x) == 6.0 and sess.plans_built == 2
    assert y.op.retired == "cell [4]"


def test_stale_tensors_fail_at_construction_and_run_naming_both_owners():
    g = tf.Graph()
    a = build(g, "A", "cell [1]", lambda: tf.constant(1.0, name="a"))
    b = build(g, "B", "cell [2]", lambda: a + 1.0)
    build(g, "A", "cell [3]", lambda: tf.constant(1.0, name="a"))
    with pytest.raises(ValueError, match=r"'a:0' was built by cell \[1\].*replaced by cell \[3\]"):
        with g.as_default():
            a * 2.0
    with tf.Session(graph=g) as sess:
        with pytest.raises(tf.errors.FailedPreconditionError,
                           match=r"'add' \(built by cell \[2\]\).*re-run cell \[2\]"):
            sess.run(b)
        with pytest.raises(tf.errors.FailedPreconditionError, match="stale"):
            sess.run(a)
        with pytest.raises(tf.errors.FailedPreconditionError, match="stale"):
            sess.run(g.get_tensor_by_name("a:0"), {a: 2.0})


def test_stale_control_inputs_are_caught():
    g = tf.Graph()
    a = build(g, "A", "cell [1]", lambda: tf.no_op(name="step"))
    build(g, "A", "cell [2]", lambda: tf.no_op(name="step"))
    with g.as_default(), pytest.raises(ValueError, match="'step' was built by cell \\[1\\]"):
        with tf.control_dependencies([a]):
            tf.constant(1.0)


def test_sessions_keep_values_by_name_and_drop_reshaped_ones():
    g = tf.Graph()
    v = build(g, "A", "cell [1]", lambda: tf.Variable([1.0, 2.0], name="v"))
    sess = tf.Session(graph=g)
    sess.run(v.initializer)
    with g.as_default():
        sess.run(v.assign([5.0, 6.0]))
    v = build(g, "A", "cell [2]", lambda: tf.Variable([1.0, 2.0], name="v"))
    np.testing.assert_array_equal(sess.run(v), [5.0, 6.0])
    v = build(g, "A", "cell [3]", lambda: tf.Variable([1.0, 2.0, 3.0], name="v"))
    with pytest.raises(tf.errors.FailedPreconditionError,
                       match=r"re-created by cell \[3\] with shape \(3,\).*shape \[2\]"):
        sess.run(v)
    sess.run(v.initializer)
    np.testing.assert_array_equal(sess.run(v), [1.0, 2.0, 3.0])


def test_untagged_graphs_behave_as_tf1():
    g = tf.Graph()
    with g.as_default():
        tf.Variable(1.0, name="v")
        tf.Variable(1.0, name="v")
        assert [v.op.name for v in tf.global_variables()] == ["v", "v_1"]
        assert g.discard(None) and g.get_operations() == []


def test_tag_scope_restores_after_errors():
    from tginteractive.framework import graph as graph_module
    with pytest.raises(RuntimeError):
        with tag_scope("X", "cell [9]"):
            raise RuntimeError
    assert graph_module.active_tag == [None, None]


def test_run_events_reach_subscribers_with_values_and_sampled_traces():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [])
        y = x * 2.0
    events = []
    with tf.Session(graph=g) as sess:
        assert not run_events.has_subscribers()
        with run_events.subscribe(events.append, trace_every=2):
            for i in range(3):
                sess.run(y, {x: float(i)})
            sess.make_callable(y, [x])(5.0)
        sess.run(y, {x: 1.0})
    assert [float(e.results[0]) for e in events] == [0.0, 2.0, 4.0, 10.0]
    assert [e.index for e in events] == [0, 1, 2, 3]
    assert [e.dev_stats is not None for e in events] == [True, False, True, False]
    names = {n.node_name for s in events[0].dev_stats for n in s.node_stats}
    assert y.op.name in names
    assert events[0].targets == (y,) and events[0].records and events[0].duration > 0


def test_a_failing_run_event_subscriber_warns_once_and_training_goes_on():
    def bad(event):
        raise ZeroDivisionError("boom")
    with tf.Graph().as_default(), tf.Session() as sess:
        c = tf.constant(1.0)
        with run_events.subscribe(bad):
            with pytest.warns(RuntimeWarning, match="boom"):
                assert sess.run(c) == 1.0
            assert sess.run(c) == 1.0
    with pytest.raises(ValueError):
        run_events.subscribe(print, trace_every=-1)
