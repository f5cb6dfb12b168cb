"""Image ops: decoding (Pillow), resizing, dtype conversion, standardization and flips.

Decoders are host-only and not differentiable; they take the encoded bytes and, optionally, a
second string input naming the file, used only in error messages (the file-list dataset
passes it). Resizing follows TF1's legacy (`half_pixel_centers=False`) coordinate rule
`src = dst * in / out` (`(in - 1) / (out - 1)` with `align_corners`); every method is a
separable linear map, so one weight-matrix kernel serves all four and their gradient.
Bilinear, nearest and area match TF1 to float rounding (~5e-6 on tested cases); bicubic
uses TF1's Keys kernel (a = -0.75, deltas quantized to 1/1024 as in TF's table) with clamped
edge indices (~2e-6). Non-nearest resizes return float32 (float64 stays float64); every
resize has a gradient (ResizeGrad, the transposed map). `convert_image_dtype`,
`per_image_standardization` and the flips are composites of existing ops, so they get
gradients from those.
"""
import io

import numpy as np

from ..framework import dtypes, errors
from ..framework.context import name_scope
from ..framework.registry import convert_to_tensor, defop
from ..framework.shapes import TensorShape
from .op_utils import partial_ints

_HOST = dict(host_only=True, differentiable=False)


class ResizeMethod:
    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


_METHOD_NAMES = {ResizeMethod.BILINEAR: "bilinear", ResizeMethod.NEAREST_NEIGHBOR: "nearest",
                 ResizeMethod.BICUBIC: "bicubic", ResizeMethod.AREA: "area",
                 "bilinear": "bilinear", "nearest": "nearest", "bicubic": "bicubic",
                 "area": "area"}


# ---- decoding ------------------------------------------------------------------------------
_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_SIGNATURES = {"jpeg": (b"\xff\xd8\xff",), "png": (b"\x89PNG\r\n\x1a\n",),
               "gif": (b"GIF87a", b"GIF89a"), "bmp": (b"BM",)}


def _bytes(value):
    item = np.asarray(value, dtype=object).reshape(-1)[0]
    return item.encode() if isinstance(item, str) else bytes(item)


def _sniff(data):
    return next((fmt for fmt, sigs in _SIGNATURES.items() if data.startswith(sigs)), None)


def _fail(what, filename):
    where = f" in file '{_bytes(filename).decode('utf-8', 'replace')}'" \
        if filename is not None else ""
    return errors.InvalidArgumentError(None, None, f"{what}{where}")


def _frame_array(frame, channels):
    if channels == 0:
        mode = frame.mode if frame.mode in ("L", "LA", "RGB", "RGBA", "I;16") else \
            ("RGBA" if "A" in frame.mode or "transparency" in frame.info else "RGB")
    else:
        mode = _MODES[channels]
    if frame.mode != mode:
        frame = frame.convert(mode)
    arr = np.asarray(frame)
    return arr[..., None] if arr.ndim == 2 else arr


def _scale_to(arr, dtype):
    """TF's convert_image_dtype from the decoded uint8/uint16 array to `dtype`."""
    target = dtype.as_numpy_dtype
    if arr.dtype == target:
        return arr
    if np.issubdtype(target, np.floating):
        return (arr.astype(target) * (1.0 / np.iinfo(arr.dtype).max)).astype(target)
    if arr.dtype == np.uint8:  # uint8 -> uint16: multiply by 257 (TF's scale)
        return arr.astype(np.uint16) * np.uint16(257)
    return (arr // 257).astype(np.uint8)


def _decode(data, formats, channels, dtype, animations, filename):
    fmt = _sniff(data)
    if fmt is None or fmt not in formats:
        want = " or ".join(f.upper() for f in formats)
        raise _fail(f"Cannot decode image: not {want} data (got {fmt or 'unknown format'})",
                    filename)
    if channels not in (0, 1, 2, 3, 4):
        raise _fail(f"channels must be 0, 1, 3 or 4, got {channels}", filename)
    from PIL import Image, ImageSequence
    try:
        image = Image.open(io.BytesIO(data))
        frames = [_frame_array(f, channels) for f in ImageSequence.Iterator(image)]
    except Exception as e:  # Pillow raises many types for truncated/corrupt data
        raise _fail(f"Cannot decode {fmt.upper()} image ({type(e).__name__}: {e})",
                    filename) from None
    frames = [_scale_to(f if f.dtype != ">u2" else f.astype(np.uint16), dtype) for f in frames]
    if fmt == "gif" and animations:
        return np.stack(frames)
    return frames[0]


def _decoder(formats, default_dtype):
    def kernel(xp, contents, filename=None, *, channels, dtype=default_dtype,
               expand_animations=False):
        out = _decode(_bytes(contents), formats, channels, dtype, expand_animations, filename)
        return np.ascontiguousarray(out)
    return kernel


def _decode_shape(op):
    c = op.attrs["channels"] or None
    if op.attrs.get("expand_animations"):
        return TensorShape(None)
    return TensorShape([None, None, c])


DecodeJpeg = defop("DecodeJpeg", shape=_decode_shape, dtype=dtypes.uint8,
                   kernel=_decoder(("jpeg",), dtypes.uint8), **_HOST)
DecodePng = defop("DecodePng", shape=_decode_shape, dtype=lambda op: op.attrs["dtype"],
                  kernel=_decoder(("png",), dtypes.uint8), **_HOST)
DecodeImage = defop("DecodeImage", shape=_decode_shape, dtype=lambda op: op.attrs["dtype"],
                    kernel=_decoder(("jpeg", "png", "gif", "bmp"), dtypes.uint8), **_HOST)


def _contents(contents, filename):
    inputs = [convert_to_tensor(contents, dtype=dtypes.string)]
    if filename is not None:
        inputs.append(convert_to_tensor(filename, dtype=dtypes.string))
    return inputs


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True,
                try_recover_truncated=False, acceptable_fraction=1, dct_method="", name=None,
                filename=None):
    """A JPEG as a uint8 [height, width, channels] tensor (channels 0: as stored)."""
    if ratio != 1:
        raise NotImplementedError("decode_jpeg: only ratio=1 is supported.")
    return DecodeJpeg(*_contents(contents, filename), channels=int(channels),
                      name=name or "DecodeJpeg")


def decode_png(contents, channels=0, dtype=dtypes.uint8, name=None, filename=None):
    """A PNG as a uint8 or uint16 [height, width, channels] tensor."""
    dtype = dtypes.as_dtype(dtype)
    if dtype not in (dtypes.uint8, dtypes.uint16):
        raise TypeError(f"decode_png: dtype must be uint8 or uint16, got {dtype.name}.")
    return DecodePng(*_contents(contents, filename), channels=int(channels), dtype=dtype,
                     name=name or "DecodePng")


def decode_image(contents, channels=None, dtype=dtypes.uint8, name=None,
                 expand_animations=True, filename=None):
    """JPEG, PNG, BMP or GIF bytes as an image tensor (GIFs 4-D with expand_animations);
    float dtypes are scaled to [0, 1] as by convert_image_dtype. Undecodable bytes raise
    InvalidArgumentError at run time (naming `filename` when given)."""
    dtype = dtypes.as_dtype(dtype)
    if dtype not in (dtypes.uint8, dtypes.uint16, dtypes.float32, dtypes.float64,
                     dtypes.float16):
        raise TypeError(f"decode_image: unsupported dtype {dtype.name}.")
    return DecodeImage(*_contents(contents, filename), channels=int(channels or 0),
                       dtype=dtype, expand_animations=bool(expand_animations),
                       name=name or "decode_image")


# ---- resizing ------------------------------------------------------------------------------
def _scale(n_in, n_out, align_corners):
    if align_corners and n_out > 1:
        return (n_in - 1) / (n_out - 1)
    return n_in / n_out


def _cubic(x, a=-0.75):
    x = np.abs(x)
    return np.where(x <= 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))


def _area_weights(n_in, n_out, scale):
    w = np.zeros((n_out, n_in))
    for j in range(n_out):
        lo, hi = j * scale, (j + 1) * scale
        for i in range(int(np.floor(lo)), int(np.ceil(hi))):
            w[j, min(i, n_in - 1)] += (min(i + 1, hi) - max(i, lo)) / scale
    return w


def resize_weights(method, n_in, n_out, align_corners):
    """The [n_out, n_in] matrix mapping one image axis to its resized version (TF1 legacy)."""
    scale = _scale(n_in, n_out, align_corners)
    if method == "area":
        return _area_weights(n_in, n_out, scale)
    src = np.arange(n_out) * scale
    w, rows = np.zeros((n_out, n_in)), np.arange(n_out)
    if method == "nearest":
        idx = np.floor(src + 0.5) if align_corners else np.floor(src)
        w[rows, np.minimum(idx.astype(int), n_in - 1)] = 1.0
    elif method == "bilinear":
        lo = np.floor(src).astype(int)
        frac = src - lo
        np.add.at(w, (rows, np.minimum(lo, n_in - 1)), 1 - frac)
        np.add.at(w, (rows, np.minimum(lo + 1, n_in - 1)), frac)
    else:  # bicubic; TF1 reads the kernel from a 1024-entry table, so deltas are quantized
        lo = np.floor(src).astype(int)
        delta = np.round((src - lo) * 1024) / 1024
        for k in (-1, 0, 1, 2):
            np.add.at(w, (rows, np.clip(lo + k, 0, n_in - 1)), _cubic(delta - k))
    return w


def _out_dtype(method, dtype):
    if method == "nearest" or dtype == np.float64:
        return dtype
    return np.dtype(np.float32)


def _batched(kernel):
    """Run a [batch, h, w, c] kernel on a 3-D image too (rank unknown when the graph was
    built, e.g. after decode_image)."""
    def run(xp, first, *rest, **attrs):
        if first.ndim == 3:
            rest = tuple(r[None] if getattr(r, "ndim", 0) == 3 else r for r in rest)
            return kernel(xp, first[None], *rest, **attrs)[0]
        return kernel(xp, first, *rest, **attrs)
    return run


def _resize_kernel(method):
    @_batched
    def kernel(xp, images, size, align_corners):
        h, w = (int(s) for s in np.reshape(size, [-1]))
        if h <= 0 or w <= 0:
            raise errors.InvalidArgumentError(None, None, f"output size must be positive, "
                                              f"got [{h}, {w}]")
        wy = resize_weights(method, images.shape[1], h, align_corners)
        wx = resize_weights(method, images.shape[2], w, align_corners)
        if method == "nearest":
            rows, cols = xp.asarray(wy.argmax(1)), xp.asarray(wx.argmax(1))
            return xp.ascontiguousarray(images[:, rows][:, :, cols])
        out = xp.einsum("ip,bpqc,jq->bijc", xp.asarray(wy), images.astype(np.float64),
                        xp.asarray(wx))
        return out.astype(_out_dtype(method, images.dtype))
    return kernel


def _resize_shape(op):
    images = op.inputs[0].shape
    h, w = partial_ints(op.inputs[1], 2)
    if images.ndims is None:
        return TensorShape(None)  # 3-D or 4-D, known at run time
    if images.ndims != 4:
        raise ValueError(f"images must be 4-D, got rank {images.ndims}")
    return TensorShape([images.dims[0], h, w, images.dims[3]])


@_batched
def _resize_grad_kernel(xp, grads, images, method, align_corners):
    wy = resize_weights(method, images.shape[1], grads.shape[1], align_corners)
    wx = resize_weights(method, images.shape[2], grads.shape[2], align_corners)
    out = xp.einsum("ip,bijc,jq->bpqc", xp.asarray(wy), grads.astype(np.float64),
                    xp.asarray(wx))
    return out.astype(images.dtype)


ResizeGrad = defop("ResizeGrad", shape=lambda op: op.inputs[1].shape,
                   dtype=lambda op: op.inputs[1].dtype, kernel=_resize_grad_kernel,
                   differentiable=False)


def _resize_grad(method):
    def grad(op, dy):
        if not op.inputs[0].dtype.is_floating:
            return [None, None]
        return [ResizeGrad(dy, op.inputs[0], method=method,
                           align_corners=op.attrs["align_corners"]), None]
    return grad


def _resize_op(type, method):
    dtype = (lambda op: op.inputs[0].dtype) if method == "nearest" else \
        (lambda op: dtypes.float64 if op.inputs[0].dtype is dtypes.float64 else dtypes.float32)
    return defop(type, shape=_resize_shape, dtype=dtype, kernel=_resize_kernel(method),
                 grad=_resize_grad(method))


_RESIZE_OPS = {"bilinear": _resize_op("ResizeBilinear", "bilinear"),
               "nearest": _resize_op("ResizeNearestNeighbor", "nearest"),
               "bicubic": _resize_op("ResizeBicubic", "bicubic"),
               "area": _resize_op("ResizeArea", "area")}


def resize_images(images, size, method=ResizeMethod.BILINEAR, align_corners=False,
                  preserve_aspect_ratio=False, name=None):
    """Resize 3-D [h, w, c] or 4-D [batch, h, w, c] images (unknown rank: whichever arrives
    at run time) to `size` = [new_h, new_w]."""
    from .manip_ops import expand_dims, squeeze
    if preserve_aspect_ratio:
        raise NotImplementedError("resize_images: preserve_aspect_ratio is not supported.")
    if method not in _METHOD_NAMES:
        raise ValueError(f"Resize method {method!r} is not supported; use a ResizeMethod.")
    with name_scope(name, "resize_images", [images, size]):
        images = convert_to_tensor(images, name="images")
        rank = images.shape.ndims
        if rank not in (None, 3, 4):
            raise ValueError(f"'images' must have rank 3 or 4, got shape {images.shape}.")
        size = convert_to_tensor(size, dtype=dtypes.int32, name="size")
        batch = expand_dims(images, 0) if rank == 3 else images
        out = _RESIZE_OPS[_METHOD_NAMES[method]](batch, size, align_corners=bool(align_corners))
        return squeeze(out, [0]) if rank == 3 else out


def resize(images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False,
           antialias=False, name=None):
    """`tf.image.resize` (the TF 1.x alias of resize_images without align_corners)."""
    return resize_images(images, size, method, False, preserve_aspect_ratio, name)


# ---- composites: dtype conversion, standardization, flips ----------------------------------
def convert_image_dtype(image, dtype, saturate=False, name=None):
    """TF's rules: ints scale by their max, floats are in [0, 1); float->int multiplies by
    (max + 0.5) then truncates; int->int shifts by the bit-width ratio."""
    from .array_ops import cast, saturate_cast
    from .math_ops import floordiv, multiply
    image = convert_to_tensor(image, name="image")
    dtype = dtypes.as_dtype(dtype)
    if image.dtype is dtype:
        return image
    with name_scope(name, "convert_image", [image]) as name:
        src, dst = image.dtype, dtype
        if src.is_integer and dst.is_integer:
            if src.max > dst.max:
                scaled = floordiv(image, np.asarray((src.max + 1) // (dst.max + 1),
                                                    dtype=src.as_numpy_dtype))
                return cast(scaled, dst, name=name)
            scale = np.asarray((dst.max + 1) // (src.max + 1), dtype=dst.as_numpy_dtype)
            return multiply(cast(image, dst), scale, name=name)
        if src.is_floating and dst.is_floating:
            return cast(image, dst, name=name)
        if src.is_integer:
            return multiply(cast(image, dst), np.asarray(1.0 / src.max, dst.as_numpy_dtype),
                            name=name)
        scaled = multiply(image, np.asarray(dst.max + 0.5, src.as_numpy_dtype))
        return saturate_cast(scaled, dst, name=name) if saturate else cast(scaled, dst,
                                                                           name=name)


def per_image_standardization(image, name=None):
    """(x - mean) / max(stddev, 1/sqrt(N)) over each image's last three axes (float32)."""
    from .array_ops import cast
    from .math_ops import maximum, rsqrt, sqrt, square
    from .reduction_ops import reduce_mean
    with name_scope(name, "per_image_standardization", [image]) as name:
        image = convert_to_tensor(image, name="image")
        if image.shape.ndims is not None and image.shape.ndims < 3:
            raise ValueError(f"'image' must be at least three-dimensional, got {image.shape}.")
        if not image.dtype.is_floating:
            image = cast(image, dtypes.float32)
        dims = image.shape.dims
        if dims is None or any(d is None for d in dims[-3:]):
            raise ValueError("per_image_standardization needs static height, width, channels.")
        n = int(np.prod(dims[-3:]))
        mean = reduce_mean(image, axis=[-1, -2, -3], keepdims=True)
        variance = reduce_mean(square(image - mean), axis=[-1, -2, -3], keepdims=True)
        floor = rsqrt(convert_to_tensor(np.asarray(n, image.dtype.as_numpy_dtype)))
        return (image - mean) / maximum(sqrt(variance), floor)


def _flip(image, axis_from_end, name, default):
    from .manip_ops import reverse
    with name_scope(name, default, [image]) as name:
        image = convert_to_tensor(image, name="image")
        rank = image.shape.ndims
        if rank not in (3, 4):
            raise ValueError(f"'image' must have rank 3 or 4, got shape {image.shape}.")
        return reverse(image, [rank - axis_from_end], name=name)


def flip_left_right(image, name=None):
    return _flip(image, 2, name, "flip_left_right")


def flip_up_down(image, name=None):
    return _flip(image, 3, name, "flip_up_down")


def random_flip_left_right(image, seed=None, name=None):
    """Mirror each image left-right with probability 1/2 (seeded like the random ops)."""
    return _random_flip(image, seed, name, "random_flip_left_right", 2)


def random_flip_up_down(image, seed=None, name=None):
    return _random_flip(image, seed, name, "random_flip_up_down", 3)


def _random_flip(image, seed, name, default, axis_from_end):
    from .array_ops import shape
    from .math_ops import less, where
    from .random_ops import random_uniform
    with name_scope(name, default, [image]) as name:
        image = convert_to_tensor(image, name="image")
        flipped = _flip(image, axis_from_end, None, "flip")
        draws = [] if image.shape.ndims == 3 else shape(image)[:1]
        mirror = less(random_uniform(draws, 0, 1.0, seed=seed), 0.5)
        return where(mirror, flipped, image, name=name)
