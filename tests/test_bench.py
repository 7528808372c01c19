"""The benchmark scripts run (tiny sizes): their numbers are reports, not test assertions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_preprocess_benchmark_prints_its_tables():
    out = subprocess.run([sys.executable, "-m", "bench.preprocess", "--runs", "3", "--skip-accuracy"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "| 600x450 RGBA canvas | 3 |" in out.stdout and "4000x3000 JPEG photo" in out.stdout


def _run(*args: str, timeout: int = 600) -> str:
    out = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_inference_benchmark_prints_its_tables():
    out = _run("bench.export", "--quick")
    for row in (
        "| cnn | PyTorch eager fp32 |",
        "| cnn-bn | ORT int8 |",
        "(floor) a one-node Identity",
        "| 20 characters |",
        "roofline: float32",
        "load average",
    ):
        assert row in out


def test_training_benchmark_prints_its_table():
    out = _run("bench.training", "--quick")
    assert "| cnn, mnist-5k (3,500 train), batch" in out and "| cnn, 2,000 synthetic images, cpu" in out
    for row in ("| training step, eager |", "| ceiling: forward+backward alone", "| roofline: matrix product fp32"):
        assert row in out
    assert "CPU: " in out and "load average" in out


def test_demo_benchmark_compares_with_a_noop_app():
    out = _run("bench.serving", "--requests", "2", "--startups", "1")
    assert "| demo (python -m demo) |" in out and "| no-op Gradio app, same signature |" in out
    assert "demo / no-op: start-up" in out and "demo / no-op, interleaved:" in out
