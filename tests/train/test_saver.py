"""tf.train.Saver: round trips in one process, variable lists, restore errors, the
`checkpoint` state file, housekeeping and readers. Damaged files and interrupted saves:
test_checkpoint_files.py; across processes: test_saver_processes.py."""
import os

import numpy as np
import pytest

import tginteractive as tf
from tginteractive.train import checkpoint_utils
from tests.train.checkpoint_helpers import model, saved


# ---- round trips --------------------------------------------------------------------------
def test_save_and_restore_round_trip(tmp_path):
    w, b = model()
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
    w, b = model()
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
    w, b = model()
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
    w, b = model()
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
    model()
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
    w, b = model()
    deferred = tf.train.Saver(defer_build=True)
    tf.get_default_graph().finalize()  # nothing below may add ops
    with tf.Session() as sess:
        sess.run([w.initializer, b.initializer])
        with pytest.raises(RuntimeError, match=r"`build\(\)` should be called before save"):
            deferred.save(sess, str(tmp_path / "d"))
    tf.reset_default_graph()
    w, b = model()
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
def test_restore_missing_path_errors(tmp_path):
    model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="Can't load save_path when it is None"):
            saver.restore(sess, None)
        with pytest.raises(ValueError, match="The passed save_path is not a valid checkpoint: "):
            saver.restore(sess, str(tmp_path / "nothing"))


def test_restore_names_every_missing_and_mismatched_variable(tmp_path):
    path = saved(tmp_path)
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
    model()
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
    model()
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
    model()
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
    model()
    saver = tf.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i, clock.now in enumerate([1000, 2000, 4000, 5000, 6000]):
            saver.save(sess, str(tmp_path / "m"), global_step=i)
    kept = sorted(f[:-6] for f in os.listdir(tmp_path) if f.endswith(".index"))
    assert kept == ["m-2", "m-4"]  # m-2 is the first one older than an hour of training


def test_recover_and_set_last_checkpoints(tmp_path):
    model()
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
    path = saved(tmp_path)
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


# ---- meta graphs beside checkpoints ---------------------------------------------------------
def test_import_meta_graph_restores_into_the_imported_graph(tmp_path):
    w, b = model()
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
