"""`tf.data.Iterator`: graph ops reading a dataset element by element (ops/dataset_ops.py).

    it = ds.make_initializable_iterator()      # sess.run(it.initializer, feed_dict=...)
    it = ds.make_one_shot_iterator()           # initialized on its first get_next run
    it = Iterator.from_structure(types, shapes); init = it.make_initializer(ds)
"""
from ..framework import dtypes
from ..framework.context import get_default_graph
from ..framework.shapes import TensorShape, as_shape
from ..ops import dataset_ops
from .dataset import flatten, pack


def _compatible(a, b):
    return a.is_compatible_with(b)


class Iterator:
    def __init__(self, key, types, shapes, dataset=None, initializer=None):
        self._key, self._types, self._shapes = key, types, shapes
        self._one_shot_dataset, self._initializer = dataset, initializer

    # ---- constructors -----------------------------------------------------------------------
    @classmethod
    def _one_shot(cls, dataset):
        key = get_default_graph().unique_name("OneShotIterator")
        return cls(key, dataset._types, dataset._shapes, dataset=dataset)

    @classmethod
    def _initializable(cls, dataset, shared_name=None):
        key = get_default_graph().unique_name(shared_name or "Iterator")
        it = cls(key, dataset._types, dataset._shapes)
        it._initializer = it.make_initializer(dataset)
        return it

    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None,
                       output_classes=None):
        types = pack(output_types, [dtypes.as_dtype(t) for t in flatten(output_types)])
        if output_shapes is None:
            shapes = pack(output_types, [TensorShape(None)] * len(flatten(output_types)))
        else:
            shapes = _shapes_like(output_shapes, output_types)
        key = get_default_graph().unique_name(shared_name or "Iterator")
        return Iterator(key, types, shapes)

    # ---- structure --------------------------------------------------------------------------
    output_types = property(lambda self: self._types)
    output_shapes = property(lambda self: self._shapes)

    @property
    def output_classes(self):
        from ..framework.graph import Tensor
        return pack(self._types, [Tensor] * len(flatten(self._types)))

    @property
    def initializer(self):
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer: use "
                             "make_initializable_iterator() or make_initializer(dataset).")
        return self._initializer

    # ---- ops --------------------------------------------------------------------------------
    def make_initializer(self, dataset, name=None):
        if flatten(dataset._types) != flatten(self._types):
            raise TypeError(f"Expected output types {self._types} but got dataset with output "
                            f"types {dataset._types}.")
        for a, b in zip(flatten(self._shapes), dataset._flat_shapes()):
            if not _compatible(a, b):
                raise TypeError(f"Expected output shapes compatible with {self._shapes} but "
                                f"got dataset with output shapes {dataset._shapes}.")
        return dataset_ops.MakeIterator(*dataset._all_captures(), dataset=dataset,
                                        iterator=self._key, name=name or "MakeIterator")

    def get_next(self, name=None):
        ds = self._one_shot_dataset
        inputs = ds._all_captures() if ds is not None else []
        out = dataset_ops.IteratorGetNext(
            *inputs, iterator=self._key, one_shot=ds is not None, dataset=ds,
            output_types=list(flatten(self._types)), output_shapes=list(flatten(self._shapes)),
            name=name or "IteratorGetNext")
        flat = list(out) if isinstance(out, tuple) else [out]
        return pack(self._types, flat)

    def __repr__(self):
        return f"<Iterator '{self._key}' types: {self._types}>"


def _shapes_like(shapes, types):
    if isinstance(types, dict):
        return {k: _shapes_like(shapes[k], types[k]) for k in types}
    if isinstance(types, tuple):
        return type(types)(_shapes_like(s, t) for s, t in zip(shapes, types))
    return as_shape(shapes)


def make_one_shot_iterator(dataset):
    return dataset.make_one_shot_iterator()


def make_initializable_iterator(dataset, shared_name=None):
    return dataset.make_initializable_iterator(shared_name)
