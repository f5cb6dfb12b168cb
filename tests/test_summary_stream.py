"""The in-process summary stream: subscribe / publish / decode, failing subscribers, the
zero-cost path, and watch_session_summaries."""
import io
import time
import warnings

import numpy as np
import pytest

import tginteractive as tf
from tginteractive.ops import summary_ops
from tginteractive.summary import stream
from tginteractive.summary.stream import Record, decode_summary

summary_pb2 = pytest.importorskip("tensorboard.compat.proto.summary_pb2")


@pytest.fixture(autouse=True)
def _clean_stream():
    """No subscription or watch leaks between tests."""
    yield
    for subscription in list(stream.channel.subscriptions):
        subscription.close()
    stream.watch_session_summaries(False)
    assert summary_ops._on_summary is None


def scalar_bytes(tag="loss", value=1.5):
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(
        tag=tag, simple_value=value)]).SerializeToString()


# ---- subscribe / publish --------------------------------------------------------------------
def test_subscribe_publish_close():
    got = []
    assert not stream.has_subscribers()
    handle = stream.subscribe(got.append)
    assert stream.has_subscribers()
    records = decode_summary(scalar_bytes(), step=3, wall_time=10.0)
    stream.publish(records)
    assert got == [[Record(3, 10.0, "loss", "scalar", 1.5)]]
    handle.close()
    handle.close()  # closing twice is fine
    stream.publish(records)
    assert len(got) == 1 and not stream.has_subscribers()


def test_subscription_is_a_context_manager():
    got = []
    with stream.subscribe(got.append) as handle:
        stream.publish([Record(None, 0.0, "t", "text", "hi")])
    assert handle.closed and not stream.has_subscribers() and len(got) == 1
    with pytest.raises(TypeError, match="takes a callable"):
        stream.subscribe("not callable")


def test_a_failing_subscriber_warns_once_and_others_still_get_records():
    got = []

    def broken(records):
        raise RuntimeError("plot crashed")
    stream.subscribe(broken)
    stream.subscribe(got.append)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stream.publish([Record(1, 0.0, "a", "scalar", 1.0)])
        stream.publish([Record(2, 0.0, "a", "scalar", 2.0)])
    assert len(got) == 2
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "RuntimeError: plot crashed" in messages[0]


def test_zero_subscribers_cost_nothing(monkeypatch):
    monkeypatch.setattr(stream, "decode_summary", lambda *a, **k: pytest.fail("decoded"))
    stream.publish([Record(1, 0.0, "a", "scalar", 1.0)])  # nobody: a no-op
    stream.watch_session_summaries(True)
    assert summary_ops._on_summary is None  # watching, but nobody listens: no hook
    with tf.Session() as sess:
        sess.run(tf.summary.scalar("x", 1.0))
    stream.watch_session_summaries(False)
    handle = stream.subscribe(lambda records: None)
    assert summary_ops._on_summary is None  # listening, but not watching sessions
    with tf.Session() as sess:
        sess.run(tf.summary.scalar("y", 1.0))
    handle.close()


# ---- watching Session.run ------------------------------------------------------------------
def test_watch_session_summaries_publishes_each_evaluated_summary_once():
    got = []
    x = tf.placeholder(tf.float32, [3])
    merged = tf.summary.merge([tf.summary.scalar("avg", tf.reduce_mean(x)),
                               tf.summary.histogram("x", x)])
    with stream.subscribe(got.extend):
        assert stream.watch_session_summaries() is False
        before = time.time()
        with tf.Session() as sess:
            sess.run(merged, {x: [1.0, 2.0, 6.0]})
        assert stream.watch_session_summaries(False) is True
        with tf.Session() as sess:
            sess.run(merged, {x: [1.0, 2.0, 6.0]})  # no longer watched
    assert sorted((r.tag, r.kind, r.step) for r in got) == [("avg", "scalar", None),
                                                           ("x", "histogram", None)]
    assert all(before <= r.wall_time <= time.time() for r in got)
    assert [r.value for r in got if r.tag == "avg"] == [3.0]
    assert summary_ops._on_summary is None


def test_watching_survives_a_failing_subscriber():
    stream.subscribe(lambda records: 1 / 0)
    stream.watch_session_summaries(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tf.Session() as sess:
            assert sess.run(tf.summary.scalar("x", 2.0))
    assert any("ZeroDivisionError" in str(w.message) for w in caught)


def test_watching_survives_a_summary_that_cannot_be_decoded(monkeypatch):
    def undecodable(*args, **kwargs):
        raise ImportError("no Pillow")
    monkeypatch.setattr(stream, "decode_summary", undecodable)
    monkeypatch.setattr(stream, "_decode_warned", [])
    stream.subscribe(lambda records: pytest.fail("nothing to publish"))
    stream.watch_session_summaries(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tf.Session() as sess:
            sess.run(tf.summary.scalar("x", 2.0))
            sess.run(tf.summary.scalar("y", 2.0))
    assert [str(w.message) for w in caught] == [
        "A watched summary could not be decoded (ImportError: no Pillow); it was not published."]


# ---- decoding ---------------------------------------------------------------------------------
def test_decode_accepts_bytes_arrays_and_protos():
    data = scalar_bytes()
    array = np.empty((), object)
    array[()] = data
    expected = [Record(None, None, "loss", "scalar", 1.5)]
    assert decode_summary(data) == decode_summary(array) == expected
    assert decode_summary(summary_pb2.Summary.FromString(data)) == expected
    with pytest.raises(TypeError, match="not int"):
        decode_summary(3)


def test_decode_tf_written_histogram_and_audio():
    # Summary bytes TF 2.21 wrote for tf.compat.v1.summary.histogram("h", [[1, 5], [-3, 100]])
    # and audio("a3", [[[.1, .2], [.3, -.4]]], 44100.0, max_outputs=1).
    histogram = bytes.fromhex(
        "0ac8010a0268692ac1010900000000000008c0110000000000005940190000000000001040210000000000"
        "c0594029000000008099c34032480d9cc5a0295509c068bc10359a0707c008996919155aed3f2b14facdbe"
        "24f03f21d10e9a768b1240d8b276a935661440723b6014ce785840feda691649eb5a40ffffffffffffef7f"
        "3a480000000000000000000000000000f03f0000000000000000000000000000f03f000000000000000000"
        "0000000000f03f0000000000000000000000000000f03f0000000000000000")
    audio = bytes.fromhex(
        "0a560a0861332f617564696f324a0d00442c47100218022234524946462c00000057415645666d74201000"
        "00000100020044ac000010b10200040010006461746108000000cd0c9a196626cdcc2a09617564696f2f77"
        "6176")
    (h,), (a,) = decode_summary(histogram, step=7), decode_summary(audio)
    assert (h.step, h.tag, h.kind) == (7, "hi", "histogram")
    assert (h.value["min"], h.value["max"], h.value["num"], h.value["sum"]) == (-3, 100, 4, 103)
    assert sum(h.value["bucket"]) == 4 and h.value["bucket_limit"][-1] == np.finfo(float).max
    assert (a.tag, a.kind, a.value.dtype, a.value.shape) == ("a3/audio", "audio", np.float32,
                                                             (2, 2))
    np.testing.assert_allclose(a.value, [[0.1, 0.2], [0.3, -0.4]], atol=1 / 32768)


def _tensor_value(tag, plugin, array):
    value = summary_pb2.Summary.Value(tag=tag, tensor=summary_ops.tensor_proto(array))
    value.metadata.plugin_data.plugin_name = plugin
    return value


def test_decode_tf2_style_plugin_tensors():
    pixels = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    png = summary_ops.encode_png(pixels)
    wav = summary_ops.encode_wav(np.array([[0.5], [-0.5]], np.float32), 8000)
    summary = summary_pb2.Summary(value=[
        _tensor_value("s", "scalars", np.float32(2.5)),
        _tensor_value("t", "text", np.array([b"a", b"b"], object)),
        _tensor_value("h", "histograms", np.array([[0.0, 1.0, 2.0], [1.0, 3.0, 1.0]])),
        _tensor_value("i", "images", np.array([b"2", b"2", png], object)),
        _tensor_value("a", "audio", np.array([[wav, b""]], object)),
        _tensor_value("other", "", np.array([[1, 2]], np.int16))])
    s, t, h, i, a, other = decode_summary(summary)
    assert (s.kind, s.value) == ("scalar", 2.5) and (t.kind, t.value) == ("text", "a\nb")
    assert h.kind == "histogram" and h.value == dict(
        min=0.0, max=3.0, num=3.0, sum=3.0, sum_squares=4.5, bucket_limit=[1.0, 3.0],
        bucket=[2.0, 1.0])
    assert i.kind == "image" and np.array_equal(i.value, pixels)
    assert a.kind == "audio" and a.value.ravel().tolist() == [0.5, -0.5]
    assert other.kind == "tensor" and other.value.tolist() == [[1, 2]]


def test_tensor_protos_with_typed_value_fields():
    tensor_pb2 = pytest.importorskip("tensorboard.compat.proto.tensor_pb2")
    types_pb2 = pytest.importorskip("tensorboard.compat.proto.types_pb2")
    shape = {"dim": [{"size": 2}, {"size": 2}]}
    cases = [
        (tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape, float_val=[7.0]),
         np.full((2, 2), 7.0, np.float32)),  # one value fills the shape, as in TF
        (tensor_pb2.TensorProto(dtype=types_pb2.DT_HALF, half_val=[15360]), np.float16(1.0)),
        (tensor_pb2.TensorProto(dtype=types_pb2.DT_INT32, int_val=[3]), np.int32(3)),
        (tensor_pb2.TensorProto(dtype=types_pb2.DT_BOOL, bool_val=[True]), np.bool_(True))]
    for proto, expected in cases:
        got = stream.tensor_to_ndarray(proto)
        assert got.dtype == expected.dtype and np.array_equal(got, expected), proto


def test_decode_png_of_other_encoders_and_modes():
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("P", (3, 2)).save(buffer, format="PNG")
    assert stream.decode_png(buffer.getvalue()).shape == (2, 3, 3)
