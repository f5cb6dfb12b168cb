"""Every tutorial runs in JupyterLab in a real (headless) Chromium without an error output,
a broken widget or a JS error; 01 also in the Notebook 7 UI. Screenshots go to the
directory in $TG_SCREENSHOTS (default: a pytest temp dir).

Skipped only where /usr/bin/chromium or playwright is missing (.ci/run installs both).
"""
import os
import pathlib

import pytest

from tests.notebook.browser_harness import Browser, JupyterLabServer, chromium_available

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
_missing = chromium_available()

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(_missing is not None, reason=f"browser tests: {_missing}")]


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    path = pathlib.Path(os.environ.get("TG_SCREENSHOTS") or
                        tmp_path_factory.mktemp("screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser():
    with JupyterLabServer(ROOT / "notebooks") as server, Browser(server) as browser:
        yield browser


def _assert_clean(report, png):
    assert report.ok, str(report)
    assert report.cells > 0 and report.executed == report.cells, str(report)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_tutorial_runs_in_jupyterlab(browser, screenshots, notebook):
    png = screenshots / f"{notebook.stem}-lab.png"
    report = browser.run_notebook(notebook.name, ui="lab", screenshot=png)
    _assert_clean(report, png)


def test_first_tutorial_runs_in_notebook7(browser, screenshots):
    notebook = NOTEBOOKS[0]
    png = screenshots / f"{notebook.stem}-notebook7.png"
    report = browser.run_notebook(notebook.name, ui="notebook", screenshot=png)
    _assert_clean(report, png)
