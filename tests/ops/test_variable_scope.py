"""get_variable / variable_scope sharing, errors, naming; initializers."""
import numpy as np
import pytest

import tginteractive as tf


def test_get_variable_ignores_name_scope_but_honours_variable_scope():
    with tf.variable_scope("vs"):
        with tf.name_scope("ns"):
            w = tf.get_variable("w", [2])
            c = tf.constant(1.0)
    assert w.name == "vs/w:0" and c.name == "vs/ns/Const:0"
    assert w.op.name == "vs/w" and w.initializer.name == "vs/w/Assign"
    assert w in tf.global_variables() and w in tf.trainable_variables()


def test_the_three_value_errors():
    with tf.variable_scope("vs"):
        tf.get_variable("w", [2])
    with pytest.raises(ValueError, match="Variable vs/w already exists, disallowed. Did you "
                                         "mean to set reuse=True or reuse=tf.AUTO_REUSE"):
        with tf.variable_scope("vs"):
            tf.get_variable("w", [2])
    with pytest.raises(ValueError, match="Variable vs/nope does not exist, or was not created "
                                         "with tf.get_variable"):
        with tf.variable_scope("vs", reuse=True):
            tf.get_variable("nope", [2])
    with pytest.raises(ValueError, match=r"Trying to share variable vs/w, but specified shape "
                                         r"\(3,\) and found shape \(2,\)"):
        with tf.variable_scope("vs", reuse=True):
            tf.get_variable("w", [3])
    with pytest.raises(ValueError, match="specified dtype float64 and found dtype float32"):
        with tf.variable_scope("vs", reuse=True):
            tf.get_variable("w", [2], dtype=tf.float64)


def test_sharing_modes():
    with tf.variable_scope("model"):
        w = tf.get_variable("w", [3])
    with tf.variable_scope("model", reuse=True):
        assert tf.get_variable("w", [3]) is w
        with tf.variable_scope("inner", reuse=False):  # reuse is inherited, False = None
            assert tf.get_variable_scope().reuse is True
    with tf.variable_scope("model") as scope:
        scope.reuse_variables()
        assert tf.get_variable("w") is w
    with tf.variable_scope("model", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("w", [3]) is w
        assert tf.get_variable("b", [1]).name == "model/b:0"
    with tf.variable_scope("model", reuse=tf.AUTO_REUSE):
        assert len({tf.get_variable("b", [1]).name}) == 1
    assert len(tf.global_variables()) == 2


def test_tower_pattern_shares_variables_and_uniquifies_name_scopes():
    towers = []
    with tf.variable_scope(tf.get_variable_scope()):
        for i in range(2):
            with tf.name_scope(f"tower_{i}"):
                w = tf.get_variable("weights", [2], initializer=tf.ones_initializer())
                towers.append(w * 2.0)
                tf.get_variable_scope().reuse_variables()
    assert towers[0].name == "tower_0/mul:0" and towers[1].name == "tower_1/mul:0"
    assert len(tf.global_variables()) == 1


def test_default_names_and_scope_objects():
    with tf.variable_scope(None, default_name="dense"):
        a = tf.get_variable("k", [1])
    with tf.variable_scope(None, default_name="dense"):
        b = tf.get_variable("k", [1])
    assert (a.name, b.name) == ("dense/k:0", "dense_1/k:0")
    with tf.variable_scope("outer") as outer:
        pass
    with tf.variable_scope("elsewhere"):
        with tf.variable_scope(outer):
            assert tf.get_variable("v", [1]).name == "outer/v:0"
            assert tf.constant(0).name == "outer/Const:0"
    with tf.variable_scope("outer"):
        assert tf.constant(0).name == "outer_1/Const:0"
    with pytest.raises(TypeError, match="default_name is None"):
        with tf.variable_scope(None):
            pass
    assert tf.get_variable_scope().name == ""


def test_initializer_regularizer_and_dtype_inheritance():
    reg = lambda w: tf.reduce_sum(w) * 0.5  # noqa: E731
    with tf.variable_scope("a", initializer=tf.constant_initializer(3.0), regularizer=reg):
        with tf.variable_scope("b", dtype=tf.float64):
            v = tf.get_variable("v", [2])
            u = tf.get_variable("u", [2], initializer=tf.zeros_initializer())
    (loss,) = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)[:1]
    assert v.dtype == tf.float64 and loss.name.startswith("a/b/v/Regularizer/")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(v).tolist() == [3.0, 3.0] and sess.run(u).tolist() == [0.0, 0.0]
        assert sess.run(loss) == 3.0
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 2


def test_get_variable_defaults_and_tensor_initializers():
    w = tf.get_variable("w", [20, 30])
    i = tf.get_variable("i", [2], dtype=tf.int32)
    t = tf.get_variable("t", initializer=tf.constant([1.0, 2.0]))
    n = tf.get_variable("n", trainable=False, initializer=np.float32(4.0))
    with pytest.raises(ValueError, match="must be fully defined"):
        tf.get_variable("bad")
    with pytest.raises(ValueError, match="An initializer for variable s of string"):
        tf.get_variable("s", [1], dtype=tf.string)
    assert n not in tf.trainable_variables() and t.shape.as_list() == [2]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        limit = np.sqrt(6.0 / 50)
        assert np.abs(sess.run(w)).max() <= limit and sess.run(w).std() > limit / 3
        assert sess.run(i).tolist() == [0, 0] and sess.run(t).tolist() == [1.0, 2.0]
        assert sess.run(n) == 4.0


def test_custom_getter_and_local_variables():
    seen = []

    def getter(inner, name, *args, **kwargs):
        seen.append(name)
        return inner(name, *args, **kwargs)
    with tf.variable_scope("cg", custom_getter=getter):
        tf.get_variable("x", [1])
    loc = tf.get_local_variable("counter", [], initializer=tf.zeros_initializer())
    assert seen == ["cg/x"] and loc in tf.local_variables() and loc not in tf.global_variables()


def test_scope_restored_after_errors():
    with pytest.raises(RuntimeError):
        with tf.variable_scope("boom", reuse=True):
            raise RuntimeError
    assert tf.get_variable_scope().name == "" and tf.get_variable_scope().reuse is False


@pytest.mark.parametrize("init,mean,std", [
    (tf.zeros_initializer(), 0.0, 0.0),
    (tf.ones_initializer(), 1.0, 0.0),
    (tf.constant_initializer(2.5), 2.5, 0.0),
    (tf.random_normal_initializer(1.0, 2.0, seed=1), 1.0, 2.0),
    (tf.truncated_normal_initializer(0.0, 1.0, seed=1), 0.0, 0.8796),
    (tf.random_uniform_initializer(-1.0, 1.0, seed=1), 0.0, 1 / np.sqrt(3)),
    (tf.glorot_uniform_initializer(seed=1), 0.0, np.sqrt(2.0 / 600)),
    (tf.glorot_normal_initializer(seed=1), 0.0, np.sqrt(2.0 / 600)),
    (tf.variance_scaling_initializer(2.0, seed=1), 0.0, np.sqrt(2.0 / 200)),
    (tf.initializers.he_uniform(seed=1), 0.0, np.sqrt(2.0 / 200)),
    (tf.initializers.lecun_normal(seed=1), 0.0, np.sqrt(1.0 / 200)),
])
def test_initializer_statistics(init, mean, std):
    with tf.Session() as sess:
        value = sess.run(init([200, 400]))
    assert value.shape == (200, 400) and value.dtype == np.float32
    np.testing.assert_allclose(value.mean(), mean, atol=max(0.02 * max(std, 0.1), 1e-6))
    np.testing.assert_allclose(value.std(), std, rtol=0.03, atol=1e-6)


def test_fans_for_conv_kernels_and_orthogonal():
    from tginteractive.ops.init_ops import compute_fans
    assert compute_fans([3, 3, 16, 32]) == (144, 288) and compute_fans([5]) == (5, 5)
    with tf.Session() as sess:
        q = sess.run(tf.orthogonal_initializer(seed=0)([6, 4]))
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    with pytest.raises(ValueError, match="mode"):
        tf.variance_scaling_initializer(mode="fan_sideways")


def test_get_variable_reuse_inside_cond_branches_sees_the_outer_store():
    with tf.variable_scope("m"):
        w = tf.get_variable("w", [], initializer=tf.constant_initializer(2.0))
    pred = tf.placeholder(tf.bool, [])

    def branch():
        with tf.variable_scope("m", reuse=True):
            return tf.get_variable("w", []) * 3.0
    out = tf.cond(pred, branch, lambda: tf.constant(0.0))
    with tf.Session() as sess:
        sess.run(w.initializer)
        assert sess.run(out, {pred: True}) == 6.0


def test_default_scope_names_are_counted_per_scope_entry_as_tf1():
    # The expected list is what TF 2.21's tf.compat.v1 prints for the same code.
    def opened(default):
        with tf.variable_scope(None, default_name=default) as scope:
            return scope.name
    with tf.Graph().as_default():
        names = [opened("dense"), opened("dense")]
        with tf.variable_scope("dense_2"):
            pass
        names.append(opened("dense"))
        with tf.variable_scope("tower"):
            names += [opened("dense"), opened("dense")]
        with tf.variable_scope("tower", reuse=True):
            names.append(opened("dense"))
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            names.append(opened("dense"))
        names.append(opened("dense"))
        with tf.variable_scope("outer") as outer:
            with tf.variable_scope("in"):
                names.append(opened("x"))
        with tf.variable_scope(outer):
            names.append(opened("x"))
            with tf.variable_scope("in"):
                names.append(opened("x"))
    assert names == ["dense", "dense_1", "dense_3", "tower/dense", "tower/dense_1",
                     "tower/dense", "dense_4", "dense_4", "outer/in/x", "outer/x", "outer/in/x"]
