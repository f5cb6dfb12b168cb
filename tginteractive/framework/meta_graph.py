"""Meta graphs (TF's MetaGraphDef): a Graph's ops, attrs and collections as JSON, and back.

Ops are stored in creation order (topological) with name, type, input tensor names, control
inputs, device, colocation, attrs and output (dtype, shape). Import (meta_graph_import.py)
re-creates each op through the registry (`graph._create_op(OPS[type], ...)`), so shapes are
re-inferred, then merges the stored shapes (keeping `set_shape` refinements) and checks the
dtypes. Attr values are tagged JSON (meta_graph_attrs.py); nothing is ever executed or
unpickled, and an attr holding anything else (a function, ...) makes export fail naming the op.

Graphs nested in the exported one (the bodies of tf.cond/tf.while_loop, kept in op attrs) go
to `graph_def.functions`, one record each: {"kind", "outer" (index of the enclosing nested
graph, or null), "ops" (op records, inputs named within that graph), "state" (written by the
kind's graph codec)}. Attrs and states name tensors of nested graph `i` as `[i, "name:0"]`.

Collections hold Tensors/Operations by name, plain values, and kinds registered with
`register_collection_codec` (train/ registers Variables); other items are skipped, warned.
"""
import json
import warnings

from .graph import Operation, Tensor
from .meta_graph_attrs import COLLECTION_CODECS, Corrupt, encode, graph_codec
from .meta_graph_attrs import register_collection_codec  # noqa: F401 - public here too
from .meta_graph_import import FORMAT, VERSION, Import, data_loss


class UnserialisableGraphError(ValueError):
    """An op's attrs hold something a meta graph cannot store (e.g. a Python function)."""


class _OutOfScope(Exception):  # an element outside export_scope was referenced
    pass


# ---- the document --------------------------------------------------------------------------
class MetaGraphDef:
    """A meta graph in memory (TF's MetaGraphDef, as a JSON-ready dict in `.data`)."""

    def __init__(self, data, source="<MetaGraphDef>"):
        self.data, self.source = data, source

    meta_info_def = property(lambda self: self.data["meta_info_def"])
    graph_def = property(lambda self: self.data["graph_def"])
    saver_def = property(lambda self: self.data.get("saver_def"))
    collection_def = property(lambda self: self.data["collection_def"])

    def HasField(self, name):  # noqa: N802 - proto API
        return bool(self.data.get(name))

    def to_bytes(self, as_text=False):
        return json.dumps(self.data, indent=1 if as_text else None, allow_nan=False,
                          separators=None if as_text else (",", ":")).encode("utf-8")

    SerializeToString = to_bytes

    @classmethod
    def from_bytes(cls, data, source="<bytes>"):
        """Parse and check a document; anything malformed is a DataLossError naming `source`."""
        try:
            doc = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
            _check_document(doc)
        except (ValueError, TypeError, KeyError, RecursionError, Corrupt) as e:
            raise data_loss(source, e) from None
        return cls(doc, source)

    def __str__(self):
        return self.to_bytes(as_text=True).decode("utf-8")


def _check_document(doc):
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise Corrupt(f"'format' is not {FORMAT!r} version {VERSION}")
    ops, functions = doc["graph_def"]["ops"], doc["graph_def"].get("functions", [])
    if not isinstance(ops, list) or not all(isinstance(r, dict) for r in ops) or \
            not isinstance(functions, list) or \
            not all(isinstance(f, dict) and isinstance(f.get("ops"), list) for f in functions) or \
            not isinstance(doc["collection_def"], dict) or \
            not isinstance(doc["meta_info_def"], dict) or \
            not isinstance(doc.get("saver_def") or {}, dict):
        raise Corrupt("the top-level fields do not have the types of a meta graph")


# ---- export --------------------------------------------------------------------------------
class _Writer:
    """One export: stored names (`export_scope/` stripped) and the nested graphs it met."""

    def __init__(self, graph, scope, clear_devices):
        self.root, self.clear_devices = graph, clear_devices
        self.prefix = scope.rstrip("/") + "/" if scope else ""
        self.nested, self._index = [], {graph: None}

    def name(self, item):
        """The stored name of a Tensor/Operation. Outside export_scope, only ops of nested
        graphs keep their names (e.g. gradients built outside the scope)."""
        if item.name.startswith(self.prefix):
            return item.name[len(self.prefix):]
        if item.graph is self.root:
            raise _OutOfScope(item.name)
        return item.name

    def ref(self, item):
        index = self.graph_index(item.graph)
        return self.name(item) if index is None else [index, self.name(item)]

    def graph_index(self, graph):
        """The index of nested graph `graph` in graph_def.functions (None: the exported one)."""
        if graph not in self._index:
            graph_codec(graph)  # TypeError if it is not a kind of nested graph
            outer = graph
            while outer is not None and outer is not self.root:
                outer = getattr(outer, "outer_graph", None)
            if outer is None:
                raise TypeError(f"a {type(graph).__name__} nested in another Graph")
            self._index[graph] = len(self.nested)
            self.nested.append(graph)
        return self._index[graph]

    def value(self, value):
        return encode(value, self)

    def op_record(self, op):
        try:
            return {"name": self.name(op), "type": op.type,
                    "inputs": [self.name(t) for t in op.inputs],
                    "control_inputs": [self.name(c) for c in op.control_inputs],
                    "device": "" if self.clear_devices else op.device,
                    "colocation": None if op.colocation is None else self.name(op.colocation),
                    "attrs": {key: self._attr(op, key, value) for key, value in op.attrs.items()},
                    "outputs": [[t.dtype.name, None if t.shape.dims is None else
                                 list(t.shape.dims)] for t in op.outputs],
                    "site": list(op.site) if op.site else None}
        except _OutOfScope as e:
            raise ValueError(f"Cannot export op {op.describe()} with export_scope "
                             f"'{self.prefix[:-1]}': it refers to '{e}', which is outside that "
                             "scope.") from None

    def _attr(self, op, key, value):
        try:
            return encode(value, self)
        except TypeError as e:
            raise UnserialisableGraphError(
                f"Cannot export op {op.describe()}: attr '{key}' holds {e}, which a meta graph "
                "cannot store (it stores numbers, strings, dtypes, shapes, arrays, slices, "
                "tensors, tuples/lists/dicts of them, and the bodies of tf.cond/tf.while_loop). "
                "Save the variables without the graph instead: "
                "saver.save(sess, path, write_meta_graph=False).") from None

    def functions(self):
        """Records of the nested graphs met so far, and of those their records meet."""
        out = []
        while len(out) < len(self.nested):
            graph = self.nested[len(out)]
            kind, state, _, _ = graph_codec(graph)
            out.append({"kind": kind, "outer": self.graph_index(graph.outer_graph),
                        "ops": [self.op_record(op) for op in graph.get_operations()]})
            try:
                out[-1]["state"] = state(graph, self)
            except (_OutOfScope, TypeError) as e:
                raise ValueError(f"Cannot export the body '{getattr(graph, '_scope', '?')}' "
                                 f"({kind}): it refers to {e}.") from None
        return out


def export_meta_graph(graph, meta_info_def=None, saver_def=None, collection_list=None,
                      export_scope=None, clear_devices=False):
    """A MetaGraphDef of `graph` (ops under `export_scope` only, that prefix stripped)."""
    writer = _Writer(graph, export_scope, clear_devices)
    ops = [writer.op_record(op) for op in graph.get_operations()
           if op.name.startswith(writer.prefix)]
    collections = _export_collections(graph, collection_list, writer)
    functions = writer.functions()
    info = {"meta_graph_version": "", "tags": [], "any_info": None,
            "stripped_op_list": sorted({r["type"] for f in [{"ops": ops}] + functions
                                        for r in f["ops"]})}
    info.update(meta_info_def or {})
    graph_def = {"ops": ops, "functions": functions} if functions else {"ops": ops}
    data = {"format": FORMAT, "version": VERSION, "meta_info_def": info,
            "graph_def": graph_def, "saver_def": saver_def, "collection_def": collections}
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"meta_info_def and saver_def must hold only JSON values: {e}") from None
    return MetaGraphDef(data)


def _export_collections(graph, collection_list, writer):
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    out = {}
    for key in (k for k in keys if isinstance(k, str)):  # TF's collection keys are strings
        items = [_collection_record(key, item, writer) for item in graph.get_collection(key)]
        items = [record for record in items if record is not None]
        if items:
            out[key] = items
    return out


def _collection_record(key, item, writer):
    try:
        if isinstance(item, Tensor):
            return {"tensor": writer.ref(item)}
        if isinstance(item, Operation):
            return {"op": writer.ref(item)}
        for kind, (cls, encode_item, _) in COLLECTION_CODECS.items():
            if isinstance(item, cls):
                return {kind: encode_item(item, writer.ref)}
        return {"value": encode(item, writer)}
    except _OutOfScope:
        return None  # items outside export_scope are left out, as in TF
    except (TypeError, AttributeError):
        warnings.warn(f"Collection '{key}': skipping {type(item).__name__} item {item!r:.60}: "
                      "it cannot be stored in a meta graph.", stacklevel=4)
        return None


# ---- import --------------------------------------------------------------------------------
def import_meta_graph(meta_graph, graph, import_scope=None, clear_devices=False,
                      input_map=None):
    """Re-create the ops and collections of `meta_graph` in `graph`; returns the Import."""
    return Import(meta_graph, graph, import_scope, clear_devices, input_map).run()
