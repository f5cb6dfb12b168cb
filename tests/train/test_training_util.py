"""The global step: create, get, get-or-create, its errors, and global_step(sess, t)."""
import numpy as np
import pytest

import tginteractive as tf


def test_create_global_step_at_the_root_name_scope():
    assert tf.train.get_global_step() is None
    with tf.name_scope("inside"):
        step = tf.train.get_or_create_global_step()
    assert step.op.name == "global_step" and step.dtype == tf.int64
    assert step.shape.as_list() == [] and not step.trainable
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [step]
    assert step in tf.global_variables() and step not in tf.trainable_variables()
    assert tf.train.get_global_step() is step
    assert tf.train.get_or_create_global_step() is step
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = tf.train.global_step(sess, step)
        assert value == 0 and type(value) is int


def test_creating_twice_is_a_value_error():
    tf.train.create_global_step()
    with pytest.raises(ValueError, match='"global_step" already exists'):
        tf.train.create_global_step()


def test_an_explicit_graph_argument():
    graph = tf.Graph()
    step = tf.train.get_or_create_global_step(graph)
    assert step.graph is graph and tf.train.get_global_step() is None
    assert tf.train.get_global_step(graph) is step


def test_a_plain_variable_named_global_step_is_found_by_name():
    v = tf.Variable(3, name="global_step")
    found = tf.train.get_global_step()
    assert found.name == "global_step:0" and found.dtype == tf.int32
    assert tf.train.get_or_create_global_step().name == v.name


@pytest.mark.parametrize("value, message", [
    (1.0, "does not have integer type"),
    ([1, 2], "is not scalar"),
])
def test_an_unusable_global_step_is_a_type_error(value, message):
    tf.Variable(value, name="global_step")
    with pytest.raises(TypeError, match=message):
        tf.train.get_global_step()


def test_minimize_increments_the_global_step_after_the_update():
    step = tf.train.get_or_create_global_step()
    w = tf.Variable(1.0)
    train = tf.train.AdamOptimizer(0.1).minimize(w * w, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(1, 4):
            sess.run(train)
            assert tf.train.global_step(sess, step) == i
        assert sess.run(step).dtype == np.int64
