"""The server's whole surface over raw HTTP, against `python -m demo` on a free port with its own temp dir:
Gradio's own routes, events without an API name, the Sketchpad's drawing store, failed decodes, slow and
vanished clients, chunked bodies. Memory is the server's RSS (no garbage collection forced in it), before and
after; files are what its temp dir holds after the sweeps.

Also: the Gradio and uvicorn internals demo/surface.py relies on are still where it expects them."""

from __future__ import annotations

import io
import json
import os
import socket
import struct
import sys
import threading
import time
import zlib
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from demo import surface
from tests.servers import free_port, rss_mb, start

ROOT = Path(__file__).resolve().parents[1]
HELD_MB = 50  # memory back within this of where it was


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base URL of the API, server pid, its GRADIO_TEMP_DIR)."""
    port = free_port()
    temp = tmp_path_factory.mktemp("surface-gradio")
    log = tmp_path_factory.mktemp("surface") / "demo.log"
    process, _ = start([sys.executable, "-m", "demo", "--port", str(port)], port, log=log, cwd=ROOT, timeout=180,
                       env={"GRADIO_TEMP_DIR": str(temp)})  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}", process.pid, temp
    finally:
        process.terminate()
        process.wait(timeout=30)


class Raw:
    def __init__(self, url: str):
        self.url, self.api = url, url + "/gradio_api"
        self.http = httpx.Client(timeout=120)
        self.config = self.http.get(f"{url}/config").json()

    def upload(self, data: bytes, name: str = "p.png") -> dict:
        response = self.http.post(f"{self.api}/upload", files={"files": (name, data)})
        assert response.status_code == 200, response.text
        return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}

    def call(self, endpoint: str, data) -> tuple[str, object]:
        posted = self.http.post(f"{self.api}/call/{endpoint}", json={"data": data})
        if posted.status_code != 200:
            return f"http {posted.status_code}", posted.json()["detail"]
        return _last_event(self.http.get(f"{self.api}/call/{endpoint}/{posted.json()['event_id']}").text)

    def join(self, fn_index: int, data, session: str = "hostile") -> tuple[str, object]:
        """The page's way: /queue/join by event number, then the session's event stream."""
        posted = self.http.post(f"{self.api}/queue/join", json={"data": data, "fn_index": fn_index,
                                                               "session_hash": session})  # fmt: skip
        if posted.status_code != 200:
            return f"http {posted.status_code}", posted.json()["detail"]
        for line in self.http.get(f"{self.api}/queue/data", params={"session_hash": session}).text.splitlines():
            if line.startswith("data:") and '"process_completed"' in line:
                output = json.loads(line[5:])["output"]
                return ("error", output["error"]) if "error" in output else ("complete", output["data"])
        raise AssertionError("no process_completed event")

    def sketch_event(self) -> int:
        """The number of the unnamed event a change of the Sketchpad starts: the answer and the Inside view
        (queued; its inputs: the drawing, the model, whether the Inside view is open)."""
        sketch = next(c["id"] for c in self.config["components"] if c.get("type") == "imageeditor")
        events = [dep["id"] for dep in self.config["dependencies"] if [sketch, "change"] in map(list, dep["targets"])]
        assert len(events) == 1, f"a stroke must start one event, not {len(events)}"
        return events[0]

    def keep_event(self) -> int:
        """The number of the unnamed event that keeps the page's upload in the cache (not queued)."""
        for dep in self.config["dependencies"]:
            if any(t[1] == "upload" for t in dep["targets"]) and dep["queue"] is False:
                return dep["id"]
        raise AssertionError("no keep event on the upload")

    def blob(self, kind: str, index, data: bytes, key: str = "drawing"):
        sketch = next(c["id"] for c in self.config["components"] if c.get("type") == "imageeditor")
        return self.http.post(f"{self.api}/component_server", files={"file": ("layer.png", data)},
                              data={"id": key, "type": kind, "index": str(index), "component_id": str(sketch),
                                    "session_hash": "hostile", "fn_name": "accept_blobs"})  # fmt: skip


def _last_event(stream: str) -> tuple[str, object]:
    event, payload = None, None
    for line in stream.splitlines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            payload = json.loads(line[6:])
    return ("error", (payload or {}).get("error")) if event == "error" else (event, payload)


@pytest.fixture(scope="module")
def raw(server):
    return Raw(server[0])


def _png(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def _seven(size=(300, 300)) -> Image.Image:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    w, h = size
    ImageDraw.Draw(image).line([(0.25 * w, 0.2 * h), (0.75 * w, 0.2 * h), (0.45 * w, 0.85 * h)],
                               fill=(0, 0, 0, 255), width=max(3, w // 15))  # fmt: skip
    return image


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A 12000x12000 PNG (144 MP, 168 KB on the wire)."""
    return _png(Image.new("L", (12000, 12000), 255), compress_level=9)


def _icns(inner: bytes) -> bytes:
    entry = b"ic10" + struct.pack(">I", 8 + len(inner)) + inner  # ICNS says 1024x1024 (512@2x)
    return b"icns" + struct.pack(">I", 8 + len(entry)) + entry


def _ico(inner: bytes) -> bytes:
    return struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(inner), 22) + inner


class Peak:
    """The server's peak RSS while the block runs."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.done = pid, 0.0, False

    def __enter__(self):
        def watch():
            while not self.done:
                self.peak = max(self.peak, rss_mb(self.pid))
                time.sleep(0.01)

        self.thread = threading.Thread(target=watch, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done = True
        self.thread.join()


def _settled_rss(pid: int, seconds: float = 2.0) -> float:
    time.sleep(seconds)
    return rss_mb(pid)


# --------------------------------------------------------------------------------- 1. hidden events


def test_hidden_events_are_not_endpoints(raw):
    named = "classify_digit, classify_point, generate_text, inspect_digit, inspect_text, predict_text"
    for name in ("false_3", "nope", "predict"):
        event, text = raw.call(name, [None, "cnn"])
        assert event == "http 404" and f"There is no endpoint '{name}'" in text and named in text, text
    for route in ("queue/join", "run/predict"):
        posted = raw.http.post(f"{raw.api}/{route}", json={"data": [], "fn_index": 9999, "session_hash": "h"})
        assert posted.status_code == 404 and "There is no event number 9999" in posted.json()["detail"]
    # a queued event (the Sketchpad's) by number on Gradio's REST route would run outside the queue's limits
    sketch_event = raw.sketch_event()
    posted = raw.http.post(f"{raw.api}/run/predict", json={"data": [None, "cnn"], "fn_index": sketch_event,
                                                          "session_hash": "h"})  # fmt: skip
    assert posted.status_code == 404 and "through the queue only" in posted.json()["detail"]
    posted = raw.http.post(f"{raw.api}/call/classify_digit", content=b"{not json",
                           headers={"content-type": "application/json"})  # fmt: skip
    assert posted.status_code == 400 and "not JSON" in posted.json()["detail"]


def test_the_sketchpad_event_checks_its_drawing_before_decoding_it(raw, server, bomb):
    _, pid, _ = server
    sketch_event = raw.sketch_event()
    seven = raw.upload(_png(_seven((420, 420))), "seven.png")
    assert (
        raw.join(sketch_event, [{"composite": seven, "layers": [], "background": None}, "cnn-bn", True])[0]
        == "complete"
    )
    big = raw.upload(bomb, "bomb.png")
    before = _settled_rss(pid, 0.5)
    with Peak(pid) as peak:
        event, message = raw.join(sketch_event, [{"composite": big, "layers": [], "background": None}, "cnn-bn", True])
        assert event == "error" and "12000x12000" in message and "limit is 40 megapixels" in message, message
        five = raw.upload(_png(_seven((5000, 420))), "wide.png")  # under 40 MP, over the sketch's 4096 a side
        event, message = raw.join(sketch_event, [{"composite": five, "layers": [], "background": None}, "cnn-bn", True])
        assert event == "error" and "a sketch is at most 4096x4096 px" in message, message
        # the layers are not decoded (the app reads the composite): 50 of the bomb cost nothing
        event, outputs = raw.join(sketch_event, [{"composite": seven, "layers": [big] * 50, "background": big},
                                                 "cnn-bn", True])  # fmt: skip
        assert event == "complete" and outputs[0]["label"] == "7"
    held = _settled_rss(pid) - before
    print(
        f"Sketchpad event, 12000x12000 composite, 50 layers of it: peak +{peak.peak - before:.0f} MB, held +{held:.0f} MB"
    )
    assert peak.peak - before < HELD_MB and held < HELD_MB, (before, peak.peak)


def test_the_keep_event_keeps_only_this_apps_uploads(raw):
    keep = raw.keep_event()
    uploads = [raw.upload(_png(_seven((40 + i, 40))), f"k{i}.png") for i in range(3)]
    posted = raw.http.post(f"{raw.api}/run/predict", json={"data": [uploads[0]], "fn_index": keep,
                                                          "session_hash": "keeper"})  # fmt: skip
    assert posted.status_code == 200, posted.text
    foreign = {"path": "/etc/hostname", "meta": {"_type": "gradio.FileData"}}
    posted = raw.http.post(f"{raw.api}/run/predict", json={"data": [foreign], "fn_index": keep,
                                                          "session_hash": "keeper"})  # fmt: skip
    assert "was not uploaded to this app" in posted.json()["error"]
    raw.kept = [uploads[0]["path"]]  # checked after the sweep (test_files_are_swept): the other two are gone


# --------------------------------------------------------------------------------- 2. the drawing store


def test_drawing_uploads_are_bounded(raw, server, bomb):
    _, pid, _ = server
    seven = _png(_seven((420, 420)))
    response = raw.blob("layer", 10_000_000, seven)
    assert response.status_code == 400 and "index must be a whole number from 0 to 16" in response.json()["detail"]
    response = raw.blob("nonsense", 0, seven)
    assert response.status_code == 400 and "type must be one of composite, layer, background" in response.text
    response = raw.blob("composite", "null", bomb)
    assert response.status_code == 400 and "12000x12000" in response.json()["detail"]
    response = raw.blob("composite", "null", b"not a picture")
    assert response.status_code == 400 and "not an image Pillow can read" in response.json()["detail"]
    # the page's way: the drawing, then the event with its id
    assert raw.blob("composite", "null", seven, key="page").status_code == 200
    assert raw.blob("layer", 0, seven, key="page").status_code == 200
    event, outputs = raw.join(raw.sketch_event(), [{"id": "page"}, "cnn-bn", True])
    assert event == "complete" and outputs[0]["label"] == "7"
    before = _settled_rss(pid, 0.5)
    noise = _png(Image.fromarray(np.random.default_rng(0).integers(0, 255, (1000, 1000, 4), dtype=np.uint8)))
    assert len(noise) < surface.MAX_BLOB_BYTES
    for i in range(40):  # 40 x 4 MB from one caller: at most 8 are kept
        assert raw.blob(
            "composite", "null", noise[:-12] + i.to_bytes(4, "big") + noise[-8:], key=f"n{i}"
        ).status_code in (200, 400)
    held = _settled_rss(pid) - before
    print(f"40 drawing uploads of {len(noise) / 2**20:.1f} MB from one caller: held +{held:.0f} MB")
    assert held < surface.BLOBS_PER_CALLER * 4 + HELD_MB
    raw.blobs_before = before  # back after BLOB_AGE_S (test_files_are_swept)


# --------------------------------------------------------------------------------- 3. failed decodes


@pytest.mark.parametrize("kind", ["icns", "ico"])
def test_an_icon_holding_a_huge_picture_is_refused_undecoded(raw, server, bomb, kind):
    _, pid, _ = server
    data = _icns(bomb) if kind == "icns" else _ico(bomb)
    before = _settled_rss(pid, 0.5)
    with Peak(pid) as peak:
        for _ in range(3):
            event, message = raw.call("classify_digit", [raw.upload(data, f"bomb.{kind}"), "cnn-bn"])
            assert event == "error" and "holds a 12000x12000 picture" in message, message
    held = _settled_rss(pid) - before
    print(f"{kind} holding a 12000x12000 PNG, 3 calls: peak +{peak.peak - before:.0f} MB, held +{held:.0f} MB")
    assert peak.peak - before < HELD_MB and held < HELD_MB, (before, peak.peak)


def test_failed_and_wide_decodes_give_their_memory_back(raw, server):
    _, pid, _ = server
    whole = _png(_seven((6000, 6000)))
    cut = raw.upload(whole[: len(whole) // 2], "cut.png")
    grey16 = Image.fromarray(np.full((6300, 6300), 60000, np.uint16))
    ImageDraw.Draw(grey16).line([(1500, 1200), (4800, 1200), (2800, 5400)], fill=0, width=300)
    wide = raw.upload(_png(grey16), "sixteen.png")
    before = _settled_rss(pid, 0.5)
    with Peak(pid) as peak:
        for _ in range(4):
            event, message = raw.call("classify_digit", [cut, "cnn-bn"])
            assert event == "error" and "truncated or damaged" in message, message
        event, outputs = raw.call("classify_digit", [wide, "cnn-bn"])
        assert event == "complete" and outputs[0]["label"] == "7", outputs
    held = _settled_rss(pid) - before
    print(f"truncated 6000x6000 x4 + 16-bit 6300x6300: peak +{peak.peak - before:.0f} MB, held +{held:.0f} MB")
    assert held < HELD_MB
    assert peak.peak - before < 400  # was +975 MB: a full-size float64 copy


# --------------------------------------------------------------------------------- 4. files, slow clients


def test_routes_the_app_does_not_use_are_off(raw):
    response = raw.http.get(f"{raw.api}/deep_link", params={"session_hash": "x"})
    assert response.status_code == 404 and "Deep links are not offered" in response.json()["detail"]
    response = raw.http.post(f"{raw.api}/process_recording", files={"video": ("v.mp4", b"\0" * 1000)})
    assert response.status_code == 404 and "Screen recordings" in response.json()["detail"]


def test_a_url_path_is_refused_before_gradio_fetches_it(raw, server):
    _, _, temp = server
    folders = {p for p in temp.rglob("*") if p.is_dir()}
    for url in ("http://127.0.0.1:9/x.png", "https://example.invalid/y.png", "file:///etc/hostname"):
        event, message = raw.call("classify_digit", [{"path": url, "meta": {"_type": "gradio.FileData"}}, "cnn"])
        assert event == "error" and "URLs (http://, https://, ...) are not read" in message, message
    assert {p for p in temp.rglob("*") if p.is_dir()} - folders == set()  # no folder made for a URL


def _connect(url: str) -> socket.socket:
    host, port = url.split("//")[1].split(":")
    return socket.create_connection((host, int(port)))


def test_slow_clients_time_out_and_vanished_uploads_leave_nothing(raw, server):
    url, _, temp = server

    def left() -> list:  # what an unfinished upload would leave: Gradio's temp file, or the file itself
        return [p for p in temp.iterdir() if p.is_file()] + list(temp.rglob("slow.png"))

    upload = (b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XX\r\n"
              b"Content-Length: 200000\r\n\r\n--XX\r\nContent-Disposition: form-data; name=\"files\"; "
              b'filename="slow.png"\r\n\r\n')  # fmt: skip
    for _ in range(10):  # gone mid-body
        gone = _connect(url)
        gone.sendall(upload + os.urandom(60_000))
        time.sleep(0.05)
        gone.close()
    headers = [_connect(url) for _ in range(20)]
    for s in headers:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finished
    bodies = [_connect(url) for _ in range(5)]
    for s in bodies:
        s.sendall(upload + b"x" * 1000)  # stalls
    time.sleep(1)
    assert left() == []  # Gradio never saw an unfinished body: no temp file
    time.sleep(max(surface.HEADER_TIMEOUT_S, surface.BODY_IDLE_S) + 3)
    for s in headers + bodies:
        s.settimeout(2)
        answer = s.recv(200)
        assert answer.startswith(b"HTTP/1.1 408") or answer == b"", answer
        s.close()
    assert left() == []


# --------------------------------------------------------------------------------- 5. chunked bodies


def test_chunked_uploads_are_counted_not_held(raw, server):
    _, pid, _ = server
    payload = os.urandom(9_800_000)

    def chunked(i: int):
        yield b'--XX\r\nContent-Disposition: form-data; name="files"; filename="c%d.png"\r\n\r\n' % i
        for at in range(0, len(payload), 65536):
            yield payload[at : at + 65536]
        yield b"\r\n--XX--\r\n"

    codes = []

    def send(i: int) -> None:
        with httpx.Client(timeout=120) as http:
            codes.append(http.post(f"{raw.api}/upload", content=chunked(i),
                                   headers={"content-type": "multipart/form-data; boundary=XX"}).status_code)  # fmt: skip

    before = _settled_rss(pid, 0.5)
    with Peak(pid) as peak:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert codes == [200] * 20
    print(f"20 concurrent chunked 9.8 MB uploads: peak +{peak.peak - before:.0f} MB")
    assert peak.peak - before < 150  # was +862 MB for 40: every body held in memory
    assert _settled_rss(pid) - before < HELD_MB


# --------------------------------------------------------------------------------- 6. a sentence for each


@pytest.mark.parametrize(
    "endpoint,data,expected",
    [
        ("classify_digit", [{"path": "/tmp/a\x00b", "meta": {"_type": "gradio.FileData"}}, "cnn"], "NUL byte"),
        ("classify_digit", ["picture.png", "cnn"], "must be an uploaded file"),
        ("classify_digit", [7, "cnn"], "must be an uploaded file"),
        ("classify_digit", [[1, 2], "cnn"], "must be an uploaded file"),
        ("classify_digit", [None, ["cnn"]], "must be one of: cnn-bn"),
        ("generate_text", ["hihello", "hi", int("9" * 400), 0], "got an integer of 400 digits"),
        ("classify_point", [int("9" * 400), 0], "got an integer of 400 digits"),
        ("predict_text", [["hihello"], "hi"], "must be one of"),
    ],
    ids=["nul", "string", "number", "list", "model list", "400 digits", "400 digits point", "model list text"],
)
def test_every_wrong_input_gets_a_sentence(raw, endpoint, data, expected):
    event, message = raw.call(endpoint, data)
    assert event == "error" and message and expected in message, message


def _png_header(width: int, height: int) -> bytes:
    """A PNG that is its header alone (and an end): enough for Pillow to refuse it by size."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IEND", b"")
    )


def test_a_picture_over_pillows_own_limit_gets_the_size_message(raw):
    event, message = raw.call("classify_digit", [raw.upload(_png_header(14000, 14000), "huge.png"), "cnn-bn"])
    assert event == "error" and "limit is 40 megapixels" in message and "DecompressionBomb" not in message, message


def test_a_truncated_qoi_is_explained(raw):
    out = io.BytesIO()
    _seven((300, 300)).save(out, "QOI")
    event, message = raw.call("classify_digit", [raw.upload(out.getvalue()[:700], "cut.qoi"), "cnn-bn"])
    assert event == "error" and "truncated or damaged" in message, message


# --------------------------------------------------------------------------------- after the sweeps


def test_files_are_swept_and_memory_comes_back(raw, server):
    """Last: everything above has left its files; after the sweeps (an unread upload lives 60 s, a drawing
    30 s, a stray temp file 60 s) only the components' own files and the kept page's uploads remain."""
    _, pid, temp = server
    time.sleep(70)
    left = [p for p in temp.rglob("*") if p.is_file()]
    kept = [p for p in left if str(p) in getattr(raw, "kept", [])]
    own = {"scan-2.jpg", "printed-3.png", "sketch-5.png", "photo-4.jpg"}  # the examples; the plot is a .webp
    assert len(kept) <= 2, kept
    assert [p for p in left if p not in kept and p.name not in own and p.suffix != ".webp"] == []
    assert [p for p in temp.iterdir() if p.is_file()] == []  # no stray temp file at the top
    print(f"after the sweeps: {len(left)} files, {len(kept)} of them kept for the page")
    if hasattr(raw, "blobs_before"):
        print(f"drawings expired: +{rss_mb(pid) - raw.blobs_before:.0f} MB from before them")
        assert rss_mb(pid) - raw.blobs_before < HELD_MB


# --------------------------------------------------------------------------------- the internals used


def test_the_gradio_and_uvicorn_internals_used_are_there():
    import gradio
    from gradio import routes
    from gradio.blocks import Blocks
    from uvicorn import config
    from uvicorn.protocols.http.h11_impl import H11Protocol

    assert gradio.__version__.startswith("6."), "demo/surface.py was written against Gradio 6.31: check it"
    for name in ("preprocess_data", "process_api", "validate_inputs"):
        assert callable(getattr(Blocks, name))
    assert "auto" in config.HTTP_PROTOCOLS and hasattr(H11Protocol, "on_response_complete")
    source = Path(routes.__file__).read_text()
    for route in ('"/deep_link"', '"/process_recording"', '"/component_server"', '"/queue/join"', '"/run/{api_name}"'):
        assert route in source or route.replace('"/', '"/gradio_api/') in source, route
    assert "api_open" in Path(routes.__file__).read_text()
    sketchpad = gradio.Sketchpad()
    assert isinstance(sketchpad.blob_storage, dict) and hasattr(gradio.ImageEditor.accept_blobs, "_is_server_fn")
