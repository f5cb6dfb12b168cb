"""File, CSV, string-split and image ops: Specs for every op type, TF-computed references for
resizing and dtype conversion, and the error messages (missing file, bad image, bad CSV).

Literal reference numbers marked "TF 2.x compat.v1" were computed with TensorFlow's own
tf.image.resize_{nearest_neighbor,bicubic,area} / convert_image_dtype (graph mode) on the
same inputs; our resizes match them to ~5e-6 (float32 rounding).
"""
import io
import pathlib
import tempfile

import numpy as np
import pytest
from PIL import Image

import tginteractive as tf
from tests.ops.harness import Spec, run_spec, spec_id

_TMP = pathlib.Path(tempfile.mkdtemp(prefix="tgi_image_io_"))
_RNG = np.random.RandomState(0)
_RGB = (_RNG.rand(5, 7, 3) * 255).astype(np.uint8)


def _encode(array, fmt, **kwargs):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def _bytes(value):
    out = np.empty((), dtype=object)
    out[()] = value.encode() if isinstance(value, str) else value
    return out


def _strings(values):
    return tf.framework.dtypes.encode_strings(values)


_PNG, _JPEG = _encode(_RGB, "PNG"), _encode(_RGB, "JPEG", quality=90)
_GRAY16 = (_RNG.rand(4, 3) * 65535).astype(np.uint16)
_PNG16 = _encode(_GRAY16, "PNG")
(_TMP / "hello.txt").write_bytes(b"hello\x00world")
(_TMP / "image.png").write_bytes(_PNG)


def _pillow(data, mode=None):
    image = Image.open(io.BytesIO(data))
    arr = np.asarray(image.convert(mode) if mode else image)
    return arr[..., None] if arr.ndim == 2 else arr


# ---- resize references ---------------------------------------------------------------------
_X = (np.arange(24, dtype=np.float32).reshape(2, 3, 4, 1) ** 1.5 / 7)
# TF 2.x compat.v1: first image of resize_*(_X, [5, 3], align_corners=...), flattened.
_TF_RESIZE = {
    ("nearest", True): [0, 0.404061, 0.742308, 1.14286, 2.09956, 2.64575, 1.14286, 2.09956,
                        2.64575, 3.23249, 4.51754, 5.21184, 3.23249, 4.51754, 5.21184],
    ("bicubic", False): [0, 0.222105, 0.650432, 0.473327, 0.921501, 1.50974, 1.6208, 2.33337,
                         3.12515, 2.89178, 3.72421, 4.62919, 3.45809, 4.34622, 5.30311],
    ("area", False): [0.0357143, 0.273459, 0.657746, 0.442623, 0.798432, 1.2749, 1.25644,
                      1.84838, 2.5092, 2.67792, 3.40769, 4.19524, 3.38865, 4.18734, 5.03826],
}
_METHOD = {"bilinear": tf.image.ResizeMethod.BILINEAR, "bicubic": tf.image.ResizeMethod.BICUBIC,
           "nearest": tf.image.ResizeMethod.NEAREST_NEIGHBOR, "area": tf.image.ResizeMethod.AREA}


def _bilinear_loop(images, h, w, align_corners=False):
    """TF1 legacy bilinear, one output pixel at a time (the independent reference)."""
    b, ih, iw, c = images.shape
    sy = (ih - 1) / (h - 1) if align_corners and h > 1 else ih / h
    sx = (iw - 1) / (w - 1) if align_corners and w > 1 else iw / w
    out = np.zeros((b, h, w, c))
    for i in range(h):
        y = i * sy
        y0, fy = int(np.floor(y)), y - np.floor(y)
        y1 = min(y0 + 1, ih - 1)
        for j in range(w):
            x = j * sx
            x0, fx = int(np.floor(x)), x - np.floor(x)
            x1 = min(x0 + 1, iw - 1)
            top = images[:, y0, x0] * (1 - fx) + images[:, y0, x1] * fx
            bottom = images[:, y1, x0] * (1 - fx) + images[:, y1, x1] * fx
            out[:, i, j] = top * (1 - fy) + bottom * fy
    return out


def _resize_grad_reference(dy, images, h, w):
    """The adjoint of bilinear resizing, by resizing each input basis image."""
    grad = np.zeros(images.shape)
    for idx in np.ndindex(*images.shape[1:3]):
        basis = np.zeros((1,) + images.shape[1:3] + (1,))
        basis[(0,) + idx] = 1.0
        resized = _bilinear_loop(basis, h, w)[0, ..., 0]
        grad[:, idx[0], idx[1], :] = np.einsum("bijc,ij->bc", dy, resized)
    return grad.astype(images.dtype)


def _resize_spec(method, align_corners):
    ref = np.asarray(_TF_RESIZE[(method, align_corners)], np.float32).reshape(5, 3, 1)
    return Spec({"nearest": "ResizeNearestNeighbor", "bicubic": "ResizeBicubic",
                 "area": "ResizeArea"}[method],
                lambda x: tf.image.resize_images(x, [5, 3], _METHOD[method], align_corners)[0],
                [_X], lambda x: ref, rtol=1e-5, atol=1e-5,
                name=f"resize_{method}_align{align_corners}")


# ---- CSV / split references ----------------------------------------------------------------
_CSV = _strings(["1,2.5,a", '3,,"b,c"', ",4,"])
_CSV_DEFAULTS = [np.array([7], np.int32), np.array([0.5], np.float32), _strings([b"z"])]


def _csv_reference(records, *defaults):
    return [np.array([1, 3, 7], np.int32), np.array([2.5, 0.5, 4], np.float32),
            _strings([b"a", b"b,c", b"z"])]


def _split_reference(source, delimiter):
    return [np.array([[0, 0], [0, 1], [0, 2], [2, 0]], np.int64),
            _strings([b"a", b"bb", b"c", b"d"]), np.array([3, 3], np.int64)]


SPECS = [
    # scalar string fetches come back as bytes, so the Spec fetches a 1-element vector
    Spec("ReadFile", lambda f: tf.reshape(tf.read_file(f), [1]),
         [_bytes(str(_TMP / "hello.txt"))], lambda f: _strings([b"hello\x00world"])),
    Spec("WriteFile", lambda f, c: tf.write_file(f, c),
         [_bytes(str(_TMP / "written.bin")), _bytes(b"data")], lambda f, c: np.asarray(True)),
    Spec("DecodeCSV", lambda r, a, b, c: tf.decode_csv(r, [a, b, c]), [_CSV] + _CSV_DEFAULTS,
         _csv_reference),
    Spec("DecodeCSV", lambda r, a: tf.decode_csv(r, [a], field_delim=";")[0],
         [_strings(["1", "22"]), np.array([], np.int64)], lambda r, a: np.array([1, 22]),
         name="DecodeCSV_required_int64"),
    Spec("StringSplit", lambda s, d: list(vars(tf.string_split(s, d)).values()),
         [_strings(["a bb  c", "", "d"]), _bytes(" ")], _split_reference),
    Spec("DecodePng", lambda c: tf.image.decode_png(c), [_bytes(_PNG)], lambda c: _RGB),
    Spec("DecodePng", lambda c: tf.image.decode_png(c, channels=1), [_bytes(_PNG)],
         lambda c: _pillow(_PNG, "L"), name="DecodePng_gray"),
    Spec("DecodePng", lambda c: tf.image.decode_png(c, dtype=tf.uint16), [_bytes(_PNG16)],
         lambda c: _GRAY16[..., None], name="DecodePng_uint16"),
    Spec("DecodeJpeg", lambda c: tf.image.decode_jpeg(c), [_bytes(_JPEG)],
         lambda c: _pillow(_JPEG)),
    Spec("DecodeImage", lambda c: tf.image.decode_image(c, channels=4, dtype=tf.float32),
         [_bytes(_PNG)], lambda c: _pillow(_PNG, "RGBA").astype(np.float32) / 255),
    Spec("DecodeImage", lambda c, f: tf.image.decode_image(c, filename=f),
         [_bytes(_JPEG), _bytes("x.jpg")], lambda c, f: _pillow(_JPEG),
         name="DecodeImage_named_jpeg"),
    Spec("ResizeBilinear", lambda x: tf.image.resize_images(x, [5, 6]), [_X],
         lambda x: _bilinear_loop(x, 5, 6)),
    Spec("ResizeBilinear", lambda x: tf.image.resize_images(x, [2, 7], align_corners=True),
         [_X], lambda x: _bilinear_loop(x, 2, 7, True), name="ResizeBilinear_align"),
    _resize_spec("nearest", True), _resize_spec("bicubic", False), _resize_spec("area", False),
    Spec("ResizeGrad", lambda dy, x: tf.framework.registry.OPS["ResizeGrad"](
        dy, x, method="bilinear", align_corners=False), [_RNG.rand(2, 5, 6, 1), _X],
        lambda dy, x: _resize_grad_reference(dy, x, 5, 6)),
]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_spec(spec):
    run_spec(spec)


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


# ---- composites ----------------------------------------------------------------------------
def test_convert_image_dtype_matches_tf():
    u8 = np.array([0, 1, 127, 128, 254, 255], np.uint8)
    f = np.array([0., 0.25, 0.5, 0.999, 1.0, 1.2, -0.1], np.float32)
    got = _run([tf.image.convert_image_dtype(u8, tf.float32),
                tf.image.convert_image_dtype(f, tf.uint8),
                tf.image.convert_image_dtype(f, tf.uint8, saturate=True),
                tf.image.convert_image_dtype(u8, tf.int32),
                tf.image.convert_image_dtype(np.array([0, 65535, 256], np.uint16), tf.uint8)])
    np.testing.assert_allclose(got[0], u8 / 255.0, rtol=1e-6)
    # TF 2.x compat.v1 results (float->uint8 truncates x * 255.5; unsaturated wraps):
    assert got[1].tolist() == [0, 63, 127, 255, 255, 50, 231]
    assert got[2].tolist() == [0, 63, 127, 255, 255, 255, 0]
    assert got[3].tolist() == [0, 8388608, 1065353216, 1073741824, 2130706432, 2139095040]
    assert got[4].tolist() == [0, 255, 1]
    x = tf.constant(f)
    assert tf.image.convert_image_dtype(x, tf.float32) is x


def test_per_image_standardization_and_gradient():
    x = np.random.RandomState(1).rand(2, 3, 4, 2).astype(np.float32)
    flat = x.reshape(2, -1)
    std = np.maximum(flat.std(1), 1 / np.sqrt(flat.shape[1]))
    want = ((flat - flat.mean(1, keepdims=True)) / std[:, None]).reshape(x.shape)
    t = tf.constant(x)
    y = tf.image.per_image_standardization(t)
    got, grad = _run([y, tf.gradients(tf.reduce_sum(y * y), t)[0]])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert grad.shape == x.shape and np.isfinite(grad).all()
    const = _run(tf.image.per_image_standardization(np.full((2, 2, 1), 3, np.uint8)))
    assert const.dtype == np.float32 and np.all(const == 0)  # stddev floored at 1/sqrt(N)


def test_flips_and_resize_3d():
    img = _RGB.astype(np.float32)
    nearest = tf.image.ResizeMethod.NEAREST_NEIGHBOR
    lr, ud, small = _run([tf.image.flip_left_right(img), tf.image.flip_up_down(img[None]),
                          tf.image.resize_images(img, [2, 3], nearest)])
    np.testing.assert_array_equal(lr, img[:, ::-1])
    np.testing.assert_array_equal(ud, img[None, ::-1])
    assert small.shape == (2, 3, 3)
    x = tf.constant(img)
    weights = np.arange(7.0, dtype=np.float32)[:, None]
    g = tf.gradients(tf.reduce_sum(tf.image.flip_left_right(x) * weights), x)[0]
    np.testing.assert_array_equal(_run(g)[0, :, 0], np.arange(7.0)[::-1])
    r = tf.image.resize(tf.constant(_RGB), [3, 4])
    assert r.dtype is tf.float32 and r.shape.as_list() == [3, 4, 3]


def test_random_flip_is_seeded_and_per_image():
    batch = np.stack([_RGB] * 16).astype(np.float32)
    with tf.Graph().as_default():
        tf.set_random_seed(3)
        out = tf.image.random_flip_left_right(batch, seed=5)
        runs = [_run(out) for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])  # new sessions replay the draws
    flipped = [np.array_equal(im, _RGB[:, ::-1]) for im in runs[0]]
    kept = [np.array_equal(im, _RGB) for im in runs[0]]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)
    single = _run(tf.image.random_flip_left_right(_RGB, seed=1))
    assert single.shape == _RGB.shape


# ---- errors --------------------------------------------------------------------------------
def test_missing_file_is_not_found_naming_it():
    missing = str(_TMP / "nope.txt")
    with pytest.raises(tf.errors.NotFoundError, match="nope.txt"):
        _run(tf.io.read_file(missing))


def test_undecodable_image_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="unknown format"):
        _run(tf.image.decode_image(b"garbage"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="in file 'cat.png'"):
        _run(tf.image.decode_image(_PNG[:40], filename="cat.png"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not JPEG"):
        _run(tf.image.decode_jpeg(_PNG))


@pytest.mark.parametrize("records, match", [
    (["1,2,3"], "Expect 2 fields but have 3 in record '1,2,3'"),
    ([",5"], "Field 0 is required but missing in record ',5'"),
    (["x,5"], "Field 0 in record 'x,5' is not a valid int32"),
    (['"a,5'], "badly quoted"),
])
def test_bad_csv_names_the_record(records, match):
    out = tf.decode_csv(records, [tf.constant([], tf.int32), [0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        _run(out)


def test_csv_options_and_namespaces():
    a, b = tf.io.decode_csv(["1|NA", "2|x"], [[0.0], ["d"]], field_delim="|", na_value="NA",
                            use_quote_delim=False)
    got = _run([a, b])
    assert got[0].tolist() == [1.0, 2.0] and got[1].tolist() == [b"d", b"x"]
    with pytest.raises(ValueError, match="empty list"):
        tf.decode_csv(["1"], [[]])
    assert tf.io.read_file is tf.read_file
    assert tf.image.decode_png is tf.io.decode_png


def test_string_split_delimiter_characters_and_keep_empty():
    sp = tf.string_split(["a,b;c", "d,,e"], ",;", skip_empty=False)
    idx, vals, shape = _run([sp.indices, sp.values, sp.dense_shape])
    assert vals.tolist() == [b"a", b"b", b"c", b"d", b"", b"e"]
    assert shape.tolist() == [2, 3] and idx[-1].tolist() == [1, 2]


def test_write_then_read_round_trip(tmp_path):
    path = str(tmp_path / "out.bin")
    _run(tf.write_file(path, b"\x01\x02"))
    assert _run(tf.read_file(path)) == b"\x01\x02"


def test_decode_image_gif_frames_and_bmp():
    frames = [Image.fromarray(_RGB), Image.fromarray(_RGB[::-1].copy())]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    gif = buf.getvalue()
    animated, first = _run([tf.image.decode_image(gif),
                            tf.image.decode_image(gif, expand_animations=False)])
    assert animated.shape == (2, 5, 7, 3) and first.shape == (5, 7, 3)
    bmp = _run(tf.image.decode_image(_encode(_RGB, "BMP"), channels=3))
    np.testing.assert_array_equal(bmp, _RGB)


def test_resize_after_decode_image_handles_the_rank_known_only_at_run_time(tmp_path):
    from PIL import Image
    path = tmp_path / "pic.png"
    Image.fromarray(np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)).save(path)
    decoded = tf.image.decode_image(tf.read_file(str(path)), channels=3)
    assert decoded.shape.ndims is None
    resized = tf.image.resize_images(decoded, [4, 6], method=tf.image.ResizeMethod.BILINEAR)
    with tf.Session() as sess:
        out = sess.run(resized)
    assert out.shape == (4, 6, 3) and out.dtype == np.float32
    direct = tf.image.resize_images(tf.image.decode_png(tf.read_file(str(path)), channels=3),
                                    [4, 6])
    with tf.Session() as sess:
        np.testing.assert_allclose(out, sess.run(direct), rtol=1e-6)


def test_resize_gradient_for_an_unknown_rank_3d_input():
    image = tf.placeholder(tf.float64)  # rank unknown when the graph is built
    resized = tf.image.resize_images(image, [4, 4], method=tf.image.ResizeMethod.AREA)
    (grad,) = tf.gradients(tf.reduce_sum(resized), image)
    value = np.random.RandomState(0).rand(2, 2, 1)
    with tf.Session() as sess:
        got = sess.run(grad, {image: value})
    # area-upsampling 2x2 -> 4x4 copies each pixel into 4 outputs: d(sum)/d(pixel) = 4
    np.testing.assert_allclose(got, np.full((2, 2, 1), 4.0))
