"""DType, TensorShape/Dimension, DeviceSpec and the legacy aliases."""
import warnings

import numpy as np
import pytest

import tginteractive as tf
from tginteractive.framework.device_spec import DeviceSpec, canonical_name, merge_device


def test_dtypes():
    assert tf.as_dtype("float32") is tf.float32 and tf.as_dtype(np.int64) is tf.int64
    assert tf.as_dtype(np.dtype("bool")) is tf.bool and tf.as_dtype(float) is tf.float32
    assert tf.as_dtype(tf.uint8) is tf.uint8 and tf.as_dtype("double") is tf.float64
    assert tf.as_dtype(np.dtype("S3")) is tf.string
    assert tf.float16.is_floating and tf.int8.is_integer and not tf.int8.is_floating
    assert tf.uint8.is_unsigned and tf.bool.is_bool and tf.float32.size == 4
    assert tf.float32.as_numpy_dtype is np.float32 and tf.float32.base_dtype is tf.float32
    assert repr(tf.float32) == "tf.float32" and tf.int32.max == 2**31 - 1
    with pytest.raises(TypeError, match="Cannot convert value"):
        tf.as_dtype("floaty")


def test_tensor_shape_and_dimension():
    s = tf.TensorShape([None, 3])
    assert s.ndims == 2 and s.as_list() == [None, 3] and not s.is_fully_defined()
    assert str(s) == "(?, 3)" and repr(s) == "TensorShape([None, 3])"
    assert s[1].value == 3 and int(s[1]) == 3 and s[1] == 3 and s[0].value is None
    assert (s[0] == 3) is None  # unknown dimensions compare as unknown, as in TF1
    assert s.merge_with([4, None]).as_list() == [4, 3]
    assert s.is_compatible_with([7, 3]) and not s.is_compatible_with([7, 4])
    assert tf.TensorShape(None).ndims is None and str(tf.TensorShape(None)) == "<unknown>"
    assert tf.TensorShape([2, 3]).num_elements() == 6 and s.num_elements() is None
    assert str(tf.TensorShape([5])) == "(5,)" and s == tf.TensorShape([None, 3])
    with pytest.raises(ValueError, match="not compatible"):
        s.merge_with([1, 2])
    with pytest.raises(ValueError, match="unknown TensorShape"):
        tf.TensorShape(None).as_list()
    assert s.concatenate([2]).as_list() == [None, 3, 2] and s[1:].as_list() == [3]


def test_device_specs():
    assert canonical_name("/gpu:0") == "/device:GPU:0"
    assert canonical_name("/CPU:1") == "/device:CPU:1"
    assert canonical_name("/job:ps/task:2/cpu:0") == "/job:ps/task:2/device:CPU:0"
    assert merge_device("/job:worker", "/gpu:1") == "/job:worker/device:GPU:1"
    assert merge_device("/job:worker/gpu:0", "/job:ps") == "/job:ps/device:GPU:0"
    spec = DeviceSpec.from_string("/job:localhost/replica:0/task:0/device:GPU:1")
    assert (spec.job, spec.replica, spec.task, spec.device_type, spec.device_index) == \
        ("localhost", 0, 0, "GPU", 1)
    with pytest.raises(ValueError, match="Unknown attribute"):
        DeviceSpec.from_string("/a:b:c")


@pytest.mark.parametrize("old,new", [("mul", "multiply"), ("sub", "subtract"),
                                     ("neg", "negative"), ("select", "where"),
                                     ("pack", "stack"), ("unpack", "unstack")])
def test_legacy_aliases_warn_once(old, new):
    fn = getattr(tf, old)
    args = {"mul": (2.0, 3.0), "sub": (2.0, 3.0), "neg": (2.0,),
            "select": (tf.constant([True]), [1.0], [2.0]), "pack": ([1.0, 2.0],),
            "unpack": (tf.constant([1.0, 2.0]),)}[old]
    fn.warned = False  # the warning is once per process; re-arm it for this test
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args)
        fn(*args)
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(messages) == 1 and f"tf.{new}" in messages[0]
    assert fn.__wrapped__ is getattr(tf, new)
