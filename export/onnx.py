"""Zoo checkpoint -> self-contained ONNX file(s), test data, and the model's manifest entries.

Exporter choice, made knowingly (torch 2.14, measured):
- digits and points: the dynamo exporter (`dynamo=True`), the supported path, with a dynamic batch.
- char models: the TorchScript exporter (`dynamo=False`). The dynamo exporter unrolls `nn.RNN` over the
  example's length, so its graph rejects any other sequence length. The TorchScript exporter emits the
  ONNX `RNN` / `GRU` op, whose sequence length is dynamic. It is deprecated, but it is the only way in
  this torch to get a real dynamic length; the tests run lengths other than the example's to hold it to it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from export.graphs import LogitsGraph, PointsGraph, TextStepGraph, signature
from zoo import corpora
from zoo.data import load_circles, load_image_dataset
from zoo.manifest import sha256  # noqa: F401  (the exporter's name for it)
from zoo.models import ZooError, get_spec
from zoo.train import load_checkpoint

OPSET = 18
DIGITS_CONTRACT = (
    "float32 [N,1,28,28] in [0,1], white ink on black (MNIST polarity). A 28x28 frame is made as the MNIST "
    "authors did: crop to the ink, fit it into 20x20 keeping the aspect ratio, centre it by its centre of "
    "mass in 28x28. No normalisation beyond /255: the graph takes the pixels as they are."
)


def export_run(run: str, checkpoints: Path, out: Path) -> list[dict]:
    """Export checkpoint `<checkpoints>/<run>.pt` to `<out>/<run>[-step].onnx`; return manifest entries."""
    checkpoint = Path(checkpoints) / f"{run}.pt"
    if not checkpoint.is_file():
        raise ZooError(f"no checkpoint {checkpoint}; train it first: python -m zoo train {run}")
    model, metrics = load_checkpoint(checkpoint)
    spec = get_spec(metrics["model"])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    common = {
        "model": spec.name,
        "run": run,
        "task": spec.task,
        "checkpoint": str(checkpoint),
        "checkpoint_sha256": sha256(checkpoint),
        "parameters": metrics["parameters"],
        "metrics": _headline_metrics(metrics),
    }
    entries = []
    if spec.task == "digits":
        entries.append(_export_one(LogitsGraph(model), run, "full", common, out, labels=metrics["labels"]))
    elif spec.task == "points":
        x_train, y_train, x_test, y_test = load_circles()
        points = {  # for the demo's plot, which must not need sklearn
            "train": [
                [round(float(a), 4), round(float(b), 4), int(c)] for (a, b), c in zip(x_train, y_train, strict=True)
            ],
            "held_out": [
                [round(float(a), 4), round(float(b), 4), int(c)] for (a, b), c in zip(x_test, y_test, strict=True)
            ],
        }
        entries.append(_export_one(PointsGraph(model), run, "full", {**common, "points": points}, out))
    else:
        vocab = metrics["vocab"]
        extra = {"vocab": vocab, "layers": model.num_layers, "hidden_size": model.vocab_size}
        entries.append(_export_one(LogitsGraph(model), run, "full", {**common, **extra}, out))
        entries.append(_export_one(TextStepGraph(model), f"{run}-step", "step", {**common, **extra}, out))
    return entries


def _export_one(graph, name: str, kind: str, common: dict, out: Path, labels: list[str] | None = None) -> dict:
    task = common["task"]
    sig = signature(task, kind, common.get("hidden_size", 0), common.get("layers", 0))
    path = out / f"{name}.onnx"
    graph = graph.eval()
    example = example_inputs(task, kind, common)
    dynamic_axes = {k: {i: d for i, d in enumerate(shape) if isinstance(d, str)}
                    for k, shape in {**sig.inputs, **sig.outputs}.items()}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation warning, chosen knowingly
        if task == "text":
            torch.onnx.export(graph, example, path, dynamo=False, opset_version=OPSET,
                              input_names=list(sig.inputs), output_names=list(sig.outputs),
                              dynamic_axes=dynamic_axes)  # fmt: skip
        else:
            batch = torch.export.Dim("N", min=1, max=1 << 20)
            dynamic_shapes = tuple({0: batch} for _ in sig.inputs)  # positional: forward()'s argument names vary
            torch.onnx.export(graph, example, path, dynamo=True, opset_version=OPSET, external_data=False,
                              input_names=list(sig.inputs), output_names=list(sig.outputs),
                              dynamic_shapes=dynamic_shapes, verbose=False)  # fmt: skip

    entry = {
        "name": name,
        **{k: v for k, v in common.items() if k not in ("layers", "hidden_size")},
        "kind": kind,
        "file": path.name,
        "opset": OPSET,
        "inputs": {k: {"shape": s, "dtype": sig.input_types[k]} for k, s in sig.inputs.items()},
        "outputs": {k: {"shape": s, "dtype": "float32"} for k, s in sig.outputs.items()},
    }
    if labels is not None:
        entry["labels"] = labels
        entry["input_contract"] = DIGITS_CONTRACT
    if task == "text":
        entry.update(layers=common["layers"], hidden_size=common["hidden_size"])
        entry["input_contract"] = "int64 character indices into vocab (sorted characters of the training text)" + (
            "; hidden starts as zeros [layers,N,hidden_size], feed hidden_out back" if kind == "step" else ""
        )
    if task == "points":
        entry["input_contract"] = (
            "float32 [N,2] points (x, y) in the plane of make_circles; probability is of class 1 (inner circle)"
        )

    _write_metadata(path, entry)
    entry["sha256"] = sha256(path)
    entry["bytes"] = path.stat().st_size
    entry["test_data"] = _write_test_data(graph, entry, out)
    return entry


def example_inputs(task: str, kind: str, entry: dict) -> tuple[torch.Tensor, ...]:
    if task == "digits":
        return (torch.rand(2, 1, 28, 28),)
    if task == "points":
        return (torch.rand(2, 2),)
    V, L = entry["hidden_size"], entry["layers"]
    if kind == "step":
        return (torch.zeros(2, dtype=torch.long), torch.zeros(L, 2, V))
    return (torch.zeros(2, 5, dtype=torch.long),)


def _write_metadata(path: Path, entry: dict) -> None:
    """Everything a runtime needs to use the file, inside it (`metadata_props`)."""
    model = onnx.load(str(path))
    props = {
        "task": entry["task"],
        "kind": entry["kind"],
        "zoo_model": entry["model"],
        "input_contract": entry.get("input_contract", ""),
        "metrics": json.dumps(entry["metrics"]),
        "checkpoint_sha256": entry["checkpoint_sha256"],
        "parameters": str(entry["parameters"]),
    }
    if "labels" in entry:
        props["labels"] = json.dumps(entry["labels"])
    if "vocab" in entry:
        props["vocab"] = json.dumps(entry["vocab"])
        props["layers"], props["hidden_size"] = str(entry["layers"]), str(entry["hidden_size"])
    stamp(model, props, f"{entry['name']}: {get_spec(entry['model']).description}")
    onnx.save(model, str(path))


def stamp(model: onnx.ModelProto, props: dict[str, str], doc: str, producer: str | None = "lecture-zoo") -> None:
    """Replace a model's `metadata_props` with `props` (what a runtime needs to use the file) and set its doc
    string, and its producer where given."""
    del model.metadata_props[:]
    for key, value in props.items():
        model.metadata_props.add(key=key, value=value)
    if producer:
        model.producer_name = producer
    model.doc_string = doc


# ----------------------------------------------------------------------------- test data


def digits_of(entry: dict):
    """The dataset a digit model was trained on, from where its run read it."""
    metrics = entry["metrics"]
    return load_image_dataset(metrics["dataset"], Path(metrics["data_dir"]) if metrics.get("data_dir") else None)


def digit_test_set(data, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The test split as the graphs take it: float32 [N,1,28,28] in [0,1], and the labels."""
    return data.x_test[:limit].astype(np.float32)[:, None] / 255, data.y_test[:limit]


def real_inputs(entry: dict, limit: int | None = None) -> dict[str, np.ndarray]:
    """Real samples for a model: the test split for digits and points, the training text for text."""
    task = entry["task"]
    if task == "digits":
        x, y = digit_test_set(digits_of(entry), limit)
        return {"image": x, "labels": y}
    if task == "points":
        _, _, x, y = load_circles()
        return {"points": x[:limit], "labels": y[:limit]}
    spec = get_spec(entry["model"])
    pairs = corpora.training_pairs(spec.corpus)
    x, _ = pairs[-1] if spec.corpus == "longseq" else pairs[0]  # a lecture window, or the whole text
    indices = np.array([corpora.encode(x, entry["vocab"])], dtype=np.int64)
    if entry["kind"] == "step":
        hidden = np.zeros((entry["layers"], 1, entry["hidden_size"]), dtype=np.float32)
        return {"index": indices[:, 0], "hidden": hidden}
    return {"indices": indices}


def _write_test_data(graph, entry: dict, out: Path) -> str:
    """ONNX backend-test layout: test_data/<name>/test_data_set_0/{input_N,output_N}.pb from PyTorch."""
    folder = out / "test_data" / entry["name"] / "test_data_set_0"
    folder.mkdir(parents=True, exist_ok=True)
    inputs = real_inputs(entry, limit=10)
    feeds = [inputs[name] for name in entry["inputs"]]
    with torch.no_grad():
        outputs = graph(*(torch.from_numpy(a) for a in feeds))
    for i, (name, array) in enumerate(zip(entry["inputs"], feeds, strict=True)):
        (folder / f"input_{i}.pb").write_bytes(numpy_helper.from_array(array, name).SerializeToString())
    for i, (name, tensor) in enumerate(zip(entry["outputs"], outputs, strict=True)):
        array = tensor.numpy()
        (folder / f"output_{i}.pb").write_bytes(numpy_helper.from_array(array, name).SerializeToString())
    return str(folder.relative_to(out))


def _headline_metrics(metrics: dict) -> dict:
    keys = ("dataset", "data_dir", "test_accuracy", "val_accuracy", "val_size", "train_accuracy",
            "next_char_accuracy", "generation_matches", "epochs", "wall_time_s", "device", "threads", "seed",
            "git_commit", "git_dirty", "torch", "python")  # fmt: skip
    return {k: metrics[k] for k in keys if k in metrics}
