"""Summary ops: specs whose references are TF 2.21 compat.v1 outputs (literal numbers below),
tags and name scopes, collections, merging, run-time errors, and the legacy summary names."""
import subprocess
import sys
import warnings

import numpy as np
import pytest

import tginteractive as tf
from tests.ops.harness import Spec, run_spec, spec_id
from tginteractive.ops import summary_ops
from tginteractive.summary.stream import decode_summary

summary_pb2 = pytest.importorskip("tensorboard.compat.proto.summary_pb2")

# ---- TF-computed literals: /tmp/tfvenv TF 2.21, tf.compat.v1.summary.histogram("h", x) -------
DBL_MAX = 1.7976931348623157e+308
HISTOGRAM_INPUTS = {
    "mixed": np.array([1.0, -2.5, 3.0, 0.0, 1e-13, 7.25], np.float32),
    "ints": np.array([[1, 5], [-3, 100]], np.int32),
    "f64": np.array([0.1, 0.2, 0.3, 1e30, -1e-20]),
    "randn": np.random.RandomState(0).randn(12).astype(np.float32),
    "empty": np.zeros([0], np.float32),
}
TF_HISTOGRAMS = {  # HistogramProto fields TF wrote for HISTOGRAM_INPUTS, copied verbatim
    "mixed": dict(min=-2.5, max=7.25, num=6.0, sum=8.7500000000001, sum_squares=68.8125,
                  bucket_limit=[-2.6170109961884593, -2.379100905625872, 0.0, 1e-12,
                                0.917246389039776, 1.0089710279437536, 2.8787120958073054,
                                3.1665833053880363, 6.7878525393626115, 7.466637793298873,
                                DBL_MAX],
                  bucket=[0.0, 1.0, 0.0, 2.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
    "ints": dict(min=-3.0, max=100.0, num=4.0, sum=103.0, sum_squares=10035.0,
                 bucket_limit=[-3.1665833053880363, -2.8787120958073054, 0.917246389039776,
                               1.0089710279437536, 4.636194617418625, 5.099814079160488,
                               97.88757810018231, 107.67633591020055, DBL_MAX],
                 bucket=[0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
    "f64": dict(min=-1e-20, max=1e+30, num=5.0, sum=1e+30, sum_squares=1.0000000000000001e+60,
                bucket_limit=[-1e-12, 0.0, 0.09312398815580714, 0.10243638697138786,
                              0.19961953895336082, 0.2195814928486969, 0.29226296698161564,
                              0.3214892636797772, 9.920775621859783e+19, DBL_MAX],
                bucket=[0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]),
    "randn": dict(min=-0.9772778749465942, max=2.2408931255340576, num=12.0,
                  sum=8.978548794984818, sum_squares=16.934863837944317,
                  bucket_limit=[-1.0089710279437536, -0.917246389039776, -0.16497482558128992,
                                -0.14997711416480902, -0.11268002566852665,
                                -0.10243638697138786, 0.13634283105891729, 0.14997711416480902,
                                0.38900200905253046, 0.42790220995778355, 0.917246389039776,
                                1.0089710279437536, 1.3429404381931362, 1.47723448201245,
                                1.624957930213695, 1.7874537232350647, 1.9661990955585713,
                                2.1628190051144287, 2.379100905625872, DBL_MAX],
                  bucket=[0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 2.0, 0.0, 2.0, 0.0, 1.0,
                          0.0, 1.0, 1.0, 0.0, 1.0, 0.0]),
    "empty": dict(min=DBL_MAX, max=-DBL_MAX, num=0.0, sum=0.0, sum_squares=0.0,
                  bucket_limit=[DBL_MAX], bucket=[0.0]),
}
# Serialized Summaries TF wrote (hex): audio of [[.1, .2], [.3, -.4], [0, .9]] at 16000 Hz,
# max_outputs=2; tensor_summary("t", [[1.5, 2.5]] float64, "hi", display_name="disp");
# text("t", ["héllo", "world"]) (tag "t_1" there: the second op named t in TF's graph).
TF_AUDIO = bytes.fromhex(
    "0a530a09612f617564696f2f3032460d00007a46100118022230524946462800000057415645666d7420"
    "1000000001000100803e0000007d0000020010006461746104000000cd0c9a192a09617564696f2f7761"
    "760a530a09612f617564696f2f3132460d00007a46100118022230524946462800000057415645666d74"
    "201000000001000100803e0000007d00000200100064617461040000006626cdcc2a09617564696f2f77"
    "6176")
TF_TENSOR = bytes.fromhex("0a2f0a0174421e0802120812020801120208022210000000000000f83f0000000000"
                          "0004404a0a1204646973701a026869")
TF_TEXT = bytes.fromhex("0a280a03745f3142170807120412020802420668c3a96c6c6f4205776f726c644a08"
                        "0a060a0474657874")
# tf.summary.image("i", x) pixels TF wrote (decoded from its PNGs), one list per image.
IMAGE_CASES = {
    "negative": (np.linspace(-1, 2, 36).reshape(2, 3, 2, 3).astype(np.float32),
                 [[[[1, 11, 22], [33, 44, 55]], [[66, 77, 88], [98, 109, 120]],
                   [[131, 142, 153], [164, 175, 186]]],
                  [[[69, 80, 91], [102, 112, 123]], [[134, 145, 156], [167, 178, 189]],
                   [[200, 211, 222], [233, 244, 255]]]]),
    "nan": (np.array([[[[0.5], [np.nan]], [[1.0], [0.25]]]], np.float32),
            [[[[127], [255]], [[255], [63]]]]),
    "rgba64": (np.array([[[[0.1, 0.2, 0.3, 0.4], [np.inf, 0.6, 0.7, 0.8]]]]),
               [[[[63, 127, 191, 255], [255, 0, 0, 255]]]]),
    "half": (np.array([[[[0.3], [0.7]]]], np.float16), [[[[109], [255]]]]),
    "zero": (np.zeros([1, 1, 2, 1], np.float32), [[[[0], [0]]]]),
    "tiny": (np.array([[[[-1e-7], [5e-7]]]], np.float32), [[[[128], [128]]]]),
}


def serialized(*values):
    """A 1-element object array of a Summary of `values` (Summary.Value keyword dicts)."""
    out = np.empty(1, dtype=object)
    out[0] = summary_pb2.Summary(value=[summary_pb2.Summary.Value(**v) for v in values]) \
        .SerializeToString()
    return out


def one(summary):  # the harness compares arrays: a 0-d string output becomes 1-element
    return tf.reshape(summary, [1])


def image_values(tag, pixel_lists, max_outputs=3):
    values = []
    for i, pixels in enumerate(pixel_lists):
        pixels = np.array(pixels, np.uint8)
        image = summary_pb2.Summary.Image(
            height=pixels.shape[0], width=pixels.shape[1], colorspace=pixels.shape[2],
            encoded_image_string=summary_ops.encode_png(pixels))
        values.append(dict(tag=f"{tag}/image/{i}" if max_outputs > 1 else f"{tag}/image",
                           image=image))
    return values


SPECS = [
    Spec("ScalarSummary", lambda x: one(tf.summary.scalar("loss", x)), [np.float32(1.5)],
         lambda x: serialized(dict(tag="loss", simple_value=1.5))),
    Spec("ScalarSummary", lambda t, x: one(summary_ops.scalar_summary(t, x)),
         [np.array([b"a", b"b"], object), np.array([1.0, 2.0])],
         lambda t, x: serialized(dict(tag="a", simple_value=1.0), dict(tag="b", simple_value=2.0)),
         name="ScalarSummary-tag-tensor"),
    *[Spec("HistogramSummary", lambda x: one(tf.summary.histogram("h", x)),
           [HISTOGRAM_INPUTS[key]],
           lambda x, key=key: serialized(dict(tag="h", histo=summary_pb2.HistogramProto(
               **TF_HISTOGRAMS[key]))), name=f"HistogramSummary-{key}")
      for key in TF_HISTOGRAMS],
    *[Spec("ImageSummary", lambda x: one(tf.summary.image("i", x)), [IMAGE_CASES[key][0]],
           lambda x, key=key: serialized(*image_values("i", IMAGE_CASES[key][1])),
           name=f"ImageSummary-{key}") for key in IMAGE_CASES],
    Spec("ImageSummary", lambda x: one(tf.summary.image("u", x, max_outputs=1)),
         [np.arange(8, dtype=np.uint8).reshape(2, 2, 2, 1) * 30],
         lambda x: serialized(*image_values("u", [x[0]], max_outputs=1)),
         name="ImageSummary-uint8"),
    Spec("AudioSummaryV2", lambda x: one(tf.summary.audio("a", x, 16000, max_outputs=2)),
         [np.array([[0.1, 0.2], [0.3, -0.4], [0.0, 0.9]], np.float32)],
         lambda x: np.array([TF_AUDIO], object)),
    Spec("TensorSummaryV2", lambda x: one(tf.summary.tensor_summary(
        "t", x, summary_description="hi", display_name="disp")),
        [np.array([[1.5, 2.5]])], lambda x: np.array([TF_TENSOR], object)),
    Spec("TensorSummaryV2", lambda x: one(tf.summary.text("t_1", x)),
         [np.array(["héllo".encode(), b"world"], object)], lambda x: np.array([TF_TEXT], object),
         name="TensorSummaryV2-text"),
    Spec("MergeSummary", lambda a, b: one(tf.summary.merge([a, b])),
         [serialized(dict(tag="loss", simple_value=1.5))[0],
          serialized(dict(tag="x", simple_value=1.0))[0]],
         # TF: merge of scalar("loss", 1.5) and scalar("x", 1.0)
         lambda a, b: np.array([b"\n\x0b\n\x04loss\x15\x00\x00\xc0?\n\x08\n\x01x\x15\x00\x00\x80?"],
                               object)),
]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_summary_op_specs(spec):
    run_spec(spec)


def run(fetches):
    with tf.Session() as sess:
        return sess.run(fetches)


def tags(summary_op):
    return [r.tag for r in decode_summary(run(summary_op))]


# ---- tags: op names -------------------------------------------------------------------------
def test_tags_are_op_names_with_scopes_and_dedup():
    a, b = tf.summary.scalar("loss", 1.0), tf.summary.scalar("loss", 2.0)
    with tf.name_scope("train"):
        c = tf.summary.histogram("loss", [1.0])
    d = tf.summary.scalar("loss", 3.0, family="fam")
    assert [a.op.name, b.op.name, c.op.name, d.op.name] == ["loss", "loss_1", "train/loss",
                                                            "fam/loss"]
    assert [tags(s) for s in (a, b, c, d)] == [["loss"], ["loss_1"], ["train/loss"],
                                               ["fam/fam/loss"]]  # TF doubles the family
    assert a.dtype == tf.string and a.shape.as_list() == []
    assert tf.get_default_graph().get_operation_by_name("loss/tags").type == "Const"


def test_illegal_characters_become_underscores_with_one_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = tf.summary.scalar("/a b:c(d)", 1.0)
    assert s.op.name == "a_b_c_d_" and tags(s) == ["a_b_c_d_"]
    assert [str(w.message) for w in caught] == [
        "Summary name /a b:c(d) is illegal; using a_b_c_d_ instead."]
    assert caught[0].filename == __file__


def test_image_and_audio_tags_follow_max_outputs():
    images = np.zeros([3, 2, 2, 1], np.uint8)
    assert tags(tf.summary.image("img", images)) == [f"img/image/{i}" for i in range(3)]
    assert tags(tf.summary.image("img", images, max_outputs=1)) == ["img_1/image"]
    assert tags(tf.summary.image("img", images, max_outputs=5)) == \
        [f"img_2/image/{i}" for i in range(3)]
    clips = np.zeros([2, 4], np.float32)
    assert tags(tf.summary.audio("au", clips, 8000, max_outputs=1)) == ["au/audio"]
    with pytest.raises(ValueError, match="max_images' of 'ImageSummary' Op passed 0"):
        tf.summary.image("img", images, max_outputs=0)


# ---- decoded contents -----------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(TF_HISTOGRAMS))
def test_histogram_buckets_equal_tf1(key):
    record, = decode_summary(run(tf.summary.histogram("h", HISTOGRAM_INPUTS[key])))
    assert record.kind == "histogram" and record.value == TF_HISTOGRAMS[key]


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_uint8_images_decode_to_the_input(channels):
    pixels = np.random.RandomState(channels).randint(0, 256, [2, 5, 7, channels]).astype(np.uint8)
    records = decode_summary(run(tf.summary.image("img", pixels)))
    assert [r.kind for r in records] == ["image", "image"]
    for record, expected in zip(records, pixels):
        np.testing.assert_array_equal(record.value, expected)
    image = summary_pb2.Summary.FromString(run(tf.summary.image("x", pixels))).value[0].image
    assert (image.height, image.width, image.colorspace) == (5, 7, channels)
    assert image.encoded_image_string.startswith(b"\x89PNG")


def test_audio_decodes_to_the_quantized_input():
    clip = np.sin(np.linspace(0, 20, 300, dtype=np.float32)).reshape(1, 150, 2) * 0.5
    record, = decode_summary(run(tf.summary.audio("au", clip, 22050.0)))
    assert record.kind == "audio" and record.value.shape == (150, 2)
    np.testing.assert_allclose(record.value, clip[0], atol=1 / 32768)
    audio = summary_pb2.Summary.FromString(run(tf.summary.audio("a", clip, 22050.0))).value[0]
    assert (audio.audio.sample_rate, audio.audio.num_channels, audio.audio.length_frames,
            audio.audio.content_type) == (22050.0, 2, 150, "audio/wav")


def test_text_and_tensor_summaries_decode():
    text, tensor = tf.summary.text("note", tf.constant("**hi**")), \
        tf.summary.tensor_summary("w", np.arange(6, dtype=np.int64).reshape(2, 3))
    (t,), (w,) = decode_summary(run(text)), decode_summary(run(tensor))
    assert (t.tag, t.kind, t.value) == ("note", "text", "**hi**")
    assert w.kind == "tensor" and w.value.dtype == np.int64
    np.testing.assert_array_equal(w.value, np.arange(6).reshape(2, 3))
    metadata = summary_pb2.Summary.FromString(run(text)).value[0].metadata
    assert metadata.plugin_data.plugin_name == "text" and metadata.plugin_data.content == b""


# ---- collections and merging ----------------------------------------------------------------
def test_collections_and_merge_all():
    assert tf.summary.merge_all() is None
    a = tf.summary.scalar("a", 1.0)
    b = tf.summary.scalar("b", 2.0, collections=["mine"])
    tf.summary.scalar("c", 3.0, collections=[])
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a] and tf.get_collection("mine") == [b]
    with tf.name_scope("tower"):
        tf.summary.scalar("d", 4.0)
    merged = tf.summary.merge_all()
    assert merged.op.name == "Merge/MergeSummary" and merged.op.type == "MergeSummary"
    assert tags(merged) == ["a", "tower/d"]
    assert tags(tf.summary.merge_all(scope="tower")) == ["tower/d"]
    assert tf.summary.merge_all("nothing") is None
    named = tf.summary.merge([a, b], name="both")
    assert named.op.name == "both/both" and tags(named) == ["a", "b"]
    assert named not in tf.get_collection(tf.GraphKeys.SUMMARIES)


def test_duplicate_tags_fail_when_the_merge_runs():
    a = tf.summary.scalar("x", 1.0)
    merged = tf.summary.merge([a, summary_ops.scalar_summary("x", 2.0)])  # built fine
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Duplicate tag x found in summary inputs"):
        run(merged)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Could not parse one of the"):
        run(tf.summary.merge([tf.constant(b"\xff\xff")]))


# ---- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("build, message", [
    (lambda: tf.summary.scalar("v", [1.0, 2.0]),
     r"tags and values are not the same shape: \[\] != \[2\] \(tag 'v'\)"),
    (lambda: tf.summary.histogram("h", [1.0, np.nan]), "Nan in summary histogram for: h"),
    (lambda: tf.summary.histogram("h", [np.inf]), "Infinity in Histogram for: h"),
    (lambda: tf.summary.image("i", np.zeros([2, 2, 2], np.float32)),
     r"Tensor must be 4-D with last dim 1, 3, or 4, not \[2,2,2\]"),
    (lambda: tf.summary.audio("a", np.zeros([2], np.float32), 10),
     r"Tensor must be 3-D or 2-D, got: \[2\]"),
], ids=["scalar-shape", "nan", "inf", "image-rank", "audio-rank"])
def test_bad_values_fail_at_run_time_like_tf(build, message):
    summary = build()
    with pytest.raises(tf.errors.InvalidArgumentError, match=message) as info:
        run(summary)
    assert summary.op.name in str(info.value)


def test_bad_dtypes_fail_when_built():
    with pytest.raises(TypeError, match="'values' has DataType bool not in list"):
        tf.summary.histogram("h", [True])
    with pytest.raises(TypeError, match="'tensor' has DataType int32 not in list"):
        tf.summary.image("i", np.zeros([1, 1, 1, 1], np.int32))
    with pytest.raises(ValueError, match="to have dtype string, got tf.float32"):
        tf.summary.text("t", tf.constant(1.0))


def test_summaries_stay_on_the_cpu_beside_simulated_gpus():
    x = tf.constant([1.0, 2.0])  # placed on GPU:0 by default
    merged = tf.summary.merge([tf.summary.histogram("h", x), tf.summary.scalar("s", x[0])])
    config = tf.ConfigProto(device_count={"GPU": 1}, simulate_gpus=True)
    with tf.Session(config=config) as sess:
        assert tags(merged) == ["h", "s"] and sess.run(merged)
        devices = {r.op.name: r.device.device_type for r in sess.placement(merged)}
    assert devices["h"] == devices["Merge/MergeSummary"] == "CPU" and devices["Const"] == "GPU"


def test_import_loads_tensorboard_only_when_a_summary_is_built():
    code = ("import sys; import tginteractive as tf; a = 'tensorboard' in sys.modules; "
            "tf.summary.scalar('x', 1.0); print(a, 'tensorboard' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


# ---- legacy names (TF 0.11), old semantics --------------------------------------------------
LEGACY = ["scalar_summary", "histogram_summary", "image_summary", "audio_summary",
          "merge_summary", "merge_all_summaries"]


def _legacy_call(old):
    return {"scalar_summary": lambda f: f("a", 1.0),
            "histogram_summary": lambda f: f("h", [1.0]),
            "image_summary": lambda f: f("i", np.zeros([1, 1, 1, 1], np.uint8)),
            "audio_summary": lambda f: f("au", np.zeros([1, 2], np.float32), 8000),
            "merge_summary": lambda f: f([tf.summary.scalar("m", 1.0)]),
            "merge_all_summaries": lambda f: f()}[old]


@pytest.mark.parametrize("old", LEGACY)
def test_legacy_summary_names_warn_once(old):
    fn = getattr(tf, old)
    fn.warned = False  # the warning is once per process; re-arm it for this test
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _legacy_call(old)(fn)
        _legacy_call(old)(fn)
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(messages) == 1 and f"tf.{old} is deprecated" in messages[0], messages


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_legacy_summaries_keep_free_tags():
    with tf.name_scope("scope"):
        s = tf.scalar_summary(tf.constant(["x/a", "x/b"]), [1.0, 2.0])
        h = tf.histogram_summary("x/a", [1.0])
    i = tf.image_summary("pics", np.zeros([2, 1, 1, 3], np.uint8), max_images=1)
    assert s.op.name == "scope/ScalarSummary" and tags(s) == ["x/a", "x/b"]
    assert h.op.name == "scope/HistogramSummary" and tags(i) == ["pics/image"]
    merged = tf.merge_all_summaries()
    assert merged.op.name == "MergeSummary/MergeSummary"
    with pytest.raises(tf.errors.InvalidArgumentError, match="Duplicate tag x/a"):
        run(merged)  # two summaries, one tag: only the run notices
    assert tags(tf.merge_summary([s, i])) == ["x/a", "x/b", "pics/image"]
    tf.reset_default_graph()
    assert tf.merge_all_summaries() is None


def test_legacy_summary_writer_is_file_writer_and_warns_once(tmp_path):
    file_writer = getattr(tf.summary, "FileWriter", None)
    if file_writer is None:
        pytest.skip("tf.summary.FileWriter (summary/writer.py) is not available")
    cls = tf.train.SummaryWriter
    assert issubclass(cls, file_writer) and cls is tf.train.SummaryWriter
    cls.warned = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cls(str(tmp_path / "a")).close()
        cls(str(tmp_path / "b")).close()
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert messages == ["tf.train.SummaryWriter is deprecated (removed in TF 1.0); use "
                        "tf.summary.FileWriter."]
