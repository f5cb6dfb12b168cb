"""`tf.metrics`: TF 1.x's streaming metrics, each a `(value, update_op)` pair over local
variables (re-exports only; the implementation is `ops/metrics_impl.py`)."""
from .ops.metrics_impl import (  # noqa: F401
    accuracy, auc, false_negatives, false_negatives_at_thresholds, false_positives,
    false_positives_at_thresholds, mean, mean_absolute_error, mean_cosine_distance,
    mean_relative_error, mean_squared_error, mean_tensor,
    percentage_below, precision, precision_at_thresholds, recall, recall_at_thresholds,
    root_mean_squared_error, true_negatives, true_negatives_at_thresholds, true_positives,
    true_positives_at_thresholds)

__all__ = sorted(name for name in dir() if not name.startswith("_"))
