"""Training, watched: the files the page needs to train circles itself and to replay the digit CNNs' training.

    circles-training.json   the circles run's start (initial weights, training and held-out points, recipe; the
                            run's `circles-start.json`) and PyTorch's loss and held-out accuracy at every epoch;
                            listed as `training` on the circles entry, with its sha256. web/train.js trains from it.
    <run>-replay.onnx       the digit model's probe (export/probe.py: the canvas recipe, then every layer) with
                            the model's weights turned into float16 graph inputs (one per state_dict tensor, named
                            as in the state_dict, each cast to float32 inside): feed it one epoch's weights.
    <run>-epochs.bin        every epoch's weights, float16 little-endian, one row of `parameters` values per epoch
                            (the run's `<run>-epochs.pt`); the replay entry's `epochs` says where each tensor is.

`python -m export --check` proves them (`check_replays`): the training file holds the data `zoo.data` makes and
the run's initial weights; each epoch's weights through the replay graph's own classifier nodes give the test
accuracy the training log has for that epoch, and the last epoch answers like the exported model on every test
digit (same argmax, probabilities within `FP16_PROB_ATOL`). tests/test_train_web.py proves web/train.js
against PyTorch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper

from zoo import manifest as zoo_manifest

FP16_PROB_ATOL = 5e-3  # last snapshot (float16 weights) vs the float32 model: max |probability difference|


# ----------------------------------------------------------------------------- circles


def training_file(entry: dict, out: Path) -> dict | None:
    """`<out>/<run>-training.json` from the run's `-start.json` and its history; the `training` field to set on
    the circles entry, or None when the run kept no start (a run trained before start files existed)."""
    from export.onnx import sha256

    checkpoint = out / entry["checkpoint"]
    start_path = checkpoint.with_name(f"{entry['run']}-start.json")
    if entry["task"] != "points" or not start_path.is_file():
        return None
    path = out / f"{entry['run']}-training.json"
    blob = training_json(checkpoint)
    path.write_text(json.dumps(blob) + "\n")
    recipe = blob["recipe"]
    return {"file": path.name, "sha256": sha256(path), "bytes": path.stat().st_size, "epochs": recipe["epochs"],
            "lr": recipe["lr"], "optimizer": recipe["optimizer"]}  # fmt: skip


def training_json(checkpoint: Path) -> dict:
    """The run's `-start.json` beside `checkpoint`, plus `pytorch_history`: its loss and held-out accuracy per epoch."""
    checkpoint = Path(checkpoint)
    metrics = torch.load(checkpoint, map_location="cpu", weights_only=True)["metrics"]
    start = json.loads(checkpoint.with_name(f"{metrics['run']}-start.json").read_text())
    return {**start, "pytorch_history": metrics["history"]}


def check_training(entry: dict, models_dir: Path) -> str:
    """The training file is the one listed, holds zoo.data's circles and weights the net's shapes take."""
    from export.checks import ChecksumMismatch, ValuesMismatch
    from export.onnx import sha256
    from zoo.data import load_circles

    info = entry["training"]
    path = Path(models_dir) / info["file"]
    if not path.is_file() or sha256(path) != info["sha256"]:
        raise ChecksumMismatch(f"{entry['name']}: {path} is missing or does not match the sha256 in the manifest")
    blob = json.loads(path.read_text())
    x_train, y_train, x_test, y_test = load_circles()
    for part, x, y in (("train", x_train, y_train), ("held_out", x_test, y_test)):
        if not (
            np.array_equal(np.float32(blob[part]["points"]), x) and np.array_equal(np.float32(blob[part]["labels"]), y)
        ):
            raise ValuesMismatch(f"{entry['name']}: {path}'s {part} points are not zoo.data.load_circles()'s")
    shapes = {k: v["shape"] for k, v in blob["initial_state_dict"].items()}
    if shapes != {"linear1.weight": [4, 2], "linear1.bias": [4], "linear2.weight": [1, 4], "linear2.bias": [1]}:
        raise ValuesMismatch(f"{entry['name']}: {path}'s initial weights have shapes {shapes}, not the 2-4-1 net's")
    if len(blob["pytorch_history"]["train_loss"]) != info["epochs"]:
        raise ValuesMismatch(f"{entry['name']}: {path} has {len(blob['pytorch_history']['train_loss'])} epochs of "
                             f"history, the recipe {info['epochs']}")  # fmt: skip
    return f"{len(x_train)}+{len(x_test)} points, {info['epochs']} epochs"


# ----------------------------------------------------------------------------- digit replays


def replay_graph(probe: onnx.ModelProto, names: list[str], shapes: list[list[int]]) -> onnx.ModelProto:
    """The probe with each state_dict tensor `names[i]` (initializer `model/model.<name>`) a float16 input."""
    graph = probe.graph
    by_name = {init.name: init for init in graph.initializer}
    casts = []
    for name, shape in zip(names, shapes, strict=True):
        inner = f"model/model.{name}"
        init = by_name.get(inner)
        if init is None or list(init.dims) != list(shape):
            raise ValueError(f"the probe has no initializer {inner} of shape {shape}: cannot make it an input")
        graph.initializer.remove(init)
        graph.input.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT16, shape))
        casts.append(helper.make_node("Cast", [name], [inner], to=onnx.TensorProto.FLOAT, name=f"replay/cast/{name}"))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(probe, full_check=True)
    return probe


def export_replay(entry: dict, out: Path, probe_entry: dict) -> dict | None:
    """`<run>-replay.onnx` and `<run>-epochs.bin` from the run's `-epochs.pt` and the exported probe; the
    manifest entry, or None when the run kept no snapshots."""
    from export.onnx import sha256

    checkpoint = out / entry["checkpoint"]
    epochs_pt = checkpoint.with_name(f"{entry['run']}-epochs.pt")
    if entry["task"] != "digits" or entry["kind"] != "full" or not epochs_pt.is_file():
        return None
    snapshots = torch.load(epochs_pt, map_location="cpu", weights_only=True)
    names, shapes, weights = snapshots["names"], snapshots["shapes"], snapshots["weights"]
    probe = onnx.load(str(out / probe_entry["file"]))
    replay = replay_graph(probe, names, shapes)
    replay.doc_string = f"{entry['run']}-replay: {probe_entry['name']} with the weights as float16 inputs"
    path = out / f"{entry['run']}-replay.onnx"
    onnx.save(replay, str(path))

    bin_path = out / f"{entry['run']}-epochs.bin"
    bin_path.write_bytes(weights.numpy().astype("<f2").tobytes())
    tensors, offset = {}, 0
    for name, shape in zip(names, shapes, strict=True):
        length = int(np.prod(shape))
        tensors[name] = {"offset": offset, "length": length, "shape": shape}
        offset += length
    history = torch.load(checkpoint, map_location="cpu", weights_only=True)["metrics"]["history"]
    weight_inputs = {name: {"shape": shape, "dtype": "float16"} for name, shape in zip(names, shapes, strict=True)}
    keep = ("model", "run", "task", "checkpoint", "checkpoint_sha256", "parameters", "metrics", "labels")
    return {
        "name": f"{entry['run']}-replay",
        **{k: entry[k] for k in keep if k in entry},
        "kind": "replay",
        "base_model": entry["name"],
        "probe_model": probe_entry["name"],
        "file": path.name,
        "opset": probe_entry["opset"],
        "inputs": {**probe_entry["inputs"], **weight_inputs},
        "outputs": probe_entry["outputs"],
        "input_contract": f"{probe_entry['input_contract']} The weights are inputs: feed one epoch's from `epochs`.",
        "sha256": sha256(path),
        "bytes": path.stat().st_size,
        "epochs": {
            "file": bin_path.name, "sha256": sha256(bin_path), "bytes": bin_path.stat().st_size, "dtype": "float16",
            "byte_order": "little", "count": int(weights.shape[0]), "parameters": int(weights.shape[1]),
            "row_bytes": 2 * int(weights.shape[1]),
            "about": "epoch e (1-based) tensor t: bytes (e-1) x row_bytes + 2 x offset, length values",
            "tensors": tensors,
        },
        "history": {k: history[k] for k in ("train_loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy")},
    }  # fmt: skip


def read_epochs(entry: dict, models_dir: Path) -> np.ndarray:
    """Every epoch's weights [epochs, parameters] float16 from the replay entry's `epochs` file."""
    info = entry["epochs"]
    blob = np.frombuffer((Path(models_dir) / info["file"]).read_bytes(), "<f2")
    return blob.reshape(info["count"], info["parameters"])


def epoch_feeds(entry: dict, row: np.ndarray) -> dict[str, np.ndarray]:
    return {
        name: row[t["offset"] : t["offset"] + t["length"]].reshape(t["shape"]).astype(np.float16)
        for name, t in entry["epochs"]["tensors"].items()
    }


def classifier_of(replay_path: Path, entry: dict) -> onnx.ModelProto:
    """The replay graph's own classifier nodes: from the frame (`frame_nchw`, [N,1,28,28]) and the weight inputs
    to the softmax; the nodes the page runs behind the sketch recipe."""
    from onnx.utils import Extractor

    model = onnx.load(str(replay_path))
    model = onnx.shape_inference.infer_shapes(model)
    extracted = Extractor(model).extract_model(["frame_nchw", *entry["epochs"]["tensors"]], ["model/probabilities"])
    # The probe runs one frame; its classifier nodes take any batch (Flatten is a Reshape to [-1, features]).
    del extracted.graph.value_info[:]
    for value in (extracted.graph.input[0], extracted.graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_param = "N"
    return extracted


def check_replay(entry: dict, models_dir: Path, entries: dict[str, dict]) -> str:
    """Each epoch's test accuracy from the replay graph equals the training log's; the last epoch answers like
    the exported full model on every test digit. Returns the agreement line for the table."""
    import onnxruntime as ort

    from export.checks import ArgmaxMismatch, ChecksumMismatch, ValuesMismatch, check_file
    from export.onnx import digit_test_set, digits_of, sha256

    models_dir = Path(models_dir)
    path = check_file(entry, models_dir)
    info = entry["epochs"]
    bin_path = models_dir / info["file"]
    if not bin_path.is_file() or sha256(bin_path) != info["sha256"]:
        raise ChecksumMismatch(f"{entry['name']}: {bin_path} is missing or does not match the sha256 in the manifest")
    epochs = read_epochs(entry, models_dir)
    x, y = digit_test_set(digits_of(entries[entry["base_model"]]))
    classifier = ort.InferenceSession(
        classifier_of(path, entry).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    logged = entry["history"]["test_accuracy"]
    if len(logged) != len(epochs):
        raise ValuesMismatch(f"{entry['name']}: {len(epochs)} epochs of weights, {len(logged)} of training log")
    probabilities = None
    for e, row in enumerate(epochs, start=1):
        probabilities = classifier.run(None, {"frame_nchw": x, **epoch_feeds(entry, row)})[0]
        right = int((probabilities.argmax(1) == y).sum())
        if right != round(logged[e - 1] * len(y)):
            raise ValuesMismatch(f"{entry['name']}: epoch {e}: {right}/{len(y)} test digits right from the replay, "
                                 f"the training log says {logged[e - 1]:.5f}")  # fmt: skip
    full = ort.InferenceSession(
        str(models_dir / entries[entry["base_model"]]["file"]), providers=["CPUExecutionProvider"]
    )
    reference = full.run(["probabilities"], {"image": x})[0]
    same = probabilities.argmax(1) == reference.argmax(1)
    if not same.all():
        raise ArgmaxMismatch(f"{entry['name']}: the last epoch's answer differs from {entry['base_model']} on "
                             f"{int((~same).sum())} of {len(same)} test digits")  # fmt: skip
    worst = float(np.abs(probabilities - reference).max())
    if worst > FP16_PROB_ATOL:
        raise ValuesMismatch(f"{entry['name']}: the last epoch's probabilities differ from {entry['base_model']}'s "
                             f"by up to {worst:.2e} (tolerance {FP16_PROB_ATOL:g}, float16 weights)")  # fmt: skip
    # The whole replay graph (the sketch recipe in front) on the drawn 7 of the test data, as the probe answers.
    from export.canvas import test_canvas

    canvas = {"image": test_canvas()}
    replay = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probe = ort.InferenceSession(
        str(models_dir / entries[entry["probe_model"]]["file"]), providers=["CPUExecutionProvider"]
    )
    mine = dict(zip(entry["outputs"], replay.run(None, {**canvas, **epoch_feeds(entry, epochs[-1])}), strict=True))
    theirs = dict(zip(entry["outputs"], probe.run(None, canvas), strict=True))
    if not np.array_equal(mine["frame"], theirs["frame"]) or mine["ink"] != theirs["ink"]:
        raise ValuesMismatch(f"{entry['name']}: the drawn 7's frame or ink differs from {entry['probe_model']}'s")
    on_canvas = float(np.abs(mine["probabilities"] - theirs["probabilities"]).max())
    if on_canvas > FP16_PROB_ATOL:
        raise ValuesMismatch(f"{entry['name']}: on the drawn 7 the last epoch's probabilities differ from "
                             f"{entry['probe_model']}'s by {on_canvas:.2e} (tolerance {FP16_PROB_ATOL:g})")  # fmt: skip
    return f"{len(epochs)} epochs = log; last {int(same.sum())}/{len(same)} same answer, max prob. diff {max(worst, on_canvas):.1e}"


def check_replays(entries: dict[str, dict], models_dir: Path, failed: set[str]) -> tuple[list, list]:
    """Rows and failures for `export.verify.check_all`: the circles training file and every digit replay."""
    from export.checks import Row, VerificationError

    rows, failures = [], []
    for entry in entries.values():
        try:
            if entry.get("training"):
                agreement = check_training(entry, models_dir)
                rows.append(Row(f"{entry['name']} training", "training", agreement=agreement,
                                size_kb=entry["training"]["bytes"] / 1024, checks=1))  # fmt: skip
            elif entry["kind"] == "replay" and entry["base_model"] not in failed:
                agreement = check_replay(entry, models_dir, entries)
                size = (entry["bytes"] + entry["epochs"]["bytes"]) / 1024
                rows.append(Row(entry["name"], "replay", agreement=agreement, size_kb=size,
                                checks=entry["epochs"]["count"]))  # fmt: skip
        except (VerificationError, onnx.checker.ValidationError) as error:
            failures.append(
                error if isinstance(error, VerificationError) else VerificationError(f"{entry['name']}: {error}")
            )
    return rows, failures


# ----------------------------------------------------------------------------- export


def training_entries(entries: list[dict], out: Path) -> list[dict]:
    """For a run's freshly exported entries: sets `training` on a circles full entry (when its run kept a start)
    and returns the replay entries of a digit run that kept snapshots. Called by `python -m export`."""
    out = Path(out)
    replays = []
    for entry in entries:
        if entry["kind"] != "full":
            continue
        if entry["task"] == "points" and (training := training_file(entry, out)):
            entry["training"] = training
        probe = next((e for e in entries if e["kind"] == "probe" and e["base_model"] == entry["name"]), None)
        if entry["task"] == "digits" and probe and (replay := export_replay(entry, out, probe)):
            replays.append(replay)
    return replays


def export_replays(out: Path) -> list[dict]:
    """`python -m export replay`: the training file and the replays from the checkpoints of the models already in
    `out` (their probes exported), without training."""
    from export.card import publish

    out = Path(out)
    manifest = zoo_manifest.load(out)
    replays = training_entries(manifest, out)
    names = {e["name"] for e in replays}
    manifest = [e for e in manifest if e["name"] not in names] + replays
    publish(manifest, out)
    for entry in manifest:
        if entry.get("training"):
            print(
                f"{entry['name']:<22} training {entry['training']['bytes'] / 1024:>8.1f} KB -> {out / entry['training']['file']}"
            )
    for entry in replays:
        print(f"{entry['name']:<22} replay {entry['bytes'] / 1024:>8.1f} KB + {entry['epochs']['bytes'] / 1024:.1f} KB "
              f"{entry['epochs']['file']} ({entry['epochs']['count']} epochs)")  # fmt: skip
    return replays
