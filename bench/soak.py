"""Soak: N classify_digit requests from K workers over the raw Gradio HTTP API, against a fresh server.

    python -m bench.soak [--requests 10000] [--workers 8] [--app demo|noop] [--checkpoints 10]

The server (`python -m demo`, or the no-op app of the same signature from bench.serving) is started here on a free
127.0.0.1 port with its own GRADIO_TEMP_DIR. Each request is what `curl` would do: POST /gradio_api/upload a
distinct 600x450 PNG (the same 7 with a different text chunk: new bytes, so a new file on the server), POST
/gradio_api/call/classify_digit, then read the result stream. Reported: errors and lost requests, requests/s,
p50/p99 latency, the server's RSS and the files in its temp dir at each checkpoint, and after one clean-up sweep.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.servers import Busy, HttpApi, distinct, free_port, rss_mb, seven_png, start, temp_entries
from zoo.machine import describe


@dataclass
class Checkpoint:
    done: int
    seconds: float
    rss_mb: float
    files: int
    folders: int


@dataclass
class SoakResult:
    requests: int
    workers: int
    wall: float
    latencies_ms: np.ndarray
    busy_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    errors: dict[str, int] = field(default_factory=dict)
    checkpoints: list[Checkpoint] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Requests without a correct answer: errors, lost results, and busy answers (HTTP 503)."""
        return sum(self.errors.values()) + len(self.busy_ms)


def soak(url: str, pid: int, temp_dir: Path, requests: int, workers: int, checkpoints: int = 10,
         expect: str = "7") -> SoakResult:  # fmt: skip
    """`requests` distinct uploads classified by `workers` threads (one HttpApi each); samples the server."""
    png = seven_png()
    lock = threading.Lock()
    next_request = iter(range(requests))
    latencies: list[float] = []
    busy: list[float] = []
    errors: dict[str, int] = {}
    marks = [round(requests * (k + 1) / checkpoints) for k in range(checkpoints)]
    result = SoakResult(requests, workers, 0.0, np.zeros(0))
    started = time.perf_counter()

    def sample(done: int) -> None:
        files, folders = temp_entries(temp_dir)
        result.checkpoints.append(Checkpoint(done, time.perf_counter() - started, rss_mb(pid), files, folders))

    def worker() -> None:
        api = HttpApi(url)
        try:
            while True:
                with lock:
                    n = next(next_request, None)
                if n is None:
                    return
                t0 = time.perf_counter()
                refused = False
                try:
                    label = api.classify_digit(distinct(png, n), f"soak-{n}.png")["label"]
                    problem = None if label == expect else f"wrong answer {label!r}"
                except Busy:
                    problem, refused = None, True
                except Exception as error:  # every failure is counted by kind, none stops the run
                    problem = f"{type(error).__name__}: {str(error)[:120]}"
                elapsed = time.perf_counter() - t0
                with lock:
                    if problem:
                        errors[problem] = errors.get(problem, 0) + 1
                    else:
                        (busy if refused else latencies).append(elapsed)
                    done = len(latencies) + len(busy) + sum(errors.values())
                    if marks and done >= marks[0]:
                        marks.pop(0)
                        sample(done)
        finally:
            api.close()

    sample(0)
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.wall = time.perf_counter() - started
    result.latencies_ms = np.array(latencies) * 1e3
    result.busy_ms = np.array(busy) * 1e3
    result.errors = errors
    return result


def report(result: SoakResult, after_sweep: tuple[float, int, int] | None = None) -> str:
    ms = result.latencies_ms
    ok = len(ms)
    p50, p99 = (np.percentile(ms, 50), np.percentile(ms, 99)) if ok else (float("nan"), float("nan"))
    lines = [
        f"{result.requests:,} requests from {result.workers} workers: {ok:,} answered correctly, "
        f"{result.failed:,} failed or lost; {result.requests / result.wall:.1f} requests/s; "
        f"latency p50 {p50:.0f} ms, p99 {p99:.0f} ms; {result.wall:.0f} s",
    ]
    if len(result.busy_ms):
        b50, b99 = np.percentile(result.busy_ms, 50), np.percentile(result.busy_ms, 99)
        lines.append(
            f"  {len(result.busy_ms):,} x busy (HTTP 503, queue full), answered in p50 {b50:.0f} ms, p99 {b99:.0f} ms"
        )
    for kind, count in sorted(result.errors.items(), key=lambda x: -x[1]):
        lines.append(f"  {count:,} x {kind}")
    lines += ["", "| requests done | time | server RSS | files in temp dir | folders in temp dir |",
              "|---|---|---|---|---|"]  # fmt: skip
    for c in result.checkpoints:
        lines.append(f"| {c.done:,} | {c.seconds:.0f} s | {c.rss_mb:.0f} MB | {c.files:,} | {c.folders:,} |")
    if after_sweep:
        rss, files, folders = after_sweep
        lines.append(f"| (idle, after a clean-up sweep) | | {rss:.0f} MB | {files:,} | {folders:,} |")
    first = result.checkpoints[0].rss_mb
    ends = [c.rss_mb for c in result.checkpoints]
    mid = min(result.checkpoints, key=lambda c: abs(c.done - result.requests / 2))
    lines.append(
        f"\nRSS: {first:.0f} MB at start, {mid.rss_mb:.0f} MB at {mid.done:,}, {ends[-1]:.0f} MB at the end: "
        f"{ends[-1] - mid.rss_mb:+.1f} MB over the second half"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bench.serving import noop_app

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--app", choices=["demo", "noop"], default="demo",
                        help="python -m demo, or a no-op Gradio app of the same signature")  # fmt: skip
    parser.add_argument("--checkpoints", type=int, default=10, help="RSS and temp-dir samples during the run")
    parser.add_argument("--warm-up", type=int, default=200, help="requests before the start sample (not counted)")
    parser.add_argument("--queue-max", type=int, default=None, help="the demo's --queue-max (default: its own)")
    args = parser.parse_args(argv)
    if not 1 <= args.workers <= 128 or not 1 <= args.requests <= 200_000:
        parser.error("--workers 1..128 and --requests 1..200,000 (a local load test, bounded)")

    folder = Path(tempfile.mkdtemp(prefix="soak-"))
    temp_dir = folder / "gradio"
    port = free_port()
    if args.app == "demo":
        command = [sys.executable, "-m", "demo", "--port", str(port)]
        if args.queue_max:
            command += ["--queue-max", str(args.queue_max)]
    else:
        (folder / "noop_app.py").write_text(noop_app())
        command = [sys.executable, str(folder / "noop_app.py"), str(port)]
    print(describe())
    print(f"server: {' '.join(command[1:])} on 127.0.0.1:{port}, GRADIO_TEMP_DIR={temp_dir}", flush=True)
    process, _ = start(command, port, log=folder / "server.log", env={"GRADIO_TEMP_DIR": str(temp_dir)})
    url = f"http://127.0.0.1:{port}/"
    try:
        if args.warm_up:  # at most 8 workers: the warm-up must not itself overload the queue
            warm = soak(url, process.pid, temp_dir, args.warm_up, min(args.workers, 8), checkpoints=1)
            if warm.failed:
                print(report(warm))
                return 1
        result = soak(url, process.pid, temp_dir, args.requests, args.workers, args.checkpoints)
        after = _after_sweep(process.pid, temp_dir)
        print(report(result, after))
        print(describe())
    finally:
        process.terminate()
        process.wait(timeout=30)
    if result.failed:
        print(f"server log and temp dir kept in {folder}")
        return 1
    shutil.rmtree(folder, ignore_errors=True)
    return 0


def _after_sweep(pid: int, temp_dir: Path, timeout: float = 30) -> tuple[float, int, int] | None:
    """The server idle: wait (bounded) until its temp dir stops shrinking, then sample it once."""
    import demo.app

    sweep = getattr(demo.app, "CACHE_SWEEP_S", 5)
    deadline = time.monotonic() + min(timeout, 3 * sweep + 5)
    last = temp_entries(temp_dir)
    while time.monotonic() < deadline:
        time.sleep(sweep)  # sample once per sweep period
        now = temp_entries(temp_dir)
        if now == last and sum(now) <= 2:
            break
        last = now
    return rss_mb(pid), *temp_entries(temp_dir)


if __name__ == "__main__":
    sys.exit(main())
