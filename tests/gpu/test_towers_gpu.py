"""Towers on every visible real GPU train exactly like one device on the full batch.

Skipped without CuPy or a CUDA device (tests/gpu/conftest.py skips the directory too). The
module imports without CuPy (tests/ops/test_registry.py imports every test module), so the
guard, `pytest.importorskip("cupy")`, sits in the `tower_devices` fixture.
"""
import numpy as np
import pytest

import tginteractive as tf
from tests.train.test_towers import MODELS, OPTIMIZERS, cifar_train, train

# float32 GEMMs on a GPU round differently from BLAS on the CPU
RTOL, ATOL = 2e-4, 2e-5


@pytest.fixture(scope="module")
def gpus():
    cupy = pytest.importorskip("cupy")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - no driver reads as no GPU
        count = 0
    if count < 1:
        pytest.skip("needs a CUDA GPU")
    return [f"/gpu:{i}" for i in range(count)]


@pytest.fixture(scope="module")
def tower_devices(gpus):
    """The models' batch of 8 splits over 2, 4 or 8 towers; a single GPU gets two towers."""
    if len(gpus) == 1:
        return gpus * 2
    return gpus[:max(n for n in (2, 4, 8) if n <= len(gpus))]


def strict_config():
    """No soft placement: every tower must really get its GPU."""
    return tf.ConfigProto(allow_soft_placement=False)


def close(got, want):
    (w_got, l_got), (w_want, l_want) = got, want
    assert sorted(w_got) == sorted(w_want)
    np.testing.assert_allclose(l_got, l_want, rtol=RTOL, atol=ATOL)
    for name in w_want:
        np.testing.assert_allclose(w_got[name], w_want[name], rtol=RTOL, atol=ATOL,
                                   err_msg=name)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_towers_on_the_gpus_equal_one_device(model, tower_devices):
    want = train(model, 0, OPTIMIZERS["sgd"], config=tf.ConfigProto())
    close(train(model, len(tower_devices), OPTIMIZERS["sgd"], config=strict_config(),
                devices=tower_devices), want)


def test_towers_run_on_the_gpus(tower_devices):
    """The trace shows kernels on every GPU the towers asked for."""
    x, labels = (tf.constant(a) for a in MODELS["mlp"][1]())
    result = tf.train.replicate_model(MODELS["mlp"][0], [x, labels], devices=tower_devices,
                                      optimizer=tf.train.GradientDescentOptimizer(0.1))
    md = tf.RunMetadata()
    with tf.Session(config=strict_config()) as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(result.train_op, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=md)
    used = {d.device.split("/")[-1] for d in md.step_stats.dev_stats if d.node_stats}
    assert {d.replace("/gpu:", "device:GPU:") for d in tower_devices} <= used, used


def test_cifar10_pattern_on_all_gpus(gpus):
    rng = np.random.RandomState(0)
    n = max(2, len(gpus))   # one GPU: the second tower soft-places like TF's example
    images = rng.rand(4 * n, 6, 6, 3).astype(np.float32)
    labels = rng.randint(0, 4, 4 * n).astype(np.int32)
    one, _, _, _ = cifar_train(images, labels, num_gpus=1, steps=5)
    many, step, _, _ = cifar_train(images, labels, num_gpus=n, steps=5)
    assert step == 5
    for name in one:
        np.testing.assert_allclose(many[name], one[name], rtol=1e-3, atol=1e-4, err_msg=name)

