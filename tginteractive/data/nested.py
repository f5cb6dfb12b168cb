"""`flat_map` and `interleave`: a function of an element's tensors returns a Dataset.

The function is traced once into a FuncGraph; the tensors the returned dataset reads (its
slices, its own map captures) become that graph's outputs. Per input element the graph runs
and the inner dataset starts a fresh pipeline on those values.
"""

from .dataset import Dataset, Env, static_int
from .transforms import TracedFunction


class DatasetFunction(TracedFunction):
    """A traced function of an element that returns a Dataset: the graph outputs the tensors
    that dataset reads, and each call starts a fresh pipeline of it on their values."""

    def _outputs(self, inner, scope):
        if not isinstance(inner, Dataset):
            raise TypeError(f"`{scope}` functions must return a Dataset, got "
                            f"{type(inner).__name__}.")
        self.inner, self.reads = inner, inner._all_captures()
        return [self._output(t) for t in self.reads]

    def __call__(self, env, element):
        """A fresh iterator of the dataset the function returns for `element`."""
        got = self.run(env, element) if self.fetches else ()
        inner_env = Env(dict(zip(self.reads, got)), env.runner)
        inner_env.threads = env.threads
        return iter(self.inner._iter(inner_env))


class FlatMapDataset(Dataset):
    def __init__(self, parent, fn, scope="Dataset_flat_map"):
        self._inputs = (parent,)
        self._fn = DatasetFunction(fn, parent, scope)
        self._captures = self._fn.graph_captures()
        self._types, self._shapes = self._fn.inner._types, self._fn.inner._shapes

    def _iter(self, env):
        for element in self._inputs[0]._iter(env):
            yield from self._fn(env, element)


class InterleaveDataset(FlatMapDataset):
    """TF's `interleave(map_func, cycle_length, block_length=1)`: `cycle_length` inner
    datasets open at once, `block_length` elements taken from each in turn."""

    def __init__(self, parent, fn, cycle_length, block_length=1):
        super().__init__(parent, fn, "Dataset_interleave")
        self._cycle = static_int(cycle_length, "cycle_length")
        self._block = static_int(block_length, "block_length")
        if self._cycle <= 0 or self._block <= 0:
            raise ValueError("cycle_length and block_length must be positive.")

    def _iter(self, env):  # TF's InterleaveDatasetOp loop, slot by slot
        upstream, slots = iter(self._inputs[0]._iter(env)), [None] * self._cycle
        index = taken = 0
        end_of_input = False
        while not end_of_input or any(s is not None for s in slots):
            if slots[index] is not None:
                element = next(slots[index], None)
                if element is not None:
                    yield element
                    taken += 1
                    if taken < self._block:
                        continue
                else:
                    slots[index] = None
            elif not end_of_input:
                element = next(upstream, None)
                if element is None:
                    end_of_input = True
                else:
                    slots[index] = self._fn(env, element)
                continue
            index, taken = (index + 1) % self._cycle, 0
