"""Learning-rate schedules (TF1's `tf.train.*_decay`), built from ordinary graph ops.

Each returns a scalar tensor of the learning rate's dtype that depends on `global_step`
(usually the global-step variable), so it can be passed straight to an optimizer:

    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.1, step, decay_steps=100, decay_rate=0.96)
    train = tf.train.AdamOptimizer(lr).minimize(loss, global_step=step)

The formulas and the dtype rules (everything is cast to the learning rate's dtype) are those of
TF's `learning_rate_schedule.py`; `piecewise_constant` uses `where` instead of `tf.case`.
"""
import math

from ..framework import dtypes
from ..framework.context import name_scope
from ..framework.registry import convert_to_tensor
from ..ops.array_ops import cast
from ..ops.math_ops import add, ceil, cos, equal, exp, floor, minimum, multiply, pow, truediv, where

__all__ = ["exponential_decay", "piecewise_constant", "polynomial_decay", "natural_exp_decay",
           "inverse_time_decay", "cosine_decay"]


def _require_step(global_step, fn):
    if global_step is None:
        raise ValueError(f"global_step is required for {fn}.")


def _start(learning_rate, global_step, *others):
    """(lr tensor, step as lr's dtype, each of `others` as lr's dtype)."""
    lr = convert_to_tensor(learning_rate, name="learning_rate")
    dtype = lr.dtype
    return (lr, cast(global_step, dtype)) + tuple(cast(x, dtype) for x in others)


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * decay_rate ^ (global_step / decay_steps)  (exponent floored if
    staircase)."""
    _require_step(global_step, "exponential_decay")
    with name_scope(name, "ExponentialDecay", [learning_rate, global_step]) as scope:
        lr, step, steps, rate = _start(learning_rate, global_step, decay_steps, decay_rate)
        return multiply(lr, pow(rate, _progress(step, steps, staircase)), name=scope)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * exp(-decay_rate * global_step / decay_steps), computed as TF does:
    an exponential decay with rate exp(-decay_rate)."""
    _require_step(global_step, "natural_exp_decay")
    with name_scope(name, "NaturalExpDecay", [learning_rate, global_step]) as scope:
        lr, step, steps, rate = _start(learning_rate, global_step, decay_steps, decay_rate)
        return multiply(lr, pow(exp(-rate), _progress(step, steps, staircase)), name=scope)


def _progress(step, steps, staircase):
    p = step / steps
    return floor(p) if staircase else p


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    """learning_rate / (1 + decay_rate * global_step / decay_steps)  (floored if staircase)."""
    _require_step(global_step, "inverse_time_decay")
    with name_scope(name, "InverseTimeDecay", [learning_rate, global_step]) as scope:
        lr, step, steps, rate = _start(learning_rate, global_step, decay_steps, decay_rate)
        return truediv(lr, 1 + rate * _progress(step, steps, staircase), name=scope)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    """(learning_rate - end) * (1 - step / decay_steps) ^ power + end, with step clipped to
    decay_steps; with cycle, decay_steps grows to the next multiple above the step."""
    _require_step(global_step, "polynomial_decay")
    with name_scope(name, "PolynomialDecay", [learning_rate, global_step]) as scope:
        lr, step, steps, end, pw = _start(learning_rate, global_step, decay_steps,
                                          end_learning_rate, power)
        if cycle:
            one = convert_to_tensor(1.0, dtype=lr.dtype)
            multiplier = where(equal(step, 0), one, ceil(step / steps))
            steps = steps * multiplier
        else:
            step = minimum(step, steps)
        p = step / steps
        return add((lr - end) * pow(1 - p, pw), end, name=scope)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))
    + alpha)."""
    _require_step(global_step, "cosine_decay")
    with name_scope(name, "CosineDecay", [learning_rate, global_step]) as scope:
        lr, step, steps = _start(learning_rate, global_step, decay_steps)
        fraction = minimum(step, steps) / steps
        cosine = 0.5 * (1.0 + cos(math.pi * fraction))
        decayed = (1 - alpha) * cosine + alpha
        return multiply(lr, decayed, name=scope)


def piecewise_constant(x, boundaries, values, name=None):
    """values[0] while x <= boundaries[0], values[i] while boundaries[i-1] < x <= boundaries[i],
    values[-1] once x > boundaries[-1]. Boundaries take x's dtype (int32 -> int64 promoted);
    all values must share one dtype."""
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    with name_scope(name, "PiecewiseConstant", [x]) as scope:
        x = convert_to_tensor(x)
        bounds = [_boundary(b, x) for b in boundaries]
        vals = [convert_to_tensor(v) for v in values]
        for v in vals[1:]:
            if v.dtype is not vals[0].dtype:
                raise ValueError(f"Values must have elements all with the same dtype "
                                 f"({vals[0].dtype.name} vs {v.dtype.name}).")
        out = vals[-1]
        for i in reversed(range(len(bounds))):
            out = where(x <= bounds[i], vals[i], out,
                        name=scope if i == 0 else None)
        return out


def _boundary(b, x):
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        if x.dtype.is_integer and isinstance(b, float):
            raise ValueError(f"Boundaries (float32) must have the same dtype as x "
                             f"({x.dtype.name}).")
        return convert_to_tensor(b, dtype=x.dtype)
    b = convert_to_tensor(b)
    if b.dtype is x.dtype:
        return b
    if b.dtype is dtypes.int32 and x.dtype is dtypes.int64:
        return cast(b, dtypes.int64)
    raise ValueError(f"Boundaries ({b.dtype.name}) must have the same dtype as x "
                     f"({x.dtype.name}).")
