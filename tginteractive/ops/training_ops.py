"""Fused optimizer updates: each reads and writes its variable (and slots) in session state.

The variable and its slots are ref inputs (named, never evaluated: the kernel gets None and
looks the arrays up in `ctx.state.variables`); hyperparameters and the gradient are ordinary
value inputs. Updates follow TF1's kernels (`core/kernels/training_ops.cc`) term for term and
happen IN PLACE with NumPy's `out=` ufuncs, so a step allocates only a temporary or two:
fetched values that could alias a variable are copied by Session.run, and the plan runs ops in
creation order, so every read a gradient needs happens before the update that follows it.
"""
from ..framework import errors
from ..framework.registry import defop
from .variables import mutable_value

__all__ = []


def _check_grad(ctx, var, grad):
    if grad.shape != var.shape:
        raise errors.InvalidArgumentError(
            None, None, f"var and grad do not have the same shape: variable "
            f"'{ctx.op.inputs[0].op.name}' has shape {list(var.shape)}, its gradient has "
            f"shape {list(grad.shape)}.")


def _state(ctx, xp, n_refs, grad):
    """The variable and its slot arrays (writable), after checking the gradient's shape."""
    variables, inputs = ctx.state.variables, ctx.op._inputs
    arrays = []
    for i in range(n_refs):
        value = variables.get(inputs[i].op.name)
        if value.__class__ is not xp.ndarray:  # session state arrays are always writable
            value = mutable_value(ctx, i, xp)   # uninitialized (error) or a scalar
        arrays.append(value)
    shape = arrays[0].shape
    if grad.shape != shape:
        _check_grad(ctx, arrays[0], grad)
    for i in range(1, n_refs):
        if arrays[i].shape != shape:
            raise errors.InvalidArgumentError(
                None, None, f"var and slot '{inputs[i].op.name}' do not have the same "
                f"shape: {list(shape)} vs {list(arrays[i].shape)}.")
    return arrays


def _fused(type, kernel, n_refs, grad_index=None):
    return defop(type, shape=_fused_shape(n_refs, grad_index), kernel=kernel, needs_ctx=True,
                 stateful=True, aliases=True, differentiable=False,
                 ref_inputs=tuple(range(n_refs)))


def _fused_shape(n_refs, grad_index):
    def rule(op):
        var = op.inputs[0]
        gi = len(op.inputs) - 1 if grad_index is None else grad_index
        shape = var.shape
        for j, t in enumerate(op.inputs):
            if j == 0:
                continue
            if j < n_refs or j == gi:
                if not shape.is_compatible_with(t.shape):
                    raise ValueError(f"Shapes must be equal: variable '{var.op.name}' has shape "
                                     f"{shape}, input {j} '{t.name}' has shape {t.shape}")
                shape = shape.merge_with(t.shape)
            elif t.shape.ndims not in (None, 0):
                raise ValueError(f"Hyperparameter input {j} '{t.name}' must be a scalar, "
                                 f"got shape {t.shape}")
        return var.shape
    return rule


# ---- plain gradient descent: var -= alpha * delta ------------------------------------------
def _apply_gradient_descent(ctx, xp, var, alpha, delta, use_locking):
    (var,) = _state(ctx, xp, 1, delta)
    var -= xp.multiply(alpha[()], delta)  # alpha and delta have the variable's dtype
    return var


ApplyGradientDescent = _fused("ApplyGradientDescent", _apply_gradient_descent, 1)


# ---- momentum: accum = accum * momentum + grad; var -= lr * accum ----------------------------
def _apply_momentum(ctx, xp, var, accum, lr, grad, momentum, use_locking, use_nesterov):
    var, accum = _state(ctx, xp, 2, grad)
    lr, momentum = lr[()], momentum[()]
    accum *= momentum
    accum += grad
    if use_nesterov:   # var -= grad * lr + accum * momentum * lr
        step = xp.multiply(grad, lr)
        extra = xp.multiply(accum, momentum)
        extra *= lr
        step += extra
    else:
        step = xp.multiply(accum, lr)
    var -= step
    return var


ApplyMomentum = _fused("ApplyMomentum", _apply_momentum, 2, grad_index=3)


# ---- Adam: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); var -= alpha m / (sqrt(v) + eps) --
def _apply_adam(ctx, xp, var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
                use_locking, use_nesterov):
    var, m, v = _state(ctx, xp, 3, grad)
    lr, beta1, beta2, epsilon = lr[()], beta1[()], beta2[()], epsilon[()]  # 0-d -> scalars
    one = beta1.dtype.type(1)
    alpha = lr * xp.sqrt(one - beta2_power[()]) / (one - beta1_power[()])
    tmp = xp.subtract(grad, m, out=xp.empty_like(var))   # scratch (an array even for 0-d)
    tmp *= one - beta1
    m += tmp
    xp.square(grad, out=tmp)
    tmp -= v
    tmp *= one - beta2
    v += tmp
    if use_nesterov:   # var -= (m * beta1 + (1 - beta1) * grad) * alpha / (sqrt(v) + eps)
        num = xp.multiply(m, beta1)
        xp.multiply(grad, one - beta1, out=tmp)
        num += tmp
        num *= alpha
    else:
        num = xp.multiply(m, alpha)
    xp.sqrt(v, out=tmp)
    tmp += epsilon
    num /= tmp
    var -= num
    return var


ApplyAdam = _fused("ApplyAdam", _apply_adam, 3)


# ---- RMSProp: ms += (g^2 - ms)(1 - rho); mom = mom * momentum + lr g / sqrt(ms + eps) ------
def _rms_tail(xp, var, ms, mom, lr, momentum, grad, denom):
    """mom = mom * momentum + grad * lr / sqrt(denom); var -= mom (`denom` is scratch)."""
    xp.sqrt(denom, out=denom)
    step = xp.multiply(grad, lr)
    step /= denom
    mom *= momentum
    mom += step
    var -= mom
    return var


def _apply_rms_prop(ctx, xp, var, ms, mom, lr, rho, momentum, epsilon, grad, use_locking):
    var, ms, mom = _state(ctx, xp, 3, grad)
    lr, rho, momentum, epsilon = lr[()], rho[()], momentum[()], epsilon[()]
    tmp = xp.square(grad, out=xp.empty_like(var))
    tmp -= ms
    tmp *= rho.dtype.type(1) - rho
    ms += tmp
    xp.add(ms, epsilon, out=tmp)
    return _rms_tail(xp, var, ms, mom, lr, momentum, grad, tmp)


def _apply_centered_rms_prop(ctx, xp, var, mg, ms, mom, lr, rho, momentum, epsilon, grad,
                             use_locking):
    var, mg, ms, mom = _state(ctx, xp, 4, grad)
    lr, rho, momentum, epsilon = lr[()], rho[()], momentum[()], epsilon[()]
    one_minus_rho = rho.dtype.type(1) - rho
    tmp = xp.square(grad, out=xp.empty_like(var))
    tmp -= ms
    tmp *= one_minus_rho
    ms += tmp
    xp.subtract(grad, mg, out=tmp)
    tmp *= one_minus_rho
    mg += tmp
    xp.square(mg, out=tmp)        # denom = (ms - mg^2) + epsilon
    xp.subtract(ms, tmp, out=tmp)
    tmp += epsilon
    return _rms_tail(xp, var, ms, mom, lr, momentum, grad, tmp)


ApplyRMSProp = _fused("ApplyRMSProp", _apply_rms_prop, 3)
ApplyCenteredRMSProp = _fused("ApplyCenteredRMSProp", _apply_centered_rms_prop, 4)


# ---- Adagrad: accum += g^2; var -= lr g / sqrt(accum) ----------------------------------------
def _apply_adagrad(ctx, xp, var, accum, lr, grad, use_locking, update_slots):
    var, accum = _state(ctx, xp, 2, grad)
    lr = lr[()]
    tmp = xp.empty_like(var)
    if update_slots:
        accum += xp.square(grad, out=tmp)
    xp.sqrt(accum, out=tmp)       # TF1: var -= grad * lr * rsqrt(accum), rsqrt ~ 1 ulp off
    step = xp.multiply(grad, lr)
    step /= tmp
    var -= step
    return var


ApplyAdagrad = _fused("ApplyAdagrad", _apply_adagrad, 2)


# ---- Adadelta ---------------------------------------------------------------------------------
def _apply_adadelta(ctx, xp, var, accum, accum_update, lr, rho, epsilon, grad, use_locking):
    """accum = rho accum + (1 - rho) g^2;
    update = sqrt(accum_update + eps) / sqrt(accum + eps) * g; var -= lr * update;
    accum_update = rho accum_update + (1 - rho) update^2."""
    var, accum, accum_update = _state(ctx, xp, 3, grad)
    lr, rho, epsilon = lr[()], rho[()], epsilon[()]
    one_minus_rho = rho.dtype.type(1) - rho
    tmp = xp.square(grad, out=xp.empty_like(var))
    tmp *= one_minus_rho
    accum *= rho
    accum += tmp
    update = xp.add(accum_update, epsilon, out=xp.empty_like(var))
    xp.sqrt(update, out=update)
    xp.add(accum, epsilon, out=tmp)
    xp.sqrt(tmp, out=tmp)
    update /= tmp
    update *= grad
    xp.multiply(update, lr, out=tmp)
    var -= tmp
    xp.square(update, out=tmp)
    tmp *= one_minus_rho
    accum_update *= rho
    accum_update += tmp
    return var


ApplyAdadelta = _fused("ApplyAdadelta", _apply_adadelta, 3)
