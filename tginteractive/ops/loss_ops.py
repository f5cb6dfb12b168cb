"""`tf.nn` losses: softmax / sparse softmax / sigmoid / weighted cross-entropies, l2_loss.

Kernels are numerically stable (log-softmax uses logsumexp; the logistic loss is
max(x, 0) - x*z + log(1 + exp(-|x|))). Gradients are built from differentiable ops, so second
derivatives work (e.g. through softmax cross-entropy).
"""
import numpy as np

from ..framework import dtypes, errors
from ..framework.context import name_scope
from ..framework.graph import Tensor
from ..framework.registry import convert_to_tensor, defop
from ..framework.shapes import TensorShape
from .array_ops import cast, stop_gradient, zeros_like
from .manip_ops import expand_dims
from .math_ops import SelectV2, add, exp, greater_equal, log1p
from .math_ops import abs as abs_
from .nn_ops import LogSoftmax, Softmax, log_softmax_value, one_hot_like, relu, softmax_axis
from .op_utils import floating_tensor, is_zero
from .reduction_ops import reduce_sum
from .shape_rules import reduced_shape

__all__ = [
    "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
    "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits",
    "weighted_cross_entropy_with_logits", "l2_loss",
]


# ---- cross-entropies -----------------------------------------------------------------------
def _xent_shape(op):
    logits, labels = (t.shape for t in op.inputs)
    if not logits.is_compatible_with(labels):
        raise ValueError(f"logits and labels must have the same shape ({logits} vs {labels})")
    merged = logits.merge_with(labels)
    return [reduced_shape(merged, (op.attrs["axis"],), False), merged]


def _xent_kernel(xp, x, z, axis):
    """(loss, backprop = softmax(x) - z) in one pass, like TF's kernel."""
    shifted = x - x.max(axis=axis, keepdims=True)
    e = xp.exp(shifted)
    total = e.sum(axis=axis, keepdims=True)
    loss = (z * (xp.log(total) - shifted)).sum(axis=axis)
    e /= total
    e -= z
    return loss, e


def _xent_grad(op, dloss, dbackprop):
    """TF's formulation: dloss * backprop for the logits (labels sum to 1), plus the second
    order term when `backprop` itself received a gradient."""
    logits, labels = op.inputs
    axis = op.attrs["axis"]
    d = expand_dims(dloss, axis)  # the loss's gradient, broadcastable against the logits
    dlogits = d * op.outputs[1]
    dlabels = None if labels.op.type == "StopGradient" else -d * LogSoftmax(logits, axis=axis)
    if not is_zero(dbackprop):
        softmax = Softmax(logits, axis=axis)
        dlogits += (dbackprop - reduce_sum(dbackprop * softmax, axis, keepdims=True)) * softmax
        dlabels = None if dlabels is None else dlabels - dbackprop
    return [dlogits, dlabels]


SoftmaxCrossEntropyWithLogits = defop(
    "SoftmaxCrossEntropyWithLogits", shape=_xent_shape, grad=_xent_grad, kernel=_xent_kernel)


def _check_named(fn, sentinel, labels, logits):
    if sentinel is not None:
        raise ValueError(f"Only call `{fn}` with named arguments (labels=..., logits=..., ...)."
                         f" Received unnamed argument: {sentinel!r}")
    if labels is None or logits is None:
        raise ValueError(f"Both labels and logits must be provided. Received: labels={labels!r}"
                         f" and logits={logits!r}")


def _softmax_xent(labels, logits, axis, scope):
    logits = floating_tensor(logits, "softmax_cross_entropy_with_logits", name="logits")
    labels = cast(convert_to_tensor(labels, name="labels"), logits.dtype)
    loss, _ = SoftmaxCrossEntropyWithLogits(logits, labels,
                                            axis=softmax_axis(logits, axis, None), name=scope)
    return loss


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None, axis=None):
    """TF1's version: no gradient flows into `labels` (see ..._v2 for one that does)."""
    _check_named("softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    with name_scope(name, "softmax_cross_entropy_with_logits_sg", [logits, labels]) as scope:
        labels = stop_gradient(labels, name="labels_stop_gradient")
        return _softmax_xent(labels, logits, dim if axis is None else axis, scope)


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None, dim=None):
    """-sum(labels * log_softmax(logits)) over `axis`; gradients flow into labels too."""
    axis = dim if axis is None else axis
    with name_scope(name, "softmax_cross_entropy_with_logits", [logits, labels]) as scope:
        return _softmax_xent(labels, logits, -1 if axis is None else axis, scope)


def _sparse_xent_kernel(xp, logits, labels):
    n = logits.shape[-1]
    bad = (labels < 0) | (labels >= n)
    if bad.any():
        raise errors.InvalidArgumentError(
            None, None, f"Received a label value of {int(labels[bad].ravel()[0])} which is "
            f"outside the valid range of [0, {n}).  Label values: "
            + " ".join(str(v) for v in labels.ravel().tolist()))
    picked = xp.take_along_axis(log_softmax_value(xp, logits, -1),
                                labels[..., None].astype(np.intp), axis=-1)
    return 0 - picked[..., 0]


def _sparse_xent_grad(op, dloss):
    logits, labels = op.inputs
    hot = one_hot_like(labels, logits)
    return [expand_dims(dloss, -1) * (Softmax(logits, axis=-1) - hot), None]


SparseSoftmaxCrossEntropyWithLogits = defop(
    "SparseSoftmaxCrossEntropyWithLogits", shape=lambda op: op.inputs[1].shape,
    dtype=lambda op: op.inputs[0].dtype, kernel=_sparse_xent_kernel, grad=_sparse_xent_grad)


def _check_sparse_shapes(labels, logits):
    lab, log = labels.shape, logits.shape
    if lab.ndims is not None and log.ndims is not None:
        if lab.ndims != log.ndims - 1:
            raise ValueError(f"Rank mismatch: Rank of labels (received {lab.ndims}) should "
                             f"equal rank of logits minus 1 (received {log.ndims}).")
        if not lab.is_compatible_with(TensorShape(log.dims[:-1])):
            raise ValueError(f"Shape mismatch: The shape of labels (received {lab}) should equal"
                             f" the shape of logits except for the last dimension (received "
                             f"{log}).")


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None):
    """Cross-entropy against integer class `labels` (one per row of `logits`)."""
    _check_named("sparse_softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    with name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [labels, logits]):
        logits = floating_tensor(logits, "sparse_softmax_cross_entropy_with_logits", name="logits")
        labels = convert_to_tensor(labels, name="labels")
        if labels.dtype not in (dtypes.int32, dtypes.int64):
            raise TypeError(f"labels must be int32 or int64 class indices; '{labels.name}' is "
                            f"{labels.dtype.name}.")
        _check_sparse_shapes(labels, logits)
        return SparseSoftmaxCrossEntropyWithLogits(logits, labels)


def _logistic_inputs(fn, sentinel, labels, logits):
    _check_named(fn, sentinel, labels, logits)
    logits = floating_tensor(logits, fn, name="logits")
    labels = convert_to_tensor(labels, dtype=None if isinstance(labels, Tensor)
                               else logits.dtype, name="labels")
    if not labels.shape.is_compatible_with(logits.shape):
        raise ValueError(f"logits and labels must have the same shape ({logits.shape} vs "
                         f"{labels.shape})")
    return labels, logits


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """max(x, 0) - x * z + log(1 + exp(-|x|)), stable for large |x|."""
    with name_scope(name, "logistic_loss", [logits, labels]) as name:
        labels, logits = _logistic_inputs("sigmoid_cross_entropy_with_logits", _sentinel,
                                          labels, logits)
        zeros = zeros_like(logits)
        positive = greater_equal(logits, zeros)
        relu_logits = SelectV2(positive, logits, zeros)
        neg_abs_logits = SelectV2(positive, -logits, logits)
        return add(relu_logits - logits * labels, log1p(exp(neg_abs_logits)), name=name)


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name=None,
                                       targets=None):
    """The logistic loss with positive examples weighted by `pos_weight`."""
    labels = targets if labels is None else labels
    with name_scope(name, "logistic_loss", [logits, labels]) as name:
        labels, logits = _logistic_inputs("weighted_cross_entropy_with_logits", None,
                                          labels, logits)
        log_weight = 1 + (pos_weight - 1) * labels
        softplus_neg = log1p(exp(-abs_(logits))) + relu(-logits)
        return add((1 - labels) * logits, log_weight * softplus_neg, name=name)


# ---- l2_loss -------------------------------------------------------------------------------
L2Loss = defop("L2Loss", shape=lambda op: TensorShape(()),
               kernel=lambda xp, x: xp.asarray(xp.sum(x * x) / 2, dtype=x.dtype),
               grad=lambda op, dy: [dy * op.inputs[0]])


def l2_loss(t, name=None):
    """sum(t ** 2) / 2."""
    return L2Loss(floating_tensor(t, "l2_loss"), name=name)
