"""`tf.losses` (TF1's `losses_impl`): per-element losses reduced by `compute_weighted_loss`.

Composed from existing ops (no new op types). As in TF 1.x: the regression losses cast labels
and predictions to float32; `compute_weighted_loss` multiplies by `weights` (a scalar, or a
tensor of the losses' rank whose every dimension is 1 or the loss's), reduces (default
SUM_BY_NONZERO_WEIGHTS: the weighted sum over the number of non-zero weights, 0 when there
are none), casts back to the losses' dtype and adds the result to `GraphKeys.LOSSES`.
Helpers used by `metrics_impl` too: `div_no_nan`, `broadcast_weights`, `check_compatible`.
"""
from ..framework import dtypes
from ..framework.context import control_dependencies, get_collection, name_scope
from ..framework.context import add_to_collection
from ..framework.graph import GraphKeys
from ..framework.registry import convert_to_tensor
from .array_ops import cast, constant, ones_like, rank, shape, size, stop_gradient, zeros_like
from .control_flow_ops import Assert
from .loss_ops import (sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2,
                       sparse_softmax_cross_entropy_with_logits)
from .manip_ops import squeeze
from .math_ops import (abs as abs_, add_n, equal, log, logical_or, maximum, minimum, multiply,
                       squared_difference, subtract, where)
from .nn_ops import relu
from .reduction_ops import reduce_all, reduce_sum

__all__ = [
    "Reduction", "compute_weighted_loss", "absolute_difference", "cosine_distance",
    "hinge_loss", "huber_loss", "log_loss", "mean_pairwise_squared_error",
    "mean_squared_error", "sigmoid_cross_entropy", "softmax_cross_entropy",
    "sparse_softmax_cross_entropy", "add_loss", "get_losses", "get_regularization_losses",
    "get_regularization_loss", "get_total_loss",
]


class Reduction:
    """How `compute_weighted_loss` reduces the weighted losses (TF1's string keys)."""
    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Key should be one of {cls.all()}.")


# ---- helpers shared with metrics_impl --------------------------------------------------------
def div_no_nan(x, y, name=None):
    """x / y, and 0 where y == 0 (TF's div_no_nan); differentiable, no NaN in the gradient."""
    zero = equal(y, 0)
    return where(zero, zeros_like(x), x / where(zero, ones_like(y), y), name=name)


def check_compatible(a, b, what, a_name, b_name):
    """ValueError naming both tensors and shapes when `a` and `b` can't have the same shape."""
    if not a.shape.is_compatible_with(b.shape):
        raise ValueError(f"Shapes {a.shape} and {b.shape} are incompatible: {what} got "
                         f"{a_name} '{a.name}' of shape {a.shape} and {b_name} '{b.name}' of "
                         f"shape {b.shape}; they must have the same shape.")


_BROADCAST_ERROR = "weights can not be broadcast to values."


def assert_broadcastable(weights, values):
    """TF's rule: weights are a scalar, or have the values' rank with each dimension 1 or
    equal to the values'. ValueError when that fails statically; None when it statically
    holds; otherwise a run-time Assert op (the rank only, when ranks are unknown)."""
    w, v = weights.shape, values.shape
    if w.ndims == 0:
        return None
    if w.ndims is not None and v.ndims is not None:
        if w.ndims != v.ndims:
            raise ValueError(f"{_BROADCAST_ERROR} values.rank={v.ndims}. weights.rank="
                             f"{w.ndims}. values.shape={v}. weights.shape={w}. Weights must "
                             f"be a scalar or have the values' rank (e.g. [batch, 1]).")
        unknown = False
        for i, (wd, vd) in enumerate(zip(w.dims, v.dims)):
            if wd is not None and vd is not None and wd not in (1, vd):
                raise ValueError(f"{_BROADCAST_ERROR} Mismatch at dim {i}. values.shape={v}, "
                                 f"weights.shape={w}. Received weights '{weights.name}', "
                                 f"values '{values.name}'.")
            unknown = unknown or (wd != 1 and (wd is None or vd is None))
        if not unknown:
            return None
        ws = shape(weights)
        ok = reduce_all(logical_or(equal(ws, 1), equal(ws, shape(values))))
    else:
        ok = logical_or(equal(rank(weights), 0), equal(rank(weights), rank(values)))
    return Assert(ok, [_BROADCAST_ERROR, "weights.shape=", shape(weights), "values.shape=",
                       shape(values)], name="assert_broadcastable")


def _checked(weights, values):
    check = assert_broadcastable(weights, values)
    return control_dependencies([] if check is None else [check])


def broadcast_weights(weights, values):
    """`weights` (checked as in assert_broadcastable) broadcast to the shape of `values`."""
    with name_scope(None, "broadcast_weights", (weights, values)) as scope:
        values = convert_to_tensor(values, name="values")
        weights = cast(convert_to_tensor(weights, name="weights"), values.dtype)
        if (weights.shape.is_fully_defined() and values.shape.is_fully_defined()
                and weights.shape.is_compatible_with(values.shape)):
            return weights
        with _checked(weights, values):
            return multiply(weights, ones_like(values), name=scope)


def remove_squeezable_dimensions(labels, predictions, expected_rank_diff=0):
    """Squeeze a trailing size-1 dimension off labels or predictions when their ranks differ
    by one more or less than expected (static ranks only; unknown ranks are left alone)."""
    labels, predictions = convert_to_tensor(labels), convert_to_tensor(predictions)
    l_shape, p_shape = labels.shape, predictions.shape
    if l_shape.ndims is None or p_shape.ndims is None:
        return labels, predictions
    diff = p_shape.ndims - l_shape.ndims
    if diff == expected_rank_diff + 1 and p_shape.dims[-1] in (None, 1):
        predictions = squeeze(predictions, [-1])
    elif diff == expected_rank_diff - 1 and l_shape.dims[-1] in (None, 1):
        labels = squeeze(labels, [-1])
    return labels, predictions


# ---- compute_weighted_loss ---------------------------------------------------------------------
def _num_elements(losses):
    with name_scope(None, "num_elements", [losses]) as scope:
        return cast(size(losses, name=scope), losses.dtype)


def _num_present(losses, weights_arg, weights):
    """How many loss elements have a non-zero weight (weights broadcast to the losses)."""
    if isinstance(weights_arg, float) and weights_arg != 0.0:
        return _num_elements(losses)
    with name_scope(None, "num_present", (losses, weights)) as scope:
        present = where(equal(weights, 0.0), zeros_like(weights), ones_like(weights))
        return reduce_sum(broadcast_weights(present, losses), name=scope)


def _reduce(losses, weights_arg, weights, reduction):
    weighted = multiply(losses, weights, name="Mul")
    if reduction == Reduction.NONE:
        return weighted
    total = reduce_sum(weighted)
    if reduction == Reduction.MEAN:
        return div_no_nan(total, reduce_sum(ones_like(losses) * weights), name="value")
    if reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
        return div_no_nan(total, _num_present(losses, weights_arg, weights), name="value")
    if reduction == Reduction.SUM_OVER_BATCH_SIZE:
        return div_no_nan(total, _num_elements(losses), name="value")
    return total


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """`losses * weights` reduced by `reduction`, in the losses' dtype, added to
    `loss_collection` (unless it is None)."""
    Reduction.validate(reduction)
    with name_scope(scope, "weighted_loss", (losses, weights)):
        losses = convert_to_tensor(losses)
        input_dtype = losses.dtype
        losses = cast(losses, dtypes.float32)
        weights_t = cast(convert_to_tensor(weights), dtypes.float32)
        with _checked(weights_t, losses):
            loss = cast(_reduce(losses, weights, weights_t, reduction), input_dtype)
        add_loss(loss, loss_collection)
        return loss


# ---- the losses -----------------------------------------------------------------------------
def _float_pair(fn, labels, predictions, label_arg="labels", pred_arg="predictions"):
    if labels is None:
        raise ValueError(f"Argument `{label_arg}` must not be None.")
    if predictions is None:
        raise ValueError(f"Argument `{pred_arg}` must not be None.")
    predictions = cast(predictions, dtypes.float32)
    labels = cast(labels, dtypes.float32)
    check_compatible(predictions, labels, fn, pred_arg, label_arg)
    return labels, predictions


def _elementwise_loss(fn, default_scope, pred_arg="predictions"):
    """A public loss: `fn(labels, predictions)` (float32) reduced by compute_weighted_loss."""
    def loss(labels, predictions, weights=1.0, scope=None,
             loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
        with name_scope(scope, default_scope, (predictions, labels, weights)) as scope:
            labels, predictions = _float_pair(default_scope, labels, predictions,
                                              pred_arg=pred_arg)
            return compute_weighted_loss(fn(labels, predictions), weights, scope,
                                         loss_collection, reduction=reduction)
    loss.__name__ = default_scope
    loss.__doc__ = f"TF1's tf.losses.{default_scope}: {fn.__doc__}"
    return loss


def _squared(labels, predictions):
    """(predictions - labels) ** 2, weighted and reduced."""
    return squared_difference(predictions, labels)


def _absolute(labels, predictions):
    """|predictions - labels|, weighted and reduced."""
    return abs_(subtract(predictions, labels))


def _hinge(labels, logits):
    """max(0, 1 - (2 * labels - 1) * logits) for 0/1 labels, weighted and reduced."""
    all_ones = ones_like(labels)
    return relu(subtract(all_ones, multiply(subtract(2 * labels, all_ones), logits)))


mean_squared_error = _elementwise_loss(_squared, "mean_squared_error")
absolute_difference = _elementwise_loss(_absolute, "absolute_difference")
hinge_loss = _elementwise_loss(_hinge, "hinge_loss", pred_arg="logits")


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None,
               loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """0.5 * e**2 where |e| <= delta, else delta * (|e| - 0.5 * delta); e = predictions - labels."""
    with name_scope(scope, "huber_loss", (predictions, labels, weights)) as scope:
        labels, predictions = _float_pair("huber_loss", labels, predictions)
        abs_error = abs_(subtract(predictions, labels))
        quadratic = minimum(abs_error, delta)
        linear = subtract(abs_error, quadratic)
        losses = 0.5 * (quadratic * quadratic) + multiply(delta, linear)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None,
             loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """-labels * log(p + eps) - (1 - labels) * log(1 - p + eps)."""
    with name_scope(scope, "log_loss", (predictions, labels, weights)) as scope:
        labels, predictions = _float_pair("log_loss", labels, predictions)
        losses = (-multiply(labels, log(predictions + epsilon))
                  - multiply(1 - labels, log(1 - predictions + epsilon)))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None,
                    loss_collection=GraphKeys.LOSSES,
                    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS, dim=None):
    """1 - sum(labels * predictions, axis, keepdims=True); inputs are unit-normalized."""
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("You must specify argument `axis`.")
    with name_scope(scope, "cosine_distance_loss", (predictions, labels, weights)) as scope:
        labels, predictions = _float_pair("cosine_distance", labels, predictions)
        losses = 1 - reduce_sum(multiply(predictions, labels), axis=(axis,), keepdims=True)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def _logits_and_labels(fn, labels, logits, label_arg):
    if labels is None:
        raise ValueError(f"Argument `{label_arg}` must not be None.")
    if logits is None:
        raise ValueError("Argument `logits` must not be None.")
    logits = convert_to_tensor(logits)
    labels = cast(labels, logits.dtype)
    check_compatible(logits, labels, fn, "logits", label_arg)
    return labels, logits


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0,
                          scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Logistic loss per element; labels smoothed towards 1/2 by `label_smoothing`."""
    with name_scope(scope, "sigmoid_cross_entropy_loss",
                    (logits, multi_class_labels, weights)) as scope:
        labels, logits = _logits_and_labels("sigmoid_cross_entropy", multi_class_labels,
                                            logits, "multi_class_labels")
        if label_smoothing > 0:
            labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
        losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits,
                                                   name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Softmax cross-entropy per example (no gradient into the labels); labels smoothed to
    labels * (1 - s) + s / num_classes."""
    with name_scope(scope, "softmax_cross_entropy_loss",
                    (logits, onehot_labels, weights)) as scope:
        labels, logits = _logits_and_labels("softmax_cross_entropy", onehot_labels, logits,
                                            "onehot_labels")
        if label_smoothing > 0:
            num_classes = cast(shape(labels)[-1], logits.dtype)
            labels = labels * (1.0 - label_smoothing) + label_smoothing / num_classes
        labels = stop_gradient(labels, name="labels_stop_gradient")
        losses = softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits,
                                                      name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def _squeeze_sparse(labels, logits, weights):
    labels, logits = remove_squeezable_dimensions(labels, logits, expected_rank_diff=1)
    weights = convert_to_tensor(weights)
    if labels.shape.ndims is not None and weights.shape.ndims == labels.shape.ndims + 1:
        weights = squeeze(weights, [-1])
    return labels, logits, weights


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None,
                                 loss_collection=GraphKeys.LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Cross-entropy against integer class labels ([batch] or [batch, 1])."""
    if labels is None:
        raise ValueError("Argument `labels` must not be None.")
    if logits is None:
        raise ValueError("Argument `logits` must not be None.")
    with name_scope(scope, "sparse_softmax_cross_entropy_loss",
                    (logits, labels, weights)) as scope:
        labels, logits, weights = _squeeze_sparse(labels, logits, weights)
        losses = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                          name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def mean_pairwise_squared_error(labels, predictions, weights=1.0, scope=None,
                                loss_collection=GraphKeys.LOSSES):
    """Per example, the mean over pairs of elements of ((p_i - p_j) - (l_i - l_j)) ** 2,
    weighted per example and summed (needs a statically known rank)."""
    with name_scope(scope, "mean_pairwise_squared_error",
                    (predictions, labels, weights)) as scope:
        labels, predictions = _float_pair("mean_pairwise_squared_error", labels, predictions)
        weights = cast(convert_to_tensor(weights), dtypes.float32)
        with _checked(weights, labels):
            diffs = subtract(predictions, labels)
            if diffs.shape.ndims is None:
                raise NotImplementedError("mean_pairwise_squared_error needs inputs of known "
                                          "rank.")
            axis = tuple(range(1, diffs.shape.ndims))
            sum_sq = reduce_sum(diffs * diffs, axis=axis, keepdims=True)
            present = where(equal(weights, 0.0), zeros_like(weights), ones_like(weights))
            n = reduce_sum(broadcast_weights(present, diffs), axis=axis, keepdims=True)
            term1 = 2.0 * div_no_nan(sum_sq, maximum(n - 1, 0), name="value")
            sum_diff = reduce_sum(diffs, axis=axis, keepdims=True)
            term2 = 2.0 * div_no_nan(sum_diff * sum_diff, maximum(n * (n - 1), 0),
                                     name="value")
            loss = reduce_sum(multiply(term1 - term2, weights))
            mean_loss = where(reduce_sum(n) > 0, loss, zeros_like(loss), name="value")
        add_loss(mean_loss, loss_collection)
        return mean_loss


# ---- collections ---------------------------------------------------------------------------------
def add_loss(loss, loss_collection=GraphKeys.LOSSES):
    """Add `loss` to `loss_collection` (nothing when the collection is None or empty)."""
    if loss_collection:
        add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=GraphKeys.LOSSES):
    return get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
    return get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """The sum of the regularization losses, or a constant 0.0 when there are none."""
    losses = get_regularization_losses(scope)
    if losses:
        return add_n(losses, name=name)
    return constant(0.0)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    """add_n of the LOSSES collection (plus REGULARIZATION_LOSSES); ValueError when empty."""
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses += get_regularization_losses(scope=scope)
    if not losses:
        raise ValueError("get_total_loss: no losses in the LOSSES collection (nor regularization "
                         "losses); build a loss with tf.losses.* or tf.losses.add_loss first.")
    return add_n(losses, name=name)
