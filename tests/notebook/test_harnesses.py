"""The test harnesses themselves: a real kernel driven like JupyterLab drives it."""
import pathlib

import pytest

from tests.notebook.kernel_harness import Kernel, strip_ansi


@pytest.fixture(scope="module")
def kernel():
    with Kernel() as k:
        yield k


def test_execute_collects_stdout_stderr_results_and_counts(kernel):
    r = kernel.execute("import sys\nprint('out')\nprint('err', file=sys.stderr)\n6 * 7",
                       cell_id="h-exec")
    assert r.ok, r.error
    assert r.stdout == "out\n" and r.stderr == "err\n"
    assert r.result == {"text/plain": "42"} and r.texts() == ["42"]
    first = r.execution_count
    assert kernel.execute("pass").execution_count == first + 1


def test_display_data_and_errors(kernel):
    r = kernel.execute("from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'))")
    assert r.displays[0]["text/html"] == "<b>x</b>"
    r = kernel.execute("def f():\n    raise ValueError('boom')\nf()")
    assert r.status == "error" and r.error.ename == "ValueError" and r.error.evalue == "boom"
    assert "\x1b[" not in "".join(r.error.traceback)
    assert any("raise ValueError('boom')" in line for line in r.error.traceback)
    with pytest.raises(AssertionError, match="boom"):
        r.raise_for_error()


def test_repo_is_importable_without_install(kernel):
    r = kernel.execute("import tginteractive as tf\n"
                       "with tf.Session() as s: print(s.run(tf.constant(3.0) * 4.0))")
    assert r.ok, r.error
    assert r.stdout == "12.0\n"


def test_cell_id_reaches_ipython_pre_run_cell_hook(kernel):
    setup = kernel.execute(
        "_seen = []\n"
        "def _hook(info):\n"
        "    _seen.append(info.cell_id)\n"
        "get_ipython().events.register('pre_run_cell', _hook)", cell_id="setup-cell")
    assert setup.ok, setup.error
    kernel.execute("1", cell_id="7f3a-cell-b")
    kernel.execute("2")                                   # nbclient-style: no cell id
    r = kernel.execute("get_ipython().events.unregister('pre_run_cell', _hook)\n_seen",
                       cell_id="read-back")
    assert r.ok, r.error
    assert r.result["text/plain"] == "['7f3a-cell-b', None, 'read-back']"


def test_interrupt_a_running_loop_gives_keyboard_interrupt(kernel):
    kernel.execute_async("import time\nprint('started', flush=True)\nwhile True: pass",
                         cell_id="loop")
    import time
    time.sleep(0.5)
    kernel.interrupt()
    r = kernel.wait(timeout=20)
    assert r.stdout == "started\n"
    assert r.error is not None and r.error.ename == "KeyboardInterrupt"
    assert kernel.execute("'alive'").result["text/plain"] == "'alive'"


def test_execute_async_refuses_a_second_cell_while_one_runs(kernel):
    kernel.execute_async("import time; time.sleep(0.2)")
    with pytest.raises(RuntimeError, match="still running"):
        kernel.execute_async("1")
    assert kernel.wait(timeout=10).ok


def test_restart_clears_state():
    with Kernel() as k:
        k.execute("x = 41").raise_for_error()
        assert k.execute("x + 1").result["text/plain"] == "42"
        pid = k.pid
        k.restart()
        assert k.is_alive() and k.pid != pid
        r = k.execute("x")
        assert r.error.ename == "NameError" and r.execution_count == 1


def test_strip_ansi():
    assert strip_ansi("\x1b[0;31mValueError\x1b[0m: x\x1b[?25h") == "ValueError: x"


# -- the browser harness ----------------------------------------------------------------------

def _write_notebook(path, *sources):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    from tests.notebook.browser_harness import Browser, JupyterLabServer, chromium_available
    if chromium_available():
        pytest.skip(f"browser harness: {chromium_available()}")
    d = tmp_path_factory.mktemp("harness-notebooks")
    _write_notebook(d / "mixed.ipynb",
                    "import sys, warnings\nwarnings.warn('only a warning')\n"
                    "print('to stderr', file=sys.stderr)",
                    "import ipywidgets\nipywidgets.IntSlider(3)",
                    "",
                    "raise ValueError('nope')",
                    "print('never runs')")
    _write_notebook(d / "slow.ipynb",
                    "import time\nfor i in range(12):\n    print('step', i, flush=True)\n"
                    "    time.sleep(0.25)")
    _write_notebook(d / "jserror.ipynb",
                    "from IPython.display import HTML\n"
                    "HTML(\"<script>setTimeout(() => { throw new Error('tg-boom') })</script>\")")
    with JupyterLabServer(d) as server, Browser(server) as browser:
        yield browser


@pytest.mark.slow
def test_browser_report_separates_errors_from_warnings_and_renders_widgets(lab, tmp_path):
    report = lab.run_notebook("mixed.ipynb", screenshot=tmp_path / "mixed.png")
    assert report.errors == ["cell 3: ValueError: nope"]
    assert report.unexecuted == ["code cell 4 has prompt '[ ]:'"]
    assert report.widget_errors == [] and report.js_errors == []
    assert (report.cells, report.executed) == (4, 3) and not report.ok
    assert "ValueError" in str(report)
    slider = lab.notebook_locator().locator(".widget-slider")
    assert slider.count() == 1                       # rendered as a widget, not as text
    assert (tmp_path / "mixed.png").read_bytes()[:4] == b"\x89PNG"
    # the DOM fallback (no app object) finds the same error, but not the warning
    assert lab._dom_errors() == ["ValueError: nope"]


@pytest.mark.slow
def test_browser_page_can_be_used_while_a_cell_runs(lab, tmp_path):
    lab.open_notebook("slow.ipynb")
    lab.run_all(wait=False)
    lab.page.wait_for_function("() => document.body.innerText.includes('step 1')")
    first = lab.screenshot(tmp_path / "during.png", full=False)
    assert lab.kernel_status() == "busy"
    lab.wait_until_run_finished(timeout=60)
    last = lab.screenshot(tmp_path / "after.png", full=False)
    assert pathlib.Path(first).read_bytes() != pathlib.Path(last).read_bytes()
    assert "step 11" in lab.notebook_locator().inner_text()
    assert lab.check().ok


@pytest.mark.slow
def test_browser_reports_page_errors(lab):
    report = lab.run_notebook("jserror.ipynb")
    assert report.errors == [] and any("tg-boom" in e for e in report.js_errors), str(report)


@pytest.mark.slow
def test_browser_reports_widgets_shown_as_text_without_the_widget_manager(tmp_path):
    from tests.notebook.browser_harness import Browser, JupyterLabServer, chromium_available
    if chromium_available():
        pytest.skip(f"browser harness: {chromium_available()}")
    _write_notebook(tmp_path / "w.ipynb", "import ipywidgets\nipywidgets.IntSlider(3)")
    with JupyterLabServer([tmp_path / "w.ipynb"],
                          disabled_extensions=["@jupyter-widgets/jupyterlab-manager"]) as server, \
            Browser(server) as browser:
        report = browser.run_notebook("w.ipynb")
    assert report.widget_errors == ["cell 0 output 0: widget shown as text, not rendered"]
