"""The demo end to end: classify_digit through gradio_client, beside a no-op Gradio app of the same signature.

    python -m demo.bench [--requests 40]

Both apps are started here as subprocesses on free local ports: start-up time to the first HTTP 200, then
requests/s and p50/p99 latency with 1 and with 8 concurrent callers. The framework dominates; the table shows
how close the demo comes to the no-op.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

NOOP_APP = """
import sys, numpy as np, gradio as gr
def classify_digit(image, model):
    return {"7": 1.0}, np.zeros((168, 168), np.uint8), "no-op"
with gr.Blocks() as app:
    model = gr.Dropdown(["cnn-bn"], value="cnn-bn", label="model")
    upload = gr.Image(type="filepath", image_mode=None, label="image")
    label, frame, info = gr.Label(num_top_classes=3), gr.Image(), gr.Markdown()
    upload.change(classify_digit, [upload, model], [label, frame, info], api_name="classify_digit")
    app.queue(default_concurrency_limit=8)
app.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), max_file_size="10mb")
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    command: list[str], port: int, log: Path | None = None, cwd: Path | None = None, timeout: float = 180
) -> tuple[subprocess.Popen, float]:
    """Start a server; return it and the seconds until its first HTTP 200 on `port`.

    Output goes to `log` (a file, never an unread pipe that could fill and block the server) or nowhere;
    if the server exits first, the error carries the end of the log.
    """
    import urllib.request

    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    with open(log, "w") if log else open(os.devnull, "w") as output:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                if response.status == 200:
                    return process, time.perf_counter() - started
        except OSError:
            if process.poll() is not None:
                tail = Path(log).read_text()[-3000:] if log else ""
                raise RuntimeError(f"{command} exited with {process.returncode}\n{tail}") from None
            if time.perf_counter() - started > timeout:
                process.terminate()
                raise TimeoutError(f"{command} did not answer in {timeout:.0f} s") from None
            time.sleep(0.05)


def load(url: str, image: str, callers: int, requests: int) -> tuple[float, float, float]:
    """requests/s, p50 and p99 latency (ms) of classify_digit with `callers` concurrent clients."""
    from gradio_client import Client, handle_file

    # download_files=False: the client does not fetch the 28x28 frame image back. With 8 concurrent callers
    # those downloads sometimes fail in the client ("peer closed connection"), with the no-op app as well.
    clients = [Client(url, verbose=False, download_files=False) for _ in range(callers)]
    for c in clients:  # warm-up: one request each
        c.predict(handle_file(image), "cnn-bn", api_name="/classify_digit")
    latencies: list[float] = []
    lock = threading.Lock()
    per_caller = max(1, requests // callers)

    def run(client):
        for _ in range(per_caller):
            started = time.perf_counter()
            label = client.predict(handle_file(image), "cnn-bn", api_name="/classify_digit")[0]
            elapsed = time.perf_counter() - started
            assert label["label"] == "7", label
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ms = np.array(latencies) * 1e3
    return len(latencies) / wall, float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=40, help="requests per measurement")
    parser.add_argument("--startups", type=int, default=3, help="start-ups per app (median reported)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp())
    image = folder / "seven.png"
    canvas = Image.new("RGBA", (600, 450), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(200, 100), (400, 100), (280, 380)], fill=(0, 0, 0, 255), width=18, joint="curve")
    canvas.save(image)
    noop = folder / "noop_app.py"
    noop.write_text(NOOP_APP)

    apps = {
        "demo (python -m demo)": lambda port: [sys.executable, "-m", "demo", "--port", str(port)],
        "no-op Gradio app, same signature": lambda port: [sys.executable, str(noop), str(port)],
    }
    results = {}
    for name, command in apps.items():
        startups = []
        for i in range(args.startups):
            port = free_port()
            process, seconds = start(command(port), port)
            startups.append(seconds)
            if i < args.startups - 1:
                process.terminate()
                process.wait()
        url = f"http://127.0.0.1:{port}/"
        try:
            results[name] = (statistics.median(startups),
                             load(url, str(image), 1, args.requests), load(url, str(image), 8, args.requests))  # fmt: skip
        finally:
            process.terminate()
            process.wait()

    print(f"machine: {os.cpu_count()} cores; {args.requests} requests per row after one warm-up request per caller; "
          "each request uploads a 600x450 RGBA PNG; output files are not downloaded\n")  # fmt: skip
    print("| app | start-up to first HTTP 200 | 1 caller: req/s | p50 | p99 | 8 callers: req/s | p50 | p99 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (startup, one, eight) in results.items():
        print(f"| {name} | {startup:.2f} s | {one[0]:.2f} | {one[1]:.0f} ms | {one[2]:.0f} ms | "
              f"{eight[0]:.2f} | {eight[1]:.0f} ms | {eight[2]:.0f} ms |")  # fmt: skip
    (demo, noop_result) = results.values()
    print(f"\ndemo / no-op: start-up {demo[0] / noop_result[0]:.2f}x, requests/s {demo[1][0] / noop_result[1][0]:.2f}x "
          f"(1 caller), {demo[2][0] / noop_result[2][0]:.2f}x (8 callers)")  # fmt: skip


if __name__ == "__main__":
    main()
