"""Training benchmarks: time to the accuracy target, and raw epoch throughput on a full-MNIST-sized set.

    python -m zoo.bench [--device auto|cpu|cuda] [--target 0.985] [--throughput-epochs 1]

1. `cnn` on mnist-5k with its default recipe: seconds until the test accuracy first reaches the target.
2. Throughput: one epoch over 60,000 images resident on the device (synthetic digits: the real IDX files are
   not needed to time an epoch), with the same model and batch size, augmentation included.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time

import torch

from zoo.models import build_model
from zoo.train import DEFAULTS, TrainConfig, digit_epoch, digit_optimizer, pick_device, train


def time_to_target(device: str, target: float, seed: int = 0, epochs: int | None = None) -> str:
    with tempfile.TemporaryDirectory() as out:
        result = train("cnn", device=device, seed=seed, out=out, quiet=True, epochs=epochs)
    history = result.metrics["history"]
    elapsed = 0.0
    reached = None
    for epoch, (acc, seconds) in enumerate(zip(history["test_accuracy"], history["epoch_seconds"], strict=True), 1):
        elapsed += seconds
        if acc >= target and reached is None:
            reached = (epoch, elapsed)
    epochs = result.metrics["epochs"]
    row = (f"| cnn, mnist-5k ({result.metrics['train_size']:,} train), {result.metrics['device']} | {result.metrics['seconds_per_epoch']:.2f} s | "
           f"{result.metrics['train_size'] / result.metrics['seconds_per_epoch']:,.0f} | ")  # fmt: skip
    if reached:
        row += f"epoch {reached[0]}, {reached[1]:.1f} s | {result.metrics['test_accuracy']:.2%} after {epochs} epochs |"
    else:
        row += f"not reached | {result.metrics['test_accuracy']:.2%} after {epochs} epochs |"
    return row


def throughput(device: str, epochs: int, n: int = 60_000) -> str:
    """Epochs of the real training step (zoo.train.digit_epoch, cnn's recipe) over n synthetic digits."""
    dev = pick_device(device)
    config = TrainConfig(**{**DEFAULTS["cnn"].__dict__, "epochs": epochs})
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 28, 28, generator=generator).to(dev)
    y = torch.randint(0, 10, (n,), generator=generator).to(dev)
    model = build_model("cnn").to(dev)
    steps = math.ceil(n / config.batch_size)
    optimizer, schedule = digit_optimizer(model, config, steps)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")

    def epoch():
        digit_epoch(model, optimizer, schedule, x, y, config, generator, autocast, steps).item()  # .item(): sync

    times = []
    for _ in range(epochs):
        started = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - started)
    best = min(times)
    return f"| cnn, {n:,} synthetic images, {dev.type} | {best:.1f} s | {n / best:,.0f} | — | — |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--target", type=float, default=0.985)
    parser.add_argument("--throughput-epochs", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 epoch, 2,000 images (no measurement)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"device {pick_device(args.device)}; batch {DEFAULTS['cnn'].batch_size}, augmentation on\n")  # fmt: skip
    print(f"| run | time per epoch | images/s | reaches {args.target:.1%} | final |")
    print("|---|---|---|---|---|")
    print(time_to_target(args.device, args.target, epochs=1 if args.quick else None))
    print(throughput(args.device, args.throughput_epochs, n=2_000 if args.quick else 60_000))


if __name__ == "__main__":
    main()
