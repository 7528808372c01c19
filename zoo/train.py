"""Training: one loop per task (digits, text, points), a checkpoint, a metrics JSON and a curve PNG.

The device is chosen once (`pick_device`) and passed down. Small datasets sit on the device as whole
tensors and batches are index slices of them: no DataLoader, no per-batch host-to-device copies. A digit
step runs wholly on the device (shuffling and augmentation draw their random numbers there; no `.item()`
inside an epoch), so a GPU is never kept waiting by the host.
Randomness (init, shuffling, augmentation, dropout) comes from the seed, so the same seed on the CPU gives
the same weights, bit for bit (tested). On a GPU, runs agree only to the last bits (atomics in the
kernels, bf16 autocast).
"""

from __future__ import annotations

import json
import math
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from zoo import corpora
from zoo.data import DEFAULT_IMAGE_DATASET, augment_digits, load_circles, load_image_dataset
from zoo.models import REGISTRY, ZooError, build_model, count_parameters, get_spec


@dataclass
class TrainConfig:
    """Defaults per task; `--epochs` and `--batch-size` override them."""

    epochs: int
    lr: float  # the peak rate, at `batch_size`
    batch_size: int = 0  # 0: full batch
    cuda_batch_size: int = 0  # digit runs on a GPU (0: batch_size)
    cuda_epochs: int = 0  # and their epochs (0: epochs)
    weight_decay: float = 0.0
    augment: bool = False
    label_smoothing: float = 0.0
    warmup: float = 0.2  # digits: share of the steps spent warming up (one-cycle schedule)
    log_every: int = 1  # print a line every this many epochs


# Digits, measured on the 2-core CPU (Performance 4): channels-last and fused AdamW make every step
# cheaper; a larger batch pays where the step is GEMM-bound (mlp: 128, cnn-small: 256, about 1.5-2x the
# images/s of 64), while the conv models with a 4,000-image set lose accuracy per epoch at 128 or 256
# more than they gain in speed (cnn after 20 epochs: 97.9% at 128, 98.6% at 64; 97.6% at 256 after 15), so
# they keep 64.
# On a GPU a step costs about the same at 64 or 1024 images (bound by kernel launches): digit runs take 256
# images a step (cnn-bn 512), the rate scaled by the square root of the batch ratio, and more epochs (they
# are cheap there). Tuned on an H100 (README Results): over seeds, cnn 98.7-99.2%, cnn-bn 99.0-99.3% (at 256:
# 98.8-99.2%, hence 512), mlp 97.6-98.1%, cnn-small 96.9-97.7% at 40 epochs (96.2-96.7% at 20).
_DIGITS = dict(weight_decay=1e-4, augment=True, label_smoothing=0.1)
DEFAULTS: dict[str, TrainConfig] = {
    "mlp": TrainConfig(epochs=30, lr=2.8e-3, batch_size=128, cuda_batch_size=256, cuda_epochs=60, **_DIGITS),
    "cnn": TrainConfig(epochs=40, lr=4e-3, batch_size=64, cuda_batch_size=256, cuda_epochs=90, **_DIGITS),
    "cnn-small": TrainConfig(epochs=20, lr=8e-3, batch_size=256, cuda_batch_size=256, cuda_epochs=40, **_DIGITS),
    "cnn-bn": TrainConfig(epochs=20, lr=3e-3, batch_size=64, cuda_batch_size=512, cuda_epochs=45, **_DIGITS),
    "hihello": TrainConfig(epochs=100, lr=0.1, log_every=10),
    "charseq": TrainConfig(epochs=100, lr=0.1, log_every=10),
    # The char models reproduce their texts exactly from epoch 100 on (greedy generation and the lecture's
    # windows, checked every 25 epochs up to 1,000); 3-4x that leaves a margin. Circles: 95% from epoch 200.
    "longseq": TrainConfig(epochs=400, lr=0.01, log_every=50),
    "longseq-gru": TrainConfig(epochs=300, lr=0.01, log_every=50),
    "circles": TrainConfig(epochs=1000, lr=0.03, log_every=100),
}


MIN_ONE_CYCLE_STEPS = 10
MNIST5K_TRAIN = 4000  # the training set the digit recipes were tuned on


def config_for(
    name: str,
    device: torch.device,
    epochs: int | None = None,
    batch_size: int | None = None,
    train_size: int | None = None,
) -> TrainConfig:
    """`DEFAULTS[name]` for `device`, with the command line's overrides; the rate follows the batch.

    On a GPU the digit batch also grows with the training set, by the square root of its size against
    mnist-5k's 4,000 in powers of two (60,000 images: 4x, batch 1024): the GPU's step costs about the same
    at 256 or 1024 images, and a 60,000-image epoch at 256 would be 234 host-bound steps."""
    config = DEFAULTS[name]
    changes: dict = {}
    if epochs is not None:
        if epochs < 1:
            raise ZooError(f"--epochs must be at least 1, got {epochs}")
        changes["epochs"] = epochs
    if device.type == "cuda":
        if epochs is None and config.cuda_epochs:
            changes["epochs"] = config.cuda_epochs
        if batch_size is None and config.cuda_batch_size:
            growth = math.sqrt(max(train_size or MNIST5K_TRAIN, MNIST5K_TRAIN) / MNIST5K_TRAIN)
            batch_size = config.cuda_batch_size * 2 ** round(math.log2(growth))
    if batch_size is not None:
        if batch_size < 1:
            raise ZooError(f"--batch-size must be at least 1, got {batch_size}")
        if not config.batch_size:
            raise ZooError(f"--batch-size applies to digit models only; {name} trains on its whole data each step")
        changes["batch_size"] = batch_size
        changes["lr"] = config.lr * math.sqrt(batch_size / config.batch_size)
    return TrainConfig(**{**config.__dict__, **changes})


@dataclass
class Result:
    """What a run produced; `metrics` is also written as JSON next to the checkpoint."""

    checkpoint: Path
    metrics: dict = field(default_factory=dict)


def pick_device(choice: str = "auto") -> torch.device:
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ZooError("--device cuda was asked for, but torch sees no CUDA GPU; use --device cpu or auto")
    if choice not in ("cuda", "cpu"):
        raise ZooError(f"unknown device {choice!r}; use auto, cuda or cpu")
    return torch.device(choice)


def run_name(model: str, dataset: str | None) -> str:
    """`cnn` on the default data, `cnn-fashion-mnist` on another dataset."""
    return model if dataset in (None, DEFAULT_IMAGE_DATASET) else f"{model}-{dataset}"


def train(
    name: str,
    *,
    dataset: str | None = None,
    data_dir: Path | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    seed: int = 0,
    out: Path = Path("models/checkpoints"),
    compile: bool = False,
    max_steps: int | None = None,
    quiet: bool = False,
) -> Result:
    """Train model `name` and write `<out>/<run>.pt`, `<run>.json` and `<run>.png`.

    `compile` runs digit models through `torch.compile` (optional: a one-time cost, worth it for long runs
    on a GPU). `max_steps` caps the optimiser steps per epoch (tests use it for a quick run).
    """
    spec = get_spec(name)
    if spec.task != "digits" and dataset not in (None, DEFAULT_IMAGE_DATASET):
        raise ZooError(f"--dataset applies to digit models only; {name} learns its built-in {spec.task} data")
    dev = pick_device(device)
    data = load_image_dataset(dataset or DEFAULT_IMAGE_DATASET, data_dir) if spec.task == "digits" else None
    config = config_for(name, dev, epochs, batch_size, train_size=len(data.x_train) if data else None)
    torch.manual_seed(seed)
    generator = torch.Generator(device=dev).manual_seed(seed)
    model = build_model(name).to(dev)
    if spec.task == "digits":
        # On CUDA `compile` captures the step as a CUDA graph (CudaGraphSteps); torch.compile is the CPU's
        model = prepare_digit_model(model, dev, compile and dev.type == "cpu")

    # The text and points models (at most 8,450 parameters) run one thread: their ops are too small to
    # split, and two threads that wait on each other at every op were 2-20x slower (measured, Performance 4).
    threads = 1 if spec.task != "digits" and dev.type == "cpu" else torch.get_num_threads()
    started = time.perf_counter()
    with cpu_threads(threads):
        if spec.task == "digits":
            history, extra = _train_digits(model, config, dev, generator, data, data_dir, compile, max_steps, quiet)
        else:
            task = {"text": _train_text, "points": _train_points}[spec.task]
            history, extra = task(model, spec, config, dev, compile and dev.type == "cuda", max_steps, quiet)
        device_description = _device_description(dev)
    wall = time.perf_counter() - started

    run = run_name(name, dataset if spec.task == "digits" else None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics = {
        "model": name,
        "run": run,
        "task": spec.task,
        "parameters": count_parameters(model),
        "seed": seed,
        "device": device_description,
        "epochs": config.epochs,
        "config": config.__dict__,
        "wall_time_s": round(wall, 2),
        "seconds_per_epoch": round(wall / config.epochs, 4),
        "torch": str(torch.__version__),
        "history": history,
        **extra,
    }
    checkpoint = out / f"{run}.pt"
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}  # not channels-last
    torch.save({"model": name, "state_dict": state, "metrics": metrics}, checkpoint)
    (out / f"{run}.json").write_text(json.dumps(metrics, indent=2) + "\n")
    _plot_curve(history, out / f"{run}.png", f"{run}: {_headline(metrics)}")
    if not quiet:
        print(f"{run}: {_headline(metrics)} in {wall:.1f}s on {metrics['device']} -> {checkpoint}")
    return Result(checkpoint, metrics)


@contextmanager
def cpu_threads(n: int):
    """PyTorch's CPU threads set to `n` inside the block, restored after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def load_checkpoint(path: Path) -> tuple[nn.Module, dict]:
    """A trained model (in eval mode) and its metrics, from a checkpoint written by `train`."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(blob["model"])
    model.load_state_dict(blob["state_dict"])
    return model.eval(), blob["metrics"]


# ----------------------------------------------------------------------------- tasks


def _logs(quiet: bool, epoch: int, config: TrainConfig) -> bool:
    return not quiet and (epoch % config.log_every == 0 or epoch == config.epochs)


def _log(quiet: bool, epoch: int, config: TrainConfig, message: str) -> None:
    if _logs(quiet, epoch, config):
        tqdm.write(f"epoch {epoch:>4}/{config.epochs}  {message}")


class Curve:
    """Per-epoch figures of the full-batch tasks, kept on the device and read once at the end. On a GPU a
    read (`.item()`) is a synchronisation, and these tiny models waited on three of them an epoch longer
    than they computed (circles: 3.9 s for 1,000 epochs on an H100)."""

    def __init__(self, **decimals: int):
        self.decimals = decimals
        self.values: dict[str, list[torch.Tensor]] = {name: [] for name in decimals}

    def add(self, **values: torch.Tensor) -> None:
        for name, value in values.items():
            self.values[name].append(value.detach())

    def last(self, name: str) -> float:
        return float(self.values[name][-1])

    def history(self) -> dict[str, list[float]]:
        return {
            name: [round(x, self.decimals[name]) for x in torch.stack(values).tolist()]
            for name, values in self.values.items()
        }


def prepare_digit_model(model: nn.Module, dev: torch.device, compile: bool = False) -> nn.Module:
    """Channels-last for models with convolutions (measured: faster on the CPU's oneDNN kernels and on
    tensor cores), cuDNN autotuning on a GPU, and optionally `torch.compile`."""
    if any(isinstance(m, nn.Conv2d) for m in model.modules()):
        model = model.to(memory_format=torch.channels_last)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if compile:
        model.compile()  # in place: the state_dict keeps its names
    return model


def digit_optimizer(model: nn.Module, config: TrainConfig, steps_per_epoch: int):
    """AdamW (fused: one kernel for all parameters, on the CPU too) and its schedule for a digit run."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True)
    # One-cycle: warm up, then anneal to ~0. Reaches a given accuracy in far fewer epochs than a flat rate,
    # and the warm-up is what lets a large batch start at a large rate.
    # It needs room for a warm-up phase (5 steps in all divide by zero inside OneCycleLR): below
    # MIN_ONE_CYCLE_STEPS the rate stays constant.
    total_steps = config.epochs * steps_per_epoch
    if total_steps >= MIN_ONE_CYCLE_STEPS:
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=total_steps, pct_start=config.warmup
        )
    else:
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    return optimizer, schedule


class DigitSteps:
    """Digit training steps on tensors resident on the device: shuffled index slices, augmentation, label
    smoothing, fused AdamW, the schedule. `epoch()` returns the summed loss, still on the device (no sync
    per step)."""

    def __init__(self, model, optimizer, schedule, x_train, y_train, config, generator, autocast):
        self.model, self.optimizer, self.schedule = model, optimizer, schedule
        self.x_train, self.y_train, self.config = x_train, y_train, config
        self.generator, self.autocast = generator, autocast
        self.batch = config.batch_size

    @staticmethod
    def steps_per_epoch(n: int, batch: int) -> int:
        return math.ceil(n / batch)

    def loss(self, idx: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = self.x_train[idx]
        if self.config.augment:
            x = augment_digits(x, generator)
        with self.autocast:
            return F.cross_entropy(self.model(x), self.y_train[idx], label_smoothing=self.config.label_smoothing)

    def epoch(self, steps: int) -> torch.Tensor:
        self.model.train()
        order = torch.randperm(len(self.x_train), generator=self.generator, device=self.x_train.device)
        total = torch.zeros((), device=self.x_train.device)
        for step in range(steps):
            loss = self.loss(order[step * self.batch : (step + 1) * self.batch], self.generator)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.schedule.step()
            total += loss.detach()
        return total


def warm_up_for_capture(model: nn.Module, run, times: int = 3) -> None:
    """`run()` a few times on a side stream before a CUDA graph is captured (cuDNN's autotuning, the
    allocator, an optimiser's lazily made state), then the model's weights and buffers put back as they were,
    copied into the same tensors (the addresses the graph will hold)."""
    dev = next(model.parameters()).device
    start = {k: v.clone() for k, v in model.state_dict().items()}
    side = torch.cuda.Stream(dev)
    side.wait_stream(torch.cuda.current_stream(dev))
    with torch.cuda.stream(side):
        for _ in range(times):
            run()
    torch.cuda.current_stream(dev).wait_stream(side)
    model.load_state_dict(start)


class CudaGraphSteps(DigitSteps):
    """The same step with its device work (gather, augmentation, forward, backward) captured once as a CUDA
    graph and replayed: one launch a step instead of about 150, each costing the host 10-20 us. The optimiser
    and the schedule stay outside the graph, unchanged (the one-cycle schedule also moves Adam's beta1,
    which a captured fused AdamW would freeze). The graph has one shape: an epoch takes whole batches only
    (a different random 4% of mnist-5k left out each epoch at batch 256).

    PyTorch's recipe (https://pytorch.org/docs/stable/notes/cuda.html#cuda-graphs): warm-up steps on a
    side stream (cuDNN autotuning, the allocator), gradients set to None before capture so the backward
    writes them afresh each replay, autocast without its cast cache, the graph's random numbers from a
    generator registered with it.
    """

    def __init__(self, model, optimizer, schedule, x_train, y_train, config, generator, autocast):
        super().__init__(model, optimizer, schedule, x_train, y_train, config, generator, autocast)
        if not hasattr(torch.cuda.CUDAGraph, "register_generator_state"):
            raise ZooError(f"--compile on CUDA captures the step as a CUDA graph, which needs torch >= 2.5 "
                           f"(this is {torch.__version__}); train without --compile")  # fmt: skip
        dev = x_train.device
        self.autocast = torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False)
        self.idx = torch.zeros(self.batch, dtype=torch.long, device=dev)
        self.total = torch.zeros((), device=dev)
        seed = int(torch.randint(2**62, (1,), generator=generator, device=dev))
        self.graph_generator = torch.Generator(device=dev).manual_seed(seed)
        model.train()

        def forward_backward():
            model.zero_grad(set_to_none=True)
            self.loss(self.idx, self.graph_generator).backward()

        warm_up_for_capture(model, forward_backward)  # no weight moves; BatchNorm's statistics are put back
        model.zero_grad(set_to_none=True)
        self.graph = torch.cuda.CUDAGraph()
        self.graph.register_generator_state(self.graph_generator)
        with torch.cuda.graph(self.graph):
            loss = self.loss(self.idx, self.graph_generator)
            loss.backward()
            self.total.add_(loss.detach())

    @staticmethod
    def steps_per_epoch(n: int, batch: int) -> int:
        if n < batch:
            raise ZooError(f"--compile on CUDA takes whole batches only: {n} training images < batch {batch}")
        return n // batch

    def epoch(self, steps: int) -> torch.Tensor:
        self.model.train()
        order = torch.randperm(len(self.x_train), generator=self.generator, device=self.x_train.device)
        self.total.zero_()
        for step in range(steps):
            self.idx.copy_(order[step * self.batch : (step + 1) * self.batch])
            self.graph.replay()
            self.optimizer.step()
            self.schedule.step()
        return self.total.clone()


class FullBatchSteps:
    """An epoch of the text and points tasks: one Adam step on the whole data, then the epoch's metric;
    `epoch()` returns (loss, metric) as tensors on the device.

    With `graph` (`--compile` on CUDA) the whole epoch is captured once as a CUDA graph and replayed: these
    models are tiny (at most 8,450 parameters), so an eager epoch is nothing but kernel launches (circles:
    4 ms each on an H100, 1,000 epochs). Before capture, warm-up epochs on a side stream create Adam's
    state; the weights and that state are then put back as they were, so the graph trains from the same
    start as the eager loop (Adam's `capturable` form: its step count lives on the device).
    """

    def __init__(self, model, config, loss_fn, metric_fn, graph: bool = False):
        self.model, self.loss_fn, self.metric_fn = model, loss_fn, metric_fn
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, capturable=graph)
        self.graph = None
        if graph:
            warm_up_for_capture(model, self._epoch)
            for state in self.optimizer.state.values():
                for value in state.values():
                    value.zero_()
            self.optimizer.zero_grad(set_to_none=True)
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.static = self._epoch()

    def _epoch(self) -> tuple[torch.Tensor, torch.Tensor]:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=self.graph is None)
        loss = self.loss_fn()
        loss.backward()
        self.optimizer.step()
        return loss.detach(), self.metric_fn()

    def epoch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.graph is None:
            return self._epoch()
        self.graph.replay()
        return self.static[0].clone(), self.static[1].clone()


def digit_steps(model, config, x_train, y_train, generator, dev, compile: bool, max_steps: int | None = None):
    """The optimiser, its schedule and the step for a digit run: a `CudaGraphSteps` with `compile` on CUDA,
    else `DigitSteps`. Returns (steps, steps per epoch)."""
    kind = CudaGraphSteps if compile and dev.type == "cuda" else DigitSteps
    per_epoch = kind.steps_per_epoch(len(x_train), config.batch_size)
    if max_steps:
        per_epoch = min(per_epoch, max_steps)
    optimizer, schedule = digit_optimizer(model, config, per_epoch)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")
    return kind(model, optimizer, schedule, x_train, y_train, config, generator, autocast), per_epoch


def _train_digits(model, config, dev, generator, data, data_dir, compile, max_steps, quiet):
    x_train = torch.from_numpy(data.x_train).to(dev).unsqueeze(1).float().div_(255)
    y_train = torch.from_numpy(data.y_train).to(dev)
    x_test = torch.from_numpy(data.x_test).to(dev).unsqueeze(1).float().div_(255)
    y_test = torch.from_numpy(data.y_test).to(dev)

    steps, steps_per_epoch = digit_steps(model, config, x_train, y_train, generator, dev, compile, max_steps)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")
    history = {"train_loss": [], "test_loss": [], "test_accuracy": [], "epoch_seconds": []}

    bar = tqdm(range(1, config.epochs + 1), desc=data.name, unit="epoch", disable=quiet, leave=False)
    for epoch in bar:
        start = time.perf_counter()
        total = steps.epoch(steps_per_epoch)
        test_loss, accuracy, _ = _evaluate_digits(model, x_test, y_test, autocast)
        seconds = time.perf_counter() - start
        train_loss = total.item() / steps_per_epoch
        history["train_loss"].append(round(train_loss, 5))
        history["test_loss"].append(round(test_loss, 5))
        history["test_accuracy"].append(round(accuracy, 5))
        history["epoch_seconds"].append(round(seconds, 3))
        bar.set_postfix(loss=f"{train_loss:.4f}", acc=f"{accuracy:.2%}")
        _log(
            quiet,
            epoch,
            config,
            f"loss {train_loss:.4f}  test loss {test_loss:.4f}  test acc {accuracy:.2%}  {seconds:.1f}s",
        )

    _, accuracy, predictions = _evaluate_digits(model, x_test, y_test, autocast)
    per_class = {
        label: round(float((predictions[y_test == k] == k).float().mean()), 4) for k, label in enumerate(data.labels)
    }
    extra = {
        "dataset": data.name,
        "data_dir": str(data_dir) if data_dir else None,  # export re-reads the data from here
        "split": data.split,
        "train_size": len(x_train),
        "test_size": len(x_test),
        "labels": data.labels,
        "test_accuracy": round(accuracy, 5),
        "per_class_accuracy": per_class,
    }
    return history, extra


@torch.no_grad()
def _evaluate_digits(model, x, y, autocast, batch: int = 1000):
    model.eval()
    logits = []
    with autocast:
        for i in range(0, len(x), batch):
            logits.append(model(x[i : i + batch]).float())
    logits = torch.cat(logits)
    predictions = logits.argmax(1)
    return F.cross_entropy(logits, y).item(), (predictions == y).float().mean().item(), predictions


def _full_batch_training(model, config, loss_fn, metric_fn, graph, max_steps, quiet, desc, metric, message) -> dict:
    """The text and points tasks' loop: epochs of `FullBatchSteps`, the loss and `metric` kept on the device
    (`Curve`), a line `message(loss, metric)` every `config.log_every` epochs. Returns the history."""
    steps = FullBatchSteps(model, config, loss_fn, metric_fn, graph)
    curve = Curve(train_loss=6, **{metric: 5})
    epochs = min(config.epochs, max_steps) if max_steps else config.epochs
    for epoch in tqdm(range(1, epochs + 1), desc=desc, unit="epoch", disable=quiet, leave=False):
        loss, value = steps.epoch()
        curve.add(train_loss=loss, **{metric: value})
        if _logs(quiet, epoch, config):
            _log(quiet, epoch, config, message(curve.last("train_loss"), curve.last(metric)))
    return curve.history()


def _train_text(model, spec, config, dev, graph, max_steps, quiet):
    vocab = corpora.vocab(spec.corpus)
    pairs = [
        (torch.tensor([corpora.encode(x, vocab)], device=dev), torch.tensor([corpora.encode(y, vocab)], device=dev))
        for x, y in corpora.training_pairs(spec.corpus)
    ]
    # Group equal lengths into one batch each (longseq: the windows, and the whole sentence).
    groups: dict[int, list] = {}
    for x, y in pairs:
        groups.setdefault(x.shape[1], []).append((x, y))
    batches = [(torch.cat([x for x, _ in g]), torch.cat([y for _, y in g])) for g in groups.values()]
    # Next-character accuracy is measured on the whole text from a zero state: every position has its full
    # left context. (Early positions of longseq's windows see one or two characters, which do not decide
    # the next one: no model can be right on all of them.)
    whole = [pairs[0]]
    V = len(vocab)

    def loss_fn():
        return sum(F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1)) for x, y in batches)

    history = _full_batch_training(
        model, config, loss_fn, lambda: _text_accuracy(model, whole), graph, max_steps, quiet, spec.name,
        "train_accuracy", lambda loss, acc: f"loss {loss:.5f}  next-char acc {acc:.2%}",
    )  # fmt: skip

    text = corpora.CORPORA[spec.corpus]
    prefix_len = corpora.LONGSEQ_WINDOW if spec.corpus == "longseq" else 1
    generated = generate(model, text[:prefix_len], len(text) - prefix_len, vocab)
    extra = {
        "dataset": spec.corpus,
        "corpus": text,
        "vocab": vocab,
        "next_char_accuracy": round(float(_text_accuracy(model, whole)), 5),
        "generation_prefix": text[:prefix_len],
        "generated": generated,
        "generation_matches": generated == text,
    }
    if spec.corpus == "longseq":
        extra["lecture_reconstruction"] = _lecture_reconstruction(model, corpora.training_pairs("longseq")[1:], vocab)
        extra["lecture_reconstruction_matches"] = extra["lecture_reconstruction"] == text[1:]
    return history, extra


@torch.no_grad()
def _text_accuracy(model, batches) -> torch.Tensor:
    """Next-character accuracy over `batches`, a tensor on the model's device (no synchronisation)."""
    model.eval()
    correct = sum((model(x).argmax(-1) == y).sum() for x, y in batches)
    return correct / sum(y.numel() for _, y in batches)


@torch.no_grad()
def _lecture_reconstruction(model, windows, vocab) -> str:
    """The lecture's printout: the first window's predictions, then the last prediction of each window."""
    model.eval()
    dev = next(model.parameters()).device
    x = torch.tensor([corpora.encode(w, vocab) for w, _ in windows], device=dev)
    predicted = model(x).argmax(-1).tolist()
    return corpora.decode(predicted[0], vocab) + "".join(vocab[row[-1]] for row in predicted[1:])


@torch.no_grad()
def generate(model, prefix: str, length: int, vocab: list[str]) -> str:
    """Greedy generation carrying the hidden state, one character at a time (what the step model does)."""
    model.eval()
    dev = next(model.parameters()).device
    logits, hidden = model.forward_with_state(torch.tensor([corpora.encode(prefix, vocab)], device=dev))
    out = list(prefix)
    for _ in range(length):
        index = int(logits[0, -1].argmax())
        out.append(vocab[index])
        logits, hidden = model.forward_with_state(torch.tensor([[index]], device=dev), hidden)
    return "".join(out)


def _train_points(model, spec, config, dev, graph, max_steps, quiet):
    x_train, y_train, x_test, y_test = (torch.from_numpy(a).to(dev) for a in load_circles())

    def loss_fn():
        return F.binary_cross_entropy_with_logits(model(x_train).squeeze(1), y_train)

    history = _full_batch_training(
        model, config, loss_fn, lambda: _points_accuracy(model, x_test, y_test), graph, max_steps, quiet, "circles",
        "test_accuracy", lambda loss, acc: f"loss {loss:.4f}  held-out acc {acc:.2%}",
    )  # fmt: skip
    extra = {
        "dataset": "circles",
        "split": "make_circles(500, noise=0.2, factor=0.3, random_state=123): first 400 train, last 100 held out",
        "train_accuracy": round(float(_points_accuracy(model, x_train, y_train)), 5),
        "test_accuracy": round(float(_points_accuracy(model, x_test, y_test)), 5),
    }
    return history, extra


@torch.no_grad()
def _points_accuracy(model, x, y) -> torch.Tensor:
    model.eval()
    return ((model(x).squeeze(1) > 0).float() == y).float().mean()


# ----------------------------------------------------------------------------- reporting


def report(folder: Path) -> str:
    """The README's results table, from the metrics JSON of every run in `folder`."""
    runs = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))]
    if not runs:
        raise ZooError(f"no metrics in {folder}; train first: python -m zoo train all")
    lines = [
        "| run | task | params | data | result | epochs | wall time | device |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in sorted(runs, key=lambda m: list(REGISTRY).index(m["model"]) if m["model"] in REGISTRY else 99):
        lines.append(f"| {m['run']} | {m['task']} | {m['parameters']:,} | {m['dataset']} | {_headline(m)} | "
                     f"{m['epochs']} | {m['wall_time_s']:.1f} s | {m['device']} |")  # fmt: skip
    total = sum(m["wall_time_s"] for m in runs)
    lines.append(f"\nTotal training time: {total / 60:.1f} min.")
    return "\n".join(lines)


def _headline(metrics: dict) -> str:
    if metrics["task"] == "text":
        text = f"next-char acc {metrics['next_char_accuracy']:.2%}, greedy generation reproduces the text: {metrics['generation_matches']}"
        if "lecture_reconstruction_matches" in metrics:
            text += f", lecture's window reconstruction matches: {metrics['lecture_reconstruction_matches']}"
        return text
    held_out = "held-out" if metrics["task"] == "points" else "test"
    return f"{held_out} acc {metrics['test_accuracy']:.2%}"


def _device_description(dev: torch.device) -> str:
    if dev.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(dev)})"
    threads = torch.get_num_threads()
    return f"cpu ({platform.processor() or platform.machine()}, {threads} thread{'s' if threads > 1 else ''})"


def _plot_curve(history: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(np.arange(1, len(history["train_loss"]) + 1), history["train_loss"], label="train loss")
    if "test_loss" in history:
        ax.plot(np.arange(1, len(history["test_loss"]) + 1), history["test_loss"], label="test loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    acc_key = next(k for k in ("test_accuracy", "train_accuracy") if k in history)
    right = ax.twinx()
    right.plot(
        np.arange(1, len(history[acc_key]) + 1), history[acc_key], color="tab:green", label=acc_key.replace("_", " ")
    )
    right.set_ylabel("accuracy")
    fig.legend(loc="upper center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, 0.9))
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
