"""The clear errors Session.run promises: each names the tensor/op and says what to do."""
import numpy as np
import pytest

import tginteractive as tf


def test_errors_module_has_tf1_classes():
    for name in ["OpError", "InvalidArgumentError", "FailedPreconditionError",
                 "OutOfRangeError", "NotFoundError", "ResourceExhaustedError",
                 "CancelledError", "UnknownError", "DeadlineExceededError",
                 "AlreadyExistsError", "PermissionDeniedError", "UnimplementedError",
                 "InternalError", "UnavailableError", "DataLossError", "AbortedError",
                 "UnauthenticatedError"]:
        cls = getattr(tf.errors, name)
        assert issubclass(cls, tf.errors.OpError)
    err = tf.errors.NotFoundError(None, None, "gone")
    assert err.message == "gone" and err.op is None and err.error_code == tf.errors.NOT_FOUND


def test_unfed_placeholder_names_it_and_the_fetch():
    x = tf.placeholder(tf.float32, [None, 3], name="images")
    loss = tf.reduce_sum(x, name="loss")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(loss)
    message = str(info.value)
    assert "You must feed a value for placeholder tensor 'images'" in message
    assert "float32 and shape [?,3]" in message and "fetch 'loss:0'" in message
    assert info.value.op is x.op
    assert "test_errors.py" in message  # where the placeholder was created
    unshaped = tf.placeholder(tf.int32, name="anything")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError) as info:
        sess.run(unshaped + 1)
    assert "placeholder tensor 'anything' with dtype int32: fetch" in str(info.value)


def test_wrong_feed_shape_and_dtype():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = x * 2.0
    with tf.Session() as sess:
        with pytest.raises(ValueError, match=r"Cannot feed value of shape \(4, 2\) for Tensor "
                                             r"'x:0', which has shape '\(\?, 3\)'"):
            sess.run(y, {x: np.ones((4, 2))})
        with pytest.raises(ValueError, match=r"Cannot feed value 'abc' to Tensor 'x:0' of "
                                             "dtype float32"):
            sess.run(y, {x: "abc"})
        with pytest.raises(TypeError, match="The value of a feed cannot be a tf.Tensor"):
            sess.run(y, {x: tf.constant(1.0)})
        small = tf.placeholder(tf.int32, [], name="small")
        with pytest.raises(TypeError, match=r"Type of feed value 1099511627776 with type "
                           r"<class 'int'> is not compatible with Tensor type <class "
                           r"'numpy.int32'> \(feeding Tensor 'small:0'\). Try explicitly "
                           r"setting the type of the feed tensor to a larger type"):
            sess.run(small * 2, {small: 2 ** 40})  # TF1's TypeError, not a wrapped-around int
        assert sess.run(small, {small: 2 ** 31 - 1}) == 2 ** 31 - 1  # the largest int32 fits
        with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor"):
            sess.run(y, {3: 1.0})
        with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor"):
            sess.run(y, {"x": 1.0})


def test_bad_fetches():
    c = tf.constant(1.0)
    with tf.Graph().as_default():
        alien = tf.constant(2.0)
    with tf.Session() as sess:
        with pytest.raises(TypeError, match="Fetch argument None has invalid type"):
            sess.run(None)
        with pytest.raises(TypeError, match="Fetch argument 3 has invalid type"):
            sess.run([c, 3])
        with pytest.raises(ValueError, match="is not an element of this graph"):
            sess.run(alien)
        with pytest.raises(ValueError, match="cannot be interpreted as a Tensor"):
            sess.run("missing:0")


def test_uninitialized_variable_is_named():
    w = tf.Variable(tf.zeros([2]), name="weights")
    y = w * 2.0
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError) as info:
            sess.run(y)
    assert "Attempting to use uninitialized value weights" in str(info.value)
    assert "global_variables_initializer" in str(info.value)
    assert info.value.op is w.op


def test_kernel_failure_names_op_and_user_line():
    x = tf.placeholder(tf.float32, [None])
    y = tf.placeholder(tf.float32, [None])
    total = tf.add(x, y, name="my_add")  # the line the error must point at
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(total, {x: [1.0, 2.0], y: [1.0, 2.0, 3.0]})
    message = str(info.value)
    assert "'my_add' (AddV2)" in message and "test_errors.py:" in message
    assert info.value.op is total.op
    assert isinstance(info.value.__cause__, ValueError)  # the NumPy error is kept as cause


def test_check_numerics():
    x = tf.placeholder(tf.float32, [])
    checked = tf.check_numerics(tf.log(x), "log of x")
    with tf.Session() as sess:
        assert sess.run(checked, {x: 1.0}) == 0.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="log of x : Tensor had NaN"):
            sess.run(checked, {x: -1.0})
        with pytest.raises(tf.errors.InvalidArgumentError, match="Tensor had Inf values"):
            sess.run(checked, {x: 0.0})
    with pytest.raises(TypeError, match="floating"):
        tf.check_numerics(tf.constant(1), "int")


def test_add_check_numerics_ops_catches_any_float_tensor():
    x = tf.placeholder(tf.float32, [])
    y = tf.sqrt(x, name="root") * 2.0
    checks = tf.add_check_numerics_ops()
    with tf.Session() as sess:
        assert sess.run([y, checks], {x: 4.0})[0] == 4.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="root:0 : Tensor had NaN"):
            sess.run([y, checks], {x: -4.0})


def test_errors_leave_the_session_usable():
    x = tf.placeholder(tf.float32, [None])
    y = tf.reduce_sum(tf.check_numerics(x, "x"))
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(y, {x: [np.nan]})
        assert sess.run(y, {x: [1.0, 2.0]}) == 3.0


def test_construction_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 3 and 4 for "
                                         r"'MatMul' \(op: 'MatMul'\) with input shapes: "
                                         r"\[2,3\], \[4,5\]"):
        tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 5]))
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 1"):
        tf.matmul(tf.zeros([2]), tf.zeros([2]))
    with pytest.raises(ValueError, match=r"for 'add' \(op: 'AddV2'\) with input shapes: "
                                         r"\[3\], \[4\]"):
        tf.zeros([3]) + tf.zeros([4])


def test_nan_producing_kernels_stay_silent_but_user_numpy_still_warns():
    import warnings
    x = tf.placeholder(tf.float32, [])
    y = tf.log(x) + tf.sqrt(x)
    with tf.Session() as sess, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        assert np.isnan(sess.run(y, {x: -1.0}))
        assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []
        np.log(np.float32(-1.0))  # the user's own NumPy warnings are not affected
        assert any(issubclass(w.category, RuntimeWarning) for w in caught)
