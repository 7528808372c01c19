"""The rule every runtime check holds a committed model to against its own test data.

Each model ships `test_data/<name>/test_data_set_0/` (ONNX backend-test layout): inputs and the outputs ONNX
Runtime gave on the machine that exported it. Another runtime (onnxruntime-node, onnxruntime-web, Python's
ONNX Runtime on another CPU) must reproduce those outputs:

- **Float outputs** (every float model; a canvas model's recipe outputs `frame`, `ink`, `contrast`, INT8 or
  not): max abs diff <= FLOAT_ATOL.
- **INT8 outputs** (an output computed by a `DequantizeLinear`, directly or through a mask): within
  INT8_STEPS quantisation steps, a step being that `DequantizeLinear`'s scale, and the same argmax on every
  test sample. The probabilities of an INT8 model are a float Softmax of its INT8 logits: their step is half
  the logits' (a Softmax moves no probability by more than half the largest change of its inputs).

Why INT8 can differ by engine: the weights have 7 bits (export/quantize.py), so no u8 x s8 pair saturates
AVX2's `vpmaddubsw` and every CPU computes the graph's integers; requantisation (a float multiply and a
rounding, done differently by each engine) can still land a logit on the neighbouring step. Measured on 100
test digits: OpenVINO 2026.4 and tract 0.23 within one logit step of ONNX Runtime on every INT8 model, with
the same argmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FLOAT_ATOL = 1e-5
INT8_STEPS = 4  # four times the most measured (1, below)
# Ops a quantised output may pass through after its DequantizeLinear without changing its step
# (a canvas model multiplies the probabilities by its ink decision, 0 or 1).
_PASS_THROUGH = {"Mul", "Identity", "Reshape", "Squeeze", "Unsqueeze", "Flatten"}


@dataclass(frozen=True)
class Tolerance:
    atol: float
    step: float | None = None  # the quantisation step of an INT8 output; None for a float one

    @property
    def argmax(self) -> bool:
        """INT8 outputs must also keep the argmax of every test sample."""
        return self.step is not None

    def describe(self) -> str:
        if self.step is None:
            return f"max abs diff <= {self.atol:g}"
        return f"max abs diff <= {INT8_STEPS} steps of {self.step:.6g} (= {self.atol:.4g}) and the same argmax"


def quantization_steps(model_path: Path) -> dict[str, float]:
    """For each graph output computed by a DequantizeLinear (through mask-like ops), that op's scale."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_path), load_external_data=False)
    graph = model.graph
    constants = {t.name: t for t in graph.initializer}
    constants |= {n.output[0]: n.attribute[0].t for n in graph.node if n.op_type == "Constant" and n.attribute}
    producer = {o: n for n in graph.node for o in n.output}

    def source(name: str):  # the op that computes `name`, past mask-like ops
        node = producer.get(name)
        for _ in range(8):
            if node is None or node.op_type not in _PASS_THROUGH:
                break
            node = producer.get(node.input[0])
        return node

    steps = {}
    for output in graph.output:
        node, factor = source(output.name), 1.0
        if node is not None and node.op_type == "Softmax":  # |d softmax|max <= |d input|max / 2
            node, factor = source(node.input[0]), 0.5
        if node is not None and node.op_type == "DequantizeLinear" and node.input[1] in constants:
            scale = numpy_helper.to_array(constants[node.input[1]])
            if scale.size == 1:
                steps[output.name] = factor * float(scale.reshape(()))
    return steps


def tolerances(entry: dict, models_dir: Path) -> dict[str, Tolerance]:
    """The rule for each of a manifest entry's outputs."""
    steps = quantization_steps(Path(models_dir) / entry["file"])
    return {
        name: Tolerance(INT8_STEPS * steps[name], steps[name]) if name in steps else Tolerance(FLOAT_ATOL)
        for name in entry["outputs"]
    }


def argmax_agreement(got: np.ndarray, expected: np.ndarray) -> tuple[int, int]:
    """(rows whose argmax is the expected one, rows) over the last axis."""
    got, expected = np.asarray(got), np.asarray(expected)
    rows = got.reshape(-1, got.shape[-1]) if got.ndim else got.reshape(1, 1)
    want = expected.reshape(rows.shape)
    return int((rows.argmax(-1) == want.argmax(-1)).sum()), len(rows)


def judge(model: str, output: str, tolerance: Tolerance, max_abs: float, agree: tuple[int, int] | None) -> str | None:
    """None if the output keeps the rule, else what broke it, in words."""
    where = f"{model}.{output}"
    if not max_abs <= tolerance.atol:  # also catches NaN
        return f"{where}: differs from the expected output by {max_abs:.3g}, rule: {tolerance.describe()}"
    if tolerance.argmax and agree is not None and agree[0] != agree[1]:
        return (
            f"{where}: argmax differs on {agree[1] - agree[0]} of {agree[1]} test samples, rule: {tolerance.describe()}"
        )
    return None
