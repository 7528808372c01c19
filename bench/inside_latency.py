"""The Gradio demo's digit Inside view, timed from pen up to the new layer pictures on the screen.

    python -m bench.inside_latency [--strokes 8] [--models models/] [--baseline DIR ...] [--model NAME]

Starts `python -m demo` on a free local port and drives headless Chromium (Playwright) as a person would: on the
Digits tab, with the Inside view open, it clears the Sketchpad and draws a 7 in one stroke with the mouse, and
times from the mouse button's release (the page's pointerup) to the frame that shows the Inside view's new
pictures (a new view token in the page, every picture decoded, the next animation frame). Each stroke is split:

- client: pen up to the moment the event's request leaves the page (its `queue/join` request, or `run/predict`
  for an event outside the queue, from the page's request events). Inside it, Gradio's Sketchpad exports the canvas as PNG (the first `component_server`
  request, its `accept_blobs`, starts when the first picture is ready) and uploads the pictures;
- server: from that request to the answer arriving in the page (the `process_completed` message of the
  event's stream, or the response; `function` is the part Gradio reports as the event's function itself);
- drawing: from the answer's arrival to the frame that shows it.

`--baseline DIR` (repeatable) starts a demo from another checkout too (`git archive <commit> | tar -x -C DIR`)
and the strokes go to each demo in turn, one page each, so all are measured under the same load. Prints the
machine line (CPU, cores, load average) before and after: timings compare only within one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from zoo.machine import describe

ROOT = Path(__file__).resolve().parents[1]

# In the page, before Gradio's scripts: the pen-up times, every SSE message of the queue's streams (with its
# arrival time), the event ids the queue gave, and the frames that showed a new Inside view.
WATCH_JS = """(() => {
  const log = window.__inside = {ups: [], messages: [], joins: [], shown: []};
  const now = () => performance.timeOrigin + performance.now();
  window.addEventListener('pointerup', () => log.ups.push(now()), true);
  const realFetch = window.fetch;
  window.fetch = async function (input, init) {
    const url = typeof input === 'string' ? input : (input && input.url) || String(input);
    const response = await realFetch.apply(this, arguments);
    if (url.includes('/queue/join')) {
      response.clone().json().then((body) => log.joins.push({t: now(), event_id: body.event_id}), () => null);
    }
    if (url.includes('/run/predict')) {  // an event outside the queue: its answer is this response
      const sent = now();
      response.clone().json().then((body) => log.messages.push(
        {t: now(), sent, msg: 'run', duration: body.duration, success: !('error' in body)}), () => null);
    }
    if (!url.includes('/queue/data') || !response.body) return response;
    const decoder = new TextDecoder();
    let buffer = '';
    const watch = new TransformStream({
      transform(chunk, controller) {
        const t = now();
        buffer += decoder.decode(chunk, {stream: true});
        const parts = buffer.split('\\n\\n');
        buffer = parts.pop();
        for (const part of parts) {
          const line = part.split('\\n').find((l) => l.startsWith('data:'));
          if (!line) continue;
          try {
            const m = JSON.parse(line.slice(5));
            log.messages.push({t, msg: m.msg, event_id: m.event_id,
                               duration: m.output && m.output.duration, success: m.success});
          } catch (e) { /* not JSON: a heartbeat */ }
        }
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(watch),
                        {status: response.status, statusText: response.statusText, headers: response.headers});
  };
  let last = null;
  const look = () => {
    const holder = document.querySelector('.inside-layers[data-token]');
    const token = holder && holder.dataset.token;
    if (!token || token === last) return;
    last = token;
    const seen = now();
    const pictures = [...holder.querySelectorAll('img')];
    Promise.all(pictures.map((img) => img.decode().catch(() => null))).then(() => {
      requestAnimationFrame(() => log.shown.push({seen, shown: now(), token, pictures: pictures.length}));
    });
  };
  const start = () => new MutationObserver(look).observe(document.body, {childList: true, subtree: true});
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})()"""

STROKE = [(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)]  # a 7 in one stroke: the bar, then the stem ([0, 1] of a square)


class Demo:
    """One demo server and one page on it, with the page's requests recorded."""

    def __init__(self, name: str, browser, origin: str):
        self.name, self.origin = name, origin
        self.requests: list[dict] = []  # {url, start, end} in ms since the epoch
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.add_init_script(WATCH_JS)
        self.page.on("requestfinished", self._finished)
        self.page.goto(origin + "/", wait_until="networkidle")
        self.page.wait_for_function(
            "document.querySelector('button[aria-label=Brush]')?.classList.contains('highlight')", timeout=60_000
        )
        self.rows: list[dict] = []

    def _finished(self, request) -> None:
        timing = request.timing
        start = timing["startTime"]
        end = start + timing["responseEnd"] if timing["responseEnd"] >= 0 else None
        self.requests.append({"url": request.url, "method": request.method, "start": start, "end": end})

    def choose(self, model: str | None) -> None:
        if model:
            self.page.get_by_label("model").first.click()
            self.page.get_by_role("option", name=model, exact=True).click()
            self.page.wait_for_timeout(1500)

    def stroke(self) -> dict:
        """Clear the canvas, draw the 7, wait for its Inside view; the stroke's times in ms."""
        page = self.page
        page.get_by_role("button", name="Clear canvas").click()
        page.wait_for_function(
            "!document.querySelector('.inside-layers[data-token]') && "
            "document.querySelector('button[aria-label=Brush]')?.classList.contains('highlight')",
            timeout=30_000,
        )
        page.wait_for_timeout(800)  # the clear's own event answered and drawn
        box = page.locator("canvas").last.bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        side = 0.7 * min(box["width"], box["height"])

        def at(u, v):
            return cx + (u - 0.5) * side, cy + (v - 0.5) * side

        shown_before = page.evaluate("window.__inside.shown.length")
        page.mouse.move(*at(*STROKE[0]))
        page.mouse.down()
        for (u0, v0), (u1, v1) in zip(STROKE, STROKE[1:], strict=False):
            for t in range(1, 16):
                page.mouse.move(*at(u0 + (u1 - u0) * t / 15, v0 + (v1 - v0) * t / 15))
        page.mouse.up()
        page.wait_for_function(f"window.__inside.shown.length > {shown_before}", timeout=60_000)
        page.wait_for_timeout(300)  # the page's request events for this stroke delivered
        log = page.evaluate("window.__inside")
        up = log["ups"][-1]
        shown = log["shown"][-1]
        after = [r for r in self.requests if up - 5 <= r["start"] <= shown["shown"]]
        blobs = [r for r in after if "/component_server" in r["url"]]
        joins = [r for r in after if "/queue/join" in r["url"]]
        join = joins[0] if joins else next(r for r in after if "/run/predict" in r["url"])
        if joins:
            event = next(j["event_id"] for j in log["joins"] if j["t"] >= join["start"])
            done = next(m for m in log["messages"] if m.get("event_id") == event and m["msg"] == "process_completed")
        else:
            done = next(m for m in log["messages"] if m["msg"] == "run" and m["sent"] >= join["start"] - 5)
        row = {
            "total": shown["shown"] - up,
            "client": join["start"] - up,
            "export": (blobs[0]["start"] - up) if blobs else 0.0,
            "upload": (max(r["end"] for r in blobs) - blobs[0]["start"]) if blobs else 0.0,
            "uploads": len(blobs),
            "server": done["t"] - join["start"],
            "function": 1e3 * (done["duration"] or 0.0),
            "drawing": shown["shown"] - done["t"],
            "pictures": shown["pictures"],
        }
        self.rows.append(row)
        return row


def _summary(rows: list[dict], key: str) -> str:
    values = [r[key] for r in rows]
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


def report(demo: Demo) -> None:
    rows = demo.rows
    print(f"\n{demo.name}: {len(rows)} strokes, {rows[0]['pictures']} layer pictures, "
          f"{rows[0]['uploads']} pictures uploaded per stroke")  # fmt: skip
    print("| stroke | pen up to Inside shown | client: pen up to the request | of it, to the first picture out "
          "| its upload | server | of it, function | drawing |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(rows, 1):
        print(f"| {i} | {r['total']:.0f} ms | {r['client']:.0f} ms | {r['export']:.0f} ms | {r['upload']:.0f} ms "
              f"| {r['server']:.0f} ms | {r['function']:.0f} ms | {r['drawing']:.0f} ms |")  # fmt: skip
    keys = ("total", "client", "export", "upload", "server", "function", "drawing")
    print(f"| median (min-max), ms | {' | '.join(_summary(rows, k) for k in keys)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strokes", type=int, default=8, help="strokes timed per demo (after 2 warm-up strokes)")
    parser.add_argument("--models", default="models")
    parser.add_argument("--model", default=None, help="digit model to pick first (default: the demo's)")
    parser.add_argument("--baseline", type=Path, action="append", default=[],
                        help="another checkout of the project: its demo is timed too, stroke by stroke in turn")  # fmt: skip
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from tests.servers import free_port, start

    trees = [(f"baseline {i + 1} ({tree})", tree.resolve()) for i, tree in enumerate(args.baseline)]
    trees.append(("this checkout", ROOT))
    servers, demos = [], []
    print(describe())
    try:
        for name, tree in trees:
            port = free_port()
            log = Path(tempfile.mkdtemp()) / "demo.log"
            command = [sys.executable, "-m", "demo", "--port", str(port), "--models", str(tree / args.models)]
            server, startup = start(command, port, log=log, cwd=tree)
            servers.append(server)
            print(f"{name}: demo started in {startup:.1f} s (log {log})")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print(f"Chromium {browser.version} headless, 1280x900 page, the Inside view open")
            for (name, _), server in zip(trees, servers, strict=True):
                port = server.args[server.args.index("--port") + 1]
                demo = Demo(name, browser, f"http://127.0.0.1:{port}")
                demo.choose(args.model)
                for _ in range(2):  # warm-up: the first strokes of a page pay one-time costs
                    demo.stroke()
                demo.rows.clear()
                demos.append(demo)
            started = time.perf_counter()
            for _ in range(args.strokes):
                for demo in demos:
                    demo.stroke()
            for demo in demos:
                report(demo)
            if len(demos) > 1:
                medians = [statistics.median(r["total"] for r in d.rows) for d in demos]
                steps = " -> ".join(f"{m:.0f} ms ({m / medians[0]:.2f}x)" for m in medians)
                print(f"\nmedian pen up to Inside shown, {' -> '.join(d.name for d in demos)}: {steps}")
            print(f"\n{len(demos) * args.strokes} strokes in {time.perf_counter() - started:.0f} s; at the end: "
                  f"{describe()}")  # fmt: skip
            browser.close()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
