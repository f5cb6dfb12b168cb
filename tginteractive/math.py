"""`tf.math`: TF 1.x's math namespace, for the names this library has (re-exports only).

Most are the top-level functions themselves (`tf.math.add is tf.add`); `cumulative_logsumexp`,
`reduce_variance`, `reduce_std` and `reduce_euclidean_norm` exist only here, as in TF 1.x.
"""
from .ops.math_ops import (  # noqa: F401
    abs, accumulate_n, add, add_n, ceil, cos, divide, equal, exp, floor, floordiv, floormod,
    greater, greater_equal, less, less_equal, log, log1p, logical_and, logical_not, logical_or,
    logical_xor, maximum, minimum, mod, multiply, negative, not_equal, pow, reciprocal,
    reciprocal_no_nan, round, rsqrt, scalar_mul, sigmoid, sign, sin, sqrt, square,
    squared_difference, subtract, tanh, truediv)
from .ops.nn_ops import in_top_k, log_softmax, softmax, softplus, softsign, top_k  # noqa: F401
from .ops.reduction_ops import (  # noqa: F401
    argmax, argmin, reduce_all, reduce_any, reduce_max, reduce_mean, reduce_min, reduce_prod,
    reduce_sum)
from .ops.scan_ops import (  # noqa: F401
    count_nonzero, cumprod, cumsum, cumulative_logsumexp, reduce_euclidean_norm,
    reduce_logsumexp, reduce_std, reduce_variance, segment_sum, unsorted_segment_sum)

__all__ = sorted(name for name in dir() if not name.startswith("_"))
