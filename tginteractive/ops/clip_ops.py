"""Clipping: clip_by_value, clip_by_norm, global_norm, clip_by_global_norm, clip_by_average_norm.

All are composites of existing ops, built the way TF 1.x builds them, so their gradients are
TF's: `clip_by_value` is Minimum then Maximum, and both pass the gradient to `t` where `t` sits
exactly on a bound (TF: clip_by_value([0, 1, .5, -1, 2], 0, 1) has gradient [1, 1, 1, 0, 0]).
"""
import collections.abc

from ..framework import dtypes
from ..framework.context import name_scope
from ..framework.registry import convert_to_tensor
from .array_ops import cast, constant, identity, ones_like, size
from .math_ops import add_n, greater, maximum, minimum, rsqrt, sqrt, square, where
from .op_utils import check_floating
from .reduction_ops import reduce_sum

__all__ = [
    "clip_by_value", "clip_by_norm", "global_norm", "clip_by_global_norm",
    "clip_by_average_norm",
]


def _check_no_broadcast(t, result, what):
    """TF refuses clip arguments that would broadcast `t` to a bigger shape."""
    if not t.shape.is_compatible_with(result.shape):
        raise ValueError(f"Shapes {t.shape} and {result.shape} are incompatible: the {what} "
                         f"arguments would broadcast '{t.name}' to a larger shape. Give "
                         f"them a shape that broadcasts to {t.shape}.")


def _check_sequence(t_list, fn):
    if not isinstance(t_list, collections.abc.Sequence) or isinstance(t_list, (str, bytes)):
        raise TypeError(f"`t_list` should be a sequence of tensors. Received {type(t_list)}. "
                        f"Pass a list, e.g. tf.{fn}([t]).")


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """min(max(t, clip_value_min), clip_value_max) elementwise. Like TF, a minimum greater
    than the maximum is not checked (every element becomes clip_value_min)."""
    with name_scope(name, "clip_by_value", [t, clip_value_min, clip_value_max]) as name:
        t = convert_to_tensor(t, name="t")
        t_min = minimum(t, clip_value_max)
        t_max = maximum(t_min, clip_value_min, name=name)
        _check_no_broadcast(t, t_max, "clip_value_min/clip_value_max")
    return t_max


def _safe_norm(l2sum):
    """sqrt(l2sum) with a finite gradient at 0 (TF's two-tap `where`: no 0 * inf = NaN)."""
    positive = greater(l2sum, 0)
    l2sum_safe = where(positive, l2sum, ones_like(l2sum))
    return where(positive, sqrt(l2sum_safe), l2sum)


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """t * clip_norm / max(||t||_2, clip_norm), the L2 norm taken over `axes` (default all)."""
    with name_scope(name, "clip_by_norm", [t, clip_norm]) as name:
        values = convert_to_tensor(t, name="t")
        check_floating(values, "clip_by_norm", "t")
        l2norm = _safe_norm(reduce_sum(values * values, axes, keepdims=True))
        intermediate = values * clip_norm
        _check_no_broadcast(values, intermediate, "clip_norm")
        return identity(intermediate / maximum(l2norm, clip_norm), name=name)


def global_norm(t_list, name=None):
    """sqrt(sum of squares of every element of every tensor in t_list); None entries are
    ignored and an empty (or all-None) list gives 0.0."""
    _check_sequence(t_list, "global_norm")
    t_list = list(t_list)
    with name_scope(name, "global_norm", t_list) as name:
        values = [convert_to_tensor(t) for t in t_list if t is not None]
        for v in values:
            check_floating(v, "global_norm", "t")
        if not values:
            return sqrt(constant(0.0, dtypes.float32), name="global_norm")
        squared = add_n([reduce_sum(square(v)) for v in values])
        return sqrt(squared, name="global_norm")


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scale every tensor by clip_norm / max(global_norm, clip_norm); returns the clipped list
    (None entries stay None) and the global norm. An inf or NaN norm makes every output NaN,
    as in TF."""
    _check_sequence(t_list, "clip_by_global_norm")
    t_list = list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    use_norm = convert_to_tensor(use_norm)
    with name_scope(name, "clip_by_global_norm", t_list + [clip_norm]) as name:
        one = constant(1.0, use_norm.dtype)
        scale_for_finite = clip_norm * minimum(1.0 / use_norm, one / clip_norm)
        scale = scale_for_finite + (use_norm - use_norm)  # NaN unless the norm is finite
        clipped = []
        for i, t in enumerate(t_list):
            if t is None:
                clipped.append(None)
                continue
            t = convert_to_tensor(t)
            clipped.append(identity(t * cast(scale, t.dtype), name=f"{name}_{i}"))
    return clipped, use_norm


def clip_by_average_norm(t, clip_norm, name=None):
    """t * clip_norm / max(||t||_2 / size(t), clip_norm) (deprecated in TF, kept for TF1 code).
    Unlike TF, the element count is cast to t's dtype, so float64 tensors work too."""
    with name_scope(name, "clip_by_average_norm", [t, clip_norm]) as name:
        t = convert_to_tensor(t, name="t")
        check_floating(t, "clip_by_average_norm", "t")
        n_element = cast(size(t), t.dtype)
        l2norm_inv = rsqrt(reduce_sum(t * t))
        one = constant(1.0, t.dtype)
        return identity(t * clip_norm * minimum(l2norm_inv * n_element, one / clip_norm),
                        name=name)
