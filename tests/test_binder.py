"""The closest local check of the Binder image without Docker: a fresh venv installed the
way repo2docker installs it (`pip install -r binder/requirements.txt` from the repo root)
runs every tutorial top to bottom with nbclient, in a kernel from that venv."""
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_binder_files_follow_repo2docker_conventions():
    req = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
           if line.strip() and not line.startswith("#")]
    assert req == [".[notebook]"]                      # installs this repo; nothing pinned
    assert (ROOT / "binder" / "apt.txt").read_text().split() == ["graphviz"]
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    assert not (ROOT / "binder" / "postBuild").exists()   # ipywidgets 8 needs none


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_fresh_binder_env_runs_every_tutorial(tmp_path):
    assert NOTEBOOKS, "no tutorials in notebooks/"
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    def run(*cmd, cwd=ROOT, timeout=600):
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout)
        assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        return proc.stdout

    # repo2docker installs from a fresh clone: copy the working tree without build products
    # (an in-tree build/ could put stale modules into the wheel) and never write into ROOT.
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
        ".hypothesis", ".benchmarks", ".ipynb_checkpoints"))
    run(sys.executable, "-m", "venv", str(venv))
    py = str(venv / "bin" / "python")
    run(py, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt", "nbclient", cwd=repo)
    where = run(py, "-c", "import tginteractive, ipykernel; print(tginteractive.__file__)",
                cwd=tmp_path)
    assert where.startswith(str(venv)), f"tginteractive imported from {where}"

    out = run(py, str(repo / "scripts" / "run_tutorials.py"), "--out", str(tmp_path / "out"),
              cwd=tmp_path)
    for nb in NOTEBOOKS:
        assert any(line.startswith("ok") and nb.name in line for line in out.splitlines()), out
    summary = re.search(r"^run_tutorials: (\d+) ok, 0 failed$", out, re.M)
    assert summary and int(summary[1]) >= len(NOTEBOOKS), out
