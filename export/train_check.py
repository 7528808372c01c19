"""The proof of the training files: every `<model>-train-<optimizer>.onnx` against PyTorch and torch.optim.

From the same start (the start file's weights), the same data order and the same dropout masks (both drawn
from `numpy.random.default_rng(SEED)`), PyTorch runs the epoch (the model's own modules, `F.cross_entropy`,
`loss.backward()`, `torch.optim.<X>.step()`), and the file's steps are checked against it step for step: at
every step ONNX Runtime starts from PyTorch's parameters and optimiser state before that step, and its loss
must be PyTorch's within `LOSS_ATOL` and every new weight PyTorch's within `WEIGHT_ATOL` + `WEIGHT_RTOL` x the
largest weight of its tensor, at every step to the end of the epoch. An epoch is the 3,500 training digits in
batches of 64 (55 steps, the last one of 44, so the dynamic batch is used), or the text model's lecture run
(50 or 100 full-batch steps).

Why step for step, and these tolerances: both sides compute in float32 but not in the same order (the
exported graph's sums are ONNX Runtime's, a convolution's gradient is a ConvTranspose), so one step differs in
the last bits (measured over every model and optimiser: losses at most 1e-6 apart, weights at most 5.3e-5,
most below 1e-5), while a wrong gradient, rule or rate is off by far more from the first step (a test
doubles the learning rate inside a file and sees it fail). Left to run on its own from the start, each side
carries its last bits on, and where training is chaotic the two runs part: the lecture's longseq run (Adam at
0.1) parts from PyTorch's at step 32 of 100, just as two PyTorch runs whose sums were ordered differently
would. That free run is measured and reported beside the proof (its largest loss and weight differences, and
the first step whose losses differ by more than `PARTED`), not held to a tolerance.

The files also agree with `onnx.reference` (ONNX's own Python evaluator of the standard's semantics) on two
steps of a small batch, within `REFERENCE_ATOL`: the graph means what ONNX Runtime computes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F

from export import train_graphs as tg
from export.checks import Row, ValuesMismatch, VerificationError, check_file
from zoo import manifest as zoo_manifest

SEED = 0
LOSS_ATOL = 1e-5
WEIGHT_ATOL = 1e-4
WEIGHT_RTOL = 1e-4
REFERENCE_ATOL = 1e-4
PARTED = 1e-3  # the free run: where the two runs' losses first differ by more than this (reported)
REFERENCE_BATCH = 4

# The learning rates the proof runs at: the recipe's for Adam, and for the other rules a rate at which that
# rule trains the model (a step too small to move the weights would prove nothing). RMSprop on the digits runs
# at 1e-4: its first steps divide each gradient by sqrt(0.01 g^2) = |g| / 10, so a weight whose gradients so far
# were float noise (a unit that dropout or ReLU kept silent: 1e-8 where both sides should say 0) moves by up to
# 10 x lr on a noise-sized gradient, whose sign the order of a sum decides (at 1e-3, cnn-small's free runs
# parted at step 15 of 55 on one such weight).
PROOF_LR = {
    "text": {"sgd": 0.5, "momentum": 0.1, "rmsprop": 0.01, "adam": 0.1},
    "digits": {"sgd": 0.1, "momentum": 0.05, "rmsprop": 0.0001, "adam": 0.001},
}


@dataclass
class TrainProof:
    name: str
    steps: int
    loss_diff: float  # step for step: the largest |loss ONNX Runtime - loss PyTorch| over the steps
    weight_diff: float  # step for step: the largest |weight ONNX Runtime - weight PyTorch| after any step
    weight_scale: float  # the largest |weight|, for scale
    first_loss: float
    last_loss: float
    reference_diff: float  # onnx.reference against ONNX Runtime, two steps
    seconds: float
    free_loss_diff: float  # the free run (each side on its own from the start): the largest loss difference
    free_weight_diff: float  # and the largest weight difference after the run
    free_parted: int | None  # the first step whose loss differs by more than PARTED, or None


def batches(entry: dict, models_dir: Path, rng: np.random.Generator):
    """The run's batches: (x, y) in the order the run takes them (digits: one epoch, shuffled)."""
    if entry["task"] == "text":
        x, y = tg.batch_arrays(entry)
        return [(x, y)] * entry["recipe"]["epochs"]
    digits = tg.read_digits(entry["training"], models_dir)
    images = digits["train_images"].astype(np.float32)[:, None] / 255
    labels = digits["train_labels"].astype(np.int64)
    order = rng.permutation(len(labels))
    size = entry["recipe"]["batch_size"]
    return [(images[order[i : i + size]], labels[order[i : i + size]]) for i in range(0, len(order), size)]


def hyperparameters(entry: dict) -> dict[str, float]:
    return {**entry["hyperparameters"], "lr": PROOF_LR[entry["task"]][entry["optimizer"]]}


class OrtTrainer:
    """Steps of a training file in an ONNX Runtime session, the parameters and state kept between them."""

    def __init__(self, path: Path, entry: dict, weights: dict[str, np.ndarray], hyper: dict[str, float]):
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.entry = entry
        self.params = dict(weights)
        self.state = {f"{s}.{n}": np.zeros_like(w) for n, w in weights.items() for s in entry["state"]}
        self.hyper = hyper
        self.steps = 0

    def step(self, x, y, masks: dict[str, np.ndarray]) -> tuple[float, float, np.ndarray]:
        self.steps += 1
        hyper = {k: np.array(self.steps if k == "step" else v, np.float32) for k, v in self.hyper.items()}
        feeds = {**self.params, **self.state, "x": x, "y": y, **masks, **hyper}
        names = [o.name for o in self.session.get_outputs()]
        out = dict(zip(names, self.session.run(None, feeds), strict=True))
        self.params = {n: out[f"new.{n}"] for n in self.params}
        self.state = {n: out[f"new.{n}"] for n in self.state}
        return float(out["loss"]), float(out["accuracy"]), out["predicted"]


def torch_run(entry: dict, weights: dict[str, np.ndarray], hyper: dict, steps: list, masks: list):
    """The run in PyTorch: the model's modules, F.cross_entropy, backward and torch.optim. Returns the loss at
    every step, and before each step the parameters and the optimiser's state (as the file names them), and
    the parameters after the last step."""
    model, names, dropout = tg.trainable(entry["model"])
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(weights[name]))
    optimizer = tg.torch_optimizer(entry["optimizer"], model.parameters(), hyper)
    losses, before = [], []
    for (x, y), m in zip(steps, masks, strict=True):
        before.append(_snapshot(model, optimizer, entry))
        dropout.set(m)
        optimizer.zero_grad()
        out = model(torch.from_numpy(x))
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), torch.from_numpy(y).reshape(-1))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, before, _snapshot(model, optimizer, entry)


def _snapshot(model, optimizer, entry: dict) -> tuple[dict, dict]:
    """The parameters and the optimiser's state now, by the file's names (state not made yet: zeros, which is
    what the rules start from: momentum's 0.9 * 0 + g is torch's first clone(g))."""
    params = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    state = {}
    for n, p in model.named_parameters():
        for key in entry["state"]:
            value = optimizer.state.get(p, {}).get(key)
            state[f"{key}.{n}"] = np.zeros_like(params[n]) if value is None else value.detach().numpy().copy()
    return params, state


def reference_diff(path: Path, entry: dict, weights: dict, hyper: dict, x, y) -> float:
    """Two steps of a small batch in onnx.reference and in ONNX Runtime: the largest difference of any output."""
    from onnx.reference import ReferenceEvaluator

    evaluator = ReferenceEvaluator(onnx.load(str(path)))
    rng = np.random.default_rng(SEED + 1)
    x, y = x[:REFERENCE_BATCH], y[:REFERENCE_BATCH]
    trainer = OrtTrainer(path, entry, weights, hyper)
    worst = 0.0
    for _ in range(2):
        masks = tg.draw_masks(entry["model"], len(x), rng)
        hyper_now = {k: np.array(trainer.steps + 1 if k == "step" else v, np.float32) for k, v in hyper.items()}
        feeds = {**trainer.params, **trainer.state, "x": x, "y": y, **masks, **hyper_now}
        names = [o.name for o in trainer.session.get_outputs()]
        expected = evaluator.run(None, feeds)
        got = trainer.session.run(None, feeds)
        for name, a, b in zip(names, got, expected, strict=True):
            if a.shape != np.shape(b):
                raise ValuesMismatch(
                    f"{entry['name']}: output {name} has shape {a.shape} in ONNX Runtime, {np.shape(b)} in onnx.reference"
                )
            worst = max(worst, float(np.abs(a.astype(np.float64) - np.asarray(b, np.float64)).max()))
        trainer.step(x, y, masks)
    return worst


def prove(entry: dict, models_dir: Path, reference: bool = True) -> TrainProof:
    """One training file against PyTorch (and onnx.reference); VerificationError naming what differs."""
    started = time.perf_counter()
    models_dir = Path(models_dir)
    path = check_file(entry, models_dir)
    try:
        zoo_manifest.checked_file(entry["weights"], models_dir)
        if entry.get("training"):
            zoo_manifest.checked_file(entry["training"], models_dir)
    except zoo_manifest.ManifestError as error:
        raise VerificationError(f"{entry['name']}: {error}") from None
    _check_data(entry, models_dir)
    weights = tg.read_start(entry["weights"], models_dir)
    hyper = hyperparameters(entry)
    rng = np.random.default_rng(SEED)
    steps = batches(entry, models_dir, rng)
    masks = [tg.draw_masks(entry["model"], len(x), rng) for x, _ in steps]

    torch_losses, before, (torch_weights, _) = torch_run(entry, weights, hyper, steps, masks)
    # Step for step: at every step ONNX Runtime starts from PyTorch's parameters and state before it.
    stepper = OrtTrainer(path, entry, weights, hyper)
    loss_diff, weight_diff, scale = 0.0, 0.0, 0.0
    for k, ((x, y), m) in enumerate(zip(steps, masks, strict=True)):
        stepper.params, stepper.state = dict(before[k][0]), dict(before[k][1])
        loss = stepper.step(x, y, m)[0]
        diff = abs(loss - torch_losses[k])
        if not diff <= LOSS_ATOL:
            raise ValuesMismatch(
                f"{entry['name']}: loss at step {k + 1} of {len(steps)} is {loss:.6f} in ONNX Runtime, "
                f"{torch_losses[k]:.6f} in PyTorch from the same weights (|diff| {diff:.2e} > {LOSS_ATOL:g})"
            )
        loss_diff = max(loss_diff, diff)
        expected = before[k + 1][0] if k + 1 < len(steps) else torch_weights
        for name, want in expected.items():
            got = stepper.params[name]
            worst, largest = float(np.abs(got - want).max()), float(np.abs(want).max())
            if not worst <= WEIGHT_ATOL + WEIGHT_RTOL * largest:
                raise ValuesMismatch(
                    f"{entry['name']}: weight {name} after step {k + 1} of {len(steps)} differs by {worst:.2e} "
                    f"between ONNX Runtime and PyTorch from the same start of the step (tolerance {WEIGHT_ATOL:g} + "
                    f"{WEIGHT_RTOL:g} x {largest:.3g})"
                )
            weight_diff, scale = max(weight_diff, worst), max(scale, largest)
    # The free run: each side on its own from the start, reported (where it parts, training is chaotic).
    trainer = OrtTrainer(path, entry, weights, hyper)
    free = np.abs(np.array([trainer.step(x, y, m)[0] for (x, y), m in zip(steps, masks, strict=True)]) - torch_losses)
    parted = next((k + 1 for k, d in enumerate(free) if d > PARTED), None)
    free_weights = max(float(np.abs(trainer.params[n] - w).max()) for n, w in torch_weights.items())
    ref = reference_diff(path, entry, weights, hyper, *steps[0]) if reference else float("nan")
    if reference and not ref <= REFERENCE_ATOL:
        raise ValuesMismatch(
            f"{entry['name']}: onnx.reference and ONNX Runtime differ by {ref:.2e} (> {REFERENCE_ATOL:g})"
        )
    return TrainProof(entry["name"], len(steps), loss_diff, weight_diff, scale, torch_losses[0], torch_losses[-1],
                      ref, time.perf_counter() - started, float(free.max()), free_weights, parted)  # fmt: skip


def _check_data(entry: dict, models_dir: Path) -> None:
    """The data the files name is the lecture's: the text's pairs, mnist-5k's training and validation digits."""
    if entry["task"] == "text":
        x, y = tg.text_batch(entry["model"])
        got_x, got_y = tg.batch_arrays(entry)
        if not (np.array_equal(got_x, x) and np.array_equal(got_y, y)):
            raise VerificationError(
                f"{entry['name']}: the manifest's batch is not the lecture's data for {entry['model']}"
            )
        return
    from zoo.data import load_mnist5k

    data, parts = load_mnist5k(), tg.read_digits(entry["training"], models_dir)
    expected = {"train_images": data.x_train, "train_labels": data.y_train, "val_images": data.x_val,
                "val_labels": data.y_val}  # fmt: skip
    for key, array in expected.items():
        if not np.array_equal(parts[key], array):
            raise VerificationError(f"{entry['name']}: {entry['training']['file']} {key} are not mnist-5k's")


def check_training(entries: dict[str, dict], models_dir: Path, reference: bool = True) -> tuple[list, list]:
    """Rows and failures for `export.verify.check_all`: every training file in the manifest."""
    rows, failures, proofs = [], [], []
    for entry in entries.values():
        if entry["kind"] != "train":
            continue
        try:
            proof = prove(entry, models_dir, reference)
        except (VerificationError, onnx.checker.ValidationError) as error:
            failures.append(
                error if isinstance(error, VerificationError) else VerificationError(f"{entry['name']}: {error}")
            )
            continue
        proofs.append(proof)
        rows.append(Row(entry["name"], "train", max_abs=proof.weight_diff, max_rel=proof.weight_diff / proof.weight_scale,
                        agreement=f"loss within {proof.loss_diff:.1e} at each of {proof.steps} steps",
                        size_kb=entry["bytes"] / 1024, checks=proof.steps))  # fmt: skip
    if proofs:
        print(format_proofs(proofs))
    return rows, failures


def format_proofs(proofs: list[TrainProof]) -> str:
    lines = [
        "| training file | steps | loss: first -> last | step for step: loss diff | weight diff (largest weight) "
        "| free run: loss diff, weight diff, parted at | onnx.reference | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in proofs:
        parted = f"step {p.free_parted}" if p.free_parted else "never"
        lines.append(f"| {p.name} | {p.steps} | {p.first_loss:.4f} -> {p.last_loss:.4f} | {p.loss_diff:.1e} | "
                     f"{p.weight_diff:.1e} ({p.weight_scale:.2f}) | {p.free_loss_diff:.1e}, {p.free_weight_diff:.1e}, "
                     f"{parted} | {p.reference_diff:.1e} | {p.seconds:.1f} |")  # fmt: skip
    lines.append(f"\nTolerances, step for step (ONNX Runtime given PyTorch's weights and state before each step): the "
                 f"loss within {LOSS_ATOL:g}, every weight after the step within {WEIGHT_ATOL:g} + {WEIGHT_RTOL:g} x "
                 f"the tensor's largest weight; onnx.reference within {REFERENCE_ATOL:g}. The free run is reported: "
                 f"'parted at' is its first step whose losses differ by more than {PARTED:g}.")  # fmt: skip
    return "\n".join(lines)
