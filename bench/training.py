"""Training benchmarks: time to the accuracy target, epoch throughput eager and compiled, against a ceiling.

    python -m bench.training [--device auto|cpu|cuda] [--target 0.985] [--no-compile] [--quick]
    python -m bench.training --train-files   # a cnn-small epoch through its training file in Chromium vs PyTorch

1. `cnn` on mnist-5k with its default recipe for the device: training seconds until the validation accuracy first
   reaches the target (per-epoch evaluation included), after a short warm-up run in the same process (CUDA
   creates its context and loads kernels on first use: a once-per-process cost, printed apart). On a GPU
   also with `--compile`.
2. Throughput: epochs over 60,000 images resident on the device (synthetic digits: the real IDX files are
   not needed to time an epoch), the real training step (`zoo.steps.DigitSteps`: augmentation, fused
   AdamW, the device's batch for 60,000 images), eager and with `--compile` (torch.compile on the CPU, the
   step captured as a CUDA graph on a GPU; its one-time cost reported apart).
3. The ceiling it is measured against, in the same run: the same model's forward+backward alone (no
   augmentation, no optimiser) at the best of three large batches; and a roofline, a large matrix product
   (float32 on the CPU, bf16 on a GPU), against which the step's GFLOP/s are put.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from zoo.models import build_model
from zoo.steps import digit_steps, prepare_digit_model
from zoo.train import config_for, pick_device, train

# ----------------------------------------------------------------------------- the machine


def cpu_model() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = next(iter(re.findall(r"model name\s*:\s*(.+)", info)), "") or platform.processor() or platform.machine()
    return name.strip()


def machine_line() -> str:
    """CPU model, cores, load average: timings on a shared machine mean little without them."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"CPU: {cpu_model()}, {os.cpu_count()} cores, load average {load} (1, 5, 15 min)"


def synchronize(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def matmul_gflops(dev: torch.device, n: int | None = None, repeats: int = 5) -> float:
    """A measured roofline: GFLOP/s of an n x n matrix product (float32 on the CPU, bf16 on a GPU), best of
    `repeats`. Replaces a peak computed from /proc/cpuinfo, which turbo clocks and VM steal make wrong
    either way (an Intel Xeon session printed 121% of such a peak)."""
    n = n or (2048 if dev.type == "cpu" else 8192)
    dtype = torch.float32 if dev.type == "cpu" else torch.bfloat16
    a = torch.randn(n, n, device=dev, dtype=dtype)
    b = torch.randn(n, n, device=dev, dtype=dtype)
    a @ b
    times = []
    for _ in range(repeats):
        synchronize(dev)
        started = time.perf_counter()
        a @ b
        synchronize(dev)
        times.append(time.perf_counter() - started)
    return 2 * n**3 / min(times) / 1e9


def flops_per_image(model: nn.Module) -> int:
    """2 x multiply-accumulates of every Conv2d and Linear, on one 28x28 image (the forward pass)."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += 2 * output.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            total += 2 * output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28, device=next(model.parameters()).device))
    for h in handles:
        h.remove()
    return total


# ----------------------------------------------------------------------------- measurements


def time_to_target(device: str, target: float, seed: int = 0, epochs: int | None = None, compile: bool = False) -> str:
    with tempfile.TemporaryDirectory() as out:
        result = train("cnn", device=device, seed=seed, out=out, quiet=True, epochs=epochs, compile=compile)
    m = result.metrics
    elapsed, reached = 0.0, None
    for epoch, (acc, seconds) in enumerate(
        zip(m["history"]["val_accuracy"], m["history"]["epoch_seconds"], strict=True), 1
    ):
        elapsed += seconds
        if acc >= target and reached is None:
            reached = (epoch, elapsed)
    step = ("CUDA graph" if m["device"].startswith("cuda") else "torch.compile") if compile else "eager"
    row = (f"| cnn, mnist-5k ({m['train_size']:,} train), batch {m['config']['batch_size']}, {step}, {m['device']} | "
           f"{m['seconds_per_epoch']:.2f} s | {m['train_size'] / m['seconds_per_epoch']:,.0f} | ")  # fmt: skip
    reached_text = f"epoch {reached[0]}, {reached[1]:.1f} s" if reached else "not reached"
    final = f"val {m['val_accuracy']:.2%}, test {m['test_accuracy']:.2%}"
    return row + f"{reached_text} | {final} after {m['epochs']} epochs, {m['wall_time_s']:.1f} s |"


def epoch_throughput(dev: torch.device, n: int, epochs: int, compile: bool, batch: int) -> dict:
    """Epochs of `cnn`'s real training step over n synthetic digits at `batch` (the rate scaled to it).

    A few warm-up steps first (allocator, cuDNN autotuning, oneDNN primitives; with `compile`, the
    compilation or the CUDA graph's capture: their time less that of as many steady steps is the one-time
    cost). Full batches only (a last partial batch would make a compiled model compile a second graph).
    Best epoch kept.
    """
    config = config_for("cnn", dev, epochs=epochs + 1, batch_size=batch)  # + 1: room for the warm-up steps
    generator = torch.Generator(device=dev).manual_seed(0)
    x = torch.rand(n, 1, 28, 28, generator=generator, device=dev)
    y = torch.randint(0, 10, (n,), generator=generator, device=dev)
    model = prepare_digit_model(build_model("cnn").to(dev), dev, compile and dev.type == "cpu")
    started = time.perf_counter()
    steps, _ = digit_steps(model, config, x, y, generator, dev, compile)
    per_epoch = n // config.batch_size  # whole batches, eager too
    warmup_steps = min(per_epoch, 3)
    steps.epoch(warmup_steps).item()  # .item(): sync
    warmup = time.perf_counter() - started
    times = []
    for _ in range(epochs):
        started = time.perf_counter()
        steps.epoch(per_epoch).item()
        times.append(time.perf_counter() - started)
    best = min(times)
    images = per_epoch * config.batch_size
    return {"batch": config.batch_size, "seconds": best * n / images, "images_per_s": images / best,
            "compile_s": warmup - best * warmup_steps / per_epoch if compile else None}  # fmt: skip


def forward_backward_ceiling(dev: torch.device, batches: tuple[int, ...], repeats: int = 3) -> tuple[int, float]:
    """The best images/s of `cnn`'s forward+backward alone (channels-last, bf16 autocast on a GPU) over
    `batches`: what the step could reach with no augmentation, optimiser or per-step overhead."""
    model = prepare_digit_model(build_model("cnn").to(dev), dev).train()
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")
    best = (0, 0.0)
    for batch in batches:
        x = torch.rand(batch, 1, 28, 28, device=dev)
        y = torch.randint(0, 10, (batch,), device=dev)

        def step(x=x, y=y):
            with autocast:
                loss = F.cross_entropy(model(x), y)
            loss.backward()

        step()
        times = []
        for _ in range(repeats):
            synchronize(dev)
            started = time.perf_counter()
            step()
            synchronize(dev)
            times.append(time.perf_counter() - started)
        if batch / min(times) > best[1]:
            best = (batch, batch / min(times))
    return best


def throughput_table(dev: torch.device, n: int, epochs: int, compile: bool, quick: bool) -> str:
    roofline = matmul_gflops(dev, n=512 if quick else None)
    step_flops = 3 * flops_per_image(build_model("cnn").to(dev))  # forward + backward: about 3x the forward
    batches = (256, 512) if quick else (256, 1024, 4096) if dev.type == "cpu" else (1024, 4096, 16384)
    ceiling_batch, ceiling = forward_backward_ceiling(dev, batches)
    # The device's own batch for this many images; on a GPU also mnist-5k's and the largest
    own = config_for("cnn", dev, train_size=n).batch_size
    sizes = (own,) if dev.type == "cpu" else tuple(sorted({config_for("cnn", dev).batch_size, own, 4096}))
    compiled_label = "CUDA graph (--compile)" if dev.type == "cuda" else "torch.compile (--compile)"
    rows = []
    for label, compiled in (("eager", False), (compiled_label, True))[: 2 if compile else 1]:
        rows += [(label, epoch_throughput(dev, n, epochs, compiled, batch)) for batch in sizes]
    kind = "matrix product fp32" if dev.type == "cpu" else "matrix product bf16"
    lines = [
        f"| cnn, {n:,} synthetic images, {dev.type} | batch | epoch | images/s | vs ceiling | GFLOP/s | vs roofline | compile (once) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, r in rows:
        compile_cost = f"{r['compile_s']:.2f} s" if r["compile_s"] is not None else "—"
        lines.append(f"| training step, {label} | {r['batch']} | {r['seconds']:.3f} s | {r['images_per_s']:,.0f} | "
                     f"{r['images_per_s'] / ceiling:.0%} | {step_flops * r['images_per_s'] / 1e9:.1f} | "
                     f"{step_flops * r['images_per_s'] / 1e9 / roofline:.0%} | {compile_cost} |")  # fmt: skip
    lines.append(f"| ceiling: forward+backward alone, eager | {ceiling_batch} | {n / ceiling:.2f} s | {ceiling:,.0f} | "
                 f"100% | {step_flops * ceiling / 1e9:.1f} | {step_flops * ceiling / 1e9 / roofline:.0%} | — |")  # fmt: skip
    lines.append(f"| roofline: {kind} (measured, same run) | — | — | — | — | {roofline:.1f} | 100% | — |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the training files, in the page

EPOCH_JS = """async ([name, seed]) => {
  const { ort } = await import("./zoo.js");
  const { StepTrainer, drawMasks, readDigits, rng, shuffled } = await import("./train-models.js");
  const zoo = window.zoo, entry = zoo.byName.get(name);
  const get = async (file) => new Uint8Array(await (await fetch(new URL(file, zoo.base))).arrayBuffer());
  const trainer = await StepTrainer.create(ort, entry, { model: await get(entry.file), start: await get(entry.weights.file) });
  const digits = readDigits(entry.training, await get(entry.training.file)).train;
  const random = rng(seed), size = entry.recipe.batch_size, order = shuffled(digits.count, random);
  const started = performance.now();
  let loss = 0, steps = 0;
  for (let at = 0; at < order.length; at += size) {
    const idx = order.slice(at, at + size), x = new Float32Array(idx.length * 784), y = new BigInt64Array(idx.length);
    idx.forEach((k, i) => { for (let p = 0; p < 784; p++) x[i * 784 + p] = digits.images[k * 784 + p] / 255; y[i] = BigInt(digits.labels[k]); });
    const r = await trainer.step({ x: { data: x, shape: [idx.length, 1, 28, 28] }, y: { data: y, shape: [idx.length] },
                                   masks: drawMasks(entry, idx.length, random), lr: entry.recipe.lr });
    loss += r.loss; steps += 1;
  }
  return { ms: performance.now() - started, loss: loss / steps, steps };
}"""


def torch_epoch(entry: dict, models: Path) -> tuple[float, float]:
    """One epoch of the same recipe in PyTorch on 1 thread (torch.optim.Adam, the model's own dropout), seconds."""
    import numpy as np

    from export import train_graphs as tg

    digits = tg.read_digits(entry["training"], models)
    x = torch.from_numpy(digits["train_images"].astype(np.float32)[:, None] / 255)
    y = torch.from_numpy(digits["train_labels"].astype(np.int64))
    model = build_model(entry["model"]).train()
    optimizer = torch.optim.Adam(model.parameters(), entry["recipe"]["lr"])
    size, order = entry["recipe"]["batch_size"], torch.randperm(len(y))
    started, total, steps = time.perf_counter(), 0.0, 0
    for at in range(0, len(y), size):
        index = order[at : at + size]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x[index]), y[index])
        loss.backward()
        optimizer.step()
        total, steps = total + loss.item(), steps + 1
    return time.perf_counter() - started, total / steps


def train_files_table(models: Path, name: str = "cnn-small-train-adam", rounds: int = 3) -> None:
    """A cnn-small epoch on the 3,500 training digits through its training file in Chromium (onnxruntime-web,
    wasm, 1 thread) against the same epoch in PyTorch (1 thread), interleaved in rounds in one run."""
    import statistics
    import sys

    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, open_page
    from tests.servers import free_port, start
    from zoo import manifest as zoo_manifest

    entry = zoo_manifest.entries(models)[name]
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp()) / "demo.log"
    server, _ = start([sys.executable, "-m", "demo", "--port", str(port), "--models", str(models)], port, log=log)
    page_ms, torch_s = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            _, page, _ = open_page(browser, f"{origin}/web/?threads=1", origin)
            torch.set_num_threads(1)
            for r in range(rounds):
                run = page.evaluate(EPOCH_JS, [name, r])
                page_ms.append(run["ms"])
                torch_s.append(torch_epoch(entry, models)[0])
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    page_s, pytorch = statistics.median(page_ms) / 1000, statistics.median(torch_s)
    print(
        f"\n{name}: one epoch of the {entry['training']['parts']['train_labels']['length']:,} training digits, "
        f"batch {entry['recipe']['batch_size']}, Adam; median of {rounds} interleaved rounds\n"
    )
    print("| runtime | seconds per epoch | rounds | against PyTorch |")
    print("|---|---|---|---|")
    print(
        f"| PyTorch {torch.__version__}, CPU, 1 thread | {pytorch:.2f} | {', '.join(f'{t:.2f}' for t in torch_s)} | 1.00x |"
    )
    print(
        f"| the training file in Chromium (onnxruntime-web, wasm, 1 thread) | {page_s:.2f} | "
        f"{', '.join(f'{t / 1000:.2f}' for t in page_ms)} | {page_s / pytorch:.2f}x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--target", type=float, default=0.985)
    parser.add_argument("--throughput-epochs", type=int, default=1, help="timed epochs of 60,000 images (best kept)")
    parser.add_argument("--no-compile", action="store_true", help="skip the --compile rows")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1 epoch, 2,000 images, no compile (no measurement)")  # fmt: skip
    parser.add_argument("--train-files", action="store_true",
                        help="only: a cnn-small epoch through its training file in Chromium against PyTorch")  # fmt: skip
    args = parser.parse_args()
    if args.train_files:
        print(machine_line())
        train_files_table(Path("models"))
        return
    dev = pick_device(args.device)
    gpu = f", GPU: {torch.cuda.get_device_name(dev)}" if dev.type == "cuda" else ""
    print(machine_line() + gpu)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {dev}; "
          f"cnn's batch on {dev.type}: {config_for('cnn', dev).batch_size}, augmentation on\n")  # fmt: skip
    compile = not (args.no_compile or args.quick)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:  # once per process: CUDA's context, kernels loaded on first use
        train("cnn", device=args.device, epochs=1, max_steps=2, out=out, quiet=True)
    print(f"process warm-up (a 2-step run, not counted below): {time.perf_counter() - started:.1f} s\n")
    print(f"| run | time per epoch | images/s | validation reaches {args.target:.1%} | final |")
    print("|---|---|---|---|---|")
    print(time_to_target(args.device, args.target, epochs=1 if args.quick else None))
    if compile and dev.type == "cuda":
        print(time_to_target(args.device, args.target, compile=True))
    print()
    n = 2_000 if args.quick else 60_000
    print(throughput_table(dev, n, 1 if args.quick else args.throughput_epochs, compile, args.quick))
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
