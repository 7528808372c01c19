"""The model card (models/README.md, what a Hub page shows): its metadata parses, its tables render."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "models" / "README.md"


def _front_matter(text: str) -> dict:
    assert text.startswith("---\n"), "the card must open with a YAML front matter block"
    block = text[4 : text.index("\n---\n", 4)]
    return yaml.safe_load(block)


def test_the_front_matter_parses_with_a_model_index():
    meta = _front_matter(CARD.read_text())
    assert meta["license"] == "mit" and meta["pipeline_tag"] and "onnx" in meta["tags"]
    index = {item["name"]: item for item in meta["model-index"]}
    manifest = {e["name"]: e for e in json.loads((ROOT / "models" / "manifest.json").read_text())["models"]}
    served = {n for n, e in manifest.items() if e["kind"] in ("full", "int8")}
    assert set(index) == served
    for name in ("cnn", "cnn-bn", "mlp", "cnn-small"):
        (result,) = index[name]["results"]
        accuracy = {m["name"]: m["value"] for m in result["metrics"]}["test accuracy"]
        assert accuracy == manifest[name]["metrics"]["test_accuracy"] and result["dataset"]["split"] == "test"


def test_no_table_has_an_empty_line_inside():
    """A Markdown table ends at its first empty line: one right after the |---| row leaves a header alone."""
    lines = CARD.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|---"):
            assert i + 1 < len(lines) and lines[i + 1].startswith("|"), (
                f"line {i + 2}: the table breaks after its header"
            )
