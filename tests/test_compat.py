"""demo/compat.py: the demo starts on the Gradio it was checked with, and refuses any other, saying why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from demo.compat import GRADIO_RANGE, GradioMismatch, check_gradio, gradio_problem, moved_internals

ROOT = Path(__file__).resolve().parents[1]


def test_the_installed_gradio_is_one_the_demo_was_checked_with():
    assert moved_internals() == []
    assert gradio_problem() is None
    check_gradio()


def test_the_declared_range_is_the_checked_one():
    assert f'"gradio{GRADIO_RANGE}",' in (ROOT / "pyproject.toml").read_text()
    requirements = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert f"gradio{GRADIO_RANGE}" in requirements


@pytest.mark.parametrize("version", ["5.49.1", "7.0.0", "7.0.0b1", "not a version"])
def test_a_gradio_outside_the_range_is_refused_with_the_fix(version):
    problem = gradio_problem(version)
    assert f"Gradio {version} is installed" in problem
    assert f'pip install "gradio{GRADIO_RANGE}"' in problem


@pytest.mark.parametrize("version", ["6.0.0", "6.31.0", "6.99.1"])
def test_a_gradio_inside_the_range_may_start(version):
    assert gradio_problem(version) is None


def test_a_moved_internal_is_named(monkeypatch):
    from gradio import state_holder

    monkeypatch.delattr(state_holder.SessionState, "_update_value_in_config")
    problem = gradio_problem()
    assert "SessionState._update_value_in_config(self, key, value)" in problem
    with pytest.raises(GradioMismatch, match="has moved internals the demo changes"):
        check_gradio()


def test_a_changed_signature_is_named(monkeypatch):
    import gradio as gr

    monkeypatch.setattr(gr.Blocks, "validate_inputs", lambda self, fn, inputs, extra: None)
    assert moved_internals() == ["gradio.Blocks.validate_inputs(self, block_fn, inputs)"]


@pytest.mark.parametrize("entry", [["-m", "demo", "--port", "1"], ["app.py"]])
def test_the_demo_refuses_to_start_on_another_gradio(entry, tmp_path):
    """`python -m demo` and the Space's app.py, on a Gradio that calls itself 7.0.0: exit, one line saying why."""
    (tmp_path / "sitecustomize.py").write_text("import gradio\ngradio.__version__ = '7.0.0'\n")
    env = {"PYTHONPATH": f"{tmp_path}", "PATH": "/usr/bin:/bin", "GRADIO_ANALYTICS_ENABLED": "False"}
    out = subprocess.run([sys.executable, *entry], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines()[-1] == f"error: {gradio_problem('7.0.0')}"
    assert "Traceback" not in out.stderr
