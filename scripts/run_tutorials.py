"""Execute the tutorial notebooks top to bottom with nbclient and report on each.

    python scripts/run_tutorials.py                 # notebooks/*.ipynb, into a temp dir
    python scripts/run_tutorials.py --out DIR a.ipynb b.ipynb
    python scripts/run_tutorials.py --inplace       # re-execute and rewrite notebooks/ (to commit)

The kernel is always ipykernel from *this* interpreter (a private kernelspec), whatever
kernelspecs the machine has, so `.venv/bin/python scripts/run_tutorials.py` tests `.venv`.
Without --inplace the notebooks directory is copied into the output directory and run
there, so the repo is never written. Exit status: 0 if every notebook ran without error.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import sys
import tempfile
import time

import nbformat
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = pathlib.Path(__file__).resolve().parents[1]
KERNEL = "tg-tutorials"


def kernel_manager(tmp: pathlib.Path) -> KernelManager:
    """A KernelManager for ipykernel from this interpreter; its kernelspec, connection file
    and ipc sockets all live in `tmp`."""
    spec_root = tmp / "kernels"
    spec = spec_root / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}))
    return KernelManager(kernel_name=KERNEL, transport="ipc",
                         connection_file=str(tmp / "kernel.json"),
                         kernel_spec_manager=KernelSpecManager(
                             kernel_dirs=[str(spec_root)], ensure_native_kernel=False))


def first_error(nb) -> str | None:
    """'cell N: Ename: evalue' for the first error output stored in `nb`, else None."""
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"cell {index}: {out['ename']}: {out['evalue']}".strip()
    return None


def run_one(path: pathlib.Path, timeout: int) -> tuple[bool, float, str]:
    """Execute `path` in place (cwd = its folder). Returns (ok, seconds, first error)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:                  # no stale timings or widget state from a past run
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    start = time.perf_counter()
    error = None
    with tempfile.TemporaryDirectory(prefix="tg-kernel-") as tmp:
        km = kernel_manager(pathlib.Path(tmp))
        client = NotebookClient(nb, km=km, timeout=timeout, record_timing=False,
                                store_widget_state=True,  # saved widgets render on GitHub
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except CellExecutionError as exc:
            error = first_error(nb) or str(exc).strip().splitlines()[-1]
        except (CellTimeoutError, DeadKernelError, TimeoutError, RuntimeError) as exc:
            lines = str(exc).strip().splitlines()
            error = f"{type(exc).__name__}: {lines[0] if lines else ''}"
        finally:       # nbclient leaves a kernel manager it was given running
            if client.kc is not None:
                client.kc.stop_channels()
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    seconds = time.perf_counter() - start
    nb.metadata.get("kernelspec", {}).update(name="python3", display_name="Python 3 (ipykernel)")
    nbformat.write(nb, path)
    error = error or first_error(nb)
    return error is None, seconds, error or ""


def _skip(out: pathlib.Path):
    """copytree filter: checkpoints, caches, and the output folder itself (if it is inside)."""
    def ignore(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n in (".ipynb_checkpoints", "__pycache__")
                or pathlib.Path(folder, n).resolve() == out]
    return ignore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="notebooks to run (default: notebooks/*.ipynb)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", type=pathlib.Path, help="where executed copies go (default: a new temp dir)")
    where.add_argument("--inplace", action="store_true", help="rewrite the notebooks with their outputs")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = parser.parse_args(argv)

    paths = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print("run_tutorials: no notebooks found", file=sys.stderr)
        return 1
    if args.inplace:
        targets = paths
    else:
        out = args.out or pathlib.Path(tempfile.mkdtemp(prefix="tg-tutorials-"))
        out.mkdir(parents=True, exist_ok=True)
        targets = []
        for src in paths:     # copy each notebook's folder so relative data files still work
            dest_dir = out / src.parent.name
            if not dest_dir.exists():
                shutil.copytree(src.parent, dest_dir, ignore=_skip(out.resolve()))
            targets.append(dest_dir / src.name)
        print(f"run_tutorials: executing {len(targets)} notebook(s) in {out}")

    failures = 0
    width = max(len(p.name) for p in targets)
    for path in targets:
        ok, seconds, error = run_one(path, args.timeout)
        failures += not ok
        line = f"{'ok' if ok else 'FAILED':6} {path.name:{width}} {seconds:6.1f}s"
        print(line + (f"  first error: {error}" if error else ""), flush=True)
    print(f"run_tutorials: {len(targets) - failures} ok, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
