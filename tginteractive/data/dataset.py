"""`tf.data.Dataset`: a Python description of an input pipeline (TF 1.4+ API).

A Dataset knows its element structure (`output_types`, `output_shapes`: nests of DTypes and
TensorShapes) and the graph tensors it reads (`_captures`: slices given as tensors, tensors
captured by `map`/`filter` functions). Nothing runs until an iterator is initialized in a
session (ops/dataset_ops.py): then the captured tensors are evaluated and `_iter(env)` gives
a fresh Python iterator of flat element tuples (NumPy values).
"""
import glob
import itertools

import numpy as np

from ..framework import dtypes, function_graph
from ..framework.registry import convert_to_tensor
from ..framework.shapes import TensorShape, as_shape
from ..ops.random_ops import get_seed


# ---- element structures: tuples (namedtuples too) and dicts nest; a list is one component,
# converted to a tensor (as in TF's tf.data nest) ------------------------------------------------
def flatten(structure):
    return function_graph.flatten(structure, sequences=tuple)


def pack(structure, leaves):
    """`structure` with its leaves replaced, in order, by `leaves`."""
    return function_graph.pack(structure, leaves, sequences=tuple)


class Env:
    """One initialization of a pipeline: captured values, the runner of traced functions,
    per-dataset state (shuffle generators, caches) and background threads to stop."""

    def __init__(self, values, runner):
        self.values, self.runner, self.state, self.threads = values, runner, {}, []

    def value(self, tensor):
        return self.values[tensor]


class Pipeline:
    """The live iterator kept in the session state: `next()` gives a flat tuple or None."""

    def __init__(self, dataset, values, runner):
        self.env = Env(dict(zip(dataset._all_captures(), values)), runner)
        self._it = dataset._iter(self.env)

    def next(self):
        return next(self._it, None)

    def close(self):
        for stop in self.env.threads:
            stop()


class Dataset:
    """Base class; subclasses set `_types`, `_shapes` (nests) and implement `_iter(env)`."""

    _inputs = ()     # parent datasets
    _captures = ()   # graph tensors this dataset itself reads

    # ---- structure -------------------------------------------------------------------------
    @property
    def output_types(self):
        return self._types

    @property
    def output_shapes(self):
        return self._shapes

    @property
    def output_classes(self):
        from ..framework.graph import Tensor
        return pack(self._types, [Tensor] * len(flatten(self._types)))

    def _flat_types(self):
        return flatten(self._types)

    def _flat_shapes(self):
        return flatten(self._shapes)

    def _all_captures(self):
        seen = []
        for ds in self._inputs:
            seen.extend(t for t in ds._all_captures() if t not in seen)
        seen.extend(t for t in self._captures if t not in seen)
        return seen

    def _make_pipeline(self, values, runner):
        return Pipeline(self, values, runner)

    def _iter(self, env):
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} shapes: {self._shapes}, types: {self._types}>"

    # ---- sources ---------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors):
        return TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors):
        return TensorDataset(tensors)

    @staticmethod
    def from_generator(generator, output_types, output_shapes=None, args=None):
        return GeneratorDataset(generator, output_types, output_shapes, args)

    @staticmethod
    def range(*args):
        return RangeDataset(*args)

    @staticmethod
    def zip(datasets):
        return ZipDataset(datasets)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None):
        return FileListDataset(file_pattern, shuffle, seed)

    # ---- transformations (data/transforms.py) ---------------------------------------------
    def map(self, map_func, num_parallel_calls=None):
        return _t.MapDataset(self, map_func, num_parallel_calls)

    def flat_map(self, map_func):
        return _n.FlatMapDataset(self, map_func)

    def interleave(self, map_func, cycle_length, block_length=1, num_parallel_calls=None):
        return _n.InterleaveDataset(self, map_func, cycle_length, block_length)

    def apply(self, transformation_func):
        return transformation_func(self)

    def filter(self, predicate):
        return _t.FilterDataset(self, predicate)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True):
        return _t.ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False):
        return _t.BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size, padded_shapes, padding_values=None,
                     drop_remainder=False):
        return _t.PaddedBatchDataset(self, batch_size, padded_shapes, padding_values,
                                     drop_remainder)

    def repeat(self, count=None):
        return _t.RepeatDataset(self, count)

    def take(self, count):
        return _t.TakeDataset(self, count)

    def skip(self, count):
        return _t.SkipDataset(self, count)

    def prefetch(self, buffer_size):
        return _t.PrefetchDataset(self, buffer_size)

    def cache(self, filename=""):
        return _t.CacheDataset(self, filename)

    def concatenate(self, dataset):
        return _t.ConcatenateDataset(self, dataset)

    # ---- iterators (data/iterator.py) ------------------------------------------------------
    def make_one_shot_iterator(self):
        return _it.Iterator._one_shot(self)

    def make_initializable_iterator(self, shared_name=None):
        return _it.Iterator._initializable(self, shared_name)


def static_int(value, what):
    """A Python int for a count argument given as a number or a constant tensor."""
    if hasattr(value, "op"):
        from ..framework.registry import constant_value
        folded = constant_value(value)
        if folded is None:
            raise ValueError(f"{what} must be known when the dataset is built; got {value!r}.")
        value = folded
    return int(value)


def count_arg(dataset, value, what):
    """A count as a Python int when known now, else the tensor (added to the dataset's
    captures; `count_value` reads it when the iterator is initialized)."""
    if hasattr(value, "op"):
        from ..framework.registry import constant_value
        folded = constant_value(value)
        if folded is None:
            dataset._captures = list(dataset._captures) + [value]
            return value
        value = folded
    return int(value)


def count_value(env, count):
    return int(env.value(count)) if hasattr(count, "op") else count


# ---- sources -------------------------------------------------------------------------------
def _as_tensors(structure, what):
    if structure is None:
        raise TypeError(f"{what}: None is not a valid element component.")
    leaves = flatten(structure)
    tensors = [convert_to_tensor(x) for x in leaves]
    return pack(structure, tensors), tensors


class TensorSliceDataset(Dataset):
    def __init__(self, tensors):
        self._structure, self._captures = _as_tensors(tensors, "from_tensor_slices")
        for t in self._captures:
            if t.shape.ndims == 0:
                raise ValueError(f"from_tensor_slices needs tensors of rank >= 1; "
                                 f"'{t.name}' is a scalar.")
        self._types = pack(self._structure, [t.dtype for t in self._captures])
        self._shapes = pack(self._structure, [TensorShape(None) if t.shape.dims is None
                                              else TensorShape(t.shape.dims[1:])
                                              for t in self._captures])

    def _iter(self, env):
        arrays = [np.asarray(env.value(t)) for t in self._captures]
        n = len(arrays[0])
        if any(len(a) != n for a in arrays):
            from ..framework import errors
            raise errors.InvalidArgumentError(None, None, "Dimension 0 in both shapes must "
                                              "be equal for from_tensor_slices components.")
        return (tuple(a[i] for a in arrays) for i in range(n))


class TensorDataset(Dataset):
    def __init__(self, tensors):
        self._structure, self._captures = _as_tensors(tensors, "from_tensors")
        self._types = pack(self._structure, [t.dtype for t in self._captures])
        self._shapes = pack(self._structure, [t.shape for t in self._captures])

    def _iter(self, env):
        return iter([tuple(np.asarray(env.value(t)) for t in self._captures)])


class RangeDataset(Dataset):
    def __init__(self, *args):
        args = [static_int(a, "Dataset.range arguments") for a in args]
        self._range = range(*args)
        self._types, self._shapes = dtypes.int64, TensorShape([])

    def _iter(self, env):
        return ((np.int64(i),) for i in self._range)


def _nest_of(value, structure, fn):
    """`fn` applied to the leaves of `value` laid out like `structure` (`value` may be a nest
    of the same layout, or a single value for a single-leaf structure)."""
    if isinstance(structure, dict):
        return {k: _nest_of(value[k] if value is not None else None, structure[k], fn)
                for k in structure}
    if isinstance(structure, tuple):
        vals = value if value is not None else [None] * len(structure)
        return type(structure)(_nest_of(v, s, fn) for v, s in zip(vals, structure))
    return fn(structure, value)


def _flatten_like(value, structure):
    """The leaves of `value` laid out like `structure` (lists below it stay leaves)."""
    if isinstance(structure, dict):
        return [x for k in sorted(structure) for x in _flatten_like(value[k], structure[k])]
    if isinstance(structure, tuple):
        if not isinstance(value, (list, tuple)) or len(value) != len(structure):
            raise TypeError(f"`generator` yielded {value!r:.60}, which does not match the "
                            f"structure of output_types {structure}.")
        return [x for v, s in zip(value, structure) for x in _flatten_like(v, s)]
    return [value]


class GeneratorDataset(Dataset):
    def __init__(self, generator, output_types, output_shapes=None, args=None):
        if not callable(generator):
            raise TypeError("`generator` must be callable.")
        self._gen, self._args = generator, tuple(args or ())
        self._types = _nest_of(None, output_types, lambda t, _: dtypes.as_dtype(t))
        self._shapes = _nest_of(output_shapes, output_types,
                                lambda _, s: TensorShape(None) if s is None else as_shape(s))

    def _iter(self, env):
        types, shapes = self._flat_types(), self._flat_shapes()
        for element in self._gen(*self._args):
            leaves = _flatten_like(element, self._types)
            if len(leaves) != len(types):
                raise TypeError(f"`generator` yielded an element with {len(leaves)} "
                                f"components, but output_types has {len(types)}.")
            out = tuple(np.asarray(v, dtype=t.as_numpy_dtype) for v, t in zip(leaves, types))
            for v, s in zip(out, shapes):
                if not s.is_compatible_with(v.shape):
                    raise ValueError(f"`generator` yielded an element of shape {v.shape} "
                                     f"where an element of shape {s} was expected.")
            yield out


class ZipDataset(Dataset):
    def __init__(self, datasets):
        if isinstance(datasets, Dataset):
            raise TypeError("Dataset.zip takes a (nested) tuple of datasets, not a Dataset.")
        self._structure = datasets
        self._inputs = tuple(flatten(datasets))
        self._types = pack(datasets, [d._types for d in self._inputs])
        self._shapes = pack(datasets, [d._shapes for d in self._inputs])

    def _iter(self, env):
        its = [ds._iter(env) for ds in self._inputs]
        for parts in zip(*its):
            yield tuple(itertools.chain.from_iterable(parts))


class TextLineDataset(Dataset):
    """The lines of text files as tf.string scalars (bytes, without the line ending)."""

    def __init__(self, filenames, compression_type=None, buffer_size=None):
        self._files = _string_source(filenames)
        self._captures = [self._files] if hasattr(self._files, "op") else []
        self._types, self._shapes = dtypes.string, TensorShape([])

    def _iter(self, env):
        for name in _file_names(self._files, env):
            with open(name, "rb") as f:
                for line in f:
                    if line.endswith(b"\n"):
                        line = line[:-1]
                        if line.endswith(b"\r"):
                            line = line[:-1]
                    yield (np.array(line, dtype=object),)


def _string_source(filenames):
    if isinstance(filenames, (str, bytes)):
        return [filenames]
    if isinstance(filenames, (list, tuple)) and all(isinstance(f, (str, bytes))
                                                    for f in filenames):
        return list(filenames)
    return convert_to_tensor(filenames)


def _file_names(files, env):
    if hasattr(files, "op"):
        files = np.asarray(env.value(files), dtype=object).reshape(-1).tolist()
    return [f.decode() if isinstance(f, bytes) else f for f in files]


class FileListDataset(Dataset):
    """`Dataset.list_files`: the files matching a glob pattern (globbed at initialization),
    shuffled unless `shuffle=False`."""

    def __init__(self, pattern, shuffle=None, seed=None):
        self._patterns = _string_source(pattern)
        self._captures = [self._patterns] if hasattr(self._patterns, "op") else []
        self._shuffle = True if shuffle is None else bool(shuffle)
        self._seeds = get_seed(seed)
        self._types, self._shapes = dtypes.string, TensorShape([])

    def _iter(self, env):
        names = sorted({n for p in _file_names(self._patterns, env) for n in glob.glob(p)})
        if not names:
            from ..framework import errors
            raise errors.InvalidArgumentError(None, None, "Expected 'tf.Tensor(False, shape=(),"
                                              " dtype=bool)' to be true. No files matched "
                                              f"pattern: {self._patterns}")
        if self._shuffle:
            rng = _t.rng_for(self._seeds)
            names = [names[i] for i in rng.permutation(len(names))]
        return ((np.array(n.encode(), dtype=object),) for n in names)


from . import iterator as _it  # noqa: E402  (both build on Dataset)
from . import transforms as _t  # noqa: E402
from . import nested as _n  # noqa: E402
