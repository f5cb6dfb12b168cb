"""Placement rules (pure planner tests): defaults, scopes, colocation, soft placement, errors,
simulated GPUs, and the log_device_placement lines."""
import numpy as np
import pytest

import tginteractive as tf
from tginteractive.runtime.devices import local_devices
from tginteractive.runtime.plan import place

CPU0 = "/job:localhost/replica:0/task:0/device:CPU:0"
CPU1 = "/job:localhost/replica:0/task:0/device:CPU:1"
GPU0 = "/job:localhost/replica:0/task:0/device:GPU:0"
GPU1 = "/job:localhost/replica:0/task:0/device:GPU:1"


def placed(config, *tensors):
    ops = tf.get_default_graph().get_operations()
    placement, records = place(ops, local_devices(config), config)
    return {op.name: placement[op].name for op in ops}, {r.op.name: r for r in records}


def gpus(n=2, **kwargs):
    return tf.ConfigProto(device_count={"GPU": n}, simulate_gpus=True, **kwargs)


def test_defaults_go_to_cpu_without_gpus_and_to_gpu0_with_them():
    a = tf.constant(1.0, name="a")
    tf.add(a, a, name="b")
    assert placed(None)[0] == {"a": CPU0, "b": CPU0}
    names, records = placed(gpus())
    assert names == {"a": GPU0, "b": GPU0} and records["b"].reason == "default"
    assert records["b"].device.simulated


def test_device_scopes_and_virtual_cpus():
    with tf.device("/cpu:1"):
        tf.constant(1.0, name="one")
    with tf.device("/gpu:1"):
        tf.constant(2.0, name="two")
    names, _ = placed(tf.ConfigProto(device_count={"CPU": 2, "GPU": 2}, simulate_gpus=True))
    assert names == {"one": CPU1, "two": GPU1}


def test_colocation_and_ref_inputs_follow_the_variable():
    with tf.device("/gpu:1"):
        v = tf.Variable(1.0, name="v")
    with tf.device("/gpu:0"):
        tf.assign_add(v, 1.0, name="bump")
    names, records = placed(gpus())
    assert names["v"] == names["v/Assign"] == names["v/read"] == names["bump"] == GPU1
    assert records["bump"].reason.startswith("colocated with 'v'")


def test_string_ops_stay_on_the_cpu():
    tf.constant("text", name="s")
    names, records = placed(gpus())
    assert names["s"] == CPU0 and records["s"].reason == "no GPU kernel"
    with tf.device("/gpu:0"):
        tf.constant("pinned", name="pinned")
    with pytest.raises(tf.errors.InvalidArgumentError, match="no supported kernel for GPU"):
        placed(gpus())
    names, records = placed(gpus(allow_soft_placement=True))
    assert names["pinned"] == CPU0 and "soft placement" in records["pinned"].reason


def test_hard_placement_failure_uses_tf1_text_and_soft_placement_falls_back():
    one = tf.constant(1.0)
    with tf.device("/gpu:0"):
        total = tf.add(one, one, name="add")
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        placed(None)
    assert ("Cannot assign a device for operation add: {{node add}} was explicitly assigned "
            "to /device:GPU:0 but available devices are [ " + CPU0 + " ]") in str(info.value)
    names, records = placed(tf.ConfigProto(allow_soft_placement=True))
    assert names["add"] == CPU0
    assert records["add"].reason == "soft placement: /device:GPU:0 not available"
    with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:
        assert sess.run(total) == 2.0
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="explicitly assigned"):
            sess.run(total)


def test_soft_placement_of_a_missing_gpu_takes_the_first_gpu_as_tf1():
    with tf.device("/gpu:7"):
        tf.add(tf.constant(1.0), 1.0, name="far")
        tf.constant("text", name="far_text")
    names, records = placed(gpus(allow_soft_placement=True))
    assert names["far"] == GPU0 and records["far"].reason == \
        "soft placement: /device:GPU:7 not available"
    assert names["far_text"] == CPU0


def test_remote_devices_need_soft_placement():
    with tf.device("/job:worker/task:1/cpu:0"):
        tf.constant(1.0, name="remote")
    with pytest.raises(tf.errors.InvalidArgumentError, match="/job:worker/task:1"):
        placed(None)
    assert placed(tf.ConfigProto(allow_soft_placement=True))[0]["remote"] == CPU0


def test_log_device_placement_prints_tf1_lines_to_stdout(capsys):
    with tf.device("/cpu:0"):
        y = tf.multiply(tf.constant(2.0, name="x"), 3.0, name="y")
    with tf.Session(config=tf.ConfigProto(log_device_placement=True)) as sess:
        sess.run(y)
        sess.run(y)  # cached plan: printed once
        records = sess.placement(y)
    out = capsys.readouterr().out.splitlines()
    assert out.count(f"y: (Mul): {CPU0}") == 1 and f"x: (Const): {CPU0}" in out
    assert [(r.op.name, r.requested, r.device.name) for r in records][-1] == \
        ("y", "/device:CPU:0", CPU0)


def test_list_devices_and_simulation_switches(monkeypatch):
    assert [d.name for d in tf.config.list_devices()] == [CPU0]
    names = [d.name for d in tf.config.list_devices(gpus())]
    assert names == [CPU0, GPU0, GPU1] and tf.config.is_gpu_simulated(gpus())
    monkeypatch.setenv("TGINTERACTIVE_SIMULATE_GPUS", "1")
    assert [d.device_type for d in tf.config.list_physical_devices()] == ["CPU", "GPU"]
    with tf.Session() as sess:
        assert [d.device_type for d in sess.list_devices()] == ["CPU", "GPU"]
    with pytest.raises(ValueError, match="device_count"):
        local_devices(tf.ConfigProto(device_count={"CPU": -1}))


def test_simulated_gpu_code_runs_unchanged():
    with tf.device("/gpu:0"):
        w = tf.Variable(np.ones(3, np.float32))
        y = tf.reduce_sum(w * 2.0)
    with tf.Session(config=gpus(1)) as sess:
        sess.run(w.initializer)
        assert sess.run(y) == 6.0
        assert {r.device.name for r in sess.placement(y)} == {GPU0}
