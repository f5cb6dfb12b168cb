"""Meta graphs (TF's MetaGraphDef): a Graph's ops, attrs and collections as JSON, and back.

Ops are stored in creation order (topological) with name, type, input tensor names, control
inputs, device, colocation, attrs and output (dtype, shape). Import re-creates each op through
the registry (`graph._create_op(OPS[type], ...)`), so shapes are re-inferred, then merges the
stored shapes (keeping `set_shape` refinements) and checks the dtypes. Attr values are tagged
JSON (`{"tuple": [...]}`, `{"dtype": "float32"}`, `{"ndarray": <np.save bytes, base64>}`, ...);
nothing is ever executed or unpickled (arrays load with `allow_pickle=False`), and an attr
holding anything else (a function, a sub-graph) makes export fail naming the op. Collections
hold Tensors/Operations by name, plain values, and kinds registered with
`register_collection_codec` (train/ registers Variables); other items are skipped, warned.
"""
import base64
import io
import json
import math
import warnings

import numpy as np

from . import dtypes, errors, shapes
from .graph import Operation, Tensor
from .registry import OPS

FORMAT, VERSION = "tginteractive.meta_graph", 1
_CODECS = {}  # collection item kind -> (cls, encode(item, ref), decode(record, resolve))


def register_collection_codec(kind, cls, encode, decode):
    """Store collection items of type `cls` as {kind: encode(item, ref)} (`ref(op_or_tensor)`
    is its stored name); import rebuilds them with `decode(record, resolve)` (`resolve(name)`:
    the imported Tensor "op:0" or Operation "op")."""
    _CODECS[kind] = (cls, encode, decode)


class UnserialisableGraphError(ValueError):
    """An op's attrs hold something a meta graph cannot store (e.g. a Python function)."""


class _OutOfScope(Exception):  # an element outside export_scope was referenced
    pass


class _Corrupt(Exception):  # the document holds something a meta graph cannot
    pass


# ---- attr values ---------------------------------------------------------------------------
def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _array_payload(array):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return _b64(buf.getvalue())


def _float(value):
    return value if math.isfinite(value) else {"float": repr(value)}


_ENCODERS = [  # (type, tag, payload function); order matters (np.float64 is a float)
    (np.ndarray, "ndarray", lambda v, ref: _array_payload(v)),
    (np.generic, "scalar", lambda v, ref: _array_payload(np.asarray(v))),
    (tuple, "tuple", lambda v, ref: [_encode(x, ref) for x in v]),
    (list, "list", lambda v, ref: [_encode(x, ref) for x in v]),
    (dict, "dict", lambda v, ref: [[_encode(k, ref), _encode(x, ref)] for k, x in v.items()]),
    (dtypes.DType, "dtype", lambda v, ref: v.name),
    (shapes.TensorShape, "shape", lambda v, ref: None if v.dims is None else list(v.dims)),
    (shapes.Dimension, "dim", lambda v, ref: v.value),
    (slice, "slice", lambda v, ref: [_encode(x, ref) for x in (v.start, v.stop, v.step)]),
    (type(Ellipsis), "ellipsis", lambda v, ref: None),
    (bytes, "bytes", lambda v, ref: _b64(v)),
    (str, "str", lambda v, ref: str(v)),
    (int, "int", lambda v, ref: int(v)),
    (float, "float", lambda v, ref: repr(float(v))),
    (complex, "complex", lambda v, ref: [_float(v.real), _float(v.imag)]),
    (Tensor, "tensor", lambda v, ref: ref(v)),
    (Operation, "op", lambda v, ref: ref(v)),
]


def _encode(value, ref):
    cls = value.__class__
    if value is None or cls is bool or cls is int or cls is str:
        return value
    if cls is float:
        return _float(value)
    if cls is np.ndarray and value.dtype.hasobject:
        return {"strings": {"shape": list(value.shape),
                            "items": [_encode(x, ref) for x in value.reshape(-1)]}}
    for base, tag, payload in _ENCODERS:
        if isinstance(value, base):
            return {tag: payload(value, ref)}
    raise TypeError(f"a {cls.__module__}.{cls.__qualname__}")


def _load_array(payload):
    if not isinstance(payload, str):
        raise _Corrupt("array payload is not a string")
    array = np.load(io.BytesIO(base64.b64decode(payload, validate=True)), allow_pickle=False)
    if not isinstance(array, np.ndarray):
        raise _Corrupt("array payload is not a single .npy array")
    return array


def _decode_strings(payload, ref):
    items = [_decode(x, ref) for x in _checked_list(payload["items"])]
    if any(not isinstance(x, (bytes, str)) for x in items):
        raise _Corrupt("string array item is not bytes or str")
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(_dims(payload["shape"]))


def _dims(dims):
    if not isinstance(dims, list) or any(d is not None and (type(d) is not int or d < 0)
                                         for d in dims):
        raise _Corrupt(f"bad shape {dims!r:.60}")
    return dims


def _checked_list(payload, n=None):
    if not isinstance(payload, list) or (n is not None and len(payload) != n):
        raise _Corrupt(f"expected a list{'' if n is None else f' of {n}'}, got {payload!r:.60}")
    return payload


_DECODERS = {
    "ndarray": lambda p, ref: _load_array(p),
    "scalar": lambda p, ref: _load_array(p)[()],
    "strings": _decode_strings,
    "tuple": lambda p, ref: tuple(_decode(x, ref) for x in _checked_list(p)),
    "list": lambda p, ref: [_decode(x, ref) for x in _checked_list(p)],
    "dict": lambda p, ref: {_decode(k, ref): _decode(v, ref)
                            for k, v in (_checked_list(i, 2) for i in _checked_list(p))},
    "dtype": lambda p, ref: dtypes.as_dtype(str(p)),
    "shape": lambda p, ref: shapes.TensorShape(None if p is None else _dims(p)),
    "dim": lambda p, ref: shapes.Dimension(p),
    "slice": lambda p, ref: slice(*(_decode(x, ref) for x in _checked_list(p, 3))),
    "ellipsis": lambda p, ref: Ellipsis,
    "bytes": lambda p, ref: base64.b64decode(p, validate=True),
    "str": lambda p, ref: str(p),
    "int": lambda p, ref: int(p),
    "float": lambda p, ref: float(p),
    "complex": lambda p, ref: complex(*(_decode(x, ref) for x in _checked_list(p, 2))),
    "tensor": lambda p, ref: ref("tensor", p),
    "op": lambda p, ref: ref("op", p),
}


def _decode(data, ref):
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, dict) and len(data) == 1:
        (tag, payload), = data.items()
        if tag in _DECODERS:
            return _DECODERS[tag](payload, ref)
    raise _Corrupt(f"unknown value {data!r:.60}")


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
        except (ValueError, TypeError, KeyError, RecursionError, _Corrupt) as e:
            raise _data_loss(source, e) from None
        return cls(doc, source)

    def __str__(self):
        return self.to_bytes(as_text=True).decode("utf-8")


def _data_loss(source, reason):
    return errors.DataLossError(
        None, None, f"Unable to read meta graph {source}: it is corrupted, truncated or not a "
        f"tginteractive meta graph ({type(reason).__name__}: {reason}).")


def _check_document(doc):
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise _Corrupt(f"'format' is not {FORMAT!r} version {VERSION}")
    ops = doc["graph_def"]["ops"]
    if not isinstance(ops, list) or not all(isinstance(r, dict) for r in ops) or \
            not isinstance(doc["collection_def"], dict) or \
            not isinstance(doc["meta_info_def"], dict) or \
            not isinstance(doc.get("saver_def") or {}, dict):
        raise _Corrupt("the top-level fields do not have the types of a meta graph")


_RECORD_TYPES = {"name": str, "type": str, "inputs": list, "control_inputs": list,
                 "device": str, "attrs": dict, "outputs": list}


def _check_record(record):
    for key, kind in _RECORD_TYPES.items():
        if not isinstance(record.get(key), kind):
            raise _Corrupt(f"op record field '{key}' is missing or not a {kind.__name__}")
    if not all(isinstance(x, str) for x in record["inputs"] + record["control_inputs"]):
        raise _Corrupt("op inputs must be names")
    for out in record["outputs"]:
        _checked_list(out, 2)
        dtypes.as_dtype(str(out[0]))
        if out[1] is not None:
            _dims(out[1])


# ---- export --------------------------------------------------------------------------------
class _Namer:
    """Stored names: graph names with `export_scope/` stripped (others are out of scope)."""
    def __init__(self, scope):
        self.prefix = scope.rstrip("/") + "/" if scope else ""

    def name(self, name):
        if not name.startswith(self.prefix):
            raise _OutOfScope(name)
        return name[len(self.prefix):]

    def __call__(self, item):
        return self.name(item.name)


def export_meta_graph(graph, meta_info_def=None, saver_def=None, collection_list=None,
                      export_scope=None, clear_devices=False):
    """A MetaGraphDef of `graph` (ops under `export_scope` only, that prefix stripped)."""
    namer = _Namer(export_scope)
    ops = [op for op in graph.get_operations() if op.name.startswith(namer.prefix)]
    info = {"meta_graph_version": "", "tags": [], "any_info": None,
            "stripped_op_list": sorted({op.type for op in ops})}
    info.update(meta_info_def or {})
    data = {"format": FORMAT, "version": VERSION, "meta_info_def": info,
            "graph_def": {"ops": [_op_record(op, namer, clear_devices) for op in ops]},
            "saver_def": saver_def,
            "collection_def": _export_collections(graph, collection_list, namer)}
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"meta_info_def and saver_def must hold only JSON values: {e}") from None
    return MetaGraphDef(data)


def _op_record(op, namer, clear_devices):
    try:
        return {"name": namer.name(op.name), "type": op.type,
                "inputs": [namer(t) for t in op.inputs],
                "control_inputs": [namer(c) for c in op.control_inputs],
                "device": "" if clear_devices else op.device,
                "colocation": None if op.colocation is None else namer(op.colocation),
                "attrs": _export_attrs(op, namer),
                "outputs": [[t.dtype.name, None if t.shape.dims is None else list(t.shape.dims)]
                            for t in op.outputs],
                "site": list(op.site) if op.site else None}
    except _OutOfScope as e:
        raise ValueError(f"Cannot export op {op.describe()} with export_scope "
                         f"'{namer.prefix[:-1]}': it refers to '{e}', which is outside that "
                         "scope.") from None


def _export_attrs(op, namer):
    attrs = {}
    for key, value in op.attrs.items():
        try:
            attrs[key] = _encode(value, namer)
        except TypeError as e:
            raise UnserialisableGraphError(
                f"Cannot export op {op.describe()}: attr '{key}' holds {e}, which a meta graph "
                "cannot store (it stores numbers, strings, dtypes, shapes, arrays, slices, "
                "tensors and tuples/lists/dicts of them). Save the variables without the graph "
                "instead: saver.save(sess, path, write_meta_graph=False).") from None
    return attrs


def _export_collections(graph, collection_list, namer):
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    out = {}
    for key in (k for k in keys if isinstance(k, str)):  # TF's collection keys are strings
        items = [_collection_record(key, item, namer) for item in graph.get_collection(key)]
        items = [record for record in items if record is not None]
        if items:
            out[key] = items
    return out


def _collection_record(key, item, namer):
    try:
        if isinstance(item, Tensor):
            return {"tensor": namer(item)}
        if isinstance(item, Operation):
            return {"op": namer(item)}
        for kind, (cls, encode, _) in _CODECS.items():
            if isinstance(item, cls):
                return {kind: encode(item, namer)}
        return {"value": _encode(item, namer)}
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


class Import:
    """One import. Afterwards `ops` maps stored op names to the new Operations, `items` maps
    collection item kinds ("variable", ...) to {record: object}, `rename` maps names."""

    def __init__(self, meta, graph, import_scope, clear_devices, input_map):
        self.meta, self.graph, self.clear_devices = meta, graph, clear_devices
        self.saver_def = meta.saver_def
        self.prefix = import_scope.rstrip("/") + "/" if import_scope else ""
        self.input_map = {(k if ":" in k else k + ":0"): v for k, v in (input_map or {}).items()}
        self.ops, self.items = {}, {}

    def rename(self, name):
        """The new graph name of a stored op ("w") or tensor ("w:0") name."""
        op_name, sep, index = name.rpartition(":")
        return f"{self.ops[op_name].name}:{index}" if sep else self.ops[name].name

    def run(self):
        g, records = self.graph, self.meta.graph_def["ops"]
        with g.name_scope(None), g.control_dependencies(None), g.device(None):
            for index, record in enumerate(records):
                self._create(index, record)
            for index, record in enumerate(records):
                self._decoding(f"op #{index}", record, self._link)
        for key, items in self.meta.collection_def.items():
            self._decoding(f"collection '{key}'", items, lambda items: self._collection(key, items))
        return self

    def _decoding(self, where, record, step):
        """Run `step(record)`; malformed content is a DataLossError naming the file."""
        try:
            return step(record)
        except _Unregistered:
            raise
        except Exception as e:  # noqa: BLE001 - any failure to decode means a bad document
            raise _data_loss(self.meta.source, f"{where}: {type(e).__name__}: {e}") from e

    def _create(self, index, record):
        op_def, inputs, attrs = self._decoding(f"op #{index}", record, self._decode_op)
        full = self.prefix + record["name"]
        name = self.graph.unique_name(full)
        while name in self.graph._by_name:
            name = self.graph.unique_name(full)
        try:
            op = self.graph._create_op(op_def, inputs, attrs, name + "/", op_def._output_specs)
            _check_outputs(op, record["outputs"])
        except ValueError as e:
            raise ValueError(f"Cannot import op '{record['name']}' ({record['type']}) from "
                             f"{self.meta.source}: {e}") from None
        op.device = "" if self.clear_devices else record["device"]
        site = record.get("site")
        if isinstance(site, list) and [type(x) for x in site] == [str, int, str]:
            op.site = tuple(site)
        self.ops[record["name"]] = op

    def _decode_op(self, record):
        _check_record(record)
        op_def = OPS.get(record["type"])
        if op_def is None:
            raise _Unregistered(f"No op named {record['type']} in defined operations (needed by "
                                f"'{record['name']}' in {self.meta.source}). Import the module "
                                "that registers it before importing the meta graph.")
        inputs = [self.input_map[name] if name in self.input_map else self._ref("tensor", name)
                  for name in record["inputs"]]
        attrs = {key: _decode(value, self._ref) for key, value in record["attrs"].items()}
        return op_def, inputs, attrs

    def _link(self, record):
        op = self.ops[record["name"]]
        for name in record["control_inputs"]:
            op._add_control_input(self._ref("op", name))
        if record.get("colocation") is not None:
            op.colocation = self._ref("op", record["colocation"])

    def _ref(self, kind, name):
        """The imported Operation ("op") or Tensor ("tensor") a stored name refers to."""
        op_name, _, index = str(name).rpartition(":") if kind == "tensor" else (name, "", "0")
        if not isinstance(op_name, str) or op_name not in self.ops:
            raise _Corrupt(f"'{name!s:.60}' names no imported op")
        op = self.ops[op_name]
        if kind == "op":
            return op
        if not index.isdigit() or int(index) >= len(op.outputs):
            raise _Corrupt(f"'{name}' names no output of '{op_name}'")
        return op.outputs[int(index)]

    def _collection(self, key, items):
        for item in _checked_list(items):
            if not isinstance(item, dict) or len(item) != 1:
                raise _Corrupt(f"bad collection item {item!r:.60}")
            (kind, payload), = item.items()
            value = self._collection_item(key, kind, payload)
            if value is not _SKIP:
                self.graph.add_to_collection(key, value)

    def _collection_item(self, key, kind, payload):
        if kind in ("tensor", "op"):
            return self._ref(kind, payload)
        if kind == "value":
            return _decode(payload, self._ref)
        if kind not in _CODECS:
            warnings.warn(f"Collection '{key}': skipping an item of unknown kind '{kind}' from "
                          f"{self.meta.source}.", stacklevel=6)
            return _SKIP
        cache = self.items.setdefault(kind, {})
        record_key = json.dumps(payload, sort_keys=True)
        if record_key not in cache:
            cache[record_key] = _CODECS[kind][2](
                payload, lambda name: self._ref("tensor" if ":" in name else "op", name))
        return cache[record_key]


_SKIP = object()


class _Unregistered(ValueError):  # the document names an op type nobody registered
    pass


def _check_outputs(op, stored):
    if len(stored) != len(op.outputs):
        raise ValueError(f"re-created op has {len(op.outputs)} outputs, the meta graph lists "
                         f"{len(stored)}")
    for tensor, (dtype, dims) in zip(op.outputs, stored):
        if tensor.dtype is not dtypes.as_dtype(str(dtype)):
            raise ValueError(f"'{tensor.name}' re-inferred as {tensor.dtype.name}, the meta graph "
                             f"says {dtype}")
        tensor.set_shape(shapes.TensorShape(dims))
