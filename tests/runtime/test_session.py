"""Session.run: fetch structures, feeds, plan caching, state, sessions and tracing."""
import collections

import numpy as np
import pytest

import tginteractive as tf


def test_fetch_structures_are_rebuilt():
    a, b = tf.constant(1.0, name="a"), tf.constant(2.0, name="b")
    Pair = collections.namedtuple("Pair", "x y")
    with tf.Session() as sess:
        assert sess.run([a, (b, a)]) == [1.0, (2.0, 1.0)]
        got = sess.run({"a": a, "pair": Pair(a, [b])})
        assert got == {"a": 1.0, "pair": Pair(1.0, [2.0])}
        ordered = sess.run(collections.OrderedDict([("b", b), ("a", a)]))
        assert isinstance(ordered, collections.OrderedDict) and list(ordered) == ["b", "a"]
        assert sess.run("a:0") == 1.0 and sess.run("a") is None
        assert sess.run(a.op) is None
        assert sess.run([]) == [] and sess.run({}) == {}
        assert sess.run([a, a]) == [1.0, 1.0]


def test_results_are_numpy_values_of_the_right_dtype():
    with tf.Session() as sess:
        scalar = sess.run(tf.constant(2.0) * 3.0)
        assert type(scalar) is np.float32 and scalar == 6.0
        vector = sess.run(tf.constant([1, 2]) * 2)
        assert isinstance(vector, np.ndarray) and vector.dtype == np.int32
        assert sess.run(tf.constant("hi")) == b"hi"
        assert sess.run(tf.constant(["a", "b"])).tolist() == [b"a", b"b"]


def test_feeds_by_tensor_name_and_any_feedable_tensor():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    doubled = x * 2.0
    total = tf.reduce_sum(doubled)
    c = tf.constant(5.0)
    with tf.Session() as sess:
        assert sess.run(total, {x: np.ones((4, 3))}) == 24.0
        assert sess.run(total, {"x:0": np.ones((1, 3))}) == 6.0
        assert sess.run(total, {doubled: np.ones((2, 3))}) == 6.0  # x is not needed
        assert sess.run(c * 2.0, {c: 1.5}) == 3.0
        assert sess.run(total, {x: [[1, 2, 3]]}) == 12.0  # lists convert to the dtype
        fed = np.ones((1, 3), np.float32)
        back = sess.run(x, {x: fed})
        back[0, 0] = 7.0
        assert fed[0, 0] == 1.0, "a fetched feed must not alias the caller's array"
        p, q = tf.placeholder(tf.float32), tf.placeholder(tf.float32)
        assert sess.run(p + q, {(p, q): (1.0, 2.0)}) == 3.0


def test_placeholder_with_default_and_partial_shapes():
    x = tf.placeholder_with_default(tf.constant([1.0, 2.0]), shape=[None])
    with tf.Session() as sess:
        assert sess.run(tf.reduce_sum(x)) == 3.0
        assert sess.run(tf.reduce_sum(x), {x: [1.0, 1.0, 1.0]}) == 3.0


def test_independent_fetches_share_work():
    v = tf.Variable(0.0)
    bump = v.assign_add(1.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        first, twice = sess.run([bump, bump * 2.0])
        assert (first, twice) == (1.0, 2.0)
        assert sess.run(v) == 1.0


def test_plans_are_cached_and_invalidated_by_graph_changes():
    x = tf.placeholder(tf.float32, [None])
    y = tf.reduce_sum(x * x)
    with tf.Session() as sess:
        for _ in range(5):
            sess.run(y, {x: [1.0, 2.0]})
        assert sess.plans_built == 1
        sess.run([y, x], {x: [1.0]})
        assert sess.plans_built == 2
        z = y + 1.0  # the graph changed: cached plans are rebuilt on next use
        sess.run(y, {x: [1.0, 2.0]})
        assert sess.plans_built == 3
        assert sess.run(z, {x: [3.0]}) == 10.0


def test_two_sessions_have_independent_variable_values():
    v = tf.Variable(1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(v.initializer)
    s2.run(v.initializer)
    s1.run(v.assign(5.0))
    assert (s1.run(v), s2.run(v)) == (5.0, 1.0)
    s1.close()
    s2.close()


def test_fetched_variable_values_are_copies():
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        value = sess.run(v)
        value[0] = 42.0
        assert sess.run(v).tolist() == [1.0, 2.0]
        read = sess.run(v.value())
        sess.run(v.assign_add([1.0, 1.0]))
        assert read.tolist() == [1.0, 2.0]


def test_session_lifecycle():
    c = tf.constant(1.0)
    with tf.Session() as sess:
        assert tf.get_default_session() is sess
        assert sess.graph is tf.get_default_graph()
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session."):
        sess.run(c)
    sess.close()  # closing twice is fine
    empty = tf.Session(graph=tf.Graph())
    with pytest.raises(RuntimeError, match="The Session graph is empty"):
        empty.run([])


def test_session_on_explicit_graph():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(4.0)
    with tf.Session(graph=g) as sess:
        assert tf.get_default_graph() is g
        assert sess.run(c) == 4.0


def test_interactive_session_installs_itself_until_closed():
    c = tf.constant(2.0)
    sess = tf.InteractiveSession()
    try:
        assert tf.get_default_session() is sess
        assert c.eval() == 2.0
        with pytest.raises(AssertionError, match="InteractiveSession holds the default graph"):
            tf.reset_default_graph()
        with pytest.warns(UserWarning, match="interactive session is already active"):
            second = tf.InteractiveSession()
        second.close()
        assert tf.get_default_session() is sess
    finally:
        sess.close()
    assert tf.get_default_session() is None
    tf.reset_default_graph()


def test_config_options_and_run_metadata():
    x = tf.placeholder(tf.float32, [None])
    y = tf.reduce_mean(tf.square(x), name="ms")
    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=False,
                            device_count={"CPU": 1})
    with pytest.raises(TypeError, match="unknown field"):
        tf.ConfigProto(bogus=1)
    with tf.Session(config=config) as sess:
        meta = tf.RunMetadata()
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        assert sess.run(y, {x: [1.0, 3.0]}, options=options, run_metadata=meta) == 5.0
        (dev,) = meta.step_stats.dev_stats
        assert dev.device.endswith("device:CPU:0")
        names = [n.node_name for n in dev.node_stats]
        assert "ms" in names and "Square" in names
        assert all(n.all_end_rel_micros >= 0 for n in dev.node_stats)
        assert sess.run(y, {x: [2.0]}, options=tf.RunOptions()) == 4.0
        (device,) = sess.list_devices()
        assert device.name == "/job:localhost/replica:0/task:0/device:CPU:0"
        assert device.device_type == "CPU" and device.memory_limit_bytes > 0


def test_make_callable():
    x = tf.placeholder(tf.float32, [None])
    y = tf.reduce_sum(x)
    with tf.Session() as sess:
        f = sess.make_callable([y, x], feed_list=[x])
        total, back = f([1.0, 2.0])
        assert total == 3.0 and back.tolist() == [1.0, 2.0]
        with pytest.raises(ValueError, match="takes 1 feed values"):
            f()


def test_large_graph_runs_and_frees_intermediates():
    x = tf.placeholder(tf.float64, [None])
    y = x
    for i in range(300):
        y = y * 1.001 + 0.001
    with tf.Session() as sess:
        got = sess.run(y, {x: [0.0, 1.0]})
    expected = np.array([0.0, 1.0])
    for i in range(300):
        expected = expected * 1.001 + 0.001
    np.testing.assert_allclose(got, expected)


def test_control_dependency_on_a_fed_placeholder_is_satisfied_by_the_feed():
    x = tf.placeholder(tf.float32, [])
    with tf.control_dependencies([x]):
        y = tf.constant(2.0) * 3.0
    with tf.Session() as sess:
        assert sess.run(y, {x: 1.0}) == 6.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="must feed a value"):
            sess.run(y)
