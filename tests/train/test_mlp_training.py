"""End to end: a small MLP classifier on synthetic Gaussian blobs trained with Adam reaches a
held-out accuracy of at least 0.95, deterministically (NumPy data seed, tf.set_random_seed)."""
import numpy as np

import tginteractive as tf

CLASSES, FEATURES, HIDDEN = 3, 5, 16


def blobs(n, rng):
    centers = np.array([[2.0, 0, 0, 1, 0], [-1.0, 2.0, 0, 0, 1], [-1.0, -2.0, 1, 0, 0]])
    labels = rng.randint(0, CLASSES, n)
    x = centers[labels] + rng.randn(n, FEATURES) * 0.9
    return x.astype(np.float32), labels


def train_mlp(steps=300, seed=1):
    rng = np.random.RandomState(0)
    train_x, train_y = blobs(600, rng)
    test_x, test_y = blobs(300, rng)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, [None, FEATURES])
        y = tf.placeholder(tf.int64, [None])
        w1 = tf.Variable(tf.random_normal([FEATURES, HIDDEN], stddev=0.3), name="w1")
        b1 = tf.Variable(tf.zeros([HIDDEN]), name="b1")
        w2 = tf.Variable(tf.random_normal([HIDDEN, CLASSES], stddev=0.3), name="w2")
        b2 = tf.Variable(tf.zeros([CLASSES]), name="b2")
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=logits))
        step = tf.train.get_or_create_global_step()
        train = tf.train.AdamOptimizer(0.01).minimize(loss, global_step=step)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = []
            for i in range(steps):
                batch = rng.randint(0, len(train_x), 64)
                _, value = sess.run([train, loss], {x: train_x[batch], y: train_y[batch]})
                losses.append(value)
            acc = sess.run(accuracy, {x: test_x, y: test_y})
            weights = sess.run(w1)
            assert tf.train.global_step(sess, step) == steps
    return losses, acc, weights


def test_adam_trains_an_mlp_to_95_percent_accuracy_deterministically():
    losses, acc, weights = train_mlp()
    assert acc >= 0.95, acc
    assert np.mean(losses[-20:]) < 0.3 * np.mean(losses[:5])
    assert weights.dtype == np.float32
    _, acc_again, weights_again = train_mlp()
    assert acc_again == acc and np.array_equal(weights, weights_again)
