"""The views in a real JupyterLab (headless Chromium): the graph view renders as SVG and a click
expands a scope; the live loss plot changes while a training cell runs. The screenshots are
the README's (TG_UPDATE_SCREENSHOTS=1 copies them to docs/screenshots/)."""
import os
import pathlib
import shutil

import nbformat
import pytest

from tests.notebook.browser_harness import Browser, JupyterLabServer, chromium_available

ROOT = pathlib.Path(__file__).resolve().parents[2]
_missing = chromium_available()
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(_missing is not None, reason=f"browser tests: {_missing}")]

def cells(steps, stop=""):
    """The notebook: build a model, draw its graph, train `steps` steps under %%tg_live
    (ending early once the file `stop` exists), then print. The live-plot test stops the
    training after its screenshots, however long the kernel and widgets took to start."""
    return [
        "%load_ext tginteractive\nimport os, time\nimport numpy as np\nimport tginteractive as tf",
        "x = tf.placeholder(tf.float32, [None, 1], name='x')\n"
        "y_ = tf.placeholder(tf.float32, [None, 1], name='y_')\n"
        "with tf.name_scope('layer1'):\n"
        "    W = tf.Variable(tf.zeros([1, 1]), name='W')\n"
        "    b = tf.Variable(tf.zeros([1]), name='b')\n"
        "    y = tf.matmul(x, W) + b\n"
        "with tf.name_scope('loss'):\n"
        "    loss = tf.reduce_mean(tf.square(y - y_))\n"
        "train = tf.train.GradientDescentOptimizer(0.05).minimize(loss)\n"
        "sess = tf.Session(); sess.run(tf.global_variables_initializer())\n"
        "xs = np.linspace(0, 1, 32)[:, None].astype('f'); ys = 3 * xs + 1",
        "%tg_graph",
        f"%%tg_live loss --total {steps}\n"
        f"for step in range({steps}):\n"
        f"    if os.path.exists({stop!r}):\n"
        "        break\n"
        "    sess.run([train, loss], {x: xs, y_: ys})\n"
        "    time.sleep(0.1)",
        "print('done', round(float(sess.run(loss, {x: xs, y_: ys})), 3) >= 0)",
    ]


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    path = pathlib.Path(os.environ.get("TG_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    path.mkdir(parents=True, exist_ok=True)
    yield path
    if os.environ.get("TG_UPDATE_SCREENSHOTS"):
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        for png in path.glob("view-*.png"):
            shutil.copy(png, target / png.name)


@pytest.fixture(scope="module")
def stop_file(tmp_path_factory):
    """Written by the live-plot test once it has its screenshots: training then ends."""
    return tmp_path_factory.mktemp("control") / "stop-training"


@pytest.fixture(scope="module")
def browser(tmp_path_factory, stop_file):
    folder = tmp_path_factory.mktemp("views")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c)
                                         for c in cells(900, str(stop_file))])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, folder / "views.ipynb")
    with JupyterLabServer(folder) as server, Browser(server) as browser:
        browser.open_notebook("views.ipynb")
        browser.run_all(wait=False)
        yield browser


def test_live_plot_changes_while_the_training_cell_runs(browser, shots, stop_file):
    page = browser.page
    plot = browser.notebook_locator().locator(".widget-image").first
    try:
        plot.wait_for(timeout=120_000)
        page.wait_for_timeout(2000)
        first = plot.screenshot(path=str(shots / "view-live-plot-early.png"))
        page.wait_for_timeout(3000)
        second = plot.screenshot(path=str(shots / "view-live-plot-later.png"))
        assert browser.kernel_status() == "busy", "training ended before the second screenshot"
        assert first != second, "the loss plot did not change while training ran"
    finally:
        stop_file.write_text("")  # the training cell ends at its next step
    browser.wait_until_run_finished(timeout=120)
    browser.screenshot(shots / "view-dashboard.png")


def test_graph_view_is_svg_and_a_click_expands_a_scope(browser, shots):
    browser.wait_until_run_finished(timeout=120)
    nb = browser.notebook_locator()
    scope = nb.locator('g.tg-scope[data-tg-scope="layer1"]').first
    scope.wait_for(timeout=30_000)
    assert nb.locator("svg g.node").count() > 0
    assert nb.locator('g.tg-op[data-tg-op="layer1/MatMul"]').count() == 0
    scope.click()
    nb.locator('g.tg-op[data-tg-op="layer1/MatMul"]').first.wait_for(timeout=30_000)
    assert nb.locator('g.tg-cluster[data-tg-scope="layer1"]').count() == 1
    graph = nb.locator('g.tg-cluster[data-tg-scope="layer1"]').first
    graph.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea-output')][1]") \
        .screenshot(path=str(shots / "view-graph.png"))


def test_no_widget_or_js_errors(browser):
    browser.wait_until_run_finished(timeout=120)
    report = browser.check()
    assert report.ok, str(report)
    assert "done True" in browser.notebook_locator().inner_text()


def test_the_views_also_render_in_notebook7(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells(20)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "views7.ipynb")
    with JupyterLabServer(tmp_path) as server, Browser(server) as browser:
        report = browser.run_notebook("views7.ipynb", ui="notebook")
        assert report.ok, str(report)
        nb7 = browser.page
        assert nb7.locator('g.tg-scope[data-tg-scope="layer1"]').count() == 1
        assert nb7.locator(".widget-image").count() >= 1
