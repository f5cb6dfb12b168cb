"""JupyterLab / Notebook 7 in headless Chromium, driven like a user would.

    with JupyterLabServer([ROOT / "notebooks" / "01_hello_graph.ipynb"]) as server, \\
         Browser(server) as browser:
        report = browser.run_notebook("01_hello_graph.ipynb", screenshot="/tmp/01.png")
        assert report.ok, report

        # or step by step, with the Playwright page at hand:
        browser.open_notebook("02_graph_view.ipynb")
        browser.run_all()                               # Run → Run All Cells, then wait
        browser.page.locator("svg g.cluster").first.click()
        browser.screenshot("/tmp/after-click.png")
        report = browser.check()                        # the same checks run_notebook makes

`JupyterLabServer` runs `python -m jupyter lab` on 127.0.0.1 with a random free port and
token, isolated Jupyter config/data/runtime dirs, a temp copy of the given notebooks as
root dir, news and update checks off, and notebook windowing off (every cell stays in the
DOM so the checks see all outputs). `Browser` is Playwright's sync API on the system
Chromium (`/usr/bin/chromium`; never `playwright install`). Both stop only what they started.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# Harmless upstream noise: Notebook 7.6 logs this on every page load.
KNOWN_JS_NOISE = [re.compile(r"Cannot read properties of undefined \(reading 'schema'\)")]

_USER_SETTINGS = {
    # no "Would you like to receive official Jupyter news?" toast, no update check
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    # keep every cell in the DOM (the default windowing detaches off-screen cells)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def chromium_available() -> str | None:
    """None when the browser tests can run, else the reason they cannot."""
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


def _die_with_parent() -> None:
    """In the child (Linux): get SIGTERM if the test process dies without stopping us."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_PLAYWRIGHT = None


def _playwright():
    """The one Playwright driver of this process (the sync API allows only one per thread
    while it runs); each Browser launches its own Chromium from it. Stopped at exit."""
    global _PLAYWRIGHT
    if _PLAYWRIGHT is None:
        import atexit
        from playwright.sync_api import sync_playwright
        _PLAYWRIGHT = sync_playwright().start()
        atexit.register(_PLAYWRIGHT.stop)
    return _PLAYWRIGHT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLabServer:
    """A private `jupyter lab` server whose root dir is a temp copy of `notebooks`: one
    directory (its contents become the root) or a list of files/folders (copied into it)."""

    def __init__(self, notebooks=(), *, python: str = sys.executable, env: dict | None = None,
                 extra_args=(), disabled_extensions=(), startup_timeout: float = 60):
        self._tmp = pathlib.Path(tempfile.mkdtemp(prefix="tg-lab-"))
        self.root_dir = self._tmp / "root"
        skip = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
        if isinstance(notebooks, (str, os.PathLike)) and os.path.isdir(notebooks):
            shutil.copytree(notebooks, self.root_dir, ignore=skip)   # its contents are the root
        else:
            self.root_dir.mkdir()
            for src in map(pathlib.Path, [notebooks] if isinstance(notebooks, (str, os.PathLike))
                           else notebooks):
                if src.is_dir():
                    shutil.copytree(src, self.root_dir / src.name, ignore=skip)
                else:
                    shutil.copy2(src, self.root_dir / src.name)
        self.python, self.extra_args = python, list(extra_args)
        self.startup_timeout = startup_timeout
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self._tmp / "server.log"
        self._env = self._make_env(env)
        if disabled_extensions:     # what `jupyter labextension disable` writes
            labconfig = pathlib.Path(self._env["JUPYTER_CONFIG_DIR"]) / "labconfig"
            labconfig.mkdir()
            (labconfig / "page_config.json").write_text(json.dumps(
                {"disabledExtensions": {name: True for name in disabled_extensions}}))
        self.proc: subprocess.Popen | None = None

    def _make_env(self, extra: dict | None) -> dict:
        dirs = {name: self._tmp / name.lower() for name in
                ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")}
        for path in dirs.values():
            path.mkdir()
        settings = dirs["JUPYTER_CONFIG_DIR"] / "lab" / "user-settings"
        for name, value in _USER_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(value))
        env = dict(os.environ, **{k: str(v) for k, v in dirs.items()})
        env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
        env["JUPYTERLAB_WORKSPACES_DIR"] = str(self._tmp / "workspaces")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        env.pop("JUPYTER_PATH", None)
        env.update(extra or {})
        return env

    def start(self) -> "JupyterLabServer":
        cmd = [self.python, "-m", "jupyter", "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
               "--ServerApp.allow_root=True", f"--ServerApp.root_dir={self.root_dir}",
               "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.expose_app_in_browser=True",
               "--JupyterNotebookApp.expose_app_in_browser=True",
               "--ServerApp.shutdown_no_activity_timeout=0",
               *self.extra_args]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, env=self._env, cwd=self.root_dir, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_die_with_parent)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log()}")
            try:
                self.api("GET", "/api/status")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"jupyter lab did not answer in {self.startup_timeout}s:\n{self.log()}")

    def stop(self) -> None:
        """Stop the server we started (SIGTERM to its process group, by PID), then clean up."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.api("POST", "/api/shutdown")
                self.proc.wait(timeout=10)
            except Exception:
                pass
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "JupyterLabServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def api(self, method: str, path: str, body=None, timeout: float = 10):
        """Call the server's REST API; returns the decoded JSON (or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def lab_url(self, workspace: str = "tg-test") -> str:
        """JupyterLab in a workspace of our own, reset on load (no tabs from earlier pages)."""
        return f"{self.base_url}/lab/workspaces/{workspace}?reset&token={self.token}"

    def url_for(self, path: str = "", ui: str = "lab") -> str:
        """The page URL for a notebook path (relative to root_dir): JupyterLab's
        /lab/tree/<path> or Notebook 7's /notebooks/<path>.

        Browser.open_notebook opens lab notebooks from `lab_url()` with docmanager:open
        instead: after a /lab/tree/ page, every later Notebook 7 page on the same server
        logs "Command 'filebrowser:open-path' not registered" (its file browser restores
        the tree path that JupyterLab's tree route recorded)."""
        quoted = urllib.parse.quote(str(path))
        routes = {"lab": "/lab/tree/", "notebook": "/notebooks/"}
        if ui not in routes:
            raise ValueError(f"ui must be 'lab' or 'notebook', not {ui!r}")
        return f"{self.base_url}{routes[ui]}{quoted}?token={self.token}"

    def shutdown_sessions(self, path: str | None = None) -> int:
        """Delete the sessions (and so shut down the kernels) of `path`, or all; returns how
        many."""
        sessions = [x for x in self.api("GET", "/api/sessions")
                    if path is None or x.get("path") == str(path)]
        for session in sessions:
            self.api("DELETE", f"/api/sessions/{session['id']}")
        return len(sessions)


@dataclass
class Report:
    """What `Browser.check` found on the page; `ok` when it found no problem at all."""
    notebook: str
    ui: str
    errors: list[str] = field(default_factory=list)          # error outputs (ename: evalue...)
    js_errors: list[str] = field(default_factory=list)       # page errors / console errors
    widget_errors: list[str] = field(default_factory=list)   # widget failed / never rendered
    screenshot_png_path: str | None = None
    seconds: float = 0.0
    unexecuted: list[str] = field(default_factory=list)      # non-empty code cells never run
    cells: int = 0                                           # non-empty code cells
    executed: int = 0                                        # ... of which have a count

    @property
    def ok(self) -> bool:
        return not (self.errors or self.js_errors or self.widget_errors or self.unexecuted)

    def __str__(self) -> str:
        lines = [f"{self.notebook} in {self.ui}: {'ok' if self.ok else 'FAILED'} "
                 f"({self.executed}/{self.cells} code cells executed, {self.seconds:.1f}s, "
                 f"screenshot {self.screenshot_png_path})"]
        for title, items in (("error outputs", self.errors), ("JS errors", self.js_errors),
                             ("widget errors", self.widget_errors),
                             ("not executed", self.unexecuted)):
            lines += [f"  {title}:"] + [f"    {x}" for x in items] if items else []
        return "\n".join(lines)


# The current notebook panel, through the app object (expose_app_in_browser).
_PANEL_JS = """const app = window.jupyterapp;
  const panel = app && app.shell && app.shell.currentWidget;
  const session = panel && panel.sessionContext;
  const kernel = session && session.session && session.session.kernel;"""

# Ready: the document at `path` is the current widget, loaded, with its kernel connected
# and idle. (The toolbar indicator alone says "idle" before the kernel even started.)
_READY_JS = """(path) => {
  %s
  return !!(panel && panel.context && panel.context.path === path && panel.context.isReady
            && session.isReady && kernel && kernel.connectionStatus === 'connected'
            && kernel.status === 'idle');
}""" % _PANEL_JS

_KERNEL_STATUS_JS = """() => {
  %s
  if (kernel) return kernel.connectionStatus === 'connected' ? kernel.status
                                                           : kernel.connectionStatus;
  if (app) return '';
  const el = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return el ? (el.getAttribute('data-status') || '') : '';
}""" % _PANEL_JS

# Open a document the way File → Open does (after the app has restored its layout).
_OPEN_JS = """async (path) => {
  const app = window.jupyterapp;
  await app.restored;
  await app.commands.execute('docmanager:open', {path});
}"""

# The notebook element: the current panel's, else the visible one in the DOM.
_NOTEBOOK_NODE_JS = """(panel && panel.content && panel.content.node)
    || document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook')"""

# A summary of every code cell of the current notebook, from the DOM.
_CELLS_JS = """() => {
  %s
  const root = %s;
  if (!root) return [];
  return [...root.querySelectorAll('.jp-CodeCell')].map(cell => {
    const prompt = cell.querySelector('.jp-InputArea-prompt');
    const editor = cell.querySelector('.jp-InputArea-editor .cm-content');
    return {prompt: prompt ? prompt.textContent.trim() : '',
            source: editor ? editor.innerText : ''};
  });
}""" % (_PANEL_JS, _NOTEBOOK_NODE_JS)

# Before starting a run: remember whether any cell prompt ever shows "[*]" (queued or
# running). JupyterLab sets it synchronously when a cell is scheduled, and the observer's
# callback runs before any kernel reply can arrive, so even a very fast run is seen.
_WATCH_BUSY_JS = """() => {
  window.__tgSawBusy = false;
  if (window.__tgBusyObserver) window.__tgBusyObserver.disconnect();
  const check = () => {
    for (const p of document.querySelectorAll('.jp-Notebook .jp-InputArea-prompt'))
      if (p.textContent.trim() === '[*]:') { window.__tgSawBusy = true; return; }
  };
  window.__tgBusyObserver = new MutationObserver(check);
  window.__tgBusyObserver.observe(document.body,
    {subtree: true, childList: true, characterData: true});
}"""

# From the notebook model (exposed by expose_app_in_browser) and its cell widgets: error
# outputs, and widget views rendered as their text/plain fallback (no widget manager).
# null when the app is not exposed.
_MODEL_JS = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell && app.shell.currentWidget;
  const notebook = panel && panel.content;
  const model = notebook && notebook.model;
  if (!model || !model.cells) return null;
  const WIDGET = 'application/vnd.jupyter.widget-view+json';
  const res = {errors: [], widgets: 0, widgetsAsText: []};
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    if (cell.type !== 'code') continue;
    const view = notebook.widgets[i];
    const nodes = view ? [...view.node.querySelectorAll(
      '.jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output')] : [];
    cell.outputs.toJSON().forEach((out, k) => {
      if (out.output_type === 'error') res.errors.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
      if (out.data && out.data[WIDGET]) {
        res.widgets++;
        const node = nodes[k];
        if (node && node.getAttribute('data-mime-type') === 'text/plain')
          res.widgetsAsText.push(`cell ${i} output ${k}: widget shown as text, not rendered`);
      }
    });
  }
  return res;
}"""


class Browser:
    """Headless Chromium on a `JupyterLabServer`. `page` is the Playwright page."""

    def __init__(self, server: JupyterLabServer, *, viewport=(1280, 900),
                 executable_path: str = CHROMIUM, ignore_js=KNOWN_JS_NOISE):
        self.server, self.viewport, self.executable_path = server, viewport, executable_path
        self.ignore_js = list(ignore_js)
        self._browser = self.context = self.page = None
        self.js_errors: list[str] = []
        self.ui = "lab"
        self.notebook: str | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "Browser":
        self._browser = _playwright().chromium.launch(executable_path=self.executable_path,
                                                 headless=True, args=CHROMIUM_ARGS)
        self.new_context()
        return self

    def new_context(self):
        """Replace the browser context (cookies, storage, pages) with a fresh one and open
        `page` in it."""
        if self.context is not None:
            self.context.close()
        self.context = self._browser.new_context(
            viewport={"width": self.viewport[0], "height": self.viewport[1]})
        self.page = self.new_page()
        return self.page

    def new_page(self):
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self._js_error(f"pageerror: {exc}"))
        page.on("console", self._on_console)
        return page

    def stop(self) -> None:
        for closer in (self.context, self._browser):
            try:
                closer and closer.close()
            except Exception:
                pass
        self._browser = self.context = self.page = None

    def __enter__(self) -> "Browser":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _on_console(self, msg) -> None:
        if msg.type == "error":
            self._js_error(f"console.{msg.type}: {msg.text}")

    def _js_error(self, text: str) -> None:
        if not any(p.search(text) for p in self.ignore_js):
            self.js_errors.append(text)

    # -- driving ---------------------------------------------------------------------------
    def open_notebook(self, path: str, ui: str = "lab", timeout: float = 60,
                      fresh: bool = True) -> None:
        """Open `path` (relative to the server's root dir) in `ui` ("lab" or "notebook") and
        wait until the document is loaded and its kernel connected and idle. `fresh` opens
        it in a new browser context (no state from earlier pages; `page` is replaced) with
        a new kernel (an earlier session of `path` is shut down first)."""
        self.ui, self.notebook = ui, str(path)
        if fresh:
            self.server.shutdown_sessions(str(path))
            self.new_context()
        self.js_errors.clear()
        if ui == "lab":
            self.page.goto(self.server.lab_url(), wait_until="domcontentloaded")
            self.page.wait_for_function("() => !!window.jupyterapp", timeout=timeout * 1000)
            self.page.evaluate(_OPEN_JS, str(path))
        else:
            self.page.goto(self.server.url_for(path, ui), wait_until="domcontentloaded")
        self.page.wait_for_function(_READY_JS, arg=str(path), timeout=timeout * 1000,
                                    polling=100)

    def kernel_status(self) -> str:
        """The notebook's kernel status ('idle', 'busy', 'starting', ...; '' if none yet)."""
        return self.page.evaluate(_KERNEL_STATUS_JS)

    def notebook_locator(self):
        """The open notebook's panel, to scope locators: `notebook_locator().locator(...)`."""
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first

    def menu(self, *labels: str) -> None:
        """Click through the main menu, e.g. menu("Run", "Run All Cells")."""
        top, *items = labels
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")) \
            .first.click()
        for label in items:
            self.page.locator(".lm-Menu-itemLabel",
                              has_text=re.compile(f"^{re.escape(label)}$")).first.click()

    def run_all(self, timeout: float = 300, wait: bool = True) -> None:
        """Run → Run All Cells, then (if `wait`) wait until the run is over: no cell queued
        or running ("[*]") and the kernel idle; a run stopped by an error counts as over.
        With wait=False, act on the page while cells run, then `wait_until_run_finished()`."""
        self.page.evaluate(_WATCH_BUSY_JS)
        self.menu("Run", "Run All Cells")
        if wait:
            self.wait_until_run_finished(timeout)

    def cells(self) -> list[dict]:
        """[{'prompt': '[3]:', 'source': ...}] for every code cell in the DOM."""
        return self.page.evaluate(_CELLS_JS)

    def wait_until_run_finished(self, timeout: float = 300, settle: float = 0.5) -> None:
        """After a run was started (with `_WATCH_BUSY_JS` installed before it): wait until a
        cell was seen queued/running, then until none is and the kernel stays idle."""
        deadline = time.monotonic() + timeout
        self.page.wait_for_function("() => window.__tgSawBusy === true",
                                    timeout=min(timeout, 30) * 1000)
        stable_since = None
        while True:
            busy = any(c["prompt"] == "[*]:" for c in self.cells())
            if not busy and self.kernel_status() == "idle":
                stable_since = stable_since or time.monotonic()
                if time.monotonic() - stable_since >= settle:
                    return
            else:
                stable_since = None
            if time.monotonic() > deadline:
                raise TimeoutError(f"run not finished after {timeout}s: "
                                   f"{[c['prompt'] for c in self.cells()]}")
            self.page.wait_for_timeout(100)

    def screenshot(self, path, full: bool = True) -> str:
        """PNG of the page; `full` grows the viewport to the notebook's height first, so the
        whole notebook is in the picture (JupyterLab scrolls inside a panel, not the page)."""
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not full:
            self.page.screenshot(path=str(path))
            return str(path)
        height = self.page.evaluate("""() => {
          const s = document.querySelector(
            '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
          if (!s) return 0;
          s.scrollTop = 0;
          return s.scrollHeight - s.clientHeight;
        }""")
        width, base = self.viewport
        try:
            self.page.set_viewport_size({"width": width, "height": min(base + max(height, 0), 16000)})
            self.page.wait_for_timeout(300)
            self.page.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size({"width": width, "height": base})
        return str(path)

    # -- checking ---------------------------------------------------------------------------
    def check(self, screenshot=None) -> Report:
        """Inspect the page as it is now: error outputs, widget failures, JS errors,
        unexecuted cells; optionally save a screenshot."""
        page = self.page
        report = Report(notebook=self.notebook or "", ui=self.ui)
        cells = self.cells()
        code = [(i, c) for i, c in enumerate(cells) if c["source"].strip()]
        report.cells = len(code)
        report.unexecuted = [f"code cell {i} has prompt {c['prompt']!r}" for i, c in code
                             if not re.fullmatch(r"\[\d+\]:", c["prompt"])]
        report.executed = len(code) - len(report.unexecuted)
        model = page.evaluate(_MODEL_JS)
        report.errors = model["errors"] if model is not None else self._dom_errors()
        report.widget_errors = list(model["widgetsAsText"]) if model is not None else []
        outputs = self.notebook_locator().locator(".jp-OutputArea-output")
        for text in ("Error displaying widget", "Loading widget..."):
            n = outputs.filter(has_text=text).count()
            if n:
                report.widget_errors.append(f"{n} output(s) show {text!r}")
        report.js_errors = list(self.js_errors) + [
            f"output: {t.strip()}" for t in outputs.filter(
                has_text=re.compile(r"^Javascript Error:")).all_inner_texts()]
        if screenshot:
            report.screenshot_png_path = self.screenshot(screenshot)
        return report

    def _dom_errors(self) -> list[str]:
        """Error outputs seen in the DOM: stderr-typed outputs that hold a traceback (an error
        output renders with the stderr mime type; a plain stderr stream, e.g. a warning, too)."""
        texts = self.notebook_locator().locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
        ).all_inner_texts()
        pattern = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b", re.M)
        return [t.strip().splitlines()[-1] for t in texts if pattern.search(t)]

    def run_notebook(self, path: str, ui: str = "lab", screenshot=None,
                     timeout: float = 300) -> Report:
        """Open `path`, Run All Cells, wait, check, screenshot. Never raises on notebook
        errors (they are in the Report); raises TimeoutError if it never finishes."""
        start = time.monotonic()
        self.open_notebook(path, ui, timeout=min(timeout, 60))
        self.run_all(timeout)
        self.page.wait_for_timeout(500)          # let late widget views render
        report = self.check(screenshot)
        report.seconds = time.monotonic() - start
        return report
