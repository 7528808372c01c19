"""The training-step files (export/train_graphs.py) and their proof (export/train_check.py), on the committed
models/: every optimiser's run against PyTorch and torch.optim, onnx.reference, a tampered file, onnxruntime-node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest

from export import train_check as tc
from export import train_graphs as tg
from export.checks import ChecksumMismatch, ValuesMismatch
from zoo import manifest as zoo_manifest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


def train_entries() -> dict[str, dict]:
    entries = {e["name"]: e for e in zoo_manifest.load(MODELS) if e["kind"] == "train"}
    if not entries:
        pytest.skip("models/manifest.json has no training files: run python -m export train")
    return entries


def test_every_lecture_model_has_a_file_per_optimiser():
    entries = train_entries()
    assert set(entries) == {f"{m}-train-{o}" for m in tg.TRAINED for o in tg.OPTIMIZERS}
    for entry in entries.values():
        assert entry["sha256"] == zoo_manifest.sha256(MODELS / entry["file"])
        assert entry["weights"]["sha256"] == zoo_manifest.sha256(MODELS / entry["weights"]["file"])
        proto = onnx.load(str(MODELS / entry["file"]))
        assert proto.graph.input[0].name == next(iter(entry["weights"]["tensors"]))
        batch_dims = [d for v in proto.graph.input if v.name in ("x", "y") for d in v.type.tensor_type.shape.dim]
        assert batch_dims[0].dim_param == "N"  # the batch stays dynamic
        elem_types = {v.type.tensor_type.elem_type for v in [*proto.graph.input, *proto.graph.output]}
        assert onnx.TensorProto.DOUBLE not in elem_types
        assert all(i.dims != [0] for i in proto.graph.initializer), "no empty constants"


@pytest.mark.parametrize("optimizer", list(tg.OPTIMIZERS))
def test_charseq_lecture_run_is_pytorchs(optimizer):
    entry = train_entries()[f"charseq-train-{optimizer}"]
    proof = tc.prove(entry, MODELS)
    assert proof.steps == 50
    assert proof.loss_diff <= tc.LOSS_ATOL and proof.reference_diff <= tc.REFERENCE_ATOL
    assert proof.last_loss < proof.first_loss - 0.5  # it learns: the proof is not of a step that does nothing


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnn-small-train-adam", "longseq-gru-train-rmsprop"])
def test_one_epoch_is_pytorchs(name):
    proof = tc.prove(train_entries()[name], MODELS)
    assert proof.loss_diff <= tc.LOSS_ATOL and proof.weight_diff <= tc.WEIGHT_ATOL + tc.WEIGHT_RTOL * proof.weight_scale
    assert proof.free_loss_diff < 1  # the free run is measured (it may part from PyTorch's where training is chaotic)
    assert proof.last_loss < proof.first_loss


def _copy(entry: dict, tmp_path: Path) -> dict:
    for listed in zoo_manifest.files_of(entry):
        shutil.copyfile(MODELS / listed["file"], tmp_path / listed["file"])
    return json.loads(json.dumps(entry))


def test_a_tampered_training_file_fails(tmp_path):
    entry = _copy(train_entries()["charseq-train-adam"], tmp_path)
    path = tmp_path / entry["file"]
    # 1. Altered bytes: the sha256 no longer matches.
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(ChecksumMismatch):
        tc.prove(entry, tmp_path)
    # 2. An altered rule, the manifest updated to match: the learning rate doubled inside the graph.
    shutil.copyfile(MODELS / entry["file"], path)
    proto = onnx.load(str(path))
    for node in proto.graph.node:
        node.input[:] = ["lr_doubled" if i == "lr" else i for i in node.input]
    two = onnx.helper.make_tensor("two", onnx.TensorProto.FLOAT, [], [2.0])
    proto.graph.initializer.append(two)
    proto.graph.node.insert(0, onnx.helper.make_node("Mul", ["lr", "two"], ["lr_doubled"]))
    onnx.save(proto, str(path))
    entry["sha256"] = zoo_manifest.sha256(path)
    with pytest.raises(ValuesMismatch, match="after step 1 of 50"):
        tc.prove(entry, tmp_path, reference=False)


def test_the_export_is_deterministic(tmp_path):
    """python -m export train writes the same bytes again: running it twice leaves the manifest as it was."""
    entry, inside = tg.export_training(tmp_path, ["hihello"], ["sgd"])
    assert entry["sha256"] == train_entries()["hihello-train-sgd"]["sha256"]
    assert inside == next(e for e in zoo_manifest.load(MODELS) if e["name"] == "hihello-train-inside")
    assert entry["weights"]["sha256"] == train_entries()["hihello-train-sgd"]["weights"]["sha256"]


def _node_steps(entry: dict, steps: list, hyper: dict, tmp_path: Path) -> dict:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "onnxruntime-node").is_dir():
        pytest.skip("needs Node.js and onnxruntime-node (npm ci)")
    as_json = [
        {
            "x": {"data": x.flatten().tolist(), "shape": list(x.shape)},
            "y": {"data": y.flatten().tolist(), "shape": list(y.shape)},
            "masks": {k: {"data": m.flatten().tolist(), "shape": list(m.shape)} for k, m in masks.items()},
        }
        for (x, y), masks in steps
    ]
    path = tmp_path / "steps.json"
    path.write_text(json.dumps({"hyper": hyper, "steps": as_json}))
    done = subprocess.run([node, "tests/node/train_steps.mjs", str(MODELS), entry["name"], str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", ["charseq-train-adam", "cnn-small-train-momentum"])
def test_onnxruntime_node_takes_the_same_steps(name, tmp_path):
    entry = train_entries()[name]
    hyper = tc.hyperparameters(entry)
    rng = np.random.default_rng(1)
    if entry["task"] == "text":
        batches = tc.batches(entry, MODELS, rng)
    else:
        batches = [(x[:8], y[:8]) for x, y in tc.batches(entry, MODELS, rng)[:3]]
    steps = [((x, y), tg.draw_masks(entry["model"], len(x), rng)) for x, y in batches]
    trainer = tc.OrtTrainer(MODELS / entry["file"], entry, tg.read_start(entry["weights"], MODELS), hyper)
    losses = [trainer.step(x, y, masks)[0] for (x, y), masks in steps]
    got = _node_steps(entry, steps, hyper, tmp_path)
    assert np.allclose(got["losses"], losses, rtol=1e-5, atol=1e-6)
    for key, value in trainer.params.items():
        assert np.allclose(np.array(got["weights"][key]).reshape(value.shape), value, rtol=1e-4, atol=1e-5), key
