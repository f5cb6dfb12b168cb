"""Shared by the Saver tests: a small model, a saved checkpoint, and a subprocess environment
that imports this checkout."""
import os
import pathlib

import tginteractive as tf

REPO = pathlib.Path(__file__).resolve().parents[2]


def env():
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def model():
    w = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
    b = tf.Variable(5, name="b")
    return w, b


def saved(tmp_path):
    """A checkpoint of `model()` in tmp_path ("m"); the default graph is reset afterwards."""
    w, b = model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    tf.reset_default_graph()
    return path
