"""The in-process summary stream: decoded summary values handed to Python callbacks.

    with tf.summary.stream.subscribe(lambda records: print(records)):
        writer.add_summary(sess.run(merged), step)     # FileWriter publishes (step, wall_time)

`Record(step, wall_time, tag, kind, value)`; kind is one of "scalar" (float), "histogram"
(dict: min, max, num, sum, sum_squares, bucket_limit, bucket), "image" (uint8 HxWxC array
decoded from the PNG), "audio" (float32 [frames, channels] array decoded from the WAV),
"text" (str) or "tensor" (NumPy array).

Nothing is decoded unless someone subscribes: publishers check `has_subscribers()` first.
`watch_session_summaries()` additionally makes every summary op that any `Session.run`
evaluates publish its records (step=None) — through one hook in ops/summary_ops.py that is
set only while watching is on AND someone subscribes, so otherwise it costs nothing. (A
summary that is also written with FileWriter.add_summary is then published twice: once
when run, with step=None, and once when written, with its step.)
"""
import io
import time
import warnings
import wave
from collections import namedtuple

import numpy as np

from ..framework.pubsub import Channel
from ..ops import summary_ops as _ops

__all__ = ["Record", "decode_summary", "subscribe", "has_subscribers", "publish",
           "watch_session_summaries"]

Record = namedtuple("Record", "step wall_time tag kind value")
_watching = [False]
_decode_warned = []          # [True] once a watched summary failed to decode
_HISTO_FIELDS = ("min", "max", "num", "sum", "sum_squares")


# ---- subscribers -------------------------------------------------------------------------------
def _sync_hook(subscriptions=None):
    _ops._on_summary = _publish_serialized if _watching[0] and channel.subscriptions else None


channel = Channel("Summary stream", on_change=_sync_hook)


def subscribe(callback):
    """Call `callback(records)` with every list of Records published from now on."""
    return channel.subscribe(callback)


def has_subscribers():
    return bool(channel.subscriptions)


def publish(records):
    """Hand `records` to every subscriber; a failing one is warned about once, then ignored."""
    if channel.subscriptions:
        channel.publish(list(records))


def watch_session_summaries(enabled=True):
    """Opt in (or out): summary ops evaluated by any Session.run publish their records, with
    step=None and the current wall time. Returns the previous setting."""
    previous, _watching[0] = _watching[0], bool(enabled)
    _sync_hook()
    return previous


def _publish_serialized(data):
    """The kernels' hook: decode and publish; a decoding failure warns once, never raises."""
    try:
        records = decode_summary(data, step=None, wall_time=time.time())
    except Exception as e:  # noqa: BLE001 - e.g. Pillow missing: the run itself must go on
        if not _decode_warned:
            _decode_warned.append(True)
            warnings.warn(f"A watched summary could not be decoded ({type(e).__name__}: {e}); "
                          "it was not published.", RuntimeWarning, stacklevel=2)
        return
    publish(records)


# ---- decoding ----------------------------------------------------------------------------------
def decode_summary(summary, step=None, wall_time=None):
    """Records of a Summary given as bytes, a 0-d array of bytes or a Summary proto (any
    protobuf `Summary` class): TF1's simple_value, histo, image and audio values, and tensor
    values read by their plugin (scalars, histograms, images, audio, text; others: tensor)."""
    summary = _as_summary(summary)
    records = []
    for value in summary.value:
        for kind, tag, decoded in _decode_value(value):
            records.append(Record(step, wall_time, tag, kind, decoded))
    return records


def _as_summary(summary):
    summary_pb2 = _ops.protos()[0]
    if isinstance(summary, np.ndarray):
        summary = summary[()] if summary.shape == () else summary
    if isinstance(summary, str):
        summary = summary.encode()
    if not isinstance(summary, (bytes, np.bytes_)):
        if isinstance(summary, summary_pb2.Summary):
            return summary
        if not hasattr(summary, "SerializeToString"):
            raise TypeError(f"decode_summary() takes serialized Summary bytes or a Summary "
                            f"proto, not {type(summary).__qualname__}.")
        summary = summary.SerializeToString()
    return summary_pb2.Summary.FromString(bytes(summary))


def _decode_value(value):
    """[(kind, tag, value)] for one Summary.Value (several for a tensor of images/audio)."""
    field = value.WhichOneof("value")
    if field == "simple_value":
        return [("scalar", value.tag, float(value.simple_value))]
    if field == "histo":
        return [("histogram", value.tag, _histogram_dict(value.histo))]
    if field == "image":
        return [("image", value.tag, decode_png(value.image.encoded_image_string))]
    if field == "audio":
        return [("audio", value.tag, decode_wav(value.audio.encoded_audio_string))]
    if field == "tensor":
        return _decode_plugin_tensor(value.tag, value.metadata.plugin_data.plugin_name,
                                     tensor_to_ndarray(value.tensor))
    return []  # obsolete_old_style_histogram or an empty value: nothing to show


def _histogram_dict(histo):
    out = {name: float(getattr(histo, name)) for name in _HISTO_FIELDS}
    out.update(bucket_limit=list(histo.bucket_limit), bucket=list(histo.bucket))
    return out


def _decode_plugin_tensor(tag, plugin, array):
    """TF2-style summaries: the plugin named in the metadata says how to read the tensor."""
    if plugin == "scalars":
        return [("scalar", tag, float(array))]
    if plugin == "text":
        texts = [_text(s) for s in array.reshape(-1)]
        return [("text", tag, "\n".join(texts))]
    if plugin == "histograms" and array.ndim == 2 and array.shape[1] == 3:
        return [("histogram", tag, _histogram_from_buckets(array.astype(np.float64)))]
    if plugin == "images" and array.ndim == 1 and array.dtype == object:
        return [("image", tag, decode_png(png)) for png in array[2:]]  # [width, height, png...]
    if plugin == "audio" and array.dtype == object and array.ndim == 2:
        return [("audio", tag, decode_wav(row[0])) for row in array]  # [[wav, label], ...]
    return [("tensor", tag, array)]


def _histogram_from_buckets(buckets):
    """The histogram dict of a TF2 [k, 3] (left, right, count) tensor; sum and sum_squares
    are estimated from bucket centers (the tensor does not keep them)."""
    if not len(buckets):
        return dict(min=0.0, max=0.0, num=0.0, sum=0.0, sum_squares=0.0,
                    bucket_limit=[], bucket=[])
    left, right, count = buckets.T
    center = (left + right) / 2
    return dict(min=float(left[0]), max=float(right[-1]), num=float(count.sum()),
                sum=float((center * count).sum()), sum_squares=float((center ** 2 * count).sum()),
                bucket_limit=right.tolist(), bucket=count.tolist())


def _text(item):
    return item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)


def decode_png(data):
    """An HxWxC uint8 array (C = 1, 2, 3 or 4) of encoded image bytes (PNG, or what Pillow
    reads)."""
    from PIL import Image
    image = Image.open(io.BytesIO(bytes(data)))
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.mode or "transparency" in image.info
                              else "RGB")
    pixels = np.asarray(image, dtype=np.uint8)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def decode_wav(data):
    """A float32 [frames, channels] array of 16-bit PCM WAV bytes (sample / 32768, as TF)."""
    with wave.open(io.BytesIO(bytes(data)), "rb") as source:
        channels, width = source.getnchannels(), source.getsampwidth()
        frames = source.readframes(source.getnframes())
    if width != 2:
        raise ValueError(f"Only 16-bit PCM WAV audio is decoded, not {8 * width}-bit.")
    pcm = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
    return pcm.astype(np.float32) * np.float32(1.0 / 32768)


# ---- TensorProto → NumPy -----------------------------------------------------------------------
_NUMPY_OF = {"DT_FLOAT": np.float32, "DT_DOUBLE": np.float64, "DT_HALF": np.float16,
             "DT_INT8": np.int8, "DT_INT16": np.int16, "DT_INT32": np.int32,
             "DT_INT64": np.int64, "DT_UINT8": np.uint8, "DT_UINT16": np.uint16,
             "DT_UINT32": np.uint32, "DT_UINT64": np.uint64, "DT_BOOL": np.bool_,
             "DT_COMPLEX64": np.complex64, "DT_COMPLEX128": np.complex128,
             "DT_STRING": object}
_VALUE_FIELDS = {"DT_FLOAT": "float_val", "DT_DOUBLE": "double_val", "DT_HALF": "half_val",
                 "DT_INT64": "int64_val", "DT_UINT32": "uint32_val", "DT_UINT64": "uint64_val",
                 "DT_BOOL": "bool_val", "DT_STRING": "string_val",
                 "DT_COMPLEX64": "scomplex_val", "DT_COMPLEX128": "dcomplex_val"}


def tensor_to_ndarray(proto):
    """The NumPy value of a TensorProto: `tensor_content` bytes or the typed `*_val` field
    (a single value fills the whole shape, as in TF)."""
    name = _ops.protos()[2].DataType.Name(proto.dtype)
    if name not in _NUMPY_OF:
        raise TypeError(f"Cannot decode a tensor of type {name}.")
    dtype, shape = _NUMPY_OF[name], tuple(d.size for d in proto.tensor_shape.dim)
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, np.dtype(dtype).newbyteorder("<")) \
            .astype(dtype).reshape(shape)
    items = list(getattr(proto, _VALUE_FIELDS.get(name, "int_val")))
    if name == "DT_HALF":
        items = np.array(items, np.uint16).view(np.float16)
    elif name.startswith("DT_COMPLEX"):
        items = np.array(items[0::2]) + 1j * np.array(items[1::2])
    array = np.empty(len(items), dtype=dtype)
    array[:] = items
    size = int(np.prod(shape))
    if len(array) != size:
        array = np.resize(array, size) if len(array) else np.zeros(size, dtype)
    return array.reshape(shape)
