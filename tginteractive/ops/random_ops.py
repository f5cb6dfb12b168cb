"""Random ops with TF1's seeding rules: uniform, normal, truncated normal, shuffle, multinomial.

Seeds follow `get_seed(op_seed)`: a graph seed (`tf.set_random_seed`) and/or an op seed give a
`(seed, seed2)` pair stored on the op; with neither, draws are nondeterministic. Each random op
keeps one NumPy generator per session (in the session's RunState), created on first use from
`PCG64([seed, seed2])`, so two new sessions on a seeded graph replay the same draws, repeated
runs in one session differ, and two random ops in one graph differ. The values are NumPy's,
not TF's Philox stream. Random ops are not differentiable; the `mean`/`stddev`/`minval`/
`maxval` scaling around them is built from ordinary ops, so those arguments get gradients.
"""
import numpy as np

from ..framework import dtypes, errors
from ..framework.context import get_default_graph, name_scope
from ..framework.registry import constant_value, convert_to_tensor, defop
from ..framework.shapes import TensorShape
from .array_ops import as_shape_tensor
from .op_utils import shape_from_tensor

__all__ = [
    "random_normal", "random_uniform", "truncated_normal", "random_shuffle", "multinomial",
    "get_seed",
]
RANDOM_ONLY = ["categorical"]  # exists only as tf.random.* in TF 1.x

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2 ** 31 - 1


def get_seed(op_seed):
    """TF1's `(seed, seed2)` for an op: (None, None) when neither graph nor op seed is set."""
    graph = get_default_graph()
    if graph.seed is not None:
        if op_seed is None:
            op_seed = graph._last_id  # TF1.x: ops created so far in this graph
        seeds = (int(graph.seed) % _MAXINT32, int(op_seed) % _MAXINT32)
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, int(op_seed) % _MAXINT32)
    else:
        return None, None
    return (0, _MAXINT32) if seeds == (0, 0) else seeds  # (0, 0) means "unseeded" on the op


def _seed_attrs(seed):
    seed, seed2 = get_seed(seed)
    return {"seed": seed or 0, "seed2": seed2 or 0}


def _generator(ctx, seed, seed2):
    """This op's generator in this session, created on first use (fresh for a rebuilt op)."""
    entry = ctx.state.rngs.get(ctx.op.name)
    if entry is None or entry[0] is not ctx.op:
        bits = np.random.PCG64([seed, seed2]) if seed or seed2 else np.random.PCG64()
        entry = ctx.state.rngs[ctx.op.name] = (ctx.op, np.random.Generator(bits))
    return entry[1]


def _dims(shape_value):
    dims = tuple(int(d) for d in np.reshape(np.asarray(shape_value.tolist()), [-1]))
    if any(d < 0 for d in dims):
        raise errors.InvalidArgumentError(None, None, f"Shape {list(dims)} has a negative "
                                          "dimension; random ops need a fully known shape.")
    return dims


def _float_draw(draw, xp, shape, dtype):
    """`draw(size, dtype)` in float32/float64 (NumPy's generator has no float16), as `dtype`."""
    np_dtype = dtype.as_numpy_dtype
    wide = np_dtype if np_dtype in (np.float32, np.float64) else np.float32
    return xp.asarray(draw(_dims(shape), wide).astype(np_dtype, copy=False))


def _random_shape(op):
    return shape_from_tensor(op.inputs[0])


def _attr_dtype(op):
    return op.attrs["dtype"]


_RANDOM = dict(needs_ctx=True, stateful=True, differentiable=False)


# ---- RandomUniform / RandomUniformInt ------------------------------------------------------
def _uniform(ctx, xp, shape, dtype, seed, seed2):
    rng = _generator(ctx, seed, seed2)
    return _float_draw(lambda size, dt: rng.random(size, dtype=dt), xp, shape, dtype)


RandomUniform = defop("RandomUniform", shape=_random_shape, dtype=_attr_dtype,
                      kernel=_uniform, **_RANDOM)


def _uniform_int(ctx, xp, shape, minval, maxval, seed, seed2):
    lo, hi = minval.item(), maxval.item()
    if lo >= hi:
        raise errors.InvalidArgumentError(None, None, f"Need minval < maxval: {lo} >= {hi}")
    rng = _generator(ctx, seed, seed2)
    return xp.asarray(rng.integers(lo, hi, size=_dims(shape), dtype=minval.dtype))


RandomUniformInt = defop("RandomUniformInt", shape=_random_shape,
                         dtype=lambda op: op.inputs[1].dtype, kernel=_uniform_int, **_RANDOM)


def _check_dtype(dtype, allowed, what):
    dtype = dtypes.as_dtype(dtype)
    if dtype not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise TypeError(f"{what}: dtype {dtype.name} is not one of the allowed dtypes: {names}.")
    return dtype


_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Uniform values in [minval, maxval); integer dtypes need `maxval`."""
    dtype = _check_dtype(dtype, _FLOATS + (dtypes.int32, dtypes.int64), "random_uniform")
    if dtype.is_integer and maxval is None:
        raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
    with name_scope(name, "random_uniform", [shape, minval, maxval]) as name:
        shape = as_shape_tensor(shape)
        unit = _is_int(minval, 0) and (maxval is None or _is_int(maxval, 1))
        if not unit or dtype.is_integer:  # TF's fast path: the default [0, 1) needs no math
            minval = convert_to_tensor(minval, dtype=dtype, name="min")
            maxval = convert_to_tensor(1 if maxval is None else maxval, dtype=dtype,
                                       name="max")
        if dtype.is_integer:
            return RandomUniformInt(shape, minval, maxval, name=name, **_seed_attrs(seed))
        rnd = RandomUniform(shape, dtype=dtype, **_seed_attrs(seed))
        return rnd if unit else _add(rnd * (maxval - minval), minval, name)


def _is_int(value, target):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) \
        and value == target


def _add(x, y, name):
    from .math_ops import add
    return add(x, y, name=name)


# ---- RandomStandardNormal / TruncatedNormal ------------------------------------------------
def _normal(ctx, xp, shape, dtype, seed, seed2):
    rng = _generator(ctx, seed, seed2)
    return _float_draw(lambda size, dt: rng.standard_normal(size, dtype=dt), xp, shape, dtype)


RandomStandardNormal = defop("RandomStandardNormal", shape=_random_shape, dtype=_attr_dtype,
                             kernel=_normal, **_RANDOM)


def truncated_draw(rng, size, dtype):
    """Standard normal values, each one beyond two standard deviations drawn again."""
    out = rng.standard_normal(size, dtype=dtype)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()), dtype=dtype)
        bad = np.abs(out) > 2
    return out


def _truncated(ctx, xp, shape, dtype, seed, seed2):
    rng = _generator(ctx, seed, seed2)
    return _float_draw(lambda size, dt: truncated_draw(rng, size, dt), xp, shape, dtype)


TruncatedNormal = defop("TruncatedNormal", shape=_random_shape, dtype=_attr_dtype,
                        kernel=_truncated, **_RANDOM)


def _scaled_normal(op_def, default_name, shape, mean, stddev, dtype, seed, name):
    dtype = _check_dtype(dtype, _FLOATS, default_name)
    with name_scope(name, default_name, [shape, mean, stddev]) as name:
        shape = as_shape_tensor(shape)
        mean = convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = op_def(shape, dtype=dtype, **_seed_attrs(seed))
        return _add(rnd * stddev, mean, name)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    return _scaled_normal(RandomStandardNormal, "random_normal", shape, mean, stddev, dtype,
                          seed, name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal values, redrawn where more than two standard deviations from the mean."""
    return _scaled_normal(TruncatedNormal, "truncated_normal", shape, mean, stddev, dtype,
                          seed, name)


# ---- RandomShuffle -------------------------------------------------------------------------
def _shuffle(ctx, xp, value, seed, seed2):
    if value.ndim == 0:
        return value.copy()
    order = _generator(ctx, seed, seed2).permutation(value.shape[0])
    return value[xp.asarray(order)]


RandomShuffle = defop("RandomShuffle", shape=lambda op: op.inputs[0].shape, kernel=_shuffle,
                      **_RANDOM)


def random_shuffle(value, seed=None, name=None):
    """`value` with its first dimension randomly permuted."""
    value = convert_to_tensor(value)
    return RandomShuffle(value, name=name, **_seed_attrs(seed))


# ---- Multinomial ---------------------------------------------------------------------------
def multinomial_draw(rng, logits, num_samples):
    """Class indices drawn from softmax(logits) per row, by the Gumbel-max trick."""
    logits = np.asarray(logits, dtype=np.float64)
    noise = rng.gumbel(size=(logits.shape[0], num_samples, logits.shape[1]))
    return np.argmax(logits[:, None, :] + noise, axis=-1)


def _multinomial(ctx, xp, logits, num_samples, seed, seed2, output_dtype):
    rng = _generator(ctx, seed, seed2)
    draws = multinomial_draw(rng, _host(logits), int(num_samples))
    return xp.asarray(draws.astype(output_dtype.as_numpy_dtype))


def _host(value):
    return value.get() if hasattr(value, "get") else value


def _multinomial_shape(op):
    logits = op.inputs[0].shape
    if logits.ndims is not None and logits.ndims != 2:
        raise ValueError(f"logits should be a matrix, got shape {logits}")
    batch = logits.dims[0] if logits.dims is not None else None
    samples = constant_value(op.inputs[1])
    return TensorShape([batch, None if samples is None else int(samples)])


Multinomial = defop("Multinomial", shape=_multinomial_shape,
                    dtype=lambda op: op.attrs["output_dtype"], kernel=_multinomial, **_RANDOM)


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=dtypes.int64):
    """`num_samples` class indices per row of the [batch, classes] `logits` (unnormalised)."""
    return _draw_classes(logits, num_samples, seed, output_dtype, name, "multinomial")


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """tf.random.categorical: multinomial with TF2's argument names (`dtype`: int64)."""
    return _draw_classes(logits, num_samples, seed, dtype or dtypes.int64, name, "categorical")


def _draw_classes(logits, num_samples, seed, output_dtype, name, default_name):
    with name_scope(name, default_name, [logits]):
        logits = convert_to_tensor(logits, name="logits")
        num_samples = convert_to_tensor(num_samples, dtype=dtypes.int32, name="num_samples")
        return Multinomial(logits, num_samples, output_dtype=dtypes.as_dtype(output_dtype),
                           **_seed_attrs(seed))
