"""The benchmark scripts run (tiny sizes): their numbers are reports, not test assertions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


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


@pytest.mark.slow
@pytest.mark.browser
def test_inside_latency_benchmark_prints_its_table():
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    out = _run("bench.inside_latency", "--strokes", "1")
    assert "| stroke | pen up to Inside shown | client: pen up to the request |" in out
    assert "this checkout: 1 strokes, 17 layer pictures" in out and out.count("load average") == 2
