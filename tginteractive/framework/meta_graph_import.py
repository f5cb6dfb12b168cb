"""Importing a meta graph (see framework/meta_graph.py): ops, nested graphs, collections.

Ops are re-created in their stored order. A nested graph (a tf.cond/tf.while_loop body) is
imported whole the first time something refers to it (an op attr, another nested graph, a
collection): its graph codec makes it empty inside its enclosing graph, its ops are imported,
then the codec restores its state. Its bodies' ops only ever read tensors of their own graph,
and everything its state names in enclosing graphs was created before the first op that
refers to it, so one pass in stored order suffices. An op of a nested graph stored under the
same name as an op of the enclosing graph (a variable mirrored by name) gets that op's new
name. Anything malformed is a DataLossError naming the file.
"""
import contextlib
import functools
import json
import warnings

from . import errors, shapes
from .graph import Graph
from .meta_graph_attrs import (COLLECTION_CODECS, Corrupt, checked_dims, checked_list, decode,
                               dtype_named, graph_codec_named)
from .registry import OPS

FORMAT, VERSION = "tginteractive.meta_graph", 1
_SKIP = object()


def data_loss(source, reason):
    return errors.DataLossError(
        None, None, f"Unable to read meta graph {source}: it is corrupted, truncated or not a "
        f"tginteractive meta graph ({type(reason).__name__}: {reason}).")


class _Unregistered(ValueError):  # the document names an op type nobody registered
    pass


class _Failed(ValueError):  # a well-formed op could not be re-created
    pass


_RECORD_TYPES = {"name": str, "type": str, "inputs": list, "control_inputs": list,
                 "device": str, "attrs": dict, "outputs": list}


def check_record(record):
    if not isinstance(record, dict):
        raise Corrupt("an op record is not an object")
    for key, kind in _RECORD_TYPES.items():
        if not isinstance(record.get(key), kind):
            raise Corrupt(f"op record field '{key}' is missing or not a {kind.__name__}")
    if not all(isinstance(x, str) for x in record["inputs"] + record["control_inputs"]):
        raise Corrupt("op inputs must be names")
    for out in record["outputs"]:
        checked_list(out, 2)
        dtype_named(out[0])
        if out[1] is not None:
            checked_dims(out[1])


def _check_outputs(op, stored):
    if len(stored) != len(op.outputs):
        raise ValueError(f"re-created op has {len(op.outputs)} outputs, the meta graph lists "
                         f"{len(stored)}")
    for tensor, (dtype, dims) in zip(op.outputs, stored):
        if tensor.dtype is not dtype_named(dtype):
            raise ValueError(f"'{tensor.name}' re-inferred as {tensor.dtype.name}, the meta graph "
                             f"says {dtype}")
        tensor.set_shape(shapes.TensorShape(dims))


_STACKS = ("_redirect", "_name_stack", "_device_stack", "_control_stack", "_colocation_stack")


@contextlib.contextmanager
def _bare(graph):
    """None of the caller's scopes apply to imported ops (names, devices, control inputs)."""
    saved = [getattr(graph, attr) for attr in _STACKS]
    for attr, empty in zip(_STACKS, (None, "", [], [], [])):
        setattr(graph, attr, empty)
    try:
        yield
    finally:
        for attr, value in zip(_STACKS, saved):
            setattr(graph, attr, value)


class _GraphImport:
    """The ops imported into one graph: `ops` maps stored names to the new Operations."""

    def __init__(self, owner, graph, outer=None, input_map=None):
        self.owner, self.graph, self.outer = owner, graph, outer
        self.input_map = input_map or {}
        self.ops, self.done = {}, False
        self._make = graph._create_op if outer is None else \
            functools.partial(Graph._create_op, graph)  # no tracing hooks: ops go in as stored

    def run(self, records, where=""):
        with _bare(self.graph):
            for index, record in enumerate(records):
                self._create(record, *self.owner.decoding(f"{where}op #{index}", record,
                                                          self._decode_op))
        for index, record in enumerate(records):
            self.owner.decoding(f"{where}op #{index}", record, self._link)

    def _decode_op(self, record):
        check_record(record)
        op_def = OPS.get(record["type"])
        if op_def is None:
            raise _Unregistered(f"No op named {record['type']} in defined operations (needed by "
                                f"'{record['name']}' in {self.owner.meta.source}). Import the "
                                "module that registers it before importing the meta graph.")
        inputs = [self.input_map[name] if name in self.input_map else self.ref("tensor", name)
                  for name in record["inputs"]]
        attrs = {key: decode(value, self.owner) for key, value in record["attrs"].items()}
        return op_def, inputs, attrs, self._new_name(record["name"])

    def _new_name(self, stored):
        if stored in self.ops:
            raise Corrupt(f"two ops are named '{stored}'")
        if self.outer is not None and stored in self.outer.ops:  # mirrors that op by name
            return self.outer.ops[stored].name
        full = self.owner.prefix + stored
        name = self.graph.unique_name(full)
        while name in self.graph._by_name:
            name = self.graph.unique_name(full)
        return name

    def _create(self, record, op_def, inputs, attrs, name):
        try:
            op = self._make(op_def, inputs, attrs, name + "/", op_def._output_specs)
            _check_outputs(op, record["outputs"])
        except ValueError as e:
            raise _Failed(f"Cannot import op '{record['name']}' ({record['type']}) from "
                          f"{self.owner.meta.source}: {e}") from None
        op.device = "" if self.owner.clear_devices else record["device"]
        site = record.get("site")
        if isinstance(site, list) and [type(x) for x in site] == [str, int, str]:
            op.site = tuple(site)
        self.ops[record["name"]] = op

    def _link(self, record):
        op = self.ops[record["name"]]
        for name in record["control_inputs"]:
            op._add_control_input(self.ref("op", name))
        if record.get("colocation") is not None:
            op.colocation = self.ref("op", record["colocation"])

    def ref(self, kind, name):
        """The imported Operation ("op") or Tensor ("tensor") a stored name refers to."""
        op_name, _, index = str(name).rpartition(":") if kind == "tensor" else (name, "", "0")
        if not isinstance(op_name, str) or op_name not in self.ops:
            raise Corrupt(f"'{name!s:.60}' names no imported op")
        op = self.ops[op_name]
        if kind == "op":
            return op
        if not index.isdigit() or int(index) >= len(op.outputs):
            raise Corrupt(f"'{name}' names no output of '{op_name}'")
        return op.outputs[int(index)]


class Import:
    """One import. Afterwards `ops` maps stored op names to the new Operations, `items` maps
    collection item kinds ("variable", ...) to {record: object}, `rename` maps names. It is
    the *reader* of meta_graph_attrs: `value`, `resolve` and `nested_graph`."""

    def __init__(self, meta, graph, import_scope, clear_devices, input_map):
        self.meta, self.graph, self.clear_devices = meta, graph, clear_devices
        self.saver_def = meta.saver_def
        self.prefix = import_scope.rstrip("/") + "/" if import_scope else ""
        input_map = {(k if ":" in k else k + ":0"): v for k, v in (input_map or {}).items()}
        self.root = _GraphImport(self, graph, input_map=input_map)
        self.items, self._nested = {}, {}
        self._functions = meta.graph_def.get("functions", [])

    ops = property(lambda self: self.root.ops)

    def rename(self, name):
        """The new graph name of a stored op ("w") or tensor ("w:0") name."""
        op_name, sep, index = name.rpartition(":")
        return f"{self.ops[op_name].name}:{index}" if sep else self.ops[name].name

    def run(self):
        self.root.run(self.meta.graph_def["ops"])
        for index in range(len(self._functions)):  # also bodies no op refers to
            self.decoding(f"function #{index}", index, self._importer)
        for key, items in self.meta.collection_def.items():
            self.decoding(f"collection '{key}'", items, lambda items: self._collection(key, items))
        return self

    def decoding(self, where, record, step):
        """Run `step(record)`; malformed content is a DataLossError naming the file."""
        try:
            return step(record)
        except (_Unregistered, _Failed, errors.DataLossError):
            raise
        except Exception as e:  # noqa: BLE001 - any failure to decode means a bad document
            raise data_loss(self.meta.source, f"{where}: {type(e).__name__}: {e}") from e

    # ---- the reader of meta_graph_attrs -------------------------------------------------------
    def value(self, payload):
        return decode(payload, self)

    def resolve(self, kind, ref):
        """The Tensor/Operation a stored reference names: "x:0", or [i, "x:0"] in graph i."""
        if isinstance(ref, list):
            index, name = checked_list(ref, 2)
            return self._importer(index).ref(kind, name)
        return self.root.ref(kind, ref)

    def nested_graph(self, index):
        """Nested graph `index`, with all its ops and its state imported."""
        importer = self._importer(index)
        if not importer.done:
            raise Corrupt(f"function #{index} refers to itself")
        return importer.graph

    def _importer(self, index, seen=frozenset()):
        if index not in self._nested:
            if type(index) is not int or not 0 <= index < len(self._functions) or index in seen:
                raise Corrupt(f"no function #{index!r:.20} to import here")
            record = self._functions[index]
            outer = record.get("outer")
            outer = self.root if outer is None else self._importer(outer, seen | {index})
            if index not in self._nested:  # (importing `outer` may have imported it)
                self._open(index, record, outer)
        return self._nested[index]

    def _open(self, index, record, outer):
        make, restore = graph_codec_named(record.get("kind"))[1:]
        state = record.get("state")
        importer = _GraphImport(self, make(outer.graph, state, self), outer)
        self._nested[index] = importer
        importer.run(checked_list(record["ops"]), f"function #{index} ")
        restore(importer.graph, state, self)
        importer.done = True

    # ---- collections --------------------------------------------------------------------------
    def _collection(self, key, items):
        for item in checked_list(items):
            if not isinstance(item, dict) or len(item) != 1:
                raise Corrupt(f"bad collection item {item!r:.60}")
            (kind, payload), = item.items()
            value = self._collection_item(key, kind, payload)
            if value is not _SKIP:
                self.graph.add_to_collection(key, value)

    def _collection_item(self, key, kind, payload):
        if kind in ("tensor", "op"):
            return self.resolve(kind, payload)
        if kind == "value":
            return decode(payload, self)
        if kind not in COLLECTION_CODECS:
            warnings.warn(f"Collection '{key}': skipping an item of unknown kind '{kind}' from "
                          f"{self.meta.source}.", stacklevel=6)
            return _SKIP
        cache = self.items.setdefault(kind, {})
        record_key = json.dumps(payload, sort_keys=True)
        if record_key not in cache:
            cache[record_key] = COLLECTION_CODECS[kind][2](
                payload, lambda name: self.resolve("tensor" if ":" in name else "op", name))
        return cache[record_key]
