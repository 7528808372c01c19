"""The inside files (export/train_inside.py): every layer of a lecture model from weights given as inputs, proven
against PyTorch's forward hooks from the start weights and the committed run's; a tampered file fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from export import train_graphs as tg
from export import train_inside as ti
from export.checks import ChecksumMismatch, ValuesMismatch
from zoo import manifest as zoo_manifest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


def inside_entries() -> dict[str, dict]:
    entries = {e["model"]: e for e in zoo_manifest.load(MODELS) if e["kind"] == "train-inside"}
    if not entries:
        pytest.skip("models/manifest.json has no inside files: run python -m export train")
    return entries


def test_every_trained_model_has_an_inside_file_fed_as_its_training_files_are():
    entries = inside_entries()
    assert set(entries) == set(tg.TRAINED)
    for model, entry in entries.items():
        train = next(e for e in zoo_manifest.load(MODELS) if e["name"] == f"{model}-train-adam")
        assert entry["sha256"] == zoo_manifest.sha256(MODELS / entry["file"])
        assert entry["weights"] == train["weights"]  # the same start file
        proto = onnx.load(str(MODELS / entry["file"]))
        inputs = [v.name for v in proto.graph.input]
        assert inputs == ["x", *train["weights"]["tensors"]]  # the names the page's trainer holds
        assert list(entry["inputs"]) == ["x"]
        probe_layers = [layer.as_json() for layer in ti.inside_layers(model)]
        assert entry["layers"] == probe_layers
        assert list(entry["outputs"]) == [layer["name"] for layer in probe_layers if layer["op"] != "Input"]
        shapes = {"inside/eye", "inside/axis0", "inside/axis1", "inside/H"}  # the one-hot table, axes, hidden size
        assert {i.name for i in proto.graph.initializer} <= shapes  # no weights
        assert entry["bytes"] < 8 * 1024


def test_the_two_layer_rnns_show_both_layers_at_every_character():
    for model in ("longseq", "longseq-gru"):
        entry = inside_entries()[model]
        session = ort.InferenceSession(str(MODELS / entry["file"]), providers=["CPUExecutionProvider"])
        weights = tg.read_start(entry["weights"], MODELS)
        text = np.array([[entry["vocab"].index(c) for c in "if you want to build a ship"]], np.int64)
        out = dict(zip(entry["outputs"], session.run(None, {"x": text, **weights}), strict=True))
        assert out["rnn_l0"].shape == out["rnn_l1"].shape == (1, text.shape[1], 25)
        assert not np.allclose(out["rnn_l0"], out["rnn_l1"])
        assert np.allclose(out["probabilities"].sum(-1), 1, atol=1e-6)


@pytest.mark.parametrize("model", tg.TRAINED)
def test_every_layer_is_pytorchs_from_the_start_and_the_committed_weights(model):
    worst, _, compared = ti.check_inside(inside_entries()[model], MODELS)
    assert compared >= 16 and worst <= 1e-5


def test_the_weights_fed_are_the_weights_used():
    """A change of one kernel moves conv1's map by exactly that kernel's share: the weights are not baked in."""
    entry = inside_entries()["cnn-small"]
    session = ort.InferenceSession(str(MODELS / entry["file"]), providers=["CPUExecutionProvider"])
    weights = tg.read_start(entry["weights"], MODELS)
    frame = np.zeros((1, 1, 28, 28), np.float32)
    before = session.run(["conv1"], {"x": frame, **weights})[0]
    weights["0.bias"] = weights["0.bias"] + np.arange(10, dtype=np.float32)
    after = session.run(["conv1"], {"x": frame, **weights})[0]
    assert np.allclose(after - before, np.arange(10, dtype=np.float32)[None, :, None, None], atol=1e-6)


def test_onnx_reference_computes_the_same_layers():
    from onnx.reference import ReferenceEvaluator

    for model in ("cnn-small", "longseq-gru"):
        entry = inside_entries()[model]
        weights = ti.committed_weights(entry, MODELS)
        _, x = ti.proof_inputs(entry, MODELS)[0]
        x = x[:4]
        want = ort.InferenceSession(str(MODELS / entry["file"]), providers=["CPUExecutionProvider"]).run(
            None, {"x": x, **weights}
        )
        got = ReferenceEvaluator(str(MODELS / entry["file"])).run(None, {"x": x, **weights})
        for name, a, b in zip(entry["outputs"], got, want, strict=True):
            assert np.abs(a - b).max() <= 1e-5, name


def _copy(entry: dict, tmp_path: Path) -> dict:
    shutil.copyfile(MODELS / "manifest.json", tmp_path / "manifest.json")
    for listed in zoo_manifest.files_of(entry):
        shutil.copyfile(MODELS / listed["file"], tmp_path / listed["file"])
    (tmp_path / "checkpoints").symlink_to(MODELS / "checkpoints")
    return json.loads(json.dumps(entry))


def test_a_tampered_inside_file_fails(tmp_path):
    entry = _copy(inside_entries()["longseq-gru"], tmp_path)
    path = tmp_path / entry["file"]
    assert ti.check_inside(entry, tmp_path)[2] > 0  # the copy passes
    # 1. Altered bytes: the sha256 no longer matches.
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(ChecksumMismatch):
        ti.check_inside(entry, tmp_path)
    # 2. An altered graph, the manifest updated to match: the GRU's gates left in PyTorch's order (r, z, n).
    proto = onnx.load(str(MODELS / entry["file"]))
    for node in proto.graph.node:
        if node.op_type == "Concat" and node.name.endswith("/zrn"):
            node.input[:] = [node.input[1], node.input[0], node.input[2]]
    onnx.save(proto, str(path))
    entry["sha256"] = zoo_manifest.sha256(path)
    with pytest.raises(ValuesMismatch, match="longseq-gru-train-inside.rnn_l0"):
        ti.check_inside(entry, tmp_path)
