"""models/README.md, the model card, written from the manifest so its figures cannot drift from the files."""

from __future__ import annotations

from pathlib import Path

from export.tolerance import FLOAT_ATOL, INT8_STEPS
from zoo.models import get_spec
from zoo.pictures import MIN_CONTRAST

_HEADER = """# Model card: lecture-zoo ONNX models

Written by `python -m export all` from `manifest.json`; do not edit by hand. Every file is verified
against its PyTorch checkpoint by `python -m export --check` (docs/export.md shows its table).

All files are self-contained ONNX (opset {opset}), run in any ONNX Runtime (Python, Node, web, C++, ...)
without this repository. Each carries its contract in `metadata_props` (task, labels or vocab, input
contract, metrics, checkpoint sha256), and a `test_data/<name>/test_data_set_0/` folder in the ONNX
backend-test layout (`input_N.pb`, `output_N.pb`, expected outputs from PyTorch on real samples).

## Canvas models: a picture in, a digit out, in any runtime
`<digit model>-canvas.onnx` is the digit model with the sketch recipe in front of it, as ONNX ops: feed the
pixels of any picture as they are and read the digit. This is what the demo and the browser page run.

- input `image`: **uint8 `[H, W, 4]` RGBA**, any H and W from 1 (a browser's `getImageData().data`, a
  decoded PNG/JPEG; an opaque picture has alpha 255).
- outputs: `probabilities` float32 `[1, 10]`; `frame` float32 `[28, 28]`, the frame the model saw;
  `ink` bool `[]`, **false for a blank canvas, a picture of only noise or a speck: then say "draw a
  digit"** (the probabilities are all zeros, never a guess); `contrast` float32 `[]`, the peak ink contrast
  (below {min_contrast} the picture is blank; 0 also when it is only noise, grainy paper without a drawing;
  otherwise no ink means a speck).
- the recipe: ink from alpha when the background is transparent, else the distance from the border's
  median colour (either polarity, coloured ink); faint texture dropped; crop to the ink; fine strokes
  thickened; fit into 20x20 keeping the aspect ratio; centre by mass in 28x28 (the MNIST recipe). Pictures
  over 1024 px a side are reduced first, so a 4000x3000 photo stays cheap.
- proven by `python -m export --check` against `export/reference.py` (the reference, numpy + Pillow) on
  2,110 canvases: the same ink decision everywhere, bit-identical frames and probabilities.

```python
import numpy as np, onnxruntime as ort
from PIL import Image
session = ort.InferenceSession("models/cnn-bn-canvas.onnx")
rgba = np.asarray(Image.open("digit.png").convert("RGBA"))
probabilities, frame, ink, contrast = session.run(None, {{"image": rgba}})
print(probabilities.argmax() if ink else "no digit: draw one")
```

## What another runtime must reproduce (and why INT8 differs by CPU)
Every check of a model in another runtime (onnxruntime-node, onnxruntime-web, Python's ONNX Runtime on
another machine) runs its `test_data_set_0` and holds it to one rule (`export/tolerance.py`):

- float outputs (every float model; a canvas model's `frame`, `ink` and `contrast`, INT8 or not):
  max abs diff <= {float_atol:g};
- INT8 outputs (the `logits` of `*-int8`, which a `DequantizeLinear` computes): within {int8_steps}
  quantisation steps of that output, and the same argmax on every test sample; the `probabilities` of `*-int8`
  and `*-int8-canvas` are a float Softmax of those INT8 logits, held to {int8_steps} steps of half the logits'
  step (a Softmax moves no probability by more than half the largest change of its inputs).

The INT8 weights have 7 bits (|w| <= 64): no two u8 x s8 products, summed in 16 bits as AVX2 CPUs without
VNNI do (`vpmaddubsw`), can leave the int16 range, so every CPU (AVX2, AVX-512 VNNI, wasm SIMD) computes the
graph's integers (`tests/test_engines.py` reads every INT8 layer's weights and emulates the instruction on the
graphs). Requantisation can still round a value to the neighbouring step in another runtime; expect an INT8
model's logits to differ by a step or so there, and its answer on a clear digit not at all. The float models
give the same numbers everywhere to 1e-5: use them where results must match across machines.

## Preprocessing for the plain digit models
Input `image`: float32 `[N,1,28,28]`, values in [0,1], **white ink on black**. From a photo or a canvas:
find the ink (alpha channel if the background is transparent, else the pixels that differ from the
background), crop to it, fit it into 20x20 keeping the aspect ratio, paste it into 28x28 so that its centre
of mass is at the centre (the MNIST recipe): the canvas models above do exactly this.

## Use from Python
```python
import numpy as np, onnxruntime as ort
session = ort.InferenceSession("models/cnn.onnx")
logits, probabilities = session.run(None, {{"image": np.zeros((1, 1, 28, 28), np.float32)}})
```
Char models: `session.run(None, {{"indices": np.array([[3, 1, 4]], np.int64)}})`; step models take
`index` `[N]` and `hidden` `[layers,N,hidden_size]` (zeros to start) and return `hidden_out` to feed back.

## Use from JavaScript (onnxruntime-node; onnxruntime-web is the same API)
```js
const ort = require("onnxruntime-node");
const session = await ort.InferenceSession.create("models/cnn.onnx");
const image = new ort.Tensor("float32", new Float32Array(28 * 28), [1, 1, 28, 28]);
const {{ logits, probabilities }} = await session.run({{ image }});
```
`tests/node/check_models.mjs` runs every model on its `test_data_set_0` this way.

## Models
| name | kind | task | architecture | parameters | file | size | accuracy |
|---|---|---|---|---|---|---|---|
"""


def _accuracy(entry: dict) -> str:
    m = entry["metrics"]
    if entry["kind"] == "train":
        return f"one training step, {entry['optimizer']} (proven against torch.optim)"
    if entry["kind"] == "train-inside":
        return "every layer from the weights given (proven against PyTorch's hooks)"
    if entry["task"] == "text":
        return f"next-char {m['next_char_accuracy']:.1%}; generation reproduces text: {m['generation_matches']}"
    if entry["kind"] in ("canvas", "probe", "replay"):
        return f"{m['test_accuracy']:.2%} test ({m['dataset']}), as {entry['base_model']}"
    return f"{m['test_accuracy']:.2%} test ({m['dataset']})"


_PROBES = """
## Probe models: every layer as an output
`<model>-probe.onnx` (kind `probe`, `base_model` the model it shows) is that model with every layer its code
defines as an output of its own, for views that show what happens inside. The verified files are unchanged: a
probe is exported again from the same checkpoint (`python -m export probes` re-makes them all without training),
and `python -m export --check` proves every output against a PyTorch forward hook on the module it names (the
test digits drawn as canvases, with blanks and specks; the training texts; the held-out points), within the
float models' tolerance (`ATOL + RTOL x max|hook|`, export/verify.py), and its answer equal to its canvas or
full model's.

- **digit probes** take what the canvas models take (uint8 `[H, W, 4]` RGBA) and return what they return
  (`probabilities`, `frame`, `ink`, `contrast`), then every layer for that frame (batch 1: `[1, C, H, W]` or
  `[1, units]`), then `softmax`. BatchNorm is its own `BatchNormalization` node, as the code defines it, not
  folded into the convolution. Without ink the frame is all zeros: the layers are those of the all-zero frame
  and `softmax` is what the network says of it, while `probabilities` is all zeros, as the canvas model's.
- **text probes** take `indices` int64 `[N, T]` as the full models and return, at every position (`[N, T, .]`):
  `one_hot`, `rnn_l<k>` (the hidden state of layer k; each layer is its own ONNX `RNN`/`GRU` op), `logits` and
  `probabilities`. hihello and charseq have no Linear and hidden size = vocabulary size: their `logits` *is* the
  RNN's hidden state (`same_as: "rnn_l0"` in `layers`).
- **circles** returns `linear1` (before the activation), `hidden` (its sigmoid), `linear2` (the logit) and
  `probability`.

`layers` (in the manifest entry, and as JSON in the file's `metadata_props`) lists the network's tensors in the
order it computes them: `name` (the output), `module` (its name in the zoo model's `named_modules()`; null for
a tensor that is no module's output: the frame and the one-hot are what the module `input_of` reads, a
`Softmax` or `Sigmoid` is `op` applied to the layer before), `op`, `shape` per sample (per position for text),
`layer` (k, of a stacked RNN), `kernel`, `stride`, `padding` (`[h, w]`, Conv2d and MaxPool2d: out = floor((in -
kernel + 2 * padding) / stride) + 1), `eps` (BatchNorm2d), `activation` (RNN), and `params`: role -> a tensor
of the weights file.

**Weights file** `<run>-weights.bin`, the entry's `weights`: `file`, `sha256`, `bytes`, and `tensors`: name ->
`{offset (bytes), length (floats), shape}`. Raw little-endian float32, each tensor of the checkpoint's
state_dict under its PyTorch name, row-major: Conv2d `weight` `[out, in, kh, kw]`, Linear `weight` `[out, in]`,
`bias`; RNN `weight_ih_l<k>` `[hidden, in]`, `weight_hh_l<k>` `[hidden, hidden]`, `bias_ih_l<k>`,
`bias_hh_l<k>` (h_t = tanh(W_ih x_t + b_ih + W_hh h_t-1 + b_hh)); GRU: the same names with the gates stacked
in PyTorch's order r, z, n (`[3 x hidden, .]`): r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise,
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h_t = (1 - z) * n + z * h_t-1. BatchNorm2d: `weight` (gamma),
`bias` (beta), `running_mean`, `running_var` (and `eps` in `layers`), plus the folded `scale` = gamma /
sqrt(running_var + eps) and `shift` = beta - running_mean * scale (computed in float64, stored as float32):
bn(x) = scale * x + shift, to float32 rounding. From JavaScript: `new Float32Array(buffer, t.offset, t.length)`.
"""


def _probe_layers(entry: dict) -> list[str]:
    weights = entry["weights"]
    lines = [f"\n**{entry['name']}** (shows {entry['base_model']}; weights `{weights['file']}`, "
             f"{weights['bytes'] / 1024:,.1f} KB, sha256 `{weights['sha256'][:16]}...`)\n",
             "| output | module | op | shape | kernel / stride / padding |", "|---|---|---|---|---|"]  # fmt: skip
    for layer in entry["layers"]:
        module = "—" if layer["module"] is None else f"`{layer['module']}`"
        if "layer" in layer:
            module += f" layer {layer['layer']}"
        if "same_as" in layer:
            module += f" (= `{layer['same_as']}`)"
        elif "input_of" in layer:
            module += f" (input of `{layer['input_of']}`)"
        window = " / ".join(str(layer[k]) for k in ("kernel", "stride", "padding")) if "kernel" in layer else ""
        lines.append(f"| `{layer['name']}` | {module} | {layer['op']} | {layer['shape']} | {window} |")
    return lines


def _io(spec: dict) -> str:
    return ", ".join(f"`{name}` {v.get('dtype', 'float32')} {v['shape']}" for name, v in spec.items())


_TASKS = {  # manifest task -> the Hub's pipeline tag and task name
    "digits": ("image-classification", "Image Classification"),
    "text": ("text-generation", "Text Generation"),
    "points": ("tabular-classification", "Tabular Classification"),
}


def front_matter(manifest: list[dict]) -> str:
    """The YAML block the Hugging Face Hub reads: license, tags, pipeline tag, and a model-index with each
    model's accuracy on its test split (validation too where the run measured it). JSON-style flow values
    are valid YAML, so no YAML library is needed to write it."""
    import json

    index = []
    for e in manifest:
        if e["kind"] not in ("full", "int8"):
            continue
        m = e["metrics"]
        tag, task = _TASKS[e["task"]]
        if e["task"] == "text":
            metrics = [{"type": "accuracy", "name": "next-character accuracy (training text)",
                        "value": m["next_char_accuracy"]}]  # fmt: skip
            dataset = {"name": m.get("dataset", e["model"]), "type": "text", "split": "train"}
        else:
            metrics = [{"type": "accuracy", "name": "test accuracy", "value": m["test_accuracy"]}]
            if "val_accuracy" in m:
                metrics.append({"type": "accuracy", "name": "validation accuracy", "value": m["val_accuracy"]})
            dataset = {"name": m.get("dataset", e["model"]), "type": m.get("dataset", e["model"]), "split": "test"}
        index.append({"name": e["name"], "results": [{"task": {"type": tag, "name": task}, "dataset": dataset,
                                                      "metrics": metrics}]})  # fmt: skip
    lines = ["---", "license: mit", "library_name: onnx", "pipeline_tag: image-classification",
             "tags: " + json.dumps(["onnx", "mnist", "image-classification", "rnn", "char-rnn", "lecture", "int8",
                                    "onnxruntime", "onnxruntime-web"]),
             "datasets: " + json.dumps(["mnist"]), "model-index:"]  # fmt: skip
    lines += [f"- {json.dumps(item)}" for item in index]
    return "\n".join([*lines, "---", ""])


def write_card(manifest: list[dict], path: Path) -> None:
    opsets = sorted({str(e["opset"]) for e in manifest})
    header = _HEADER.format(opset="/".join(opsets), min_contrast=MIN_CONTRAST, float_atol=FLOAT_ATOL,
                            int8_steps=INT8_STEPS)  # fmt: skip
    lines = [front_matter(manifest), header.rstrip("\n")]  # the table's rows follow its |---| line directly
    for e in manifest:
        lines.append(f"| {e['name']} | {e['kind']} | {e['task']} | {get_spec(e['model']).description} | "
                     f"{e['parameters']:,} | `{e['file']}` | {e['bytes'] / 1024:,.1f} KB | {_accuracy(e)} |")  # fmt: skip
    lines.append("\n## Inputs and outputs\n")
    for e in manifest:
        extra = ""
        if "labels" in e:
            extra = f"  Labels: {', '.join(e['labels'])}.\n"
        if "vocab" in e:
            extra = f"  Vocabulary ({len(e['vocab'])}): `{''.join(e['vocab'])!r}`.\n"
        lines.append(f"- **{e['name']}** ({e['kind']}): inputs {_io(e['inputs'])}; outputs {_io(e['outputs'])}.\n"
                     f"  {e.get('input_contract', '')}\n{extra}")  # fmt: skip
    probes = [e for e in manifest if e["kind"] == "probe"]
    if probes:
        lines.append(_PROBES)
        for e in probes:
            lines += _probe_layers(e)
        lines.append("")
    lines += _training_section(manifest)
    lines += _engines_section(manifest)
    path.write_text("\n".join(lines))


def _engines_section(manifest: list[dict]) -> list[str]:
    """Every file in OpenVINO and tract (export/engines.py; tests/test_engines.py holds the table true)."""
    from export.engines import ENGINES, MEASURED, exception

    names = {"openvino": "OpenVINO", "tract": "tract"}
    lines = ["## Other engines: OpenVINO and tract",
             f"Every file, run by {' and '.join(f'{names[e]} {MEASURED[e]}' for e in ENGINES)} (`pip install "
             "openvino tract`; `python -m export --check --engines`, and tests/test_engines.py in CI): on its test "
             "data (an INT8 model on 100 test digits against ONNX Runtime, a replay on its last epoch's weights, a "
             "training file on one step from its start weights with a batch of 64 (the text's: the lecture's batch) "
             "and of 1, an inside file on its proof's inputs), held to the rule above (a training file: to its "
             "proof's); a picture graph also on pictures of other sizes (600x450, 1000x800, "
             "1600x1200, a transparent 1300x1000, 4000x3000), its frame bit for bit the reference recipe's.", "",
             f"| file | {' | '.join(names[e] for e in ENGINES)} |",
             "|---|" + "---|" * len(ENGINES)]  # fmt: skip
    reasons: dict[str, int] = {}
    for e in manifest:
        cells = []
        for engine in ENGINES:
            known = exception(engine, e)
            if known is None:
                cells.append("pass")
            else:
                note = reasons.setdefault(known[1], len(reasons) + 1)
                cells.append(f"160x120 only [{note}]" if known[0] == "other sizes" else f"no [{note}]")
        lines.append(f"| `{e['file']}` | {' | '.join(cells)} |")
    lines.append("")
    lines += [f"[{n}] {reason}." for reason, n in reasons.items()]
    lines.append("")
    return lines


def _training_section(manifest: list[dict]) -> list[str]:
    """Training, watched (export/replay.py): circles' training file and the digit replays, with their bytes."""
    training = [e for e in manifest if e.get("training") and e["kind"] != "train"]
    replays = [e for e in manifest if e["kind"] == "replay"]
    if not training and not replays:
        return []
    lines = ["## Training, watched (export/replay.py)",
             "The files the page at /web/ needs to train circles itself (the Train tab, web/train.js) and to replay a "
             "digit CNN's training on one's own sketch (the epoch slider of the Inside view), each with its sha256 in "
             "the manifest and proven by `python -m export --check`.", ""]  # fmt: skip
    for e in training:
        t = e["training"]
        lines.append(f"- `{t['file']}` ({t['bytes']:,} bytes, `training` on {e['name']}): the run's initial weights, "
                     f"its points and recipe ({t['optimizer']}, lr {t['lr']:g}, {t['epochs']:,} epochs), and PyTorch's "
                     "loss and held-out accuracy at every epoch.")  # fmt: skip
    for e in replays:
        w = e["epochs"]
        lines.append(f"- `{e['file']}` ({e['bytes']:,} bytes) + `{w['file']}` ({w['bytes']:,} bytes: {w['count']} epochs x "
                     f"{w['parameters']:,} float16 weights): {e['probe_model']} with {e['base_model']}'s weights as "
                     f"float16 inputs; {e['bytes'] + w['bytes']:,} bytes in all, fetched when the slider is first used.")  # fmt: skip
    lines.append("")
    return lines


def publish(manifest: list[dict], out: Path) -> None:
    """Sort the entries (registry order, then run, then kind), write manifest.json and this card from it."""
    from zoo import manifest as zoo_manifest
    from zoo.models import REGISTRY

    order = {n: i for i, n in enumerate(REGISTRY)}
    kinds = {k: i for i, k in enumerate(("full", "int8", "canvas", "probe", "step"))}
    manifest.sort(key=lambda e: (order.get(e["model"], len(order)), e["run"], kinds.get(e["kind"], 9), e["name"]))
    zoo_manifest.write(manifest, out)
    write_card(manifest, Path(out) / "README.md")
