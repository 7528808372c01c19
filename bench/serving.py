"""The demo end to end: classify_digit over the raw HTTP API and through gradio_client, beside a no-op Gradio
app of the same signature.

    python -m bench.serving [--requests 160] [--rounds 8] [--interleaved-only]

Both apps are started here as subprocesses on free local ports: start-up time to the first HTTP 200, then
requests/s and p50/p99 latency with 1 and with 8 concurrent callers, for each client. The raw HTTP figures
measure the server; gradio_client's are lower because the Python client itself is the bottleneck.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tests.servers import free_port, start

NOOP_APP = """
import sys, numpy as np, gradio as gr
def classify_digit(image, model):
    return {{"7": 1.0}}, np.zeros((168, 168), np.uint8), "no-op"
with gr.Blocks(analytics_enabled=False) as app:
    model = gr.Dropdown(["cnn-bn"], value="cnn-bn", label="model")
    upload = gr.Image(type="filepath", image_mode=None, label="image")
    label, frame, info = gr.Label(num_top_classes=3), gr.Image(), gr.Markdown()
    upload.change(classify_digit, [upload, model], [label, frame, info], api_name="classify_digit")
    app.queue(default_concurrency_limit={concurrency}, max_size={queue_max})
app.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), max_file_size="10mb",
           state_session_capacity={sessions})
"""


def noop_app() -> str:
    """A Gradio app with the demo's classify_digit signature and serving settings, answering a constant."""
    from demo.app import CONCURRENCY, QUEUE_MAX, SESSIONS

    return NOOP_APP.format(concurrency=CONCURRENCY, queue_max=QUEUE_MAX, sessions=SESSIONS)


def _measure(call, callers: int, requests: int) -> tuple[float, float, float]:
    """requests/s, p50 and p99 latency (ms) of `requests` calls from `callers` threads; call(caller) -> label."""
    for caller in range(callers):  # warm-up: one request each
        call(caller)
    latencies: list[float] = []
    lock = threading.Lock()
    per_caller = max(1, requests // callers)

    def run(caller: int) -> None:
        for _ in range(per_caller):
            started = time.perf_counter()
            label = call(caller)
            elapsed = time.perf_counter() - started
            assert label == "7", label
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=run, args=(c,)) for c in range(callers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ms = np.array(latencies) * 1e3
    return len(latencies) / wall, float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def load_client(url: str, image: str, callers: int, requests: int) -> tuple[float, float, float]:
    """classify_digit through gradio_client: one Client per caller thread (a Client shared by threads has lost
    requests: CancelledError on the client side)."""
    from gradio_client import Client, handle_file

    # download_files=False: the client does not fetch the 28x28 frame image back. With 8 concurrent callers
    # those downloads sometimes fail in the client ("peer closed connection"), with the no-op app as well.
    clients = [Client(url, verbose=False, download_files=False) for _ in range(callers)]
    return _measure(
        lambda c: clients[c].predict(handle_file(image), "cnn-bn", api_name="/classify_digit")[0]["label"],
        callers,
        requests,
    )


def load_http(url: str, image: str, callers: int, requests: int) -> tuple[float, float, float]:
    """classify_digit through the raw HTTP API (upload, call, result stream), one connection per caller."""
    from tests.servers import HttpApi

    png = Path(image).read_bytes()
    apis = [HttpApi(url) for _ in range(callers)]
    try:
        return _measure(lambda c: apis[c].classify_digit(png, "seven.png")["label"], callers, requests)
    finally:
        for api in apis:
            api.close()


CLIENTS = {"raw HTTP API (httpx)": load_http, "gradio_client": load_client}


def interleaved(apps: dict, folder: Path, image: Path, requests: int, rounds: int) -> None:
    """Both apps up at once, raw-HTTP rounds alternating between them, so that a machine whose load moves
    during the run gives each the same share; prints requests/s over all rounds and the ratio."""
    from zoo.machine import describe as machine

    running = {}
    try:
        for name, command in apps.items():
            port = free_port()
            running[name] = (start(command(port), port, env={"GRADIO_TEMP_DIR": str(folder / "gradio")})[0],
                             f"http://127.0.0.1:{port}/")  # fmt: skip
        per_round = max(1, requests // rounds)
        done = {(name, callers): [0.0, 0] for name in apps for callers in (1, 8)}  # seconds, requests
        for _ in range(rounds):
            for callers in (1, 8):
                for name, (_, url) in running.items():
                    rate, _, _ = load_http(url, str(image), callers, per_round)
                    done[name, callers][0] += per_round / rate
                    done[name, callers][1] += per_round
        rate = {key: n / seconds for key, (seconds, n) in done.items()}
        print(f"\nraw HTTP API, both apps up, {rounds} interleaved rounds of {per_round} requests each "
              "(requests/s over all rounds)\n")  # fmt: skip
        print("| app | 1 caller: req/s | 8 callers: req/s |")
        print("|---|---|---|")
        for name in apps:
            print(f"| {name} | {rate[name, 1]:.2f} | {rate[name, 8]:.2f} |")
        demo, noop = list(apps)
        print(f"\ndemo / no-op, interleaved: {rate[demo, 1] / rate[noop, 1]:.2f}x (1 caller), "
              f"{rate[demo, 8] / rate[noop, 8]:.2f}x (8 callers)")  # fmt: skip
        print(machine())
    finally:
        for process, _ in running.values():
            process.terminate()
            process.wait()


def main() -> None:
    from zoo.machine import describe as machine

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=160, help="requests per measurement")
    parser.add_argument("--startups", type=int, default=3, help="start-ups per app (median reported)")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved raw-HTTP rounds (the last table)")
    parser.add_argument("--interleaved-only", action="store_true", help="only the interleaved raw-HTTP table")
    args = parser.parse_args()
    print(machine(), flush=True)

    folder = Path(tempfile.mkdtemp())
    image = folder / "seven.png"
    canvas = Image.new("RGBA", (600, 450), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(200, 100), (400, 100), (280, 380)], fill=(0, 0, 0, 255), width=18, joint="curve")
    canvas.save(image)
    noop = folder / "noop_app.py"
    noop.write_text(noop_app())

    apps = {
        "demo (python -m demo)": lambda port: [sys.executable, "-m", "demo", "--port", str(port)],
        "no-op Gradio app, same signature": lambda port: [sys.executable, str(noop), str(port)],
    }
    if args.interleaved_only:
        return interleaved(apps, folder, image, args.requests, args.rounds)
    results = {}  # app -> (start-up, {client: (1 caller, 8 callers)})
    for name, command in apps.items():
        startups = []
        for i in range(args.startups):
            port = free_port()
            process, seconds = start(command(port), port, env={"GRADIO_TEMP_DIR": str(folder / "gradio")})
            startups.append(seconds)
            if i < args.startups - 1:
                process.terminate()
                process.wait()
        url = f"http://127.0.0.1:{port}/"
        try:
            results[name] = (
                statistics.median(startups),
                {kind: (load(url, str(image), 1, args.requests), load(url, str(image), 8, args.requests))
                 for kind, load in CLIENTS.items()},
            )  # fmt: skip
        finally:
            process.terminate()
            process.wait()

    print(f"{args.requests} requests per row after one warm-up request per caller; each request uploads a 600x450 "
          "RGBA PNG; output files are not downloaded\n")  # fmt: skip
    print("| app | client | start-up to first HTTP 200 | 1 caller: req/s | p50 | p99 | 8 callers: req/s | p50 | p99 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (startup, by_client) in results.items():
        for kind, (one, eight) in by_client.items():
            print(f"| {name} | {kind} | {startup:.2f} s | {one[0]:.2f} | {one[1]:.0f} ms | {one[2]:.0f} ms | "
                  f"{eight[0]:.2f} | {eight[1]:.0f} ms | {eight[2]:.0f} ms |")  # fmt: skip
    (demo, noop_result) = results.values()
    ratios = ", ".join(
        f"{kind} {demo[1][kind][0][0] / noop_result[1][kind][0][0]:.2f}x (1 caller), "
        f"{demo[1][kind][1][0] / noop_result[1][kind][1][0]:.2f}x (8 callers)"
        for kind in CLIENTS
    )
    print(f"\ndemo / no-op: start-up {demo[0] / noop_result[0]:.2f}x; requests/s: {ratios}")
    print(machine())
    interleaved(apps, folder, image, args.requests, args.rounds)


if __name__ == "__main__":
    main()
