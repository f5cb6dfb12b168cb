"""benchmarks/bench_engine.py runs and its implementations agree (validation, not timing)."""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_engine_benchmark_quick_run_validates(tmp_path):
    out = tmp_path / "bench.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_engine.py"),
                           "--quick", "--no-tf", "--json", str(out)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(out.read_text())["results"]
    assert {r["key"] for r in results} >= {"a", "b", "c"}
    assert all(r["error"] is None for r in results)
    assert all(r["validated"] for r in results if r["key"] in "abc")
