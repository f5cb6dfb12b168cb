"""A real IPython kernel for tests, driven the way JupyterLab drives it.

    with Kernel() as k:
        r = k.execute("x = 1\nprint(x)", cell_id="cell-a")
        assert r.stdout == "1\n" and r.ok

        k.execute_async("while True: pass", cell_id="loop")
        k.interrupt()
        r = k.wait(timeout=10)
        assert r.error.ename == "KeyboardInterrupt"

The kernel is an ipykernel subprocess started by jupyter_client over the `ipc` transport
(no TCP "without encryption" warning) with its connection file in a private runtime dir,
the repo root on PYTHONPATH (so `import tginteractive` works without installing), and the
non-interactive matplotlib backend. Execute requests carry `metadata={"cellId": ...}`, as
JupyterLab 4's CodeCell.execute sends them (it merges the cell's metadata, any extra
metadata and `cellId`), so IPython's `pre_run_cell` hook sees `info.cell_id`.
"""
from __future__ import annotations

import json
import os
import pathlib
import queue
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

ROOT = pathlib.Path(__file__).resolve().parents[2]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass
class KernelError:
    ename: str
    evalue: str
    traceback: list[str]          # ANSI escapes stripped

    def __str__(self) -> str:
        return "\n".join(self.traceback) or f"{self.ename}: {self.evalue}"


@dataclass
class Result:
    """What one execute_request produced, collected from iopub until the kernel was idle."""
    msg_id: str
    cell_id: str | None = None
    stdout: str = ""
    stderr: str = ""
    displays: list[dict] = field(default_factory=list)   # mimebundles: display_data + execute_result
    updates: list[dict] = field(default_factory=list)    # update_display_data mimebundles
    result: dict | None = None                           # the execute_result mimebundle, if any
    error: KernelError | None = None
    execution_count: int | None = None
    status: str | None = None                            # execute_reply status: ok/error/aborted
    messages: list[dict] = field(default_factory=list)   # every iopub message, raw

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == "ok"

    def texts(self) -> list[str]:
        """The text/plain of every display and result, in order."""
        return [d.get("text/plain", "") for d in self.displays]

    def raise_for_error(self) -> "Result":
        if self.error is not None:
            raise AssertionError(f"cell {self.cell_id!r} raised:\n{self.error}")
        return self


class Kernel:
    """A real ipykernel. Use as a context manager; `execute` blocks, `execute_async` +
    `wait` let a test interrupt or inspect a running cell."""

    def __init__(self, *, kernel_name: str = "python3", python: str | None = None,
                 env: dict | None = None, cwd: str | os.PathLike | None = None,
                 startup_timeout: float = 60):
        self._tmp = pathlib.Path(tempfile.mkdtemp(prefix="tg-kernel-"))
        self.cwd = str(cwd or self._tmp)
        self.startup_timeout = startup_timeout
        self.km = KernelManager(transport="ipc", kernel_name=kernel_name,
                                connection_file=str(self._tmp / "kernel.json"),
                                kernel_spec_manager=self._spec_manager(kernel_name, python))
        self._env = self._make_env(env)
        self.kc = None
        self._pending: str | None = None
        self._pending_cell: str | None = None

    def _spec_manager(self, name: str, python: str | None) -> KernelSpecManager:
        """A private kernelspec dir holding only `name`, which runs ipykernel from `python`
        (default: this interpreter), whatever kernelspecs the machine has installed."""
        spec_dir = self._tmp / "kernels" / name
        spec_dir.mkdir(parents=True)
        (spec_dir / "kernel.json").write_text(json.dumps({
            "argv": [python or sys.executable, "-m", "ipykernel_launcher",
                     "-f", "{connection_file}"],
            "display_name": f"tg-test ({name})", "language": "python",
            "interrupt_mode": "signal"}))
        return KernelSpecManager(kernel_dirs=[str(spec_dir.parent)],
                                 ensure_native_kernel=False)

    def _make_env(self, extra: dict | None) -> dict:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        env["JUPYTER_RUNTIME_DIR"] = str(self._tmp / "runtime")
        env["IPYTHONDIR"] = str(self._tmp / "ipython")
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        env.update(extra or {})
        return env

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> "Kernel":
        self.km.start_kernel(env=self._env, cwd=self.cwd)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=self.startup_timeout)
        self._drain_iopub()
        return self

    def stop(self) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
        finally:
            self.kc = None
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "Kernel":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        proc = getattr(self.km, "provisioner", None)
        proc = getattr(proc, "process", None)
        return getattr(proc, "pid", None)

    def is_alive(self) -> bool:
        return self.km.is_alive()

    # -- execution -----------------------------------------------------------------------
    def execute(self, code: str, cell_id: str | None = None, timeout: float = 60,
                cell_metadata: dict | None = None, store_history: bool = True) -> Result:
        """Run `code` as cell `cell_id` and return what it produced. Does not raise on a
        Python error in the cell (see `Result.error` / `raise_for_error`)."""
        self.execute_async(code, cell_id, cell_metadata=cell_metadata,
                           store_history=store_history)
        return self.wait(timeout=timeout)

    def execute_async(self, code: str, cell_id: str | None = None,
                      cell_metadata: dict | None = None, store_history: bool = True) -> str:
        """Send the execute_request and return its msg_id without waiting."""
        if self._pending is not None:
            raise RuntimeError("a cell is still running: call wait() first")
        metadata = dict(cell_metadata or {})
        if cell_id is not None:
            metadata["cellId"] = cell_id            # exactly JupyterLab 4's key
        msg = self.kc.session.msg("execute_request", {
            "code": code, "silent": False, "store_history": store_history,
            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        msg["metadata"] = metadata
        self.kc.shell_channel.send(msg)
        self._pending, self._pending_cell = msg["header"]["msg_id"], cell_id
        return self._pending

    def wait(self, timeout: float = 60, msg_id: str | None = None) -> Result:
        """Collect iopub for the pending request until the kernel is idle, then its reply."""
        msg_id = msg_id or self._pending
        if msg_id is None:
            raise RuntimeError("nothing is running")
        res = Result(msg_id=msg_id, cell_id=self._pending_cell)
        deadline = time.monotonic() + timeout
        while True:
            msg = self._get(self.kc.get_iopub_msg, deadline, "iopub idle")
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            res.messages.append(msg)
            if self._collect(res, msg):
                break
        while True:
            reply = self._get(self.kc.get_shell_msg, deadline, "execute_reply")
            if reply["parent_header"].get("msg_id") == msg_id:
                res.status = reply["content"]["status"]
                res.execution_count = reply["content"].get("execution_count",
                                                          res.execution_count)
                break
        self._pending = self._pending_cell = None
        return res

    @staticmethod
    def _get(getter, deadline: float, what: str) -> dict:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"kernel: no {what} before the timeout")
        try:
            return getter(timeout=remaining)
        except queue.Empty:
            raise TimeoutError(f"kernel: no {what} before the timeout") from None

    @staticmethod
    def _collect(res: Result, msg: dict) -> bool:
        """Fold one iopub message into `res`; True once the kernel went idle."""
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status":
            return content["execution_state"] == "idle"
        if kind == "stream":
            name = "stdout" if content["name"] == "stdout" else "stderr"
            setattr(res, name, getattr(res, name) + content["text"])
        elif kind == "display_data":
            res.displays.append(content["data"])
        elif kind == "update_display_data":
            res.updates.append(content["data"])
        elif kind == "execute_result":
            res.displays.append(content["data"])
            res.result = content["data"]
            res.execution_count = content.get("execution_count")
        elif kind == "execute_input":
            res.execution_count = content.get("execution_count")
        elif kind == "error":
            res.error = KernelError(content["ename"], content["evalue"],
                                    [strip_ansi(t) for t in content["traceback"]])
        elif kind == "clear_output":
            res.stdout = res.stderr = ""
            res.displays.clear()
        return False

    def _drain_iopub(self) -> None:
        while True:
            try:
                self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                return

    # -- control ---------------------------------------------------------------------------
    def interrupt(self) -> None:
        """SIGINT the kernel (interrupt_mode "signal"), as JupyterLab's stop button does."""
        self.km.interrupt_kernel()

    def restart(self, timeout: float = 60) -> None:
        """Restart the kernel process (a fresh namespace), as Kernel → Restart does."""
        if self._pending is not None:
            self._pending = self._pending_cell = None
        self.km.restart_kernel(now=True, env=self._env)
        self.kc.wait_for_ready(timeout=timeout)
        self._drain_iopub()
