"""Probe models: every layer of a zoo model as an output of its own, for the views that show what happens inside.

    <digit model>-probe.onnx   image uint8 [H, W, 4] RGBA -> what <digit model>-canvas.onnx returns (probabilities,
                               frame, ink, contrast), then the frame as the network sees it, every Conv2d,
                               BatchNorm2d, ReLU, MaxPool2d and Linear output, and the softmax
    <text model>-probe.onnx    indices int64 [N, T] -> for every position: one_hot, each RNN/GRU layer's hidden
                               state (rnn_l0, rnn_l1, ...), logits, probabilities
    circles-probe.onnx         points float32 [N, 2] -> linear1, hidden (its sigmoid), linear2 (the logit),
                               probability

The verified files stay as they are: a probe is exported again from the same checkpoint, and `python -m export
--check` proves each of its outputs against a PyTorch forward hook on the module it names (`reference` below is
that oracle) and its answer equal to the canvas or full model's.

How each kind is made:
- digits: the zoo model is exported (dynamo) with every layer as a graph output; an output that is also used
  further on cannot be folded away, so BatchNorm stays a `BatchNormalization` node as the code defines it, not
  folded into the convolution. The sketch recipe is fused in front by `export.canvas.canvas_model`, the same
  function that makes the canvas models, so the probe sees the very frame the canvas model sees. Without ink
  (a blank canvas or a speck) the frame is all zeros: the layers are then the layers of the all-zero frame,
  `softmax` is what the network says of it, and `probabilities` is all zeros, exactly as the canvas model's.
- text: a stacked `nn.RNN` exposes only its last layer's sequence, so each layer is exported as its own ONNX
  `RNN` (or `GRU`) op with that layer's weights (TorchScript exporter, dynamic length, as export/onnx.py does).
- circles: `Linear -> sigmoid -> Linear -> sigmoid`, each step an output.

The weights a viewer needs to write out one cell's arithmetic (kernels, biases, BatchNorm's statistics and its
folded scale and shift, Linear and RNN matrices) are in `<run>-weights.bin`: raw little-endian float32, indexed
in the manifest entry's `weights` (tensor name -> byte offset, length, shape), with its sha256.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from torch import nn

from export.canvas import CONTRACT as CANVAS_CONTRACT
from export.canvas import OPSET, canvas_model, test_canvas
from export.canvas import OUTPUTS as CANVAS_OUTPUTS
from zoo.models import load_checkpoint

PROBED = {"digits", "text", "points"}  # tasks whose full models get a probe
# Digit layers shown, by class: the name stem and the manifest op. Dropout (identity at inference) and Flatten
# (a reshape: the next Linear's input is the previous map, flattened C, H, W) are not outputs.
_DIGIT_OPS = {nn.Conv2d: ("conv", "Conv2d"), nn.BatchNorm2d: ("bn", "BatchNorm2d"), nn.ReLU: ("relu", "ReLU"),
              nn.MaxPool2d: ("pool", "MaxPool2d"), nn.Linear: ("fc", "Linear")}  # fmt: skip
_SKIPPED = (nn.Dropout, nn.Dropout2d, nn.Flatten)
FLOAT_ORDER = "<f4"  # the weights file: little-endian float32


@dataclass
class Layer:
    """One probe output as the manifest lists it (`layers`), in the order the network computes them.

    `module` is the name in the zoo model's `named_modules()`; None where the tensor is not a module's output
    (the frame or one-hot the network reads, a softmax or sigmoid written as a function): then `input_of` names
    the module that reads it, or it is `op` applied to the layer before it. `layer` is k for the k-th layer of a
    stacked RNN. `shape` is per sample (per position for text). `params` maps a role (weight, bias, ...) to a
    tensor of the weights file."""

    name: str
    module: str | None
    op: str
    shape: list[int]
    layer: int | None = None
    kernel: list[int] | None = None
    stride: list[int] | None = None
    padding: list[int] | None = None
    input_of: str | None = None
    same_as: str | None = None  # an output that is the same tensor as another (hihello's logits = its RNN state)
    eps: float | None = None  # BatchNorm2d
    activation: str | None = None  # RNN: tanh or relu
    params: dict[str, str] | None = None

    def as_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None or k in ("module",)}


def probed(entry: dict) -> bool:
    """Whether a manifest entry gets a probe: every float (full) digit, text and points model."""
    return entry["kind"] == "full" and entry["task"] in PROBED


def _pair(value) -> list[int]:
    return [int(v) for v in value] if isinstance(value, (tuple, list)) else [int(value), int(value)]


# ----------------------------------------------------------------------------- the layers of each kind


def digit_layers(model: nn.Module) -> list[Layer]:
    """The frame, every shown layer of a Sequential digit model (named conv1, bn1, relu1, pool1, fc1, ...,
    numbered per kind in order), then the softmax."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"a digit probe walks an nn.Sequential; got {type(model).__name__}")
    shapes = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, list(o.shape[1:])))
             for n, m in model.named_children()]  # fmt: skip
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for hook in hooks:
        hook.remove()
    layers = [Layer("frame", None, "Input", [1, 28, 28], input_of=next(iter(model._modules)))]
    counts: dict[str, int] = {}
    for name, module in model.named_children():
        if isinstance(module, _SKIPPED):
            continue
        stem, op = next((v for k, v in _DIGIT_OPS.items() if isinstance(module, k)), (type(module).__name__.lower(), type(module).__name__))  # fmt: skip
        counts[stem] = counts.get(stem, 0) + 1
        layer = Layer(f"{stem}{counts[stem]}", name, op, shapes[name])
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            layer.kernel, layer.stride, layer.padding = (_pair(module.kernel_size), _pair(module.stride),
                                                         _pair(module.padding))  # fmt: skip
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            layer.params = {"weight": f"{name}.weight", "bias": f"{name}.bias"}
        if isinstance(module, nn.BatchNorm2d):
            layer.eps = float(module.eps)
            layer.params = {
                k: f"{name}.{k}" for k in ("weight", "bias", "running_mean", "running_var", "scale", "shift")
            }
        layers.append(layer)
    layers.append(Layer("softmax", None, "Softmax", layers[-1].shape))
    return layers


def text_layers(model: nn.Module) -> list[Layer]:
    """one_hot, rnn_l0 .. rnn_l{L-1} (the hidden state of each layer), logits, probabilities; per position."""
    op = {nn.RNN: "RNN", nn.GRU: "GRU"}[type(model.rnn)]
    V, H = model.rnn.input_size, model.rnn.hidden_size
    layers = [Layer("one_hot", None, "OneHot", [V], input_of="rnn")]
    for k in range(model.rnn.num_layers):
        layers.append(Layer(f"rnn_l{k}", "rnn", op, [H], layer=k,
                            activation=getattr(model.rnn, "nonlinearity", None),
                            params={p: f"rnn.{p}_l{k}" for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}))  # fmt: skip
    last = layers[-1]
    if model.fc is not None:
        layers.append(Layer("logits", "fc", "Linear", [model.fc.out_features],
                            params={"weight": "fc.weight", "bias": "fc.bias"}))  # fmt: skip
    else:  # hihello, charseq: hidden size = vocabulary size, the last RNN layer's state *is* the logits
        layers.append(Layer("logits", "rnn", op, [H], layer=last.layer, same_as=last.name,
                            activation=last.activation, params=last.params))  # fmt: skip
    layers.append(Layer("probabilities", None, "Softmax", [layers[-1].shape[0]]))
    return layers


def points_layers(model: nn.Module) -> list[Layer]:
    """linear1 (pre-activation), hidden (its sigmoid: what linear2 reads), linear2 (the logit), probability."""
    hidden, out = model.linear1.out_features, model.linear2.out_features
    return [
        Layer("linear1", "linear1", "Linear", [hidden], params={"weight": "linear1.weight", "bias": "linear1.bias"}),
        Layer("hidden", None, "Sigmoid", [hidden], input_of="linear2"),
        Layer("linear2", "linear2", "Linear", [out], params={"weight": "linear2.weight", "bias": "linear2.bias"}),
        Layer("probability", None, "Sigmoid", [out]),
    ]


def layers_of(task: str, model: nn.Module) -> list[Layer]:
    return {"digits": digit_layers, "text": text_layers, "points": points_layers}[task](model)


# ----------------------------------------------------------------------------- the graphs


class DigitProbeGraph(nn.Module):
    """image float32 [N,1,28,28] -> every shown layer's output, then probabilities (the softmax)."""

    def __init__(self, model: nn.Sequential, layers: list[Layer]):
        super().__init__()
        self.model = model
        self.shown = [layer.module for layer in layers if layer.module is not None]

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outputs, x = [], image
        for name, module in self.model.named_children():
            x = module(x)
            if name in self.shown:
                outputs.append(x)
        return (*outputs, torch.softmax(x, dim=-1))


class TextProbeGraph(nn.Module):
    """indices int64 [N,T] -> one_hot, each layer's hidden states, logits, probabilities ([N,T,.] each).

    Each layer of the stacked RNN is its own single-layer RNN here, holding that layer's weights, so that the
    exporter writes one ONNX RNN/GRU op per layer and every layer's states are an output."""

    def __init__(self, model: nn.Module):
        super().__init__()
        rnn = model.rnn
        self.register_buffer("one_hot", model.one_hot.clone(), persistent=False)
        self.layers = nn.ModuleList()
        for k in range(rnn.num_layers):
            single = type(rnn)(rnn.input_size if k == 0 else rnn.hidden_size, rnn.hidden_size, num_layers=1,
                               batch_first=True, **({"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}))  # fmt: skip
            for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(single, f"{p}_l0").data.copy_(getattr(rnn, f"{p}_l{k}").data)
            self.layers.append(single)
        self.fc = model.fc

    def forward(self, indices: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.one_hot[indices]
        outputs = [x]
        for layer in self.layers:
            x, _ = layer(x)
            outputs.append(x)
        logits = self.fc(x) if self.fc is not None else x
        return (*outputs, logits, torch.softmax(logits, dim=-1))


class PointsProbeGraph(nn.Module):
    """points float32 [N,2] -> linear1 [N,4], hidden [N,4], linear2 [N,1], probability [N,1]."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, points: torch.Tensor) -> tuple[torch.Tensor, ...]:
        pre = self.model.linear1(points)
        hidden = torch.sigmoid(pre)
        logit = self.model.linear2(hidden)
        return pre, hidden, logit, torch.sigmoid(logit)


def _export_dynamo(
    graph: nn.Module, example: torch.Tensor, input_name: str, output_names: list[str]
) -> onnx.ModelProto:
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(folder) / "probe.onnx"
        torch.onnx.export(graph.eval(), (example,), path, dynamo=True, opset_version=OPSET, external_data=False,
                          input_names=[input_name], output_names=output_names,
                          dynamic_shapes=({0: torch.export.Dim("N", min=1, max=1 << 20)},), verbose=False)  # fmt: skip
        return onnx.load(str(path))


def digit_probe_model(model: nn.Sequential, layers: list[Layer]) -> onnx.ModelProto:
    """The canvas model (recipe + digit model, export/canvas.py) with every layer as an extra output."""
    shown = [layer for layer in layers if layer.module is not None]
    classifier = _export_dynamo(DigitProbeGraph(model, layers), torch.rand(2, 1, 28, 28), "image",
                                [layer.name for layer in shown] + ["probabilities"])  # fmt: skip
    merged = canvas_model(classifier)  # outputs probabilities (masked by ink), frame, ink, contrast
    inside = {layer.name: f"model/{layer.name}" for layer in shown} | {"softmax": "model/probabilities"}
    for layer in layers[1:]:  # the frame is already an output ([28, 28]); `layers` says how the network reads it
        source = inside[layer.name]
        merged.graph.node.append(helper.make_node("Identity", [source], [layer.name], name=f"out/{layer.name}"))
        merged.graph.output.append(helper.make_tensor_value_info(layer.name, onnx.TensorProto.FLOAT, [1, *layer.shape]))
    onnx.checker.check_model(merged, full_check=True)
    return merged


def text_probe_model(model: nn.Module, layers: list[Layer]) -> onnx.ModelProto:
    """TextProbeGraph through the TorchScript exporter: ONNX RNN/GRU ops, dynamic batch and length."""
    names = [layer.name for layer in layers]
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation warning (see export/onnx.py)
        path = Path(folder) / "probe.onnx"
        torch.onnx.export(TextProbeGraph(model).eval(), (torch.zeros(2, 5, dtype=torch.long),), path, dynamo=False,
                          opset_version=OPSET, input_names=["indices"], output_names=names,
                          dynamic_axes={n: {0: "N", 1: "T"} for n in ["indices", *names]})  # fmt: skip
        return onnx.load(str(path))


def points_probe_model(model: nn.Module, layers: list[Layer]) -> onnx.ModelProto:
    return _export_dynamo(PointsProbeGraph(model), torch.rand(2, 2), "points", [layer.name for layer in layers])


# ----------------------------------------------------------------------------- the oracle


def reference(task: str, model: nn.Module, layers: list[Layer], feed: np.ndarray) -> dict[str, np.ndarray]:
    """What each probe output must be, from PyTorch forward hooks on the module it names (forward pre-hooks for
    a tensor a module reads; `op` on the previous layer for a softmax or sigmoid). Digits: `feed` is the frames
    float32 [n,1,28,28] (a probe's `frame` outputs, stacked); text: indices [N,T]; points: [N,2].

    A stacked RNN's hook returns its last layer's states at every position and every layer's state at the last
    position only; layer k's state at position t is read from the hook as the model runs step by step, its
    hidden state carried (`forward_with_state`)."""
    captured: dict[str, np.ndarray] = {}
    hooks = []
    for layer in layers:
        if layer.module is not None and layer.op not in ("RNN", "GRU"):
            hooks.append(model.get_submodule(layer.module).register_forward_hook(
                lambda m, i, o, name=layer.name: captured.__setitem__(name, o.numpy())))  # fmt: skip
        elif layer.input_of is not None:
            hooks.append(model.get_submodule(layer.input_of).register_forward_pre_hook(
                lambda m, i, name=layer.name: captured.__setitem__(name, i[0].numpy())))  # fmt: skip
    recurrent = [layer for layer in layers if layer.op in ("RNN", "GRU")]
    if recurrent:  # the full sequence: the last layer's states at every position
        hooks.append(model.get_submodule("rnn").register_forward_hook(
            lambda m, i, o: captured.__setitem__("rnn/output", o[0].numpy())))  # fmt: skip
    try:
        with torch.no_grad():
            model(torch.from_numpy(feed))
    finally:
        for hook in hooks:
            hook.remove()
    if recurrent:
        steps, last = _states_step_by_step(model, feed), model.get_submodule("rnn").num_layers - 1
        for layer in recurrent:
            captured[layer.name] = captured["rnn/output"] if layer.layer == last else steps[layer.layer]
    previous = None
    for layer in layers:
        if layer.name not in captured:
            x = torch.from_numpy(captured[previous])
            captured[layer.name] = (torch.softmax(x, -1) if layer.op == "Softmax" else torch.sigmoid(x)).numpy()
        previous = layer.name
    return {layer.name: captured[layer.name] for layer in layers}


def _states_step_by_step(model: nn.Module, indices: np.ndarray) -> np.ndarray:
    """Every layer's hidden state at every position [layers, N, T, H], from the `rnn` module's hook (h_n) as
    the model reads one character at a time."""
    finals: list[np.ndarray] = []
    hook = model.get_submodule("rnn").register_forward_hook(lambda m, i, o: finals.append(o[1].numpy()))
    try:
        with torch.no_grad():
            hidden = None
            for t in range(indices.shape[1]):
                _, hidden = model.forward_with_state(torch.from_numpy(indices[:, t : t + 1]), hidden)
    finally:
        hook.remove()
    return np.stack(finals, axis=2)


# ----------------------------------------------------------------------------- the weights file


def weight_tensors(task: str, model: nn.Module, layers: list[Layer]) -> dict[str, np.ndarray]:
    """Every float tensor of the state dict, in its order, plus each BatchNorm2d's folded `scale` and `shift`
    (computed in float64, rounded to float32): bn(x) = scale * x + shift, up to float32 rounding."""
    tensors = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items() if v.is_floating_point()}
    for layer in layers:
        if layer.op == "BatchNorm2d":
            bn = model.get_submodule(layer.module)
            gamma, beta, mean, var = (getattr(bn, k).detach().double().numpy() for k in ("weight", "bias", "running_mean", "running_var"))  # fmt: skip
            scale = gamma / np.sqrt(var + bn.eps)
            tensors[f"{layer.module}.scale"] = scale.astype(np.float32)
            tensors[f"{layer.module}.shift"] = (beta - mean * scale).astype(np.float32)
    return tensors


def write_weights(tensors: dict[str, np.ndarray], path: Path) -> dict:
    """Raw little-endian float32, one tensor after another; returns the index (byte offset, length, shape)."""
    index, offset = {}, 0
    with open(path, "wb") as f:
        for name, array in tensors.items():
            data = np.ascontiguousarray(array, dtype=FLOAT_ORDER).tobytes()
            f.write(data)
            index[name] = {"offset": offset, "length": int(array.size), "shape": list(array.shape)}
            offset += len(data)
    return index


def read_weights(path: Path, index: dict) -> dict[str, np.ndarray]:
    blob = Path(path).read_bytes()
    return {name: np.frombuffer(blob, FLOAT_ORDER, t["length"], t["offset"]).reshape(t["shape"]).astype(np.float32)
            for name, t in index.items()}  # fmt: skip


# ----------------------------------------------------------------------------- export


def export_probe(entry: dict, out: Path) -> dict:
    """`<out>/<name>-probe.onnx` and `<out>/<run>-weights.bin` from the checkpoint of the full model `entry`."""
    from export.onnx import real_inputs, sha256, stamp

    out = Path(out)
    model, _ = load_checkpoint(out / entry["checkpoint"])
    task = entry["task"]
    layers = layers_of(task, model)
    make = {"digits": digit_probe_model, "text": text_probe_model, "points": points_probe_model}[task]
    probe = make(model, layers)
    name = f"{entry['name']}-probe"
    path = out / f"{name}.onnx"

    keep = ("model", "run", "task", "checkpoint", "checkpoint_sha256", "parameters", "metrics", "labels", "vocab",
            "hidden_size")  # fmt: skip
    layer_outputs = {layer.name: {"shape": _output_shape(task, layer), "dtype": "float32"}
                     for layer in layers if not (task == "digits" and layer.name == "frame")}  # fmt: skip
    if task == "digits":
        inputs = {"image": {"shape": ["H", "W", 4], "dtype": "uint8"}}
        outputs = {k: {"shape": s, "dtype": d, "doc": doc} for k, (d, s, doc) in CANVAS_OUTPUTS.items()} | layer_outputs
        contract = (f"{CANVAS_CONTRACT} Also returns every layer's output for the frame (batch 1); without ink the "
                    "frame is zeros, the layers are those of the all-zero frame and `probabilities` is zeros.")  # fmt: skip
    else:
        inputs, outputs, contract = entry["inputs"], layer_outputs, entry["input_contract"]
    probe_entry = {
        "name": name,
        **{k: entry[k] for k in keep if k in entry},
        "kind": "probe",
        "base_model": entry["name"],
        **({"canvas_model": f"{entry['name']}-canvas"} if task == "digits" else {}),
        "file": path.name,
        "opset": OPSET,
        "inputs": inputs,
        "outputs": outputs,
        "input_contract": contract,
        "layers": [layer.as_json() for layer in layers],
    }
    props = {
        "task": task, "kind": "probe", "base_model": entry["name"], "zoo_model": entry["model"],
        "input_contract": contract, "metrics": json.dumps(entry["metrics"]), "layers": json.dumps(probe_entry["layers"]),
        "checkpoint_sha256": entry["checkpoint_sha256"], "parameters": str(entry["parameters"]),
    }  # fmt: skip
    for key in ("labels", "vocab"):
        if key in entry:
            props[key] = json.dumps(entry[key])
    stamp(probe, props, f"{name}: every layer of {entry['name']} as an output (module names in the manifest's layers)")
    onnx.save(probe, str(path))
    probe_entry["sha256"], probe_entry["bytes"] = sha256(path), path.stat().st_size

    weights_path = out / f"{entry['run']}-weights.bin"
    index = write_weights(weight_tensors(task, model, layers), weights_path)
    probe_entry["weights"] = {"file": weights_path.name, "sha256": sha256(weights_path),
                              "bytes": weights_path.stat().st_size, "dtype": "float32", "byte_order": "little",
                              "tensors": index}  # fmt: skip

    # test_data_set_0: the drawn 7 of the canvas models, the training text, ten held-out points; the expected
    # layers from PyTorch hooks, the canvas outputs from the reference recipe (as the canvas models' own).
    if task == "digits":
        feeds = {"image": test_canvas()}
        expected = _digit_expected(feeds["image"], model, layers, out / entry["file"])
    else:
        real = real_inputs(entry, limit=10)
        feeds = {k: real[k] for k in inputs}
        expected = reference(task, model, layers, feeds[next(iter(inputs))])
    folder = out / "test_data" / name / "test_data_set_0"
    folder.mkdir(parents=True, exist_ok=True)
    for i, (key, array) in enumerate(feeds.items()):
        (folder / f"input_{i}.pb").write_bytes(numpy_helper.from_array(array, key).SerializeToString())
    for i, key in enumerate(outputs):
        array = np.asarray(expected[key])
        (folder / f"output_{i}.pb").write_bytes(numpy_helper.from_array(array, key).SerializeToString())
    probe_entry["test_data"] = str(folder.relative_to(out))
    return probe_entry


def _output_shape(task: str, layer: Layer) -> list:
    if task == "digits":
        return [1, *layer.shape]
    return ["N", "T", *layer.shape] if task == "text" else ["N", *layer.shape]


def _digit_expected(rgba: np.ndarray, model: nn.Module, layers: list[Layer], classifier_path: Path) -> dict:
    import onnxruntime as ort

    from export.canvas import reference as canvas_reference

    classifier = ort.InferenceSession(str(classifier_path), providers=["CPUExecutionProvider"])
    answer = canvas_reference(rgba, classifier)
    inside = reference("digits", model, layers, answer["frame"][None, None])
    return answer | {k: v for k, v in inside.items() if k != "frame"}
