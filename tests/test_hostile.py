"""A hostile or careless caller over raw HTTP against `python -m demo`: every request gets a clear answer
(never `"error": null`, never NaN), no file outside this app's uploads is read, bodies are bounded, and the
server is still up and right afterwards."""

from __future__ import annotations

import base64
import io
import json
import math
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from demo.guard import DATA_URL, MAX_JSON_BYTES, NOT_UPLOADED

pytestmark = pytest.mark.slow
ROOT_FILE = "docs/screenshot-digits.png"


class Api:
    def __init__(self, base: str):
        self.base = base.rstrip("/") + "/gradio_api"
        self.http = httpx.Client(timeout=60)

    def call(self, endpoint: str, data=None, body: bytes | None = None) -> tuple[str, object]:
        """('complete', outputs) or ('error', message) or ('http <code>', text)."""
        content = body if body is not None else json.dumps({"data": data}, allow_nan=True).encode()
        posted = self.http.post(f"{self.base}/call/{endpoint}", content=content,
                                headers={"content-type": "application/json"})  # fmt: skip
        if posted.status_code != 200:
            return f"http {posted.status_code}", posted.text
        stream = self.http.get(f"{self.base}/call/{endpoint}/{posted.json()['event_id']}").text
        event, payload = None, None
        for line in stream.splitlines():  # server-sent events: the last event and its data
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                payload = json.loads(line[6:])
        if event == "error":
            return "error", (payload or {}).get("error")
        return event, payload

    def upload(self, data: bytes, name: str = "picture.png") -> str:
        response = self.http.post(f"{self.base}/upload", files={"files": (name, data)})
        assert response.status_code == 200, response.text
        return response.json()[0]


def _file(path: str, meta: bool = True) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}} if meta else {"path": path}


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _seven(size=(300, 300), mode="L") -> Image.Image:
    image = Image.new(mode, size, 255 if mode == "L" else (255, 255, 255))
    w, h = size
    ImageDraw.Draw(image).line([(0.25 * w, 0.2 * h), (0.75 * w, 0.2 * h), (0.45 * w, 0.85 * h)], fill=0,
                               width=max(3, w // 15))  # fmt: skip
    return image


@pytest.fixture(scope="module")
def api(demo_url):
    return Api(demo_url)


@pytest.mark.parametrize("meta", [False, True], ids=["no meta", "marked as an upload"])
@pytest.mark.parametrize("path", [ROOT_FILE, "/etc/shadow", "/nope", "../../../../etc/hostname"])
def test_no_file_outside_the_uploads_is_read(api, path, meta):
    """One answer whatever the path: an existing image, an unreadable file and a missing one look the same."""
    full = str(Path(__file__).resolve().parents[1] / path) if path == ROOT_FILE else path
    assert api.call("classify_digit", [_file(full, meta), "cnn-bn"]) == ("error", NOT_UPLOADED)


def test_a_real_upload_is_still_read(api):
    event, (label, frame, info) = api.call("classify_digit", [_file(api.upload(_png(_seven()))), "cnn-bn"])
    assert event == "complete" and label["label"] == "7"


def test_a_data_url_is_refused_and_large_bodies_get_413(api):
    small = "data:image/png;base64," + base64.b64encode(_png(_seven((40, 40)))).decode()
    assert api.call("classify_digit", [{"url": small, "path": None}, "cnn-bn"]) == ("error", DATA_URL)
    assert api.call("classify_digit", [{"path": small}, "cnn-bn"]) == ("error", DATA_URL)
    big = "data:image/png;base64," + base64.b64encode(b"\0" * 11_000_000).decode()
    event, text = api.call("classify_digit", [{"url": big, "path": None}, "cnn-bn"])
    assert event == "http 413" and "too large" in text
    event, text = api.call("predict_text", body=b'{"data": ["hihello", "' + b"h" * MAX_JSON_BYTES + b'"]}')
    assert event == "http 413"
    # an upload over the 10 MB cap, and a chunked body (no Content-Length) over the limit
    assert api.http.post(f"{api.base}/upload", files={"files": ("x.png", b"\0" * 11_000_000)}).status_code == 413

    def chunks():
        for _ in range(MAX_JSON_BYTES // 4096 + 2):
            yield b"x" * 4096

    response = api.http.post(
        f"{api.base}/call/predict_text", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize("cut", [600, 3000], ids=["cut in the header's wake", "cut mid-data"])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_truncated_picture_is_explained(api, fmt, cut):
    out = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((200, 200)) * 255).astype(np.uint8)).save(out, fmt)
    event, message = api.call("classify_digit", [_file(api.upload(out.getvalue()[:cut], f"t.{fmt.lower()}")), "cnn"])
    assert event == "error" and message and ("truncated" in message or "not an image" in message), message


@pytest.mark.parametrize(
    "length,temperature,pattern",
    [
        ("abc", 0, "length must be a whole number from 1 to 1,000; got 'abc'"),
        (math.nan, 0, "whole number from 1 to 1,000; got nan"),
        (math.inf, 0, "whole number from 1 to 1,000; got inf"),
        (2.5, 0, "whole number from 1 to 1,000; got 2.5"),
        (None, 0, "length is missing"),
        (5, "abc", "temperature must be a number from 0 to 5"),
        (5, math.nan, "temperature must be a number from 0 to 5"),
        (5, 9, "temperature must be a number from 0 to 5"),
    ],
)
def test_generate_text_explains_bad_numbers(api, length, temperature, pattern):
    event, message = api.call("generate_text", ["hihello", "hi", length, temperature])
    assert event == "error" and pattern in message, message


def test_a_missing_argument_is_named(api):
    event, message = api.call("generate_text", ["hihello", "hi"])
    assert event == "error" and "takes 4 inputs (model, text, length, temperature); the request sent 2" in message


def test_a_tiny_temperature_is_greedy(api):
    assert api.call("generate_text", ["hihello", "hi", 5, 1e-46]) == api.call("generate_text", ["hihello", "hi", 5, 0])


@pytest.mark.parametrize("x,y", [("abc", 0), (1e308, -1e308), (math.nan, 0), (None, 1)])
def test_classify_point_explains_bad_coordinates(api, x, y):
    event, message = api.call("classify_point", [x, y])
    assert event == "error" and "number" in message and "-1e+06 to 1e+06" in message, message


def test_a_float_tiff_with_nan_pixels_reads_the_digit(api, tmp_path):
    ink = np.asarray(_seven((200, 200)), np.float32) / 255  # 1 background, 0 ink
    ink[5, 5] = np.nan
    ink[150:152, 10:12] = np.nan
    Image.fromarray(ink, "F").save(tmp_path / "nan.tif")
    event, outputs = api.call(
        "classify_digit", [_file(api.upload((tmp_path / "nan.tif").read_bytes(), "nan.tif")), "cnn-bn"]
    )
    assert event == "complete" and outputs[0]["label"] == "7"


def test_no_answer_carries_nan(api):
    for endpoint, data in [("classify_point", [1e6, -1e6]), ("classify_point", [0.3, 0.1])]:
        event, outputs = api.call(endpoint, data)
        assert event == "complete"
        assert all(math.isfinite(c["confidence"]) for c in outputs[0]["confidences"])


def test_the_server_is_still_right_after_all_that(api):
    test_a_real_upload_is_still_read(api)
