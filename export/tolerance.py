"""The rule every runtime check holds a committed model to against its own test data.

Each model ships `test_data/<name>/test_data_set_0/` (ONNX backend-test layout): inputs and the outputs ONNX
Runtime gave on the machine that exported it. Another runtime (onnxruntime-node, onnxruntime-web, Python's
ONNX Runtime on another CPU) must reproduce those outputs:

- **Float outputs** (every float model; a canvas model's recipe outputs `frame`, `ink`, `contrast`, INT8 or
  not): max abs diff <= FLOAT_ATOL.
- **INT8 outputs** (an output computed by a `DequantizeLinear`, directly or through a mask): within
  INT8_STEPS quantisation steps, a step being that `DequantizeLinear`'s scale (1/255 for the probabilities),
  and the same argmax on every test sample.

Why INT8 differs by CPU: ONNX Runtime picks its integer kernels by instruction set (AVX2's `vpmaddubsw`
pairs products into saturating 16-bit sums, AVX-512 VNNI's `vpdpbusd` accumulates in 32 bits, wasm SIMD has
its own), and requantisation rounds a few values to the neighbouring step. A step in one layer moves the
next layer's inputs, so the probabilities can land a few steps apart. Measured against the committed test
data (exported on an AVX2 CPU): up to 4 steps on an AVX-512 VNNI EPYC, in Python's ONNX Runtime 1.32 as in
onnxruntime-node 1.30; up to 4 in onnxruntime-web (wasm). Every test sample's top probability leads the
second by over 140 steps, so the argmax cannot move within the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FLOAT_ATOL = 1e-5
INT8_STEPS = 8  # twice the most measured (4, below)
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
    steps = {}
    for output in graph.output:
        node = producer.get(output.name)
        for _ in range(8):
            if node is None or node.op_type == "DequantizeLinear" or node.op_type not in _PASS_THROUGH:
                break
            node = producer.get(node.input[0])
        if node is not None and node.op_type == "DequantizeLinear" and node.input[1] in constants:
            scale = numpy_helper.to_array(constants[node.input[1]])
            if scale.size == 1:
                steps[output.name] = float(scale.reshape(()))
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
