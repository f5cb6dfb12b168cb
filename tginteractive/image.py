"""`tf.image`: TF 1.x's image namespace, for the names this library has (re-exports only)."""
from .ops.image_ops import (  # noqa: F401
    ResizeMethod, convert_image_dtype, decode_image, decode_jpeg, decode_png, flip_left_right,
    flip_up_down, per_image_standardization, random_flip_left_right, random_flip_up_down,
    resize, resize_images)

__all__ = sorted(name for name in dir() if not name.startswith("_"))
