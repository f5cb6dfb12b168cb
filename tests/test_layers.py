"""tf.layers: names against TF1, forward values against NumPy, reuse, gradients, training
flags, collections and errors.

Every variable / op name hard-coded below was checked against TF 2.21 `tensorflow.compat.v1`
(with tf_keras, graph mode): e.g. `tf.layers.dense` twice -> dense/kernel, dense_1/kernel;
`tower_1/dense/MatMul` on re-entering `variable_scope('tower', reuse=True)`.
"""
import numpy as np
import pytest

import tginteractive as tf
from tginteractive.framework.context import tag_scope
from tests.ops.harness import numeric_gradient, run

rng = np.random.RandomState(0)


def var_names(collection=tf.GraphKeys.GLOBAL_VARIABLES):
    return [v.name for v in tf.get_collection(collection)]


def op_names():
    return {op.name for op in tf.get_default_graph().get_operations()}


def init_and_run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


# ---- names (checked against TF 2.x compat.v1) ----------------------------------------------
def test_dense_names_follow_tf1():
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.layers.dense(x, 3)
    y2 = tf.layers.dense(x, 3, activation=tf.nn.relu)
    assert (y.name, y2.name) == ("dense/BiasAdd:0", "dense_1/Relu:0")
    assert y.shape.as_list() == [None, 3]
    assert var_names() == ["dense/kernel:0", "dense/bias:0", "dense_1/kernel:0",
                           "dense_1/bias:0"]
    assert {"dense/MatMul", "dense/BiasAdd", "dense_1/MatMul", "dense_1/Relu"} <= op_names()


def test_named_layer_reuse_and_duplicate_error():
    x = tf.placeholder(tf.float32, [None, 4])
    tf.layers.dense(x, 3, name="fc")
    y = tf.layers.dense(x, 3, name="fc", reuse=True)
    assert y.name == "fc_1/BiasAdd:0"
    assert var_names() == ["fc/kernel:0", "fc/bias:0"]
    with pytest.raises(ValueError, match="Variable fc/kernel already exists, disallowed"):
        tf.layers.dense(x, 3, name="fc")


def test_tower_reuse_rebuilds_the_same_scopes():
    x = tf.placeholder(tf.float32, [None, 4])
    outs = []
    for i in range(2):
        with tf.variable_scope("tower", reuse=i > 0):
            h = tf.layers.dense(x, 3, activation=tf.nn.relu)
            outs.append(tf.layers.dense(h, 2, use_bias=False))
    assert var_names() == ["tower/dense/kernel:0", "tower/dense/bias:0",
                           "tower/dense_1/kernel:0"]
    assert [o.name for o in outs] == ["tower/dense_1/MatMul:0", "tower_1/dense_1/MatMul:0"]
    assert {"tower_1/dense/MatMul", "tower_1/dense/Relu"} <= op_names()
    a, b = init_and_run(outs, {x: rng.randn(5, 4)})
    np.testing.assert_array_equal(a, b)


def test_auto_reuse_and_scope_object_reentry():
    x = tf.placeholder(tf.float32, [None, 4])
    for _ in range(2):
        with tf.variable_scope("m", reuse=tf.AUTO_REUSE):
            y = tf.layers.dense(x, 3, name="d")
        z = tf.layers.dense(x, 3, name="d", reuse=tf.AUTO_REUSE)
    assert (y.name, z.name) == ("m_1/d/BiasAdd:0", "d_1/BiasAdd:0")
    with tf.variable_scope("model") as scope:
        tf.layers.dense(x, 2)
    with tf.variable_scope(scope, reuse=True):
        tf.layers.dense(x, 2)  # TF resets model/* counts on exit: shares model/dense
    assert var_names() == ["m/d/kernel:0", "m/d/bias:0", "d/kernel:0", "d/bias:0",
                           "model/dense/kernel:0", "model/dense/bias:0"]


def test_reuse_true_without_name_uses_the_base_name():
    x = tf.placeholder(tf.float32, [None, 4])
    tf.layers.dense(x, 3)
    y = tf.layers.dense(x, 3, reuse=True)
    assert y.name == "dense_1/BiasAdd:0" and var_names() == ["dense/kernel:0", "dense/bias:0"]


def test_variables_ignore_name_scope_ops_do_not():
    with tf.name_scope("ns"):
        x = tf.placeholder(tf.float32, [None, 4])
        y = tf.layers.dense(x, 3, kernel_regularizer=lambda w: tf.reduce_sum(w * w),
                            trainable=False)
    assert y.name == "ns/dense/BiasAdd:0"
    assert var_names() == ["dense/kernel:0", "dense/bias:0"]
    assert var_names(tf.GraphKeys.TRAINABLE_VARIABLES) == []
    assert var_names(tf.GraphKeys.REGULARIZATION_LOSSES) == ["ns/dense/kernel/Regularizer/Sum:0"]


def test_regularizers_collect_once_per_variable():
    x = tf.placeholder(tf.float32, [None, 4])
    kwargs = dict(kernel_regularizer=lambda w: tf.reduce_sum(w * w),
                  bias_regularizer=lambda b: tf.reduce_sum(b),
                  activity_regularizer=lambda a: tf.reduce_sum(a))
    y = tf.layers.dense(x, 3, name="fc", **kwargs)
    tf.layers.dense(x, 3, name="fc", reuse=True, **kwargs)
    assert var_names(tf.GraphKeys.REGULARIZATION_LOSSES) == [
        "fc/kernel/Regularizer/Sum:0", "fc/bias/Regularizer/Sum:0",
        "fc/ActivityRegularizer/truediv:0", "fc_1/ActivityRegularizer/truediv:0"]
    xv = rng.randn(5, 4).astype(np.float32)
    kernel = tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)[0]
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    w, out, (k_loss, _, act_loss, _) = init_and_run([kernel, y, losses], {x: xv})
    np.testing.assert_allclose(k_loss, (w * w).sum(), rtol=1e-5)
    np.testing.assert_allclose(act_loss, out.sum() / 5, rtol=1e-5)


def test_dense_rank3_is_tensordot_over_the_last_axis():
    x = tf.placeholder(tf.float32, [None, None, 4])
    y = tf.layers.dense(x, 3, activation=tf.nn.tanh)
    assert y.name == "dense/Tanh:0" and y.shape.as_list() == [None, None, 3]
    assert {"dense/Tensordot/MatMul", "dense/Tensordot", "dense/BiasAdd"} <= op_names()
    xv = rng.randn(2, 5, 4).astype(np.float32)
    out, w, b = init_and_run([y] + tf.global_variables(), {x: xv})
    np.testing.assert_allclose(out, np.tanh(xv @ w + b), rtol=1e-5, atol=1e-6)
    z = tf.layers.dense(tf.placeholder(tf.float32, [2, 5, 4]), 3)
    assert z.shape.as_list() == [2, 5, 3]


def test_conv_pool_flatten_names_and_shapes():
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    y = tf.layers.conv2d(x, 5, 3, activation=tf.nn.relu)
    y2 = tf.layers.conv2d(y, 4, (3, 2), strides=2, padding="SAME", use_bias=False)
    p = tf.layers.max_pooling2d(y2, 2, 2)
    q = tf.layers.average_pooling2d(y2, [2, 2], [1, 1], padding="same")
    f = tf.layers.flatten(p)
    assert [(t.name, t.shape.as_list()) for t in (y, y2, p, q, f)] == [
        ("conv2d/Relu:0", [None, 6, 6, 5]), ("conv2d_1/Conv2D:0", [None, 3, 3, 4]),
        ("max_pooling2d/MaxPool:0", [None, 1, 1, 4]),
        ("average_pooling2d/AvgPool:0", [None, 3, 3, 4]), ("flatten/Reshape:0", [None, 4])]
    assert var_names() == ["conv2d/kernel:0", "conv2d/bias:0", "conv2d_1/kernel:0"]
    assert tf.global_variables()[2].shape.as_list() == [3, 2, 5, 4]


def test_flatten_shapes():
    cases = [([None], "flatten/ExpandDims:0", [None, 1]), ([2, 3, 4], "flatten_1/Reshape:0",
             [2, 12]), ([None, 3, None], "flatten_2/Reshape:0", [None, None])]
    for shape, name, out_shape in cases:
        y = tf.layers.flatten(tf.placeholder(tf.float32, shape))
        assert (y.name, y.shape.as_list()) == (name, out_shape)
    x = tf.placeholder(tf.float32, [None, 2, None])
    xv = rng.randn(3, 2, 5).astype(np.float32)
    out, first = run([tf.layers.flatten(x), tf.layers.flatten(x, data_format="channels_first")],
                     {x: xv})
    np.testing.assert_array_equal(out, xv.reshape(3, -1))
    np.testing.assert_array_equal(first, xv.transpose(0, 2, 1).reshape(3, -1))


# ---- forward values against NumPy ----------------------------------------------------------
def np_conv(x, k, stride, pad_same):
    kh, kw = k.shape[:2]
    if pad_same:
        ph, pw = [max((-(-n // s) - 1) * s + kk - n, 0) for n, s, kk in
                  ((x.shape[1], stride, kh), (x.shape[2], stride, kw))]
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, k.shape[3]))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, k, axes=([1, 2, 3], [0, 1, 2]))
    return out


@pytest.mark.parametrize("padding,stride", [("valid", 1), ("same", 2), ("SAME", 1)])
def test_conv2d_and_pools_match_numpy(padding, stride):
    x = tf.placeholder(tf.float32, [None, 7, 6, 2])
    y = tf.layers.conv2d(x, 3, (3, 2), strides=stride, padding=padding,
                         bias_initializer=tf.constant_initializer(0.5))
    m = tf.layers.max_pooling2d(x, 2, 2)
    a = tf.layers.average_pooling2d(x, 2, 2)
    xv = rng.randn(2, 7, 6, 2).astype(np.float32)
    out, mv, av, k = init_and_run([y, m, a, tf.global_variables()[0]], {x: xv})
    np.testing.assert_allclose(out, np_conv(xv, k, stride, padding.lower() == "same") + 0.5,
                               rtol=1e-4, atol=1e-5)
    windows = xv[:, :6].reshape(2, 3, 2, 3, 2, 2)
    np.testing.assert_allclose(mv, windows.max((2, 4)))
    np.testing.assert_allclose(av, windows.mean((2, 4)), rtol=1e-6)


def test_default_and_given_initializers():
    x = tf.placeholder(tf.float32, [None, 40])
    tf.layers.dense(x, 30)
    tf.layers.dense(x, 2, kernel_initializer=tf.constant_initializer(0.25),
                    bias_initializer=tf.ones_initializer())
    with tf.variable_scope("s", initializer=tf.constant_initializer(2.0)):
        tf.layers.dense(x, 2)
    k0, b0, k1, b1, k2, b2 = init_and_run(tf.global_variables())
    limit = np.sqrt(6.0 / (40 + 30))  # glorot_uniform
    assert np.abs(k0).max() <= limit and np.abs(k0).max() > limit / 2 and k0.std() > 0
    assert not b0.any() and (k1 == 0.25).all() and (b1 == 1).all()
    assert (k2 == 2.0).all() and not b2.any()  # kernel takes the scope's; bias keeps zeros


# ---- dropout -------------------------------------------------------------------------------
def test_dropout_training_flag():
    x = tf.placeholder(tf.float32, [None, 4])
    is_training = tf.placeholder(tf.bool, [])
    off = tf.layers.dropout(x, 0.3)
    on = tf.layers.dropout(x, 0.3, training=True)
    fed = tf.layers.dropout(x, 0.3, training=is_training)
    const = tf.layers.dropout(x, training=tf.constant(True), name="drop")
    assert off.name == "dropout/Identity:0"
    assert on.name.startswith("dropout_1/dropout/") and const.name.startswith("drop/dropout/")
    assert fed.name.startswith("dropout_2/cond") and fed.shape.as_list() == [None, 4]
    xv = np.ones((2000, 4), np.float32)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(off, {x: xv}), xv)
        np.testing.assert_array_equal(sess.run(fed, {x: xv, is_training: False}), xv)
        for out in sess.run([on, fed], {x: xv, is_training: True}):
            assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.7)}
            assert abs((out == 0).mean() - 0.3) < 0.03


def test_dropout_gradient_through_cond():
    x = tf.placeholder(tf.float32, [None, 4])
    is_training = tf.placeholder(tf.bool, [])
    y = tf.layers.dense(tf.layers.dropout(x, 0.5, training=is_training), 2)
    grads = tf.gradients(tf.reduce_sum(y), [x] + tf.trainable_variables())
    assert all(g is not None for g in grads)
    xv = rng.randn(3, 4).astype(np.float32)
    gx, k, _, gb = init_and_run(grads[:1] + [tf.trainable_variables()[0]] + grads[1:],
                                {x: xv, is_training: False})
    np.testing.assert_allclose(gx, np.tile(k.sum(1), (3, 1)), rtol=1e-5)
    np.testing.assert_allclose(gb, [3, 3])


# ---- batch normalization -------------------------------------------------------------------
def test_batch_normalization_names_and_update_ops():
    x = tf.placeholder(tf.float32, [None, 4])
    b0 = tf.layers.batch_normalization(x)
    b1 = tf.layers.batch_normalization(x, training=True)
    assert (b0.name, b1.name) == ("batch_normalization/batchnorm/add_1:0",
                                  "batch_normalization_1/batchnorm/add_1:0")
    assert var_names() == [f"batch_normalization{s}/{v}:0" for s in ("", "_1")
                           for v in ("gamma", "beta", "moving_mean", "moving_variance")]
    assert var_names(tf.GraphKeys.TRAINABLE_VARIABLES) == [
        "batch_normalization/gamma:0", "batch_normalization/beta:0",
        "batch_normalization_1/gamma:0", "batch_normalization_1/beta:0"]
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert [(u.name, u.type) for u in updates] == [
        ("batch_normalization_1/AssignMovingAvg", "AssignSub"),
        ("batch_normalization_1/AssignMovingAvg_1", "AssignSub")]


@pytest.mark.parametrize("axis", [-1, 1])
def test_batch_normalization_values_and_moving_averages(axis):
    x = tf.placeholder(tf.float32, [None, 3, 4, 2])
    is_training = tf.placeholder(tf.bool, [])
    y = tf.layers.batch_normalization(x, axis=axis, momentum=0.9, training=is_training,
                                      gamma_initializer=tf.constant_initializer(2.0))
    xv = rng.randn(5, 3, 4, 2).astype(np.float32) * 3 + 1
    axes = tuple(i for i in range(4) if i != axis % 4)
    mean, var = xv.mean(axes, keepdims=True), xv.var(axes, keepdims=True)
    moving = tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)[2:]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        train_out, _ = sess.run([y, tf.get_collection(tf.GraphKeys.UPDATE_OPS)],
                                {x: xv, is_training: True})
        mm, mv = sess.run(moving)
        infer_out = sess.run(y, {x: xv, is_training: False})
        sess.run(tf.get_collection(tf.GraphKeys.UPDATE_OPS), {x: xv, is_training: False})
        np.testing.assert_allclose(sess.run(moving), [mm, mv])  # no update when not training
    np.testing.assert_allclose(train_out, 2 * (xv - mean) / np.sqrt(var + 1e-3), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(mm, 0.1 * mean.ravel(), rtol=1e-5)
    np.testing.assert_allclose(mv, 0.9 + 0.1 * var.ravel(), rtol=1e-5)  # population variance
    shape = [1, 1, 1, 1]
    shape[axis] = -1
    expect = 2 * (xv - mm.reshape(shape)) / np.sqrt(mv.reshape(shape) + 1e-3)
    np.testing.assert_allclose(infer_out, expect, rtol=1e-4, atol=1e-4)


# ---- gradients and training ----------------------------------------------------------------
def test_gradients_match_numeric_through_a_layer_stack():
    x = tf.placeholder(tf.float64, [4, 5, 5, 2])
    h = tf.layers.conv2d(x, 3, 3, padding="same", activation=tf.nn.tanh)
    h = tf.layers.average_pooling2d(h, 2, 2)
    h = tf.layers.batch_normalization(tf.layers.flatten(h), training=True)
    y = tf.layers.dense(h, 2, activation=tf.nn.sigmoid)
    grads = tf.gradients(tf.reduce_sum(y), [x] + tf.trainable_variables())
    assert len(grads) == 7 and all(g is not None for g in grads)
    xv = rng.randn(4, 5, 5, 2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        analytic = sess.run(grads[0], {x: xv})
        numeric = numeric_gradient(sess, y, x, xv)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_small_training_loop_reduces_loss():
    tf.set_random_seed(1)
    x = tf.placeholder(tf.float32, [None, 2])
    labels = tf.placeholder(tf.float32, [None, 1])
    h = tf.layers.dense(x, 8, activation=tf.nn.relu,
                        kernel_regularizer=lambda w: 1e-4 * tf.reduce_sum(w * w))
    logits = tf.layers.dense(tf.layers.dropout(h, 0.1, training=True), 1)
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
    loss += tf.add_n(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    xv = rng.randn(64, 2).astype(np.float32)
    yv = (xv[:, :1] * xv[:, 1:] > 0).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: xv, labels: yv})
        for _ in range(200):
            sess.run(train, {x: xv, labels: yv})
        assert sess.run(loss, {x: xv, labels: yv}) < 0.7 * first


# ---- notebooks: a re-run cell gets its names back -------------------------------------------
def test_discarded_cell_frees_its_layer_names():
    graph = tf.get_default_graph()
    x = tf.placeholder(tf.float32, [None, 4])
    for _ in range(2):
        graph.discard("cell-1")
        with tag_scope("cell-1"):
            y = tf.layers.dense(x, 3)
    assert y.name == "dense/BiasAdd:0" and var_names() == ["dense/kernel:0", "dense/bias:0"]


# ---- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,message", [
    ([None, None], r"last dimension of the inputs to a Dense layer should be defined. Found "
                   r"None. Full input shape received: \(\?, \?\)"),
    (None, "last dimension of the inputs to a Dense layer should be defined"),
    ([4], "expected min_ndim=2, found ndim=1")])
def test_dense_input_errors(shape, message):
    with pytest.raises(ValueError, match=message):
        tf.layers.dense(tf.placeholder(tf.float32, shape), 3)


def test_argument_errors():
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    cases = [
        (TypeError, "floating-point dtype", lambda: tf.layers.dense(tf.placeholder(tf.int32,
                                                                                   [2, 4]), 3)),
        (NotImplementedError, "channels_first", lambda: tf.layers.conv2d(
            x, 4, 3, data_format="channels_first")),
        (NotImplementedError, "dilation_rate", lambda: tf.layers.conv2d(x, 4, 3,
                                                                        dilation_rate=2)),
        (NotImplementedError, "kernel_constraint", lambda: tf.layers.dense(
            x, 3, kernel_constraint=lambda w: w)),
        (ValueError, "`padding` argument must be one of", lambda: tf.layers.conv2d(
            x, 4, 3, padding="full")),
        (ValueError, "`kernel_size` argument must be a tuple of 2", lambda: tf.layers.conv2d(
            x, 4, (3, 3, 3))),
        (ValueError, "expected ndim=4, found ndim=3", lambda: tf.layers.max_pooling2d(
            tf.placeholder(tf.float32, [None, 8, 3]), 2, 2)),
        (ValueError, "channel dimension of the inputs should be defined", lambda:
            tf.layers.conv2d(tf.placeholder(tf.float32, [None, 8, 8, None]), 4, 3)),
        (ValueError, "Invalid value 1.5 received for `rate`", lambda: tf.layers.dropout(
            x, 1.5)),
        (TypeError, "`training` must be a Tensor, or a Python bool", lambda:
            tf.layers.dropout(x, training="yes")),
        (NotImplementedError, "renorm", lambda: tf.layers.batch_normalization(x, renorm=True)),
        (ValueError, "undefined `axis` dimension", lambda: tf.layers.batch_normalization(
            tf.placeholder(tf.float32, [None, None]))),
    ]
    for error, message, build in cases:
        with pytest.raises(error, match=message):
            build()
    assert not tf.global_variables()  # each check failed before creating a variable
