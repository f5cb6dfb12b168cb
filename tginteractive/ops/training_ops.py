"""Fused optimizer updates: each reads and writes its variable (and slots) in session state."""
from ..framework import errors
from ..framework.registry import defop


def variable_value(ctx, index):
    """The current value of the variable named by input `index` (error if uninitialized)."""
    name = ctx.op.inputs[index].op.name
    value = ctx.state.variables.get(name)
    if value is None:
        raise errors.FailedPreconditionError(
            None, None, f"Attempting to use uninitialized value {name}. Run its initializer "
            "first, e.g. sess.run(tf.global_variables_initializer()).")
    return value


def store(ctx, index, value):
    ctx.state.variables[ctx.op.inputs[index].op.name] = value
    return value


def _apply_gradient_descent(ctx, xp, var, alpha, delta, use_locking):
    value = variable_value(ctx, 0)
    return store(ctx, 0, value - alpha * delta)  # alpha and delta have the variable's dtype


ApplyGradientDescent = defop(
    "ApplyGradientDescent", shape=lambda op: op.inputs[0].shape, kernel=_apply_gradient_descent,
    needs_ctx=True, stateful=True, aliases=True, differentiable=False, ref_inputs=(0,))
