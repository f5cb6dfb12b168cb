"""Import arrows of ARCHITECTURE.md: what each package may import, checked on the source."""
import ast
import pathlib
import subprocess
import sys

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "tginteractive"
ALLOWED = {  # package -> tginteractive packages it may import (besides itself)
    "framework": set(),
    "backends": {"framework"},
    "ops": {"framework"},
    "autodiff": {"framework", "ops"},
    "train": {"framework", "ops", "autodiff"},
    "runtime": {"framework", "backends"},
    "summary": {"framework", "ops"},
    "data": {"framework", "ops"},
}
HEAVY = ["IPython", "ipywidgets", "matplotlib", "graphviz", "cupy"]
SHIM = PACKAGE / "__init__.py"  # load_ipython_extension: imports the notebook layer lazily


def _imports(path):
    """tginteractive sub-packages imported by `path` (relative imports resolved)."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("").parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = rel[:len(rel) - node.level]
                parts = base + tuple((node.module or "").split(".")) if node.module else base
                if not node.module:
                    found.update(base[1:2] or [a.name for a in node.names])
                    continue
            else:
                parts = tuple((node.module or "").split("."))
            if parts[0] == "tginteractive" and len(parts) > 1:
                found.add(parts[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "tginteractive" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_import_arrows_hold():
    problems = []
    for layer, allowed in ALLOWED.items():
        paths = [PACKAGE / f"{layer}.py"] if (PACKAGE / f"{layer}.py").exists() else \
            sorted((PACKAGE / layer).rglob("*.py"))
        for path in paths:
            bad = _imports(path) - allowed - {layer}
            if bad:
                problems.append(f"{path.relative_to(PACKAGE)} imports {sorted(bad)}")
    assert not problems, "\n".join(problems)


def test_nothing_imports_the_notebook_layer():
    for path in PACKAGE.rglob("*.py"):
        if "notebook" not in path.relative_to(PACKAGE).parts and path != SHIM:
            assert "notebook" not in _imports(path), path


def test_the_extension_shim_imports_the_notebook_layer_only_when_called():
    tree = ast.parse(SHIM.read_text())
    top_level = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not any("notebook" in (getattr(n, "module", None) or "") for n in top_level)
    shims = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert {"load_ipython_extension", "unload_ipython_extension"} <= shims


def _loaded_after(statements):
    code = (f"import sys; {statements}; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent)
    return out.stdout.strip()


def test_import_pulls_in_no_heavy_modules():
    assert _loaded_after("import tginteractive as tf; tf.constant(1.0) * 2.0") == "[]"


def test_sessions_load_at_most_cupy_to_discover_gpus():
    loaded = _loaded_after("import tginteractive as tf; tf.Session().close()")
    assert loaded in ("[]", "['cupy']"), loaded
