"""Device backends. Only this package may import CuPy, and only lazily (on first GPU use)."""
from .numpy_backend import NUMPY  # noqa: F401

_gpu_count = []


def gpu_count():
    """How many CUDA GPUs CuPy can use (0 without CuPy or a driver). Cached; it never
    allocates GPU memory or creates a CUDA context."""
    if not _gpu_count:
        try:
            from .cupy_backend import visible_gpu_count
            _gpu_count.append(visible_gpu_count())
        except Exception:  # no CuPy, no driver, no device: all mean "no GPU"
            _gpu_count.append(0)
    return _gpu_count[0]


def gpu_backend(index):
    """The CuPy backend for GPU `index` (CuPy imported here, on first use)."""
    from .cupy_backend import CupyBackend
    return CupyBackend.for_device(index)
