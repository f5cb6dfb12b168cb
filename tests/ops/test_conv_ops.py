"""tf.nn convolutions and pooling: specs for every op type against slow loop references,
conv2d_transpose as conv2d's adjoint, numbers from real TF, static shapes, errors, and a tiny
CNN that trains."""
import math

import numpy as np
import pytest

import tginteractive as tf
from tests.ops.harness import Spec, run, run_spec, spec_id

R = np.random.RandomState(11)


def f64(*shape):
    return R.uniform(-1.0, 1.0, shape)


def distinct(*shape):
    """Values 0.1 apart (max pooling's argmax then survives the numerical gradient's nudges)."""
    return (R.permutation(int(np.prod(shape))) * 0.1 - 1.0).reshape(shape)


# ---- slow references: explicit loops over output positions and kernel taps ------------------
def ref_geometry(size, k, s, d, padding):
    """(output size, padding before) by TF's formulas; SAME puts the odd extra pad after."""
    reach = (k - 1) * d + 1
    if padding == "VALID":
        return (size - reach) // s + 1, 0
    out = math.ceil(size / s)
    return out, max((out - 1) * s + reach - size, 0) // 2


def ref_windows(x_shape, k, s, padding, d=(1, 1)):
    """(OH, OW) and, for each output (i, j), its in-bounds taps (di, dj, row, col)."""
    (oh, top), (ow, left) = [ref_geometry(x_shape[a + 1], k[a], s[a], d[a], padding)
                             for a in (0, 1)]
    windows = []
    for i in range(oh):
        for j in range(ow):
            taps = []
            for di in range(k[0]):
                for dj in range(k[1]):
                    r, c = i * s[0] + di * d[0] - top, j * s[1] + dj * d[1] - left
                    if 0 <= r < x_shape[1] and 0 <= c < x_shape[2]:
                        taps.append((di, dj, r, c))
            windows.append((i, j, taps))
    return (oh, ow), windows


def ref_conv2d(x, f, s, padding, d=(1, 1)):
    (oh, ow), windows = ref_windows(x.shape, f.shape[:2], s, padding, d)
    out = np.zeros((x.shape[0], oh, ow, f.shape[3]))
    for i, j, taps in windows:
        for di, dj, r, c in taps:
            out[:, i, j, :] += x[:, r, c, :] @ f[di, dj]
    return out


def ref_conv_input_grad(x_shape, f, dy, s, padding, d=(1, 1)):
    dx = np.zeros(x_shape)
    for i, j, taps in ref_windows(x_shape, f.shape[:2], s, padding, d)[1]:
        for di, dj, r, c in taps:
            dx[:, r, c, :] += dy[:, i, j, :] @ f[di, dj].T
    return dx


def ref_conv_filter_grad(x, f_shape, dy, s, padding, d=(1, 1)):
    df = np.zeros(f_shape)
    for i, j, taps in ref_windows(x.shape, f_shape[:2], s, padding, d)[1]:
        for di, dj, r, c in taps:
            df[di, dj] += x[:, r, c, :].T @ dy[:, i, j, :]
    return df


def ref_pool(x, k, s, padding, reduce):
    (oh, ow), windows = ref_windows(x.shape, k, s, padding)
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i, j, taps in windows:
        out[:, i, j, :] = reduce(np.stack([x[:, r, c, :] for _, _, r, c in taps]), axis=0)
    return out


def ref_first_max(x, b, ch, taps):
    """The (row, col) of the first maximum in scan order, as TF picks on ties."""
    values = [x[b, r, c, ch] for _, _, r, c in taps]
    return taps[int(np.argmax(values))][2:]


def ref_max_pool_grad(x, g, k, s, padding):
    dx = np.zeros(x.shape)
    for i, j, taps in ref_windows(x.shape, k, s, padding)[1]:
        for b in range(x.shape[0]):
            for ch in range(x.shape[3]):
                r, c = ref_first_max(x, b, ch, taps)
                dx[b, r, c, ch] += g[b, i, j, ch]
    return dx


def ref_max_pool_grad_grad(x, h, k, s, padding):
    (oh, ow), windows = ref_windows(x.shape, k, s, padding)
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i, j, taps in windows:
        for b in range(x.shape[0]):
            for ch in range(x.shape[3]):
                out[b, i, j, ch] = h[(b, *ref_first_max(x, b, ch, taps), ch)]
    return out


def ref_avg_pool_grad(x_shape, g, k, s, padding):
    dx = np.zeros(x_shape)
    for i, j, taps in ref_windows(x_shape, k, s, padding)[1]:
        for _, _, r, c in taps:
            dx[:, r, c, :] += g[:, i, j, :] / len(taps)
    return dx


# ---- specs: one per case; every op type of conv_ops / pool_ops appears -------------------
def conv_spec(x, f, s, padding, d=(1, 1), name=None):
    return Spec("Conv2D", lambda a, b: tf.nn.conv2d(a, b, [1, *s, 1], padding,
                                                    dilations=[1, *d, 1]),
                [x, f], lambda a, b: ref_conv2d(a, b, s, padding, d), name=name)


def grad_of(fn, wrt=0):
    """build(*inputs, dy): the gradient of fn(*inputs) w.r.t. input `wrt`, seeded with dy."""
    def build(*args):
        return tf.gradients(fn(*args[:-1]), args[wrt], grad_ys=args[-1])[0]
    return build


def pool_specs(op, fn, reference, x, k, s, padding, name):
    conf = (k, s, padding)
    out = ref_pool(x, k, s, padding, np.max)
    pool = lambda a: fn(a, [1, *k, 1], [1, *s, 1], padding)  # noqa: E731
    specs = [Spec(op, pool, [x], lambda a: reference(a, *conf), name=f"{op}-{name}"),
             Spec(op + "Grad", grad_of(pool), [x, f64(*out.shape)], name=f"{op}Grad-{name}",
                  reference=lambda a, g: (ref_max_pool_grad(a, g, *conf) if op == "MaxPool"
                                          else ref_avg_pool_grad(a.shape, g, *conf)),
                  grad_inputs=None if op == "MaxPool" else [1])]
    if op == "MaxPool":
        specs.append(Spec("MaxPoolGradGrad", grad_of(grad_of(pool), wrt=1),
                          [x, f64(*out.shape), f64(*x.shape)], grad_inputs=[0, 2],
                          reference=lambda a, g, h: ref_max_pool_grad_grad(a, h, *conf),
                          name=f"MaxPoolGradGrad-{name}"))
    return specs


CONV = lambda s, p, d=(1, 1): lambda a, b: tf.nn.conv2d(a, b, [1, *s, 1], p,  # noqa: E731
                                                        dilations=[1, *d, 1])
X_INPUT_GRAD, F_INPUT_GRAD = f64(2, 5, 7, 3), f64(3, 3, 3, 2)
DY_SAME2 = f64(2, 3, 4, 2)

SPECS = [
    conv_spec(f64(2, 5, 6, 2), f64(3, 3, 2, 3), (1, 1), "SAME", name="Conv2D-SAME-s1"),
    conv_spec(f64(2, 5, 7, 3), f64(3, 3, 3, 2), (2, 2), "SAME", name="Conv2D-SAME-s2-odd"),
    conv_spec(f64(1, 6, 5, 1), f64(4, 4, 1, 2), (2, 1), "SAME", name="Conv2D-SAME-even-kernel"),
    conv_spec(f64(2, 7, 6, 2), f64(3, 2, 2, 4), (2, 2), "VALID", name="Conv2D-VALID-s2"),
    conv_spec(f64(1, 7, 7, 2), f64(2, 3, 2, 2), (1, 1), "VALID", (2, 2), "Conv2D-dilated"),
    conv_spec(f64(1, 6, 6, 1), f64(2, 2, 1, 2), (1, 1), "SAME", (2, 1), "Conv2D-dilated-SAME"),
    Spec("Conv2D", lambda a, b: tf.nn.conv2d(a, b, 2, [[0, 0], [1, 2], [0, 1], [0, 0]]),
         [f64(1, 5, 5, 2), f64(3, 3, 2, 2)], name="Conv2D-explicit-padding",
         reference=lambda a, b: ref_conv2d(np.pad(a, [(0, 0), (1, 2), (0, 1), (0, 0)]), b,
                                           (2, 2), "VALID")),
    Spec("Conv2D", lambda a, b: tf.nn.conv1d(a, b, 2, "SAME"), [f64(2, 7, 3), f64(3, 3, 2)],
         lambda a, b: ref_conv2d(a[:, None], b[None], (1, 2), "SAME")[:, 0], name="conv1d"),
    Spec("Conv2D", lambda a, b: tf.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], "VALID"),
         [f64(2, 4, 5, 3), f64(2, 2, 3, 2)], name="depthwise_conv2d", dynamic=False,
         reference=lambda a, b: np.concatenate(
             [ref_conv2d(a[..., c:c + 1], b[:, :, c:c + 1], (1, 1), "VALID")
              for c in range(3)], axis=-1)),
    Spec("Conv2DBackpropInput",
         lambda v, f: tf.nn.conv2d_transpose(v, f, [2, 5, 7, 3], [1, 2, 2, 1], "SAME"),
         [DY_SAME2, F_INPUT_GRAD], name="conv2d_transpose-SAME-s2",
         reference=lambda v, f: ref_conv_input_grad((2, 5, 7, 3), f, v, (2, 2), "SAME")),
    Spec("Conv2DBackpropInput",
         lambda v, f: tf.nn.conv2d_transpose(v, f, [1, 7, 6, 2], 2, "VALID"),
         [f64(1, 3, 2, 3), f64(3, 3, 2, 3)], name="conv2d_transpose-VALID-s2",
         reference=lambda v, f: ref_conv_input_grad((1, 7, 6, 2), f, v, (2, 2), "VALID")),
    Spec("Conv2DBackpropInput", grad_of(CONV((2, 2), "SAME")),
         [X_INPUT_GRAD, F_INPUT_GRAD, DY_SAME2], grad_inputs=[1, 2], name="Conv2D-grad-input",
         reference=lambda x, f, dy: ref_conv_input_grad(x.shape, f, dy, (2, 2), "SAME")),
    Spec("Conv2DBackpropFilter", grad_of(CONV((2, 2), "SAME"), wrt=1),
         [X_INPUT_GRAD, F_INPUT_GRAD, DY_SAME2], grad_inputs=[0, 2], name="Conv2D-grad-filter",
         reference=lambda x, f, dy: ref_conv_filter_grad(x, f.shape, dy, (2, 2), "SAME")),
    Spec("Conv2DBackpropFilter", grad_of(CONV((1, 1), "VALID", (2, 1)), wrt=1),
         [f64(2, 6, 5, 2), f64(2, 2, 2, 3), f64(2, 4, 4, 3)], grad_inputs=[0, 2],
         name="Conv2D-grad-filter-VALID-dilated",
         reference=lambda x, f, dy: ref_conv_filter_grad(x, f.shape, dy, (1, 1), "VALID",
                                                         (2, 1))),
    Spec("Conv2DBackpropInput",
         lambda f, dy: tf.nn.conv2d_backprop_input([1, 4, 5, 2], f, dy, 1, "SAME"),
         [f64(2, 3, 2, 3), f64(1, 4, 5, 3)], name="conv2d_backprop_input",
         reference=lambda f, dy: ref_conv_input_grad((1, 4, 5, 2), f, dy, (1, 1), "SAME")),
    Spec("Conv2DBackpropFilter",
         lambda x, dy: tf.nn.conv2d_backprop_filter(x, [3, 3, 2, 3], dy, [1, 2, 2, 1], "VALID"),
         [f64(2, 7, 6, 2), f64(2, 3, 2, 3)], name="conv2d_backprop_filter",
         reference=lambda x, dy: ref_conv_filter_grad(x, (3, 3, 2, 3), dy, (2, 2), "VALID")),
    *pool_specs("MaxPool", tf.nn.max_pool, lambda a, *c: ref_pool(a, *c, np.max),
                distinct(2, 5, 7, 3), (3, 3), (2, 2), "SAME", "SAME-k3-s2"),
    *pool_specs("MaxPool", tf.nn.max_pool, lambda a, *c: ref_pool(a, *c, np.max),
                distinct(2, 6, 5, 2), (2, 2), (2, 2), "VALID", "VALID-k2-s2"),
    *pool_specs("MaxPool", tf.nn.max_pool, lambda a, *c: ref_pool(a, *c, np.max),
                distinct(1, 4, 5, 2), (2, 3), (1, 1), "SAME", "SAME-k2x3-s1"),
    Spec("MaxPool", lambda a: tf.nn.max_pool(a, [1, 3, 2, 1], [1, 2, 1, 1],
                                             [[0, 0], [2, 1], [0, 1], [0, 0]]),
         [distinct(1, 5, 4, 2)], name="MaxPool-explicit-padding",
         reference=lambda a: ref_pool(np.pad(a, [(0, 0), (2, 1), (0, 1), (0, 0)],
                                             constant_values=-np.inf), (3, 2), (2, 1), "VALID",
                                      np.max)),
    Spec("MaxPoolGrad", grad_of(lambda a: tf.nn.max_pool(a, 2, 1, "SAME")),
         [R.randint(0, 3, (2, 4, 5, 2)).astype(np.float64), f64(2, 4, 5, 2)],
         lambda a, g: ref_max_pool_grad(a, g, (2, 2), (1, 1), "SAME"), check_grad=False,
         name="MaxPoolGrad-ties-go-to-the-first"),
    *pool_specs("AvgPool", tf.nn.avg_pool, lambda a, *c: ref_pool(a, *c, np.mean),
                f64(2, 5, 7, 3), (3, 3), (2, 2), "SAME", "SAME-k3-s2"),
    *pool_specs("AvgPool", tf.nn.avg_pool, lambda a, *c: ref_pool(a, *c, np.mean),
                f64(2, 6, 5, 2), (2, 3), (1, 2), "VALID", "VALID-k2x3"),
]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_op(spec):
    run_spec(spec)


# ---- conv2d_transpose is the adjoint of conv2d -------------------------------------------
@pytest.mark.parametrize("x_shape, k, s, padding", [
    ((2, 5, 7, 3), (3, 3), 2, "SAME"), ((1, 6, 6, 2), (2, 2), 2, "SAME"),
    ((2, 7, 5, 1), (3, 2), 1, "VALID"), ((1, 9, 8, 2), (3, 3), 3, "VALID")])
def test_conv2d_transpose_is_the_adjoint_of_conv2d(x_shape, k, s, padding):
    x, f = f64(*x_shape), f64(*k, x_shape[3], 4)
    y = f64(*ref_conv2d(x, f, (s, s), padding).shape)
    conv, back = run([tf.nn.conv2d(x, f, s, padding),
                      tf.nn.conv2d_transpose(y, f, x_shape, s, padding)])
    np.testing.assert_allclose(np.vdot(conv, y), np.vdot(x, back), rtol=1e-10)


# ---- numbers computed with TensorFlow 2.21 (tf.compat.v1, CPU) -----------------------------
TF_X = ((np.arange(40) % 7 - 3) * 0.5).reshape(1, 4, 5, 2).astype(np.float32)
TF_F = ((np.arange(36) % 5 - 2) * 0.25).reshape(3, 3, 2, 2).astype(np.float32)
TIES = np.array([[1, 1, 0], [1, 1, 2], [0, 2, 2]], np.float32).reshape(1, 3, 3, 1)


def test_values_match_tensorflow():
    t = tf.constant(TIES)
    got = run([tf.nn.conv2d(TF_X, TF_F, 2, "SAME"),
               tf.nn.conv2d(TF_X, TF_F, 1, "VALID", dilations=[1, 1, 2, 1]),
               tf.nn.conv2d(TF_X, np.ones([4, 4, 2, 1], np.float32), 1, "SAME")[0, :, :, 0],
               tf.nn.max_pool(TF_X, 3, 2, "SAME"), tf.nn.avg_pool(TF_X, 3, 2, "SAME"),
               tf.gradients(tf.nn.max_pool(t, 2, 1, "VALID"), t)[0][0, :, :, 0],
               tf.gradients(tf.nn.max_pool(t, 2, 1, "SAME"), t)[0][0, :, :, 0],
               tf.nn.conv2d_transpose(TF_X[:, :2, :3], TF_F, [1, 4, 5, 2], 2, "SAME")])
    expected = [  # printed by tf.compat.v1 with the same inputs
        [[[[-0.125, 2.0], [2.625, 0.0], [-0.75, -0.875]],
          [[1.0, -1.0], [0.125, -0.75], [-1.125, 1.125]]]],
        [[[[1.25, -1.875]], [[0.375, 3.5]]]],
        [[-2.0, 0.0, -0.5, -1.0, -0.5], [-1.0, -0.5, 0.0, -2.0, -1.5],
         [0.5, 1.0, 0.5, -2.0, 0.0], [0.0, 1.0, -0.5, -0.5, -1.0]],
        [[[[1.5, 1.5], [1.5, 1.5], [1.5, 1.5]], [[1.5, 1.0], [1.5, 1.5], [1.0, 1.5]]]],
        [[[[-0.0833333358, -0.1666666716], [0.0555555560, 0.1666666716],
           [0.0, -0.0833333358]],
          [[0.125, -0.25], [0.1666666716, 0.0833333358], [-0.375, 0.125]]]],
        [[1.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 1.0, 0.0]],
        [[1.0, 0.0, 0.0], [0.0, 0.0, 4.0], [0.0, 3.0, 1.0]],
        [[[[-0.25, 0.375], [-0.625, 1.0], [-0.25, 0.125], [-0.625, 0.5], [-0.25, -0.125]],
          [[0.375, -0.875], [1.0, -0.5], [0.125, -0.125], [0.5, -0.25], [-0.125, 0.625]],
          [[-1.125, 1.0], [-1.125, 0.125], [-0.375, 0.0], [1.75, -1.5], [0.375, -0.125]],
          [[0.0, 0.25], [0.25, -0.125], [-0.25, 1.0], [-1.125, 0.125], [0.375, -0.875]]]]]
    for g, e in zip(got, expected):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7)


def test_second_derivatives_match_tensorflow():
    x, f = tf.constant(TF_X.astype(np.float64)), tf.constant(TF_F.astype(np.float64))
    (gx,) = tf.gradients(tf.reduce_sum(tf.nn.conv2d(x, f, 2, "SAME") ** 2), x)
    (h,) = tf.gradients(tf.reduce_sum(gx ** 2), f)
    (gp,) = tf.gradients(tf.reduce_sum(tf.nn.max_pool(x, 2, 1, "SAME") ** 2), x)
    (hp,) = tf.gradients(tf.reduce_sum(gp ** 2 * np.arange(40.0).reshape(1, 4, 5, 2)), x)
    hess, pool = run([tf.reduce_sum(h * np.arange(36.0).reshape(3, 3, 2, 2)),
                      tf.reduce_sum(hp)])
    assert hess == pytest.approx(3392.21875) and pool == pytest.approx(25496.0)  # TF's values
    assert {h.op.type, hp.op.type} <= {"AddN", "Conv2DBackpropFilter", "MaxPoolGrad"}


# ---- static shapes and names ---------------------------------------------------------------
def test_static_shapes_with_unknown_batch():
    x = tf.placeholder(tf.float32, [None, 28, 28, 1])
    w = tf.ones([5, 5, 1, 8])
    same, valid = tf.nn.conv2d(x, w, 2, "SAME"), tf.nn.conv2d(x, w, [1, 3, 2, 1], "VALID")
    assert same.shape.as_list() == [None, 14, 14, 8] and valid.shape.as_list() == [None, 8, 12, 8]
    assert tf.nn.max_pool(same, 3, 2, "SAME").shape.as_list() == [None, 7, 7, 8]
    assert tf.nn.avg_pool(same, [1, 2, 3, 1], 2, "VALID").shape.as_list() == [None, 7, 6, 8]
    assert tf.nn.conv2d(x, w, 1, "SAME", dilations=2).shape.as_list() == [None, 28, 28, 8]
    back = tf.nn.conv2d_transpose(same, w, tf.shape(x), 2)
    assert back.shape.as_list() == [None, 28, 28, 1]
    gx, gw = tf.gradients(tf.nn.max_pool(tf.nn.relu(same), 2, 2, "SAME"), [x, w])
    assert gx.shape.as_list() == [None, 28, 28, 1] and gw.shape.as_list() == [5, 5, 1, 8]
    unknown = tf.nn.conv2d(tf.placeholder(tf.float32), w, 1, "SAME")
    assert unknown.shape.as_list() == [None, None, None, 8]


def test_names_and_gradient_op_types_mirror_tensorflow():
    x = tf.placeholder(tf.float32, [None, 5, 7, 3])
    f = tf.ones([3, 3, 3, 4])
    y = tf.nn.conv2d(x, f, [1, 2, 2, 1], "SAME")
    t = tf.nn.conv2d_transpose(y, f, [4, 5, 7, 3], [1, 2, 2, 1])
    assert (y.name, t.name, t.op.type) == ("Conv2D:0", "conv2d_transpose:0",
                                           "Conv2DBackpropInput")
    assert t.op.inputs[0].name == "conv2d_transpose/input_sizes:0"
    assert tf.nn.max_pool(x, 2, 2, "SAME").name == "MaxPool:0"
    assert tf.nn.avg_pool(x, 2, 2, "SAME").name == "AvgPool:0"
    assert tf.nn.max_pool2d(x, 2, 2, "SAME").name == "MaxPool_1:0"
    assert tf.nn.avg_pool2d(x, 2, 2, "SAME").op.type == "AvgPool"
    assert tf.nn.conv1d(tf.ones([2, 9, 3]), tf.ones([3, 3, 5]), 2, "SAME").name == \
        "conv1d/Squeeze:0"
    assert [g.op.type for g in tf.gradients(y, [x, f])] == ["Conv2DBackpropInput",
                                                           "Conv2DBackpropFilter"]
    assert y.op.attrs["strides"] == (1, 2, 2, 1) and y.op.attrs["padding"] == "SAME"


# ---- errors ---------------------------------------------------------------------------------
def test_build_time_errors_name_the_op():
    f = tf.ones([3, 3, 3, 4])
    cases = [
        (lambda: tf.nn.conv2d(tf.ones([2, 5, 5]), f, 1, "SAME"), ValueError,
         r"rank 4 but is rank 3.*'Conv2D'"),
        (lambda: tf.nn.conv2d(tf.ones([2, 5, 5, 2]), f, 1, "SAME"), ValueError,
         r"Depth of input \(2\) does not match the input depth of filter \(3\).*'Conv2D"),
        (lambda: tf.nn.conv2d(tf.ones([2, 5, 5, 3]), f, [2, 2, 2, 1], "SAME"), ValueError,
         r"conv2d: strides in the batch and depth dimensions must be 1"),
        (lambda: tf.nn.conv2d(tf.ones([2, 5, 5, 3]), f, [1, 2, 2], "SAME"), ValueError,
         r"strides should be an int or a list of 1, 2 or 4 ints"),
        (lambda: tf.nn.conv2d(tf.ones([2, 5, 5, 3]), f, 1, "FOO"), ValueError,
         r"padding must be 'SAME' or 'VALID'"),
        (lambda: tf.nn.conv2d(tf.ones([2, 2, 2, 3]), f, 1, "VALID"), ValueError,
         r"Negative dimension size caused by subtracting 3 from 2.*'Conv2D"),
        (lambda: tf.nn.max_pool(tf.ones([2, 5, 5, 3]), 6, 1, "VALID"), ValueError,
         r"subtracting 6 from 5.*'MaxPool'"),
        (lambda: tf.nn.max_pool(tf.ones([2, 5, 5, 3]), [2, 2, 2, 1], 1, "SAME"), ValueError,
         r"max_pool: ksize in the batch and depth"),
        (lambda: tf.nn.max_pool(tf.ones([1, 4, 4, 1]), 2, 1, [[0, 0], [0, 0], [0, 2], [0, 0]]),
         ValueError, r"max_pool: Right padding 2 needs to be smaller than the window size 2"),
        (lambda: tf.nn.conv2d(tf.ones([2, 3, 5, 5]), f, 1, "SAME", data_format="NCHW"),
         NotImplementedError, r"conv2d: data_format='NCHW' is not supported.*NHWC"),
        (lambda: tf.nn.conv2d_transpose(tf.ones([2, 5, 5, 3]), f, [2, 10, 10, 3], 2),
         ValueError, r"conv2d_transpose: the input depth \(3\) must match the filter's \(4\)"),
        (lambda: tf.nn.conv2d(tf.ones([1, 3, 3, 3], tf.int32), tf.ones([1, 1, 3, 1], tf.int32),
                              1, "SAME"), TypeError, r"floating-point"),
        (lambda: tf.nn.avg_pool(tf.ones([1, 3, 3, 1], tf.int32), 2, 1, "SAME"), TypeError,
         r"floating-point"),
    ]
    for build, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            build()


def test_conv2d_transpose_checks_the_output_shape():
    with pytest.raises(ValueError, match=r"out_backprop has shape \(2, 5, 5, 4\) but the "
                       r"convolution's output shape is \(2, 2, 2, 4\).*'conv2d_transpose'"):
        tf.nn.conv2d_transpose(tf.ones([2, 5, 5, 4]), tf.ones([3, 3, 3, 4]), [2, 5, 5, 3], 2,
                               "VALID")


def test_run_time_errors_name_the_op():
    x, f = tf.placeholder(tf.float32), tf.placeholder(tf.float32)
    y = tf.nn.conv2d(x, f, 1, "VALID", name="conv")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Depth of input \(2\).*conv"):
            sess.run(y, {x: np.ones([1, 3, 3, 2]), f: np.ones([1, 1, 3, 1])})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"subtracting 3 from 2"):
            sess.run(y, {x: np.ones([1, 2, 2, 3]), f: np.ones([3, 3, 3, 1])})


# ---- a tiny CNN trains ----------------------------------------------------------------------
def test_tiny_cnn_trains_with_gradient_descent():
    tf.set_random_seed(0)
    images = R.uniform(0, 1, (16, 8, 8, 1)).astype(np.float32)
    labels = (images[:, :4].mean((1, 2, 3)) > images[:, 4:].mean((1, 2, 3))).astype(np.int32)
    x, y = tf.placeholder(tf.float32, [None, 8, 8, 1]), tf.placeholder(tf.int32, [None])
    w = tf.Variable(tf.truncated_normal([3, 3, 1, 4], stddev=0.3))
    hidden = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME")), 2, 2, "SAME")
    dense = tf.Variable(tf.truncated_normal([4 * 4 * 4, 2], stddev=0.1))
    logits = tf.matmul(tf.reshape(hidden, [-1, 4 * 4 * 4]), dense)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                         logits=logits))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [sess.run([loss, train], {x: images, y: labels})[0] for _ in range(15)]
    assert losses[-1] < 0.9 * losses[0], losses


def test_empty_batch_runs_forward_and_backward():
    x = tf.placeholder(tf.float32, [None, 5, 5, 2])
    f = tf.ones([3, 3, 2, 4])
    y = tf.nn.conv2d(x, f, 2, "SAME")
    pooled = tf.nn.max_pool(y, 2, 2, "SAME") + tf.nn.avg_pool(y, 3, 2, "SAME")
    values = run([y, pooled, *tf.gradients(pooled, [x, f])], {x: np.zeros([0, 5, 5, 2])})
    assert [v.shape for v in values] == [(0, 3, 3, 4), (0, 2, 2, 4), (0, 5, 5, 2), (3, 3, 2, 4)]
    np.testing.assert_array_equal(values[-1], 0)
