"""Fetch structures (any nesting of list/tuple/namedtuple/dict) and feed-value checking."""
import numpy as np

from ..framework.dtypes import encode_strings
from ..framework.graph import Operation, Tensor


def _leaf(graph, fetch):
    if fetch is None or not isinstance(fetch, (Tensor, Operation, str)) and \
            not hasattr(fetch, "_as_graph_element"):
        raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)}, must be a "
                        "string or Tensor. (Can not convert a "
                        f"{type(fetch).__name__} into a Tensor or Operation.)")
    try:
        return graph.as_graph_element(fetch)
    except (KeyError, ValueError) as e:
        raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. ({e})") \
            from None


class FetchMapper:
    """Flattens `fetches` into `targets` and rebuilds the user's structure from results."""

    __slots__ = ("targets", "_build")

    def __init__(self, graph, fetches):
        self.targets = []
        self._build = self._map(graph, fetches)

    def _map(self, graph, fetches):
        if isinstance(fetches, dict):
            keys = list(fetches)
            builders = [self._map(graph, fetches[k]) for k in keys]
            kind = type(fetches)
            return lambda r: kind((k, b(r)) for k, b in zip(keys, builders))
        if isinstance(fetches, (list, tuple)):
            builders = [self._map(graph, f) for f in fetches]
            if isinstance(fetches, tuple) and hasattr(fetches, "_fields"):
                kind = type(fetches)
                return lambda r: kind(*(b(r) for b in builders))
            kind = type(fetches)
            return lambda r: kind(b(r) for b in builders)
        index = len(self.targets)
        self.targets.append(_leaf(graph, fetches))
        return lambda r: r[index]

    def build(self, results):
        return self._build(results)


_ELEMENTS = (Tensor, Operation)


def _in_graph(x, graph):
    cls = x.__class__
    return (cls is Tensor and x.op.graph is graph) or (cls is Operation and x.graph is graph)


def flat_fetches(graph, fetches):
    """Fast path for the common fetches: (targets, build) for a Tensor/Operation of `graph` or
    a plain list/tuple of them; (None, None) for anything else (use FetchMapper)."""
    if _in_graph(fetches, graph):
        return (fetches,), _first
    cls = fetches.__class__
    if (cls is list or cls is tuple) and all(_in_graph(f, graph) for f in fetches):
        return tuple(fetches), (list if cls is list else tuple)
    return None, None


def _first(results):
    return results[0]


def resolve_feeds(graph, feed_dict):
    """(tuple of fed Tensors, list of values), with keys resolved against `graph`."""
    if not feed_dict:
        return (), []
    keys = tuple(feed_dict)
    if all(k.__class__ is Tensor and k.op.graph is graph for k in keys):
        return keys, list(feed_dict.values())
    tensors, values = [], []
    for key, value in feed_dict.items():
        if isinstance(key, (tuple, list)):
            if len(key) != len(value):
                raise ValueError(f"Feed key {key!r} has {len(key)} tensors but its value has "
                                 f"{len(value)} entries.")
            pairs = zip(key, value)
        else:
            pairs = ((key, value),)
        for k, v in pairs:
            try:
                t = graph.as_graph_element(k, allow_operation=False)
            except (KeyError, ValueError, TypeError) as e:
                raise TypeError(f"Cannot interpret feed_dict key as Tensor: {e}") from None
            tensors.append(t)
            values.append(v)
    return tuple(tensors), values


def convert_feed(tensor, value):
    """`value` as an array of the tensor's dtype, checked against its static shape."""
    if isinstance(value, (Tensor, Operation)) or hasattr(value, "_as_graph_element"):
        raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed "
                        "values include Python scalars, strings, lists, numpy ndarrays, or "
                        f"TensorHandles. For reference, the tensor object was {value} which "
                        f"was passed to the feed with key {tensor}.")
    dtype = tensor.dtype
    try:
        if dtype.name == "string":
            array = encode_strings(value)
        else:
            array = np.asarray(value, dtype=dtype.as_numpy_dtype)
    except OverflowError:  # TF1's TypeError and wording
        raise TypeError(f"Type of feed value {_short(value)} with type {type(value)} is not "
                        f"compatible with Tensor type {dtype.as_numpy_dtype} (feeding Tensor "
                        f"'{tensor.name}'). Try explicitly setting the type of the feed tensor "
                        "to a larger type (e.g. int64).") from None
    except (TypeError, ValueError) as e:
        raise ValueError(f"Cannot feed value {_short(value)} to Tensor '{tensor.name}' of dtype "
                         f"{dtype.name}: {e}") from None
    dims = tensor._shape.dims
    if dims is not None:
        shape = array.shape
        if len(shape) != len(dims) or any(d is not None and d != s for d, s in zip(dims, shape)):
            raise ValueError(f"Cannot feed value of shape {shape} for Tensor '{tensor.name}', "
                             f"which has shape '{tensor._shape}'")
    return array


def _short(value):
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."
