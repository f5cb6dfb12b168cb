"""Every op's CuPy kernel against its NumPy kernel, op by op, on the inputs a CPU run gives.

Registry-driven: each Spec of every `SPECS` list under tests/ is built (forward, plus its
gradients when it has float outputs), run once in a CPU Session that fetches every op's
inputs, and then each op's `kernel_for("cupy")` runs on CuPy copies of those inputs and is
compared with its NumPy kernel (dtype, shape, values; tolerance per dtype). In-place variants
(`OpDef.inplace`, used for buffer donation) are compared too. Op types that cannot be checked
this way (session state, sub-graphs, strings) are listed, with the reason, in the terminal
summary. Then the backend itself: host<->device and GPU<->GPU transfers, fetch results.

The module imports without CuPy (tests/ops/test_registry.py imports every test module);
`tests/test_cupy_backend_cpu.py` reuses its helpers to run the overrides on the CPU.
"""
import importlib
import pathlib
import types

import numpy as np
import pytest

import tginteractive as tf
from tginteractive.backends import NUMPY
from tginteractive.framework import registry

TESTS = pathlib.Path(__file__).resolve().parents[1]
GPU_TESTS = pathlib.Path(__file__).resolve().parent
# float tolerances per dtype char (rtol, atol): one op, identical inputs, different libm/BLAS
TOLERANCE = {"e": (5e-3, 1e-3), "f": (1e-4, 1e-5), "d": (1e-9, 1e-11),
             "F": (1e-4, 1e-5), "D": (1e-9, 1e-11)}
# op types whose CuPy kernel may return a host value: Const, whose value the executor folds
# and uploads with from_host instead of running the kernel
HOST_RESULT_OK = {"Const"}
RANDOM_OPS = {"RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal",
              "RandomShuffle", "Multinomial"}
CHECKED, SKIPPED = set(), {}  # op types checked on the GPU / not checked: type -> reason


# ---- specs and the per-op inputs a CPU run gives (also used by the CPU override test) --------
def spec_list():
    """Every Spec under tests/ (as tests/ops/test_registry.py collects them), except from
    tests/gpu/ (GPU modules define none and may skip at import without CuPy)."""
    specs = []
    for path in sorted(TESTS.rglob("test_*.py")):
        if GPU_TESTS in path.parents:
            continue
        parts = path.relative_to(TESTS.parent).with_suffix("").parts
        try:
            module = importlib.import_module(".".join(parts))
        except pytest.skip.Exception:  # a module that skips itself defines no usable SPECS
            continue
        specs.extend(getattr(module, "SPECS", []))
    return specs


def skip_reason(op):
    """Why `op`'s kernel is not compared standalone, or None."""
    if op.type == "Placeholder":
        return "fed, never run"
    if op.op_def.needs_ctx and op.type not in RANDOM_OPS:
        return "needs_ctx kernel (session state or sub-graph runs): not run standalone"
    if any(np.dtype(t.dtype.as_numpy_dtype).kind == "O"
           for t in list(op.inputs) + list(op.outputs)):
        return "string or variant (Python object) tensors stay on the CPU"
    return None


def _loss(outs):
    floats = [o for o in outs if o.dtype.is_floating]
    if not floats:
        return None, []
    rng = np.random.RandomState(0)
    terms = [tf.reduce_sum(o * rng.uniform(0.5, 1.5, o.shape.as_list()).astype(
        o.dtype.as_numpy_dtype)) for o in floats if o.shape.is_fully_defined()]
    return (tf.add_n(terms) if terms else None), floats


def build_spec(spec):
    """(graph, feed): the spec's forward graph on static placeholders, plus its gradients
    with respect to the float inputs when the op is differentiable (best effort)."""
    graph = tf.Graph()
    with graph.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), a.shape) for a in spec.inputs]
        out = spec.build(*phs)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        op_def = registry.OPS[spec.op_type]
        wrt = [p for p, a in zip(phs, spec.inputs) if a.dtype.kind == "f"]
        if op_def.differentiable and spec.check_grad and wrt:
            try:
                loss, _ = _loss([o for o in outs if isinstance(o, tf.Tensor)])
                if loss is not None:
                    tf.gradients(loss, wrt)
            except Exception:  # noqa: BLE001 - gradients are extra coverage only
                pass
    return graph, dict(zip(phs, spec.inputs))


def op_cases(spec, want):
    """(graph, [(op, input values as NumPy arrays)]) for the ops of the spec's graph that
    `want(op)` accepts, from one CPU Session run. Ref inputs (never read) are None."""
    graph, feed = build_spec(spec)
    ops = [op for op in graph.get_operations() if want(op)]
    tensors = list(dict.fromkeys(t for op in ops for j, t in enumerate(op.inputs)
                                 if j not in op.op_def.ref_inputs))
    cpu_only = tf.ConfigProto(device_count={"GPU": 0})
    with tf.Session(graph=graph, config=cpu_only) as sess:
        values = dict(zip(tensors, sess.run(tensors, feed))) if tensors else {}
    return graph, [(op, [None if j in op.op_def.ref_inputs else np.array(values[t])
                         for j, t in enumerate(op.inputs)]) for op in ops]


def call(kernel, xp, op, inputs, ctx=None):
    """The kernel's outputs as a list, or the exception it raised."""
    try:
        out = kernel(ctx, xp, *inputs, **op.attrs) if ctx is not None else \
            kernel(xp, *inputs, **op.attrs)
    except Exception as e:  # noqa: BLE001 - compared with the other backend's behaviour
        return e
    return list(out) if isinstance(out, tuple) else [out]


def assert_same(op, want, got, to_host=np.asarray, rtol=0.0, atol=0.0, exact=False):
    """`got` (from the override / CuPy) matches `want` (from the NumPy kernel)."""
    name = f"{op.name} ({op.type})"
    if isinstance(want, Exception) or isinstance(got, Exception):
        assert type(want) is type(got), f"{name}: NumPy gave {want!r}, the other gave {got!r}"
        return
    assert len(want) == len(got), f"{name}: {len(want)} outputs vs {len(got)}"
    for k, (w, g) in enumerate(zip(want, got)):
        if w is None:
            assert g is None, f"{name}: output {k} should be None"
            continue
        w, g = np.asarray(w), to_host(g)
        assert g.dtype == w.dtype, f"{name}: output {k} dtype {g.dtype}, NumPy gives {w.dtype}"
        assert g.shape == w.shape, f"{name}: output {k} shape {g.shape}, NumPy gives {w.shape}"
        if w.dtype.kind in "fc" and not exact:
            r, a = TOLERANCE.get(w.dtype.char, (1e-4, 1e-5))
            np.testing.assert_allclose(g, w, rtol=max(r, rtol), atol=max(a, atol),
                                       err_msg=f"{name}: output {k}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{name}: output {k}")


# ---- registry-driven kernel checks on the GPU ----------------------------------------------
def pytest_generate_tests(metafunc):
    if "spec" in metafunc.fixturenames:
        specs = spec_list()
        metafunc.parametrize("spec", specs, ids=[s.name for s in specs])


def _random_ctx(op, backend):
    from tginteractive.runtime.executor import OpContext, RunState
    return OpContext(RunState(), op, backend)


def _check_op(op, inputs, cupy, gpu, spec):
    """Compare op's CuPy kernel (and in-place variant) with NumPy's on `inputs`."""
    op_def = op.op_def
    on_gpu = [None if v is None else gpu.from_host(v) for v in inputs]
    numpy_ctx = gpu_ctx = None
    if op.type in RANDOM_OPS:   # drawn on the host from the same seeded generator
        numpy_ctx, gpu_ctx = _random_ctx(op, NUMPY), _random_ctx(op, gpu)
    want = call(op_def.kernel, np, op, [None if v is None else v.copy() for v in inputs],
                numpy_ctx)
    got = call(op_def.kernel_for("cupy"), cupy, op, on_gpu, gpu_ctx)
    if not isinstance(got, Exception) and op.type not in HOST_RESULT_OK:
        hosted = [type(g).__name__ for g in got if g is not None
                  and not isinstance(g, cupy.ndarray)]
        assert not hosted, f"{op.name} ({op.type}): CuPy kernel returned host values {hosted}"
    seeded = op.attrs.get("seed") or op.attrs.get("seed2")
    if op.type in RANDOM_OPS and not seeded and not isinstance(want, Exception):
        want = [np.zeros_like(np.asarray(w)) for w in want]  # unseeded draws differ:
        got = [cupy.zeros_like(g) for g in got]               # dtypes and shapes only
    assert_same(op, want, got, cupy.asnumpy, spec.rtol, spec.atol)
    if op_def.inplace is not None and inputs and inputs[0] is not None \
            and inputs[0].dtype == op.outputs[0].dtype.as_numpy_dtype:
        x_np, x_gpu = inputs[0].copy(), gpu.from_host(inputs[0])
        want = call(op_def.inplace, np, op, [x_np] + [v.copy() for v in inputs[1:]])
        got = call(op_def.inplace, cupy, op, [x_gpu] + on_gpu[1:])
        assert_same(op, want, got, cupy.asnumpy, spec.rtol, spec.atol)
        if not isinstance(want, Exception) and want[0] is x_np:  # it really wrote into x
            np.testing.assert_array_equal(cupy.asnumpy(x_gpu), cupy.asnumpy(got[0]))


def test_cupy_kernel_matches_numpy(spec, cupy, gpu):
    graph, cases = op_cases(spec, lambda op: skip_reason(op) is None)
    for op in graph.get_operations():
        if skip_reason(op):
            SKIPPED.setdefault(op.type, skip_reason(op))
    for op, inputs in cases:
        _check_op(op, inputs, cupy, gpu, spec)
        CHECKED.add(op.type)


def test_every_override_was_checked_and_report(cupy, gpu_report):
    """Runs after the spec checks (same module, later): every op type with a CuPy override
    was exercised, and the summary lists what was not checked and why."""
    if not CHECKED:
        pytest.skip("run together with test_cupy_kernel_matches_numpy")
    for op_type, reason in sorted(SKIPPED.items()):
        if op_type not in CHECKED:
            gpu_report("CuPy kernels not checked op by op", f"{op_type}: {reason}")
    gpu_report("CuPy kernels checked op by op",
               f"{len(CHECKED)} op types: {', '.join(sorted(CHECKED))}")
    unbuilt = sorted(set(registry.OPS) - CHECKED - set(SKIPPED))
    gpu_report("CuPy kernels not checked op by op",
               f"no spec builds (see EXEMPT in tests/): {', '.join(unbuilt)}")
    overridden = {t for t, d in registry.OPS.items() if "cupy" in d.overrides}
    assert overridden <= CHECKED | {"Print", "Assert"}, sorted(overridden - CHECKED)


# ---- overrides on inputs the specs do not reach ----------------------------------------------
def _op(build, *inputs):
    """(op, its input values) for the op build(*placeholders) returns, on placeholders fed
    with `inputs` (other inputs must be constants)."""
    graph = tf.Graph()
    with graph.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), a.shape) for a in inputs]
        out = build(*phs)
    op = (out[0] if isinstance(out, (list, tuple)) else out).op
    fed = dict(zip(phs, inputs))
    return op, [fed[t] if t in fed else np.array(registry.constant_value(t))
                for t in op.inputs]


def _fake_op(op_type, **attrs):
    """What `call` and `assert_same` read of an op, for kernels run without a graph."""
    return types.SimpleNamespace(name=op_type, type=op_type, attrs=attrs,
                                 op_def=registry.OPS[op_type])


def _both(op, inputs, cupy, gpu, exact=False, error=None):
    """Run op's NumPy and CuPy kernels on `inputs`; they must agree (and succeed, unless
    `error` names the exception type both must raise)."""
    want = call(op.op_def.kernel, np, op, [v.copy() for v in inputs])
    got = call(op.op_def.kernel_for("cupy"), cupy, op, [gpu.from_host(v) for v in inputs])
    if error is None:
        assert not isinstance(want, Exception), want
    else:
        assert isinstance(want, error), want
    assert_same(op, want, got, cupy.asnumpy, exact=exact)
    return want, got


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float64])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (None, True), (0, False),
                                           (1, True), ([0, 1], False)])
def test_max_min_of_empty_tensors(dtype, axis, keepdims, cupy, gpu):
    x = np.zeros((0, 3), dtype)
    for fn in (tf.reduce_max, tf.reduce_min):
        _both(*_op(lambda t: fn(t, axis=axis, keepdims=keepdims), x), cupy, gpu, exact=True)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64,
                                   np.uint8, np.complex64])
def test_scatter_add_overrides_for_every_dtype(dtype, cupy, gpu):
    rng = np.random.RandomState(1)
    data = (rng.randint(-5, 5, (6, 3)) + (1j if np.dtype(dtype).kind == "c" else 0))
    data = data.astype(dtype)
    ids = np.array([2, 0, 2, -1, 3, 2], np.int32)   # repeats, and a dropped negative id
    _both(*_op(lambda d, i: tf.unsorted_segment_sum(d, i, 4), data, ids), cupy, gpu)
    _both(*_op(lambda d, i: tf.math.segment_sum(d, i), data, np.sort(np.abs(ids))), cupy, gpu)
    params = np.zeros((4, 3), dtype)
    dy = data[:4].reshape(2, 2, 3)   # gradient of params[[[1, 1], [3, 1]]]
    _both(_fake_op("GatherGrad", axis=0, batch_dims=0),
          [dy, np.array([[1, 1], [3, 1]], np.int64), params], cupy, gpu)
    _both(_fake_op("GatherGrad", axis=1, batch_dims=0),   # a scatter into a moved-axis view
          [data[:4].T.copy(), np.array([0, 0, 2, 1], np.int32), params.T.copy()],
          cupy, gpu)
    _both(_fake_op("GatherNdGrad"),
          [data[:3, 0].copy(), np.array([[1, 2], [1, 2], [0, 0]], np.int64), params], cupy, gpu)


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumulative_logsumexp(exclusive, reverse, axis, cupy, gpu):
    x = np.array([[0.0, -np.inf, 50.0, -50.0], [1e3, 1e3, -1e3, 2.0], [3.0, 1.0, 2.0, 0.5]])
    for dtype in (np.float32, np.float64):
        _both(*_op(lambda t: tf.math.cumulative_logsumexp(t, axis, exclusive, reverse),
                   x.astype(dtype)), cupy, gpu)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_floordiv_floormod_bitwise_like_numpy(dtype, cupy, gpu):
    special = np.array([0., -0., 1., -1., .1, -.1, .3, 3., -3., 5.3, 1e4, -1e4, np.inf,
                        -np.inf, np.nan, 2.5, 7., 1e-3, -1e-3, .5, 10.])
    a = np.repeat(special, special.size).astype(dtype)
    b = np.tile(special, special.size).astype(dtype)
    for fn in (tf.floordiv, tf.floormod):
        op, inputs = _op(fn, a, b)
        with np.errstate(all="ignore"):
            want = call(op.op_def.kernel, np, op, inputs)[0]
        got = cupy.asnumpy(op.op_def.kernel_for("cupy")(cupy, *map(gpu.from_host, inputs)))
        same = ((got == want) & (np.signbit(got) == np.signbit(want))) | (
            np.isnan(got) & np.isnan(want))
        assert same.all(), (op.type, a[~same][:5], b[~same][:5], got[~same][:5])


def test_integer_floordiv_floormod_and_pow(cupy, gpu):
    a = np.array([7, -7, 7, -7, 0, 5], np.int32)
    b = np.array([2, 2, -2, -2, 3, 0], np.int32)
    with np.errstate(all="ignore"):
        _both(*_op(tf.floordiv, a, b), cupy, gpu)
        _both(*_op(tf.floormod, a, b), cupy, gpu)
    _both(*_op(tf.pow, a, np.abs(b)), cupy, gpu)
    _both(*_op(tf.pow, a, b - 1), cupy, gpu, error=ValueError)   # a negative exponent


def test_print_and_assert_read_device_data(cupy, gpu, capsys):
    x = np.arange(3.0, dtype=np.float32)
    op, _ = _op(lambda t: tf.Print(t, [t], message="x: "), x)
    out = op.op_def.kernel_for("cupy")(cupy, gpu.from_host(x), gpu.from_host(x), **op.attrs)
    assert isinstance(out, cupy.ndarray) and "x: [0. 1. 2.]" in capsys.readouterr().err
    graph = tf.Graph()
    with graph.as_default():
        c = tf.placeholder(tf.bool, [2])
        assert_op = tf.Assert(tf.reduce_all(c), [c])
    kernel = assert_op.op_def.kernel_for("cupy")
    ok, bad = np.array(True), np.array(False)
    assert kernel(cupy, gpu.from_host(ok), gpu.from_host(np.array([1, 2])),
                  **assert_op.attrs) == ()
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[\[1 2\]\]"):
        kernel(cupy, gpu.from_host(bad), gpu.from_host(np.array([1, 2])), **assert_op.attrs)


# ---- the backend: transfers and fetches -------------------------------------------------------
DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64, np.float16,
          np.float32, np.float64, np.complex64, np.complex128]


def test_discovery(cupy, gpu):
    from tginteractive.backends import cupy_backend, gpu_backend, gpu_count
    n = cupy.cuda.runtime.getDeviceCount()
    assert gpu_count() == cupy_backend.visible_gpu_count() == n >= 1
    assert gpu_backend(0) is gpu and gpu.name == "cupy" and gpu.xp is cupy
    with pytest.raises(IndexError):
        gpu_backend(n)
    assert gpu.memory_limit_bytes == cupy.cuda.runtime.getDeviceProperties(0)["totalGlobalMem"]
    with gpu.quiet(), gpu.run_context():
        assert cupy.cuda.runtime.getDevice() == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3, 4)])
def test_host_device_round_trip(dtype, shape, cupy, gpu):
    value = (np.arange(int(np.prod(shape))) % 3).reshape(shape).astype(dtype)
    on_gpu = gpu.from_host(value)
    assert isinstance(on_gpu, cupy.ndarray) and on_gpu.device.id == 0
    assert on_gpu.dtype == value.dtype and on_gpu.shape == value.shape
    back = gpu.to_host(on_gpu)
    assert type(back) is np.ndarray and back.dtype == value.dtype
    np.testing.assert_array_equal(back, value)
    fetched = gpu.fetch_result(on_gpu)
    copied = gpu.fetch_copy(on_gpu)
    for result in (fetched, copied):
        if shape == ():
            assert isinstance(result, np.generic) and result.dtype == value.dtype
        else:
            assert type(result) is np.ndarray and result.dtype == value.dtype
        np.testing.assert_array_equal(result, value)
    assert gpu.transfer(value, NUMPY).device.id == 0
    np.testing.assert_array_equal(NUMPY.transfer(on_gpu, gpu), value)


def test_host_values_and_strings(cupy, gpu):
    host = np.arange(4.0).reshape(2, 2)
    assert gpu.to_host(host) is host
    assert gpu.fetch_result(np.array(2.5)) == 2.5 and isinstance(
        gpu.fetch_result(np.array(2.5)), np.generic)
    assert gpu.fetch_copy(host) is not host
    non_contiguous = gpu.from_host(host.T)
    np.testing.assert_array_equal(gpu.to_host(non_contiguous), host.T)
    assert gpu.from_host(non_contiguous) is non_contiguous
    for value in (np.array([b"a", b"bc"], dtype=object), ["text"]):
        with pytest.raises(TypeError, match="stay on the CPU"):
            gpu.from_host(value)


def test_gpu_to_gpu_transfers(cupy, two_gpus):
    g0, g1 = two_gpus
    with g0.run_context():
        x = cupy.arange(24, dtype=cupy.float32).reshape(4, 6)
    for source in (x, x.T, x[:, ::2], x[:0]):
        y = g1.transfer(source, g0)
        assert y.device.id == 1 and y.dtype == source.dtype
        np.testing.assert_array_equal(cupy.asnumpy(y), cupy.asnumpy(source))
        z = g0.transfer(y, g1)
        assert z.device.id == 0
        np.testing.assert_array_equal(cupy.asnumpy(z), cupy.asnumpy(source))
    assert g1.from_host(x).device.id == 1   # a device value handed to from_host moves too
    with g1.run_context():
        w = g1.transfer(x, g0) * 2          # usable on its own device right away
    np.testing.assert_array_equal(cupy.asnumpy(w), cupy.asnumpy(x) * 2)
