"""Graph.as_graph_def: a GraphDef proto (tensorboard's graph_pb2) spelled as TF spells it."""
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tginteractive as tf

pytest.importorskip("tensorboard", reason="GraphDef protos come from the tensorboard package")
from tensorboard.compat.proto import graph_pb2, types_pb2  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

import tginteractive.summary.graph_def  # noqa: E402,F401 - installs Graph.as_graph_def

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _nodes(graph, add_shapes=True):
    return {n.name: n for n in graph.as_graph_def(add_shapes=add_shapes).node}


def _dims(shape_proto):
    return None if shape_proto.unknown_rank else [d.size for d in shape_proto.dim]


def _small_graph():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        with tf.name_scope("layer"), tf.device("/gpu:1"):
            w = tf.Variable(tf.zeros([3, 2]), name="W")
            y = tf.nn.relu(tf.matmul(x, w, transpose_b=False))
        with tf.control_dependencies([y]):
            z = tf.identity(x, name="z")
        parts = tf.split(x, [1, 2], axis=1, name="split")
        tf.add(parts[1], 1.0, name="second")
        tf.constant(["a", "bc"], name="s")
        tf.constant([[1, 2], [3, 4]], name="c")
        tf.constant(True, name="flag")
    return graph, z


def test_nodes_have_names_types_devices_and_inputs_as_tf_spells_them():
    graph, _ = _small_graph()
    proto = graph.as_graph_def()
    assert isinstance(proto, graph_pb2.GraphDef)
    assert [n.name for n in proto.node] == [op.name for op in graph.get_operations()]
    nodes = _nodes(graph)
    assert nodes["x"].op == "Placeholder" and nodes["x"].device == ""
    assert nodes["layer/MatMul"].op == "MatMul"
    assert list(nodes["layer/MatMul"].input) == ["x", "layer/W/read"]
    assert nodes["layer/MatMul"].device == "/device:GPU:1"
    assert list(nodes["z"].input) == ["x", "^layer/Relu"]
    assert nodes["second"].input[0] == "split:1"


def test_a_control_input_that_is_also_a_data_input_is_left_out_as_in_tf():
    graph = tf.Graph()
    with graph.as_default():
        y = tf.nn.relu(tf.placeholder(tf.float32, name="x"))
        with tf.control_dependencies([y]):
            tf.identity(y, name="z")
    assert list(_nodes(graph)["z"].input) == ["Relu"]


def test_attrs_become_attr_values():
    graph, _ = _small_graph()
    nodes = _nodes(graph)
    assert nodes["x"].attr["dtype"].type == types_pb2.DT_FLOAT
    assert _dims(nodes["x"].attr["shape"].shape) == [-1, 3]
    matmul = nodes["layer/MatMul"].attr
    assert matmul["T"].type == types_pb2.DT_FLOAT
    assert matmul["transpose_a"].b is False and matmul["transpose_b"].b is False
    assert nodes["split"].attr["T"].type == types_pb2.DT_FLOAT
    assert nodes["layer/W/Assign"].attr["validate_shape"].b is True


@pytest.mark.parametrize("name, expected", [
    ("c", np.array([[1, 2], [3, 4]], np.int32)),
    ("s", np.array([b"a", b"bc"], object)),
    ("flag", np.array(True)),
    ("layer/zeros", np.zeros([3, 2], np.float32)),
])
def test_const_values_are_tensor_protos(name, expected):
    graph, _ = _small_graph()
    node = _nodes(graph)[name]
    value = tensor_util.make_ndarray(node.attr["value"].tensor)
    assert value.dtype == expected.dtype and value.shape == expected.shape
    assert value.tolist() == expected.tolist()
    assert node.attr["dtype"].type == node.attr["value"].tensor.dtype


def test_output_shapes_only_with_add_shapes():
    graph, _ = _small_graph()
    assert "_output_shapes" not in _nodes(graph, add_shapes=False)["x"].attr
    nodes = _nodes(graph, add_shapes=True)
    assert [_dims(s) for s in nodes["x"].attr["_output_shapes"].list.shape] == [[-1, 3]]
    assert [_dims(s) for s in nodes["split"].attr["_output_shapes"].list.shape] == \
        [[-1, 1], [-1, 2]]
    assert [_dims(s) for s in nodes["c"].attr["_output_shapes"].list.shape] == [[2, 2]]
    with graph.as_default():
        tf.placeholder(tf.float32, None, name="anything")
    assert [_dims(s) for s in _nodes(graph)["anything"].attr["_output_shapes"].list.shape] == \
        [None]


def test_colocated_ops_carry_the_class_attr():
    graph, _ = _small_graph()
    assert list(_nodes(graph)["layer/W/read"].attr["_class"].list.s) == [b"loc:@layer/W"]


def test_from_version_keeps_only_newer_ops():
    graph, _ = _small_graph()
    last = graph.get_operations()[-1]._id
    with graph.as_default():
        tf.constant(1.0, name="later")
    assert [n.name for n in graph.as_graph_def(from_version=last).node] == ["later"]


def test_control_flow_ops_are_exported_without_their_bodies():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        tf.cond(x > 0, lambda: x * 2.0, lambda: x - 1.0, name="cond")
        tf.while_loop(lambda i: i < 10, lambda i: i + 1, [tf.constant(0)], name="while")
    nodes = _nodes(graph)
    types = {n.op for n in nodes.values()}
    assert {"If", "While"} <= types
    node = next(n for n in nodes.values() if n.op == "If")
    assert "then_branch" not in node.attr and "_output_shapes" in node.attr


def _spec_graphs():
    from tests.ops.harness import _placeholders
    from tests.ops.test_registry import collected
    for spec in collected()[0]:
        graph = tf.Graph()
        with graph.as_default():
            spec.build(*_placeholders(spec.inputs, True))
        yield spec, graph


def _droppable(value):
    """Attrs a GraphDef cannot hold: traced bodies (Branch), "all axes" (None), nested tuples
    (strided-slice specs, while-gradient specs)."""
    if isinstance(value, tuple):
        return any(isinstance(v, tuple) for v in value)
    return value is None or type(value).__name__ == "Branch"


def test_every_op_of_every_spec_exports():
    for spec, graph in _spec_graphs():
        ops, proto = graph.get_operations(), graph.as_graph_def(add_shapes=True)
        assert [n.name for n in proto.node] == [op.name for op in ops], spec
        for op, node in zip(ops, proto.node):
            assert node.op == op.type
            assert len(node.attr["_output_shapes"].list.shape) == len(op.outputs), op.name
            dropped = {k: v for k, v in op.attrs.items() if k not in node.attr}
            assert all(map(_droppable, dropped.values())), (spec, op.name, dropped)


def test_gradient_and_optimizer_graphs_export():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        w = tf.Variable(tf.random_normal([3, 1]), name="w")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)))
        tf.train.AdamOptimizer(0.1).minimize(loss)
    names = [n.name for n in graph.as_graph_def(add_shapes=True).node]
    assert any(n.startswith("gradients/") for n in names) and "w/Adam" in names


def test_importing_tginteractive_and_the_summary_modules_does_not_import_tensorboard():
    code = ("import sys, tginteractive, tginteractive.summary.writer, "
            "tginteractive.summary.events, tginteractive.summary.graph_def; "
            "print('tensorboard' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(ROOT))
    assert out.stdout.strip() == "False"
