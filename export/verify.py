"""The proof: every model in the manifest computes, in ONNX Runtime, what its checkpoint computes in PyTorch.

Failures are typed and say which model, which output, which input, the tolerance and the worst difference.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from export.checks import (  # noqa: F401  (the typed failures, re-exported: export.verify is their home for callers)
    AccuracyLoss,
    ArgmaxMismatch,
    ChecksumMismatch,
    InkMismatch,
    LayerMismatch,
    Row,
    SaturationRisk,
    ShapeMismatch,
    ValuesMismatch,
    VerificationError,
    check_file,
)
from export.graphs import LogitsGraph, PointsGraph, TextStepGraph
from export.onnx import real_inputs, sha256
from export.quantize import INT16_MAX, MAX_ACCURACY_LOSS, int8_accuracy_loss, saturating_layers
from export.tolerance import argmax_agreement, judge, tolerances
from zoo import corpora, manifest
from zoo.models import get_spec
from zoo.train import load_checkpoint

# Every float output must satisfy max |onnx - torch| <= ATOL + RTOL * max |torch| (over the output tensor).
# The relative term matters only for longseq, whose logits reach ~20 through its final Linear: float32
# itself then carries ~1e-5 of rounding on every logit of a row (measured: PyTorch float32 differs from
# float64 by 1.0e-5 there, at an element of value 0.66). Every other model is within ATOL flat.
ATOL = 1e-5
RTOL = 1e-6
# Char models on *random* text far beyond their training length are chaotic: their recurrent weights
# have spectral norms of 3-11, so rounding grows several-fold per step, and PyTorch float32 itself is
# 1e-4 away from the exact (float64) answer on hihello at length 10 (measured). No float32 runtime can
# agree with another to 1e-5 there. That case is judged against float64: ONNX must be no further from
# the exact function than CONDITIONING_FACTOR times PyTorch float32's own error.
CONDITIONING_FACTOR = 10
# Canvas models (the sketch recipe fused with a digit model) against the reference recipe + the digit model,
# on the canvas corpus (export/sketches.py): the same ink decision on every case, argmax agreement and
# accuracy as below, and frames within FRAME_TOLERANCE (mean abs diff) on CANVAS_AGREEMENT of the cases.
# Measured: every frame within 6e-8 (the resampling weights are Pillow's, in float64 as Pillow has them).
CANVAS_AGREEMENT = 0.995
CANVAS_ACCURACY_POINTS = 0.3
FRAME_TOLERANCE = 1e-4
CANVAS_DIGITS = 1000  # test digits drawn on pages and sketchpads (x2 cases), plus every form, blanks, specks


def load_manifest(models_dir: Path) -> list[dict]:
    try:
        return manifest.load(models_dir)
    except manifest.ManifestError as error:
        raise VerificationError(f"{error}; run python -m export all") from None


def torch_graph(entry: dict, models_dir: Path) -> torch.nn.Module:
    checkpoint = Path(models_dir) / entry["checkpoint"]
    if not checkpoint.is_file():
        raise ChecksumMismatch(f"{entry['name']}: checkpoint {checkpoint} is missing; the proof compares against it "
                               f"(python -m zoo train {entry['model']} rebuilds it, with new weights)")  # fmt: skip
    actual = sha256(checkpoint)
    if actual != entry["checkpoint_sha256"]:
        raise ChecksumMismatch(f"{entry['name']}: checkpoint {checkpoint} has sha256 {actual}, "
                               f"the ONNX file was exported from {entry['checkpoint_sha256']}")  # fmt: skip
    model, _ = load_checkpoint(checkpoint)
    wrap = {
        "digits": LogitsGraph,
        "points": PointsGraph,
        "text": TextStepGraph if entry["kind"] == "step" else LogitsGraph,
    }
    return wrap[entry["task"]](model).eval()


def compare(
    entry: dict, graph, session, feeds: dict[str, np.ndarray], described: str, row: Row
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Run PyTorch and ONNX Runtime on `feeds`; raise on any output beyond the tolerance.
    Returns (PyTorch outputs, ONNX Runtime outputs)."""
    with torch.no_grad():
        expected = [t.numpy() for t in graph(*(torch.from_numpy(feeds[k]) for k in entry["inputs"]))]
    actual = session.run(None, feeds)
    for name, want, got in zip(entry["outputs"], expected, actual, strict=True):
        where = f"{entry['name']}: output {name!r} on {described}"
        if want.shape != got.shape:
            raise ShapeMismatch(f"{where}: ONNX shape {got.shape}, PyTorch shape {want.shape}")
        error = np.abs(want - got)
        diff = float(error.max()) if want.size else 0.0
        scale = float(np.abs(want).max()) if want.size else 0.0
        if not diff <= ATOL + RTOL * scale:  # also catches NaN
            worst = np.unravel_index(np.nanargmax(error), want.shape)
            raise ValuesMismatch(f"{where}: max abs diff {diff:.3g} > tolerance {ATOL:g} + {RTOL:g} x max|PyTorch| {scale:.3g} "
                                 f"(at {tuple(int(i) for i in worst)}: PyTorch {want[worst]:.6g}, ONNX {got[worst]:.6g})")  # fmt: skip
        row.update(diff, diff / max(scale, 1e-12))
    return expected, actual


def _random_feeds(entry: dict, rng: np.random.Generator) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Random inputs at batch 1, 3, 64; char models at lengths 1, the training length and 5x it."""
    task, kind = entry["task"], entry["kind"]
    feeds = []
    for batch in (1, 3, 64):
        if task == "digits":
            feeds.append((f"random images, batch {batch}", {"image": rng.random((batch, 1, 28, 28), dtype=np.float32)}))
        elif task == "points":
            feeds.append(
                (f"random points, batch {batch}", {"points": rng.uniform(-1.5, 1.5, (batch, 2)).astype(np.float32)})
            )
        elif kind == "step":
            hidden = rng.uniform(-1, 1, (entry["layers"], batch, entry["hidden_size"])).astype(np.float32)
            index = rng.integers(0, len(entry["vocab"]), batch)
            feeds.append((f"random index and hidden, batch {batch}", {"index": index, "hidden": hidden}))
        else:
            for length in (1, train_length(entry)):
                indices = rng.integers(0, len(entry["vocab"]), (batch, length))
                feeds.append((f"random text, batch {batch}, length {length}", {"indices": indices}))
            length = 5 * train_length(entry)
            feeds.append((f"the training text cycled from random offsets, batch {batch}, length {length}",
                          {"indices": cycled_text(entry, rng, batch, length)}))  # fmt: skip
    return feeds


def cycled_text(entry: dict, rng: np.random.Generator, batch: int, length: int) -> np.ndarray:
    """In-domain sequences of any length: the training text repeated, read from random offsets."""
    text = corpora.CORPORA[get_spec(entry["model"]).corpus]
    cycled = np.array(corpora.encode(text, entry["vocab"]) * (length // len(text) + 2), dtype=np.int64)
    starts = rng.integers(0, len(text), batch)
    return np.stack([cycled[s : s + length] for s in starts])


def train_length(entry: dict) -> int:
    """The sequence length a char model trained on (longseq: the lecture's window of 10)."""
    return len(corpora.training_pairs(get_spec(entry["model"]).corpus)[-1][0])


def verify_entry(entry: dict, models_dir: Path, entries: dict[str, dict]) -> Row:
    path = check_file(entry, models_dir)
    row = Row(entry["name"], entry["kind"], size_kb=path.stat().st_size / 1024)
    if entry["kind"] == "int8":
        return _verify_int8(entry, models_dir, entries[entry["float_model"]], row)
    graph = torch_graph(entry, models_dir)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for described, feeds in _random_feeds(entry, rng):
        compare(entry, graph, session, feeds, described, row)

    if entry["task"] in ("digits", "points"):
        real = real_inputs(entry)
        labels = real.pop("labels")
        reference, outputs = compare(entry, graph, session, real, f"all {len(labels)} real test samples", row)
        agree = _argmax(outputs[0]) == _argmax(reference[0])
        if not agree.all():
            raise ArgmaxMismatch(f"{entry['name']}: output 'logits' on real test samples: argmax differs on "
                                 f"{int((~agree).sum())} of {len(agree)} (first at sample {int(np.flatnonzero(~agree)[0])})")  # fmt: skip
        row.agreement = f"{int(agree.sum())}/{len(agree)}"
    elif entry["kind"] == "full":
        row.agreement = _verify_text(entry, graph, session, row)
        row.conditioning = _verify_conditioning(entry, graph, session, rng)
    else:
        full = entries[entry["run"]]
        row.agreement = _verify_step_against_full(entry, session, full, models_dir, rng, row)
    return row


def _argmax(x: np.ndarray) -> np.ndarray:
    return x.argmax(-1) if x.shape[-1] > 1 else (x[..., 0] > 0).astype(np.int64)


def _verify_text(entry, graph, session, row) -> str:
    agree = total = 0
    for x, _ in corpora.training_pairs(get_spec(entry["model"]).corpus):
        feeds = {"indices": np.array([corpora.encode(x, entry["vocab"])], dtype=np.int64)}
        reference, outputs = compare(
            entry, graph, session, feeds, f"the training text {x[:20]!r} (length {len(x)})", row
        )
        agree += int((outputs[0].argmax(-1) == reference[0].argmax(-1)).sum())
        total += reference[0].shape[1]
    if agree != total:
        raise ArgmaxMismatch(f"{entry['name']}: next-character argmax differs at {total - agree} of {total} positions")
    return f"{agree}/{total}"


def _verify_conditioning(entry, graph, session, rng) -> str:
    """Random text at 5x the training length, batch 64: ONNX and PyTorch float32, each against float64."""
    length = 5 * train_length(entry)
    indices = rng.integers(0, len(entry["vocab"]), (64, length))
    with torch.no_grad():
        exact = graph.double()(torch.from_numpy(indices))[0].numpy()
        torch_error = float(np.abs(graph.float()(torch.from_numpy(indices))[0].numpy() - exact).max())
    onnx_error = float(np.abs(session.run(["logits"], {"indices": indices})[0] - exact).max())
    if not onnx_error <= CONDITIONING_FACTOR * torch_error + ATOL:
        raise ValuesMismatch(f"{entry['name']}: output 'logits' on random text, batch 64, length {length}: "
                             f"{onnx_error:.3g} from the float64 answer, > {CONDITIONING_FACTOR} x PyTorch float32's "
                             f"own {torch_error:.3g} + {ATOL:g}")  # fmt: skip
    return f"random x5: ONNX {onnx_error:.1e}, torch {torch_error:.1e} from fp64"


def _verify_step_against_full(entry, step_session, full_entry, models_dir, rng, row) -> str:
    """Rolling the step model over a sequence gives the full model's logits at every position."""
    full = ort.InferenceSession(str(Path(models_dir) / full_entry["file"]), providers=["CPUExecutionProvider"])
    length = 5 * train_length(entry)
    indices = rng.integers(0, len(entry["vocab"]), (3, length))
    want = full.run(["logits"], {"indices": indices})[0]
    hidden = np.zeros((entry["layers"], 3, entry["hidden_size"]), dtype=np.float32)
    steps = []
    for t in range(length):
        logits, _, hidden = step_session.run(None, {"index": indices[:, t], "hidden": hidden})
        steps.append(logits)
    got = np.stack(steps, axis=1)
    diff = float(np.abs(got - want).max())
    if not diff <= ATOL + RTOL * float(np.abs(want).max()):
        raise ValuesMismatch(f"{entry['name']}: output 'logits' rolled over {length} steps (batch 3) vs the full "
                             f"model {full_entry['name']}: max abs diff {diff:.3g} > tolerance {ATOL:g} + {RTOL:g} x max|full|")  # fmt: skip
    row.update(diff, diff / float(np.abs(want).max()))
    return f"step = full over {length} steps"


def _verify_int8(entry, models_dir, float_entry, row) -> Row:
    risky = saturating_layers(Path(models_dir) / entry["file"])
    if risky:  # the accuracy below would then hold only on CPUs with VNNI
        raise SaturationRisk(f"{entry['name']}: u8 x s8 pair sums reach {', '.join(f'{n} {s:,}' for n, s in risky)} "
                             f"> {INT16_MAX:,} (int16): an AVX2 CPU without VNNI saturates them; re-quantise "
                             f"with 7-bit weights (python -m export {entry['run']})")  # fmt: skip
    real = real_inputs(float_entry)
    labels = real["labels"]
    float_acc, int8_acc, loss = int8_accuracy_loss(
        Path(models_dir) / float_entry["file"], Path(models_dir) / entry["file"], real["image"], labels
    )
    if loss > MAX_ACCURACY_LOSS:
        raise AccuracyLoss(f"{entry['name']}: test accuracy {int8_acc:.2%} vs float {float_acc:.2%}: loses {loss:.2f} "
                           f"points > tolerance {MAX_ACCURACY_LOSS} on {len(labels)} real test samples")  # fmt: skip
    row.agreement = f"acc {int8_acc:.2%} vs {float_acc:.2%} float"
    return row


@dataclass
class CanvasReference:
    """The canvas corpus and what the reference recipe makes of it: frames (zeros without ink), ink, labels."""

    cases: list
    frames: np.ndarray  # [n, 28, 28]
    ink: np.ndarray  # [n] bool
    labels: np.ndarray  # [n], -1 where there is no digit


def canvas_reference(data, digits: int) -> CanvasReference:
    from export.reference import frame_or_blank
    from export.sketches import corpus

    cases = corpus(data.x_test[:digits], data.y_test[:digits])
    frames, ink = zip(*(frame_or_blank(case.image) for case in cases), strict=True)
    labels = np.array([-1 if c.label is None else c.label for c in cases])
    return CanvasReference(cases, np.stack(frames), np.array(ink), labels)


def verify_canvases(
    canvases: list[dict], models_dir: Path, entries: dict[str, dict], digits: int
) -> tuple[list[Row], list[VerificationError]]:
    """Every canvas model against the reference recipe (export/reference.py) + its digit model, on one corpus
    (drawn and preprocessed once for all). Returns the rows of those that pass, and the failures."""
    from export.onnx import digits_of
    from zoo.pictures import plain_rgba as to_rgba

    rows = [Row(e["name"], e["kind"], size_kb=check_file(e, models_dir).stat().st_size / 1024) for e in canvases]
    ref = canvas_reference(digits_of(entries[canvases[0]["base_model"]]), digits)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sessions = [ort.InferenceSession(str(Path(models_dir) / e["file"]), options, providers=["CPUExecutionProvider"])
                for e in canvases]  # fmt: skip
    outputs = [[] for _ in canvases]  # per model, per case: (probabilities [10], frame, ink)
    for case in ref.cases:
        rgba = to_rgba(case.image)
        for session, out in zip(sessions, outputs, strict=True):
            probabilities, frame, ink, _ = session.run(None, {"image": rgba})
            out.append((probabilities[0], frame, bool(ink)))
    passed, failures = [], []
    for entry, row, out in zip(canvases, rows, outputs, strict=True):
        base = Path(models_dir) / entries[entry["base_model"]]["file"]
        try:
            _judge_canvas(entry["name"], base, ref, out, row)
            passed.append(row)
        except VerificationError as error:
            failures.append(error)
    return passed, failures


def _judge_canvas(name: str, base: Path, ref: CanvasReference, out: list[tuple], row: Row) -> None:
    n = len(ref.cases)
    ink = np.array([o[2] for o in out])
    if (ink != ref.ink).any():
        first = int(np.flatnonzero(ink != ref.ink)[0])
        raise InkMismatch(f"{name}: the ink decision differs from the reference recipe on {int((ink != ref.ink).sum())} "
                          f"of {n} canvases (first: {ref.cases[first].name}: reference {ref.ink[first]}, ONNX {ink[first]})")  # fmt: skip
    frame_error = np.abs(np.stack([o[1] for o in out]) - ref.frames).mean(axis=(1, 2))
    close = float((frame_error <= FRAME_TOLERANCE).mean())
    if close < CANVAS_AGREEMENT:
        worst = int(frame_error.argmax())
        raise ValuesMismatch(f"{name}: output 'frame': {close:.1%} of {n} canvases within mean abs diff {FRAME_TOLERANCE:g} "
                             f"of the reference recipe, < {CANVAS_AGREEMENT:.1%} (worst {frame_error[worst]:.3g} on "
                             f"{ref.cases[worst].name})")  # fmt: skip
    session = ort.InferenceSession(str(base), providers=["CPUExecutionProvider"])
    want = session.run(["probabilities"], {"image": ref.frames[ref.ink][:, None]})[0]
    probabilities = np.stack([o[0] for o in out])
    got = probabilities[ref.ink]
    agree = got.argmax(1) == want.argmax(1)
    if agree.mean() < CANVAS_AGREEMENT:
        raise ArgmaxMismatch(f"{name}: argmax agrees with the reference recipe + {base.stem} on {int(agree.sum())} of "
                             f"{len(agree)} canvases with ink, < {CANVAS_AGREEMENT:.1%}")  # fmt: skip
    labelled = ref.labels[ref.ink] >= 0
    accuracy = float((got.argmax(1) == ref.labels[ref.ink])[labelled].mean())
    expected = float((want.argmax(1) == ref.labels[ref.ink])[labelled].mean())
    if abs(accuracy - expected) * 100 > CANVAS_ACCURACY_POINTS:
        raise AccuracyLoss(f"{name}: accuracy {accuracy:.2%} on {int(labelled.sum())} labelled canvases vs {expected:.2%} "
                           f"through the reference recipe, > {CANVAS_ACCURACY_POINTS} points apart")  # fmt: skip
    # Where the frames are equal, the digit model inside must compute what the digit model's own file does.
    same = (np.abs(np.stack([o[1] for o in out]) - ref.frames).max(axis=(1, 2)) <= 1e-6)[ref.ink]
    difference = np.abs(got - want)[same]
    row.max_abs = float(difference.max()) if difference.size else 0.0
    row.max_rel = row.max_abs / float(np.abs(want).max())
    if not row.max_abs <= ATOL + RTOL:
        raise ValuesMismatch(f"{name}: output 'probabilities': max abs diff {row.max_abs:.3g} from {base.name} on "
                             f"identical frames > tolerance {ATOL:g} + {RTOL:g} x 1")  # fmt: skip
    row.checks = 2 * n
    row.agreement = (f"ink {n}/{n}, argmax {int(agree.sum())}/{len(agree)}, acc {accuracy:.2%} (ref {expected:.2%}), "
                     f"frames within {frame_error.max():.0e}")  # fmt: skip


def verify_test_data(entry: dict, models_dir: Path) -> None:
    """The model reproduces its own test data (the outputs of the machine that exported it) in this process's
    ONNX Runtime, under the rule every runtime check applies (export/tolerance.py)."""
    from onnx import numpy_helper

    folder = Path(models_dir) / entry["test_data"]
    read = lambda f: numpy_helper.to_array(onnx.load_tensor(str(folder / f)))  # noqa: E731
    feeds = {name: read(f"input_{i}.pb") for i, name in enumerate(entry["inputs"])}
    session = ort.InferenceSession(str(Path(models_dir) / entry["file"]), providers=["CPUExecutionProvider"])
    rules = tolerances(entry, models_dir)
    for i, (name, got) in enumerate(zip(entry["outputs"], session.run(None, feeds), strict=True)):
        want = read(f"output_{i}.pb")
        if got.shape != want.shape:
            raise ShapeMismatch(f"{entry['name']}.{name}: shape {got.shape} on its test data, expected {want.shape}")
        diff = float(np.abs(got.astype(np.float64) - want.astype(np.float64)).max()) if want.size else 0.0
        agree = argmax_agreement(got, want) if rules[name].argmax else None
        broken = judge(entry["name"], name, rules[name], diff, agree)
        if broken:
            error = ArgmaxMismatch if diff <= rules[name].atol else ValuesMismatch
            raise error(f"{broken} (Python ONNX Runtime {ort.__version__} on {entry['test_data']})")


# ----------------------------------------------------------------------------- probe models (export/probe.py)

# The modules every probe must show: each one of these in the zoo model's named_modules() names an output.
PROBED_MODULES = (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.ReLU, torch.nn.MaxPool2d, torch.nn.Linear,
                  torch.nn.RNN, torch.nn.GRU)  # fmt: skip
PROBE_CHUNK = 100  # digit canvases compared per PyTorch pass (bounds memory: cnn's layers are 0.3 MB a canvas)


def verify_probe(entry: dict, models_dir: Path, entries: dict[str, dict], digits: int = CANVAS_DIGITS) -> Row:
    """A probe model: its layers are the model's, its weights file is the checkpoint's, every output equals a
    PyTorch forward hook on the module it names (export.probe.reference) on real samples, and its answer equals
    its canvas model's (digits) or full model's (text, points)."""
    from export.probe import layers_of

    path = check_file(entry, models_dir)
    row = Row(entry["name"], entry["kind"], size_kb=path.stat().st_size / 1024)
    model = torch_graph(entry, models_dir).model
    layers = layers_of(entry["task"], model)
    _check_probe_layers(entry, layers, model, onnx.load(str(path)))
    _check_weights(entry, layers, model, models_dir)
    session = ort.InferenceSession(str(path), _one_thread(), providers=["CPUExecutionProvider"])
    check = {"digits": _verify_digit_probe, "text": _verify_text_probe, "points": _verify_points_probe}
    samples, described = check[entry["task"]](entry, layers, model, session, models_dir, entries, digits, row)
    row.checks = samples * len(entry["outputs"])  # every output of every sample, against a hook or the answer
    row.agreement = (
        f"{len(layers)} layers = hooks on {described}; answer = {entry.get('canvas_model', entry['base_model'])}"
    )
    return row


def _check_weights(entry: dict, layers: list, model: torch.nn.Module, models_dir: Path) -> None:
    """The weights file is the manifest's (sha256) and holds the checkpoint's tensors, bit for bit."""
    from export.probe import read_weights, weight_tensors

    weights = entry["weights"]
    path = Path(models_dir) / weights["file"]
    if not path.is_file():
        raise ChecksumMismatch(f"{entry['name']}: weights file {path} is missing")
    actual = sha256(path)
    if actual != weights["sha256"]:
        raise ChecksumMismatch(
            f"{entry['name']}: weights file {path} has sha256 {actual}, the manifest says {weights['sha256']}"
        )
    stored, expected = read_weights(path, weights["tensors"]), weight_tensors(entry["task"], model, layers)
    if list(stored) != list(expected):
        raise LayerMismatch(f"{entry['name']}: weights file holds {list(stored)}, the checkpoint {list(expected)}")
    for key, want in expected.items():
        if stored[key].shape != want.shape:
            raise ShapeMismatch(
                f"{entry['name']}: weights file tensor {key!r} has shape {stored[key].shape}, the checkpoint {want.shape}"
            )
        if not np.array_equal(stored[key], want):
            raise ValuesMismatch(f"{entry['name']}: weights file tensor {key!r} is not the checkpoint's (max abs diff "
                                 f"{float(np.abs(stored[key] - want).max()):.3g}, tolerance 0)")  # fmt: skip


def _one_thread() -> ort.SessionOptions:
    """Batch-1 calls of small graphs: one thread is 2-4x faster than a pool on a busy 2-core machine."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return options


def _check_probe_layers(entry: dict, layers: list, model: torch.nn.Module, graph: onnx.ModelProto) -> None:
    name = entry["name"]
    listed = entry["layers"]
    if listed != [layer.as_json() for layer in layers]:
        raise LayerMismatch(f"{name}: the manifest's layers {[x['name'] for x in listed]} are not what the model "
                            f"defines, {[x.name for x in layers]} (re-make them: python -m export probes)")  # fmt: skip
    modules = dict(model.named_modules())
    shown = {layer.module for layer in layers}
    for module_name, module in modules.items():
        if isinstance(module, PROBED_MODULES) and module_name not in shown:
            raise LayerMismatch(f"{name}: module {module_name!r} ({type(module).__name__}) has no probe output")
    for layer in layers:
        if layer.module is not None and layer.module not in modules:
            raise LayerMismatch(f"{name}: output {layer.name!r} names module {layer.module!r}, which the model lacks")
    outputs = {o.name for o in graph.graph.output}
    missing = [layer.name for layer in layers if layer.name not in outputs]
    if missing:
        raise LayerMismatch(f"{name}: the file lacks the outputs {missing}")
    ops = [n.op_type for n in graph.graph.node]
    for op, onnx_op in (("BatchNorm2d", "BatchNormalization"), ("RNN", "RNN"), ("GRU", "GRU")):
        wanted = len({(layer.module, layer.layer) for layer in layers if layer.op == op})
        if ops.count(onnx_op) < wanted:
            raise LayerMismatch(f"{name}: {wanted} {op} layers but {ops.count(onnx_op)} {onnx_op} nodes: "
                                f"not computed as the code defines them (folded into another op)")  # fmt: skip


class _Worst:
    """Per output, the largest |ONNX - PyTorch| and the largest |PyTorch| over every sample, judged at the end."""

    def __init__(self):
        self.diff: dict[str, float] = {}
        self.scale: dict[str, float] = {}
        self.at: dict[str, str] = {}

    def add(self, name: str, want: np.ndarray, got: np.ndarray, where) -> None:
        """`where(index)` says which sample an index of `want` is, for the message."""
        error = np.abs(want - got)
        index = np.unravel_index(int(np.argmax(error)), want.shape)  # argmax finds a NaN first
        diff = float(error[index])
        if name not in self.diff or not np.isnan(self.diff[name]) and not diff <= self.diff[name]:  # NaN sticks
            self.diff[name], self.at[name] = diff, f"{where(index)}: PyTorch {want[index]:.6g}, ONNX {got[index]:.6g}"
        self.scale[name] = max(self.scale.get(name, 0.0), float(np.abs(want).max()))

    def judge(self, entry: dict, layers: list, described: str, row: Row) -> None:
        for layer in layers:
            diff, scale = self.diff[layer.name], self.scale[layer.name]
            if not diff <= ATOL + RTOL * scale:
                module = f"module {layer.module!r}" if layer.module is not None else "no module"
                raise ValuesMismatch(f"{entry['name']}: output {layer.name!r} ({module}, {layer.op}) on {described}: "
                                     f"max abs diff {diff:.3g} > tolerance {ATOL:g} + {RTOL:g} x max|PyTorch hook| "
                                     f"{scale:.3g} (at {self.at.get(layer.name, '?')})")  # fmt: skip
            row.update(diff, diff / max(scale, 1e-12))


@functools.lru_cache(maxsize=2)  # drawn once for every digit probe of a dataset
def probe_canvases(dataset: str, data_dir: str | None, digits: int) -> list[tuple[str, np.ndarray]]:
    """The digit probes' samples: the first `digits` test digits as canvases (alternately a transparent
    sketchpad with the ink in alpha and black ink on a white page, at 28x28), then blanks and specks."""
    from export.sketches import FORMS, no_digit
    from zoo.data import load_image_dataset
    from zoo.pictures import plain_rgba as to_rgba

    data = load_image_dataset(dataset, Path(data_dir) if data_dir else None)
    forms = ("sketchpad rgba", "black on white")
    cases = [(f"test digit {i} ({forms[i % 2]})", to_rgba(FORMS[forms[i % 2]](x.astype(np.float32) / 255)))
             for i, x in enumerate(data.x_test[:digits])]  # fmt: skip
    return cases + [(case.name, to_rgba(case.image)) for case in no_digit()]


def _verify_digit_probe(entry, layers, model, session, models_dir, entries, digits, row) -> tuple[int, str]:
    """The layers against hooks on the frames the probe returns (in chunks), then the answer against the canvas
    model's on the same canvases: judged in that order, so a changed weight is named by the first layer it moves."""
    from export.probe import reference

    canvas_entry = entries[entry["canvas_model"]]
    canvas = ort.InferenceSession(
        str(Path(models_dir) / canvas_entry["file"]), _one_thread(), providers=["CPUExecutionProvider"]
    )
    metrics = entries[entry["base_model"]]["metrics"]
    cases = probe_canvases(metrics["dataset"], metrics.get("data_dir"), digits)
    names = [o.name for o in session.get_outputs()]
    answer: dict[str, tuple[float, str]] = {}  # output -> (max abs diff from the canvas model, where)
    ink_differs: list[str] = []
    worst = _Worst()
    for start in range(0, len(cases), PROBE_CHUNK):
        chunk = cases[start : start + PROBE_CHUNK]
        where = lambda i, c=[n for n, _ in chunk]: c[i[0]]  # noqa: E731
        got = {name: [] for name in names}
        for case_name, rgba in chunk:
            outputs = dict(zip(names, session.run(None, {"image": rgba}), strict=True))
            for key, want in zip(("probabilities", "frame", "ink", "contrast"), canvas.run(None, {"image": rgba}), strict=True):  # fmt: skip
                if key == "ink" and bool(want) != bool(outputs[key]):
                    ink_differs.append(f"{case_name}: {canvas_entry['name']} {bool(want)}, probe {bool(outputs[key])}")
                diff = float(np.abs(want.astype(np.float64) - outputs[key]).max())
                if not diff <= answer.get(key, (0.0, ""))[0]:  # also keeps a NaN
                    answer[key] = (diff, case_name)
            for name in names:
                got[name].append(outputs[name])
        frames = np.stack(got["frame"])[:, None].astype(np.float32)  # what the network saw: the hooks run on it
        want = reference("digits", model, layers, frames)
        worst.add("frame", want["frame"], frames, where)  # the first module's input: the frame itself
        for layer in layers[1:]:
            probe = np.concatenate(got[layer.name])
            if probe.shape != want[layer.name].shape:
                raise ShapeMismatch(f"{entry['name']}: output {layer.name!r}: ONNX {probe.shape}, PyTorch hook "
                                    f"{want[layer.name].shape} on {len(chunk)} canvases")  # fmt: skip
            worst.add(layer.name, want[layer.name], probe, where)
    worst.judge(entry, layers, f"{len(cases)} canvases (test digits, blanks, specks)", row)
    if ink_differs:
        raise InkMismatch(f"{entry['name']}: the ink decision differs from {canvas_entry['name']} on "
                          f"{len(ink_differs)} of {len(cases)} canvases (first: {ink_differs[0]})")  # fmt: skip
    for key, (diff, case_name) in answer.items():
        if not diff <= ATOL:
            raise ValuesMismatch(f"{entry['name']}: output {key!r}: max abs diff {diff:.3g} from {canvas_entry['name']} "
                                 f"> tolerance {ATOL:g} (on {case_name})")  # fmt: skip
    return len(cases), f"{len(cases)} canvases"


def _verify_text_probe(entry, layers, model, session, models_dir, entries, digits, row) -> tuple[int, str]:
    """Every training text (batched by length) against the hooks, then the answer against the full model's."""
    from export.probe import reference

    full = ort.InferenceSession(str(Path(models_dir) / entries[entry["base_model"]]["file"]),
                                providers=["CPUExecutionProvider"])  # fmt: skip
    by_length: dict[int, list[list[int]]] = {}
    for x, _ in corpora.training_pairs(get_spec(entry["model"]).corpus):
        by_length.setdefault(len(x), []).append(corpora.encode(x, entry["vocab"]))
    worst, names, answers = _Worst(), [o.name for o in session.get_outputs()], []
    for length, texts in by_length.items():
        indices = np.array(texts, dtype=np.int64)
        got = dict(zip(names, session.run(None, {"indices": indices}), strict=True))
        want = reference("text", model, layers, indices)
        for layer in layers:
            if got[layer.name].shape != want[layer.name].shape:
                raise ShapeMismatch(f"{entry['name']}: output {layer.name!r}: ONNX {got[layer.name].shape}, "
                                    f"PyTorch hook {want[layer.name].shape}")  # fmt: skip
            worst.add(layer.name, want[layer.name], got[layer.name], lambda i, n=length: f"text {i[0]} of length {n}, position {i[1]}")  # fmt: skip
        answers.append(({"indices": indices}, got, f"the training texts of length {length}"))
    texts = sum(len(t) for t in by_length.values())
    described = "the training text" if texts == 1 else f"the {texts} training texts"
    worst.judge(entry, layers, described, row)
    for feeds, got, where in answers:
        _same_answer(entry, full, feeds, got, where)
    return texts, described


def _verify_points_probe(entry, layers, model, session, models_dir, entries, digits, row) -> tuple[int, str]:
    from export.probe import reference

    full = ort.InferenceSession(str(Path(models_dir) / entries[entry["base_model"]]["file"]),
                                providers=["CPUExecutionProvider"])  # fmt: skip
    points = real_inputs(entries[entry["base_model"]])["points"]
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"points": points}), strict=True))
    want = reference("points", model, layers, points)
    worst = _Worst()
    for layer in layers:
        worst.add(layer.name, want[layer.name], got[layer.name], lambda i: f"held-out point {i[0]}")
    worst.judge(entry, layers, f"the {len(points)} held-out points", row)
    _same_answer(entry, full, {"points": points}, {"logit": got["linear2"], "probability": got["probability"]},
                 "the held-out points")  # fmt: skip
    return len(points), f"{len(points)} held-out points"


def _same_answer(entry: dict, full, feeds: dict, got: dict, described: str) -> None:
    """The probe's answer (logits and probabilities) is the full model's, to ATOL + RTOL x max."""
    for name, want in zip([o.name for o in full.get_outputs()], full.run(None, feeds), strict=True):
        diff, scale = float(np.abs(want - got[name]).max()), float(np.abs(want).max())
        if not diff <= ATOL + RTOL * scale:
            raise ValuesMismatch(f"{entry['name']}: output {name!r} on {described}: max abs diff {diff:.3g} from "
                                 f"{entry['base_model']} > tolerance {ATOL:g} + {RTOL:g} x {scale:.3g}")  # fmt: skip


def check_all(models_dir: Path, canvas_digits: int = CANVAS_DIGITS) -> tuple[list[Row], list[VerificationError]]:
    """Every model in the manifest; canvas models after their digit models (skipped where that one failed)."""
    entries = {e["name"]: e for e in load_manifest(models_dir)}
    rows, failures, failed = [], [], set()
    errors = (VerificationError, onnx.checker.ValidationError, onnx.shape_inference.InferenceError)
    for entry in entries.values():
        if entry["kind"] in ("canvas", "probe", "replay", "train", "train-inside"):
            continue
        try:
            rows.append(verify_entry(entry, models_dir, entries))
        except errors as error:
            failed.add(entry["name"])
            failures.append(
                error if isinstance(error, VerificationError) else VerificationError(f"{entry['name']}: {error}")
            )
    canvases = [e for e in entries.values() if e["kind"] == "canvas" and e["base_model"] not in failed]
    unproven = set()  # canvas models that failed: a probe is compared with its canvas model's answer
    for dataset in dict.fromkeys(entries[c["base_model"]]["metrics"]["dataset"] for c in canvases):  # a corpus each
        group = [c for c in canvases if entries[c["base_model"]]["metrics"]["dataset"] == dataset]
        try:
            passed, failed_canvases = verify_canvases(group, models_dir, entries, canvas_digits)
            rows += passed
            failures += failed_canvases
            unproven |= {c["name"] for c in group} - {r.name for r in passed}
        except errors as error:
            unproven |= {c["name"] for c in group}
            failures.append(error if isinstance(error, VerificationError) else VerificationError(f"{dataset}: {error}"))
    for entry in entries.values():  # probe models last (skipped where the model or canvas model they show failed)
        if entry["kind"] == "probe" and not {entry["base_model"], entry.get("canvas_model")} & (failed | unproven):
            try:
                rows.append(verify_probe(entry, models_dir, entries, canvas_digits))
            except errors as error:
                failed.add(entry["name"])
                failures.append(
                    error if isinstance(error, VerificationError) else VerificationError(f"{entry['name']}: {error}")
                )
    from export.replay import check_replays  # circles' training file, the digit replays (export/replay.py)

    others = {n: e for n, e in entries.items() if e["kind"] != "train"}  # train entries: export/train_check.py
    replay_rows, replay_failures = check_replays(others, models_dir, failed | unproven)
    rows, failures = rows + replay_rows, failures + replay_failures
    from export.train_check import check_training  # the training steps against torch.optim (train_check.py)

    train_rows, train_failures = check_training(entries, models_dir)
    rows, failures = rows + train_rows, failures + train_failures
    from export.train_inside import check_insides  # every layer from live weights against PyTorch (train_inside.py)

    inside_rows, inside_failures = check_insides(entries, models_dir)
    rows, failures = rows + inside_rows, failures + inside_failures
    for entry in entries.values():  # the test data every other runtime is checked with, here too
        if entry.get("test_data") and entry["name"] not in failed | unproven:
            try:
                verify_test_data(entry, models_dir)
            except errors as error:
                failures.append(
                    error if isinstance(error, VerificationError) else VerificationError(f"{entry['name']}: {error}")
                )
    return rows, failures


def format_table(rows: list[Row]) -> str:
    lines = ["| model | kind | max abs diff | max rel diff | argmax agreement (real samples) | size |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    notes = []
    for r in rows:
        diffs = ("—", "—") if r.kind == "int8" else (f"{r.max_abs:.1e}", f"{r.max_rel:.1e}")
        lines.append(f"| {r.name} | {r.kind} | {diffs[0]} | {diffs[1]} | {r.agreement} | {r.size_kb:,.1f} KB |")
        if r.conditioning:
            notes.append(f"- {r.name}: {r.conditioning}")
    if notes:
        lines += ["", "Conditioning (random text at 5x the training length, float64 as the exact answer):", *notes]
    return "\n".join(lines)
