"""benchmarks/bench_mlp.py runs in quick mode and its implementations agree (not timing)."""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_mlp_benchmark_quick_run_validates(tmp_path):
    out = tmp_path / "mlp.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_mlp.py"), "--quick",
                           "--no-tf", "--json", str(out)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert set(result["timings"]) == {"tg", "numpy"}
    assert result["validation"]["tg"]["max_loss_rel_diff"] < 1e-5
    assert result["tg_rate_vs_numpy"] > 0
