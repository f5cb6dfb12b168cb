"""Comparing two graphs after a meta graph round trip, bodies of tf.cond/tf.while_loop included,
and running both."""
import numpy as np

import tginteractive as tf
from tginteractive.framework import meta_graph
from tginteractive.framework.function_graph import Branch


def _same_value(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
                and (np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
                     if a.dtype.kind != "O" else a.tolist() == b.tolist()))
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same_value, a, b))
    if isinstance(a, dict):
        return type(a) is type(b) and a.keys() == b.keys() and \
            all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, (tf.Tensor, tf.Operation)):
        return type(a) is type(b) and a.name == b.name
    if isinstance(a, Branch):
        return type(b) is Branch and _same_branch(a, b)
    if isinstance(a, float) and np.isnan(a):
        return type(b) is type(a) and np.isnan(b)
    return type(a) is type(b) and a == b


def _names(items):
    return [x.name for x in items]


def _same_branch(a, b):
    """Same body graph, same place among its regions, same tensors, same recording state."""
    assert_same_graph(a.graph, b.graph)
    fa, fb = a.graph, b.graph
    assert fa._scope == fb._scope and fa.sealed and fb.sealed
    assert _names(fa.captured) == _names(fb.captured)
    assert _names(fa._inner[t] for t in fa.captured) == _names(fb._inner[t] for t in fb.captured)
    assert _names(fa.outer_controls) == _names(fb.outer_controls)
    assert fa.regions.index(a) == fb.regions.index(b)
    for attr in ("inputs", "outputs", "saved", "feeds"):
        assert _names(getattr(a, attr)) == _names(getattr(b, attr)), attr
    assert a.fed == b.fed and a.record == b.record
    before = [[op.name for op in branch.graph.get_operations() if op._id <= branch.start]
              for branch in (a, b)]
    assert before[0] == before[1]
    return True


def assert_same_graph(g1, g2):
    ops1, ops2 = g1.get_operations(), g2.get_operations()
    assert [o.name for o in ops1] == [o.name for o in ops2]
    for a, b in zip(ops1, ops2):
        assert a.type == b.type and a.device == b.device, a.name
        assert [t.name for t in a.inputs] == [t.name for t in b.inputs], a.name
        assert [c.name for c in a.control_inputs] == [c.name for c in b.control_inputs], a.name
        assert a.attrs.keys() == b.attrs.keys(), a.name
        for key in a.attrs:
            assert _same_value(a.attrs[key], b.attrs[key]), (a.name, key, a.attrs[key])
        assert [(t.dtype, t.shape) for t in a.outputs] == [(t.dtype, t.shape) for t in b.outputs]
        assert (a.colocation and a.colocation.name) == (b.colocation and b.colocation.name)


def roundtrip(graph):
    """Export `graph` through bytes and import it into a fresh graph (without the Saver that
    tf.train.import_meta_graph adds, like TF, when there are variables but no saver_def)."""
    data = tf.train.export_meta_graph(graph=graph).to_bytes()
    meta = meta_graph.MetaGraphDef.from_bytes(data, source="<test>")
    new = tf.Graph()
    meta_graph.import_meta_graph(meta, new)
    return new


def run_by_name(graph, fetch_names, feed_by_name):
    with tf.Session(graph=graph) as sess:
        return sess.run(fetch_names, {graph.get_tensor_by_name(k): v
                                      for k, v in feed_by_name.items()})


def assert_same_results(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        if x.dtype.kind == "O":
            assert x.tolist() == y.tolist()
        else:
            np.testing.assert_array_equal(x, y)
