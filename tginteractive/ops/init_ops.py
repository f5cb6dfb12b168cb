"""Initializers (TF1's `tf.*_initializer` classes): callables `init(shape, dtype)` → Tensor.

get_variable calls them inside the variable's `Initializer` name scope; `tf.Variable` takes
`lambda: init(shape)`. Fan-based ones follow TF1's VarianceScaling exactly (fans from the
last two dims times the receptive field; truncated normal corrected by 0.8796...).
"""
import math

import numpy as np

from ..framework import dtypes
from ..framework.shapes import as_shape
from .array_ops import constant, zeros, ones
from .random_ops import random_normal, random_uniform, truncated_normal

__all__ = [
    "Initializer", "zeros_initializer", "ones_initializer", "constant_initializer",
    "random_normal_initializer", "random_uniform_initializer", "truncated_normal_initializer",
    "variance_scaling_initializer", "glorot_uniform_initializer", "glorot_normal_initializer",
    "orthogonal_initializer", "identity_initializer",
]


class Initializer:
    """Base class: subclasses implement __call__(shape, dtype=None, partition_info=None)."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def _dtype(self, dtype):
        return self.dtype if dtype is None else dtypes.as_dtype(dtype)

    def get_config(self):
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _dims(shape):
    return as_shape(shape).as_list()


class zeros_initializer(Initializer):  # noqa: N801 - TF's public name
    def __call__(self, shape, dtype=None, partition_info=None):
        return zeros(_dims(shape), self._dtype(dtype), name="zeros")


class ones_initializer(Initializer):  # noqa: N801
    def __call__(self, shape, dtype=None, partition_info=None):
        return ones(_dims(shape), self._dtype(dtype), name="ones")


class constant_initializer(Initializer):  # noqa: N801
    """A scalar fills the shape; a list/array must have exactly the shape's element count."""

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        super().__init__(dtype)
        self.value, self.verify_shape = value, verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        verify = self.verify_shape if verify_shape is None else verify_shape
        return constant(self.value, self._dtype(dtype), _dims(shape), name="Const",
                        verify_shape=verify)


class random_normal_initializer(Initializer):  # noqa: N801
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        super().__init__(dtype)
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_normal(_dims(shape), self.mean, self.stddev, self._dtype(dtype),
                             seed=self.seed)


class truncated_normal_initializer(random_normal_initializer):  # noqa: N801
    def __call__(self, shape, dtype=None, partition_info=None):
        return truncated_normal(_dims(shape), self.mean, self.stddev, self._dtype(dtype),
                                seed=self.seed)


class random_uniform_initializer(Initializer):  # noqa: N801
    def __init__(self, minval=0.0, maxval=None, seed=None, dtype=dtypes.float32):
        super().__init__(dtype)
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        maxval = self.maxval if self.maxval is not None or dtype.is_integer else 1.0
        return random_uniform(_dims(shape), self.minval, maxval, dtype, seed=self.seed)


def compute_fans(shape):
    """(fan_in, fan_out) as TF1 computes them for dense and convolution kernels."""
    shape = _dims(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = int(np.prod(shape[:-2]))
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class variance_scaling_initializer(Initializer):  # noqa: N801
    """Samples with variance scale/n, n = fan_in, fan_out or their average (`mode`)."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("normal", "truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32):
        super().__init__(dtype)
        if scale <= 0.0:
            raise ValueError(f"`scale` must be a positive float, got {scale}.")
        if mode not in self._MODES:
            raise ValueError(f"Invalid `mode` {mode!r}: expected one of {self._MODES}.")
        if distribution.lower() not in self._DISTRIBUTIONS:
            raise ValueError(f"Invalid `distribution` {distribution!r}: expected one of "
                             f"{self._DISTRIBUTIONS}.")
        self.scale, self.mode, self.distribution = scale, mode, distribution.lower()
        self.seed = seed

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, n[self.mode])
        dims = _dims(shape)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(scale) / 0.87962566103423978  # std of a [-2, 2] truncated N(0,1)
            return truncated_normal(dims, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_normal(dims, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_uniform(dims, -limit, limit, dtype, seed=self.seed)


class glorot_uniform_initializer(variance_scaling_initializer):  # noqa: N801
    """Xavier uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)


class glorot_normal_initializer(variance_scaling_initializer):  # noqa: N801
    """Xavier normal: truncated N(0, 2 / (fan_in + fan_out))."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)


def he_normal(seed=None):
    return variance_scaling_initializer(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None):
    return variance_scaling_initializer(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None):
    return variance_scaling_initializer(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None):
    return variance_scaling_initializer(1.0, "fan_in", "uniform", seed)


class orthogonal_initializer(Initializer):  # noqa: N801
    """A (scaled) orthogonal matrix from the QR decomposition of a Gaussian sample, computed
    when the graph is built (seeded by `seed`, else NumPy's global generator)."""

    def __init__(self, gain=1.0, seed=None, dtype=dtypes.float32):
        super().__init__(dtype)
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None, partition_info=None):
        dims = _dims(shape)
        if len(dims) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        rows, cols = int(np.prod(dims[:-1])), dims[-1]
        rng = np.random.RandomState(self.seed)
        q, r = np.linalg.qr(rng.normal(size=(max(rows, cols), min(rows, cols))))
        q = q * np.sign(np.diag(r))
        q = q.T if rows < cols else q
        return constant(self.gain * q.reshape(dims), self._dtype(dtype))


class identity_initializer(Initializer):  # noqa: N801
    def __init__(self, gain=1.0, dtype=dtypes.float32):
        super().__init__(dtype)
        self.gain = gain

    def __call__(self, shape, dtype=None, partition_info=None):
        dims = _dims(shape)
        if len(dims) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices.")
        return constant(self.gain * np.eye(*dims), self._dtype(dtype))
