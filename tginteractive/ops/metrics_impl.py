"""`tf.metrics` (TF1's `metrics_impl`): streaming metrics as `(value, update_op)` pairs.

State lives in zero-initialised local variables (collections LOCAL_VARIABLES and
METRIC_VARIABLES, not trainable) named under the metric's name scope ("accuracy/total:0"),
so `tf.local_variables_initializer()` resets them. `update_op` adds one batch and returns the
metric over everything seen so far; `value` only reads the variables (0 before any update,
as TF's div_no_nan). Composed from existing ops (no new op types).
"""
import numpy as np

from ..framework import dtypes
from ..framework.context import add_to_collections, control_dependencies, name_scope
from ..framework.graph import GraphKeys
from ..framework.registry import convert_to_tensor
from .array_ops import cast, constant, identity, ones_like, reshape, size, zeros, zeros_like
from .control_flow_ops import Assert
from .losses_impl import broadcast_weights, check_compatible, div_no_nan
from .losses_impl import remove_squeezable_dimensions
from .manip_ops import expand_dims, squeeze
from .math_ops import (abs as abs_, divide, equal, greater, greater_equal, less, less_equal, log,
                       logical_and, logical_not, maximum, minimum, multiply, sqrt,
                       squared_difference, where)
from .reduction_ops import reduce_all, reduce_sum
from .variables import Variable, assign_add

__all__ = [
    "accuracy", "auc", "false_negatives", "false_negatives_at_thresholds", "false_positives",
    "false_positives_at_thresholds", "mean", "mean_absolute_error", "mean_cosine_distance",
    "mean_relative_error", "mean_squared_error",
    "mean_tensor", "percentage_below", "precision", "precision_at_thresholds", "recall",
    "recall_at_thresholds", "root_mean_squared_error", "true_negatives",
    "true_negatives_at_thresholds", "true_positives", "true_positives_at_thresholds",
]


def metric_variable(shape, dtype, validate_shape=True, name=None):
    """A zero-initialised, non-trainable local variable in LOCAL_ and METRIC_VARIABLES."""
    return Variable(lambda: zeros(shape, dtype), trainable=False,
                    collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES],
                    validate_shape=validate_shape, name=name)


def _squeeze_inputs(predictions, labels, weights):
    """TF's _remove_squeezable_dimensions: squeeze a trailing 1 off labels or predictions, and
    make weights of rank one more/less than predictions the same rank (static ranks only)."""
    predictions = convert_to_tensor(predictions)
    if labels is not None:
        labels, predictions = remove_squeezable_dimensions(labels, predictions)
        check_compatible(predictions, labels, "metric", "predictions", "labels")
    if weights is None:
        return predictions, labels, None
    weights = convert_to_tensor(weights)
    w_rank, p_rank = weights.shape.ndims, predictions.shape.ndims
    if w_rank not in (0, None) and p_rank is not None:
        if w_rank - p_rank == 1 and weights.shape.dims[-1] in (None, 1):
            weights = squeeze(weights, [-1])
        elif p_rank - w_rank == 1:
            weights = expand_dims(weights, -1)
    return predictions, labels, weights


def _finish(value, update, metrics_collections, updates_collections):
    if metrics_collections:
        add_to_collections(metrics_collections, value)
    if updates_collections:
        add_to_collections(updates_collections, update)
    return value, update


# ---- means --------------------------------------------------------------------------------
def mean(values, weights=None, metrics_collections=None, updates_collections=None,
         name=None):
    """The (weighted) mean of every value seen: total / count, in two local variables."""
    with name_scope(name, "mean", (values, weights)):
        values = cast(values, dtypes.float32)
        total = metric_variable([], dtypes.float32, name="total")
        count = metric_variable([], dtypes.float32, name="count")
        if weights is None:
            num_values = cast(size(values), dtypes.float32)
        else:
            values, _, weights = _squeeze_inputs(values, None, weights)
            weights = broadcast_weights(cast(weights, dtypes.float32), values)
            values = multiply(values, weights)
            num_values = reduce_sum(weights)
        update_total = assign_add(total, reduce_sum(values))
        # (TF also puts the count update under control_dependencies([values]); unneeded here)
        update_count = assign_add(count, num_values)
        value = div_no_nan(total, maximum(count, 0), name="value")
        update = div_no_nan(update_total, maximum(update_count, 0), name="update_op")
        return _finish(value, update, metrics_collections, updates_collections)


def mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None,
                name=None):
    """The elementwise (weighted) mean of `values` (static shape) over every batch seen."""
    with name_scope(name, "mean", (values, weights)):
        values = cast(values, dtypes.float32)
        if not values.shape.is_fully_defined():
            raise ValueError(f"mean_tensor needs values of a fully known shape; "
                             f"'{values.name}' has shape {values.shape}.")
        total = metric_variable(values.shape, dtypes.float32, name="total_tensor")
        count = metric_variable(values.shape, dtypes.float32, name="count_tensor")
        num_values = ones_like(values)
        if weights is not None:
            values, _, weights = _squeeze_inputs(values, None, weights)
            weights = broadcast_weights(cast(weights, dtypes.float32), values)
            values = multiply(values, weights)
            num_values = multiply(num_values, weights)
        update_total = assign_add(total, values)
        update_count = assign_add(count, num_values)
        value = div_no_nan(total, maximum(count, 0), name="value")
        update = div_no_nan(update_total, maximum(update_count, 0), name="update_op")
        return _finish(value, update, metrics_collections, updates_collections)


def accuracy(labels, predictions, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """How often `predictions` equal `labels` (a weighted streaming mean)."""
    predictions, labels, weights = _squeeze_inputs(predictions, labels, weights)
    if labels.dtype is not predictions.dtype:
        predictions = cast(predictions, labels.dtype)
    is_correct = cast(equal(predictions, labels), dtypes.float32)
    return mean(is_correct, weights, metrics_collections, updates_collections,
                name or "accuracy")


def _error_metric(default_name, error_fn):
    def metric(labels, predictions, weights=None, metrics_collections=None,
               updates_collections=None, name=None):
        predictions, labels, weights = _squeeze_inputs(predictions, labels, weights)
        return mean(error_fn(labels, predictions), weights, metrics_collections,
                    updates_collections, name or default_name)
    metric.__name__ = default_name
    metric.__doc__ = f"TF1's tf.metrics.{default_name}: a weighted streaming mean."
    return metric


mean_squared_error = _error_metric("mean_squared_error", squared_difference)
mean_absolute_error = _error_metric("mean_absolute_error",
                                    lambda labels, predictions: abs_(predictions - labels))


def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """sqrt of the streaming mean squared error."""
    predictions, labels, weights = _squeeze_inputs(predictions, labels, weights)
    mse, update_mse = mean_squared_error(labels, predictions, weights, None, None,
                                         name or "root_mean_squared_error")
    return _finish(sqrt(mse), sqrt(update_mse), metrics_collections, updates_collections)


def mean_cosine_distance(labels, predictions, dim, weights=None, metrics_collections=None,
                         updates_collections=None, name=None):
    """1 - the streaming mean of sum(labels * predictions, dim) (unit-normalized inputs)."""
    predictions, labels, weights = _squeeze_inputs(predictions, labels, weights)
    radial = reduce_sum(multiply(predictions, labels), axis=[dim], keepdims=True)
    value, update = mean(radial, weights, None, None, name or "mean_cosine_distance")
    return _finish(1.0 - value, 1.0 - update, metrics_collections, updates_collections)


def mean_relative_error(labels, predictions, normalizer, weights=None,
                        metrics_collections=None, updates_collections=None, name=None):
    """The streaming mean of |labels - predictions| / normalizer (0 where normalizer is 0)."""
    predictions, labels, weights = _squeeze_inputs(predictions, labels, weights)
    normalizer, predictions = remove_squeezable_dimensions(normalizer, predictions)
    check_compatible(predictions, normalizer, "mean_relative_error", "predictions",
                     "normalizer")
    zero = equal(normalizer, 0.0)
    errors = where(zero, zeros_like(labels),
                   abs_(labels - predictions) / where(zero, ones_like(normalizer), normalizer))
    return mean(errors, weights, metrics_collections, updates_collections,
                name or "mean_relative_error")


def percentage_below(values, threshold, weights=None, metrics_collections=None,
                     updates_collections=None, name=None):
    """The (weighted) fraction of values below `threshold`."""
    below = cast(less(values, threshold), dtypes.float32)
    return mean(below, weights, metrics_collections, updates_collections,
                name or "percentage_below_threshold")


# ---- counts -------------------------------------------------------------------------------
def _count_condition(values, weights, metrics_collections, updates_collections):
    count = metric_variable([], dtypes.float32, name="count")
    values = cast(values, dtypes.float32)
    if weights is not None:
        weights = cast(convert_to_tensor(weights), dtypes.float32)
        w_rank, v_rank = weights.shape.ndims, values.shape.ndims
        if None not in (w_rank, v_rank) and w_rank not in (0, v_rank):
            raise ValueError(f"weights '{weights.name}' of shape {weights.shape} must be a "
                             f"scalar or have the rank of the values, shape {values.shape}.")
        values = multiply(values, weights)
    value = identity(count)
    update = assign_add(count, reduce_sum(values))
    return _finish(value, update, metrics_collections, updates_collections)


def _counter(default_name, label_is, prediction_is):
    def metric(labels, predictions, weights=None, metrics_collections=None,
               updates_collections=None, name=None):
        with name_scope(name, default_name, (predictions, labels, weights)):
            predictions, labels, weights = _squeeze_inputs(
                cast(predictions, dtypes.bool), cast(labels, dtypes.bool), weights)
            hit = logical_and(labels if label_is else logical_not(labels),
                              predictions if prediction_is else logical_not(predictions))
            return _count_condition(hit, weights, metrics_collections, updates_collections)
    metric.__name__ = default_name
    metric.__doc__ = (f"TF1's tf.metrics.{default_name}: the (weighted) count of elements with "
                      f"label {label_is} and prediction {prediction_is} (cast to bool).")
    return metric


true_positives = _counter("true_positives", True, True)
false_positives = _counter("false_positives", False, True)
true_negatives = _counter("true_negatives", False, False)
false_negatives = _counter("false_negatives", True, False)


def _positive_ratio(num, den, name):
    """num / den where den > 0, else 0 (TF: where(den > 0, num / den, 0))."""
    positive = greater(den, 0)
    return where(positive, num / where(positive, den, ones_like(den)), zeros_like(num),
                 name=name)


def _ratio_metric(default_name, other_fn):
    def metric(labels, predictions, weights=None, metrics_collections=None,
               updates_collections=None, name=None):
        with name_scope(name, default_name, (predictions, labels, weights)):
            predictions, labels, weights = _squeeze_inputs(
                cast(predictions, dtypes.bool), cast(labels, dtypes.bool), weights)
            tp, tp_update = true_positives(labels, predictions, weights)
            other, other_update = other_fn(labels, predictions, weights)
            value = _positive_ratio(tp, tp + other, "value")
            update = _positive_ratio(tp_update, tp_update + other_update, "update_op")
            return _finish(value, update, metrics_collections, updates_collections)
    metric.__name__ = default_name
    return metric


precision = _ratio_metric("precision", false_positives)
precision.__doc__ = "TF1's tf.metrics.precision: tp / (tp + fp), streaming (0 when empty)."
recall = _ratio_metric("recall", false_negatives)
recall.__doc__ = "TF1's tf.metrics.recall: tp / (tp + fn), streaming (0 when empty)."


# ---- thresholded confusion matrix, AUC ----------------------------------------------------------
_KINDS = {"tp": ("true_positives", True, True), "fn": ("false_negatives", True, False),
          "tn": ("true_negatives", False, False), "fp": ("false_positives", False, True)}


def _unit_interval_checks(predictions):
    message = "predictions must be in [0, 1]"
    zero, one = cast(0.0, predictions.dtype), cast(1.0, predictions.dtype)
    return [Assert(reduce_all(greater_equal(predictions, zero)), [message, predictions]),
            Assert(reduce_all(less_equal(predictions, one)), [message, predictions])]


def confusion_matrix_at_thresholds(labels, predictions, thresholds, weights=None,
                                   includes=("tp", "fn", "tn", "fp")):
    """Per threshold t, counts of (label, prediction > t) pairs: ({kind: variable},
    {kind: update_op}) for each kind in `includes` ("tp", "fn", "tn", "fp")."""
    for kind in includes:
        if kind not in _KINDS:
            raise ValueError(f"Invalid key: {kind}")
    predictions = convert_to_tensor(predictions)
    with control_dependencies(_unit_interval_checks(predictions)):
        predictions = identity(cast(predictions, dtypes.float32), name="checked_predictions")
    predictions, labels, weights = _squeeze_inputs(predictions, cast(labels, dtypes.bool),
                                                   weights)
    n = len(thresholds)
    thresh = constant(np.reshape(np.asarray(thresholds, np.float32), [n, 1]))
    pred_is_pos = greater(reshape(predictions, [1, -1]), thresh)     # [thresholds, examples]
    label_is_pos = reshape(labels, [1, -1])
    if weights is not None:
        weights = broadcast_weights(cast(weights, dtypes.float32), predictions)
        weights = reshape(weights, [1, -1])
    values, updates = {}, {}
    for kind in [k for k in ("tp", "fn", "tn", "fp") if k in includes]:
        var_name, label_is, prediction_is = _KINDS[kind]
        var = metric_variable([n], dtypes.float32, name=var_name)
        hit = cast(logical_and(label_is_pos if label_is else logical_not(label_is_pos),
                               pred_is_pos if prediction_is else logical_not(pred_is_pos)),
                   dtypes.float32)
        if weights is not None:
            hit = hit * weights
        values[kind], updates[kind] = var, assign_add(var, reduce_sum(hit, 1))
    return values, updates


def _interpolate_pr_auc(tp, fp, fn):
    """TF's careful interpolation of precision between thresholds (Davis & Goadrich)."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    prec_slope = div_no_nan(dtp, maximum(p[:-1] - p[1:], 0), name="prec_slope")
    intercept = tp[1:] - multiply(prec_slope, p[1:])
    safe_p_ratio = where(logical_and(p[:-1] > 0, p[1:] > 0),
                         div_no_nan(p[:-1], maximum(p[1:], 0), name="recall_relative_ratio"),
                         ones_like(p[1:]))
    return reduce_sum(div_no_nan(prec_slope * (dtp + intercept * log(safe_p_ratio)),
                                 maximum(tp[1:] + fn[1:], 0), name="pr_auc_increment"),
                      name="interpolate_pr_auc")


def _auc(counts, curve, summation_method, name):
    tp, fn, tn, fp = (counts[k] for k in ("tp", "fn", "tn", "fp"))
    if curve == "PR" and summation_method == "careful_interpolation":
        return _interpolate_pr_auc(tp, fp, fn)
    epsilon = 1.0e-6
    rec = (tp + epsilon) / (tp + fn + epsilon)
    if curve == "ROC":
        x, y = fp / (fp + tn + epsilon), rec
    else:
        x, y = rec, (tp + epsilon) / (tp + fp + epsilon)
    heights = {"minoring": minimum, "majoring": maximum}.get(
        summation_method, lambda a, b: (a + b) / 2.0)(y[:-1], y[1:])
    return reduce_sum(multiply(x[:-1] - x[1:], heights), name=name)


_SUMMATIONS = ("trapezoidal", "careful_interpolation", "minoring", "majoring")


def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None,
        updates_collections=None, curve="ROC", name=None, summation_method="trapezoidal",
        thresholds=None):
    """Area under the ROC or PR curve from confusion matrices at `num_thresholds` thresholds
    evenly spaced over [0, 1] (plus -1e-7 and 1 + 1e-7); predictions must be in [0, 1]."""
    with name_scope(name, "auc", (labels, predictions, weights)):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"Curve must be either ROC or PR. Curve {curve} is unknown.")
        if summation_method not in _SUMMATIONS:
            raise ValueError(f"Invalid summation_method: {summation_method} summation_method "
                             f"should be one of {_SUMMATIONS}.")
        kepsilon = 1e-7
        if thresholds is not None:
            thresholds = sorted(thresholds)
        else:
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1)
                          for i in range(num_thresholds - 2)]
        thresholds = [0.0 - kepsilon] + list(thresholds) + [1.0 + kepsilon]
        values, updates = confusion_matrix_at_thresholds(labels, predictions, thresholds,
                                                         weights)
        value = _auc(values, curve, summation_method, "value")
        update = _auc(updates, curve, summation_method, "update_op")
        return _finish(value, update, metrics_collections, updates_collections)


def _at_thresholds(kind):
    default_name = _KINDS[kind][0]

    def metric(labels, predictions, thresholds, weights=None, metrics_collections=None,
               updates_collections=None, name=None):
        with name_scope(name, default_name, (predictions, labels, weights)):
            values, updates = confusion_matrix_at_thresholds(
                labels, predictions, thresholds, weights, includes=(kind,))
            return _finish(identity(values[kind]), updates[kind], metrics_collections,
                           updates_collections)
    metric.__name__ = default_name + "_at_thresholds"
    metric.__doc__ = f"Streaming {default_name} per threshold (prediction > threshold)."
    return metric


true_positives_at_thresholds = _at_thresholds("tp")
false_positives_at_thresholds = _at_thresholds("fp")
true_negatives_at_thresholds = _at_thresholds("tn")
false_negatives_at_thresholds = _at_thresholds("fn")


def _ratio_at_thresholds(default_name, other):
    def metric(labels, predictions, thresholds, weights=None, metrics_collections=None,
               updates_collections=None, name=None):
        with name_scope(name, default_name, (predictions, labels, weights)):
            values, updates = confusion_matrix_at_thresholds(
                labels, predictions, thresholds, weights, includes=("tp", other))
            epsilon, prefix = 1e-7, default_name.split("_")[0]
            value = divide(values["tp"], epsilon + values["tp"] + values[other],
                           name=prefix + "_value")
            update = divide(updates["tp"], epsilon + updates["tp"] + updates[other],
                            name=prefix + "_update_op")
            return _finish(value, update, metrics_collections, updates_collections)
    metric.__name__ = default_name
    metric.__doc__ = f"Streaming tp / (tp + {other}) per threshold (prediction > threshold)."
    return metric


precision_at_thresholds = _ratio_at_thresholds("precision_at_thresholds", "fp")
recall_at_thresholds = _ratio_at_thresholds("recall_at_thresholds", "fn")
