"""A real `tensorboard` server on loopback for tests, stopped by PID whatever happens."""
import contextlib
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

DEADLINE_S = 60


def _server_url(process, stderr_path):
    while time.monotonic() < process.deadline:
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", stderr_path.read_text())
        if match:
            return f"http://127.0.0.1:{match.group(1)}"
        if process.poll() is not None:
            pytest.fail(f"tensorboard exited ({process.returncode}):\n{stderr_path.read_text()}")
        time.sleep(0.2)
    pytest.fail(f"tensorboard printed no URL within {DEADLINE_S}s:\n{stderr_path.read_text()}")


def _poll(process, url, ready):
    """GET `url` until `ready(body)` holds; fail at the deadline with the last answer."""
    last = None
    while time.monotonic() < process.deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                last = response.read().decode("utf-8")
            if ready(last):
                return last
        except (urllib.error.URLError, OSError, ValueError) as e:
            last = repr(e)
        time.sleep(0.5)
    pytest.fail(f"{url} never answered as expected within {DEADLINE_S}s; last: {last!r:.300}")


@contextlib.contextmanager
def tensorboard_server(logdir, workdir, load_fast="false"):
    """(base URL, poll(route, ready)) of a tensorboard server over `logdir`; the server is
    terminated by PID on leaving, whatever happened."""
    stderr_path = workdir / f"tensorboard-{load_fast}.err"
    with open(stderr_path, "w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir),
             "--host", "127.0.0.1", "--port", "0", "--load_fast", load_fast,
             "--reload_interval", "1"],
            stdout=subprocess.DEVNULL, stderr=err, cwd=str(workdir))
    process.deadline = time.monotonic() + DEADLINE_S
    try:
        base = _server_url(process, stderr_path)
        yield base, lambda route, ready: _poll(process, base + route, ready)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
