"""TF1 dtypes: a thin, hashable wrapper around NumPy dtypes (strings are NumPy objects)."""
import builtins

import numpy as np


class DType:
    """A TensorFlow-style data type: `tf.float32`, `tf.int64`, `tf.string`, ..."""

    __slots__ = ("name", "as_numpy_dtype", "_np")

    def __init__(self, name, numpy_type):
        self.name = name
        self.as_numpy_dtype = numpy_type
        self._np = np.dtype(numpy_type)

    base_dtype = property(lambda self: self)
    real_dtype = property(lambda self: self)
    is_floating = property(lambda self: self._np.kind == "f")
    is_integer = property(lambda self: self._np.kind in "iu")
    is_unsigned = property(lambda self: self._np.kind == "u")
    is_bool = property(lambda self: self._np.kind == "b")
    is_complex = property(lambda self: self._np.kind == "c")
    is_numeric = property(lambda self: self._np.kind in "iufc")
    size = property(lambda self: self._np.itemsize)

    @property
    def min(self):
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def is_compatible_with(self, other):
        return self is as_dtype(other)

    def __repr__(self):
        return "tf." + self.name

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
uint16 = DType("uint16", np.uint16)
bool = DType("bool", np.bool_)  # noqa: A001 - TF's public name
string = DType("string", np.object_)
complex64 = DType("complex64", np.complex64)
complex128 = DType("complex128", np.complex128)
half, double = float16, float64

_ALL = [float16, float32, float64, int8, int16, int32, int64, uint8, uint16,
        bool, string, complex64, complex128]
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update(half=float16, double=float64)
_BY_NP = {d._np: d for d in _ALL}
_BY_PY = {float: float32, int: int32, builtins.bool: bool, str: string, bytes: string,
          complex: complex128}


def as_dtype(type_value):
    """Convert a DType, name, NumPy dtype or Python type into a DType (TypeError otherwise)."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str) and type_value in _BY_NAME:
        return _BY_NAME[type_value]
    if type_value in _BY_PY:
        return _BY_PY[type_value]
    try:
        npd = np.dtype(type_value)
    except TypeError:
        npd = None
    if npd is not None:
        if npd.kind in "SUO":
            return string
        if npd in _BY_NP:
            return _BY_NP[npd]
    raise TypeError(f"Cannot convert value {type_value!r} to a TensorFlow DType.")


def dtype_of_value(value):
    """The DType TF1's `constant` infers for a Python/NumPy value (floats→float32, ints→int32)."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return as_dtype(value.dtype)
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        return float32
    if arr.dtype.kind in "iu":
        return int32 if np.all((arr >= -2**31) & (arr < 2**31)) else int64
    if arr.dtype.kind == "c":
        return complex128
    return as_dtype(arr.dtype)


def encode_strings(value):
    """An object array of bytes (TF strings are bytes; Python str is UTF-8 encoded)."""
    array = np.asarray(value, dtype=object)
    out = np.empty(array.shape, dtype=object)
    out.reshape(-1)[:] = [s.encode() if isinstance(s, str) else s for s in array.reshape(-1)]
    return out
