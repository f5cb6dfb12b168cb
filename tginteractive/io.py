"""`tf.io`: TF 1.x's I/O namespace, for the names this library has (re-exports only)."""
from .ops.image_ops import decode_image, decode_jpeg, decode_png  # noqa: F401
from .ops.io_ops import decode_csv, read_file, write_file  # noqa: F401

__all__ = sorted(name for name in dir() if not name.startswith("_"))
