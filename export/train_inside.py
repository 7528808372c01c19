"""Inside a model as it trains: `<model>-train-inside.onnx`, every layer of a lecture model from live weights.

The probe models (export/probe.py) show every layer of a *trained* model: their weights are inside the file.
While a model trains in the page its weights change every step, so this graph takes them as inputs, named as
the training files' parameter inputs (`0.weight`, `rnn.weight_ih_l1`, ...): the page feeds the parameters its
trainer already holds, and what it draws is what this graph computes from them.

    digits   x float32 [N, 1, 28, 28] (the 28x28 frame, 0-1 white ink on black, as the canvas models return
             it and the training files take it) + the parameters -> every layer the probe shows (conv1, pool1,
             relu1, ..., fc<k>, each [N, ...]) and `softmax`
    text     x int64 [N, T] (any length) + the parameters -> at every position ([N, T, .]): `one_hot`, the
             hidden state of every layer (`rnn_l0`, `rnn_l1`, ...), `logits`, `probabilities`

The layers and their names are the probe's (`export.probe.layers_of`), listed in the manifest entry's
`layers`, so the page draws them with the same code. The graph is written node by node from the zoo model's
modules (Conv, Relu, MaxPool, Flatten, Gemm; one ONNX `RNN` or `GRU` op per layer, its W, R and B assembled
from PyTorch's tensors inside the graph: a GRU's gates reordered from PyTorch's r, z, n to ONNX's z, r, h; its
initial_h zeros of x's batch, given as PyTorch's exporter gives it, which tract needs for a batch of any size).

Proven in `python -m export --check` (`check_inside`): fed the start weights and the committed run's weights,
every output equals the PyTorch forward hooks of `export.probe.reference` on the same weights, within
export/tolerance.py's float rule, on test digits (and an empty frame) or on the lecture's text.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper
from torch import nn

from export.probe import Layer, layers_of
from zoo.models import build_model, get_spec

OPSET = 18
CONTRACT = ("every layer of the model for `x` from the weights given as inputs (named as the training files' "
            "parameters): digits x float32 [N, 1, 28, 28] in 0-1, text x int64 [N, T] indices in `vocab`")  # fmt: skip


def inside_layers(name: str) -> list[Layer]:
    """The probe's layers of the zoo model `name` (the digit frame first, as the probe lists it)."""
    return layers_of(get_spec(name).task, build_model(name))


def _digit_nodes(model: nn.Sequential, layers: list[Layer]) -> tuple[list, list]:
    """Nodes from `x` to every shown layer and `softmax`, one per module of the Sequential."""
    shown = {layer.module: layer.name for layer in layers if layer.module is not None}
    nodes, x = [], "x"
    for child, module in model.named_children():
        out = shown.get(child, f"inside/{child}")
        if isinstance(module, nn.Conv2d):
            if module.groups != 1 or tuple(module.dilation) != (1, 1):
                raise ValueError(f"{child}: only ungrouped, undilated convolutions")
            pad = [int(p) for p in module.padding]
            nodes.append(helper.make_node("Conv", [x, f"{child}.weight", f"{child}.bias"], [out], name=out,
                                          kernel_shape=list(module.kernel_size), strides=list(module.stride),
                                          pads=pad + pad))  # fmt: skip
        elif isinstance(module, nn.ReLU):
            nodes.append(helper.make_node("Relu", [x], [out], name=out))
        elif isinstance(module, nn.MaxPool2d):
            k, s = (module.kernel_size, module.stride or module.kernel_size)
            nodes.append(helper.make_node("MaxPool", [x], [out], name=out, kernel_shape=[k, k], strides=[s, s]))
        elif isinstance(module, nn.Flatten):
            nodes.append(helper.make_node("Flatten", [x], [out], name=out, axis=1))
        elif isinstance(module, nn.Linear):
            nodes.append(helper.make_node("Gemm", [x, f"{child}.weight", f"{child}.bias"], [out], name=out, transB=1))
        elif isinstance(module, (nn.Dropout, nn.Dropout2d)):  # identity when not training
            nodes.append(helper.make_node("Identity", [x], [out], name=out))
        else:
            raise ValueError(f"{child}: no translation for {type(module).__name__}")
        x = out
    nodes.append(helper.make_node("Softmax", [x], ["softmax"], name="softmax", axis=-1))
    return nodes, []


def _zrn(nodes: list, tensor: str) -> str:
    """A GRU tensor's rows of gates from PyTorch's order (r, z, n) to ONNX's (z, r, h), by nodes added to `nodes`."""
    parts = [f"inside/{tensor}/{g}" for g in "rzn"]
    nodes.append(helper.make_node("Split", [tensor], parts, name=f"inside/{tensor}/split", axis=0, num_outputs=3))
    nodes.append(helper.make_node("Concat", [parts[1], parts[0], parts[2]], [f"inside/{tensor}/zrn"],
                                  name=f"inside/{tensor}/zrn", axis=0))  # fmt: skip
    return f"inside/{tensor}/zrn"


def _text_nodes(model: nn.Module, layers: list[Layer]) -> tuple[list, list]:
    """Nodes from `x` [N, T] to one_hot, rnn_l<k>, logits, probabilities; the one-hot table is the only constant."""
    rnn = model.rnn
    V, H, gru = rnn.input_size, rnn.hidden_size, isinstance(rnn, nn.GRU)
    nodes = [
        helper.make_node("Gather", ["inside/eye", "x"], ["one_hot"], name="one_hot", axis=0),
        helper.make_node("Transpose", ["one_hot"], ["inside/seq0"], name="inside/seq0", perm=[1, 0, 2]),  # [T, N, V]
    ]
    # The first hidden state, zeros [1, N, H] of x's batch, given to every layer as its initial_h (as PyTorch's
    # exporter does): tract builds an absent initial_h as a constant, which a batch of unknown size cannot be
    nodes += [
        helper.make_node("Shape", ["x"], ["inside/N"], name="inside/N", start=0, end=1),
        helper.make_node("Concat", ["inside/axis1", "inside/N", "inside/H"], ["inside/h0/shape"], name="inside/h0/shape", axis=0),
        helper.make_node("ConstantOfShape", ["inside/h0/shape"], ["inside/h0"], name="inside/h0",
                         value=helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0])),
    ]  # fmt: skip
    constants = [helper.make_tensor("inside/eye", TensorProto.FLOAT, [V, V], np.eye(V, dtype=np.float32).ravel()),
                 helper.make_tensor("inside/axis0", TensorProto.INT64, [1], [0]),
                 helper.make_tensor("inside/axis1", TensorProto.INT64, [1], [1]),
                 helper.make_tensor("inside/H", TensorProto.INT64, [1], [H])]  # fmt: skip
    seq = "inside/seq0"

    def gates(tensor: str) -> str:
        return _zrn(nodes, tensor) if gru else tensor

    for k in range(rnn.num_layers):
        p = f"rnn.{{}}_l{k}".format  # a PyTorch tensor of layer k: p("weight_ih") is rnn.weight_ih_l<k>
        w, r = gates(p("weight_ih")), gates(p("weight_hh"))
        b = f"inside/B{k}"
        nodes.extend([
            helper.make_node("Unsqueeze", [w, "inside/axis0"], [f"inside/W{k}"], name=f"inside/W{k}"),
            helper.make_node("Unsqueeze", [r, "inside/axis0"], [f"inside/R{k}"], name=f"inside/R{k}"),
            helper.make_node("Concat", [gates(p("bias_ih")), gates(p("bias_hh"))], [f"{b}/flat"], name=f"{b}/flat", axis=0),
            helper.make_node("Unsqueeze", [f"{b}/flat", "inside/axis0"], [b], name=b),
        ])  # fmt: skip
        attrs = {"hidden_size": H, "linear_before_reset": 1} if gru else {"hidden_size": H, "activations": [
            {"tanh": "Tanh", "relu": "Relu"}[rnn.nonlinearity]]}  # fmt: skip
        nodes.append(helper.make_node("GRU" if gru else "RNN", [seq, f"inside/W{k}", f"inside/R{k}", b, "", "inside/h0"],
                                      [f"inside/Y{k}"], name=f"inside/rnn{k}", **attrs))  # fmt: skip
        nodes.append(helper.make_node("Squeeze", [f"inside/Y{k}", "inside/axis1"], [f"inside/seq{k + 1}"], name=f"inside/seq{k + 1}"))  # fmt: skip
        nodes.append(helper.make_node("Transpose", [f"inside/seq{k + 1}"], [f"rnn_l{k}"], name=f"rnn_l{k}", perm=[1, 0, 2]))  # fmt: skip
        seq = f"inside/seq{k + 1}"
    last = f"rnn_l{rnn.num_layers - 1}"
    if model.fc is not None:
        nodes.extend(
            [
                helper.make_node("Transpose", ["fc.weight"], ["inside/fcT"], name="inside/fcT", perm=[1, 0]),
                helper.make_node("MatMul", [last, "inside/fcT"], ["inside/fc"], name="inside/fc"),
                helper.make_node("Add", ["inside/fc", "fc.bias"], ["logits"], name="logits"),
            ]
        )
    else:  # hihello, charseq: the last layer's state is the logits
        nodes.append(helper.make_node("Identity", [last], ["logits"], name="logits"))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], name="probabilities", axis=-1))
    return nodes, constants


def inside_model(name: str) -> onnx.ModelProto:
    """`name`'s inside graph: x and the parameters in (batch dynamic; text length dynamic), every layer out."""
    model = build_model(name).eval()
    task = get_spec(name).task
    layers = inside_layers(name)
    nodes, constants = (_digit_nodes if task == "digits" else _text_nodes)(model, layers)
    if task == "digits":
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 28, 28])
        outputs = [helper.make_tensor_value_info(layer.name, TensorProto.FLOAT, ["N", *layer.shape])
                   for layer in layers if layer.op != "Input"]  # fmt: skip
    else:
        x = helper.make_tensor_value_info("x", TensorProto.INT64, ["N", "T"])
        outputs = [helper.make_tensor_value_info(layer.name, TensorProto.FLOAT, ["N", "T", *layer.shape])
                   for layer in layers]  # fmt: skip
    params = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(p.shape)) for n, p in model.named_parameters()]
    graph = helper.make_graph(nodes, f"{name}-train-inside", [x, *params], outputs, initializer=constants)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="lecture-zoo export/train_inside.py")  # fmt: skip
    proto.ir_version = 8
    for key, value in {"kind": "train-inside", "model": name, "contract": CONTRACT}.items():
        proto.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def inside_entry(name: str, out: Path, start: dict) -> dict:
    """Write `<name>-train-inside.onnx` into `out`; its manifest entry (`weights`: the training files' start)."""
    from export.train_graphs import _io, _sha

    spec = get_spec(name)
    path = Path(out) / f"{name}-train-inside.onnx"
    proto = inside_model(name)
    onnx.save(proto, str(path))
    inputs, outputs = _io(proto)
    entry = {
        "name": f"{name}-train-inside", "kind": "train-inside", "task": spec.task, "model": name, "run": f"{name}-train",
        "file": path.name, "sha256": _sha(path), "bytes": path.stat().st_size, "opset": OPSET,
        # x; the file also takes every tensor of `weights.tensors` by its name (kept out, as the train entries do)
        "inputs": {k: v for k, v in inputs.items() if k not in start["tensors"]}, "outputs": outputs,
        "input_contract": CONTRACT, "layers": [layer.as_json() for layer in inside_layers(name)],
        "parameters": sum(t["length"] for t in start["tensors"].values()), "weights": start, "metrics": {},
    }  # fmt: skip
    if spec.task == "text":
        from zoo import corpora

        entry["vocab"] = corpora.vocab(spec.corpus)
    print(f"{entry['name']:<26} inside {entry['bytes'] / 1024:>7.1f} KB  -> {path}")
    return entry


# ----------------------------------------------------------------------------- the proof


def proof_inputs(entry: dict, models_dir: Path) -> list[tuple[str, np.ndarray]]:
    """What the proof feeds: 100 validation digits and an empty frame; the lecture's batch and its whole text."""
    from export import train_graphs as tg
    from zoo import corpora

    if entry["task"] == "digits":
        from zoo.data import load_mnist5k

        digits = load_mnist5k().x_val[:100].astype(np.float32)[:, None] / 255
        return [("100 validation digits", digits), ("an empty frame", np.zeros((1, 1, 28, 28), np.float32))]
    x, _ = tg.text_batch(entry["model"])
    whole = np.array([corpora.encode(corpora.CORPORA[get_spec(entry["model"]).corpus], entry["vocab"])], np.int64)
    return [(f"the lecture's batch {list(x.shape)}", x), (f"the whole text ({whole.shape[1]} characters)", whole)]


def committed_weights(entry: dict, models_dir: Path) -> dict[str, np.ndarray]:
    """The parameters of the committed run of the entry's model (its checkpoint, sha256-checked)."""
    from export.checks import ChecksumMismatch
    from zoo import manifest as zoo_manifest
    from zoo.models import load_checkpoint

    full = next((e for e in zoo_manifest.load(models_dir) if e["kind"] == "full" and e["run"] == entry["model"]), None)
    if full is None:
        raise ChecksumMismatch(f"{entry['name']}: no committed run of {entry['model']} in the manifest")
    try:
        path = zoo_manifest.checked_file(full, models_dir, "checkpoint", "checkpoint_sha256")
    except zoo_manifest.ManifestError as error:
        raise ChecksumMismatch(f"{entry['name']}: {error}") from None
    model, _ = load_checkpoint(path)
    return {n: p.detach().numpy().copy() for n, p in model.named_parameters()}


def check_inside(entry: dict, models_dir: Path) -> tuple[float, float, int]:
    """The entry's file against PyTorch's hooks (export.probe.reference) from the start and the committed
    weights: (the largest difference, the largest difference / max |PyTorch output|, the outputs compared).
    VerificationError naming what differs."""
    import onnxruntime as ort

    from export import train_graphs as tg
    from export.checks import ShapeMismatch, ValuesMismatch, check_file
    from export.probe import reference
    from export.tolerance import FLOAT_ATOL, Tolerance, judge

    models_dir = Path(models_dir)
    path = check_file(entry, models_dir)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    layers = inside_layers(entry["model"])
    if [layer.as_json() for layer in layers] != entry["layers"]:
        raise ValuesMismatch(f"{entry['name']}: the manifest's layers are not {entry['model']}'s probe layers")
    rule = Tolerance(FLOAT_ATOL)
    worst, worst_rel, compared = 0.0, 0.0, 0
    weight_sets = [("the start weights", tg.read_start(entry["weights"], models_dir)),
                   ("the committed run's weights", committed_weights(entry, models_dir))]  # fmt: skip
    for which, weights in weight_sets:
        model = build_model(entry["model"]).eval()
        with torch.no_grad():
            for n, p in model.named_parameters():
                p.copy_(torch.from_numpy(weights[n]))
        for described, x in proof_inputs(entry, models_dir):
            want = reference(entry["task"], model, layers, x)
            got = dict(zip(names, session.run(None, {"x": x, **weights}), strict=True))
            for name in names:
                if got[name].shape != want[name].shape:
                    raise ShapeMismatch(f"{entry['name']}: output {name!r} on {described} with {which}: shape "
                                        f"{got[name].shape}, PyTorch {want[name].shape}")  # fmt: skip
                diff = float(np.abs(got[name].astype(np.float64) - want[name]).max())
                broken = judge(entry["name"], name, rule, diff, None)
                if broken:
                    raise ValuesMismatch(f"{broken} (on {described}, with {which}; PyTorch's forward hooks)")
                worst, compared = max(worst, diff), compared + 1
                worst_rel = max(worst_rel, diff / max(float(np.abs(want[name]).max()), 1e-12))
    return worst, worst_rel, compared


def check_insides(entries: dict[str, dict], models_dir: Path) -> tuple[list, list]:
    """Rows and failures for `export.verify.check_all`: every `train-inside` entry."""
    from export.checks import Row, VerificationError

    rows, failures = [], []
    for entry in entries.values():
        if entry["kind"] != "train-inside":
            continue
        started = time.perf_counter()
        try:
            worst, worst_rel, compared = check_inside(entry, models_dir)
        except (VerificationError, onnx.checker.ValidationError) as error:
            failures.append(
                error if isinstance(error, VerificationError) else VerificationError(f"{entry['name']}: {error}")
            )
            continue
        rows.append(Row(entry["name"], "train-inside", max_abs=worst, max_rel=worst_rel,
                        agreement=f"every layer = PyTorch's hooks, start and committed weights ({compared} outputs, "
                                  f"{time.perf_counter() - started:.1f} s)",
                        size_kb=entry["bytes"] / 1024, checks=compared))  # fmt: skip
    return rows, failures
