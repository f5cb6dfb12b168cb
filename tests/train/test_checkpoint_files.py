"""Checkpoint files that are corrupted, truncated or hostile (never unpickled: a DataLossError
naming the file), and saves interrupted by an exception or killed mid-write (the previous
checkpoint stays the latest, intact)."""
import hashlib
import io
import json
import os
import pathlib
import pickle
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import tginteractive as tf
from tginteractive.train import checkpoint_utils
from tests.train.checkpoint_helpers import env, model, saved


# ---- corrupted, truncated and hostile files ------------------------------------------------
def _forge(prefix, data, tensors, sha=None):
    """Write `data` as the data file and an index describing `tensors` (hash matching)."""
    pathlib.Path(prefix + ".data-00000-of-00001").write_bytes(data)
    index = {"format": "tginteractive.checkpoint", "version": 1, "tensors": tensors,
             "data_sha256": sha or hashlib.sha256(data).hexdigest()}
    pathlib.Path(prefix + ".index").write_text(json.dumps(index))


def _npz(members, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for key, raw in members.items():
            zf.writestr(key + ".npy", raw)
    return buf.getvalue()


def _npy(array, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


class _Marker:
    """Unpickling this creates a file: proof that a checkpoint was (wrongly) unpickled."""
    path = None

    def __reduce__(self):
        return (open, (self.path, "w"))


W_ENTRY = {"w": {"key": "t0", "dtype": "float32", "shape": [2], "encoding": "array"}}


def _hostile_cases(tmp_path):
    _Marker.path = str(tmp_path / "UNPICKLED")
    pickled = np.empty(2, dtype=object)
    pickled[:] = [_Marker(), _Marker()]
    huge = io.BytesIO()
    np.lib.format.write_array_header_1_0(huge, {"descr": "<f4", "fortran_order": False,
                                                "shape": (10 ** 12,)})
    good = _npy(np.ones(2, np.float32))
    return {
        "pickled-object-array": (_npz({"t0": _npy(pickled, allow_pickle=True)}), W_ENTRY),
        "pickled-strings": (_npz({"t0": _npy(pickled, allow_pickle=True)}),
                            {"w": dict(W_ENTRY["w"], dtype="string", encoding="strings")}),
        "raw-pickle": (pickle.dumps(_Marker()), W_ENTRY),
        "huge-header": (_npz({"t0": huge.getvalue() + b"\0" * 8}),
                        {"w": dict(W_ENTRY["w"], shape=[10 ** 12])}),
        "wrong-dtype": (_npz({"t0": _npy(np.ones(2, np.float64))}), W_ENTRY),
        "compressed": (_npz({"t0": good}, zipfile.ZIP_DEFLATED), W_ENTRY),
        "missing-member": (_npz({"t1": good}), W_ENTRY),
        "not-a-zip": (b"\x00" * 64, W_ENTRY),
        "bad-checksum": (_npz({"t0": good}), W_ENTRY, "0" * 64),
    }


@pytest.mark.parametrize("case", ["pickled-object-array", "pickled-strings", "raw-pickle",
                                  "huge-header", "wrong-dtype", "compressed", "missing-member",
                                  "not-a-zip", "bad-checksum"])
def test_hostile_data_files_give_data_loss_errors(tmp_path, case):
    data, tensors, *sha = _hostile_cases(tmp_path)[case]
    prefix = str(tmp_path / "evil")
    _forge(prefix, data, tensors, *sha)
    if tensors is W_ENTRY:  # a float32 [2] variable passes restore's name/shape/dtype checks
        w = tf.Variable(tf.zeros([2]), name="w")
        with tf.Session() as sess:
            sess.run(w.initializer)
            with pytest.raises(tf.errors.DataLossError, match=r"evil\.data-00000-of-00001"):
                tf.train.Saver().restore(sess, prefix)
            assert sess.run(w).tolist() == [0.0, 0.0]
    with pytest.raises(tf.errors.DataLossError, match=r"evil\.data-00000-of-00001"):
        tf.train.load_variable(prefix, "w")
    assert not (tmp_path / "UNPICKLED").exists()


@pytest.mark.parametrize("index", [
    "{not json", '{"format": "tginteractive.checkpoint"}', "[]", "",
    json.dumps({"format": "tginteractive.checkpoint", "version": 1, "data_sha256": "0" * 64,
                "tensors": {"w": {"key": "t0", "dtype": "float32", "shape": [-1],
                                  "encoding": "array"}}}),
    json.dumps({"format": "tginteractive.checkpoint", "version": 1, "data_sha256": "0" * 64,
                "tensors": {"w": {"key": "../x", "dtype": "object", "shape": [2],
                                  "encoding": "array"}}}),
], ids=["bad-json", "no-fields", "list", "empty", "negative-dim", "bad-key-dtype"])
def test_bad_index_files_give_data_loss_errors(tmp_path, index):
    path = saved(tmp_path)
    pathlib.Path(path + ".index").write_text(index)
    with pytest.raises(tf.errors.DataLossError, match=r"m\.index"):
        tf.train.list_variables(path)


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete"])
def test_truncated_or_damaged_data_file(tmp_path, damage):
    path = saved(tmp_path)
    data = pathlib.Path(path + ".data-00000-of-00001")
    raw = data.read_bytes()
    if damage == "delete":
        data.unlink()
    else:
        data.write_bytes(raw[:len(raw) // 2] if damage == "truncate" else
                         raw[:-9] + bytes([raw[-9] ^ 1]) + raw[-8:])
    model()
    with tf.Session() as sess, pytest.raises(tf.errors.DataLossError,
                                             match="m.data-00000-of-00001"):
        tf.train.Saver().restore(sess, path)


# ---- interrupted saves ----------------------------------------------------------------------
@pytest.mark.parametrize("stage", [".data-", ".index", ".meta", "checkpoint."])
def test_exception_inside_the_writer_keeps_the_previous_checkpoint(tmp_path, monkeypatch, stage):
    w, b = model()
    saver = tf.train.Saver()
    real = checkpoint_utils._write_bytes

    def failing(f, data):
        if stage in os.path.basename(f.name):
            f.write(data[:len(data) // 2])
            raise OSError(28, "No space left on device")
        real(f, data)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = saver.save(sess, str(tmp_path / "m"), global_step=1)
        same = saver.save(sess, str(tmp_path / "same"))
        sess.run(w.assign(tf.zeros([2, 2])))
        monkeypatch.setattr(checkpoint_utils, "_write_bytes", failing)
        with pytest.raises(OSError, match="No space left"):
            saver.save(sess, str(tmp_path / "m"), global_step=2)
        if stage != "checkpoint.":  # the state file is not rewritten without global_step
            with pytest.raises(OSError):
                saver.save(sess, str(tmp_path / "same"))  # overwriting in place
        monkeypatch.setattr(checkpoint_utils, "_write_bytes", real)
        assert not [f for f in os.listdir(tmp_path) if ".tmp-" in f]
        assert tf.train.latest_checkpoint(str(tmp_path)) in (first, same)
        for path in (first, same):
            saver.restore(sess, path)
            assert sess.run(w)[1, 1] == 4.0
        if stage in (".data-", ".index"):
            assert not tf.train.checkpoint_exists(str(tmp_path / "m-2"))


KILLED_SAVE = r"""
import os, sys, time
import tginteractive as tf
from tginteractive.train import checkpoint_utils
directory, stage, overwrite = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
v = tf.Variable([1.0, 2.0, 3.0], name="v")
saver = tf.train.Saver()
prefix = os.path.join(directory, "model")
step = None if overwrite else 1
with tf.Session() as sess:
    sess.run(v.initializer)
    saver.save(sess, prefix, global_step=step)
    sess.run(v.assign([9.0, 9.0, 9.0]))
    real = checkpoint_utils._write_bytes
    def hang(f, data):
        if stage in os.path.basename(f.name):
            f.write(data[:len(data) // 2]); f.flush(); os.fsync(f.fileno())
            print("HANGING", flush=True)
            time.sleep(120)
        real(f, data)
    checkpoint_utils._write_bytes = hang
    saver.save(sess, prefix, global_step=None if overwrite else 2)
print("NOT KILLED", flush=True)
"""


@pytest.mark.parametrize("stage,overwrite", [(".data-", False), (".index", False),
                                             (".meta", False), ("checkpoint.", False),
                                             (".data-", True), (".index", True)])
def test_save_killed_mid_write_keeps_the_previous_checkpoint(tmp_path, stage, overwrite):
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(tmp_path), stage,
                              "1" if overwrite else "0"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env())
    try:
        line = child.stdout.readline()
        assert line == "HANGING\n", line + child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    expected = str(tmp_path / ("model" if overwrite else "model-1"))
    assert tf.train.latest_checkpoint(str(tmp_path)) == expected
    assert any(".tmp-" in f for f in os.listdir(tmp_path))  # the half-written temporary
    v = tf.Variable(tf.zeros([3]), name="v")
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, expected)
        assert sess.run(v).tolist() == [1.0, 2.0, 3.0]
    if stage in (".data-", ".index") and not overwrite:
        assert not tf.train.checkpoint_exists(str(tmp_path / "model-2"))
