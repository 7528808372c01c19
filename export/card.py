"""models/README.md, the model card, written from the manifest so its figures cannot drift from the files."""

from __future__ import annotations

from pathlib import Path

from export.tolerance import FLOAT_ATOL, INT8_STEPS
from zoo.models import get_spec
from zoo.pictures import MIN_CONTRAST

_HEADER = """# Model card: lecture-zoo ONNX models

Written by `python -m export all` from `manifest.json`; do not edit by hand. Every file is verified
against its PyTorch checkpoint by `python -m export --check` (see the top-level README for the table).

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
  `ink` bool `[]`, **false for a blank canvas or a speck: then say "draw a digit"** (the probabilities are
  all zeros, never a guess); `contrast` float32 `[]`, the peak ink contrast (below {min_contrast} the
  picture is blank; otherwise no ink means a speck).
- the recipe: ink from alpha when the background is transparent, else the distance from the border's
  median colour (either polarity, coloured ink); faint texture dropped; crop to the ink; fine strokes
  thickened; fit into 20x20 keeping the aspect ratio; centre by mass in 28x28 (the MNIST recipe). Pictures
  over 1024 px a side are reduced first, so a 4000x3000 photo stays cheap.
- proven by `python -m export --check` against `export/reference.py` (the reference, numpy + Pillow) on
  2,109 canvases: the same ink decision everywhere, bit-identical frames and probabilities.

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
- INT8 outputs (those a `DequantizeLinear` computes: the `probabilities` of `*-int8` and `*-int8-canvas`):
  within {int8_steps} quantisation steps of that output (1/255 for the probabilities), and the same argmax on
  every test sample.

ONNX Runtime picks its integer kernels by instruction set (AVX2, AVX-512 VNNI, wasm SIMD), and they round
a few intermediate values to the neighbouring step; a step in one layer moves the next. Expect an INT8
model's probabilities to differ by a few 1/255 steps between CPUs (up to 4 measured), its accuracy on a
set of pictures to move by a few tenths of a point, and its answer on a clear digit not at all. The float
models give the same numbers everywhere to 1e-5: use them where results must match across machines.

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
    if entry["task"] == "text":
        return f"next-char {m['next_char_accuracy']:.1%}; generation reproduces text: {m['generation_matches']}"
    if entry["kind"] == "canvas":
        return f"{m['test_accuracy']:.2%} test ({m['dataset']}), as {entry['base_model']}"
    return f"{m['test_accuracy']:.2%} test ({m['dataset']})"


def _io(spec: dict) -> str:
    return ", ".join(f"`{name}` {v.get('dtype', 'float32')} {v['shape']}" for name, v in spec.items())


def write_card(manifest: list[dict], path: Path) -> None:
    opsets = sorted({str(e["opset"]) for e in manifest})
    lines = [
        _HEADER.format(opset="/".join(opsets), min_contrast=MIN_CONTRAST, float_atol=FLOAT_ATOL, int8_steps=INT8_STEPS)
    ]
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
    path.write_text("\n".join(lines))
