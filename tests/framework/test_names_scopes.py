"""Op naming, name scopes, device scopes, control dependencies and colocation (TF1 rules)."""
import pytest

import tginteractive as tf


def test_unique_name_sequence_is_case_insensitive():
    g = tf.Graph()
    names = [g.unique_name(n) for n in ["foo", "foo", "Foo", "foo_1", "foo"]]
    assert names == ["foo", "foo_1", "Foo_2", "foo_1_1", "foo_3"]
    assert g.unique_name("bar", mark_as_used=False) == "bar"
    assert g.unique_name("bar") == "bar"


def test_default_op_names_and_suffixes():
    a = tf.constant(1.0)
    b = tf.constant(2.0)
    assert (a.name, b.name) == ("Const:0", "Const_1:0")
    assert (a + b).name == "add:0"
    assert (a * b).op.name == "mul"
    assert (a / b).op.type == "RealDiv"
    assert (-a).op.name == "Neg"
    assert tf.constant(3.0, name="w").name == "w:0"
    assert tf.constant(3.0, name="w").name == "w_1:0"


def test_name_scopes_nest_uniquify_and_reenter():
    with tf.name_scope("a") as a_scope:
        assert a_scope == "a/"
        with tf.name_scope("b") as b_scope:
            assert b_scope == "a/b/"
            assert tf.constant(1).name == "a/b/Const:0"
        with tf.name_scope("b") as b_again:
            assert b_again == "a/b_1/"
    with tf.name_scope(a_scope):
        assert tf.constant(1).name == "a/Const:0"
    with tf.name_scope("a") as again:
        assert again == "a_1/"
    with tf.name_scope("a"):
        with tf.name_scope(None):
            assert tf.constant(1).name == "Const:0"
        with tf.name_scope(""):
            assert tf.constant(1).name == "Const_1:0"


def test_scopes_and_ops_share_one_namespace():
    tf.constant(1, name="foo")
    with tf.name_scope("foo"):
        assert tf.constant(1).name == "foo_1/Const:0"
    assert tf.constant(1, name="foo_1").name == "foo_1_1:0"
    assert tf.constant(1, name="foo").name == "foo_2:0"


def test_name_scope_default_name_and_values():
    x = tf.constant(1.0)
    with tf.name_scope(None, "dense", [x]) as scope:
        assert scope == "dense/"
    with pytest.raises(ValueError, match="At least one of name"):
        with tf.name_scope(None, None, [x]):
            pass
    other = tf.Graph()
    with other.as_default():
        y = tf.constant(2.0)
    with tf.name_scope(None, "in_other", [y]):
        assert tf.get_default_graph() is other
        assert tf.constant(3.0).graph is other
    assert tf.get_default_graph() is not other


def test_invalid_names_are_rejected():
    with pytest.raises(ValueError, match="'_bad' is not a valid root scope name"):
        with tf.name_scope("_bad"):
            pass
    with tf.name_scope("ok"):
        with tf.name_scope("_fine_nested") as s:
            assert s == "ok/_fine_nested/"
    with pytest.raises(ValueError, match="`a b` is not a valid node name"):
        tf.constant(1, name="a b")


def test_device_scopes_merge_and_canonicalise():
    with tf.device("/gpu:0"):
        assert tf.constant(1).device == "/device:GPU:0"
    with tf.device("/job:worker"):
        with tf.device("/gpu:1"):
            assert tf.constant(1).device == "/job:worker/device:GPU:1"
        with tf.device(None):
            assert tf.constant(1).device == ""
    with tf.device("/cpu:0"):
        with tf.device("/gpu:0"):
            assert tf.constant(1).device == "/device:GPU:0"
    assert tf.constant(1).device == ""
    with pytest.raises(ValueError, match="not an integer"):
        tf.device("/gpu:x")


def test_device_functions_see_the_op():
    def by_type(op):
        return "/cpu:0" if op.type == "Const" else "/gpu:0"
    with tf.device(by_type):
        c = tf.constant(1.0)
        d = c * 2.0
    assert c.device == "/device:CPU:0"
    assert d.device == "/device:GPU:0"


def test_colocation_overrides_device_scope():
    with tf.device("/cpu:0"):
        v = tf.constant(1.0, name="v")
    with tf.device("/gpu:0"):
        with tf.colocate_with(v):
            w = tf.identity(v)
    assert w.device == "/device:CPU:0"
    assert w.op.colocation is v.op


def test_control_dependencies_accumulate_and_clear():
    a, b = tf.constant(1.0), tf.constant(2.0)
    with tf.control_dependencies([a]):
        c = tf.constant(3.0)
        with tf.control_dependencies([b.op]):
            d = tf.constant(4.0)
            with tf.control_dependencies(None):
                e = tf.constant(5.0)
    assert c.op.control_inputs == [a.op]
    assert d.op.control_inputs == [a.op, b.op]
    assert e.op.control_inputs == []
    with pytest.raises(TypeError, match="Control input must be"):
        with tf.control_dependencies([3]):
            pass


def test_scopes_survive_exceptions_and_interrupts():
    g = tf.get_default_graph()
    for exc in (RuntimeError, KeyboardInterrupt):
        with pytest.raises(exc):
            with tf.name_scope("outer"), tf.device("/gpu:0"), tf.control_dependencies(
                    [tf.constant(0)]):
                raise exc()
        assert g.get_name_scope() == ""
        assert tf.constant(1.0).device == ""
        assert tf.constant(1.0).op.control_inputs == []
