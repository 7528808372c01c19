"""How one epoch runs: the digit step (eager, or captured as a CUDA graph) and the full-batch step of the
text and points tasks. `zoo/train.py` holds the loop that calls them; this file is the machinery under it.

Small datasets sit on the device as whole tensors and batches are index slices of them: no DataLoader, no
per-batch host-to-device copies. A digit step runs wholly on the device (shuffling and augmentation draw
their random numbers there; no `.item()` inside an epoch), so a GPU is never kept waiting by the host.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from zoo.data import augment_digits
from zoo.models import ZooError

if TYPE_CHECKING:
    from zoo.train import TrainConfig

MIN_ONE_CYCLE_STEPS = 10


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
