"""scripts/setup.sh, the main command: headless, it runs every tutorial and reports;
otherwise it opens JupyterLab on notebooks/ (bound to 127.0.0.1)."""
import json
import os
import pathlib
import re
import signal
import subprocess
import time
import urllib.request

import nbformat
import pytest

from tests.notebook.browser_harness import free_port

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SETUP = str(ROOT / "scripts" / "setup.sh")

pytestmark = pytest.mark.slow


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["TG_SETUP_NO_APT"] = "1"          # the test never changes the machine
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(tmp_path / name.lower())
    return env


def _setup(tmp_path, *args, timeout=600):
    return subprocess.run(["bash", SETUP, *args], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=timeout)


def test_help():
    proc = subprocess.run(["bash", SETUP, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--headless" in proc.stdout


def test_headless_runs_every_tutorial_and_reports(tmp_path):
    proc = _setup(tmp_path, "--headless", "--out", "out")      # --out: relative to the caller
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for nb in NOTEBOOKS:
        line = next(x for x in lines if nb.name in x and not x.startswith("run_tutorials"))
        assert line.split()[0] == "ok" and line.split()[2].endswith("s"), line
        executed = nbformat.read(tmp_path / "out" / "notebooks" / nb.name, as_version=4)
        assert all(c.execution_count for c in executed.cells
                   if c.cell_type == "code" and c.source.strip())
    summary = re.search(r"^run_tutorials: (\d+) ok, 0 failed$", proc.stdout, re.M)
    assert summary and int(summary[1]) >= len(NOTEBOOKS), proc.stdout


def test_headless_exits_nonzero_and_names_the_first_error(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("raise ValueError('nope')"),
                                         nbformat.v4.new_code_cell("print('unreached')")])
    nbformat.write(nb, tmp_path / "broken.ipynb")
    proc = _setup(tmp_path, "--headless", "--out", "out", "broken.ipynb")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED broken.ipynb" in proc.stdout
    assert "first error: cell 1: ValueError: nope" in proc.stdout
    assert "run_tutorials: 0 ok, 1 failed" in proc.stdout


def test_setup_opens_jupyterlab_on_the_tutorials(tmp_path):
    port, token = free_port(), "tg-setup-test"
    log = open(tmp_path / "lab.log", "wb")
    proc = subprocess.Popen(["bash", SETUP, f"--port={port}", "--no-browser",
                             f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0"],
                            cwd=tmp_path, env=_env(tmp_path), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "lab.log").read_text()
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/api/contents",
                                             headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(req, timeout=5) as resp:
                    listing = json.load(resp)
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "lab.log").read_text()
                time.sleep(0.3)
        names = {item["name"] for item in listing["content"]}
        assert {nb.name for nb in NOTEBOOKS} <= names       # the root is notebooks/
        assert "pyproject.toml" not in names
        text = (tmp_path / "lab.log").read_text()
        assert f"http://127.0.0.1:{port}/lab" in text       # bound to loopback by default
    finally:
        os.killpg(proc.pid, signal.SIGTERM)                 # jupyter lab: setup.sh exec'd it
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
