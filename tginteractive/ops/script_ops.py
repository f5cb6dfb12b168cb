"""`tf.py_func`: an op that calls a Python function on the NumPy values of its inputs.

The function runs on the host (its op is always placed on a CPU) every time the op runs; its
outputs have unknown static shapes (use `set_shape`). It has no gradient. A graph holding one
cannot be exported to a meta graph (its attr is a Python function).
"""
import numpy as np

from ..framework import dtypes
from ..framework.registry import convert_to_tensor, defop
from ..framework.shapes import TensorShape

__all__ = ["py_func"]


def _py_func_kernel(xp, *args, func, Tout, single):
    result = func(*[np.asarray(a) for a in args])
    if not Tout:
        return ()
    results = [result] if single else list(result)
    if len(results) != len(Tout):
        raise ValueError(f"py_func returned {len(results)} values, but Tout lists {len(Tout)}.")
    out = tuple(np.asarray(r, dtype=t.as_numpy_dtype) for r, t in zip(results, Tout))
    return out[0] if len(out) == 1 else out


PyFunc = defop("PyFunc", shape=lambda op: [TensorShape(None)] * len(op.attrs["Tout"]),
               kernel=_py_func_kernel, dtype=lambda op: list(op.attrs["Tout"]),
               stateful=True, host_only=True, differentiable=False)


def py_func(func, inp, Tout, stateful=True, name=None):
    """TF1's `tf.py_func(func, inp, Tout)`: `func(*numpy_values)` as an op. `Tout` is a dtype
    (one output tensor) or a list of dtypes (a list of tensors)."""
    if not callable(func):
        raise TypeError(f"Expected func to be callable, got func of type {type(func)}")
    single = not isinstance(Tout, (list, tuple))
    touts = [dtypes.as_dtype(t) for t in ([Tout] if single else Tout)]
    inputs = [convert_to_tensor(x) for x in (inp or [])]
    out = PyFunc(*inputs, func=func, Tout=touts, single=single, name=name or "PyFunc")
    if not touts:
        return out if not isinstance(out, tuple) else None
    if single:
        return out
    return list(out) if isinstance(out, tuple) else [out]
