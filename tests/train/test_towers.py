"""Data-parallel towers: tf.train.average_gradients and tf.train.replicate_model.

Every equality test compares towers with one device on the full batch: with equal shards the
mean of the tower gradients is the full-batch gradient, so the weights must agree step by
step whatever the runtime does with the device requests (placement must not change results).
"""
import json
import os
import pathlib
import subprocess
import sys
import types

import numpy as np
import pytest

import tginteractive as tf

STEPS = 20
SOFT_CPU2 = dict(allow_soft_placement=True, device_count={"CPU": 2})


def soft_config():
    return tf.ConfigProto(**SOFT_CPU2)


def simulated_gpu_config(gpus=2):
    try:
        return tf.ConfigProto(device_count={"CPU": 1, "GPU": gpus}, simulate_gpus=True)
    except TypeError:
        pytest.skip("ConfigProto(simulate_gpus=True) is not available yet")


def data(batch=8, features=5, classes=3, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(batch, features).astype(np.float32)
    return x, rng.randint(0, classes, size=batch).astype(np.int32), \
        rng.randn(batch, 1).astype(np.float32)


# ---- the CIFAR-10 multi-GPU example, written the way cifar10_multi_gpu_train.py does -------
NUM_CLASSES = 4


def _variable_on_cpu(name, shape, initializer):
    with tf.device("/cpu:0"):
        return tf.get_variable(name, shape, initializer=initializer, dtype=tf.float32)


def _variable_with_weight_decay(name, shape, stddev, wd, seed):
    var = _variable_on_cpu(name, shape,
                           tf.truncated_normal_initializer(stddev=stddev, seed=seed))
    if wd is not None:
        weight_decay = tf.multiply(tf.nn.l2_loss(var), wd, name="weight_loss")
        tf.add_to_collection("losses", weight_decay)
    return var


def inference(images):
    with tf.variable_scope("conv1") as scope:
        kernel = _variable_with_weight_decay("weights", [3, 3, 3, 4], 5e-1, None, seed=1)
        conv = tf.nn.conv2d(images, kernel, [1, 1, 1, 1], padding="SAME")
        biases = _variable_on_cpu("biases", [4], tf.constant_initializer(0.0))
        conv1 = tf.nn.relu(tf.nn.bias_add(conv, biases), name=scope.name)
    pool1 = tf.nn.max_pool(conv1, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME",
                           name="pool1")
    with tf.variable_scope("local3") as scope:
        reshape = tf.reshape(pool1, [images.get_shape()[0].value, -1])
        dim = reshape.get_shape()[1].value
        weights = _variable_with_weight_decay("weights", [dim, 8], 0.1, 0.004, seed=2)
        biases = _variable_on_cpu("biases", [8], tf.constant_initializer(0.1))
        local3 = tf.nn.relu(tf.matmul(reshape, weights) + biases, name=scope.name)
    with tf.variable_scope("softmax_linear") as scope:
        weights = _variable_with_weight_decay("weights", [8, NUM_CLASSES], 0.2, None, seed=3)
        biases = _variable_on_cpu("biases", [NUM_CLASSES], tf.constant_initializer(0.0))
        softmax_linear = tf.add(tf.matmul(local3, weights), biases, name=scope.name)
    return softmax_linear


def cifar_loss(logits, labels):
    labels = tf.cast(labels, tf.int64)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits, name="cross_entropy_per_example")
    cross_entropy_mean = tf.reduce_mean(cross_entropy, name="cross_entropy")
    tf.add_to_collection("losses", cross_entropy_mean)
    return tf.add_n(tf.get_collection("losses"), name="total_loss")


def tower_loss(scope, images, labels):
    logits = inference(images)
    _ = cifar_loss(logits, labels)
    losses = tf.get_collection("losses", scope)
    total_loss = tf.add_n(losses, name="total_loss")
    return total_loss


def cifar_train(images_np, labels_np, num_gpus, steps):
    """cifar10_multi_gpu_train.train(), with a fed batch per tower in place of the input
    queue's `batch_queue.dequeue()` (and without summaries). Returns the trained weights by
    name, the global step, the graph and the averaged gradients."""
    with tf.Graph().as_default() as graph, tf.device("/cpu:0"):
        global_step = tf.get_variable("global_step", [],
                                      initializer=tf.constant_initializer(0), trainable=False)
        lr = tf.train.exponential_decay(0.1, global_step, 1000, 0.1, staircase=True)
        opt = tf.train.GradientDescentOptimizer(lr)
        feeds = {}
        tower_grads = []
        with tf.variable_scope(tf.get_variable_scope()):
            for i in range(num_gpus):
                with tf.device("/gpu:%d" % i):
                    with tf.name_scope("%s_%d" % ("tower", i)) as scope:
                        image_batch = tf.placeholder(tf.float32, [len(images_np) // num_gpus,
                                                                  *images_np.shape[1:]])
                        label_batch = tf.placeholder(tf.int32, [len(labels_np) // num_gpus])
                        feeds[image_batch] = np.split(images_np, num_gpus)[i]
                        feeds[label_batch] = np.split(labels_np, num_gpus)[i]
                        loss = tower_loss(scope, image_batch, label_batch)
                        tf.get_variable_scope().reuse_variables()
                        _ = tf.get_collection(tf.GraphKeys.SUMMARIES, scope)
                        grads = opt.compute_gradients(loss)
                        tower_grads.append(grads)
        grads = tf.train.average_gradients(tower_grads)
        apply_gradient_op = opt.apply_gradients(grads, global_step=global_step)
        variable_averages = tf.train.ExponentialMovingAverage(0.9999, global_step)
        variables_averages_op = variable_averages.apply(tf.trainable_variables())
        train_op = tf.group(apply_gradient_op, variables_averages_op)
        init = tf.global_variables_initializer()
        sess = tf.Session(config=tf.ConfigProto(allow_soft_placement=True,
                                                log_device_placement=False))
        with sess:
            sess.run(init)
            for _ in range(steps):
                sess.run(train_op, feeds)
            weights = {v.op.name: sess.run(v) for v in tf.trainable_variables()}
            return weights, sess.run(global_step), graph, grads


def test_cifar10_multi_gpu_pattern_matches_one_tower():
    rng = np.random.RandomState(0)
    images = rng.rand(8, 6, 6, 3).astype(np.float32)
    labels = rng.randint(0, NUM_CLASSES, 8).astype(np.int32)
    one, step_one, _, _ = cifar_train(images, labels, num_gpus=1, steps=10)
    two, step_two, graph, grads = cifar_train(images, labels, num_gpus=2, steps=10)
    assert step_one == step_two == 10
    assert sorted(one) == sorted(two) == ["conv1/biases", "conv1/weights", "local3/biases",
                                          "local3/weights", "softmax_linear/biases",
                                          "softmax_linear/weights"]
    for name in one:
        np.testing.assert_allclose(two[name], one[name], rtol=1e-4, atol=1e-5, err_msg=name)
    # the towers requested their GPUs, the variables and the averaging stayed on the host
    ops = {op.name: op for op in graph.get_operations()}
    assert ops["tower_1/conv1/Conv2D"].device == "/device:GPU:1"
    assert ops["conv1/weights"].device == "/device:CPU:0"
    assert all(g.op.device == "/device:CPU:0" for g, _ in grads)
    # each tower counted only its own weight decay (get_collection('losses', scope))
    assert len(graph.get_collection("losses", "tower_0")) == 2


# ---- replicate_model == one device, on small models -----------------------------------------
def linear_model(x, y):
    w = tf.get_variable("w", [5, 1], initializer=tf.constant_initializer(0.1))
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    return tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))


def mlp_model(x, labels):
    h = x
    for i, width in enumerate([16, 3]):
        w = tf.get_variable(f"w{i}", [h.shape[1].value, width],
                            initializer=tf.glorot_uniform_initializer(seed=i + 1))
        b = tf.get_variable(f"b{i}", [width], initializer=tf.constant_initializer(0.01))
        h = tf.matmul(h, w) + b
        if i == 0:
            h = tf.nn.relu(h)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=h))


def embedding_model(ids, y):
    emb = tf.get_variable("embedding", [7, 4], initializer=tf.random_normal_initializer(seed=3))
    w = tf.get_variable("w", [4, 1], initializer=tf.constant_initializer(0.5))
    vec = tf.reduce_mean(tf.gather(emb, ids), axis=1)   # [batch, 4] from [batch, 3] ids
    return tf.reduce_mean(tf.square(tf.matmul(vec, w) - y))


MODELS = {  # name -> (model_fn, feeds as numpy arrays)
    "linear": (linear_model, lambda: (data()[0], data()[2])),
    "mlp": (mlp_model, lambda: data()[:2]),
    "embedding": (embedding_model, lambda: (
        np.random.RandomState(1).randint(0, 7, size=(8, 3)).astype(np.int32), data()[2])),
}


def train(model, towers, optimizer, config=None, steps=STEPS, devices=None):
    """Weights after `steps` steps: one device on the full batch (towers=0) or replicated."""
    model_fn, feeds = MODELS[model]
    arrays = feeds()
    with tf.Graph().as_default():
        inputs = [tf.constant(a) for a in arrays]
        opt = optimizer()
        step = tf.train.get_or_create_global_step()
        if towers == 0:
            loss = model_fn(*inputs)
            train_op = opt.minimize(loss, global_step=step)
        else:
            result = tf.train.replicate_model(model_fn, inputs, num_towers=towers,
                                              devices=devices, optimizer=opt, global_step=step)
            train_op, loss = result.train_op, result.loss
        with tf.Session(config=config or soft_config()) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([train_op, loss])[1] for _ in range(steps)]
            weights = {v.op.name: sess.run(v) for v in tf.trainable_variables()}
            assert sess.run(step) == steps
    return weights, np.array(losses)


OPTIMIZERS = {
    "sgd": lambda: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda: tf.train.MomentumOptimizer(0.05, 0.9),
}


def assert_same_training(got, want):
    (w_got, l_got), (w_want, l_want) = got, want
    assert sorted(w_got) == sorted(w_want)
    np.testing.assert_allclose(l_got, l_want, rtol=1e-5, atol=1e-6)
    for name in w_want:
        np.testing.assert_allclose(w_got[name], w_want[name], rtol=1e-5, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_replicate_model_equals_one_device(model, opt):
    want = train(model, 0, OPTIMIZERS[opt])
    assert_same_training(train(model, 2, OPTIMIZERS[opt],
                               devices=["/cpu:0", "/cpu:1"]), want)


@pytest.mark.parametrize("towers", [1, 4])
def test_tower_count_does_not_change_training(towers):
    want = train("mlp", 0, OPTIMIZERS["sgd"])
    assert_same_training(train("mlp", towers, OPTIMIZERS["sgd"],
                               devices=[f"/cpu:{i % 2}" for i in range(towers)]), want)


def test_adam_towers_follow_one_device():
    adam = lambda: tf.train.AdamOptimizer(0.01)  # noqa: E731
    (w_got, l_got), (w_want, l_want) = train("mlp", 2, adam, steps=5), train("mlp", 0, adam,
                                                                              steps=5)
    np.testing.assert_allclose(l_got, l_want, rtol=1e-4)
    for name in w_want:  # Adam's first steps are sign-like: compare to a fraction of lr
        np.testing.assert_allclose(w_got[name], w_want[name], atol=1e-4, err_msg=name)


def test_towers_on_simulated_gpus_equal_one_device():
    config = simulated_gpu_config(2)
    want = train("mlp", 0, OPTIMIZERS["sgd"], config=config)
    assert_same_training(train("mlp", 2, OPTIMIZERS["sgd"], config=config,
                               devices=["/gpu:0", "/gpu:1"]), want)


def test_embedding_gradients_average_densely():
    """gather's gradient is a dense scatter-add, so tower gradients stack like any other;
    duplicate ids within and across towers add up."""
    ids = tf.constant([[0, 0], [1, 0], [2, 2], [0, 6]])
    emb = tf.get_variable("emb", [7, 2], initializer=tf.constant_initializer(1.0))
    opt = tf.train.GradientDescentOptimizer(1.0)
    result = tf.train.replicate_model(lambda i: tf.reduce_sum(tf.gather(emb, i)), ids,
                                      devices=["/cpu:0", "/cpu:1"], optimizer=opt)
    (grad, var), = result.grads_and_vars
    assert var is emb
    with tf.Session(config=soft_config()) as sess:
        sess.run(tf.global_variables_initializer())
        counts = np.bincount([0, 0, 1, 0, 2, 2, 0, 6], minlength=7)
        np.testing.assert_allclose(sess.run(grad), np.repeat(counts[:, None] / 2, 2, axis=1))


# ---- None gradients --------------------------------------------------------------------------
def test_none_gradients_count_as_zero_contributions():
    v, w, unused = (tf.Variable(np.zeros(2, np.float32), name=n) for n in ("v", "w", "unused"))
    g = [tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0]), tf.constant([5.0, 9.0])]
    tower_grads = [[(g[0], v), (None, w), (None, unused)],
                   [(g[1], v), (g[2], w), (None, unused)],
                   [(g[2], v), (None, w), (None, unused)]]
    (gv, v_), (gw, w_), (gu, u_) = tf.train.average_gradients(tower_grads)
    assert (v_, w_, u_) == (v, w, unused) and gu is None
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(gv), [3.0, 5.0])
        np.testing.assert_allclose(sess.run(gw), [5.0 / 3, 3.0])   # not [5, 9]: 3 towers


def test_none_gradient_average_is_the_full_batch_gradient():
    """A variable only tower 0's loss uses: the average must equal the gradient of the mean
    tower loss (the full-batch loss), i.e. the missing tower contributes zero."""
    x = tf.constant(data()[0])
    shards = tf.split(x, 2)
    shared = tf.get_variable("shared", [5], initializer=tf.constant_initializer(0.3))
    only0 = tf.get_variable("only0", [5], initializer=tf.constant_initializer(-0.2))
    unused = tf.get_variable("unused", [1])
    opt = tf.train.GradientDescentOptimizer(0.5)
    losses = [tf.reduce_mean(tf.square(shards[0] * shared + only0)),
              tf.reduce_mean(tf.square(shards[1] * shared))]
    tower_grads = [opt.compute_gradients(loss) for loss in losses]
    assert tower_grads[1][1][0] is None and tower_grads[0][2][0] is None
    averaged = tf.train.average_gradients(tower_grads)
    assert averaged[2] == (None, unused)
    full = tf.gradients((losses[0] + losses[1]) / 2, [shared, only0])
    train_op = opt.apply_gradients(averaged)   # the None pair is skipped
    with tf.Session(config=soft_config()) as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(unused)
        for (got, _), want in zip(averaged, full):
            np.testing.assert_allclose(*sess.run([got, want]), rtol=1e-6)
        sess.run(train_op)
        np.testing.assert_array_equal(sess.run(unused), before)


# ---- placement requests ----------------------------------------------------------------------
def test_replicate_model_requests_devices():
    x, labels = (tf.constant(a) for a in data()[:2])
    opt = tf.train.AdamOptimizer(0.01)
    result = tf.train.replicate_model(mlp_model, [x, labels], devices=["/gpu:0", "/gpu:1"],
                                      optimizer=opt)
    graph = tf.get_default_graph()
    assert result.devices == ["/gpu:0", "/gpu:1"]
    for v in tf.trainable_variables():
        assert v.device == "/device:CPU:0", v.name
        assert opt.get_slot(v, "m").device == "/device:CPU:0"
    matmuls = [op for op in graph.get_operations() if op.type == "MatMul"
               and op.name.startswith("tower_")]
    assert {op.device for op in matmuls} == {"/device:GPU:0", "/device:GPU:1"}
    for op in matmuls:
        assert op.device == f"/device:GPU:{op.name[6]}", op.name
    assert all(g.op.device == "/device:CPU:0" for g, _ in result.grads_and_vars)
    assert result.loss.op.device == "/device:CPU:0"
    assert [t.op.name.split("/")[0] for t in result.tower_losses] == ["tower_0", "tower_1"]
    with tf.Session(config=soft_config()) as sess:   # GPUs requested, soft placement runs it
        sess.run(tf.global_variables_initializer())
        sess.run(result.train_op)


def test_average_gradients_follows_the_variable_device():
    with tf.device("/cpu:1"):
        v = tf.Variable([1.0], name="v")
    free = tf.Variable([1.0], name="free")
    grads = [[(tf.constant([1.0]), v), (tf.constant([1.0]), free)]] * 2
    with tf.device("/gpu:3"):
        (gv, _), (gf, _) = tf.train.average_gradients(grads)
    assert gv.op.device == "/device:CPU:1"
    assert gf.op.device == "/device:GPU:3"   # no request on the variable: scope passes through


def test_variable_device_none_keeps_variables_with_the_first_tower():
    x, y = (tf.constant(a) for a in (data()[0], data()[2]))
    tf.train.replicate_model(linear_model, (x, y), devices=["/cpu:1", "/cpu:0"],
                             variable_device=None)
    assert {v.device for v in tf.trainable_variables()} == {"/device:CPU:1"}


# ---- the helper's other paths ---------------------------------------------------------------
def test_replicate_model_dict_inputs_eval_only_and_global_step():
    x, _, y = data()
    feeds = {"x": tf.placeholder(tf.float32, [None, 5]), "y": tf.placeholder(tf.float32,
                                                                              [None, 1])}
    result = tf.train.replicate_model(linear_model, feeds, num_towers=2,
                                      devices=["/cpu:0", "/cpu:1"])
    assert result.train_op is None and result.grads_and_vars is None
    with tf.variable_scope("", reuse=True):
        full = linear_model(feeds["x"], feeds["y"])
    with tf.Session(config=soft_config()) as sess:
        sess.run(tf.global_variables_initializer())
        got, want = sess.run([result.loss, full], {feeds["x"]: x, feeds["y"]: y})
        np.testing.assert_allclose(got, want, rtol=1e-6)
        with pytest.raises(tf.errors.InvalidArgumentError, match="evenly divisible by 2"):
            sess.run(result.loss, {feeds["x"]: x[:7], feeds["y"]: y[:7]})


def test_replicate_model_leaves_the_callers_scope_alone():
    x, y = (tf.constant(a) for a in (data()[0], data()[2]))
    with tf.variable_scope("model"):
        tf.train.replicate_model(linear_model, (x, y), devices=["/cpu:0", "/cpu:1"],
                                 optimizer=tf.train.GradientDescentOptimizer(0.1))
        assert tf.get_variable_scope().reuse is not True
        assert tf.get_variable("other", [1]).name == "model/other:0"
    assert sorted(v.op.name for v in tf.trainable_variables()) == ["model/b", "model/other",
                                                                   "model/w"]


def test_default_devices(monkeypatch):
    x, y = (tf.constant(a) for a in (data()[0], data()[2]))
    monkeypatch.delattr(tf, "config", raising=False)   # devices unknown at build time
    with pytest.raises(ValueError, match="pass num_towers or devices"):
        tf.train.replicate_model(linear_model, (x, y))
    assert tf.train.replicate_model(linear_model, (x, y), num_towers=2).devices == \
        ["/gpu:0", "/gpu:1"]
    listed = {"list_devices": lambda: ["/job:localhost/replica:0/task:0/device:CPU:0",
                                       "/job:localhost/replica:0/task:0/device:CPU:1"]}
    monkeypatch.setattr(tf, "config", types.SimpleNamespace(**listed), raising=False)
    with tf.variable_scope("", reuse=True):
        assert tf.train.replicate_model(linear_model, (x, y)).devices == ["/cpu:0", "/cpu:1"]
        gpus = [types.SimpleNamespace(name=f"/physical_device:GPU:{i}", device_type="GPU")
                for i in range(4)]
        monkeypatch.setattr(tf.config, "list_devices", lambda: gpus)
        assert tf.train.replicate_model(linear_model, (x, y)).devices == \
            ["/gpu:0", "/gpu:1", "/gpu:2", "/gpu:3"]


# ---- errors ----------------------------------------------------------------------------------
def test_average_gradients_errors():
    v, w = tf.Variable([1.0], name="v"), tf.Variable([1.0], name="w")
    g = tf.constant([1.0])
    with pytest.raises(ValueError, match="at least one tower"):
        tf.train.average_gradients([])
    with pytest.raises(ValueError, match="Tower 1 has 1 .* tower 0 has 2"):
        tf.train.average_gradients([[(g, v), (g, w)], [(g, v)]])
    with pytest.raises(ValueError, match="Tower 1 pairs gradient #0 with variable 'w:0' but "
                                         "tower 0 with 'v:0'"):
        tf.train.average_gradients([[(g, v)], [(g, w)]])


def test_replicate_model_errors():
    x = tf.constant(np.ones((6, 5), np.float32))
    y = tf.constant(np.ones((6, 1), np.float32))
    with pytest.raises(ValueError, match=r"inputs\[0\] .* batch size 6, which does not split "
                                         "evenly into 4 towers"):
        tf.train.replicate_model(linear_model, [x, y], num_towers=4, devices=["/cpu:0"] * 4)
    with pytest.raises(ValueError, match="num_towers=3 does not match"):
        tf.train.replicate_model(linear_model, [x, y], num_towers=3, devices=["/cpu:0"])
    with pytest.raises(ValueError, match="at least 1"):
        tf.train.replicate_model(linear_model, [x, y], num_towers=0)
    with pytest.raises(ValueError, match="scalar"):
        tf.train.replicate_model(linear_model, [tf.constant(1.0), y], devices=["/cpu:0"])
    with pytest.raises(TypeError, match="must return the tower's loss"):
        tf.train.replicate_model(lambda a, b: None, [x, y], devices=["/cpu:0", "/cpu:1"])


# ---- the benchmark runs and validates (timings are not judged here) -------------------------
def test_towers_benchmark_quick_run_validates(tmp_path):
    root = pathlib.Path(__file__).resolve().parents[2]
    out = tmp_path / "towers.json"
    done = subprocess.run([sys.executable, str(root / "benchmarks" / "bench_towers.py"),
                           "--quick", "--no-gpu", "--repeats", "1", "--min-time", "0.02",
                           "--json", str(out)], env=dict(os.environ, PYTHONPATH=str(root)),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    rows = {"numpy, 2 threads (hand-written)", "one device", "1 tower on 1 CPU device",
            "2 towers on 2 CPU devices"}  # each trained to NumPy's weights before timing
    for section in ("cpu", "cpu_one_thread_per_op"):
        assert set(result[section]["validation"]) == rows
        assert result[section]["placement"]["2 towers on 2 CPU devices"].keys() == \
            {"device:CPU:0", "device:CPU:1"}
    assert set(result["small"]["validation"]) == {
        "one device", "2 towers, device threads", "2 towers, inline", "2 towers, measured choice"}
    assert result["two_tower_speedup"] > 0
