"""tf.metrics: local-variable state (names, collections, reset), streaming over several
batches against NumPy, AUC against a NumPy copy of TF's thresholded algorithm, TF literals."""
import numpy as np
import pytest

import tginteractive as tf

rng = np.random.RandomState(7)
N_BATCHES, BATCH = 3, 8
LABELS = rng.randint(0, 2, (N_BATCHES, BATCH))
SCORES = rng.uniform(0, 1, (N_BATCHES, BATCH)).astype(np.float32)
WEIGHTS = rng.choice([0., 0.5, 1., 2.], (N_BATCHES, BATCH)).astype(np.float32)
VALUES = rng.normal(0, 1, (N_BATCHES, BATCH, 3)).astype(np.float32)


def stream(metric_fn, *arrays, initial=0.0):
    """Feed batches through (value, update): the update results, then the final value."""
    phs = [tf.placeholder(tf.as_dtype(a.dtype), [None] + list(a.shape[2:])) for a in arrays]
    value, update = metric_fn(*phs)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(value) == pytest.approx(initial)  # div_no_nan: 0 before any update
        updates = [sess.run(update, dict(zip(phs, [a[i] for a in arrays])))
                   for i in range(len(arrays[0]))]
        return np.array(updates), sess.run(value)


def running(fn, *arrays):
    """NumPy: fn over the first 1, 2, ... batches (concatenated)."""
    return np.array([fn(*[np.concatenate(a[:i + 1]) for a in arrays])
                     for i in range(len(arrays[0]))])


def check_stream(metric_fn, np_fn, *arrays, rtol=1e-5, initial=0.0):
    updates, final = stream(metric_fn, *arrays, initial=initial)
    expected = running(np_fn, *arrays)
    np.testing.assert_allclose(updates, expected, rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(final, expected[-1], rtol=rtol, atol=1e-6)


def np_mean(v, w=None):
    w = np.ones_like(v) if w is None else np.broadcast_to(w, v.shape)
    return (v * w).sum() / w.sum() if w.sum() else 0.0


# ---- state ------------------------------------------------------------------------------------
def test_variables_names_and_collections_follow_tf():
    """Names as printed by TF 2.21 compat.v1 for the same calls."""
    m, u = tf.metrics.mean([1., 2.])
    a, _ = tf.metrics.accuracy([1, 2], [1, 3])
    p, _ = tf.metrics.precision([1, 0], [1, 1])
    tp, tpu = tf.metrics.true_positives([1, 0], [1, 1])
    auc, aucu = tf.metrics.auc([1, 0], tf.constant([0.6, 0.3]))
    tf.losses.mean_squared_error([1., 0.], [0.6, 0.3])
    mse, _ = tf.metrics.mean_squared_error([1., 0.], [0.6, 0.3])
    tf.metrics.mean([1., 2.], name="mymean")
    m3, _ = tf.metrics.mean([1., 2.], name="mymean")
    assert [m.name, u.name, a.name, p.name] == [
        "mean/value:0", "mean/update_op:0", "accuracy/value:0", "precision/value:0"]
    assert [tp.name, tpu.name, auc.name, aucu.name] == [
        "true_positives/Identity:0", "true_positives/AssignAdd:0", "auc/value:0",
        "auc/update_op:0"]
    assert [mse.name, m3.name] == ["mean_squared_error_1/value:0", "mymean_1/value:0"]
    expected = [
        "mean/total:0", "mean/count:0", "accuracy/total:0", "accuracy/count:0",
        "precision/true_positives/count:0", "precision/false_positives/count:0",
        "true_positives/count:0", "auc/true_positives:0", "auc/false_negatives:0",
        "auc/true_negatives:0", "auc/false_positives:0", "mean_squared_error_1/total:0",
        "mean_squared_error_1/count:0", "mymean/total:0", "mymean/count:0",
        "mymean_1/total:0", "mymean_1/count:0"]
    assert [v.name for v in tf.local_variables()] == expected
    assert [v.name for v in tf.get_collection(tf.GraphKeys.METRIC_VARIABLES)] == expected
    assert tf.global_variables() == [] and tf.trainable_variables() == []
    assert not any(v.trainable for v in tf.local_variables())


def test_local_initializer_resets_and_value_rereads_state():
    x = tf.placeholder(tf.float32, [None])
    value, update = tf.metrics.mean(x)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(value) == 0.0
        assert sess.run(update, {x: [1., 2., 3.]}) == pytest.approx(2.0)
        assert sess.run(value) == pytest.approx(2.0)
        assert sess.run(update, {x: [10.]}) == pytest.approx(4.0)
        assert sess.run(value) == pytest.approx(4.0)
        assert sess.run(value) == pytest.approx(4.0)  # reading does not update
        sess.run(tf.local_variables_initializer())
        assert sess.run(value) == 0.0
        assert sess.run(update, {x: [5.]}) == pytest.approx(5.0)
    with tf.Session() as other:  # state lives in the session
        with pytest.raises(tf.errors.FailedPreconditionError, match="mean/total"):
            other.run(value)


def test_collections_arguments_are_honoured():
    value, update = tf.metrics.accuracy([1, 0], [1, 1], metrics_collections=["m"],
                                        updates_collections=["u", tf.GraphKeys.UPDATE_OPS])
    v2, u2 = tf.metrics.auc([1, 0], tf.constant([0.2, 0.4]), metrics_collections=["m"])
    assert tf.get_collection("m") == [value, v2] and tf.get_collection("u") == [update]
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == [update]
    assert tf.get_collection(tf.GraphKeys.LOSSES) == []


# ---- streaming values -------------------------------------------------------------------------
def test_mean_unweighted_and_weighted():
    check_stream(lambda v: tf.metrics.mean(v), np_mean, VALUES[..., 0])
    check_stream(lambda v, w: tf.metrics.mean(v, w), np_mean, VALUES[..., 0], WEIGHTS)
    check_stream(lambda v: tf.metrics.mean(v, weights=0.5), np_mean, VALUES)
    # [batch] weights on [batch, 3] values are expanded to [batch, 1]
    check_stream(lambda v, w: tf.metrics.mean(v, w),
                 lambda v, w: np_mean(v, w[:, None]), VALUES, WEIGHTS)
    check_stream(lambda v, w: tf.metrics.mean(v, w), np_mean, VALUES, WEIGHTS[..., None])
    full = rng.choice([0., 1., 3.], VALUES.shape).astype(np.float32)
    check_stream(lambda v, w: tf.metrics.mean(v, w), np_mean, VALUES, full)


def test_mean_of_all_zero_weights_is_zero():
    updates, final = stream(lambda v, w: tf.metrics.mean(v, w), VALUES[..., 0],
                            np.zeros_like(WEIGHTS))
    assert updates.tolist() == [0.0] * N_BATCHES and final == 0.0


def test_accuracy_and_errors():
    preds = (SCORES > 0.5).astype(np.int64)
    check_stream(lambda l, p: tf.metrics.accuracy(l, p),
                 lambda l, p: np.mean(l == p), LABELS, preds)
    check_stream(lambda l, p, w: tf.metrics.accuracy(l, p, w),
                 lambda l, p, w: np_mean((l == p).astype(float), w), LABELS, preds, WEIGHTS)
    targets = VALUES + rng.normal(0, 0.5, VALUES.shape).astype(np.float32)
    check_stream(lambda l, p: tf.metrics.mean_squared_error(l, p),
                 lambda l, p: np.mean((l - p) ** 2), targets, VALUES)
    check_stream(lambda l, p, w: tf.metrics.mean_absolute_error(l, p, w),
                 lambda l, p, w: np_mean(np.abs(l - p), w[:, None]), targets, VALUES, WEIGHTS)
    check_stream(lambda l, p: tf.metrics.root_mean_squared_error(l, p),
                 lambda l, p: np.sqrt(np.mean((l - p) ** 2)), targets, VALUES)
    check_stream(lambda v: tf.metrics.percentage_below(v, 0.25),
                 lambda v: np.mean(v < 0.25), VALUES[..., 0])
    norm = np.where(WEIGHTS > 0.6, WEIGHTS, 0).astype(np.float32)[..., None].repeat(3, 2)
    check_stream(lambda l, p, n: tf.metrics.mean_relative_error(l, p, n),
                 lambda l, p, n: np.mean(np.where(n == 0, 0, np.abs(l - p) / np.where(
                     n == 0, 1, n))), targets, VALUES, norm)
    unit_l, unit_p = (a / np.linalg.norm(a, axis=2, keepdims=True) for a in (targets, VALUES))
    check_stream(lambda l, p: tf.metrics.mean_cosine_distance(l, p, dim=1),
                 lambda l, p: 1 - np.mean((l * p).sum(1)), unit_l, unit_p, initial=1.0)


def test_accuracy_squeezes_column_predictions():
    labels = tf.placeholder(tf.int64, [None])
    preds = tf.placeholder(tf.int64, [None, 1])
    value, update = tf.metrics.accuracy(labels, preds)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(update, {labels: [1, 2, 3], preds: [[1], [2], [0]]}) == \
            pytest.approx(2 / 3)


def test_mean_tensor_is_elementwise():
    values, weights = tf.placeholder(tf.float32, [BATCH, 3]), tf.placeholder(tf.float32, [BATCH])
    mean, update = tf.metrics.mean_tensor(values, weights)
    assert [v.name for v in tf.local_variables()] == ["mean/total_tensor:0",
                                                      "mean/count_tensor:0"]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        for v, w in zip(VALUES, WEIGHTS + 1):
            sess.run(update, {values: v, weights: w})
        w = (WEIGHTS + 1)[..., None]
        expected = (VALUES * w).sum(0) / np.broadcast_to(w, VALUES.shape).sum(0)
        np.testing.assert_allclose(sess.run(mean), expected, rtol=1e-5)  # per position
    with pytest.raises(ValueError, match="fully known shape"):
        tf.metrics.mean_tensor(tf.placeholder(tf.float32, [None, 3]))


COUNTS = {
    "true_positives": lambda l, p: l & p, "false_positives": lambda l, p: ~l & p,
    "true_negatives": lambda l, p: ~l & ~p, "false_negatives": lambda l, p: l & ~p,
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_confusion_counts(name):
    fn = getattr(tf.metrics, name)
    preds = SCORES > 0.5

    def np_count(l, p, w=None):
        hit = COUNTS[name](l.astype(bool), p.astype(bool))
        return (hit * (1 if w is None else w)).sum()
    check_stream(lambda l, p: fn(l, p), np_count, LABELS, preds)
    check_stream(lambda l, p, w: fn(l, p, w), np_count, LABELS, preds, WEIGHTS)


def np_ratio(num, other):
    def fn(l, p, w=None):
        l, p = l.astype(bool), p.astype(bool)
        w = np.ones(l.shape) if w is None else w
        tp, o = (w * num(l, p)).sum(), (w * other(l, p)).sum()
        return tp / (tp + o) if tp + o > 0 else 0.0
    return fn


def test_precision_and_recall():
    preds = SCORES > 0.5
    prec = np_ratio(COUNTS["true_positives"], COUNTS["false_positives"])
    rec = np_ratio(COUNTS["true_positives"], COUNTS["false_negatives"])
    check_stream(lambda l, p: tf.metrics.precision(l, p), prec, LABELS, preds)
    check_stream(lambda l, p, w: tf.metrics.precision(l, p, w), prec, LABELS, preds, WEIGHTS)
    check_stream(lambda l, p: tf.metrics.recall(l, p), rec, LABELS, preds)
    check_stream(lambda l, p, w: tf.metrics.recall(l, p, w), rec, LABELS, preds, WEIGHTS)
    # nothing predicted positive: precision is 0, not NaN
    updates, final = stream(lambda l, p: tf.metrics.precision(l, p), LABELS,
                            np.zeros_like(preds))
    assert updates.tolist() == [0.0] * N_BATCHES and final == 0.0


# ---- AUC ----------------------------------------------------------------------------------------
def tf_thresholds(num_thresholds):
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return np.array([-1e-7] + inner + [1 + 1e-7], np.float32)


def np_confusion(labels, preds, weights, thresholds):
    pos = preds[None, :] > thresholds[:, None]
    lab = labels.astype(bool)[None, :]
    w = np.ones(preds.shape) if weights is None else weights
    return [((a & b) * w).sum(1) for a, b in [(lab, pos), (lab, ~pos), (~lab, ~pos),
                                               (~lab, pos)]]


def np_div_no_nan(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def np_tf_auc(labels, preds, weights=None, num_thresholds=200, curve="ROC",
              summation_method="trapezoidal"):
    """TF 1.x's tf.metrics.auc algorithm, in NumPy (float64)."""
    tp, fn, tn, fp = np_confusion(labels, preds, weights, tf_thresholds(num_thresholds))
    if curve == "PR" and summation_method == "careful_interpolation":
        dtp, p = tp[:-1] - tp[1:], tp + fp
        slope = np_div_no_nan(dtp, np.maximum(p[:-1] - p[1:], 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0),
                         np_div_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return np_div_no_nan(slope * (dtp + intercept * np.log(ratio)),
                             np.maximum(tp[1:] + fn[1:], 0)).sum()
    eps = 1e-6
    rec = (tp + eps) / (tp + fn + eps)
    x, y = (fp / (fp + tn + eps), rec) if curve == "ROC" else (rec, (tp + eps) / (tp + fp + eps))
    height = {"minoring": np.minimum(y[:-1], y[1:]), "majoring": np.maximum(y[:-1], y[1:])}
    return ((x[:-1] - x[1:]) * height.get(summation_method, (y[:-1] + y[1:]) / 2)).sum()


AUC_PARAMS = [(c, s) for c in ("ROC", "PR")
              for s in ("trapezoidal", "careful_interpolation", "minoring", "majoring")]


@pytest.mark.parametrize("curve,summation", AUC_PARAMS)
@pytest.mark.parametrize("weighted", [False, True])
def test_auc_matches_tf_algorithm(curve, summation, weighted):
    kwargs = dict(curve=curve, summation_method=summation, num_thresholds=50)
    if weighted:
        fn = lambda l, p, w: tf.metrics.auc(l, p, w, **kwargs)  # noqa: E731
        check_stream(fn, lambda l, p, w: np_tf_auc(l, p, w, **kwargs), LABELS, SCORES,
                     WEIGHTS, rtol=1e-4)
    else:
        check_stream(lambda l, p: tf.metrics.auc(l, p, **kwargs),
                     lambda l, p: np_tf_auc(l, p, **kwargs), LABELS, SCORES, rtol=1e-4)


def exact_roc_auc(labels, scores):
    pos, neg = scores[labels == 1], scores[labels == 0]
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0) + 0.5 * (diff == 0)).mean()


def test_auc_is_close_to_exact_roc_auc():
    labels = rng.randint(0, 2, (4, 250))
    scores = np.clip(0.35 * labels + rng.uniform(0, 0.65, labels.shape), 0, 1)
    updates, final = stream(lambda l, p: tf.metrics.auc(l, p, num_thresholds=1000), labels,
                            scores.astype(np.float32))
    assert abs(final - exact_roc_auc(labels.ravel(), scores.ravel())) < 5e-3


def test_values_computed_by_tensorflow():
    """Literals from TF 2.21 compat.v1: the same two batches through tf.metrics.*."""
    labels = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 0], np.int64)
    preds = np.array([0.9, 0.1, 0.45, 0.7, 0.55, 0.2, 0.3, 0.8, 0.62, 0.05], np.float32)
    w = np.array([1., 2., 0.5, 1., 0., 1., 3., 1., 1., 2.], np.float32)
    lab, pr, ww = (tf.placeholder(d, [None]) for d in (tf.int64, tf.float32, tf.float32))
    ms = {(c, s): tf.metrics.auc(lab, pr, weights=ww, num_thresholds=11, curve=c,
                                 summation_method=s) for c, s in AUC_PARAMS}
    ms["roc200"] = tf.metrics.auc(lab, pr)
    ms["prec"] = tf.metrics.precision(lab, tf.greater(pr, 0.5), weights=ww)
    ms["rec"] = tf.metrics.recall(lab, tf.greater(pr, 0.5), weights=ww)
    ms["acc"] = tf.metrics.accuracy(lab, tf.cast(tf.greater(pr, 0.5), tf.int64), weights=ww)
    expected = {(c, s): 0.8589742 for c, s in AUC_PARAMS if c == "ROC"}
    expected.update({("PR", "trapezoidal"): 0.7844017, ("PR", "careful_interpolation"):
                     0.7966529, ("PR", "minoring"): 0.724359, ("PR", "majoring"): 0.84444433,
                     "roc200": 0.75999993, "prec": 0.75, "rec": 0.46153846, "acc": 0.64})
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        for part in (slice(0, 4), slice(4, 10)):
            sess.run({k: v[1] for k, v in ms.items()},
                     {lab: labels[part], pr: preds[part], ww: w[part]})
        got = sess.run({k: v[0] for k, v in ms.items()})
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-6), key


def test_thresholded_counts_precision_and_recall():
    thresholds = [0.25, 0.5, 0.75]
    t = np.array(thresholds, np.float32)

    def np_kind(i):
        return lambda l, p: np_confusion(l, p, None, t)[i]
    for i, name in enumerate(["true_positives", "false_negatives", "true_negatives",
                              "false_positives"]):
        fn = getattr(tf.metrics, name + "_at_thresholds")
        check_stream(lambda l, p: fn(l, p, thresholds), np_kind(i), LABELS, SCORES)

    def np_prec(l, p):
        tp, fn, tn, fp = np_confusion(l, p, None, t)
        return tp / (1e-7 + tp + fp)
    check_stream(lambda l, p: tf.metrics.precision_at_thresholds(l, p, thresholds), np_prec,
                 LABELS, SCORES)
    value, _ = tf.metrics.recall_at_thresholds([1, 0], tf.constant([0.3, 0.6]), thresholds)
    assert value.name == "recall_at_thresholds/recall_value:0"


# ---- errors -----------------------------------------------------------------------------
def test_auc_checks_predictions_are_probabilities():
    labels, preds = tf.placeholder(tf.int64, [None]), tf.placeholder(tf.float32, [None])
    _, update = tf.metrics.auc(labels, preds)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"predictions must be in"):
            sess.run(update, {labels: [1, 0], preds: [0.5, 1.5]})
    with pytest.raises(ValueError, match="Curve must be either ROC or PR"):
        tf.metrics.auc(labels, preds, curve="XY")
    with pytest.raises(ValueError, match="Invalid summation_method"):
        tf.metrics.auc(labels, preds, summation_method="simpson")


def test_shape_mismatches_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(3,\) and \(2,\) are incompatible"):
        tf.metrics.accuracy(tf.constant([1, 2]), tf.constant([1, 2, 3]))
    with pytest.raises(ValueError, match=r"can not be broadcast.*\(4, 3\).*\(4, 2\)"):
        tf.metrics.mean(tf.zeros([4, 3]), weights=tf.ones([4, 2]))
    with pytest.raises(ValueError, match="must be a scalar or have the rank"):
        tf.metrics.true_positives(tf.zeros([4, 3]), tf.zeros([4, 3]), weights=tf.ones([2, 4, 3]))
