"""Memory under large uploads: the server's RSS before, at its peak and after, for pictures near the size cap.

    python -m bench.memory [--size 6300] [--sequential 20] [--concurrent 8]

Starts `python -m demo` on a free local port, then sends `--sequential` uploads one after another and
`--concurrent` at once, each a PNG of size x size pixels (39.7 MP at 6300, under the 40 MP cap; a few tens of
KB on the wire: a line drawing compresses well, which is what makes such uploads cheap to send and costly to
decode). The server's RSS is sampled every 20 ms from /proc (Linux). Every answer must be the digit drawn.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image, ImageDraw

from tests.servers import HttpApi, free_port, rss_mb, start
from zoo.machine import describe

ROOT = Path(__file__).resolve().parents[1]


def big_seven(size: int) -> bytes:
    """A 7 drawn on white, size x size, as PNG bytes."""
    image = Image.new("L", (size, size), 255)
    s = size / 6300
    ImageDraw.Draw(image).line([(1000 * s, 1000 * s), (5000 * s, 1000 * s), (3000 * s, 5500 * s)], fill=0,
                               width=max(3, int(200 * s)))  # fmt: skip
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


class Sampler:
    """The peak RSS of a process, sampled in a thread."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.running = pid, rss_mb(pid), True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def stop(self) -> float:
        self.running = False
        self.thread.join()
        return self.peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=6300, help="picture side in pixels (6300: 39.7 MP)")
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--model", default="cnn-bn")
    args = parser.parse_args(argv)

    png = big_seven(args.size)
    port = free_port()
    log = Path(tempfile.mkdtemp()) / "demo.log"
    server, _ = start([sys.executable, "-m", "demo", "--port", str(port)], port, log=log, cwd=ROOT,
                      env={"GRADIO_TEMP_DIR": str(log.parent / "gradio")})  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wrong = 0

    def one(api: HttpApi, n: int) -> float:
        nonlocal wrong
        started = time.perf_counter()
        label = api.classify_digit(png, f"big-{n}.png", args.model)
        wrong += label["label"] != "7"
        return time.perf_counter() - started

    try:
        print(f"{describe()}\n{args.size}x{args.size} PNG ({args.size**2 / 1e6:.1f} MP, {len(png) / 1e3:.0f} KB), "
              f"model {args.model}\n")  # fmt: skip
        api = HttpApi(url)
        one(api, -1)  # warm-up: the first request of a session pays one-time costs
        time.sleep(1)
        start_mb = rss_mb(server.pid)
        print("| uploads | RSS before | peak | after | after - before | seconds per upload (p50) |")
        print("|---|---|---|---|---|---|")
        sampler = Sampler(server.pid)
        times = sorted(one(api, n) for n in range(args.sequential))
        time.sleep(1)
        after = rss_mb(server.pid)
        print(f"| {args.sequential} one after another | {start_mb:.0f} MB | {sampler.stop():.0f} MB | {after:.0f} MB | "
              f"{after - start_mb:+.0f} MB | {times[len(times) // 2]:.2f} s |")  # fmt: skip
        before = rss_mb(server.pid)
        sampler = Sampler(server.pid)
        results: list[float] = []
        threads = [threading.Thread(target=lambda n=n: results.append(one(HttpApi(url), 1000 + n)))
                   for n in range(args.concurrent)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(1)
        after = rss_mb(server.pid)
        results.sort()
        print(f"| {args.concurrent} at once | {before:.0f} MB | {sampler.stop():.0f} MB | {after:.0f} MB | "
              f"{after - start_mb:+.0f} MB from the start | {results[len(results) // 2]:.2f} s |")  # fmt: skip
        print(f"\nanswers other than 7: {wrong}; {describe()}")
        return 1 if wrong else 0
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
