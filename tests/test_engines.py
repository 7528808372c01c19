"""Every committed file computes the same answer on every CPU and in every engine.

INT8: a u8 x s8 product runs, on a CPU with AVX2 and no AVX-512 VNNI, through `vpmaddubsw`, which sums two
adjacent products into a saturating int16. This machine may well have VNNI, so the tests prove it without such a
CPU: the committed weights cannot make a pair leave int16 (read from the files), and a NumPy emulation of the
saturating instruction, run on the real graphs, changes nothing in them while it reproduces the wrong answers of
weights quantised to the full 8 bits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from export.engines import ENGINES, check, exception, missing, version
from export.onnx import digit_test_set, digits_of
from export.quantize import INT16_MAX, emulate, integer_layers, quantize_digits, saturating_layers
from export.tolerance import quantization_steps
from zoo import manifest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
ENTRIES = {e["name"]: e for e in manifest.load(MODELS)}
INT8_FILES = sorted({e["file"] for e in ENTRIES.values() if e["kind"] == "int8" or e.get("float_model")})


def _layers(file: str):
    return integer_layers(onnx.load(str(MODELS / file)))


@pytest.mark.parametrize("file", INT8_FILES)
def test_no_int8_pair_can_leave_int16(file):
    """Every INT8 layer of every committed file: the two largest weights of a sign in an output channel, times the
    largest u8 activation, fit in int16, whichever adjacent pair a kernel forms."""
    layers = _layers(file)
    assert layers, f"{file}: no integer layer found"
    worst = {layer.node: layer.worst_pair() for layer in layers}
    assert max(worst.values()) <= INT16_MAX, f"{file}: pair sums {worst} > {INT16_MAX}"
    assert saturating_layers(MODELS / file) == []


def test_the_pair_bound_catches_8_bit_weights(tmp_path):
    """The bound is not vacuous: the same file with one weight per channel pushed to the full int8 range fails."""
    model = onnx.load(str(MODELS / "mlp-int8.onnx"))
    name = "model.1.weight_quantized"
    tensor = next(t for t in model.graph.initializer if t.name == name)
    w = numpy_helper.to_array(tensor).copy()
    w[:, :2] = 127  # two adjacent positive weights at 127: 255 x 254 = 64,770
    tensor.CopyFrom(numpy_helper.from_array(w, name))
    onnx.save(model, str(tmp_path / "full-range.onnx"))
    assert [node for node, _ in saturating_layers(tmp_path / "full-range.onnx")] == ["relu"]


@pytest.fixture(scope="module")
def digits():
    x, y = digit_test_set(digits_of(ENTRIES["mlp"]), 100)
    return {"image": x}, y


@pytest.mark.parametrize("name", sorted(n for n, e in ENTRIES.items() if e["kind"] == "int8"))
def test_saturating_cpus_compute_the_committed_int8_graphs_exactly(name, digits):
    """The emulation with and without saturation gives the same outputs on 100 test digits, bit for bit, and
    ONNX Runtime here agrees with it within a step of requantisation rounding."""
    feeds, _ = digits
    path = MODELS / ENTRIES[name]["file"]
    saturated, exact = emulate(path, feeds, saturate=True), emulate(path, feeds, saturate=False)
    for got, want in zip(saturated, exact, strict=True):
        np.testing.assert_array_equal(got, want)
    steps = quantization_steps(path)
    here = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    for output, got, want in zip(("logits", "probabilities"), here, exact, strict=True):
        assert np.abs(got - want).max() <= 1.01 * steps[output], f"{name}.{output}: ONNX Runtime vs emulation"


def test_the_emulation_reproduces_what_8_bit_weights_compute_on_avx2(tmp_path, digits):
    """mlp quantised as before, with the full 8 bits: its pairs can leave int16, and the saturating emulation (an
    AVX2 CPU without VNNI, where ONNX Runtime was reported 17 logit steps off) moves its logits by at least 10
    steps from the exact integers on 100 test digits (20 measured)."""
    feeds, _ = digits
    full = tmp_path / "mlp-int8-8bit.onnx"
    quantize_digits(MODELS / "mlp.onnx", full, digits_of(ENTRIES["mlp"]), reduce_range=False)
    assert saturating_layers(full), "8-bit weights should reach past int16"
    step = quantization_steps(full)["logits"]
    saturated, exact = emulate(full, feeds, saturate=True)[0], emulate(full, feeds, saturate=False)[0]
    assert np.abs(saturated - exact).max() >= 10 * step


# ----------------------------------------------------------------------------- OpenVINO and tract


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_every_file_runs_in_every_engine(engine, name):
    """Every committed file on its test data (or 100 test digits, or its replay weights) and every picture graph
    on pictures of other sizes, frames bit for bit the reference recipe's; what an engine cannot run is a named
    exception (export/engines.py, the model card), which must still fail, so that the card stays true."""
    reason = missing(engine)
    if reason:
        pytest.skip(reason)
    entry = ENTRIES[name]
    known = exception(engine, entry)
    if known and known[0] == "other sizes":
        failure = check(engine, entry, MODELS, other_sizes=False)
        assert failure is None, f"{name} in {engine} {version(engine)} on its own inputs: {failure}"
    failure = check(engine, entry, MODELS)
    if known:
        assert failure is not None, f"{name} now runs in {engine} {version(engine)}: drop the exception ({known[1]})"
    else:
        assert failure is None, f"{name} in {engine} {version(engine)}: {failure}"
