"""Summary ops (TF1's logging_ops): ScalarSummary, HistogramSummary, ImageSummary,
AudioSummaryV2, TensorSummaryV2, MergeSummary.

Each kernel returns a 0-d object array holding a serialized `Summary` protocol buffer, as TF1
does; the bytes match TF1's field for field (histogram buckets, float→uint8 image rule, 16-bit
WAV). The proto classes come from the `tensorboard` package and Pillow (a tensorboard
dependency) encodes PNGs; both are imported on first build or run, never by
`import tginteractive`. As in TF1's generated wrappers, Python values given as inputs become
Consts named after their argument (`loss/tags`) inside the op's own scope.

`_on_summary` is the one hook the in-process stream (summary/stream.py) sets while someone
watches Session runs; each leaf summary kernel hands it its bytes (MergeSummary does not, so
nothing is published twice). When it is None, the check costs one global lookup.
"""
import io
import wave

import numpy as np

from ..framework import dtypes, errors
from ..framework.context import name_scope
from ..framework.registry import convert_to_tensor, defop

_on_summary = None  # fn(serialized Summary bytes), set by summary/stream.py; None: nobody
_PROTOS = []
_DT_NAMES = {"float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE"}
_REAL = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.uint8, dtypes.int16, dtypes.int8,
         dtypes.int64, dtypes.uint16, dtypes.float16)
_IMAGE = (dtypes.uint8, dtypes.float32, dtypes.float16, dtypes.float64)
_DBL_MAX = np.finfo(np.float64).max


def protos():
    """(summary_pb2, tensor_pb2, types_pb2, DecodeError), imported once, on first use."""
    if not _PROTOS:
        try:
            from google.protobuf.message import DecodeError
            from tensorboard.compat.proto import summary_pb2, tensor_pb2, types_pb2
        except ImportError as e:
            raise ImportError("Summary ops write TensorBoard's protos, which come with the "
                              "`tensorboard` package: pip install tensorboard") from e
        _PROTOS[:] = [summary_pb2, tensor_pb2, types_pb2, DecodeError]
    return _PROTOS


# ---- helpers shared by the kernels ------------------------------------------------------------
def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def _dims(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _scalar_text(value, what="tag"):
    value = np.asarray(value)
    if value.shape != ():
        raise _invalid(f"{what} must be scalar, got shape {_dims(value.shape)}")
    return _text(value[()])


def _emit(summary, publish=True):
    """The op's output, a 0-d object array of the serialized Summary; leaf ops also hand the
    bytes to the stream hook when someone watches Session runs."""
    data = summary.SerializeToString()
    hook = _on_summary
    if publish and hook is not None:
        hook(data)
    out = np.empty((), dtype=object)
    out[()] = data
    return out


def _scalar_shape(op):
    return ()  # one scalar output ([] would mean no outputs)


def _summary_op(type, kernel):
    return defop(type, shape=_scalar_shape, kernel=kernel, dtype=dtypes.string,
                 differentiable=False)


# ---- ScalarSummary -----------------------------------------------------------------------------
def _scalar_summary(xp, tags, values):
    tags, values = np.asarray(tags), np.asarray(values)
    if tags.shape != values.shape:
        single = f" (tag '{_text(tags.reshape(-1)[0])}')" if tags.size == 1 else ""
        raise _invalid(f"tags and values are not the same shape: {_dims(tags.shape)} != "
                       f"{_dims(values.shape)}{single}")
    summary = protos()[0].Summary()
    for tag, value in zip(tags.reshape(-1), values.reshape(-1)):
        summary.value.add(tag=_text(tag), simple_value=float(value))
    return _emit(summary)


ScalarSummary = _summary_op("ScalarSummary", _scalar_summary)


# ---- HistogramSummary: TF's Histogram (histogram.cc), bucket for bucket ------------------------
def _default_bucket_limits():
    """TF1's limits: ±(1e-12 · 1.1^k) up to 1e20, ±DBL_MAX, and 0 in the middle."""
    positive, v = [], 1.0e-12
    while v < 1.0e20:
        positive.append(v)
        v *= 1.1
    positive.append(_DBL_MAX)
    return np.array([-p for p in reversed(positive)] + [0.0] + positive)


_BUCKET_LIMITS = _default_bucket_limits()


def histogram_fields(values):
    """(min, max, num, sum, sum_squares, bucket_limit, bucket) of TF1's HistogramProto for the
    float64 `values`: empty-bucket runs collapse to their last limit; sums are sequential."""
    values = np.asarray(values, np.float64).reshape(-1)
    index = np.minimum(np.searchsorted(_BUCKET_LIMITS, values, side="right"),
                       len(_BUCKET_LIMITS) - 1)  # std::upper_bound
    counts = np.bincount(index, minlength=len(_BUCKET_LIMITS)).astype(np.float64)
    full = counts > 0
    keep = full | np.append(full[1:], True)  # full buckets, and the last of each empty run
    lo, hi = (values.min(), values.max()) if values.size else (_DBL_MAX, -_DBL_MAX)
    total = np.cumsum(values)[-1] if values.size else 0.0
    squares = np.cumsum(values * values)[-1] if values.size else 0.0
    return (float(lo), float(hi), float(values.size), float(total), float(squares),
            _BUCKET_LIMITS[keep].tolist(), counts[keep].tolist())


def _histogram_summary(xp, tag, values):
    tag, values = _scalar_text(tag, "tags"), np.asarray(values).astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        first = values.reshape(-1)[np.argmax(bad.reshape(-1))]
        raise _invalid(f"Nan in summary histogram for: {tag}" if np.isnan(first)
                       else f"Infinity in Histogram for: {tag}")
    fields = histogram_fields(values)
    summary = protos()[0].Summary()
    summary.value.add(tag=tag).histo.CopyFrom(protos()[0].HistogramProto(**dict(zip(
        ("min", "max", "num", "sum", "sum_squares", "bucket_limit", "bucket"), fields))))
    return _emit(summary)


HistogramSummary = _summary_op("HistogramSummary", _histogram_summary)


# ---- ImageSummary ------------------------------------------------------------------------------
def normalize_image(image, bad_color=(255, 0, 0, 255)):
    """TF1's float → uint8 rule for one HxWxC image: all values ≥ 0 scale so the largest is
    255; with negatives, 0 goes to 128 and the largest |value| to 1 or 255. Min and max are
    taken in float32 over finite pixels; a pixel with a non-finite channel gets `bad_color`;
    the affine map runs in the image's dtype and truncates, like C++'s cast."""
    kind = image.dtype.type
    finite = np.isfinite(image).all(axis=-1)
    good = image[finite].astype(np.float32)
    lo = good.min() if good.size else np.float32(np.inf)
    hi = good.max() if good.size else np.float32(-np.inf)
    if lo < 0:
        top = max(abs(lo), abs(hi))
        scale, offset = (np.float32(0) if top < 1e-6 else np.float32(127) / top), 128.0
    else:
        scale, offset = (np.float32(0) if hi < 1e-6 else np.float32(255) / hi), 0.0
    clean = np.where(finite[..., None], image, kind(0))
    out = (clean * kind(scale) + kind(offset)).astype(np.uint8)
    out[~finite] = np.asarray(bad_color, np.uint8)[:image.shape[-1]]
    return out


def encode_png(pixels):
    """PNG bytes of an HxWxC uint8 image (C = 1, 3 or 4), zlib level 6 like TF's encoder."""
    from PIL import Image
    pixels = np.ascontiguousarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _image_summary(xp, tag, tensor, max_images, bad_color):
    tag, images = _scalar_text(tag, "tags"), np.asarray(tensor)
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise _invalid(f"Tensor must be 4-D with last dim 1, 3, or 4, not {_dims(images.shape)}")
    summary = protos()[0].Summary()
    for i in range(min(max_images, images.shape[0])):
        pixels = images[i] if images.dtype == np.uint8 else normalize_image(images[i], bad_color)
        value = summary.value.add(tag=f"{tag}/image/{i}" if max_images > 1 else f"{tag}/image")
        value.image.height, value.image.width, value.image.colorspace = pixels.shape
        value.image.encoded_image_string = encode_png(pixels)
    return _emit(summary)


ImageSummary = _summary_op("ImageSummary", _image_summary)


# ---- AudioSummaryV2 ----------------------------------------------------------------------------
def encode_wav(samples, sample_rate):
    """16-bit PCM WAV of a [frames, channels] float array, as TF's wav_io: each sample is
    roundf(x · 32768) clamped to int16; the header's rate is the truncated `sample_rate`."""
    scaled = np.nan_to_num(np.asarray(samples, np.float32) * np.float32(32768))
    whole = np.trunc(scaled)
    rounded = whole + np.sign(scaled) * (np.abs(scaled - whole) >= 0.5)  # half away from 0
    pcm = np.clip(rounded, -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(samples.shape[-1])
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def _audio_summary(xp, tag, tensor, sample_rate, max_outputs):
    tag, audio, rate = _scalar_text(tag, "tags"), np.asarray(tensor), np.asarray(sample_rate)
    if rate.shape != ():
        raise _invalid(f"sample_rate must be rank 0 (got rank {rate.ndim})")
    if not float(rate) > 0:
        raise _invalid(f"sample_rate must be > 0, got {float(rate)}")
    if audio.ndim not in (2, 3):
        raise _invalid(f"Tensor must be 3-D or 2-D, got: {_dims(audio.shape)}")
    audio = audio[:, :, None] if audio.ndim == 2 else audio
    summary = protos()[0].Summary()
    for i in range(min(max_outputs, audio.shape[0])):
        value = summary.value.add(tag=f"{tag}/audio/{i}" if max_outputs > 1 else f"{tag}/audio")
        value.audio.sample_rate = float(rate)
        value.audio.length_frames, value.audio.num_channels = audio.shape[1:]
        value.audio.encoded_audio_string = encode_wav(audio[i], float(rate))
        value.audio.content_type = "audio/wav"
    return _emit(summary)


AudioSummaryV2 = _summary_op("AudioSummaryV2", _audio_summary)


# ---- TensorSummaryV2 ---------------------------------------------------------------------------
def tensor_proto(array):
    """TF's Tensor::AsProtoTensorContent: raw little-endian bytes, or `string_val` items."""
    _, tensor_pb2, types_pb2, _ = protos()
    array = np.asarray(array)
    dtype = dtypes.as_dtype(array.dtype)
    proto = tensor_pb2.TensorProto(
        dtype=types_pb2.DataType.Value(_DT_NAMES.get(dtype.name, "DT_" + dtype.name.upper())))
    proto.tensor_shape.SetInParent()
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    if dtype is dtypes.string:
        proto.string_val.extend(s.encode() if isinstance(s, str) else bytes(s)
                                for s in array.reshape(-1))
    else:
        proto.tensor_content = array.astype(array.dtype.newbyteorder("<")).tobytes()
    return proto


def _tensor_summary(xp, tag, tensor, serialized_summary_metadata):
    summary = protos()[0].Summary()
    value = summary.value.add(tag=_scalar_text(tag))
    value.tensor.CopyFrom(tensor_proto(tensor))
    value.metadata.SetInParent()
    value.metadata.MergeFromString(bytes(np.asarray(serialized_summary_metadata)[()]))
    return _emit(summary)


TensorSummaryV2 = _summary_op("TensorSummaryV2", _tensor_summary)


# ---- MergeSummary ------------------------------------------------------------------------------
def _merge_summary(xp, *inputs):
    summary_pb2, decode_error = protos()[0], protos()[3]
    merged, seen = summary_pb2.Summary(), set()
    for array in inputs:
        for data in np.asarray(array).reshape(-1):
            part = summary_pb2.Summary()
            try:
                part.ParseFromString(data.encode() if isinstance(data, str) else bytes(data))
            except (decode_error, TypeError):
                raise _invalid("Could not parse one of the summary inputs") from None
            for value in part.value:
                if value.tag and value.tag in seen:  # TF skips the check for empty tags
                    raise _invalid(f"Duplicate tag {value.tag} found in summary inputs")
                seen.add(value.tag)
                merged.value.add().CopyFrom(value)
    return _emit(merged, publish=False)


MergeSummary = _summary_op("MergeSummary", _merge_summary)


# ---- building, like TF1's gen_logging_ops ------------------------------------------------------
def _input(value, arg, op_type, allowed=None, dtype=None):
    """`value` as a Tensor; Python values become a Const named `arg` in the current scope."""
    tensor = convert_to_tensor(value, dtype=dtype, name=arg)
    if allowed is not None and tensor.dtype not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise TypeError(f"Value passed to parameter '{arg}' has DataType {tensor.dtype.name} "
                        f"not in list of allowed values: {names} (op '{op_type}').")
    return tensor


def _at_least_one(value, attr, op_type):
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Attr '{attr}' of '{op_type}' Op passed {value} less than minimum 1.")
    return int(value)


def scalar_summary(tags, values, name=None):
    with name_scope(name or "ScalarSummary", values=[tags, values]) as scope:
        tags = _input(tags, "tags", "ScalarSummary", (dtypes.string,), dtypes.string)
        values = _input(values, "values", "ScalarSummary", _REAL)
        return ScalarSummary(tags, values, name=scope)


def histogram_summary(tag, values, name=None):
    with name_scope(name or "HistogramSummary", values=[tag, values]) as scope:
        tag = _input(tag, "tag", "HistogramSummary", (dtypes.string,), dtypes.string)
        values = _input(values, "values", "HistogramSummary", _REAL)
        return HistogramSummary(tag, values, name=scope)


def image_summary(tag, tensor, max_images=3, bad_color=(255, 0, 0, 255), name=None):
    max_images = _at_least_one(max_images, "max_images", "ImageSummary")
    with name_scope(name or "ImageSummary", values=[tag, tensor]) as scope:
        tag = _input(tag, "tag", "ImageSummary", (dtypes.string,), dtypes.string)
        tensor = _input(tensor, "tensor", "ImageSummary", _IMAGE)
        return ImageSummary(tag, tensor, max_images=max_images,
                            bad_color=tuple(int(c) for c in bad_color), name=scope)


def audio_summary_v2(tag, tensor, sample_rate, max_outputs=3, name=None):
    max_outputs = _at_least_one(max_outputs, "max_outputs", "AudioSummaryV2")
    with name_scope(name or "AudioSummaryV2", values=[tag, tensor, sample_rate]) as scope:
        tag = _input(tag, "tag", "AudioSummaryV2", (dtypes.string,), dtypes.string)
        tensor = _input(tensor, "tensor", "AudioSummaryV2", (dtypes.float32,))
        rate = _input(sample_rate, "sample_rate", "AudioSummaryV2", (dtypes.float32,),
                      dtypes.float32)
        return AudioSummaryV2(tag, tensor, rate, max_outputs=max_outputs, name=scope)


def tensor_summary_v2(tag, tensor, serialized_summary_metadata, name=None):
    with name_scope(name or "TensorSummaryV2", values=[tag, tensor]) as scope:
        tag = _input(tag, "tag", "TensorSummaryV2", (dtypes.string,), dtypes.string)
        tensor = _input(tensor, "tensor", "TensorSummaryV2")
        metadata = _input(serialized_summary_metadata, "serialized_summary_metadata",
                          "TensorSummaryV2", (dtypes.string,), dtypes.string)
        return TensorSummaryV2(tag, tensor, metadata, name=scope)


def merge_summary(inputs, name=None):
    inputs = [_input(t, "inputs", "MergeSummary", (dtypes.string,)) for t in inputs]
    if not inputs:
        raise ValueError("List argument 'inputs' to 'MergeSummary' Op with length 0 shorter "
                         "than minimum length 1.")
    return MergeSummary(*inputs, name=name)
