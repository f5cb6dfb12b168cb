"""Grouping and checking: group, tuple, with_dependencies, check_numerics, Print, Assert."""
import builtins
import sys

import numpy as np

from ..framework import dtypes, errors
from ..framework.context import control_dependencies, get_default_graph, name_scope
from ..framework.graph import Tensor
from ..framework.registry import convert_to_tensor, defop
from .array_ops import Identity, NoOp, identity
from .shape_rules import same_shape

__all__ = [
    "group", "tuple", "with_dependencies", "check_numerics", "add_check_numerics_ops", "Print",
    "Assert",
]


def _as_op(x):
    x = getattr(x, "_as_graph_element", lambda: x)()
    return x.op if isinstance(x, Tensor) else x


def group(*inputs, name=None):
    """An op that runs all `inputs` (Tensors/Operations) and produces nothing."""
    if len(inputs) == 1 and isinstance(inputs[0], (list, builtins.tuple)):
        inputs = inputs[0]
    ops = [_as_op(x) for x in inputs if x is not None]
    with control_dependencies(ops):
        return NoOp(name=name or "group_deps")


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 - TF's public name
    """Identities of `tensors` that are only available once all of them are computed."""
    with name_scope(name, "tuple", [t for t in tensors if t is not None]):
        gate = group(*[t for t in tensors if t is not None], *(control_inputs or []),
                     name="control_dependency")
        with control_dependencies([gate]):
            return [None if t is None else identity(t) for t in tensors]


def with_dependencies(dependencies, output_tensor, name=None):
    with name_scope(name, "control_dependency", list(dependencies) + [output_tensor]) as name:
        with control_dependencies(dependencies):
            return Identity(convert_to_tensor(output_tensor), name=name)


def _check_numerics(xp, x, message):
    if not xp.all(xp.isfinite(x)):
        kind = "NaN" if xp.any(xp.isnan(x)) else "Inf"
        raise errors.InvalidArgumentError(None, None, f"{message} : Tensor had {kind} values")
    return x


CheckNumerics = defop("CheckNumerics", shape=same_shape, kernel=_check_numerics,
                      aliases=True, grad=lambda op, dy: [check_numerics(
                          dy, "Not a number (NaN) or infinity (Inf) values detected in "
                          "gradient. " + op.attrs["message"])])


def check_numerics(tensor, message, name=None):
    tensor = convert_to_tensor(tensor)
    if not tensor.dtype.is_floating:
        raise TypeError(f"check_numerics takes a floating tensor; '{tensor.name}' is "
                        f"{tensor.dtype.name}.")
    return CheckNumerics(tensor, message=message, name=name)


def add_check_numerics_ops():
    """One CheckNumerics per floating-point tensor in the default graph, grouped in one op."""
    checks = []
    for op in get_default_graph().get_operations():
        for t in op.outputs:
            if t.dtype.is_floating and op.type != "CheckNumerics":
                with control_dependencies(None):
                    checks.append(check_numerics(t, f"{op.name}:{t.value_index}").op)
    return group(*checks, name="CheckNumerics")


def _print(xp, x, *data, message, first_n, summarize):
    text = " ".join(np.array2string(np.asarray(d), threshold=summarize) for d in data)
    print(f"{message}{text}", file=sys.stderr)
    return x


def _on_host(xp, data):
    """CuPy override helper: np.asarray refuses device arrays, so copy `data` to the host."""
    return [xp.asnumpy(d) for d in data]


PrintOp = defop("Print", shape=same_shape, kernel=_print, aliases=True, stateful=True,
                overrides={"cupy": lambda xp, x, *data, message, first_n, summarize: _print(
                    xp, x, *_on_host(xp, data), message=message, first_n=first_n,
                    summarize=summarize)},  # CuPy: data printed from host copies
                grad=lambda op, dy: [dy] + [None] * (len(op.inputs) - 1))


def Print(input_, data, message=None, first_n=None, summarize=None, name=None):  # noqa: N802
    """TF1's deprecated tf.Print: passes `input_` through and prints `data` to stderr."""
    return PrintOp(convert_to_tensor(input_), *[convert_to_tensor(d) for d in data],
                   message=message or "", first_n=first_n or -1, summarize=summarize or 3,
                   name=name)


def _assert(xp, condition, *data, summarize):
    if not bool(xp.all(condition)):
        shown = ", ".join(np.array2string(np.asarray(d), threshold=summarize) for d in data)
        raise errors.InvalidArgumentError(None, None, f"assertion failed: [{shown}]")
    return ()


def _assert_cupy(xp, condition, *data, summarize):
    """CuPy override of _assert: `data` is copied to the host only when the check fails."""
    if not bool(xp.all(condition)):
        _assert(xp, condition, *_on_host(xp, data), summarize=summarize)
    return ()


AssertOp = defop("Assert", shape=lambda op: [], kernel=_assert, stateful=True,
                 overrides={"cupy": _assert_cupy}, differentiable=False)


def Assert(condition, data, summarize=None, name=None):  # noqa: N802
    condition = convert_to_tensor(condition)
    if condition.dtype is not dtypes.bool:
        raise TypeError(f"Assert condition must be bool, got {condition.dtype.name}.")
    return AssertOp(condition, *[convert_to_tensor(d) for d in data],
                    summarize=summarize or 3, name=name or "Assert")


