"""tf.losses: every loss against NumPy for each reduction and weight shape, TF-computed
literals, names, collections, shape errors, dynamic shapes and gradients."""
import numpy as np
import pytest

import tginteractive as tf
from tests.ops.harness import numeric_gradient

R = tf.losses.Reduction
REDUCTIONS = [R.NONE, R.SUM, R.MEAN, R.SUM_OVER_BATCH_SIZE, R.SUM_BY_NONZERO_WEIGHTS]
B, C = 4, 3
rng = np.random.RandomState(42)
LABELS = rng.randint(0, 2, (B, C)).astype(np.float32)
PREDS = rng.uniform(0.05, 0.95, (B, C)).astype(np.float32)
LOGITS = rng.normal(0, 2, (B, C)).astype(np.float32)
ONEHOT = np.eye(C, dtype=np.float32)[[0, 2, 1, 2]]
CLASSES = np.array([0, 2, 1, 2], np.int32)


# ---- NumPy references -----------------------------------------------------------------------
def np_reduce(losses, weights, reduction):
    losses = np.asarray(losses, np.float64)
    w = np.broadcast_to(np.asarray(weights, np.float64), losses.shape)
    weighted = losses * w
    denominators = {R.SUM: 1.0, R.MEAN: w.sum(), R.SUM_OVER_BATCH_SIZE: losses.size,
                    R.SUM_BY_NONZERO_WEIGHTS: np.count_nonzero(w)}
    if reduction == R.NONE:
        return weighted
    d = denominators[reduction]
    return weighted.sum() / d if d != 0 else 0.0


def np_log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def np_sigmoid_xent(z, x):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def np_huber(l, p, delta=1.0):
    e = np.abs(p - l)
    q = np.minimum(e, delta)
    return 0.5 * q * q + delta * (e - q)


def np_log_loss(l, p, eps=1e-7):
    return -l * np.log(p + eps) - (1 - l) * np.log(1 - p + eps)


UNIT_L = LOGITS / np.linalg.norm(LOGITS, axis=1, keepdims=True)
UNIT_P = PREDS / np.linalg.norm(PREDS, axis=1, keepdims=True)

# name: (build(weights, reduction), per-element NumPy losses)
CASES = {
    "mean_squared_error": (lambda w, r: tf.losses.mean_squared_error(
        LABELS, PREDS, weights=w, reduction=r), (PREDS - LABELS.astype(np.float64)) ** 2),
    "absolute_difference": (lambda w, r: tf.losses.absolute_difference(
        LABELS, PREDS, weights=w, reduction=r), np.abs(PREDS - LABELS.astype(np.float64))),
    "huber_loss": (lambda w, r: tf.losses.huber_loss(
        LABELS, LOGITS, weights=w, delta=0.7, reduction=r),
        np_huber(LABELS.astype(np.float64), LOGITS, 0.7)),
    "log_loss": (lambda w, r: tf.losses.log_loss(LABELS, PREDS, weights=w, reduction=r),
                 np_log_loss(LABELS.astype(np.float64), PREDS)),
    "hinge_loss": (lambda w, r: tf.losses.hinge_loss(LABELS, LOGITS, weights=w, reduction=r),
                   np.maximum(0, 1 - (2 * LABELS.astype(np.float64) - 1) * LOGITS)),
    "sigmoid_cross_entropy": (lambda w, r: tf.losses.sigmoid_cross_entropy(
        LABELS, LOGITS, weights=w, reduction=r),
        np_sigmoid_xent(LABELS.astype(np.float64), LOGITS)),
    "softmax_cross_entropy": (lambda w, r: tf.losses.softmax_cross_entropy(
        ONEHOT, LOGITS, weights=w, reduction=r),
        -(ONEHOT * np_log_softmax(LOGITS.astype(np.float64))).sum(-1)),
    "sparse_softmax_cross_entropy": (lambda w, r: tf.losses.sparse_softmax_cross_entropy(
        CLASSES, LOGITS, weights=w, reduction=r),
        -np_log_softmax(LOGITS.astype(np.float64))[np.arange(B), CLASSES]),
    "cosine_distance": (lambda w, r: tf.losses.cosine_distance(
        UNIT_L, UNIT_P, axis=1, weights=w, reduction=r),
        1 - (UNIT_L * UNIT_P.astype(np.float64)).sum(1, keepdims=True)),
}
ELEMENTWISE_WEIGHTS = [1.0, 0.0, 2.5, np.array([[1.], [0.], [2.], [0.5]], np.float32),
                       np.array([[0., 1., 3.]], np.float32),
                       rng.choice([0., 0.5, 2.], (B, C)).astype(np.float32)]
PER_EXAMPLE_WEIGHTS = [1.0, 0.0, 2.5, np.array([1., 0., 2., 0.5], np.float32)]
WEIGHTS = {name: ELEMENTWISE_WEIGHTS for name in CASES}
WEIGHTS.update(softmax_cross_entropy=PER_EXAMPLE_WEIGHTS,
               sparse_softmax_cross_entropy=PER_EXAMPLE_WEIGHTS,
               cosine_distance=[1.0, 0.0, np.array([[1.], [0.], [2.], [0.5]], np.float32)])
PARAMS = [(name, i, r) for name in CASES for i in range(len(WEIGHTS[name]))
          for r in REDUCTIONS]


@pytest.mark.parametrize("name,weight_index,reduction", PARAMS)
def test_loss_matches_numpy(name, weight_index, reduction):
    build, per_element = CASES[name]
    weights = WEIGHTS[name][weight_index]
    loss = build(weights, reduction)
    assert loss.dtype == tf.float32
    expected = np_reduce(per_element, weights, reduction)
    np.testing.assert_allclose(tf.Session().run(loss), expected, rtol=2e-5, atol=1e-6)
    assert tf.losses.get_losses() == [loss]


def test_sparse_softmax_takes_column_labels_and_weights():
    loss = tf.losses.sparse_softmax_cross_entropy(CLASSES[:, None], LOGITS,
                                                  weights=np.array([[1.], [0.], [2.], [1.]]))
    per_example = -np_log_softmax(LOGITS.astype(np.float64))[np.arange(B), CLASSES]
    expected = np_reduce(per_example, [1., 0., 2., 1.], R.SUM_BY_NONZERO_WEIGHTS)
    np.testing.assert_allclose(tf.Session().run(loss), expected, rtol=1e-5)


def test_label_smoothing_matches_numpy():
    s = 0.2
    soft = tf.losses.softmax_cross_entropy(ONEHOT, LOGITS, label_smoothing=s)
    sig = tf.losses.sigmoid_cross_entropy(LABELS, LOGITS, label_smoothing=s)
    smooth_onehot = ONEHOT * (1 - s) + s / C
    expected_soft = -(smooth_onehot * np_log_softmax(LOGITS.astype(np.float64))).sum(-1).mean()
    expected_sig = np_sigmoid_xent(LABELS * (1 - s) + 0.5 * s, LOGITS.astype(np.float64)).mean()
    np.testing.assert_allclose(tf.Session().run([soft, sig]), [expected_soft, expected_sig],
                               rtol=1e-5)


def test_values_computed_by_tensorflow():
    """The literals below came from TF 2.21 compat.v1 (tf.losses.*, graph mode, float32)."""
    l = np.array([[1., 2., 3.], [4., 5., 6.]])
    p = np.array([[1.5, 2., 2.], [4., 7., 6.5]])
    lab = np.array([[1, 0, 0], [0, 0, 1]], np.float32)
    lg = np.array([[2., 1., -1.], [0.5, 0.2, 3.]], np.float32)
    w = np.array([[2.], [0.5]], np.float32)
    u = l / np.linalg.norm(l, axis=1, keepdims=True)
    v = p / np.linalg.norm(p, axis=1, keepdims=True)
    cases = [
        (tf.losses.mean_squared_error(l, p), 0.9166667),
        (tf.losses.mean_squared_error(l, p, weights=[[1.], [0.]]), 0.41666666),
        (tf.losses.mean_squared_error(l, p, weights=w, reduction=R.SUM), 4.625),
        (tf.losses.mean_squared_error(l, p, weights=w, reduction=R.MEAN), 0.6166667),
        (tf.losses.mean_squared_error(l, p, weights=w, reduction=R.SUM_OVER_BATCH_SIZE),
         0.7708333),
        (tf.losses.softmax_cross_entropy(lab, lg, weights=[3., 0.], label_smoothing=0.1),
         1.4470365),
        (tf.losses.sigmoid_cross_entropy(lab, lg, weights=[[1.], [2.]], label_smoothing=0.2),
         1.0091763),
        (tf.losses.sparse_softmax_cross_entropy([[0], [2]], lg, weights=[[1.], [0.5]]),
         0.20789723),
        (tf.losses.huber_loss(l, p, delta=0.75), 0.32291666),
        (tf.losses.hinge_loss(lab, lg), 0.7833333),
        (tf.losses.log_loss(lab, tf.sigmoid(lg), weights=0.0), 0.0),
        (tf.losses.log_loss(lab, tf.sigmoid(lg)), 0.5957089),
        (tf.losses.absolute_difference(l, p, weights=[[0., 1., 2.]]), 1.25),
        (tf.losses.cosine_distance(u, v, axis=1), 0.024813116),
        (tf.losses.cosine_distance(u, v, axis=1, weights=[[1.], [3.]]), 0.034440815),
        (tf.losses.mean_pairwise_squared_error(l, p, weights=[[1.], [2.]]), 5.5),
        (tf.losses.mean_pairwise_squared_error(l, p), 3.3333335),
    ]
    got = tf.Session().run([t for t, _ in cases])
    np.testing.assert_allclose(got, [e for _, e in cases], rtol=1e-6)


def test_names_scopes_and_dtypes_follow_tf():
    l, p = LABELS, PREDS
    assert tf.losses.mean_squared_error(l, p).name == "mean_squared_error/value:0"
    assert tf.losses.mean_squared_error(l, p).name == "mean_squared_error_1/value:0"
    assert tf.losses.mean_squared_error(l, p, reduction=R.SUM).name == \
        "mean_squared_error_2/Sum:0"
    assert tf.losses.mean_squared_error(l, p, reduction=R.NONE).name == \
        "mean_squared_error_3/Mul:0"
    assert tf.losses.mean_squared_error(l, p, scope="mse").name == "mse/value:0"
    assert tf.losses.softmax_cross_entropy(ONEHOT, LOGITS).name == \
        "softmax_cross_entropy_loss/value:0"
    names = {op.name for op in tf.get_default_graph().get_operations()}
    assert "softmax_cross_entropy_loss/xentropy" in names
    assert "softmax_cross_entropy_loss/labels_stop_gradient" in names
    assert "mean_squared_error/num_elements" in names  # a Python float weight: no zeros
    # float64 inputs: regression losses are float32 (TF casts); logit losses keep the dtype
    assert tf.losses.mean_squared_error(l.astype(np.float64), p.astype(np.float64)).dtype \
        == tf.float32
    x = tf.placeholder(tf.float64, [B, C])
    assert tf.losses.softmax_cross_entropy(ONEHOT, x).dtype == tf.float64
    assert tf.losses.compute_weighted_loss(tf.constant([1., 2.])).name == \
        "weighted_loss/value:0"


def test_collections_and_total_loss():
    a = tf.losses.mean_squared_error(LABELS, PREDS)
    b = tf.losses.absolute_difference(LABELS, PREDS, loss_collection=None)
    c = tf.losses.hinge_loss(LABELS, LOGITS, loss_collection="mine")
    with tf.name_scope("tower_1"):
        d = tf.losses.log_loss(LABELS, PREDS)
    assert tf.losses.get_losses() == [a, d] and tf.get_collection("losses") == [a, d]
    assert tf.losses.get_losses(loss_collection="mine") == [c]
    assert tf.losses.get_losses(scope="tower_1") == [d]
    assert b not in tf.losses.get_losses()
    tf.losses.add_loss(b)
    tf.losses.add_loss(c, loss_collection=None)
    assert tf.losses.get_losses() == [a, d, b]
    assert tf.losses.get_regularization_losses() == []
    zero = tf.losses.get_regularization_loss()
    w = tf.Variable([1., -2.], name="w")
    reg = tf.multiply(0.1, tf.nn.l2_loss(w), name="l2_reg")
    tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, reg)
    reg_total = tf.losses.get_regularization_loss()
    total = tf.losses.get_total_loss()
    no_reg = tf.losses.get_total_loss(add_regularization_losses=False, name="data_loss")
    assert total.name == "total_loss:0" and no_reg.name == "data_loss:0"
    assert reg_total.name == "total_regularization_loss:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        va, vb, vd, vreg, vz, vt, vn = sess.run([a, b, d, reg, zero, total, no_reg])
        assert vz == 0.0 and np.isclose(vreg, 0.25)
        np.testing.assert_allclose(sess.run(reg_total), 0.25)
        np.testing.assert_allclose(vt, va + vb + vd + 0.25, rtol=1e-6)
        np.testing.assert_allclose(vn, va + vb + vd, rtol=1e-6)


def test_total_loss_without_losses_fails_clearly():
    with pytest.raises(ValueError, match="no losses"):
        tf.losses.get_total_loss()


def test_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\).*incompatible"):
        tf.losses.mean_squared_error(LABELS, PREDS[:, :2])
    with pytest.raises(ValueError, match=r"can not be broadcast.*values.shape=\(4, 3\).*"
                                         r"weights.shape=\(4,\)"):
        tf.losses.mean_squared_error(LABELS, PREDS, weights=np.ones(B, np.float32))
    with pytest.raises(ValueError, match=r"Mismatch at dim 1.*\(4, 3\).*\(4, 2\)"):
        tf.losses.absolute_difference(LABELS, PREDS, weights=np.ones((B, 2), np.float32))
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        tf.losses.mean_squared_error(LABELS, PREDS, reduction="average")
    with pytest.raises(ValueError, match="`labels` must not be None"):
        tf.losses.mean_squared_error(None, PREDS)
    with pytest.raises(ValueError, match="specify argument `axis`"):
        tf.losses.cosine_distance(LABELS, PREDS)


def test_dynamic_shapes_check_weights_when_run():
    labels = tf.placeholder(tf.float32, [None, None])
    preds = tf.placeholder(tf.float32, [None, None])
    weights = tf.placeholder(tf.float32, [None, 1])
    loss = tf.losses.mean_squared_error(labels, preds, weights=weights)
    sess = tf.Session()
    w = np.array([[1.], [0.], [2.], [1.]], np.float32)
    got = sess.run(loss, {labels: LABELS, preds: PREDS, weights: w})
    expected = np_reduce((PREDS - LABELS.astype(np.float64)) ** 2, w, R.SUM_BY_NONZERO_WEIGHTS)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="can not be broadcast"):
        # weights [4, 1] against values [1, 1]: NumPy would broadcast, TF refuses
        sess.run(loss, {labels: LABELS[:1, :1], preds: PREDS[:1, :1], weights: w})
    unknown = tf.placeholder(tf.float32)
    loss2 = tf.losses.absolute_difference(labels, preds, weights=unknown)
    np.testing.assert_allclose(sess.run(loss2, {labels: LABELS, preds: PREDS, unknown: 2.0}),
                               2 * np.abs(PREDS - LABELS).mean(), rtol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="can not be broadcast"):
        sess.run(loss2, {labels: LABELS, preds: PREDS, unknown: np.ones(C, np.float32)})


GRAD_CASES = {
    "mean_squared_error": lambda x: tf.losses.mean_squared_error(
        LABELS, x, weights=np.array([[1.], [0.], [2.], [0.5]], np.float32)),
    "huber_loss": lambda x: tf.losses.huber_loss(LABELS, x, delta=0.5, reduction=R.SUM),
    "sigmoid_cross_entropy": lambda x: tf.losses.sigmoid_cross_entropy(
        LABELS, x, label_smoothing=0.1, reduction=R.MEAN, weights=2.0),
    "softmax_cross_entropy": lambda x: tf.losses.softmax_cross_entropy(
        ONEHOT, x, weights=np.array([1., 0., 2., 0.5], np.float32)),
    "sparse_softmax_cross_entropy": lambda x: tf.losses.sparse_softmax_cross_entropy(
        CLASSES, x, reduction=R.SUM_OVER_BATCH_SIZE),
    "log_loss": lambda x: tf.losses.log_loss(LABELS, tf.sigmoid(x)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_match_finite_differences(name):
    x = tf.placeholder(tf.float32, [B, C])
    loss = GRAD_CASES[name](x)
    (grad,) = tf.gradients(loss, [x])
    value = LOGITS * 0.7 + 0.1 if name not in ("mean_squared_error",) else PREDS
    sess = tf.Session()
    analytic = sess.run(grad, {x: value})
    numeric = numeric_gradient(sess, loss, x, value, eps=1e-2)
    np.testing.assert_allclose(analytic, numeric, rtol=2e-2,
                               atol=2e-4)


def test_mse_gradient_matches_closed_form_and_trains():
    target = np.array([[1., -2.], [0.5, 3.]], np.float32)
    w = tf.Variable(tf.zeros([2, 2]))
    loss = tf.losses.mean_squared_error(target, w)
    (grad,) = tf.gradients(loss, [w])
    step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(grad), -2 * target / target.size, rtol=1e-6)
        for _ in range(200):
            sess.run(step)
        np.testing.assert_allclose(sess.run(w), target, atol=1e-3)
