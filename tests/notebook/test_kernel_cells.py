"""Per-cell behaviour in a real kernel, driven with cell ids exactly as JupyterLab sends them."""
import time

import pytest

pytest.importorskip("jupyter_client")
from .kernel_harness import Kernel  # noqa: E402

MODEL = """
x = tf.placeholder(tf.float32, [None, 1], name="x")
y_ = tf.placeholder(tf.float32, [None, 1], name="y_")
with tf.variable_scope("linear"):
    W = tf.get_variable("W", [1, 1], initializer=tf.zeros_initializer())
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
y = tf.matmul(x, W) + b
loss = tf.reduce_mean(tf.square(y - y_), name="loss")
tf.summary.scalar("loss", loss)
train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
"""
DATA = "import numpy as np\nxs = np.linspace(0, 1, 20)[:, None].astype('f')\nys = 3 * xs + 1\n"


@pytest.fixture(scope="module")
def kernel():
    with Kernel() as k:
        yield k


def fresh(k):
    k.execute("%load_ext tginteractive\nimport tginteractive as tf\n%tg_reset",
              cell_id="setup").raise_for_error()
    k.execute(DATA, cell_id="data").raise_for_error()


def value(k, expr, cell_id="probe"):
    r = k.execute(f"print(repr({expr}))", cell_id=cell_id).raise_for_error()
    return r.stdout.strip()


def test_rerunning_cells_keeps_names_collections_and_merge_all_clean(kernel):
    fresh(kernel)
    names = []
    for _ in range(3):
        kernel.execute(MODEL, cell_id="model").raise_for_error()
        kernel.execute("merged = tf.summary.merge_all()", cell_id="merge").raise_for_error()
        names.append(value(kernel, "[op.name for op in tf.get_default_graph().get_operations()]"))
    assert names[0] == names[1] == names[2]
    assert "'loss_1'" in names[0] and "'loss_2'" not in names[0] and "W_1" not in names[0]
    assert value(kernel, "[v.op.name for v in tf.global_variables()]") == \
        "['linear/W', 'linear/b']"
    assert value(kernel, "len(tf.get_collection(tf.GraphKeys.SUMMARIES))") == "1"
    kernel.execute("sess = tf.Session(); sess.run(tf.global_variables_initializer())\n"
                   "s = sess.run(merged, {x: xs, y_: ys})", cell_id="run").raise_for_error()


def test_variable_values_survive_a_model_cell_rerun(kernel):
    fresh(kernel)
    kernel.execute(MODEL, cell_id="model").raise_for_error()
    kernel.execute("sess = tf.Session(); sess.run(tf.global_variables_initializer())",
                   cell_id="init").raise_for_error()
    kernel.execute("for _ in range(200): sess.run(train, {x: xs, y_: ys})",
                   cell_id="train").raise_for_error()
    trained = float(value(kernel, "float(sess.run(loss, {x: xs, y_: ys}))"))
    rerun = kernel.execute(MODEL, cell_id="model").raise_for_error()
    assert "kept the values of 2 variable(s)" in rerun.stdout
    assert "linear/W, linear/b" in rerun.stdout
    assert float(value(kernel, "float(sess.run(loss, {x: xs, y_: ys}))")) == trained
    kernel.execute("for _ in range(10): sess.run(train, {x: xs, y_: ys})",
                   cell_id="train").raise_for_error()
    assert float(value(kernel, "float(sess.run(loss, {x: xs, y_: ys}))")) < trained


def test_stale_reference_error_names_the_cells(kernel):
    fresh(kernel)
    built = kernel.execute("a = tf.constant(2.0, name='a')", cell_id="A")
    user = kernel.execute("b = tf.multiply(a, 3.0, name='b')", cell_id="B")
    rerun = kernel.execute("a = tf.constant(5.0, name='a')", cell_id="A")
    r = kernel.execute("sess = tf.Session(); sess.run(b)", cell_id="C")
    assert r.error.ename == "FailedPreconditionError"
    assert f"built by cell [{built.execution_count}]" in r.error.evalue
    assert f"replaced by cell [{rerun.execution_count}]" in r.error.evalue
    assert f"re-run cell [{user.execution_count}]" in r.error.evalue
    kernel.execute("b = tf.multiply(a, 3.0, name='b')", cell_id="B").raise_for_error()
    assert value(kernel, "float(sess.run(b))") == "15.0"


def test_an_edited_cell_replaces_what_it_built(kernel):
    fresh(kernel)
    kernel.execute("h = tf.Variable(tf.zeros([3, 4]), name='h')", cell_id="E").raise_for_error()
    kernel.execute("h = tf.Variable(tf.zeros([3, 8]), name='h')", cell_id="E").raise_for_error()
    assert value(kernel, "[v.shape.as_list() for v in tf.global_variables()]") == "[[3, 8]]"


def test_tg_reset_and_old_sessions(kernel):
    fresh(kernel)
    kernel.execute("v = tf.Variable(1.0, name='v')\nsess = tf.InteractiveSession()\n"
                   "v.initializer.run()", cell_id="a").raise_for_error()
    reset = kernel.execute("%tg_reset", cell_id="reset").raise_for_error()
    r = kernel.execute("sess.run(v)", cell_id="use")
    assert f"reset in cell [{reset.execution_count}]" in r.error.evalue
    kernel.execute("v = tf.Variable(1.0, name='v')\nsess = tf.InteractiveSession()\n"
                   "v.initializer.run()", cell_id="a").raise_for_error()
    assert value(kernel, "float(v.eval())") == "1.0"
    kernel.execute("sess.close()", cell_id="close").raise_for_error()


def test_interrupting_a_training_loop_leaves_everything_usable(kernel):
    fresh(kernel)
    kernel.execute(MODEL, cell_id="model").raise_for_error()
    kernel.execute("sess = tf.Session(); sess.run(tf.global_variables_initializer())\n"
                   "steps = 0", cell_id="init").raise_for_error()
    kernel.execute_async("with tf.name_scope('loop'), tf.device('/cpu:0'):\n"
                         "    while True:\n"
                         "        sess.run(train, {x: xs, y_: ys}); steps += 1",
                         cell_id="train")
    time.sleep(1.0)
    kernel.interrupt()
    r = kernel.wait(timeout=30)
    assert r.error is not None and r.error.ename == "KeyboardInterrupt"
    assert int(value(kernel, "steps")) > 0
    assert value(kernel, "tf.get_default_graph().get_name_scope()") == "''"
    assert value(kernel, "tf.constant(1.0, name='after').op.device") == "''"
    before = int(value(kernel, "steps"))
    kernel.execute("sess.run(train, {x: xs, y_: ys}); steps += 1",
                   cell_id="train2").raise_for_error()
    assert int(value(kernel, "steps")) == before + 1


def test_kernel_restart_then_checkpoint_restore(kernel, tmp_path):
    fresh(kernel)
    kernel.execute(MODEL, cell_id="model").raise_for_error()
    kernel.execute("sess = tf.Session(); sess.run(tf.global_variables_initializer())\n"
                   "for _ in range(100): sess.run(train, {x: xs, y_: ys})\n"
                   f"saver = tf.train.Saver(); path = saver.save(sess, {str(tmp_path / 'm')!r})",
                   cell_id="train").raise_for_error()
    trained = value(kernel, "sess.run(W).tolist()")
    kernel.restart()
    assert "NameError" in kernel.execute("sess", cell_id="gone").error.ename
    fresh(kernel)
    kernel.execute(MODEL, cell_id="model").raise_for_error()
    kernel.execute("sess = tf.Session(); saver = tf.train.Saver()\n"
                   f"saver.restore(sess, tf.train.latest_checkpoint({str(tmp_path)!r}))",
                   cell_id="restore").raise_for_error()
    assert value(kernel, "sess.run(W).tolist()") == trained


def test_errors_say_which_cell_and_line_built_the_failing_op(kernel):
    fresh(kernel)
    built = kernel.execute("x = tf.placeholder(tf.float32, [None], name='x')\n"
                           "y = tf.reshape(x, [3], name='bad_reshape')", cell_id="model")
    r = kernel.execute("tf.Session().run(y, {x: [1.0, 2.0]})", cell_id="run")
    assert r.error.ename == "InvalidArgumentError"
    assert f"defined at cell [{built.execution_count}], line 2" in r.error.evalue
