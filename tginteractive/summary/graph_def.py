"""A Graph as a `GraphDef` proto (TF's `Graph.as_graph_def`), on `tensorboard`'s protos.

Every op becomes one NodeDef, in creation order: `name` (name-scoped, so TensorBoard groups
scopes), `op` (the op type), `input` in TF's spelling ("x" for output 0, "x:1", "^ctrl" for
a control input, left out as in TF where ctrl is also a data input), `device` (the requested
device, "/device:GPU:0"), and the attrs an AttrValue can represent: dtypes as `type` enums,
TensorShapes as shapes, bools, ints, floats, strings, homogeneous lists of these, NumPy
arrays as TensorProtos (Const's `value`). As TF does, `T` is the dtype of input 0 where the
op has no `T` of its own, and a colocated op gets `_class: ["loc:@other"]`.
`add_shapes=True` adds `_output_shapes` (one TensorShapeProto per output, unknown dims -1,
unknown rank `unknown_rank`), which TensorBoard draws on the edges.

Attrs nothing in a GraphDef can hold are left out: the traced bodies of tf.cond/tf.while_loop
(their ops live in nested graphs; the If/While node itself is exported, its sub-graphs are
not), Python slices of strided slices, tensors named in attrs, None.

`tensorboard` is imported lazily (only when a GraphDef is built): `import tginteractive` must
not import it. Importing this module installs `Graph.as_graph_def`.
"""
import numpy as np

from ..framework import dtypes, shapes
from ..framework.graph import Graph

_SPECIAL_TYPES = {"float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE"}


def protos():
    """The tensorboard proto modules, or ImportError with the command that installs them."""
    try:
        from tensorboard.compat.proto import (attr_value_pb2, graph_pb2, node_def_pb2,
                                              tensor_pb2, tensor_shape_pb2, types_pb2)
    except ImportError as e:
        raise ImportError("TensorBoard files need the `tensorboard` package, which is not "
                          "installed: pip install tensorboard") from e
    return attr_value_pb2, graph_pb2, node_def_pb2, tensor_pb2, tensor_shape_pb2, types_pb2


# ---- values ---------------------------------------------------------------------------------
def dtype_enum(dtype):
    """The `types_pb2.DataType` number of a DType (or NumPy dtype), or None if it has none."""
    types_pb2 = protos()[5]
    try:
        name = dtypes.as_dtype(dtype).name if not isinstance(dtype, dtypes.DType) else dtype.name
    except (TypeError, ValueError, KeyError):
        return None
    key = _SPECIAL_TYPES.get(name, "DT_" + name.upper())
    return types_pb2.DataType.Value(key) if key in types_pb2.DataType.keys() else None


def shape_proto(shape):
    """A TensorShapeProto: unknown dims are -1, an unknown rank sets `unknown_rank`."""
    tensor_shape_pb2 = protos()[4]
    shape = shape if isinstance(shape, shapes.TensorShape) else shapes.as_shape(shape)
    if shape.dims is None:
        return tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
    return tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=-1 if d is None else d)
             for d in shape.dims])


def tensor_proto(value):
    """A TensorProto of a NumPy value: bytes in `tensor_content`, strings in `string_val`."""
    tensor_pb2 = protos()[3]
    array = np.asarray(value)
    if array.dtype.kind in "OSU":
        items = [s.encode() if isinstance(s, str) else bytes(s) for s in array.reshape(-1)]
        return tensor_pb2.TensorProto(dtype=dtype_enum(dtypes.string),
                                      tensor_shape=shape_proto(array.shape), string_val=items)
    enum = dtype_enum(array.dtype)
    if enum is None:
        return None
    content = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()  # C order
    return tensor_pb2.TensorProto(dtype=enum, tensor_shape=shape_proto(array.shape),
                                  tensor_content=content)


def _scalar_field(value):
    """(field, proto value) for one attr value, or None when an AttrValue cannot hold it."""
    if isinstance(value, (bool, np.bool_)):
        return "b", bool(value)
    if isinstance(value, (int, np.integer)):
        return "i", int(value)
    if isinstance(value, (float, np.floating)):
        return "f", float(value)
    if isinstance(value, str):
        return "s", value.encode()
    if isinstance(value, bytes):
        return "s", value
    if isinstance(value, dtypes.DType):
        enum = dtype_enum(value)
        return None if enum is None else ("type", enum)
    if isinstance(value, shapes.TensorShape):
        return "shape", shape_proto(value)
    return None


def attr_value(value):
    """An AttrValue for an op attr, or None when a GraphDef cannot represent it."""
    attr_value_pb2 = protos()[0]
    if isinstance(value, np.ndarray):
        tensor = tensor_proto(value)
        return None if tensor is None else attr_value_pb2.AttrValue(tensor=tensor)
    if isinstance(value, (list, tuple)):
        return _list_value(value)
    field = _scalar_field(value)
    return None if field is None else attr_value_pb2.AttrValue(**{field[0]: field[1]})


def _list_value(values):
    attr_value_pb2 = protos()[0]
    fields = [_scalar_field(v) for v in values]
    kinds = {f[0] for f in fields if f is not None}
    if None in fields or len(kinds) > 1:  # e.g. slices, tensors, or ints mixed with strings
        return None
    out = attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue())
    if kinds:
        getattr(out.list, kinds.pop()).extend(f[1] for f in fields)
    return out


# ---- nodes ----------------------------------------------------------------------------------
def input_name(tensor):
    """TF's spelling of an input: "op" for output 0, "op:i" otherwise."""
    return tensor.op.name if tensor.value_index == 0 else f"{tensor.op.name}:{tensor.value_index}"


def node_def(op, add_shapes=False):
    """The NodeDef of one Operation."""
    attr_value_pb2, node_def_pb2 = protos()[0], protos()[2]
    node = node_def_pb2.NodeDef(name=op.name, op=op.type, device=op.device or "")
    node.input.extend(input_name(t) for t in op.inputs)
    data_ops = {t.op for t in op.inputs}  # as TF: no "^x" next to a data input from x
    node.input.extend("^" + c.name for c in op.control_inputs if c not in data_ops)
    for key, value in sorted(op.attrs.items()):
        converted = attr_value(value)
        if converted is not None:
            node.attr[key].CopyFrom(converted)
    if op.inputs and "T" not in op.attrs:
        enum = dtype_enum(op.inputs[0].dtype)
        if enum is not None:
            node.attr["T"].type = enum
    if op.colocation is not None and op.colocation is not op:
        node.attr["_class"].CopyFrom(attr_value_pb2.AttrValue(
            list=attr_value_pb2.AttrValue.ListValue(s=[b"loc:@" + op.colocation.name.encode()])))
    if add_shapes:
        node.attr["_output_shapes"].list.shape.extend(shape_proto(t.shape) for t in op.outputs)
    return node


def graph_to_graph_def(graph, from_version=None, add_shapes=False):
    """A `graph_pb2.GraphDef` of `graph`: its ops in creation (topological) order.

    from_version: only the ops created after the op whose creation id it is. (TF's
    `graph.version` is that id of the newest op; this Graph's `version` also counts other
    edits, e.g. collections, so here take `graph.get_operations()[-1]._id` instead.)"""
    graph_pb2 = protos()[1]
    out = graph_pb2.GraphDef()
    for op in graph.get_operations():
        if from_version is None or op._id > from_version:
            out.node.append(node_def(op, add_shapes))
    return out


def _as_graph_def(self, from_version=None, add_shapes=False):
    """This graph as a `GraphDef` protocol buffer (TensorBoard's `graph_pb2.GraphDef`).

    add_shapes: also record each op's static output shapes in `_output_shapes`."""
    return graph_to_graph_def(self, from_version, add_shapes)


Graph.as_graph_def = _as_graph_def
