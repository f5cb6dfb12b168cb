"""FileWriter: events files that TensorBoard's own EventAccumulator reads back."""
import gc
import os
import time
import pathlib
import re
import signal
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest

import tginteractive as tf

pytest.importorskip("tensorboard", reason="FileWriter writes through the tensorboard package")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.compat.proto import config_pb2, event_pb2, summary_pb2  # noqa: E402

from tginteractive.summary import events, writer as writer_module  # noqa: E402
from tginteractive.summary.writer import FileWriter  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _scalar(tag, value):
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])


def _png(width=2, height=1):
    """A tiny valid grey PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes(range(width)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _accumulate(path):
    acc = EventAccumulator(str(path), size_guidance={k: 0 for k in (
        "scalars", "histograms", "images", "tensors", "compressedHistograms", "audio")})
    return acc.Reload()


def _files(logdir):
    return sorted(p for p in pathlib.Path(logdir).iterdir() if ".tfevents." in p.name)


def test_scalars_histograms_and_images_read_back(tmp_path):
    histogram = summary_pb2.HistogramProto(min=0, max=2, num=3, sum=3, sum_squares=5,
                                           bucket_limit=[1, 2], bucket=[1, 2])
    image = summary_pb2.Summary.Image(height=1, width=2, colorspace=1, encoded_image_string=_png())
    with FileWriter(tmp_path) as w:
        for step, value in [(0, 1.5), (10, 0.5), (20, 0.25)]:
            w.add_summary(_scalar("train/loss", value), global_step=step)
        w.add_summary(summary_pb2.Summary(value=[
            summary_pb2.Summary.Value(tag="weights", histo=histogram),
            summary_pb2.Summary.Value(tag="input/image/0", image=image)]), 20)
    acc = _accumulate(w.filename)
    tags = acc.Tags()
    assert tags["scalars"] == ["train/loss"] and tags["histograms"] == ["weights"]
    assert tags["images"] == ["input/image/0"]
    assert [(e.step, e.value) for e in acc.Scalars("train/loss")] == \
        [(0, 1.5), (10, 0.5), (20, 0.25)]
    (h,) = acc.Histograms("weights")
    assert h.step == 20 and h.histogram_value.num == 3
    assert list(h.histogram_value.bucket) == [1, 2]
    (img,) = acc.Images("input/image/0")
    assert (img.width, img.height, img.encoded_image_string) == (2, 1, _png())


@pytest.mark.parametrize("form", ["bytes", "0-d object array", "np.bytes_"])
def test_add_summary_takes_what_a_summary_op_returns(tmp_path, form):
    data = _scalar("acc", 0.75).SerializeToString()
    value = {"bytes": data, "0-d object array": np.array(data, dtype=object),
             "np.bytes_": np.bytes_(data)}[form]
    with FileWriter(tmp_path) as w:
        w.add_summary(value, np.int64(7))
    assert [(e.step, e.value) for e in _accumulate(w.filename).Scalars("acc")] == [(7, 0.75)]


@pytest.mark.parametrize("value, named", [(3.0, "float"), ("text", "str"),
                                          (np.zeros(2, object), "ndarray of shape (2,)")])
def test_add_summary_rejects_other_types_naming_them(tmp_path, value, named):
    with FileWriter(tmp_path) as w, pytest.raises(TypeError, match=re.escape(named)):
        w.add_summary(value)


def test_add_summary_rejects_bytes_that_are_not_a_summary(tmp_path):
    with FileWriter(tmp_path) as w, pytest.raises(ValueError, match="not a serialized Summary"):
        w.add_summary(b"\xff\xff\xff")


def test_metadata_is_written_with_the_first_value_of_a_tag_only(tmp_path):
    def summary():
        value = summary_pb2.Summary.Value(tag="t", simple_value=1.0)
        value.metadata.plugin_data.plugin_name = "scalars"
        return summary_pb2.Summary(value=[value])
    first = summary()
    with FileWriter(tmp_path) as w:
        w.add_summary(first, 1)
        w.add_summary(first, 2)
    values = [e.summary.value[0] for e in events.summary_iterator(w.filename) if e.summary.value]
    assert [v.HasField("metadata") for v in values] == [True, False]
    assert first.value[0].HasField("metadata")  # the caller's proto is left alone


def test_summary_ops_when_available(tmp_path):
    if not all(hasattr(tf.summary, n) for n in ("scalar", "histogram", "image", "merge_all")):
        pytest.skip("tf.summary.scalar/histogram/image/merge_all are not written yet "
                    "(summary ops are another engineer's work in progress)")
    x = tf.placeholder(tf.float32, [None, 4, 4, 1])
    with tf.name_scope("train"):
        tf.summary.scalar("loss", tf.reduce_mean(x))
    tf.summary.histogram("pixels", x)
    tf.summary.image("input", x, max_outputs=1)
    merged = tf.summary.merge_all()
    with tf.Session() as sess, FileWriter(tmp_path, sess.graph) as w:
        for step in range(3):
            w.add_summary(sess.run(merged, {x: np.full([1, 4, 4, 1], step, np.float32)}), step)
    acc = _accumulate(w.filename)
    assert [e.value for e in acc.Scalars("train/loss")] == [0.0, 1.0, 2.0]
    assert acc.Tags()["histograms"] == ["pixels"] and acc.Tags()["images"] == ["input/image"]


def test_graph_read_back_by_tensorboard(tmp_path):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.name_scope("layer"), tf.device("/cpu:0"):
        w = tf.Variable(tf.zeros([3, 2]), name="W")
        tf.nn.relu(tf.matmul(x, w))
    with FileWriter(tmp_path, graph=tf.get_default_graph()) as writer:
        pass
    graph = _accumulate(writer.filename).Graph()
    nodes = {n.name: n for n in graph.node}
    assert nodes["layer/MatMul"].op == "MatMul" and nodes["layer/MatMul"].device == "/device:CPU:0"
    assert [d.size for d in nodes["layer/Relu"].attr["_output_shapes"].list.shape[0].dim] == [-1, 2]
    assert set(nodes) == {op.name for op in tf.get_default_graph().get_operations()}


def test_add_graph_takes_a_graph_or_a_graph_def(tmp_path):
    tf.constant(1.0, name="one")
    graph_def = tf.get_default_graph().as_graph_def()
    with FileWriter(tmp_path) as w:
        w.add_graph(None, graph_def=graph_def, global_step=3)
        with pytest.raises(ValueError, match="not both"):
            w.add_graph(tf.get_default_graph(), graph_def=graph_def)
        with pytest.raises(TypeError, match="tf.Graph"):
            w.add_graph("graph")
    assert [n.name for n in _accumulate(w.filename).Graph().node] == ["one"]


def _traced_run():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    y = tf.reduce_sum(tf.square(x, name="sq"), name="total")
    metadata = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(y, {x: np.ones((2, 3))}, options=tf.RunOptions(trace_level=3),
                 run_metadata=metadata)
    return metadata


def test_run_metadata_has_times_and_memory_per_device(tmp_path):
    metadata = _traced_run()
    with FileWriter(tmp_path, graph=tf.get_default_graph()) as w:
        w.add_run_metadata(metadata, "step1", global_step=1)
    acc = _accumulate(w.filename)
    assert acc.Tags()["run_metadata"] == ["step1"]
    proto = acc.RunMetadata("step1")
    (device,) = proto.step_stats.dev_stats
    assert device.device == metadata.step_stats.dev_stats[0].device
    stats = {n.node_name: n for n in device.node_stats}
    assert set(stats) == {"sq", "total"}
    assert stats["sq"].memory[0].total_bytes == 24
    assert stats["sq"].all_end_rel_micros == stats["sq"].op_end_rel_micros >= 0
    description = stats["sq"].output[0].tensor_description
    assert [d.size for d in description.shape.dim] == [2, 3]
    assert description.allocation_description.requested_bytes == 24


def test_run_metadata_tags_are_unique_per_writer_and_protos_pass_through(tmp_path):
    with FileWriter(tmp_path) as w:
        w.add_run_metadata(config_pb2.RunMetadata(), "a")
        with pytest.raises(ValueError, match="already used"):
            w.add_run_metadata(_traced_run(), "a")
        with pytest.raises(TypeError, match="RunMetadata"):
            w.add_run_metadata("metadata", "b")


def test_session_logs_and_raw_events(tmp_path):
    with FileWriter(tmp_path) as w:
        w.add_session_log(event_pb2.SessionLog(status=event_pb2.SessionLog.START), 5)
        w.add_event(event_pb2.Event(step=6, file_version="custom"))
        with pytest.raises(TypeError):
            w.add_event(b"event")
    got = list(events.summary_iterator(w.filename))
    assert got[0].file_version == "brain.Event:2"
    assert got[1].session_log.status == event_pb2.SessionLog.START and got[1].step == 5
    assert got[2].file_version == "custom"


def test_each_writer_opens_its_own_file(tmp_path):
    first, second = FileWriter(tmp_path), FileWriter(tmp_path, filename_suffix=".v2")
    first.add_summary(_scalar("a", 1.0))
    second.add_summary(_scalar("b", 2.0))
    first.close(), second.close()
    assert _files(tmp_path) == sorted([pathlib.Path(first.filename), pathlib.Path(second.filename)])
    assert first.filename != second.filename and second.filename.endswith(".v2")
    assert _accumulate(first.filename).Tags()["scalars"] == ["a"]
    assert _accumulate(second.filename).Tags()["scalars"] == ["b"]


def test_flush_makes_events_readable_while_the_writer_is_open(tmp_path):
    w = FileWriter(tmp_path, flush_secs=10_000, max_queue=1000)
    w.add_summary(_scalar("x", 1.0), 1)
    w.add_summary(_scalar("x", 2.0), 2)
    w.flush()
    assert [e.step for e in events.summary_iterator(w.filename)] == [0, 1, 2]
    w.close()


def test_the_background_thread_flushes_every_flush_secs(tmp_path):
    import time
    with FileWriter(tmp_path, flush_secs=0.5) as w:
        time.sleep(0.1)  # past the writer thread's first (immediate) flush
        w.add_summary(_scalar("x", 1.0), 1)
        deadline = time.monotonic() + 20
        while [e.step for e in events.summary_iterator(w.filename)] != [0, 1]:
            assert time.monotonic() < deadline, "flush_secs=0.5 never flushed step 1"
            time.sleep(0.1)


def test_close_is_idempotent_closed_writers_warn_and_reopen_opens_a_new_file(tmp_path):
    w = FileWriter(tmp_path)
    first = w.filename
    w.close()
    w.close()
    with pytest.warns(UserWarning, match="closed FileWriter"):
        w.add_summary(_scalar("lost", 1.0))
    with pytest.warns(UserWarning, match="closed FileWriter"):
        w.flush()
    w.reopen()
    w.add_summary(_scalar("kept", 1.0), 1)
    w.close()
    assert w.filename != first and len(_files(tmp_path)) == 2
    assert _accumulate(first).Tags()["scalars"] == []
    assert _accumulate(w.filename).Tags()["scalars"] == ["kept"]
    assert w.get_logdir() == str(tmp_path)


def test_logdir_is_created_and_bad_ones_are_named(tmp_path):
    nested = tmp_path / "a" / "b"
    FileWriter(nested).close()
    assert len(_files(nested)) == 1
    blocker = tmp_path / "file"
    blocker.write_text("")
    for bad in (blocker, blocker / "sub"):
        with pytest.raises(tf.errors.OpError, match=str(blocker)):
            FileWriter(bad)


def test_session_argument_is_refused_with_the_alternative(tmp_path):
    with pytest.raises(NotImplementedError, match="graph=sess.graph"):
        FileWriter(tmp_path, session=object())


def test_a_collected_writer_is_flushed_and_closed(tmp_path):
    w = FileWriter(tmp_path, flush_secs=10_000)
    w.add_summary(_scalar("x", 1.0), 1)
    path, worker = w.filename, w._writer._async_writer._worker  # tensorboard's writer thread
    del w
    gc.collect()
    assert not worker.is_alive()
    assert [e.step for e in events.summary_iterator(path)] == [0, 1]


def test_summary_iterator_reports_a_cut_file_after_its_good_events(tmp_path):
    with FileWriter(tmp_path) as w:
        w.add_summary(_scalar("x", 1.0), 1)
    data = pathlib.Path(w.filename).read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(data[:-5])
    steps = []
    with pytest.raises(tf.errors.DataLossError, match="truncated or corrupted"):
        for event in events.summary_iterator(cut):
            steps.append(event.step)
    assert steps == [0]
    with pytest.raises(tf.errors.NotFoundError, match="missing"):
        next(events.summary_iterator(tmp_path / "missing"))


def test_tf_train_summary_iterator_is_the_events_one():
    assert tf.train.summary_iterator is events.summary_iterator


def test_add_summary_publishes_to_the_stream_when_someone_listens(tmp_path, monkeypatch):
    calls = []

    class Stream:
        listening = False

        @staticmethod
        def has_subscribers():
            return Stream.listening

        @staticmethod
        def decode_summary(summary, step=None, wall_time=None):
            calls.append(("decode", summary.value[0].tag, step, wall_time is not None))
            return ["record"]

        @staticmethod
        def publish(records):
            calls.append(("publish", records))

    import tginteractive.summary as package
    monkeypatch.setitem(sys.modules, "tginteractive.summary.stream", Stream)
    monkeypatch.setattr(package, "stream", Stream, raising=False)
    with FileWriter(tmp_path) as w:
        w.add_summary(_scalar("quiet", 1.0), 1)
        Stream.listening = True
        w.add_summary(_scalar("loud", 2.0), 2)
    assert calls == [("decode", "loud", 2, True), ("publish", ["record"])]


# ---- processes ---------------------------------------------------------------------------------
CHILD = textwrap.dedent("""
    import os, sys, time
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.summary.writer import record_writer
    from tginteractive.summary.writer import FileWriter

    def slow_write(self, data, write=record_writer.RecordWriter.write):  # a slow disk: the
        time.sleep(0.2)                  # writer thread lags behind, events wait in its queue
        write(self, data)
    record_writer.RecordWriter.write = slow_write

    mode = sys.argv[2]
    w = FileWriter(sys.argv[1], flush_secs=10_000, max_queue=1000)
    for step in range(5):
        w.add_summary(summary_pb2.Summary(value=[
            summary_pb2.Summary.Value(tag="x", simple_value=step)]), step + 1)
    if mode == "flush-then-hang":
        w.flush()
        print("flushed", flush=True)
        time.sleep(600)
    elif mode == "hard-exit":
        os._exit(0)
    # "exit": leave normally, neither flushing nor closing
""")


def _child(logdir, mode):
    return subprocess.Popen([sys.executable, "-c", CHILD, str(logdir), mode], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)


def _steps(logdir):
    (path,) = _files(logdir)
    return [e.step for e in events.summary_iterator(path)]


def test_everything_flushed_survives_sigkill(tmp_path):
    child = _child(tmp_path, "flush-then-hang")
    try:
        assert child.stdout.readline().strip() == "flushed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert _steps(tmp_path) == [0, 1, 2, 3, 4, 5]


def test_a_normal_exit_flushes_unflushed_events_at_exit(tmp_path):
    assert _child(tmp_path / "exit", "exit").wait(timeout=60) == 0
    assert _steps(tmp_path / "exit") == [0, 1, 2, 3, 4, 5]
    # The control: skipping the exit handlers (os._exit) loses the queued events.
    assert _child(tmp_path / "hard", "hard-exit").wait(timeout=60) == 0
    assert len(_steps(tmp_path / "hard")) < 6


def test_writer_module_exports():
    assert writer_module.FileWriter is FileWriter
    if hasattr(tf.summary, "FileWriter"):
        assert tf.summary.FileWriter is FileWriter


def test_records_reach_real_stream_subscribers(tmp_path):
    stream = pytest.importorskip("tginteractive.summary.stream",
                                 reason="summary/stream.py is another engineer's work")
    if not hasattr(stream, "subscribe"):
        pytest.skip("tginteractive.summary.stream.subscribe is not written yet")
    got = []
    with stream.subscribe(got.extend), FileWriter(tmp_path) as w:
        w.add_summary(_scalar("loss", 0.5), 3)
    assert [(r.step, r.tag, r.kind, r.value) for r in got] == [(3, "loss", "scalar", 0.5)]


def test_without_tensorboard_the_writer_says_what_to_install(tmp_path):
    code = ("import sys; sys.modules['tensorboard'] = None; "
            "from tginteractive.summary.writer import FileWriter; import tginteractive as tf\n"
            "try:\n    FileWriter(sys.argv[1])\nexcept ImportError as e:\n    print(e)\n"
            "g = tf.Graph()\ntry:\n    g.as_graph_def()\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    assert out.count("pip install tensorboard") == 2


def test_open_writers_flush_when_the_default_graph_is_reset(tmp_path, monkeypatch):
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.summary.writer import record_writer
    write = record_writer.RecordWriter.write

    def slow_write(self, data):  # a slow disk: without a flush the event is still queued
        time.sleep(0.3)
        write(self, data)
    monkeypatch.setattr(record_writer.RecordWriter, "write", slow_write)
    writer = tf.summary.FileWriter(str(tmp_path), max_queue=1000, flush_secs=3600)
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="t", simple_value=1.5)])
    writer.add_summary(summary, 7)
    tf.reset_default_graph()
    events = [e for e in tf.summary.summary_iterator(writer.filename) if e.summary.value]
    assert [(e.step, e.summary.value[0].simple_value) for e in events] == [(7, 1.5)]
    writer.close()
