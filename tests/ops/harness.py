"""Registry-driven op checks: each Spec is run forward against a NumPy reference and, for
differentiable ops, through a numerical (central-difference) gradient check.

A Spec names the op type it exercises; `tests/ops/test_registry.py` fails if any registered
op type has no Spec. Inputs are fed through placeholders twice: with full static shapes and
with unknown shapes, so both the static and the dynamic shape paths of every gradient run.
"""
import numpy as np

import tginteractive as tf


class Spec:
    """One op case. `build(*inputs)` returns tensor(s) built from placeholders; `reference`
    computes the same with NumPy from the raw arrays. `grad_inputs` picks which inputs are
    differentiated (default: every float input when the op is differentiable)."""

    def __init__(self, op_type, build, inputs, reference, grad_inputs=None, rtol=1e-5,
                 atol=1e-6, grad_rtol=1e-4, grad_atol=1e-5, dynamic=True, name=None,
                 check_grad=True):
        self.op_type, self.build, self.reference = op_type, build, reference
        self.inputs = [np.asarray(x) for x in inputs]
        self.grad_inputs, self.rtol, self.atol = grad_inputs, rtol, atol
        self.grad_rtol, self.grad_atol = grad_rtol, grad_atol
        self.dynamic, self.check_grad = dynamic, check_grad
        self.name = name or op_type

    def __repr__(self):
        return self.name


def spec_id(spec):
    return spec.name


def _placeholders(arrays, static):
    return [tf.placeholder(tf.as_dtype(a.dtype), a.shape if static else None) for a in arrays]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def check_forward(spec, static=True):
    graph = tf.Graph()
    with graph.as_default():
        phs = _placeholders(spec.inputs, static)
        outs = _as_list(spec.build(*phs))
        types = {op.type for op in graph.get_operations()}
        assert spec.op_type in types, f"{spec.name} built {sorted(types)}, not {spec.op_type}"
        with tf.Session(graph=graph) as sess:
            got = sess.run(outs, dict(zip(phs, spec.inputs)))
    expected = _as_list(spec.reference(*spec.inputs))
    assert len(got) == len(expected), f"{spec.name}: {len(got)} outputs, expected {len(expected)}"
    for out, g, e in zip(outs, got, expected):
        e = np.asarray(e)
        assert np.asarray(g).dtype == out.dtype.as_numpy_dtype, \
            f"{spec.name}: '{out.name}' declared {out.dtype.name}, kernel gave {np.asarray(g).dtype}"
        assert out.shape.is_compatible_with(np.shape(g)), \
            f"{spec.name}: static shape {out.shape} vs runtime shape {np.shape(g)}"
        assert np.shape(g) == e.shape, f"{spec.name}: shape {np.shape(g)} != {e.shape}"
        if e.dtype.kind in "fc":
            np.testing.assert_allclose(g, e, rtol=spec.rtol, atol=spec.atol,
                                       err_msg=f"{spec.name} ({'static' if static else 'dynamic'})")
        else:
            np.testing.assert_array_equal(g, e, err_msg=spec.name)


def differentiable_inputs(spec):
    if spec.grad_inputs is not None:
        return list(spec.grad_inputs)
    return [i for i, a in enumerate(spec.inputs) if a.dtype.kind == "f"]


def check_gradient(spec, static=True, eps=1e-6):
    """Analytic tf.gradients of sum(w * outputs) against central differences (float64)."""
    inputs = [a.astype(np.float64) if i in differentiable_inputs(spec) else a
              for i, a in enumerate(spec.inputs)]
    rng = np.random.RandomState(0)
    graph = tf.Graph()
    with graph.as_default():
        phs = _placeholders(inputs, static)
        outs = [o for o in _as_list(spec.build(*phs)) if o.dtype.is_floating]
        if not outs:
            return
        feed = dict(zip(phs, inputs))
        with tf.Session(graph=graph) as sess:
            values = sess.run(outs, feed)
            weights = [rng.uniform(0.5, 1.5, np.shape(v)) for v in values]
            loss = tf.add_n([tf.reduce_sum(o * w.astype(o.dtype.as_numpy_dtype))
                             for o, w in zip(outs, weights)])
            wrt = [phs[i] for i in differentiable_inputs(spec)]
            grads = tf.gradients(loss, wrt)
            assert all(g is not None for g in grads), f"{spec.name}: a gradient is None"
            analytic = sess.run(grads, feed)
            for index, got in zip(differentiable_inputs(spec), analytic):
                numeric = numeric_gradient(sess, loss, phs[index], inputs[index],
                                           dict(zip(phs, inputs)), eps=eps)
                np.testing.assert_allclose(got, numeric, rtol=spec.grad_rtol,
                                           atol=spec.grad_atol,
                                           err_msg=f"{spec.name}: d/d input {index}")


def numeric_gradient(sess, y, x, value, feed=None, weights=None, eps=1e-6):
    """d sum(weights * y) / dx at x = value (weights default to 1), by central differences
    in float64; `feed` holds the other placeholders' values."""
    value = np.asarray(value, dtype=np.float64)
    feed = dict(feed or {})
    grad = np.zeros_like(value)
    for pos in np.ndindex(*value.shape):
        totals = []
        for delta in (eps, -eps):
            moved = value.copy()
            moved[pos] += delta
            feed[x] = moved
            out = np.asarray(sess.run(y, feed), dtype=np.float64)
            totals.append(np.sum(out if weights is None else out * weights))
        grad[pos] = (totals[0] - totals[1]) / (2 * eps)
    return grad


def check_second_derivative(build, value, weights):
    """The gradient of sum(weights * d sum(build(x)**3) / dx) against central differences of
    that first gradient: exercises the gradient ops' own gradients."""
    x = tf.placeholder(tf.float64, value.shape)
    g = tf.gradients(tf.reduce_sum(build(x) ** 3), x)[0]
    h = tf.gradients(tf.reduce_sum(g * weights), x)[0]
    with tf.Session() as sess:
        got = sess.run(h, {x: value})
        numeric = numeric_gradient(sess, g, x, value, weights=weights)
    np.testing.assert_allclose(got, numeric, rtol=1e-4, atol=1e-5)


def run_spec(spec):
    """Every check a spec implies: forward (static and dynamic shapes) and gradients."""
    check_forward(spec, static=True)
    if spec.dynamic:
        check_forward(spec, static=False)
    differentiable = tf.framework.registry.OPS[spec.op_type].differentiable
    if differentiable and spec.check_grad and differentiable_inputs(spec):
        check_gradient(spec, static=True)
        if spec.dynamic:
            check_gradient(spec, static=False)


def run(fetches, feed=None):
    """Evaluate `fetches` once in a new Session on the default graph."""
    with tf.Session() as sess:
        return sess.run(fetches, feed)
