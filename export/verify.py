"""The proof: every model in the manifest computes, in ONNX Runtime, what its checkpoint computes in PyTorch.

Failures are typed and say which model, which output, which input, the tolerance and the worst difference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from export.graphs import LogitsGraph, PointsGraph, TextStepGraph
from export.onnx import real_inputs, sha256
from export.quantize import MAX_ACCURACY_LOSS, int8_accuracy_loss
from export.tolerance import argmax_agreement, judge, tolerances
from zoo import corpora
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


class VerificationError(Exception):
    """A model failed its proof; the message names the model, output, input, tolerance and difference."""


class ChecksumMismatch(VerificationError):
    pass


class ShapeMismatch(VerificationError):
    pass


class ValuesMismatch(VerificationError):
    pass


class ArgmaxMismatch(VerificationError):
    pass


class AccuracyLoss(VerificationError):
    pass


class InkMismatch(VerificationError):
    pass


@dataclass
class Row:
    name: str
    kind: str
    max_abs: float = 0.0
    max_rel: float = 0.0  # max |onnx - torch| / max |torch|, per output
    agreement: str = ""
    conditioning: str = ""  # char models: random text at 5x length, both runtimes against float64
    size_kb: float = 0.0
    checks: int = 0  # (input, output) comparisons made

    def update(self, abs_diff: float, rel_diff: float) -> None:
        self.max_abs = max(self.max_abs, abs_diff)
        self.max_rel = max(self.max_rel, rel_diff)
        self.checks += 1


def load_manifest(models_dir: Path) -> list[dict]:
    path = Path(models_dir) / "manifest.json"
    if not path.is_file():
        raise VerificationError(f"no manifest at {path}; run python -m export all")
    return json.loads(path.read_text())["models"]


def check_file(entry: dict, models_dir: Path) -> Path:
    """The file is the one the manifest names (sha256), passes onnx's full check and strict shape inference."""
    path = Path(models_dir) / entry["file"]
    if not path.is_file():
        raise ChecksumMismatch(f"{entry['name']}: file {path} is missing")
    actual = sha256(path)
    if actual != entry["sha256"]:
        raise ChecksumMismatch(f"{entry['name']}: {path} has sha256 {actual}, the manifest says {entry['sha256']}")
    onnx.checker.check_model(str(path), full_check=True)
    onnx.shape_inference.infer_shapes(onnx.load(str(path)), check_type=True, strict_mode=True)
    return path


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
    from zoo.pictures import plain_rgba as to_rgba
    from export.onnx import digits_of

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


def check_all(models_dir: Path, canvas_digits: int = CANVAS_DIGITS) -> tuple[list[Row], list[VerificationError]]:
    """Every model in the manifest; canvas models after their digit models (skipped where that one failed)."""
    entries = {e["name"]: e for e in load_manifest(models_dir)}
    rows, failures, failed = [], [], set()
    errors = (VerificationError, onnx.checker.ValidationError, onnx.shape_inference.InferenceError)
    for entry in entries.values():
        if entry["kind"] == "canvas":
            continue
        try:
            rows.append(verify_entry(entry, models_dir, entries))
        except errors as error:
            failed.add(entry["name"])
            failures.append(
                error if isinstance(error, VerificationError) else VerificationError(f"{entry['name']}: {error}")
            )
    canvases = [e for e in entries.values() if e["kind"] == "canvas" and e["base_model"] not in failed]
    for dataset in dict.fromkeys(entries[c["base_model"]]["metrics"]["dataset"] for c in canvases):  # a corpus each
        group = [c for c in canvases if entries[c["base_model"]]["metrics"]["dataset"] == dataset]
        try:
            passed, failed_canvases = verify_canvases(group, models_dir, entries, canvas_digits)
            rows += passed
            failures += failed_canvases
            failed |= {c["name"] for c in group} - {r.name for r in passed}
        except errors as error:
            failed |= {c["name"] for c in group}
            failures.append(error if isinstance(error, VerificationError) else VerificationError(f"{dataset}: {error}"))
    for entry in entries.values():  # the test data every other runtime is checked with, here too
        if entry.get("test_data") and entry["name"] not in failed:
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
