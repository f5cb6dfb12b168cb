"""Across processes: one process trains and saves, another continues from a rebuilt graph
or from the meta graph beside the checkpoint (tf.cond and tf.while_loop bodies included) and
reaches the same loss, bit for bit, as an uninterrupted run."""
import json
import subprocess
import sys

import pytest

import tginteractive as tf
from tests.train.checkpoint_helpers import env

TRAINER = r"""
import json, os, sys
import numpy as np
import tginteractive as tf
mode, directory, steps, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
xs = np.linspace(-1, 1, 64, dtype=np.float32).reshape(-1, 1)
ys = (np.sin(3 * xs) + 0.5 * xs).astype(np.float32)

def control_flow(x, h):
    # a branch per half of the data (one assigns a counter), then a loop with a captured variable
    scale = tf.Variable(1.0, name="scale")
    calls = tf.Variable(0.0, name="calls", trainable=False)
    def positive():
        with tf.control_dependencies([calls.assign_add(1.0)]):
            return h * scale
    h = tf.cond(tf.reduce_mean(x) > 0, positive, lambda: tf.nn.relu(h) - 0.1 * scale)
    mix = tf.Variable(tf.random_normal([16, 16], stddev=0.1), name="mix")
    body = lambda i, a: (i + 1, a + 0.5 * tf.tanh(tf.matmul(a, mix)))
    return tf.while_loop(lambda i, a: i < 3, body, [0, h])[1]

def build():
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float32, [None, 1], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w1 = tf.Variable(tf.random_normal([1, 16], stddev=0.5), name="w1")
    b1 = tf.Variable(tf.zeros([16]), name="b1")
    w2 = tf.Variable(tf.random_normal([16, 1], stddev=0.5), name="w2")
    h = tf.tanh(tf.matmul(x, w1) + b1)
    pred = tf.matmul(control_flow(x, h) if kind == "control_flow" else h, w2)
    loss = tf.reduce_mean(tf.square(pred - y), name="loss")
    step = tf.Variable(0, name="global_step", trainable=False)
    opt = (tf.train.MomentumOptimizer(0.05, 0.9) if hasattr(tf.train, "MomentumOptimizer")
           else tf.train.GradientDescentOptimizer(0.05))
    opt.minimize(loss, global_step=step)
    tf.add_to_collection("loss", loss)
    return tf.train.Saver()

prefix = os.path.join(directory, "model")
if mode == "import":
    latest = tf.train.latest_checkpoint(directory)
    saver = tf.train.import_meta_graph(latest + ".meta")
else:
    saver = build()
train_op, loss = tf.get_collection("train_op")[0], tf.get_collection("loss")[0]
feed = {"x:0": xs, "y:0": ys}
with tf.Session() as sess:
    if mode in ("fresh", "full"):
        sess.run(tf.global_variables_initializer())
    else:
        saver.restore(sess, tf.train.latest_checkpoint(directory))
    for _ in range(steps):  # control_flow: even steps on x < 0, odd ones on x > 0
        half = int(sess.run("global_step:0")) % 2
        sess.run(train_op, {"x:0": xs[32 * half:][:32], "y:0": ys[32 * half:][:32]})
    if mode == "fresh":
        saver.save(sess, prefix, global_step=tf.get_default_graph().get_tensor_by_name(
            "global_step:0"))
    calls = float(sess.run("calls:0")) if kind == "control_flow" else None
    print(json.dumps([float(sess.run(loss, feed)), int(sess.run("global_step:0")), calls]))
"""


def _train(mode, directory, steps, kind):
    out = subprocess.run([sys.executable, "-c", TRAINER, mode, str(directory), str(steps), kind],
                         capture_output=True, text=True, env=env(), timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["mlp", "control_flow"])
def test_training_resumes_across_processes_with_the_same_loss(tmp_path, kind):
    first = _train("fresh", tmp_path, 30, kind)
    latest = tf.train.latest_checkpoint(str(tmp_path))
    assert first[1] == 30 and latest.endswith("model-30")
    full = _train("full", tmp_path / "unused", 60, kind)
    rebuilt = _train("restore", tmp_path, 30, kind)
    imported = _train("import", tmp_path, 30, kind)  # from model-30.meta alone
    assert rebuilt[1:] == imported[1:] == full[1:] == [60, None if kind == "mlp" else 30.0]
    assert rebuilt[0] == full[0] and imported[0] == full[0]  # bit for bit
    assert full[0] < first[0]
    with open(latest + ".meta") as f:
        assert bool(json.load(f)["graph_def"].get("functions")) == (kind == "control_flow")
