"""Device backends. Only this package may import CuPy, and only lazily."""
from .numpy_backend import NUMPY  # noqa: F401
