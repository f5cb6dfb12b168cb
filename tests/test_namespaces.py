"""tf.math, tf.random and tf.nn hold the very functions of the top-level namespace."""
import numpy as np
import pytest

import tginteractive as tf

SAME_AS_TOP_LEVEL = {
    tf.math: ["add", "subtract", "multiply", "divide", "truediv", "pow", "maximum", "abs",
              "sqrt", "exp", "log", "tanh", "sigmoid", "equal", "logical_and", "reduce_sum",
              "reduce_mean", "reduce_max", "reduce_logsumexp", "argmax", "cumsum",
              "count_nonzero", "add_n", "segment_sum", "unsorted_segment_sum"],
    tf.nn: ["sigmoid", "tanh"],
}
RENAMED = {  # tf.random name -> top-level name
    "normal": "random_normal", "uniform": "random_uniform", "shuffle": "random_shuffle",
    "truncated_normal": "truncated_normal", "multinomial": "multinomial",
    "set_random_seed": "set_random_seed",
}


@pytest.mark.parametrize("module", list(SAME_AS_TOP_LEVEL), ids=lambda m: m.__name__)
def test_namespace_functions_are_the_top_level_ones(module):
    for name in SAME_AS_TOP_LEVEL[module]:
        assert getattr(module, name) is getattr(tf, name), name


def test_random_names_are_the_top_level_ones():
    for name, top in RENAMED.items():
        assert getattr(tf.random, name) is getattr(tf, top), name


def test_math_and_nn_share_their_functions():
    for name in ["softmax", "log_softmax", "softplus", "softsign", "top_k", "in_top_k"]:
        assert getattr(tf.math, name) is getattr(tf.nn, name), name


def test_math_only_names_live_in_tf_math():
    for name in tf.ops.scan_ops.MATH_ONLY:
        assert callable(getattr(tf.math, name)) and not hasattr(tf, name), name
    assert sorted(tf.math.__all__) == sorted(n for n in dir(tf.math) if not n.startswith("_"))


def test_categorical_is_multinomial_with_tf2_argument_names():
    tf.set_random_seed(1)
    draws = tf.random.categorical([[0.0, 50.0]], 5, dtype=tf.int32, seed=3)
    assert draws.dtype == tf.int32 and draws.shape.as_list() == [1, 5]
    assert draws.op.type == "Multinomial" and draws.name.startswith("categorical/")
    assert tf.random.categorical([[0.0, 1.0]], 2).dtype == tf.int64
    with tf.Session() as sess:
        assert sess.run(draws).tolist() == [[1] * 5]


def test_stdlib_math_and_random_are_not_shadowed():
    import math
    import random
    assert math.pi == np.pi and hasattr(random, "Random")
    assert tf.math.__name__ == "tginteractive.math" and tf.random.__name__ == "tginteractive.random"
