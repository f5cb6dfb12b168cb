"""The magics on a real IPython shell: what they display, and UsageError on bad arguments."""
import numpy as np
import pytest

pytest.importorskip("IPython")
pytest.importorskip("anywidget")
from IPython.core.error import UsageError  # noqa: E402

import tginteractive as tf  # noqa: E402

MODEL = """
x = tf.placeholder(tf.float32, [None, 2], name="x")
y_ = tf.placeholder(tf.float32, [None, 1], name="y_")
with tf.name_scope("layer1"):
    W = tf.Variable(tf.ones([2, 1]), name="W")
    y = tf.matmul(x, W)
with tf.name_scope("loss"):
    loss = tf.reduce_mean(tf.square(y - y_))
tf.summary.scalar("mse", loss)
train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
"""


def magic(shell, line, cell=None):
    name, _, rest = line.partition(" ")
    if cell is not None:
        return shell.run_cell_magic(name, rest, cell)
    return shell.run_line_magic(name, rest)


def cell(shell, code, cell_id):
    result = shell.run_cell(code, store_history=True, cell_id=cell_id)
    assert result.success, result.error_in_exec
    return result


def test_tg_graph_shows_the_default_graph_collapsed_and_a_scope(shell):
    cell(shell, MODEL, "model")
    view = magic(shell, "tg_graph")
    assert repr(view).startswith("GraphView: ")
    assert "collapsed (depth 1)" in repr(view)
    assert 'data-tg-scope' not in view.svg and "scope:layer1" in view.svg
    scoped = magic(shell, "tg_graph layer1 --depth 2 --color device")
    assert "layer1/MatMul" in scoped.svg
    assert "colour=device" in repr(scoped)
    assert "loss/Mean" in magic(shell, "tg_graph loss --depth 3").svg


def test_tg_graph_diff_marks_what_the_last_cell_changed(shell):
    cell(shell, "a = tf.constant(1.0, name='a')\nb = tf.identity(a, name='b')", "c")
    cell(shell, "a = tf.constant(1.0, name='a')\nc = tf.negative(a, name='c')", "c")
    added, removed, _ = shell.magics_manager.registry["TgMagics"].extension.cells.diff()
    assert added == {"c"} and removed == {"b"}
    assert "colour=type" in repr(magic(shell, "tg_graph --diff"))


@pytest.mark.parametrize("line, message", [
    ("tg_graph --depth -1", "--depth"),
    ("tg_graph --color rainbow", "invalid choice"),
    ("tg_graph nosuchthing", "neither a variable"),
    ("tg_graph --bogus", "unrecognized"),
    ("tg_devices extra", "no arguments"),
    ("tg_reset now", "no arguments"),
    ("tg_cell --keep-values maybe", "invalid choice"),
    ("tg_board /no/such/logdir", "does not exist"),
])
def test_bad_arguments_raise_usage_errors(shell, line, message):
    cell(shell, MODEL, "model")
    with pytest.raises(UsageError, match=message):
        magic(shell, line)


def test_magics_have_help(shell):
    for name in ("tg_graph", "tg_devices", "tg_placement", "tg_reset", "tg_cell", "tg_board"):
        doc = shell.find_line_magic(name).__doc__
        assert doc and doc.strip(), name
    assert "live dashboard" in shell.find_cell_magic("tg_live").__doc__
    assert "--depth" in shell.find_line_magic("tg_graph").__doc__


def test_tg_devices_lists_virtual_and_simulated_devices(shell):
    text = repr(magic(shell, "tg_devices"))
    assert "/job:localhost/replica:0/task:0/device:CPU:0" in text
    cell(shell, "sess = tf.Session(config=tf.ConfigProto(device_count={'GPU': 2}, "
                "simulate_gpus=True))\nsess.__enter__()", "s")
    text = repr(magic(shell, "tg_devices"))
    assert text.count("simulated on the CPU") == 2 and "GPU:1" in text
    shell.run_cell("sess.__exit__(None, None, None)")


def test_tg_cell_reports_what_the_cell_owns(shell):
    cell(shell, MODEL, "model")
    text = repr(magic(shell, "tg_cell"))
    assert "owns" in text and "layer1/W" in text and "keep values" in text
    cell(shell, "%tg_cell --keep-values no", "switch")
    assert shell.magics_manager.registry["TgMagics"].extension.cells.keep_values is False


def test_tg_reset_gives_an_empty_graph(shell, capsys):
    cell(shell, MODEL, "model")
    magic(shell, "tg_reset")
    assert tf.get_default_graph().get_operations() == []
    assert "new, empty default graph" in capsys.readouterr().out


def test_tg_board_reads_event_files(shell, tmp_path):
    cell(shell, MODEL, "model")
    cell(shell, "sess = tf.Session(); sess.run(tf.global_variables_initializer())\n"
                f"w = tf.summary.FileWriter({str(tmp_path / 'run1')!r})\n"
                "merged = tf.summary.merge_all()\n"
                "for i in range(5):\n"
                "    w.add_summary(sess.run(merged, {x: np.ones((4, 2)), y_: np.zeros((4, 1))}),"
                " i)\nw.close()", "train")
    board = magic(shell, f"tg_board {tmp_path}")
    assert "scalar mse" in board.text() and "5 points" in board.text()
    np.testing.assert_allclose(board.scalars["mse"]["run1"].values[0], 4.0)


TRAIN = ("sess = tf.Session(); sess.run(tf.global_variables_initializer())\n"
         "xs, ys = np.ones((4, 2), 'f'), np.zeros((4, 1), 'f')\n")


def test_tg_placement_dry_run_lists_the_placeholders_it_needs(shell):
    cell(shell, MODEL, "model")
    cell(shell, "sess = tf.Session()", "s")
    view = magic(shell, "tg_placement train")
    text = repr(view)
    assert "planned (not run)" in text and "x" in view.placeholders and "y_" in view.placeholders
    with pytest.raises(UsageError, match="has not run anything"):
        magic(shell, "tg_placement")


def test_tg_placement_after_a_run_shows_the_run(shell):
    cell(shell, MODEL, "model")
    cell(shell, TRAIN + "sess.run(train, {x: xs, y_: ys})", "run")
    text = repr(magic(shell, "tg_placement"))
    assert "planned" not in text and "CPU:0" in text


def test_tg_live_plots_watched_tensors_and_summary_tags(shell):
    cell(shell, MODEL, "model")
    cell(shell, TRAIN + "merged = tf.summary.merge_all()", "init")
    body = ("losses = []\nfor i in range(20):\n"
            "    losses.append(sess.run([train, loss, merged], {x: xs, y_: ys})[1])\n")
    result = shell.run_cell("%%tg_live loss mse --total 20\n" + body, cell_id="live")
    assert result.success, result.error_in_exec
    dash = shell.magics_manager.registry["TgMagics"].extension.dashboard
    assert dash.closed and dash.runs == 20
    steps, values = dash.plot.history.series("loss")
    np.testing.assert_allclose(values, shell.user_ns["losses"], rtol=1e-6)
    assert len(dash.plot.history.series("mse")[1]) == 20
    assert "loss" in repr(dash)


def test_tg_live_turns_to_an_error_state_when_the_cell_fails(shell):
    from tginteractive.runtime import run_events
    cell(shell, MODEL, "model")
    cell(shell, TRAIN, "init")
    result = shell.run_cell("%%tg_live loss\nsess.run(loss, {x: xs, y_: ys})\n"
                            "raise KeyboardInterrupt", cell_id="live")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert not run_events.has_subscribers()


def test_tensorboards_own_magic_works_alongside(shell):
    pytest.importorskip("tensorboard")
    cell(shell, "%load_ext tensorboard", "tb")
    assert "tensorboard" in shell.magics_manager.magics["line"]
    assert "tg_board" in shell.magics_manager.magics["line"]
