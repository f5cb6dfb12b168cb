"""Attr values of a meta graph (framework/meta_graph.py) as tagged JSON, and back.

Plain JSON values stay as they are; everything else is one tag and its payload:
`{"tuple": [...]}`, `{"dtype": "float32"}`, `{"ndarray": <np.save bytes, base64>}`,
`{"tensor": "x:0"}`, ... Nothing is ever executed or unpickled (arrays load with
`allow_pickle=False`); a value of any other type makes `encode` raise TypeError.

Extension points, for kinds of values that live outside this module (no special cases here):

* `register_attr_codec(tag, cls, encode, decode)`: an attr value of type `cls` is stored as
  `{tag: encode(value, writer)}` and rebuilt by `decode(payload, reader)`.
* `register_graph_codec(kind, cls, state, make, restore)`: graphs of type `cls` nested in the
  exported graph (bodies of control-flow ops) are stored with their ops, see meta_graph.py.
* `register_dtype(dtype)`: a DType that `dtypes.as_dtype` does not know by name (`variant`).
* `register_collection_codec(kind, cls, encode, decode)`: collection items (train/ registers
  Variables).

A *writer* (export) offers `ref(tensor_or_op)` (its stored name: "x:0" in the exported graph,
`[i, "x:0"]` in nested graph `i`), `graph_index(g)` (the index of nested graph `g`) and
`value(x)`. A *reader* (import) offers `resolve(kind, ref)` (kind "tensor" or "op"),
`nested_graph(i)` (nested graph `i`, all its ops imported) and `value(payload)`.
"""
import base64
import io
import math

import numpy as np

from . import dtypes, shapes
from .graph import Operation, Tensor


class Corrupt(Exception):
    """The document holds something a meta graph cannot (import turns it into DataLossError)."""


_ATTR_CODECS = {}   # tag -> (cls, encode(value, writer), decode(payload, reader))
_GRAPH_CODECS = {}  # kind -> (cls, state(graph, writer), make(outer, state, reader),
#                              restore(graph, state, reader))
_EXTRA_DTYPES = {}  # name -> DType
COLLECTION_CODECS = {}  # kind -> (cls, encode(item, ref), decode(record, resolve))


def register_collection_codec(kind, cls, encode, decode):
    """Store collection items of type `cls` as {kind: encode(item, ref)} (`ref(op_or_tensor)`
    is its stored name); import rebuilds them with `decode(record, resolve)` (`resolve(name)`:
    the imported Tensor "op:0" or Operation "op")."""
    COLLECTION_CODECS[kind] = (cls, encode, decode)


def register_attr_codec(tag, cls, encode, decode):
    """Store attr values of type `cls` as {tag: encode(value, writer)}; rebuild them with
    `decode(payload, reader)`."""
    if tag in _DECODERS or _ATTR_CODECS.get(tag, (cls,))[0] is not cls:
        raise ValueError(f"Attr tag '{tag}' is already taken.")
    _ATTR_CODECS[tag] = (cls, encode, decode)


def register_graph_codec(kind, cls, state, make, restore):
    """Nested graphs of type `cls` (with an `outer_graph`): export stores their ops and
    `state(graph, writer)`; import calls `make(outer, state, reader)` for an empty graph,
    imports the ops into it, then `restore(graph, state, reader)`."""
    _GRAPH_CODECS[kind] = (cls, state, make, restore)


def graph_codec(graph):
    """(kind, state, make, restore) for a nested graph; TypeError if none is registered."""
    for kind, (cls, state, make, restore) in _GRAPH_CODECS.items():
        if isinstance(graph, cls):
            return kind, state, make, restore
    raise TypeError(f"a {type(graph).__name__} (graphs nested in a meta graph must have a "
                    "registered graph codec)")


def graph_codec_named(kind):
    if kind not in _GRAPH_CODECS:
        raise Corrupt(f"unknown kind of nested graph {kind!r:.40}")
    return _GRAPH_CODECS[kind][1:]


def register_dtype(dtype):
    _EXTRA_DTYPES[dtype.name] = dtype


def dtype_named(name):
    """The DType called `name` (also one registered with `register_dtype`)."""
    return _EXTRA_DTYPES.get(name) or dtypes.as_dtype(str(name))


# ---- encoding -------------------------------------------------------------------------------
def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _array_payload(array):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return _b64(buf.getvalue())


def _float(value):
    return value if math.isfinite(value) else {"float": repr(value)}


_ENCODERS = [  # (type, tag, payload function); order matters (np.float64 is a float)
    (np.ndarray, "ndarray", lambda v, w: _array_payload(v)),
    (np.generic, "scalar", lambda v, w: _array_payload(np.asarray(v))),
    (tuple, "tuple", lambda v, w: [encode(x, w) for x in v]),
    (list, "list", lambda v, w: [encode(x, w) for x in v]),
    (dict, "dict", lambda v, w: [[encode(k, w), encode(x, w)] for k, x in v.items()]),
    (dtypes.DType, "dtype", lambda v, w: v.name),
    (shapes.TensorShape, "shape", lambda v, w: None if v.dims is None else list(v.dims)),
    (shapes.Dimension, "dim", lambda v, w: v.value),
    (slice, "slice", lambda v, w: [encode(x, w) for x in (v.start, v.stop, v.step)]),
    (type(Ellipsis), "ellipsis", lambda v, w: None),
    (bytes, "bytes", lambda v, w: _b64(v)),
    (str, "str", lambda v, w: str(v)),
    (int, "int", lambda v, w: int(v)),
    (float, "float", lambda v, w: repr(float(v))),
    (complex, "complex", lambda v, w: [_float(v.real), _float(v.imag)]),
    (Tensor, "tensor", lambda v, w: w.ref(v)),
    (Operation, "op", lambda v, w: w.ref(v)),
]


def encode(value, writer):
    """`value` as JSON; TypeError("a <module>.<type>") for a value a meta graph cannot hold."""
    cls = value.__class__
    if value is None or cls is bool or cls is int or cls is str:
        return value
    if cls is float:
        return _float(value)
    if cls is np.ndarray and value.dtype.hasobject:
        return {"strings": {"shape": list(value.shape),
                            "items": [encode(x, writer) for x in value.reshape(-1)]}}
    for tag, (base, payload, _) in _ATTR_CODECS.items():
        if isinstance(value, base):
            return {tag: payload(value, writer)}
    for base, tag, payload in _ENCODERS:
        if isinstance(value, base):
            return {tag: payload(value, writer)}
    raise TypeError(f"a {cls.__module__}.{cls.__qualname__}")


# ---- decoding -------------------------------------------------------------------------------
def _load_array(payload):
    if not isinstance(payload, str):
        raise Corrupt("array payload is not a string")
    array = np.load(io.BytesIO(base64.b64decode(payload, validate=True)), allow_pickle=False)
    if not isinstance(array, np.ndarray):
        raise Corrupt("array payload is not a single .npy array")
    return array


def _decode_strings(payload, reader):
    items = [decode(x, reader) for x in checked_list(payload["items"])]
    if any(not isinstance(x, (bytes, str)) for x in items):
        raise Corrupt("string array item is not bytes or str")
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(checked_dims(payload["shape"]))


def checked_dims(dims):
    if not isinstance(dims, list) or any(d is not None and (type(d) is not int or d < 0)
                                         for d in dims):
        raise Corrupt(f"bad shape {dims!r:.60}")
    return dims


def checked_list(payload, n=None):
    if not isinstance(payload, list) or (n is not None and len(payload) != n):
        raise Corrupt(f"expected a list{'' if n is None else f' of {n}'}, got {payload!r:.60}")
    return payload


_DECODERS = {
    "ndarray": lambda p, r: _load_array(p),
    "scalar": lambda p, r: _load_array(p)[()],
    "strings": _decode_strings,
    "tuple": lambda p, r: tuple(decode(x, r) for x in checked_list(p)),
    "list": lambda p, r: [decode(x, r) for x in checked_list(p)],
    "dict": lambda p, r: {decode(k, r): decode(v, r)
                          for k, v in (checked_list(i, 2) for i in checked_list(p))},
    "dtype": lambda p, r: dtype_named(p),
    "shape": lambda p, r: shapes.TensorShape(None if p is None else checked_dims(p)),
    "dim": lambda p, r: shapes.Dimension(p),
    "slice": lambda p, r: slice(*(decode(x, r) for x in checked_list(p, 3))),
    "ellipsis": lambda p, r: Ellipsis,
    "bytes": lambda p, r: base64.b64decode(p, validate=True),
    "str": lambda p, r: str(p),
    "int": lambda p, r: int(p),
    "float": lambda p, r: float(p),
    "complex": lambda p, r: complex(*(decode(x, r) for x in checked_list(p, 2))),
    "tensor": lambda p, r: r.resolve("tensor", p),
    "op": lambda p, r: r.resolve("op", p),
}


def decode(data, reader):
    """The value `encode` stored as `data`; Corrupt for anything else."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, dict) and len(data) == 1:
        (tag, payload), = data.items()
        if tag in _DECODERS:
            return _DECODERS[tag](payload, reader)
        if tag in _ATTR_CODECS:
            return _ATTR_CODECS[tag][2](payload, reader)
    raise Corrupt(f"unknown value {data!r:.60}")
