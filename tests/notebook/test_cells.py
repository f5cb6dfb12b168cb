"""Per-cell graph ownership on a real IPython shell (cells run with JupyterLab-style cell ids)."""
import numpy as np
import pytest

pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

import tginteractive as tf  # noqa: E402
from tginteractive.framework import context  # noqa: E402
from tginteractive.summary import writer as writer_module  # noqa: E402


def run(shell, code, cell_id):
    result = shell.run_cell(code, store_history=True, cell_id=cell_id)
    return result


def ok(shell, code, cell_id):
    result = run(shell, code, cell_id)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


def names():
    return [op.name for op in tf.get_default_graph().get_operations()]


MODEL = """
x = tf.placeholder(tf.float32, [None, 2], name="x")
with tf.variable_scope("dense"):
    W = tf.get_variable("W", [2, 1], initializer=tf.ones_initializer())
    b = tf.Variable(tf.zeros([1]), name="b")
y = tf.matmul(x, W) + b
loss = tf.reduce_mean(tf.square(y), name="loss")
tf.summary.scalar("loss", loss)
"""


def test_rerunning_a_cell_keeps_names_and_collections_clean(shell):
    ok(shell, MODEL, "model")
    first = names()
    ok(shell, MODEL, "model")
    ok(shell, MODEL, "model")
    assert names() == first
    assert [v.op.name for v in tf.global_variables()] == ["dense/W", "dense/b"]
    assert len(tf.get_collection(tf.GraphKeys.SUMMARIES)) == 1
    ok(shell, "merged = tf.summary.merge_all()", "merge")
    assert shell.user_ns["merged"].op.inputs[0].op.name == "loss_1"


def test_plain_tf1_behaviour_without_the_extension():
    shell = InteractiveShell.instance()
    context.reset_default_graph()
    shell.run_cell("import tginteractive as tf")
    shell.run_cell("v = tf.Variable(1.0, name='v')", cell_id="c")
    shell.run_cell("v = tf.Variable(1.0, name='v')", cell_id="c")
    assert [v.op.name for v in tf.global_variables()] == ["v", "v_1"]
    context.reset_default_graph()


def test_rerun_keeps_variable_values_in_live_sessions(shell, capsys):
    ok(shell, MODEL, "model")
    ok(shell, "sess = tf.Session(); sess.run(tf.global_variables_initializer())\n"
              "sess.run(tf.assign(W, [[2.0], [3.0]]))", "init")
    capsys.readouterr()
    ok(shell, MODEL, "model")
    assert "kept the values of 2 variable(s)" in capsys.readouterr().out
    value = shell.user_ns["sess"].run(shell.user_ns["y"], {shell.user_ns["x"]: [[1.0, 1.0]]})
    np.testing.assert_allclose(value, [[5.0]])


def test_changed_shape_starts_uninitialised_and_names_the_cell_to_run(shell):
    ok(shell, "v = tf.Variable(tf.zeros([2]), name='v')", "var")
    init_cell = ok(shell, "init = tf.global_variables_initializer()\n"
                          "sess = tf.Session(); sess.run(init)", "init")
    ok(shell, "v = tf.Variable(tf.zeros([3]), name='v')", "var")
    result = run(shell, "sess.run(v)", "use")
    message = str(result.error_in_exec)
    assert isinstance(result.error_in_exec, tf.errors.FailedPreconditionError)
    assert "shape (3,)" in message and "was dropped" in message
    assert f"re-run cell [{init_cell.execution_count}]" in message
    ok(shell, "init = tf.global_variables_initializer()\nsess.run(init)", "init")
    np.testing.assert_array_equal(ok(shell, "sess.run(v)", "use").result, np.zeros(3))


def test_keep_values_switch_reinitialises(shell):
    ok(shell, "v = tf.Variable(1.0, name='v')\nsess = tf.Session()\n"
              "sess.run(tf.global_variables_initializer()); sess.run(tf.assign(v, 7.0))", "a")
    ok(shell, "import tginteractive.notebook\n"
              "tginteractive.notebook.keep_values(False)", "switch")
    ok(shell, "v = tf.Variable(1.0, name='v')", "a")
    result = run(shell, "sess.run(v)", "use")
    assert isinstance(result.error_in_exec, tf.errors.FailedPreconditionError)


def test_stale_references_name_the_cells(shell):
    built = ok(shell, "a = tf.constant(1.0, name='a')", "A")
    user = ok(shell, "b = tf.add(a, 1.0, name='b')", "B")
    ok(shell, "old_a = a", "keep")
    rerun = ok(shell, "a = tf.constant(1.0, name='a')", "A")
    ok(shell, "sess = tf.Session()", "S")
    result = run(shell, "sess.run(b)", "run-b")
    message = str(result.error_in_exec)
    assert f"built by cell [{built.execution_count}]" in message
    assert f"replaced by cell [{rerun.execution_count}]" in message
    assert f"re-run cell [{user.execution_count}]" in message
    result = run(shell, "old_a * 2.0", "construct")
    assert isinstance(result.error_in_exec, ValueError)
    assert "stale" in str(result.error_in_exec)
    ok(shell, "b = tf.add(a, 1.0, name='b')", "B")
    assert ok(shell, "sess.run(b)", "run-b").result == 2.0


def test_edited_cell_replaces_its_old_ops(shell):
    ok(shell, "c = tf.constant(1.0, name='c')\nd = tf.identity(c, name='d')", "E")
    ok(shell, "c = tf.constant(2.0, name='c')", "E")
    assert names() == ["c"]
    ok(shell, "%tg_cell", "report")


def test_tg_reset_closes_interactive_sessions_and_old_sessions_say_why(shell):
    ok(shell, "v = tf.Variable(1.0)\nisess = tf.InteractiveSession()\n"
              "sess = tf.Session()", "a")
    reset = ok(shell, "tf.reset_default_graph()", "reset")
    assert names() == []
    for name in ("isess", "sess"):
        result = run(shell, f"{name}.run(v)", "use")
        assert f"reset in cell [{reset.execution_count}]" in str(result.error_in_exec), name
    ok(shell, "%tg_reset", "reset2")
    ok(shell, "w = tf.Variable(2.0, name='w')\nwith tf.Session() as s:\n"
              "    s.run(w.initializer); r = s.run(w)", "after")
    assert shell.user_ns["r"] == 2.0


def test_reset_inside_a_with_block_keeps_tf1s_error(shell):
    result = run(shell, "with tf.Graph().as_default():\n    tf.reset_default_graph()", "n")
    assert isinstance(result.error_in_exec, AssertionError)


def test_interrupted_construction_leaves_scopes_usable(shell):
    result = run(shell, "with tf.name_scope('outer'), tf.device('/cpu:0'):\n"
                        "    t = tf.constant(1.0, name='t')\n    raise KeyboardInterrupt",
                 "int")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    ok(shell, "u = tf.constant(1.0, name='u')", "after")
    u = shell.user_ns["u"]
    assert u.op.name == "u" and u.op.device == ""


def test_file_writers_of_rerun_cells_replace_each_other(shell, tmp_path):
    code = (f"w = tf.summary.FileWriter({str(tmp_path)!r})\n"
            "w.add_summary(tf.Summary(value=[tf.Summary.Value(tag='x', simple_value=1.0)]), 3)\n")
    ok(shell, code, "w")
    first = shell.user_ns["w"]
    ok(shell, code, "w")
    assert first._closed and not shell.user_ns["w"]._closed
    shell.user_ns["w"].close()
    from tensorboard.backend.event_processing import event_accumulator
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [e.step for e in acc.Scalars("x")] == [3]
    assert writer_module.one_writer_per_logdir[0]


def test_unloading_restores_script_behaviour(shell):
    shell.run_cell("%unload_ext tginteractive")
    assert not writer_module.one_writer_per_logdir[0]
    assert "tg_graph" not in shell.magics_manager.magics["line"]
    shell.run_cell("%load_ext tginteractive")


def test_run_cell_from_inside_a_cell_counts_as_that_cell_and_restores_its_owner(shell):
    inner = "c = tf.constant(1.0, name='c')"
    outer = ok(shell, f"get_ipython().run_cell({inner!r}, cell_id='model')\n"
                      "d = tf.constant(2.0, name='d')", "outer")
    assert shell.user_ns["c"].op.origin == f"cell [{outer.execution_count}]"
    assert shell.user_ns["d"].op.tag == "outer"
    ok(shell, f"get_ipython().run_cell({inner!r}, cell_id='model')\n"
              "d = tf.constant(2.0, name='d')", "outer")
    assert sorted(names()) == ["c", "d"]
