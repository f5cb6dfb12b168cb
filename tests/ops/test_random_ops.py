"""Random ops: specs replaying the op's seeded generator, seeding rules, distributions."""
import numpy as np
import pytest

import tginteractive as tf
from tginteractive.ops import random_ops
from tests.ops.harness import Spec, run_spec, spec_id

SEED = 7  # op seed only: the op's pair is (DEFAULT_GRAPH_SEED, SEED) in every graph


def rng(seed=SEED):
    return np.random.Generator(np.random.PCG64([random_ops.DEFAULT_GRAPH_SEED, seed]))


SHAPE = np.array([3, 4], dtype=np.int32)
LOGITS = np.log(np.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]]))

SPECS = [
    Spec("RandomUniform", lambda s: tf.random_uniform(s, seed=SEED), [SHAPE],
         lambda s: rng().random(tuple(s), dtype=np.float32)),
    Spec("RandomUniform", lambda s, lo, hi: tf.random_uniform(s, lo, hi, tf.float64, SEED),
         [SHAPE, np.array(-2.0), np.array(3.0)],
         lambda s, lo, hi: rng().random(tuple(s)) * (hi - lo) + lo, name="RandomUniform-range"),
    Spec("RandomUniformInt", lambda s, lo, hi: tf.random_uniform(s, lo, hi, tf.int32, SEED),
         [SHAPE, np.int32(-5), np.int32(5)],
         lambda s, lo, hi: rng().integers(lo, hi, tuple(s), dtype=np.int32)),
    Spec("RandomStandardNormal",
         lambda s, m, sd: tf.random_normal(s, m, sd, dtype=tf.float64, seed=SEED),
         [SHAPE, np.array(1.5), np.array(0.5)],
         lambda s, m, sd: rng().standard_normal(tuple(s)) * sd + m),
    Spec("TruncatedNormal", lambda s: tf.truncated_normal(s, seed=SEED), [SHAPE],
         lambda s: random_ops.truncated_draw(rng(), tuple(s), np.float32)),
    Spec("RandomShuffle", lambda x: tf.random_shuffle(x, seed=SEED),
         [np.arange(12.0).reshape(6, 2)], lambda x: x[rng().permutation(6)]),
    Spec("Multinomial", lambda logits: tf.multinomial(logits, 5, seed=SEED), [LOGITS],
         lambda logits: random_ops.multinomial_draw(rng(), logits, 5)),
]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_op(spec):
    run_spec(spec)


def _two_sessions(fetches):
    with tf.Session() as sess:
        first = sess.run(fetches)
        again = sess.run(fetches)
    with tf.Session() as sess:
        second = sess.run(fetches)
    return first, again, second


def test_graph_seed_replays_across_sessions_and_runs_differ():
    tf.set_random_seed(1)
    a, b = tf.random_uniform([4]), tf.random_uniform([4])
    first, again, second = _two_sessions([a, b])
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], again[0]), "repeated runs in one session must differ"
    assert not np.array_equal(first[0], first[1]), "two random ops must differ"


def test_op_seed_alone_is_deterministic_across_graphs():
    values = []
    for _ in range(2):
        with tf.Graph().as_default():
            x = tf.random_normal([5], seed=5)
            op = x.graph.get_operation_by_name("random_normal/RandomStandardNormal")
            assert (op.get_attr("seed"), op.get_attr("seed2")) == (87654321, 5)
            with tf.Session() as sess:
                values.append(sess.run(x))
    np.testing.assert_array_equal(*values)


def test_different_graph_seeds_differ():
    values = []
    for seed in (1, 2):
        with tf.Graph().as_default():
            tf.set_random_seed(seed)
            x = tf.random_uniform([6])
            with tf.Session() as sess:
                values.append(sess.run(x))
    assert not np.array_equal(*values)


def test_unseeded_ops_are_nondeterministic():
    x = tf.random_uniform([8])
    op = tf.get_default_graph().get_operation_by_name("random_uniform/RandomUniform")
    assert (op.get_attr("seed"), op.get_attr("seed2")) == (0, 0)
    first, _, second = _two_sessions(x)
    assert not np.array_equal(first, second)


def test_get_seed_rules():
    assert tf.get_seed(None) == (None, None)
    assert tf.get_seed(5) == (87654321, 5)
    tf.set_random_seed(1)
    assert tf.get_seed(5) == (1, 5)
    seed, seed2 = tf.get_seed(None)
    assert seed == 1 and seed2 == tf.get_default_graph()._last_id
    tf.set_random_seed(0)
    assert tf.get_seed(0) == (0, 2 ** 31 - 1)  # (0, 0) is reserved for "unseeded"


def test_names_and_static_shapes():
    x = tf.random_uniform([2, 3])
    assert x.name == "random_uniform/RandomUniform:0"  # default [0, 1): no arithmetic
    y = tf.random_uniform(tf.constant([2, 3]), -1.0, 1.0)
    assert y.name == "random_uniform_1:0" and y.shape.as_list() == [2, 3]
    n = tf.random_normal(tf.placeholder(tf.int32, [3]))
    assert n.name == "random_normal:0" and n.shape.as_list() == [None, None, None]
    assert tf.truncated_normal([4]).name == "truncated_normal:0"


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64])
def test_output_dtype_is_the_requested_one(dtype):
    fetches = [tf.random_uniform([3], dtype=dtype), tf.random_normal([3], dtype=dtype),
               tf.truncated_normal([3], dtype=dtype)]
    with tf.Session() as sess:
        for value in sess.run(fetches):
            assert value.dtype == dtype.as_numpy_dtype


def test_sample_moments():
    u = tf.random_uniform([20000], 2.0, 4.0, seed=1)
    n = tf.random_normal([20000], mean=-1.0, stddev=3.0, seed=2)
    i = tf.random_uniform([20000], -3, 3, dtype=tf.int64, seed=3)
    with tf.Session() as sess:
        u, n, i = sess.run([u, n, i])
    assert 2 <= u.min() and u.max() < 4 and abs(u.mean() - 3) < 0.03
    assert abs(u.var() - 4 / 12) < 0.02
    assert abs(n.mean() + 1) < 0.1 and abs(n.std() - 3) < 0.1
    assert i.dtype == np.int64 and set(np.unique(i)) == set(range(-3, 3))


def test_truncated_normal_bounds():
    t = tf.truncated_normal([20000], mean=3.0, stddev=2.0, seed=4)
    with tf.Session() as sess:
        value = sess.run(t)
    assert value.min() >= 3 - 4 and value.max() <= 3 + 4
    assert abs(value.mean() - 3) < 0.05
    assert 0.85 * 2 < value.std() < 0.9 * 2  # a 2-sigma truncated normal has std ~0.88


def test_integer_uniform_needs_maxval_and_a_valid_range():
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
        tf.random_uniform([2], dtype=tf.int32)
    lo = tf.placeholder(tf.int32, [])
    x = tf.random_uniform([2], lo, 3, dtype=tf.int32)
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                             match="Need minval < maxval: 5 >= 3"):
        sess.run(x, {lo: 5})
    with pytest.raises(TypeError, match="random_normal"):
        tf.random_normal([2], dtype=tf.int32)


def test_random_shuffle_is_a_permutation_of_rows():
    value = np.arange(20).reshape(10, 2)
    shuffled = tf.random_shuffle(value)
    with tf.Session() as sess:
        out = sess.run(shuffled)
    assert sorted(map(tuple, out)) == sorted(map(tuple, value))
    assert not np.array_equal(out, value)  # 1 in 10! chance of a false failure


def test_mean_and_stddev_get_gradients():
    mean, stddev = tf.constant(2.0), tf.constant(3.0)
    x = tf.random_normal([50], mean, stddev, seed=3)
    dmean, dstd = tf.gradients(tf.reduce_sum(x), [mean, stddev])
    with tf.Session() as sess:
        value, dm, ds = sess.run([x, dmean, dstd])
    assert dm == pytest.approx(50.0)
    assert ds == pytest.approx(((value - 2.0) / 3.0).sum(), rel=1e-4)


def test_multinomial_frequencies():
    samples = tf.multinomial(tf.log([[0.1, 0.6, 0.3]]), 20000, seed=9)
    assert samples.shape.as_list() == [1, 20000]
    with tf.Session() as sess:
        counts = np.bincount(sess.run(samples)[0], minlength=3) / 20000
    np.testing.assert_allclose(counts, [0.1, 0.6, 0.3], atol=0.02)
