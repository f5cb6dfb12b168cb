"""The README's example (examples/hello.py) runs and prints what the README says."""
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_hello_example_runs_and_trains():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "hello.py")], env=env,
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.splitlines() == ["a * b = 12.0", "row sums: [3. 3.]", "W = 2.000, b = 1.000"]
