"""GPU tests: everything under tests/gpu/ needs CuPy and at least one CUDA device.

Without them (`tginteractive.backends.gpu_count() == 0`) every test collected here is marked
skipped, with the reason, so `pytest tests` stays green on any machine. Every test here also
gets the `gpu` marker, so `pytest -m gpu` selects it. New GPU test files can simply be
dropped into this directory; they must still *import* without CuPy (use the `cupy` fixture,
or import CuPy inside tests), because tests/ops/test_registry.py imports every test module
to collect SPECS, and a module-level `pytest.importorskip("cupy")` would skip those tests.

Fixtures: `cupy` (the module), `gpu` (the CupyBackend of GPU 0), `two_gpus` (backends of
GPUs 0 and 1, skipped with fewer than two). `gpu_report` collects lines that are printed in
pytest's terminal summary (e.g. op types a test skipped, and why).
"""
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPORT = {}  # section title -> lines, printed after the run


def gpu_count():
    try:
        from tginteractive.backends import gpu_count as count
        return count()
    except Exception:  # noqa: BLE001 - whatever breaks here means "no usable GPU"
        return 0


def _skip_reason():
    try:
        import cupy  # noqa: F401
    except Exception as e:  # noqa: BLE001
        return f"needs CuPy (pip install cupy-cuda12x): {type(e).__name__}: {e}"
    return "needs a CUDA GPU: tginteractive.backends.gpu_count() == 0"


def pytest_collection_modifyitems(config, items):
    mine = [item for item in items if HERE in pathlib.Path(item.path).parents]
    for item in mine:
        item.add_marker(pytest.mark.gpu)
    if mine and gpu_count() == 0:
        skip = pytest.mark.skip(reason=_skip_reason())
        for item in mine:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def cupy():
    if gpu_count() == 0:
        pytest.skip(_skip_reason())
    import cupy as module
    return module


@pytest.fixture(scope="session")
def gpu(cupy):
    from tginteractive.backends import gpu_backend
    return gpu_backend(0)


@pytest.fixture(scope="session")
def two_gpus(cupy):
    if gpu_count() < 2:
        pytest.skip("needs two CUDA GPUs")
    from tginteractive.backends import gpu_backend
    return gpu_backend(0), gpu_backend(1)


@pytest.fixture(scope="session")
def gpu_report():
    """`gpu_report(title, line)`: a line for the terminal summary under `title`."""
    return lambda title, line: REPORT.setdefault(title, []).append(line)


def pytest_terminal_summary(terminalreporter):
    for title, lines in REPORT.items():
        terminalreporter.section(title)
        for line in lines:
            terminalreporter.write_line(line)
