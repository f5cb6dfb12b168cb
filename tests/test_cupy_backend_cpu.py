"""The CuPy backend, checked without a GPU (and without CuPy).

* `import tginteractive` does not import CuPy; `gpu_count()` is 0 without a usable GPU and
  never raises; importing the backend without CuPy says what to pip install.
* Every `overrides` entry is a callable with its kernel's signature.
* When a real CuPy is importable (GPU or not), it has every function the backend and the
  overrides call.
* With `fake_cupy()`, a NumPy stand-in for CuPy (device ids, `.get()`, `scatter_add`,
  `asnumpy`, `cuda.Device`; like CuPy, its ufuncs have no `.at`/`.accumulate`/`where=`, its
  max/min no `initial=`), the backend's plumbing runs on the CPU, every kernel runs through
  tests/gpu/'s op-by-op check, and every CuPy override runs on every spec's inputs (and on
  edge cases) against its NumPy kernel. tests/gpu/ repeats the checks on real CuPy.
"""
import importlib
import inspect
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import tginteractive as tf
from tests.gpu.test_cupy_kernels import assert_same, call, op_cases, spec_list
from tginteractive.framework import registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKEND_NAMES = {"cupy"}  # the backends an override may name


def _python(code, env=None):
    """Run `code` in a fresh interpreter at the repo root; its stdout, stripped."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env=dict(os.environ, **(env or {})), timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


# ---- import behaviour ---------------------------------------------------------------------
def test_import_does_not_import_cupy():
    code = ("import sys, tginteractive, tginteractive.backends; "
            "print([m for m in sys.modules if m == 'cupy' or m.startswith('cupy.')])")
    assert _python(code) == "[]"


def test_gpu_count_is_zero_without_a_visible_gpu_and_never_raises():
    from tginteractive.backends import gpu_count
    count = gpu_count()
    assert isinstance(count, int) and count >= 0
    code = "import tginteractive.backends as b; print(b.gpu_count(), b.gpu_count())"
    assert _python(code, {"CUDA_VISIBLE_DEVICES": ""}) == "0 0"   # no device
    hide = "import sys; sys.modules['cupy'] = None; "                 # no CuPy
    assert _python(hide + code) == "0 0"


def test_importing_the_backend_without_cupy_says_what_to_install():
    code = ("import sys; sys.modules['cupy'] = None\n"
            "try:\n    import tginteractive.backends.cupy_backend\n"
            "except ImportError as e:\n    print('ImportError:', e)\n")
    out = _python(code)
    assert out.startswith("ImportError:") and "pip install cupy-cuda12x" in out, out


def test_visible_gpu_count_asks_the_runtime_only():
    """A CuPy exposing nothing but runtime.getDeviceCount is enough (no allocation, no
    context); a CUDA error reads as 0."""
    for behaviour, expected in (("return 3", "3"), ("raise RuntimeError('no driver')", "0")):
        code = (
            "import sys, types\n"
            "cupy = types.ModuleType('cupy'); cupy.cuda = types.SimpleNamespace()\n"
            f"def count():\n    {behaviour}\n"
            "cupy.cuda.runtime = types.SimpleNamespace(getDeviceCount=count)\n"
            "sys.modules['cupy'] = cupy\n"
            "from tginteractive.backends.cupy_backend import visible_gpu_count\n"
            "import tginteractive.backends as b\n"
            "print(visible_gpu_count(), b.gpu_count())\n")
        assert _python(code) == f"{expected} {expected}"


# What the backend and the overrides call on CuPy (checked against a real CuPy when one is
# importable, GPU or not; the fake below provides the same names).
CUPY_API = ["ndarray.scatter_add", "ndarray.get", "ndarray.copy", "ndarray.device",
            "ndarray.flags", "asarray", "asnumpy", "empty", "full", "zeros", "empty_like",
            "zeros_like", "iinfo", "float16", "float32", "fmod", "copysign", "floor", "where",
            "logaddexp", "moveaxis", "power", "mod", "floor_divide", "cuda.Device",
            "cuda.get_current_stream", "cuda.runtime.getDeviceCount",
            "cuda.runtime.getDeviceProperties", "cuda.runtime.getDevice"]


def _lookup(module, path):
    for part in path.split("."):
        module = getattr(module, part)
    return module


def _has(module, path):
    try:
        _lookup(module, path)
    except AttributeError:
        return False
    return True


def test_the_real_cupy_has_the_api_the_backend_uses():
    cupy = pytest.importorskip("cupy")   # here, not at module level (see tests/gpu/conftest)
    missing = [name for name in CUPY_API if not _has(cupy, name)]
    assert not missing, f"CuPy {cupy.__version__} lacks {missing}"
    try:
        expected = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - no driver / no device: the backend must say 0
        expected = 0
    from tginteractive.backends.cupy_backend import visible_gpu_count
    assert visible_gpu_count() == expected


# ---- the registry's overrides -------------------------------------------------------------
def _params(fn):
    return [(p.name, p.kind) for p in inspect.signature(fn).parameters.values()]


def test_overrides_are_callables_with_their_kernels_signature():
    overridden = {t: d for t, d in registry.OPS.items() if d.overrides}
    assert overridden, "no op has a CuPy override"
    for op_type, op_def in overridden.items():
        assert set(op_def.overrides) <= BACKEND_NAMES, (op_type, set(op_def.overrides))
        for name, kernel in op_def.overrides.items():
            assert callable(kernel), (op_type, name)
            assert _params(kernel) == _params(op_def.kernel), (op_type, name)
            assert op_def.kernel_for(name) is kernel and op_def.kernel_for("numpy") is \
                op_def.kernel


# ---- a NumPy stand-in for CuPy --------------------------------------------------------------
def fake_cupy(devices=2):
    """A module posing as `cupy`, backed by NumPy: arrays know their device (the current one
    when made), `.get()` copies to the host, `.copy()` lands on the current device, and
    reductions/indexing give 0-d arrays rather than scalars, as CuPy does."""
    current = [0]

    class Device:
        def __init__(self, index=None):
            self.id = current[0] if index is None else int(index)

        def __enter__(self):
            self._previous = current[0]
            current[0] = self.id
            return self

        def __exit__(self, *exc):
            current[0] = self._previous

    class ndarray(np.ndarray):  # noqa: N801 - CuPy's name
        def __array_finalize__(self, obj):
            self._device = getattr(obj, "_device", current[0])

        def __array_wrap__(self, array, context=None, return_scalar=False):
            return np.asarray(array).view(ndarray)

        def __getitem__(self, key):  # an element is a 0-d view, as in CuPy
            out = super().__getitem__(key)
            if isinstance(out, ndarray):
                return out
            return super().__getitem__((key if isinstance(key, tuple) else (key,)) + (...,))

        device = property(lambda self: Device(self._device))

        def get(self):
            return np.array(self.view(np.ndarray), copy=True)

        def copy(self, order="C"):  # CuPy: the copy is made on the current device
            out = np.array(self.view(np.ndarray), order=order, copy=True).view(ndarray)
            out._device = current[0]
            return out

        def scatter_add(self, key, value):
            np.add.at(self.view(np.ndarray), key, value)

        def max(self, axis=None, out=None, keepdims=False):  # CuPy: no `initial`
            return super().max(axis=axis, out=out, keepdims=keepdims)

        def min(self, axis=None, out=None, keepdims=False):
            return super().min(axis=axis, out=out, keepdims=keepdims)

    def wrap(value):
        if isinstance(value, (list, tuple)):
            return type(value)(wrap(v) for v in value)
        if isinstance(value, (np.ndarray, np.generic)) and not isinstance(value, ndarray):
            return np.asarray(value).view(ndarray)
        return value

    class Ufunc:  # like CuPy's logaddexp & co: calls only (no .at / .accumulate, no where=)
        def __init__(self, ufunc):
            self._ufunc = ufunc

        def __call__(self, *args, out=None, casting="same_kind", dtype=None):
            return wrap(self._ufunc(*args, out=out, casting=casting, dtype=dtype))

    class Module(types.ModuleType):
        def __getattr__(self, name):
            value = getattr(np, name)
            if isinstance(value, np.ufunc):
                return Ufunc(value)
            if callable(value) and not isinstance(value, type):
                return lambda *a, **k: wrap(value(*a, **k))
            return value

    cupy = Module("cupy")
    cupy.__version__ = "0.fake"
    cupy.ndarray = ndarray
    cupy.asarray = lambda a, dtype=None: a if isinstance(a, ndarray) and dtype is None else \
        np.array(a, dtype=dtype).view(ndarray)
    cupy.asnumpy = lambda a: a.get() if isinstance(a, ndarray) else np.asarray(a)
    cupy.argsort = lambda a, axis=-1, kind=None: wrap(np.argsort(a, axis, kind or "stable")) \
        if kind in (None, "stable") else 1 / 0   # CuPy accepts no other kind
    stream = types.SimpleNamespace(synchronize=lambda: None)
    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: devices, getDevice=lambda: current[0],
        getDeviceProperties=lambda i: {"totalGlobalMem": (i + 1) * 2 ** 30})
    cupy.cuda = types.SimpleNamespace(Device=Device, runtime=runtime,
                                      get_current_stream=lambda: stream)
    return cupy


@pytest.fixture
def fake(monkeypatch):
    """(fake cupy, the cupy_backend module imported against it); both undone afterwards."""
    import tginteractive.backends as backends
    cupy = fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.delitem(sys.modules, "tginteractive.backends.cupy_backend", raising=False)
    monkeypatch.setattr(backends, "cupy_backend", None, raising=False)
    monkeypatch.setattr(backends, "_gpu_count", [0])  # sessions meanwhile see no GPU
    cupy_backend = importlib.import_module("tginteractive.backends.cupy_backend")
    monkeypatch.delitem(sys.modules, "tginteractive.backends.cupy_backend")
    return cupy, cupy_backend


def test_backend_instances_and_device_facts(fake):
    cupy, module = fake
    assert all(_has(cupy, name) for name in CUPY_API)
    gpu0 = module.CupyBackend.for_device(0)
    assert module.CupyBackend.for_device(0) is gpu0 and gpu0.name == "cupy"
    assert gpu0.xp is cupy and module.visible_gpu_count() == 2
    assert module.CupyBackend.for_device(1).memory_limit_bytes == 2 * 2 ** 30
    with pytest.raises(IndexError, match="CUDA_VISIBLE_DEVICES"):
        module.CupyBackend.for_device(2)
    with gpu0.quiet():
        pass
    with module.CupyBackend.for_device(1).run_context():
        assert cupy.cuda.runtime.getDevice() == 1
    assert cupy.cuda.runtime.getDevice() == 0
    broken = module.CupyBackend(5)   # properties unreadable: Backend's default
    cupy.cuda.runtime.getDeviceProperties = lambda i: 1 / 0
    assert broken.memory_limit_bytes == tf.backends.NUMPY.memory_limit_bytes


def test_transfers_and_fetches(fake):
    cupy, module = fake
    gpu0, gpu1 = module.CupyBackend.for_device(0), module.CupyBackend.for_device(1)
    host = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    x = gpu1.from_host(host)
    assert isinstance(x, cupy.ndarray) and x.device.id == 1
    assert gpu1.from_host(x) is x and gpu1.transfer(x, gpu1) is x
    y = gpu0.transfer(x.T, gpu1)   # a peer copy, from a non-contiguous view
    assert y.device.id == 0 and type(gpu0.to_host(y)) is np.ndarray
    np.testing.assert_array_equal(gpu0.to_host(y), host.T)
    assert gpu0.from_host(x).device.id == 0
    np.testing.assert_array_equal(tf.backends.NUMPY.transfer(y, gpu0), host.T)
    assert gpu0.transfer(host, tf.backends.NUMPY).device.id == 0
    for fetch in (gpu0.fetch_result, gpu0.fetch_copy):
        scalar = fetch(gpu0.from_host(np.float64(2.5)))
        assert type(scalar) is np.float64 and scalar == 2.5
        array = fetch(x)
        assert type(array) is np.ndarray and array.dtype == np.float32
    assert gpu0.fetch_result(host) is host and gpu0.fetch_copy(host) is not host
    assert type(gpu0.fetch_result(np.array(3))) is np.int64
    assert gpu0.to_host(host) is host and gpu0.from_host(None) is None
    for value in (np.array([b"a"], dtype=object), ["text"], np.array(["u"])):
        with pytest.raises(TypeError, match="stay on the CPU"):
            gpu0.from_host(value)


def test_every_kernel_runs_on_a_cupy_like_module(fake):
    """tests/gpu/'s op-by-op check, run with the stand-in: catches kernels using what CuPy
    lacks (ufunc methods and where=, `initial=` in max/min, sort kinds) on any machine."""
    from tests.gpu.test_cupy_kernels import _check_op, skip_reason
    cupy, module = fake
    gpu, checked = module.CupyBackend.for_device(0), set()
    for spec in spec_list():
        _, cases = op_cases(spec, lambda op: skip_reason(op) is None)
        for op, inputs in cases:
            with np.errstate(all="ignore"):
                _check_op(op, inputs, cupy, gpu, spec)
            checked.add(op.type)
    assert len(checked) > 100, sorted(checked)


# ---- every override against its NumPy kernel, on the CPU --------------------------------------
def _overridden(op):
    return "cupy" in op.op_def.overrides


def _run_override(op, inputs, cupy):
    dev = [None if v is None else cupy.asarray(v.copy()) for v in inputs]
    with np.errstate(all="ignore"):
        want = call(op.op_def.kernel, np, op, [None if v is None else v.copy() for v in inputs])
        got = call(op.op_def.kernel_for("cupy"), cupy, op, dev)
    assert_same(op, want, got, cupy.asnumpy, exact=True)
    return want


def test_overrides_match_numpy_on_every_spec(fake):
    cupy, _ = fake
    seen = set()
    for spec in spec_list():
        if not _overridden_spec(spec):
            continue
        _, cases = op_cases(spec, _overridden)
        for op, inputs in cases:
            _run_override(op, inputs, cupy)
            seen.add(op.type)
    expected = {t for t, d in registry.OPS.items() if d.overrides} - {"Print", "Assert"}
    assert expected <= seen, sorted(expected - seen)


def _overridden_spec(spec):
    return spec.op_type in {t for t, d in registry.OPS.items() if d.overrides} or \
        spec.op_type in {"GatherV2", "GatherNd"}   # their gradients are overridden


def _graph_op(build, *inputs):
    graph = tf.Graph()
    with graph.as_default():
        out = build(*[tf.placeholder(tf.as_dtype(a.dtype), a.shape) for a in inputs])
    return (out[0] if isinstance(out, (list, tuple)) else out).op


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (None, True), (0, False),
                                           (1, True), ([0, 1], False), (-1, False)])
def test_max_min_overrides_of_empty_tensors(dtype, axis, keepdims, fake):
    x = np.zeros((0, 3), dtype)
    for fn in (tf.reduce_max, tf.reduce_min):
        op = _graph_op(lambda t: fn(t, axis=axis, keepdims=keepdims), x)
        assert not isinstance(_run_override(op, [x], fake[0]), Exception)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int32, np.int64, np.uint8,
                                   np.complex64])
def test_scatter_add_overrides_for_every_dtype(dtype, fake):
    cupy, _ = fake
    data = (np.arange(18).reshape(6, 3) % 7 - 3).astype(dtype)
    ids = np.array([2, 0, 2, -1, 3, 2], np.int32)
    for op, inputs in ((_graph_op(lambda d, i: tf.unsorted_segment_sum(d, i, 4), data, ids),
                        [data, ids, np.array(4, np.int32)]),
                       (_graph_op(tf.math.segment_sum, data, np.sort(np.abs(ids))),
                        [data, np.sort(np.abs(ids))])):
        assert not isinstance(_run_override(op, inputs, cupy), Exception)
    params = np.zeros((3, 4), dtype)
    gather = _graph_op(lambda p, i: tf.gather(p, i, axis=1), params, np.zeros(4, np.int32))
    grad = types.SimpleNamespace(name="g", type="GatherGrad", attrs=gather.attrs,
                                 op_def=registry.OPS["GatherGrad"])
    _run_override(grad, [data[:4].T.copy(), np.array([0, 0, 2, 1], np.int32), params], cupy)


def test_pow_override_refuses_negative_integer_exponents(fake):
    a, b = np.array([2, 3], np.int32), np.array([1, -1], np.int32)
    op = _graph_op(tf.pow, a, b)
    assert isinstance(_run_override(op, [a, b], fake[0]), ValueError)
    assert not isinstance(_run_override(op, [a, np.abs(b)], fake[0]), Exception)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_floordiv_floormod_overrides_bitwise_like_numpy(dtype, fake):
    rng = np.random.RandomState(0)
    special = np.array([0., -0., 1., -1., .1, -.1, .3, 3., -3., 5.3, 1e4, -1e4, np.inf,
                        -np.inf, np.nan, 2.5, 7., 1e-3, -1e-3, .5, 10.])
    a = np.concatenate([np.repeat(special, special.size), rng.normal(0, 50, 4000)])
    b = np.concatenate([np.tile(special, special.size), rng.normal(0, 2, 4000)])
    a, b = a.astype(dtype), b.astype(dtype)
    for fn in (tf.floordiv, tf.floormod):
        op = _graph_op(fn, a, b)
        with np.errstate(all="ignore"):
            want = op.op_def.kernel(np, a, b)
            got = fake[0].asnumpy(op.op_def.kernel_for("cupy")(fake[0], *map(fake[0].asarray,
                                                                               (a, b))))
        same = ((got == want) & (np.signbit(got) == np.signbit(want))) | (
            np.isnan(got) & np.isnan(want))
        assert got.dtype == want.dtype and same.all(), (op.type, a[~same][:5], b[~same][:5])


def test_print_and_assert_overrides(fake, capsys):
    cupy, _ = fake
    x = cupy.asarray(np.arange(3.0))
    graph = tf.Graph()
    with graph.as_default():
        t = tf.placeholder(tf.float64, [3])
        printed = tf.Print(t, [t], message="x: ")
        check = tf.Assert(tf.reduce_all(tf.greater(t, 0)), [t])
    out = printed.op.op_def.kernel_for("cupy")(cupy, x, x, **printed.op.attrs)
    assert out is x and "x: [0. 1. 2.]" in capsys.readouterr().err
    kernel = check.op_def.kernel_for("cupy")
    assert kernel(cupy, cupy.asarray(np.array(True)), x, **check.attrs) == ()
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[\[0. 1. 2.\]\]"):
        kernel(cupy, cupy.asarray(np.array(False)), x, **check.attrs)
