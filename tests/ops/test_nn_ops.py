"""tf.nn: specs for every nn op, plus losses, dropout, moments and top-k behaviour."""
import numpy as np
import pytest

import tginteractive as tf
from tginteractive.ops import loss_ops, nn_ops
from tests.ops.harness import Spec, numeric_gradient, run_spec, spec_id

R = np.random.RandomState(7)


def f64(*shape, low=-2.0, high=2.0):
    return R.uniform(low, high, shape)


def away_from(values, points, gap=0.05):
    """`values` nudged away from kinks (numerical gradients are wrong across them)."""
    for p in points:
        values = np.where(np.abs(values - p) < gap, p + gap * np.sign(values - p + 1e-12),
                          values)
    return values


def np_log_softmax(x, axis=-1):
    s = x - x.max(axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis, keepdims=True))


def np_softmax(x, axis=-1):
    return np.exp(np_log_softmax(x, axis))


def np_sigmoid_xent(x, z):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def distributions(*shape, axis=-1):
    p = R.uniform(0.1, 1.0, shape)
    return p / p.sum(axis, keepdims=True)


SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805
X = away_from(f64(3, 4), [0.0])
X6 = away_from(f64(3, 4, low=-2, high=8), [0.0, 6.0])
LABELS = np.array([2, 0, 3], dtype=np.int32)

SPECS = [
    Spec("Relu", tf.nn.relu, [X], lambda x: np.maximum(x, 0)),
    Spec("ReluGrad", lambda dy, y: nn_ops.ReluGrad(dy, y), [X, X],
         lambda dy, y: dy * (y > 0), grad_inputs=[0]),
    Spec("Relu6", tf.nn.relu6, [X6], lambda x: np.clip(x, 0, 6)),
    Spec("Elu", tf.nn.elu, [X], lambda x: np.where(x > 0, x, np.expm1(x))),
    Spec("Selu", tf.nn.selu, [X], lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x))),
    Spec("Softplus", tf.nn.softplus, [f64(3, 4) * 5], lambda x: np.log1p(np.exp(x))),
    Spec("Softsign", tf.nn.softsign, [X], lambda x: x / (1 + np.abs(x))),
    Spec("LeakyRelu", lambda x: tf.nn.leaky_relu(x, 0.1), [X],
         lambda x: np.where(x > 0, x, 0.1 * x)),
    Spec("Softmax", tf.nn.softmax, [f64(3, 4) * 3], np_softmax),
    Spec("Softmax", lambda x: tf.nn.softmax(x, axis=0), [f64(3, 4)],
         lambda x: np_softmax(x, 0), name="Softmax-axis0"),
    Spec("LogSoftmax", tf.nn.log_softmax, [f64(2, 3, 4) * 3], np_log_softmax),
    Spec("LogSoftmax", lambda x: tf.nn.log_softmax(x, dim=1), [f64(2, 3, 4)],
         lambda x: np_log_softmax(x, 1), name="LogSoftmax-dim1"),
    Spec("BiasAdd", tf.nn.bias_add, [f64(2, 3, 2, 4), f64(4)], lambda v, b: v + b),
    Spec("BiasAdd", lambda v, b: tf.nn.bias_add(v, b, data_format="NCHW"),
         [f64(2, 3, 2, 2), f64(3)], lambda v, b: v + b[:, None, None], name="BiasAdd-NCHW",
         dynamic=False),
    Spec("BiasAdd", tf.nn.xw_plus_b, [f64(2, 3), f64(3, 4), f64(4)],
         lambda x, w, b: x @ w + b, name="xw_plus_b"),
    Spec("SoftmaxCrossEntropyWithLogits",
         lambda z, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x),
         [distributions(3, 4), f64(3, 4) * 3], lambda z, x: -(z * np_log_softmax(x)).sum(-1)),
    Spec("SoftmaxCrossEntropyWithLogits",
         lambda z, x: tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x, dim=0),
         [distributions(3, 4, axis=0), f64(3, 4)], grad_inputs=[1],
         reference=lambda z, x: -(z * np_log_softmax(x, 0)).sum(0), name="SoftmaxXent-v1-dim0"),
    Spec("SoftmaxCrossEntropyWithLogits",  # both outputs: (loss, backprop = softmax - z)
         lambda z, x: loss_ops.SoftmaxCrossEntropyWithLogits(x, z, axis=1),
         [distributions(3, 4), f64(3, 4) * 3],
         lambda z, x: (-(z * np_log_softmax(x)).sum(-1), np.exp(np_log_softmax(x)) - z),
         name="SoftmaxXent-both-outputs"),
    Spec("SparseSoftmaxCrossEntropyWithLogits",
         lambda z, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=z, logits=x),
         [LABELS, f64(3, 4) * 3], lambda z, x: -np_log_softmax(x)[np.arange(3), z]),
    Spec("AddV2", lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
         [R.uniform(0, 1, (3, 4)), f64(3, 4) * 3], lambda z, x: np_sigmoid_xent(x, z),
         name="SigmoidXent"),
    Spec("AddV2", lambda z, x: tf.nn.weighted_cross_entropy_with_logits(z, x, 2.5),
         [R.uniform(0, 1, (3, 4)), f64(3, 4) * 3], name="WeightedXent",
         reference=lambda z, x: (1 - z) * x + (1 + 1.5 * z) * (np.log1p(np.exp(-np.abs(x)))
                                                              + np.maximum(-x, 0))),
    Spec("L2Loss", tf.nn.l2_loss, [f64(3, 4)], lambda x: (x ** 2).sum() / 2),
    Spec("Mean", lambda x: tf.nn.moments(x, [0, 2]), [f64(3, 2, 4)],
         lambda x: (x.mean((0, 2)), x.var((0, 2))), name="moments"),
    Spec("Mean", lambda x: tf.nn.moments(x, [1], keep_dims=True), [f64(3, 4)],
         lambda x: (x.mean(1, keepdims=True), x.var(1, keepdims=True)), name="moments-keep"),
    Spec("InTopKV2", lambda p, t: tf.nn.in_top_k(p, t, 2),
         [np.array([[0.1, 0.5, 0.5, 0.2], [0.3, 0.3, 0.3, 0.9], [1.0, 2.0, 3.0, np.nan]]),
          np.array([3, 0, 2], dtype=np.int32)], lambda p, t: np.array([False, True, False])),
    Spec("TopKV2", lambda x: tf.nn.top_k(x, 2), [f64(3, 5)],
         lambda x: (-np.sort(-x)[:, :2], np.argsort(-x)[:, :2].astype(np.int32))),
]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_op(spec):
    run_spec(spec)


def run(*fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(list(fetches), feed)


# ---- activations at their kinks (TF's choices, see FINDINGS item 7) ----------------------
def test_activation_gradients_at_kinks():
    x = tf.constant([0.0, -1.0, 1.0, 6.0])
    grads = [tf.gradients(f(x), x)[0] for f in (tf.nn.relu, tf.nn.relu6, tf.nn.leaky_relu)]
    relu, relu6, leaky = run(*grads)
    np.testing.assert_array_equal(relu, [0, 0, 1, 1])
    np.testing.assert_array_equal(relu6, [0, 0, 1, 0])
    np.testing.assert_allclose(leaky, [0.2, 0.2, 1, 1])
    assert tf.nn.relu(x).name == "Relu_1:0"


# ---- softmax and cross-entropies -----------------------------------------------------------
def test_softmax_rows_sum_to_one_and_names():
    x = tf.constant(f64(5, 7).astype(np.float32) * 100)
    sm = tf.nn.softmax(x)
    (value,) = run(sm)
    assert sm.name == "Softmax:0" and tf.nn.log_softmax(x).name == "LogSoftmax:0"
    assert value.dtype == np.float32
    np.testing.assert_allclose(value.sum(-1), 1, rtol=1e-6)


def test_cross_entropies_are_stable_for_huge_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]], np.float32)
    onehot = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    x = tf.constant(logits)
    losses = [tf.nn.softmax_cross_entropy_with_logits_v2(labels=onehot, logits=x),
              tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 2], logits=x),
              tf.nn.sigmoid_cross_entropy_with_logits(labels=onehot, logits=x),
              tf.nn.softmax(x), tf.nn.log_softmax(x)]
    grads = tf.gradients(tf.add_n([tf.reduce_sum(t) for t in losses[:3]]), x)
    values = run(*losses, *grads)
    assert all(np.all(np.isfinite(v)) for v in values)
    np.testing.assert_allclose(values[0], [2000.0, 0.0])
    np.testing.assert_allclose(values[1], [2000.0, 0.0])
    np.testing.assert_allclose(values[2], np_sigmoid_xent(logits, onehot), rtol=1e-6)


def test_v1_blocks_label_gradients_and_v2_does_not():
    labels, logits = tf.constant([[0.5, 0.5]]), tf.constant([[0.0, 1.0]])
    v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    assert v1.name == "softmax_cross_entropy_with_logits_sg:0"
    assert v2.name == "softmax_cross_entropy_with_logits:0"
    assert tf.gradients(v1, labels) == [None]
    (dlabels,) = tf.gradients(v2, labels)
    (value,) = run(dlabels)
    np.testing.assert_allclose(value, [[1.3132616, 0.31326166]], rtol=1e-6)


def test_v1_rejects_positional_arguments():
    with pytest.raises(ValueError, match="with named arguments"):
        tf.nn.softmax_cross_entropy_with_logits([[0.0, 1.0]], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="with named arguments"):
        tf.nn.sparse_softmax_cross_entropy_with_logits([1], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="Both labels and logits must be provided"):
        tf.nn.sigmoid_cross_entropy_with_logits(logits=[1.0])


def test_sparse_label_out_of_range_names_the_op():
    labels = tf.placeholder(tf.int32, [2])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=[[1.0, 2.0]] * 2)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(loss, {labels: [0, 5]})
    assert "Received a label value of 5 which is outside the valid range of [0, 2)" in str(
        info.value)
    assert info.value.op is loss.op and loss.op.name in str(info.value)
    with pytest.raises(ValueError, match="Rank mismatch"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[[0]], logits=[[1.0, 2.0]])


@pytest.mark.parametrize("sparse", [False, True])
def test_second_derivative_of_softmax_cross_entropy(sparse):
    x0 = f64(3, 4) * 2
    x = tf.placeholder(tf.float64, [None, 4])
    if sparse:
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=LABELS, logits=x)
    else:
        labels = tf.constant(distributions(3, 4))
        loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=x)
    (g,) = tf.gradients(tf.reduce_sum(loss * np.array([1.0, 2.0, 0.5])), x)
    weighted = tf.reduce_sum(g * f64(3, 4))
    (h,) = tf.gradients(weighted, x)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(h, {x: x0}),
                                   numeric_gradient(sess, weighted, x, x0),
                                   rtol=1e-5, atol=1e-7)


def test_sigmoid_cross_entropy_gradient_and_name():
    x0, z0 = f64(4) * 3, R.uniform(0, 1, 4)
    x = tf.constant(x0)
    loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=z0, logits=x)
    assert loss.name == "logistic_loss:0"
    (g,) = run(tf.gradients(loss, x)[0])
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-x0)) - z0, rtol=1e-10)
    with pytest.raises(ValueError, match="same shape"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0, 0.0], logits=[[1.0, 2.0, 3.0]])


# ---- bias_add, l2_loss, moments --------------------------------------------------------------
def test_bias_add_shape_errors_are_clear():
    value = tf.zeros([2, 3])
    with pytest.raises(ValueError, match="rank 1 but is rank 2.*one entry per channel"):
        tf.nn.bias_add(value, tf.zeros([1, 3]))
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 4"):
        tf.nn.bias_add(value, tf.zeros([4]))
    assert tf.nn.bias_add(value, tf.zeros([3])).name == "BiasAdd_2:0"  # failures took names
    assert tf.nn.xw_plus_b(value, tf.zeros([3, 2]), [1.0, 2.0]).name == "xw_plus_b:0"


def test_l2_loss_and_moments_values_and_names():
    x0 = np.array([[1.0, 2.0], [3.0, 6.0]], np.float32)
    loss = tf.nn.l2_loss(x0)
    mean, var = tf.nn.moments(tf.constant(x0), axes=[0])
    assert loss.name == "L2Loss:0" and mean.name == "moments/Squeeze:0"
    assert var.name == "moments/Squeeze_1:0"
    values = run(loss, mean, var)
    assert values[0] == pytest.approx(25.0) and values[0].dtype == np.float32
    np.testing.assert_allclose(values[1], [2.0, 4.0])
    np.testing.assert_allclose(values[2], [1.0, 4.0])


# ---- dropout -------------------------------------------------------------------------------------
def test_dropout_scales_kept_values():
    x = tf.ones([10000])
    out = tf.nn.dropout(x, keep_prob=0.25)
    assert out.name == "dropout/SelectV2:0" and out.shape.as_list() == [10000]
    (value,) = run(out)
    assert set(np.unique(value)) <= {0.0, 4.0}
    assert abs((value > 0).mean() - 0.25) < 0.02
    (value,) = run(tf.nn.dropout(x, rate=0.75))
    assert set(np.unique(value)) <= {0.0, 4.0} and abs((value > 0).mean() - 0.25) < 0.02


def test_dropout_identity_and_argument_errors():
    x = tf.constant([1.0, 2.0])
    assert tf.nn.dropout(x, 1.0) is x and tf.nn.dropout(x, rate=0.0) is x
    with pytest.raises(ValueError, match="Cannot specify both 'keep_prob' and 'rate'"):
        tf.nn.dropout(x, keep_prob=0.5, rate=0.5)
    with pytest.raises(ValueError, match="`rate` must be provided"):
        tf.nn.dropout(x)
    with pytest.raises(ValueError, match=r"range \[0, 1\)"):
        tf.nn.dropout(x, rate=1.0)
    with pytest.raises(TypeError, match="floating-point"):
        tf.nn.dropout(tf.constant([1, 2]), 0.5)


def test_dropout_with_fed_keep_prob_and_noise_shape():
    keep_prob = tf.placeholder(tf.float32)
    x = tf.ones([6, 50])
    out = tf.nn.dropout(x, keep_prob, noise_shape=[6, 1])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out, {keep_prob: 1.0}), np.ones([6, 50]))
        value = sess.run(out, {keep_prob: 0.5})
    assert set(np.unique(value)) <= {0.0, 2.0}
    assert all(len(np.unique(row)) == 1 for row in value), "noise_shape drops whole rows"


def test_dropout_follows_the_graph_seed():
    tf.set_random_seed(3)
    out = tf.nn.dropout(tf.ones([100]), 0.5)
    with tf.Session() as sess:
        first = sess.run(out)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out), first)


# ---- in_top_k / top_k ------------------------------------------------------------------------
def test_in_top_k_counts_ties_in():
    predictions = [[0.5, 0.5, 0.1], [0.5, 0.5, 0.1]]
    hit = tf.nn.in_top_k(predictions, [0, 1], 1)
    miss = tf.nn.in_top_k(predictions, [2, 7], 2)
    assert hit.name == "in_top_k/InTopKV2:0" and hit.dtype == tf.bool
    np.testing.assert_array_equal(run(hit, miss), [[True, True], [False, False]])


def test_top_k_ties_and_gradient():
    x = tf.constant([[1.0, 3.0, 3.0, 2.0]])
    values, indices = tf.nn.top_k(x, 3)
    (grad,) = tf.gradients(tf.reduce_sum(values * [[1.0, 10.0, 100.0]]), x)
    v, i, g = run(values, indices, grad)
    np.testing.assert_array_equal(v, [[3.0, 3.0, 2.0]])
    np.testing.assert_array_equal(i, [[1, 2, 3]])  # equal values: lower index first
    np.testing.assert_array_equal(g, [[0.0, 1.0, 10.0, 100.0]])
