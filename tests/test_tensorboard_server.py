"""The real TensorBoard server reads what FileWriter wrote: scalars, the graph, run metadata.

Starts `python -m tensorboard.main` on loopback with `--port 0` (the OS picks a free port;
the server prints its URL), polls its HTTP API with bounded retries, and terminates it by
PID whatever happens."""
import json
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pytest

import tginteractive as tf

pytest.importorskip("tensorboard", reason="needs the tensorboard package (test extra)")
from tensorboard.compat.proto import summary_pb2  # noqa: E402

from tginteractive.summary.writer import FileWriter  # noqa: E402

from .tensorboard_helpers import tensorboard_server  # noqa: E402



def _write_run(logdir):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        with tf.name_scope("model"):
            w = tf.Variable(tf.ones([3, 1]), name="w")
            loss = tf.reduce_mean(tf.matmul(x, w), name="loss")
        init = tf.global_variables_initializer()
    metadata = tf.RunMetadata()
    with tf.Session(graph=graph) as sess, FileWriter(logdir / "train", graph) as writer:
        sess.run(init)
        for step in range(3):
            value = sess.run(loss, {x: np.full([2, 3], step, np.float32)},
                             options=tf.RunOptions(trace_level=3), run_metadata=metadata)
            writer.add_summary(summary_pb2.Summary(value=[
                summary_pb2.Summary.Value(tag="loss", simple_value=float(value))]), step)
        writer.add_run_metadata(metadata, "step2", 2)


@pytest.fixture
def tensorboard(tmp_path):
    _write_run(tmp_path / "logs")
    with tensorboard_server(tmp_path / "logs", tmp_path) as server:
        yield server


def _json_has(*keys):
    def ready(body):
        data = json.loads(body)
        for key in keys:
            if key not in data:
                return False
            data = data[key]
        return True
    return ready


def test_scalars_come_through_the_http_api(tensorboard):
    _, poll = tensorboard
    poll("/data/plugin/scalars/tags", _json_has("train", "loss"))
    query = urllib.parse.urlencode({"run": "train", "tag": "loss"})
    body = poll(f"/data/plugin/scalars/scalars?{query}", lambda b: len(json.loads(b)) == 3)
    assert [(step, value) for _, step, value in json.loads(body)] == [(0, 0.0), (1, 3.0),
                                                                      (2, 6.0)]


def test_the_graph_and_run_metadata_come_through_the_http_api(tensorboard):
    _, poll = tensorboard
    info = json.loads(poll("/data/plugin/graphs/info", _json_has("train", "run_graph")))
    assert info["train"]["run_graph"] is True
    graph = poll("/data/plugin/graphs/graph?" + urllib.parse.urlencode({"run": "train"}),
                 lambda b: "model/MatMul" in b)
    assert 'op: "MatMul"' in graph and 'key: "_output_shapes"' in graph
    info = json.loads(poll("/data/plugin/graphs/info", _json_has("train", "tags", "step2")))
    assert info["train"]["tags"]["step2"]["profile"] is True
    query = urllib.parse.urlencode({"run": "train", "tag": "step2"})
    metadata = poll(f"/data/plugin/graphs/run_metadata?{query}", lambda b: "node_stats" in b)
    assert 'node_name: "model/MatMul"' in metadata and "all_end_rel_micros" in metadata


def test_the_server_is_gone_after_the_block(tmp_path):
    _write_run(tmp_path / "logs")
    with tensorboard_server(tmp_path / "logs", tmp_path) as (base, poll):
        poll("/data/plugin/scalars/tags", _json_has("train"))
    with pytest.raises((urllib.error.URLError, OSError)):
        urllib.request.urlopen(base + "/data/plugin/scalars/tags", timeout=5)
