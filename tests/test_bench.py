"""The benchmark scripts run (tiny sizes): their numbers are reports, not test assertions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_preprocess_benchmark_prints_its_tables():
    out = subprocess.run([sys.executable, "-m", "demo.bench_preprocess", "--runs", "3", "--skip-accuracy"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "| 600x450 RGBA canvas | 3 |" in out.stdout and "4000x3000 JPEG photo" in out.stdout
