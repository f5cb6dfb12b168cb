"""The GPU backend: kernels run on CuPy arrays, one backend instance per CUDA device.

Only `backends/__init__.py` imports this module, lazily (on the first GPU query), so
`import tginteractive` never imports CuPy. Kernels see `xp = cupy`; the few kernels whose
NumPy code does not work on CuPy carry an `overrides={"cupy": ...}` next to their op.

Device values are `cupy.ndarray`s living on this backend's device. Strings (object arrays)
never go to a GPU: placing one raises TypeError, as TF keeps string tensors in host memory.
Discovery (`visible_gpu_count`, `memory_limit_bytes`) queries the CUDA runtime only: it
never allocates GPU memory nor creates a CUDA context.
"""
import contextlib
import threading

import numpy as np

from .base import Backend
from .numpy_backend import NUMPY

try:
    import cupy
except ImportError as e:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "tginteractive's GPU backend needs CuPy, which could not be imported "
        f"({e}). Install the wheel matching your CUDA toolkit, e.g. "
        "`pip install cupy-cuda12x` (CUDA 12) or `pip install cupy-cuda11x` (CUDA 11); "
        "tginteractive runs on the CPU without it.") from e

__all__ = ["CupyBackend", "visible_gpu_count"]

_HOST_ONLY_KINDS = "OSUV"  # object (TF strings), bytes, str, void: never on a GPU


def visible_gpu_count():
    """How many CUDA devices CuPy sees (CUDA_VISIBLE_DEVICES applies); 0 on any CUDA error
    (no driver, driver too old, no device). Asks the runtime only: no context, no memory."""
    try:
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # CUDARuntimeError, or a CUDA library that fails to load
        return 0


class CupyBackend(Backend):
    """CuPy on CUDA device `index`. Use `CupyBackend.for_device(index)`: one per device."""

    name = "cupy"
    xp = cupy
    _instances = {}
    _lock = threading.Lock()

    def __init__(self, index):
        self.index = int(index)
        self._memory_limit = None

    @classmethod
    def for_device(cls, index):
        """The (cached) backend of GPU `index`; IndexError when CuPy has no such device."""
        index = int(index)
        backend = cls._instances.get(index)
        if backend is None:
            with cls._lock:
                backend = cls._instances.get(index)
                if backend is None:
                    count = visible_gpu_count()
                    if not 0 <= index < count:
                        raise IndexError(f"GPU {index} does not exist: CuPy sees {count} "
                                         "CUDA device(s) (check CUDA_VISIBLE_DEVICES).")
                    backend = cls._instances[index] = cls(index)
        return backend

    def __repr__(self):
        return f"<CupyBackend GPU:{self.index}>"

    # ---- device facts ---------------------------------------------------------------------
    @property
    def memory_limit_bytes(self):
        """The device's total memory (cudaGetDeviceProperties: no context, no allocation).
        TF reports the memory its allocator may use; the total is the closest figure that
        can be read without creating a context. Falls back to Backend's default."""
        if self._memory_limit is None:
            try:
                props = cupy.cuda.runtime.getDeviceProperties(self.index)
                self._memory_limit = int(props["totalGlobalMem"])
            except Exception:
                self._memory_limit = Backend.memory_limit_bytes
        return self._memory_limit

    def quiet(self):
        return contextlib.nullcontext()  # CuPy never warns about floating-point errors

    def run_context(self):
        """This GPU made current. Every `with` here uses a fresh `cupy.cuda.Device`: each
        keeps its own stack of previous devices, so threads must never share one."""
        return cupy.cuda.Device(self.index)

    # ---- transfers --------------------------------------------------------------------------
    def from_host(self, value):
        """A host value (NumPy array or scalar, Python number) as a CuPy array on this GPU.
        A CuPy array already here passes through; one on another GPU is copied over."""
        if isinstance(value, cupy.ndarray):
            return value if value.device.id == self.index else self._peer_copy(value)
        if value is None:
            return None
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
        if array.dtype.kind in _HOST_ONLY_KINDS:
            raise TypeError(
                f"Cannot place a value of dtype {array.dtype} on GPU:{self.index}: strings "
                "and other Python objects stay on the CPU (TF keeps string tensors in host "
                "memory). Pin the ops that use it with `with tf.device('/cpu:0'):`.")
        with cupy.cuda.Device(self.index):
            return cupy.asarray(array)

    @staticmethod
    def to_host(value):
        """A device value as a NumPy array (a fresh host copy); host values pass through."""
        if isinstance(value, cupy.ndarray):
            with cupy.cuda.Device(value.device.id):
                return value.get()
        return value

    def transfer(self, value, source):
        """`value`, living on backend `source`, placed on this GPU (a peer copy from another
        GPU, an upload from the host)."""
        if source is self:
            return value
        if isinstance(value, cupy.ndarray):
            return value if value.device.id == self.index else self._peer_copy(value)
        return self.from_host(source.to_host(value))

    def _peer_copy(self, value):
        """A copy on this GPU of a CuPy array living on another one. `ndarray.copy` under
        the destination device copies across devices (cudaMemcpy over unified addressing),
        from contiguous memory only, so the source is made contiguous on its own device first
        (not with ascontiguousarray, which turns 0-d arrays into 1-d). Both devices' streams
        are synchronised: the source is complete before it is read, and the copy is done
        before the source (or its contiguous temporary) can be freed and reused. Simple and
        safe; such copies do not overlap compute."""
        with cupy.cuda.Device(self.index):
            if value.size == 0:
                return cupy.empty(value.shape, value.dtype)
        with cupy.cuda.Device(value.device.id):
            src = value if value.flags.c_contiguous else value.copy(order="C")
            cupy.cuda.get_current_stream().synchronize()
        with cupy.cuda.Device(self.index):
            out = src.copy(order="C")
            cupy.cuda.get_current_stream().synchronize()
        return out

    # ---- fetches ----------------------------------------------------------------------------
    @staticmethod
    def fetch_result(value):
        """What Session.run returns: a NumPy array, or a NumPy scalar for a 0-d value."""
        if isinstance(value, cupy.ndarray):
            with cupy.cuda.Device(value.device.id):
                host = value.get()
            return host[()] if host.ndim == 0 else host
        return NUMPY.fetch_result(value)

    @staticmethod
    def fetch_copy(value):
        """Like fetch_result; a device value's host copy is already never a view."""
        if isinstance(value, cupy.ndarray):
            return CupyBackend.fetch_result(value)
        return NUMPY.fetch_copy(value)
