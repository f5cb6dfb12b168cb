"""DOT text → SVG, never raising: system Graphviz, then graphviz-pure, then a plain drawing.

    rendered = to_svg('digraph G { a -> b }')
    rendered.svg, rendered.renderer, rendered.note   # note says what was missing, if anything

Renderers are tried in order: "dot" (Graphviz on PATH), "graphviz-pure" (the static `dot`
port that `pip install graphviz-pure` puts next to the Python executable) and "python" (a
simple layered drawing of the DOT that graph views write, with the same titles and classes).
`renderers=` or the environment variable TGINTERACTIVE_RENDERERS ("graphviz-pure,python")
changes the order. Results are cached by DOT text.
"""
import collections
import importlib.metadata
import os
import re
import shutil
import subprocess
import sysconfig
import threading

from ._svg_fallback import INSTALL_HINT, python_svg

__all__ = ["Rendered", "to_svg", "RENDERERS", "ENV_VAR", "clear_cache", "dot_id", "dot_string"]

Rendered = collections.namedtuple("Rendered", "svg renderer note")
RENDERERS = ("dot", "graphviz-pure", "python")
ENV_VAR = "TGINTERACTIVE_RENDERERS"
_CACHE_SIZE = 32
_cache = collections.OrderedDict()
_lock = threading.Lock()


def to_svg(dot_source, renderers=None, timeout=20.0, cache=True):
    """Render `dot_source` with the first renderer that works; never raises.
    Returns Rendered(svg or None, renderer name or "none", note)."""
    try:
        chain = _chain(renderers)
        key = (dot_source, tuple(chain))
        with _lock:
            if cache and key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
        result = _render(dot_source, chain, timeout)
        if cache and result.svg is not None:
            with _lock:
                _cache[key] = result
                while len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
        return result
    except Exception as e:  # noqa: BLE001 - a view must draw something, not raise
        return Rendered(None, "none", f"rendering failed: {type(e).__name__}: {e}")


def clear_cache():
    with _lock:
        _cache.clear()


# ---- DOT quoting: names and labels can never break out of their string -----------------------
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def dot_id(text):
    """A quoted DOT id. Graphviz keeps an id's backslashes literally and passes XML entities
    through to the SVG <title>, so `\\ " & < >` are written as entities."""
    return '"' + (text.replace("&", "&amp;").replace("\\", "&#92;").replace('"', "&quot;")
                  .replace("<", "&lt;").replace(">", "&gt;")) + '"'


def dot_string(text):
    """A quoted DOT label or tooltip: Graphviz resolves entities, then backslash escapes, and
    XML-escapes what it writes; a newline becomes `\\n`, other control characters spaces."""
    text = (str(text).replace("&", "&amp;").replace("\\", "\\\\").replace('"', "&quot;")
            .replace("<", "&lt;").replace(">", "&gt;"))
    return '"' + _CONTROL.sub(" ", text).replace("\n", "\\n") + '"'


def dot_attrs(attrs):
    return " ".join(f"{key}={dot_string(value)}" for key, value in attrs.items())


def _chain(renderers):
    """[(name, executable or None)] in the order to try."""
    if renderers is None:
        renderers = os.environ.get(ENV_VAR) or RENDERERS
    if isinstance(renderers, str):
        renderers = [r.strip() for r in renderers.split(",") if r.strip()]
    finders = {"dot": lambda: shutil.which("dot"), "graphviz-pure": _find_graphviz_pure,
               "python": lambda: None}
    return [(name, finders[name]() if name in finders else None) for name in renderers]


def _render(dot_source, chain, timeout):
    if not isinstance(dot_source, str):
        raise TypeError(f"to_svg() takes DOT text (str), got {type(dot_source).__name__}")
    problems, timed_out = [], False
    for name, exe in chain:
        if name == "python":
            note = "; ".join(problems + [f"drawn without Graphviz: {INSTALL_HINT} for a real "
                                         "layout"])
            return Rendered(python_svg(dot_source), name, note)
        if name not in RENDERERS:
            problems.append(f"unknown renderer {name!r}")
        elif exe is None:
            problems.append(f"{name}: not found")
        elif timed_out:
            problems.append(f"{name}: skipped after a timeout")
        else:
            svg, problem = _run(exe, dot_source, timeout)
            if svg is not None:
                return Rendered(svg, name, "; ".join(problems))
            problems.append(f"{name}: {problem}")
            timed_out = "timed out" in problem
    return Rendered(None, "none", "; ".join(problems + [f"no SVG: {INSTALL_HINT}"]))


def _run(exe, dot_source, timeout):
    """(svg, None) or (None, why)."""
    try:
        done = subprocess.run([exe, "-Tsvg"], input=dot_source.encode("utf-8"),
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:g} s"
    except OSError as e:
        return None, f"could not run ({e.strerror or e})"
    out = done.stdout.decode("utf-8", errors="replace")
    if done.returncode != 0 or "<svg" not in out:
        err = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        return None, f"exit status {done.returncode}: {err[-1] if err else 'no output'}"
    return out, None


def _find_graphviz_pure():
    """graphviz-pure installs one executable, `graphviz-pure`, among the environment's scripts
    (which need not be on PATH when Python is run by its full path)."""
    exe = "graphviz-pure" + (".exe" if os.name == "nt" else "")
    found = shutil.which(exe)
    if found:
        return found
    candidate = os.path.join(sysconfig.get_path("scripts"), exe)
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    try:
        files = importlib.metadata.distribution("graphviz-pure").files or ()
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == exe and os.access(str(f.locate()), os.X_OK):
            return os.path.abspath(str(f.locate()))
    return None
