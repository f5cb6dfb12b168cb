"""`tf.random`: TF 1.x's random namespace (re-exports only).

`normal`, `uniform`, `shuffle` are `tf.random_normal`, `tf.random_uniform`, `tf.random_shuffle`;
`categorical` is `multinomial` with TF2's argument names (`dtype` for `output_dtype`).
"""
from .framework.context import set_random_seed  # noqa: F401
from .ops.random_ops import categorical, get_seed, multinomial, truncated_normal  # noqa: F401
from .ops.random_ops import random_normal as normal  # noqa: F401
from .ops.random_ops import random_shuffle as shuffle  # noqa: F401
from .ops.random_ops import random_uniform as uniform  # noqa: F401

__all__ = sorted(name for name in dir() if not name.startswith("_"))
