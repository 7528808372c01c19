"""Servers for the tests and the benchmarks: start one on a free local port, and talk to it as curl does.

`start` runs `python -m demo` (or any server) as a subprocess and waits for its first HTTP 200; `HttpApi` is
Gradio's HTTP API in three requests (upload, call, result stream).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import time
import zlib
from pathlib import Path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    command: list[str],
    port: int,
    log: Path | None = None,
    cwd: Path | None = None,
    timeout: float = 180,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, float]:
    """Start a server; return it and the seconds until its first HTTP 200 on `port`.

    Output goes to `log` (a file, never an unread pipe that could fill and block the server) or nowhere;
    if the server exits first, the error carries the end of the log. `env` is added to this process's
    environment (GRADIO_TEMP_DIR, to count the files a run leaves).
    """
    import urllib.request

    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", **(env or {})}
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


class ApiError(Exception):
    """The server answered the call with an error event (or an HTTP error): the message it gave."""


class Busy(ApiError):
    """HTTP 503: the queue is full."""


class HttpApi:
    """Gradio's HTTP API, as curl uses it (upload, call, result stream). Holds one connection: one per thread."""

    def __init__(self, url: str, timeout: float = 120):
        import httpx

        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def upload(self, name: str, data: bytes, mime: str = "image/png") -> dict:
        """POST /gradio_api/upload; returns the FileData to pass as an input."""
        response = self.http.post(f"{self.url}/gradio_api/upload", files={"files": (name, data, mime)})
        if response.status_code != 200:
            raise ApiError(f"upload: HTTP {response.status_code}: {response.text[:300]}")
        return {"path": response.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    def call(self, api_name: str, *data) -> list:
        """POST /gradio_api/call/<api_name>, then GET its result stream; returns the outputs."""
        response = self.http.post(f"{self.url}/gradio_api/call/{api_name}", json={"data": list(data)})
        if response.status_code == 503:
            raise Busy(response.json().get("detail", response.text))
        if response.status_code != 200:
            raise ApiError(f"call: HTTP {response.status_code}: {response.text[:300]}")
        event_id = response.json()["event_id"]
        event = None
        with self.http.stream("GET", f"{self.url}/gradio_api/call/{api_name}/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    payload = json.loads(line[5:])
                    if event == "error":
                        raise ApiError(str(payload))
                    return payload
        raise ApiError(f"the result stream of {event_id} ended without a result (last event: {event})")

    def classify_digit(self, png: bytes, name: str, model: str = "cnn-bn") -> dict:
        """Upload a picture and classify it; returns the gr.Label value."""
        return self.call("classify_digit", self.upload(name, png), model)[0]


def seven_png(size: tuple[int, int] = (600, 450)) -> bytes:
    """A hand-drawn-looking 7 on a transparent canvas, as PNG bytes."""
    import io

    from PIL import Image, ImageDraw

    canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    w, h = size
    line = [(w / 3, h / 4.5), (w / 1.5, h / 4.5), (w / 2.15, h / 1.18)]
    ImageDraw.Draw(canvas).line(line, fill=(0, 0, 0, 255), width=18, joint="curve")
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def distinct(png: bytes, n: int) -> bytes:
    """The same picture with a tEXt chunk carrying `n` after the header: new bytes, the same pixels."""
    body = b"tEXt" + b"request\x00" + str(n).encode()
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    end_of_header = 8 + 25  # signature, then the IHDR chunk (length, type, 13 bytes, crc)
    return png[:end_of_header] + chunk + png[end_of_header:]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def temp_entries(folder: Path) -> tuple[int, int]:
    """(files, folders) under the temp dir."""
    files = folders = 0
    for _, dirs, names in os.walk(folder):
        files += len(names)
        folders += len(dirs)
    return files, folders
