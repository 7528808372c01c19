"""Property-based tests (Hypothesis, a fixed example budget and derandomized, so CI runs the same cases):
random canvases through a canvas model against the reference recipe, and random or mutated picture bytes
through the served API (never an unexplained error, the server still up)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image, ImageDraw

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install -e '.[dev]')")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from export.reference import frame_or_blank  # noqa: E402
from export.verify import FRAME_TOLERANCE  # noqa: E402
from zoo.pictures import plain_rgba  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
BUDGET = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def canvases(draw) -> Image.Image:
    """A canvas as a person or a program might hand one over: any size 1..2000, transparent or opaque, either
    polarity, any ink colour and alpha, one to four strokes of any pen."""
    width, height = draw(st.integers(1, 2000)), draw(st.integers(1, 2000))
    transparent = draw(st.booleans())
    paper = (0, 0, 0, 0) if transparent else tuple(draw(st.integers(0, 255)) for _ in range(3)) + (255,)
    ink = tuple(draw(st.integers(0, 255)) for _ in range(3)) + (draw(st.integers(1, 255)) if transparent else 255,)
    image = Image.new("RGBA", (width, height), paper)
    pen = draw(st.integers(1, 60))
    for _ in range(draw(st.integers(0, 4))):
        points = [
            (draw(st.floats(0, 1)) * width, draw(st.floats(0, 1)) * height) for _ in range(draw(st.integers(1, 5)))
        ]
        ImageDraw.Draw(image).line(points, fill=ink, width=pen, joint="curve")
    return image


@pytest.fixture(scope="module")
def canvas_session():
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(
        str(ROOT / "models" / "cnn-bn-canvas.onnx"), options, providers=["CPUExecutionProvider"]
    )


@BUDGET
@given(image=canvases())
def test_random_canvases_give_the_reference_recipes_frame(canvas_session, image):
    _, frame, ink, _ = canvas_session.run(None, {"image": plain_rgba(image)})
    want, want_ink = frame_or_blank(image)
    assert bool(ink) == want_ink
    assert float(np.abs(frame - want).mean()) <= FRAME_TOLERANCE


@st.composite
def large_pictures(draw) -> np.ndarray:
    """uint8 [H, W, 4] noise (every rounding case) over 1024 px a side, up to 6 MP, opaque or not: any aspect,
    so that any mix of Pillow's reduce() factors, partial blocks and window lengths comes up."""
    long = draw(st.integers(1025, 6000))
    short = draw(st.integers(1, min(long, 6_000_000 // long)))
    height, width = (long, short) if draw(st.booleans()) else (short, long)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rgba = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    if draw(st.booleans()):
        rgba[..., 3] = 255
    return rgba


@pytest.fixture(scope="module")
def thumbnail_session():
    from export.canvas import thumbnail_model

    return ort.InferenceSession(thumbnail_model().SerializeToString(), providers=["CPUExecutionProvider"])


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rgba=large_pictures())
def test_large_pictures_become_pillows_thumbnail(thumbnail_session, rgba):
    """An opaque picture's colour is Pillow's thumbnail of the RGB picture; otherwise its alpha is Pillow's
    thumbnail's of the RGBA picture."""
    (planes,) = thumbnail_session.run(None, {"image": rgba})
    opaque = bool((rgba[..., 3] == 255).all())
    picture = Image.fromarray(np.ascontiguousarray(rgba[..., :3]) if opaque else rgba)
    picture.thumbnail((1024, 1024), Image.Resampling.BOX)
    got, want = planes[:3] if opaque else planes[3:], np.asarray(picture).transpose(2, 0, 1)
    want = want if opaque else want[3:]  # RGB's three channels, or RGBA's alpha
    assert got.shape == want.shape and (got == want).all()


def _png(size=(120, 90)) -> bytes:
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).line([(30, 20), (90, 20), (55, 80)], fill="black", width=8)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(_png())).save(out, "JPEG")
    return out.getvalue()


@st.composite
def picture_bytes(draw) -> bytes:
    """Random bytes, or a real PNG/JPEG/GIF with bytes flipped, cut, or inserted."""
    if draw(st.booleans()):
        return draw(st.binary(min_size=0, max_size=2000))
    data = bytearray(draw(st.sampled_from([_png(), _jpeg()])))
    for _ in range(draw(st.integers(1, 6))):
        what, at = draw(st.sampled_from(["flip", "cut", "insert"])), draw(st.integers(0, len(data) - 1))
        if what == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif what == "cut":
            del data[at:]
            if not data:
                break
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


@pytest.fixture(scope="module")
def api(demo_url):
    return httpx.Client(base_url=demo_url.rstrip("/") + "/gradio_api", timeout=60)


def _classify(api, data: bytes) -> tuple[str, object]:
    response = api.post("/upload", files={"files": ("picture.png", data)})
    if response.status_code != 200:
        return f"http {response.status_code}", response.text
    path = response.json()[0]
    body = {"data": [{"path": path, "meta": {"_type": "gradio.FileData"}}, "cnn-bn"]}
    event_id = api.post("/call/classify_digit", json=body).json()["event_id"]
    event, payload = None, None
    for line in api.get(f"/call/classify_digit/{event_id}").text.splitlines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            payload = json.loads(line[6:])
    return event, payload


@BUDGET
@given(data=picture_bytes())
def test_any_bytes_get_an_answer_or_a_clear_message(api, data):
    event, payload = _classify(api, data)
    if event == "error":
        assert payload and payload.get("error"), f"an error with no message for {len(data)} bytes"
    elif event == "complete":
        label = payload[0]
        assert "label" in label and all(np.isfinite(c["confidence"]) for c in label["confidences"])
    else:  # refused at the door: still a message
        assert event.startswith("http 4") and payload, (event, payload)


def test_the_server_is_up_after_the_fuzzing(api):
    event, payload = _classify(api, _png((300, 300)))
    assert event == "complete" and payload[0]["label"] == "7"
