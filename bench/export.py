"""Inference benchmarks: ONNX Runtime (fp32, int8) against PyTorch eager, and step-model text generation.

    python -m bench.export [--quick]

Median of repeated runs after warm-up; prints markdown tables (machine, threads, commands) for docs/performance.md.
"% of roofline" is against a float32 matrix product timed in the same run (`bench.training.matmul_gflops`), not a
peak computed from /proc/cpuinfo: turbo clocks and a VM's stolen time make such a peak wrong either way.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from bench.training import flops_per_image, machine_line, matmul_gflops
from zoo.train import load_checkpoint

MODELS = Path("models")


# ----------------------------------------------------------------------------- timing


def median_seconds(fn, repeats: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def rounds_of_medians(fns, repeats: int, rounds: int = 3, warmup: int = 5) -> list[float]:
    """Per function, the median over `rounds` of the median of a block of `repeats` calls.

    Blocks, not call-by-call interleaving: PyTorch's and ONNX Runtime's thread pools spin after a call, and
    alternating them call by call makes each steal the other's cores (measured: torch mlp at batch 256 fell
    from ~90k to 5k images/s). Rounds of blocks (a-block, b-block, c-block, a-block, ...) spread load that
    drifts on a shared machine over every runtime alike.
    """
    blocks: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, bucket in zip(fns, blocks, strict=True):
            bucket.append(median_seconds(fn, repeats, warmup))
    return [statistics.median(bucket) for bucket in blocks]


def session(path: Path, threads: int = 0, level=ort.GraphOptimizationLevel.ORT_ENABLE_ALL) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def bound_runner(s: ort.InferenceSession, x: np.ndarray):
    """session.run through I/O binding, re-binding the input each call as real use would. Measured: no gain
    over session.run once the binding is made per call (the tuning table), so the main table uses run()."""

    def run():
        binding = s.io_binding()
        binding.bind_cpu_input("image", x)
        binding.bind_output("logits")
        s.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()[0]

    return run


def inference_table(repeats: int, roofline: float) -> str:
    """`roofline`: GFLOP/s of a float32 matrix product measured on this machine in the same run."""
    manifest = {e["name"]: e for e in json.loads((MODELS / "manifest.json").read_text())["models"]}
    torch.set_num_threads(os.cpu_count() or 1)
    rng = np.random.default_rng(0)
    one = rng.random((1, 1, 28, 28), dtype=np.float32)
    batch = rng.random((256, 1, 28, 28), dtype=np.float32)
    lines = [
        "| model | runtime | batch 1 latency | vs torch | batch 256 images/s | vs torch | GFLOP/s (batch 256) | % of roofline | test acc |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("mlp", "cnn", "cnn-small", "cnn-bn"):
        model, _ = load_checkpoint(MODELS / manifest[name]["checkpoint"])
        flops = flops_per_image(model)
        variants = [(name, "ORT fp32"), (f"{name}-int8", "ORT int8")]
        sessions = [session(MODELS / manifest[v]["file"]) for v, _ in variants]
        with torch.inference_mode():
            latency = rounds_of_medians(
                [lambda model=model: model(torch.from_numpy(one))]
                + [lambda s=s: s.run(["logits"], {"image": one}) for s in sessions],
                repeats,
            )
            per_batch = rounds_of_medians(
                [lambda model=model: model(torch.from_numpy(batch))]
                + [lambda s=s: s.run(["logits"], {"image": batch}) for s in sessions],
                max(5, repeats // 10),
            )
        t1, tb = latency[0], per_batch[0]
        rows = [("PyTorch eager fp32", t1, tb, manifest[name]["metrics"]["test_accuracy"])]
        rows += [(label, latency[i + 1], per_batch[i + 1], manifest[v]["metrics"]["test_accuracy"])
                 for i, (v, label) in enumerate(variants)]  # fmt: skip
        for label, l1, lb, acc in rows:
            per_s = 256 / lb
            gflops = flops * per_s / 1e9
            # int8 does integer multiply-adds: against the fp32 roofline its percentage would mean nothing
            share = "—" if "int8" in label else f"{gflops / roofline:.0%}"
            lines.append(f"| {name} | {label} | {l1 * 1e6:,.0f} µs | {t1 / l1:.1f}x | {per_s:,.0f} | {tb / lb:.2f}x | "
                         f"{gflops:.1f} | {share} | {acc:.2%} |")  # fmt: skip
    return "\n".join(lines)


def call_floor(repeats: int) -> float:
    """Seconds ONNX Runtime takes, from Python, to run a graph that does nothing (Identity) on one image."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["image"], ["logits"])], "floor",
                              [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 1, 28, 28])])  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)
    s = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.zeros((1, 1, 28, 28), np.float32)
    onnx.checker.check_model(model)
    return median_seconds(lambda: s.run(["logits"], {"image": x}), repeats)


def tuning_table(repeats: int) -> str:
    """What the session options change for cnn at batch 1 and 256."""
    path = MODELS / "cnn.onnx"
    rng = np.random.default_rng(0)
    one = rng.random((1, 1, 28, 28), dtype=np.float32)
    batch = rng.random((256, 1, 28, 28), dtype=np.float32)
    lines = ["| cnn.onnx session | batch 1 latency | batch 256 images/s |", "|---|---|---|"]
    levels = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC, "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}
    for threads in (1, 2):
        for level_name, level in levels.items():
            s = session(path, threads, level)
            t1 = median_seconds(lambda s=s: s.run(["logits"], {"image": one}), repeats)
            tb = median_seconds(lambda s=s: s.run(["logits"], {"image": batch}), max(5, repeats // 10))
            lines.append(f"| {threads} thread(s), optimisation {level_name} | {t1 * 1e6:,.0f} µs | {256 / tb:,.0f} |")
    s = session(path, 0)
    t1 = median_seconds(bound_runner(s, one), repeats)
    tb = median_seconds(bound_runner(s, batch), max(5, repeats // 10))
    lines.append(f"| 2 threads, optimisation all, I/O binding made per call | {t1 * 1e6:,.0f} µs | {256 / tb:,.0f} |")
    lines.append(f"| (floor) a one-node Identity model, same input | {call_floor(repeats) * 1e6:,.0f} µs | — |")
    return "\n".join(lines)


def generation_table(lengths=(100, 1000), model: str = "longseq") -> str:
    """Characters/s generating greedily: the step model vs re-running the full model on the growing prefix."""
    manifest = {e["name"]: e for e in json.loads((MODELS / "manifest.json").read_text())["models"]}
    full, step = session(MODELS / f"{model}.onnx"), session(MODELS / f"{model}-step.onnx")
    entry = manifest[f"{model}-step"]
    lines = [f"| {model}, generating | step model (state carried) | full model on the growing prefix | speed-up |",
             "|---|---|---|---|"]  # fmt: skip
    for n in lengths:

        def with_step(n=n):
            hidden = np.zeros((entry["layers"], 1, entry["hidden_size"]), np.float32)
            index = np.array([0])
            for _ in range(n):
                logits, _, hidden = step.run(None, {"index": index, "hidden": hidden})
                index = logits.argmax(-1)

        def with_full(n=n):
            indices = [0]
            for _ in range(n):
                logits = full.run(["logits"], {"indices": np.array([indices], np.int64)})[0]
                indices.append(int(logits[0, -1].argmax()))

        a = median_seconds(with_step, 3, warmup=1)
        b = median_seconds(with_full, 3 if n <= 100 else 1, warmup=1)
        lines.append(f"| {n:,} characters | {n / a:,.0f} chars/s | {n / b:,.0f} chars/s | {b / a:.1f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few repeats (a smoke run, not a measurement)")
    args = parser.parse_args()
    repeats = 5 if args.quick else 200
    torch.set_num_threads(os.cpu_count() or 1)
    n = 512 if args.quick else 2048
    roofline = matmul_gflops(torch.device("cpu"), n=n)
    print(machine_line())
    print(f"roofline: float32 {n}x{n} matrix product in PyTorch, {roofline:.0f} GFLOP/s (measured now, best of 5)")
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime {ort.__version__} "
          f"(default threads); median of {repeats} runs (batch 1), {max(5, repeats // 10)} (batch 256), after warm-up; median of 3 rounds of such blocks per runtime\n")  # fmt: skip
    print(inference_table(repeats, roofline) + "\n")
    print(tuning_table(repeats) + "\n")
    print(generation_table((20, 50) if args.quick else (100, 1000)))


if __name__ == "__main__":
    main()
