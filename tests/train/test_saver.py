"""tf.train.Saver and checkpoint files: round trips (in one process and across processes),
the `checkpoint` state file, housekeeping, readers, restore errors, bad files and
interrupted saves."""
import io
import json
import os
import pathlib
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import tginteractive as tf
from tginteractive.train import checkpoint_utils

REPO = pathlib.Path(__file__).resolve().parents[2]


def _env():
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _model():
    w = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
    b = tf.Variable(5, name="b")
    return w, b


# ---- round trips --------------------------------------------------------------------------
def test_save_and_restore_round_trip(tmp_path):
    w, b = _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "model"))
        assert path == str(tmp_path / "model")
        assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model.data-00000-of-00001",
                                                "model.index", "model.meta"]
        sess.run([w.assign(tf.zeros([2, 2])), b.assign(0)])
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(w), [[1.0, 2.0], [3.0, 4.0]])
        assert sess.run(b) == 5
    with tf.Session() as other:  # values live per session: restore into a fresh one
        saver.restore(other, path)
        assert other.run(b) == 5


def test_every_dtype_and_strings_round_trip_exactly(tmp_path):
    values = {"f16": np.array([1.5, -2.25], np.float16), "f64": np.array(np.pi),
              "i64": np.array([2 ** 40, -1]), "u8": np.arange(6, dtype=np.uint8).reshape(2, 3),
              "flag": np.array([True, False]), "c64": np.array([1 + 2j], np.complex64),
              "text": np.array([["héllo".encode(), b""], [b"\x00\xff", b"x"]], dtype=object),
              "empty": np.zeros((0, 3), np.float32)}
    variables = {k: tf.Variable(v, name=k) for k, v in values.items()}
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "all"))
    with tf.Session() as sess:
        saver.restore(sess, path)
        for name, v in variables.items():
            got = sess.run(v)
            assert got.dtype == values[name].dtype and got.shape == values[name].shape
            assert got.tolist() == values[name].tolist(), name
    assert tf.train.load_variable(path, "text").tolist() == values["text"].tolist()


def test_var_list_as_dict_list_and_errors():
    w, b = _model()
    saver = tf.train.Saver({"weights": w, "bias": b})
    assert [e[0] for e in saver.saver_def.entries] == ["weights", "bias"]
    assert len(tf.train.Saver([w]).saver_def.entries) == 1
    with pytest.raises(ValueError, match="At least two variables have the same name: w"):
        tf.train.Saver([w, w])
    with pytest.raises(ValueError, match="same saveable will be restored with two names"):
        tf.train.Saver({"a": w, "c": w})
    with pytest.raises(TypeError, match="Variable to save is not a Variable"):
        tf.train.Saver([w.value()])
    with pytest.raises(ValueError, match="If `var_list` is provided then build cannot be"):
        tf.train.Saver([w], defer_build=True)
    tf.reset_default_graph()
    with pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver()


def test_dict_names_are_the_checkpoint_keys(tmp_path):
    w, b = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver({"net/kernel": w}).save(sess, str(tmp_path / "m"))
    assert tf.train.list_variables(path) == [("net/kernel", [2, 2])]
    tf.reset_default_graph()
    k = tf.Variable(tf.zeros([2, 2]), name="other_name")
    with tf.Session() as sess:
        tf.train.Saver({"net/kernel": k}).restore(sess, path)
        assert sess.run(k)[1, 1] == 4.0


def test_global_step_pad_and_return_values(tmp_path):
    w, b = _model()
    step = tf.Variable(7, name="global_step", trainable=False)
    saver = tf.train.Saver(pad_step_number=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        padded = saver.save(sess, str(tmp_path / "m"), global_step=step)
        assert padded == str(tmp_path / "m-00000007")
        assert tf.train.Saver().save(sess, str(tmp_path / "m"), global_step=np.int64(3),
                                     write_meta_graph=False) == str(tmp_path / "m-3")
        assert tf.train.Saver().save(sess, str(tmp_path / "t"), global_step=step + 1,
                                     write_state=False) == str(tmp_path / "t-8")
    assert not (tmp_path / "m-3.meta").exists() and (tmp_path / "t-8.meta").exists()
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "m-3")


def test_save_argument_errors(tmp_path):
    _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value w"):
            saver.save(sess, str(tmp_path / "m"))
        sess.run(tf.global_variables_initializer())
        with pytest.raises(ValueError, match="Parent directory of .* doesn't exist, can't save"):
            saver.save(sess, str(tmp_path / "missing" / "m"))
        with pytest.raises(ValueError, match="'latest_filename' must not contain path"):
            saver.save(sess, str(tmp_path / "m"), latest_filename="a/b")
        with pytest.raises(ValueError, match="'latest_filename' collides with 'save_path'"):
            saver.save(sess, str(tmp_path / "checkpoint"))
        with pytest.raises(TypeError, match="'sess' must be a Session"):
            saver.save(None, str(tmp_path / "m"))
    assert not os.listdir(tmp_path)


def test_allow_empty_defer_build_and_finalized_graph(tmp_path):
    saver = tf.train.Saver(allow_empty=True)
    with tf.Session() as sess:
        assert saver.save(sess, str(tmp_path / "e")) is None
        saver.restore(sess, None)  # an empty saver restores nothing, like TF
    w, b = _model()
    deferred = tf.train.Saver(defer_build=True)
    tf.get_default_graph().finalize()  # nothing below may add ops
    with tf.Session() as sess:
        sess.run([w.initializer, b.initializer])
        with pytest.raises(RuntimeError, match=r"`build\(\)` should be called before save"):
            deferred.save(sess, str(tmp_path / "d"))
    tf.reset_default_graph()
    w, b = _model()
    deferred = tf.train.Saver(defer_build=True)
    deferred.build()
    tf.get_default_graph().finalize()
    with tf.Session() as sess:
        sess.run([w.initializer, b.initializer])
        path = deferred.save(sess, str(tmp_path / "d"))
        deferred.restore(sess, path)


def test_reshape_restores_a_tensor_of_the_same_size(tmp_path):
    w = tf.Variable(np.arange(6.0).reshape(2, 3), name="w")
    with tf.Session() as sess:
        sess.run(w.initializer)
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    tf.reset_default_graph()
    w = tf.Variable(np.zeros((3, 2)), name="w")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="lhs shape= \\[3,2\\]"):
            tf.train.Saver().restore(sess, path)
        tf.train.Saver(reshape=True).restore(sess, path)
        np.testing.assert_array_equal(sess.run(w), np.arange(6.0).reshape(3, 2))


# ---- restore errors ------------------------------------------------------------------------
def _saved(tmp_path):
    w, b = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    tf.reset_default_graph()
    return path


def test_restore_missing_path_errors(tmp_path):
    _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="Can't load save_path when it is None"):
            saver.restore(sess, None)
        with pytest.raises(ValueError, match="The passed save_path is not a valid checkpoint: "):
            saver.restore(sess, str(tmp_path / "nothing"))


def test_restore_names_every_missing_and_mismatched_variable(tmp_path):
    path = _saved(tmp_path)
    w = tf.Variable(tf.zeros([3]), name="w")
    b = tf.Variable(1.0, name="b")
    tf.Variable(0, name="c")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.NotFoundError) as info:
            tf.train.Saver().restore(sess, path)
        text = str(info.value)
        assert "Key c not found in checkpoint" in text and "holds: b, w" in text
        assert "lhs shape= [3] rhs shape= [2,2] (variable 'w'" in text
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            tf.train.Saver([w, b]).restore(sess, path)
        text = str(info.value)
        assert text.startswith("Restoring from checkpoint failed. This is most likely due to "
                               "a mismatch between the current graph")
        assert "Assign requires shapes of both tensors to match. lhs shape= [3] rhs shape= " \
               "[2,2] (variable 'w', checkpoint key 'w')" in text
        assert "tensor_name = b; expected dtype float32 does not equal original dtype int32" \
               in text
        assert sess.run(b) == 1.0  # nothing was written


# ---- the state file, housekeeping ----------------------------------------------------------
def test_state_file_format_and_latest_checkpoint(tmp_path):
    _model()
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        paths = [saver.save(sess, str(tmp_path / "model.ckpt"), global_step=i) for i in range(4)]
        paths.append(saver.save(sess, str(tmp_path / "model.ckpt"), global_step=0))
    assert (tmp_path / "checkpoint").read_text() == (
        f'model_checkpoint_path: "{tmp_path}/model.ckpt-0"\n'
        f'all_model_checkpoint_paths: "{tmp_path}/model.ckpt-3"\n'
        f'all_model_checkpoint_paths: "{tmp_path}/model.ckpt-0"\n')  # what TF 2.21 writes
    assert sorted(os.listdir(tmp_path)) == ["checkpoint"] + [
        f"model.ckpt-{i}.{ext}" for i in (0, 3) for ext in ("data-00000-of-00001", "index",
                                                           "meta")]
    assert saver.last_checkpoints == [paths[3], paths[0]]
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[0]
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == paths[0]
    assert state.all_model_checkpoint_paths == [paths[3], paths[0]]
    assert tf.train.checkpoint_exists(paths[3]) and not tf.train.checkpoint_exists(paths[1])


def test_relative_paths_and_custom_state_file(tmp_path, monkeypatch):
    _model()
    monkeypatch.chdir(tmp_path)
    os.mkdir("run")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.train.Saver().save(sess, "run/m", global_step=1, latest_filename="latest")
        tf.train.Saver(save_relative_paths=True).save(sess, str(tmp_path / "run" / "r"))
    assert (tmp_path / "run" / "latest").read_text() == (
        'model_checkpoint_path: "m-1"\nall_model_checkpoint_paths: "m-1"\n')
    assert (tmp_path / "run" / "checkpoint").read_text().startswith('model_checkpoint_path: "r"')
    assert tf.train.latest_checkpoint("run", "latest") == os.path.join("run", "m-1")
    assert tf.train.latest_checkpoint(str(tmp_path / "run")) == str(tmp_path / "run" / "r")


def test_state_file_parsing_and_bad_state_files(tmp_path):
    (tmp_path / "m.index").write_text("{}")
    weird = str(tmp_path / 'we"ird\\ päth\n')
    checkpoint_utils.update_checkpoint_state(str(tmp_path), weird, [weird])
    assert tf.train.get_checkpoint_state(str(tmp_path)).model_checkpoint_path == weird
    (tmp_path / "checkpoint").write_text(  # TF's text format, timestamps and all
        '# comment\nmodel_checkpoint_path: "m"\nall_model_checkpoint_paths: \'m\'\n'
        "all_model_checkpoint_timestamps: 1700000000.5\nlast_preserved_timestamp: 16e8\n")
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_timestamps == [1700000000.5]
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "m")
    (tmp_path / "checkpoint").write_text("garbage !!")
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text('all_model_checkpoint_paths: "a"\n')
    with pytest.raises(ValueError, match="Invalid checkpoint state loaded from"):
        tf.train.get_checkpoint_state(str(tmp_path))
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "deleted"\n')
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    assert tf.train.latest_checkpoint(str(tmp_path / "nowhere")) is None


def test_max_to_keep_none_keeps_every_file(tmp_path):
    _model()
    saver = tf.train.Saver(max_to_keep=None)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(3):
            last = saver.save(sess, str(tmp_path / "m"), global_step=i, write_meta_graph=False)
    assert len([f for f in os.listdir(tmp_path) if f.endswith(".index")]) == 3
    assert saver.last_checkpoints == []
    assert tf.train.get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths == [last]


class _Clock:
    def __init__(self):
        self.now = 0.0

    def time(self):
        return self.now


def test_keep_checkpoint_every_n_hours(tmp_path, monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(tf.train.saver, "time", clock)
    _model()
    saver = tf.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i, clock.now in enumerate([1000, 2000, 4000, 5000, 6000]):
            saver.save(sess, str(tmp_path / "m"), global_step=i)
    kept = sorted(f[:-6] for f in os.listdir(tmp_path) if f.endswith(".index"))
    assert kept == ["m-2", "m-4"]  # m-2 is the first one older than an hour of training


def test_recover_and_set_last_checkpoints(tmp_path):
    _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = tf.train.Saver(max_to_keep=5)
        paths = [first.save(sess, str(tmp_path / "m"), global_step=i) for i in range(3)]
        saver = tf.train.Saver(max_to_keep=3)
        saver.recover_last_checkpoints(paths + [str(tmp_path / "gone")])
        assert saver.last_checkpoints == paths
        saver.save(sess, str(tmp_path / "m"), global_step=3)
        assert not tf.train.checkpoint_exists(paths[0])
        assert saver.last_checkpoints == paths[1:] + [str(tmp_path / "m-3")]
        saver.set_last_checkpoints_with_time([(paths[2], 1.0)])
        assert saver.last_checkpoints == [paths[2]]


# ---- readers -------------------------------------------------------------------------------
def test_list_variables_load_variable_and_reader(tmp_path):
    path = _saved(tmp_path)
    assert tf.train.list_variables(str(tmp_path)) == [("b", []), ("w", [2, 2])]
    assert tf.train.list_variables(path) == [("b", []), ("w", [2, 2])]
    assert tf.train.load_variable(str(tmp_path), "w:0").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    reader = tf.train.NewCheckpointReader(path)
    assert reader.get_variable_to_dtype_map() == {"w": tf.float32, "b": tf.int32}
    assert reader.has_tensor("b") and not reader.has_tensor("nope")
    assert reader.get_tensor("b") == 5 and b"w (float32) [2, 2]" in reader.debug_string()
    with pytest.raises(tf.errors.NotFoundError, match="Key nope not found in checkpoint"):
        tf.train.load_variable(path, "nope")
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files"):
        tf.train.list_variables(str(tmp_path / "x"))
    os.mkdir(tmp_path / "empty")
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file or checkpoints"):
        tf.train.list_variables(str(tmp_path / "empty"))


# ---- corrupted, truncated and hostile files ------------------------------------------------
def _forge(prefix, data, tensors, sha=None):
    """Write `data` as the data file and an index describing `tensors` (hash matching)."""
    import hashlib
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
        "raw-pickle": (__import__("pickle").dumps(_Marker()), W_ENTRY),
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
    path = _saved(tmp_path)
    pathlib.Path(path + ".index").write_text(index)
    with pytest.raises(tf.errors.DataLossError, match=r"m\.index"):
        tf.train.list_variables(path)


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete"])
def test_truncated_or_damaged_data_file(tmp_path, damage):
    path = _saved(tmp_path)
    data = pathlib.Path(path + ".data-00000-of-00001")
    raw = data.read_bytes()
    if damage == "delete":
        data.unlink()
    else:
        data.write_bytes(raw[:len(raw) // 2] if damage == "truncate" else
                         raw[:-9] + bytes([raw[-9] ^ 1]) + raw[-8:])
    _model()
    with tf.Session() as sess, pytest.raises(tf.errors.DataLossError,
                                             match="m.data-00000-of-00001"):
        tf.train.Saver().restore(sess, path)


# ---- interrupted saves ----------------------------------------------------------------------
@pytest.mark.parametrize("stage", [".data-", ".index", ".meta", "checkpoint."])
def test_exception_inside_the_writer_keeps_the_previous_checkpoint(tmp_path, monkeypatch, stage):
    w, b = _model()
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
                             stderr=subprocess.PIPE, text=True, env=_env())
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


# ---- across processes: save, then continue from a fresh graph or an imported one ----------
TRAINER = r"""
import json, os, sys
import numpy as np
import tginteractive as tf
mode, directory, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
xs = np.linspace(-1, 1, 64, dtype=np.float32).reshape(-1, 1)
ys = (np.sin(3 * xs) + 0.5 * xs).astype(np.float32)

def build():
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float32, [None, 1], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w1 = tf.Variable(tf.random_normal([1, 16], stddev=0.5), name="w1")
    b1 = tf.Variable(tf.zeros([16]), name="b1")
    w2 = tf.Variable(tf.random_normal([16, 1], stddev=0.5), name="w2")
    pred = tf.matmul(tf.tanh(tf.matmul(x, w1) + b1), w2)
    loss = tf.reduce_mean(tf.square(pred - y), name="loss")
    step = tf.Variable(0, name="global_step", trainable=False)
    opt = (tf.train.MomentumOptimizer(0.05, 0.9) if hasattr(tf.train, "MomentumOptimizer")
           else tf.train.GradientDescentOptimizer(0.05))
    opt.minimize(loss, global_step=step)
    tf.add_to_collection("loss", loss)
    return tf.train.Saver()

prefix = os.path.join(directory, "model")
if mode == "import":
    latest = tf.train.latest_checkpoint(directory)
    saver = tf.train.import_meta_graph(latest + ".meta")
else:
    saver = build()
train_op, loss = tf.get_collection("train_op")[0], tf.get_collection("loss")[0]
feed = {"x:0": xs, "y:0": ys}
with tf.Session() as sess:
    if mode in ("fresh", "full"):
        sess.run(tf.global_variables_initializer())
    else:
        saver.restore(sess, tf.train.latest_checkpoint(directory))
    for _ in range(steps):
        sess.run(train_op, feed)
    if mode == "fresh":
        saver.save(sess, prefix, global_step=tf.get_default_graph().get_tensor_by_name(
            "global_step:0"))
    print(json.dumps([float(sess.run(loss, feed)), int(sess.run("global_step:0"))]))
"""


def _train(mode, directory, steps):
    out = subprocess.run([sys.executable, "-c", TRAINER, mode, str(directory), str(steps)],
                         capture_output=True, text=True, env=_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_training_resumes_across_processes_with_the_same_loss(tmp_path):
    first = _train("fresh", tmp_path, 30)
    assert first[1] == 30 and tf.train.latest_checkpoint(str(tmp_path)).endswith("model-30")
    full = _train("full", tmp_path / "unused", 60)
    rebuilt = _train("restore", tmp_path, 30)
    imported = _train("import", tmp_path, 30)
    assert rebuilt[1] == imported[1] == full[1] == 60
    assert rebuilt[0] == full[0] and imported[0] == full[0]  # bit for bit
    assert full[0] < first[0]


def test_import_meta_graph_restores_into_the_imported_graph(tmp_path):
    w, b = _model()
    tf.add(tf.reduce_sum(w), tf.cast(b, tf.float32), name="total")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    plain = tf.train.export_meta_graph()
    tf.reset_default_graph()
    tf.Variable(0.0, name="w")  # an existing "w": the imported one becomes "scoped/w"
    saver = tf.train.import_meta_graph(path + ".meta", import_scope="scoped")
    with tf.Session() as sess:
        saver.restore(sess, path)
        assert sess.run("scoped/total:0") == 15.0
        assert tf.train.list_variables(path) == [("b", []), ("w", [2, 2])]
    tf.reset_default_graph()
    tf.Variable(0.0, name="w")  # no scope: the imported "w" is renamed "w_1", as in TF
    saver = tf.train.import_meta_graph(path + ".meta")
    with tf.Session() as sess:
        saver.restore(sess, path)
        assert sess.run("w_1:0")[1, 1] == 4.0 and sess.run("total:0") == 15.0
    tf.reset_default_graph()  # no saver_def: a new Saver keyed by the meta graph's names
    saver = tf.train.import_meta_graph(plain, import_scope="plain")
    with tf.Session() as sess:
        saver.restore(sess, path)
        assert sess.run("plain/total:0") == 15.0
