"""ConfigProto(intra_op_parallelism_threads=N) caps BLAS threads while a session's runs last."""
import sys
import warnings

import numpy as np
import pytest

import tginteractive as tf
from tginteractive.runtime import threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads():
    info = threadpoolctl.threadpool_info()
    counts = [lib["num_threads"] for lib in info if lib["user_api"] == "blas"]
    if not counts:
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl here")
    return counts


def threads_seen_inside_runs(config, device_count=1):
    """BLAS thread counts observed by a py_func on each device while one run executes."""
    seen = []
    x = tf.placeholder(tf.float64, [2, 2])
    outs = []
    for k in range(device_count):
        with tf.device(f"/cpu:{k}"):
            probe = tf.py_func(lambda v: seen.append(blas_threads()) or v, [x], tf.float64)
            outs.append(tf.matmul(probe, x))
    with tf.Session(config=config) as sess:
        got = sess.run(outs, {x: np.eye(2)})
    for value in got:
        np.testing.assert_array_equal(value, np.eye(2))
    return seen


@pytest.mark.parametrize("device_count", [1, 2])
def test_runs_use_at_most_the_configured_threads_and_restore_them(device_count):
    before = blas_threads()
    config = tf.ConfigProto(intra_op_parallelism_threads=1,
                            device_count={"CPU": device_count})
    seen = threads_seen_inside_runs(config, device_count)
    assert len(seen) == device_count
    assert all(counts == [1] * len(counts) for counts in seen)
    assert blas_threads() == before


def test_zero_leaves_the_library_default():
    before = blas_threads()
    seen = threads_seen_inside_runs(tf.ConfigProto(intra_op_parallelism_threads=0))
    assert seen == [before]


def test_the_cap_is_restored_when_a_run_fails():
    before = blas_threads()
    x = tf.placeholder(tf.float64, [None])
    bad = tf.reshape(x, [2, 2])
    with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=1)) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(bad, {x: np.ones(3)})
    assert blas_threads() == before


@pytest.mark.parametrize("value", [-1, 1.5, "2"])
def test_bad_values_are_rejected_when_the_session_is_made(value):
    with pytest.raises(ValueError, match="intra_op_parallelism_threads must be a non-negative"):
        tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=value))


def test_without_threadpoolctl_runs_go_on_with_a_warning(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import fails as if not installed
    monkeypatch.setattr(threads, "_controller", [])
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=1)) as sess:
        with pytest.warns(UserWarning, match="pip install threadpoolctl"):
            got = sess.run(tf.matmul(x, x))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # said once, not on every run
            sess.run(tf.matmul(x, x) + 1.0)
    np.testing.assert_array_equal(got, [[7.0, 10.0], [15.0, 22.0]])
