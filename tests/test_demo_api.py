"""The demo end to end through gradio_client against `python -m demo` on a free port: every endpoint, and
bad input of every kind, after which the server must still answer a real request."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from zoo.corpora import CORPORA

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(demo_url):
    return Client(demo_url, verbose=False)


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory):
    """Real test digits as files a user would upload: black on white PNG, and a transparent RGBA PNG."""
    from zoo.data import load_mnist5k

    data = load_mnist5k()
    folder = tmp_path_factory.mktemp("digits")
    files = {}
    for k in range(10):
        x = data.x_test[np.flatnonzero(data.y_test == k)[0]]
        big = np.asarray(Image.fromarray(x).resize((300, 300), Image.Resampling.BILINEAR))
        Image.fromarray(255 - big).save(folder / f"{k}.png")
        rgba = np.zeros((300, 300, 4), np.uint8)
        rgba[..., 3] = big
        Image.fromarray(rgba, "RGBA").save(folder / f"{k}-rgba.png")
        files[k] = folder / f"{k}.png"
        files[f"{k}-rgba"] = folder / f"{k}-rgba.png"
    return files


def _top(label: dict) -> str:
    return label["label"]


def test_classify_digit_reads_uploads(client, digit_files):
    for k in range(10):
        label, frame, info = client.predict(handle_file(str(digit_files[k])), api_name="/classify_digit")
        assert _top(label) == str(k)
        assert len(label["confidences"]) == 3
        assert "cnn-bn" in info  # the most accurate model is the default
        assert Image.open(frame).size == (168, 168)


def test_classify_digit_sees_the_alpha_channel(client, digit_files):
    # A transparent PNG converted to RGB is all black: only a server that keeps alpha reads these.
    for k in (0, 3, 8):
        label, _, _ = client.predict(handle_file(str(digit_files[f"{k}-rgba"])), "cnn-int8", api_name="/classify_digit")
        assert _top(label) == str(k)


def test_every_digit_model_answers(client, digit_files):
    for model in ("mlp", "mlp-int8", "cnn", "cnn-int8", "cnn-small", "cnn-small-int8", "cnn-bn", "cnn-bn-int8"):
        label, _, info = client.predict(handle_file(str(digit_files[4])), model, api_name="/classify_digit")
        assert _top(label) == "4" and model in info


def _assert_error(call, pattern: str):
    with pytest.raises(AppError) as raised:
        call()
    assert re.search(pattern, str(raised.value)), str(raised.value)


@pytest.mark.parametrize(
    "make",
    [lambda p: Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(p),
     lambda p: Image.new("RGB", (400, 400), "white").save(p),
     lambda p: Image.new("L", (400, 400), 0).save(p)],
    ids=["transparent", "white", "black"],
)  # fmt: skip
def test_blank_images_are_not_digits(client, tmp_path, make):
    path = tmp_path / "blank.png"
    make(path)
    _assert_error(
        lambda: client.predict(handle_file(str(path)), api_name="/classify_digit"), "No ink found.*Draw a digit"
    )


def test_a_file_that_is_not_an_image(client, tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("certainly not a PNG")
    _assert_error(
        lambda: client.predict(handle_file(str(path)), api_name="/classify_digit"), "is not an image.*Upload a PNG"
    )


def test_a_9000_pixel_image_is_refused_quickly(client, tmp_path):
    path = tmp_path / "huge.png"
    Image.new("1", (9000, 9000)).save(path)
    started = time.monotonic()
    _assert_error(
        lambda: client.predict(handle_file(str(path)), api_name="/classify_digit"), "9000x9000.*limit is 40 megapixels"
    )
    assert time.monotonic() - started < 60  # a hang detector, not a benchmark


def test_unknown_model(client, digit_files):
    _assert_error(lambda: client.predict(handle_file(str(digit_files[1])), "resnet", api_name="/classify_digit"),
                  "resnet is not in the list of choices.*cnn-bn")  # fmt: skip


def test_predict_text(client):
    predicted, table = client.predict("hihello", "hihell", api_name="/predict_text")
    assert predicted == "ihello"
    assert "<table" in table
    sentence = CORPORA["longseq"]
    predicted, _ = client.predict("longseq", sentence[:-1], api_name="/predict_text")
    assert predicted == sentence[1:]
    predicted, _ = client.predict("charseq", "if you want yo", api_name="/predict_text")
    assert predicted == "f you want you"


def test_generate_text(client):
    sentence = CORPORA["longseq"]
    assert client.predict("longseq", sentence[:10], 170, api_name="/generate_text") == sentence
    assert client.predict("longseq-gru", sentence[:10], 170, api_name="/generate_text") == sentence
    assert client.predict("hihello", "h", 6, api_name="/generate_text") == "hihello"
    sampled = client.predict("charseq", "if", 20, 1.5, api_name="/generate_text")
    assert sampled.startswith("if") and len(sampled) == 22


@pytest.mark.parametrize(
    "args, pattern",
    [
        (
            ("hihello", "hello world"),
            r"does not know the characters ' ', 'd', 'r', 'w'.*knows only: 'e' 'h' 'i' 'l' 'o'",
        ),
        (("hihello", ""), "The text is empty"),
        (("hihello", "h" * 200_000), "200,000 characters long; the limit is 1,000"),
        (("gpt", "hi"), "gpt is not in the list of choices.*hihello"),
    ],
)
def test_predict_text_bad_input(client, args, pattern):
    _assert_error(lambda: client.predict(*args, api_name="/predict_text"), pattern)


@pytest.mark.parametrize(
    "args, pattern",
    [
        (("longseq", "if you", 10**9), "from 1 to 1,000 characters; got 1,000,000,000"),
        (("longseq", "if you", 0), "from 1 to 1,000 characters; got 0"),
        (("longseq", "", 10), "The prefix is empty"),
        (("longseq", "IF", 10), "does not know the characters 'F', 'I'"),
        (("longseq", "if", 10, 9.0), "The temperature must be a number from 0 to 5; got 9.0"),
    ],
)
def test_generate_text_bad_input(client, args, pattern):
    _assert_error(lambda: client.predict(*args, api_name="/generate_text"), pattern)


def test_classify_point(client):
    inner, _ = client.predict(0.0, 0.0, api_name="/classify_point")
    outer, _ = client.predict(1.2, 0.0, api_name="/classify_point")
    assert inner["label"] == "inner circle (1)" and outer["label"] == "outer circle (0)"


def test_still_serving_after_bad_input(client, digit_files):
    label, _, _ = client.predict(handle_file(str(digit_files[2])), api_name="/classify_digit")
    assert _top(label) == "2"
    assert client.predict("hihello", "hihell", api_name="/predict_text")[0] == "ihello"


# ---------------------------------------------------------------------- serving under load (raw HTTP API)


def test_the_api_page_keeps_classify_digit_signature(client):
    params = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/classify_digit"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["image", "model"]
    assert params[1]["parameter_default"] == "cnn-bn"


def test_concurrent_http_callers_lose_nothing_and_files_do_not_pile_up(demo_url, demo_temp_dir):
    """8 threads, one HTTP connection each, 25 distinct uploads each: every answer right, and the server's temp
    dir drains back to its own few files once the requests are done (the cache policy in demo/app.py)."""
    from concurrent.futures import ThreadPoolExecutor

    from demo.app import CACHE_AGE_S, CACHE_SWEEP_S
    from tests.servers import HttpApi, distinct, seven_png, temp_entries

    png = seven_png()

    def caller(k: int) -> list[str]:
        api = HttpApi(demo_url)
        try:
            return [api.classify_digit(distinct(png, 100 * k + i), f"c{k}-{i}.png")["label"] for i in range(25)]
        finally:
            api.close()

    with ThreadPoolExecutor(8) as pool:
        labels = [label for answers in pool.map(caller, range(8)) for label in answers]
    assert labels == ["7"] * 200
    deadline = time.monotonic() + CACHE_AGE_S + 3 * CACHE_SWEEP_S + 30  # waits for the condition, bounded
    while (files := temp_entries(demo_temp_dir)[0]) > 20 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert files <= 20, f"{files} files left in the demo's temp dir after 200 requests"


def test_overload_is_answered_busy(tmp_path):
    """A server with one waiting place: bursts of 24 simultaneous calls get answers or HTTP 503 'Queue is full'
    (what the page shows as 'This application is currently busy'), nothing else."""
    import sys
    import threading

    from tests.servers import Busy, HttpApi, distinct, free_port, seven_png, start

    port = free_port()
    env = {"GRADIO_TEMP_DIR": str(tmp_path / "gradio")}
    process, _ = start([sys.executable, "-m", "demo", "--port", str(port), "--queue-max", "1"], port,
                       log=tmp_path / "demo.log", env=env)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    png = seven_png((2400, 1800))  # large: the 8 running calls take long enough for the rest to queue
    outcomes: list[str] = []
    try:
        for burst in range(5):  # until a burst overflows the queue (the first nearly always does)
            apis = [HttpApi(url) for _ in range(24)]
            files = [api.upload(f"b{burst}-{i}.png", distinct(png, 100 * burst + i)) for i, api in enumerate(apis)]
            go = threading.Barrier(len(apis))

            def call(api: HttpApi, file: dict, go: threading.Barrier) -> None:
                go.wait()
                try:
                    outcomes.append(api.call("classify_digit", file, "cnn-bn")[0]["label"])
                except Busy as error:
                    outcomes.append(f"busy: {error}")

            threads = [threading.Thread(target=call, args=(a, f, go)) for a, f in zip(apis, files, strict=True)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            for api in apis:
                api.close()
            if any(o.startswith("busy") for o in outcomes):
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    busy = [o for o in outcomes if o.startswith("busy")]
    assert busy, "no burst of 24 simultaneous calls filled a queue of 1"
    assert all(o == "7" for o in outcomes if not o.startswith("busy")), outcomes
    assert all("Queue is full" in o for o in busy), busy


def test_soak_command_reports_its_table():
    """`python -m bench.soak` at a tiny size: its own server, every request answered, the report printed."""
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run([sys.executable, "-m", "bench.soak", "--requests", "40", "--workers", "4", "--warm-up", "8",
                          "--checkpoints", "2"], capture_output=True, text=True, timeout=600,
                         cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "40 requests from 4 workers: 40 answered correctly, 0 failed or lost" in out.stdout
    assert "| requests done | time | server RSS | files in temp dir |" in out.stdout and "machine: " in out.stdout


# ---------------------------------------------------------------------- examples, phone photos, the frame, seeds

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "demo" / "examples"
EXAMPLE_DIGITS = {"scan-2.jpg": "2", "printed-3.png": "3", "sketch-5.png": "5", "photo-4.jpg": "4"}


def make_examples(folder) -> dict[str, str]:
    """The demo's example pictures (demo/examples/) as committed: {file name: the digit it shows}. Made again by
    `python -c "from tests.test_demo_api import make_examples; make_examples('demo/examples')"` (the printed
    digit needs the DejaVu fonts: apt-get install fonts-dejavu-core)."""
    from PIL import ImageDraw, ImageFilter, ImageFont

    from zoo.data import load_mnist5k

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2024)
    data = load_mnist5k()

    def test_digit(k: int, n: int) -> np.ndarray:
        return data.x_test[np.flatnonzero(data.y_test == k)[n]]

    # a scan: a test digit enlarged, dark ink on paper-coloured noise, off centre, saved as a scanner would (JPEG)
    ink = np.asarray(Image.fromarray(test_digit(2, 7)).resize((250, 250), Image.Resampling.BICUBIC), np.float32) / 255
    page = np.array((239, 233, 219), np.float32) + rng.normal(0, 5, (340, 320, 3))
    page[40:290, 50:300] = page[40:290, 50:300] * (1 - ink[..., None] * 0.85) + ink[..., None] * 0.85 * (40, 38, 52)
    Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).save(folder / "scan-2.jpg", "JPEG", quality=90)

    # a printed digit: DejaVu Serif, black on white
    printed = Image.new("RGB", (300, 300), "white")
    font = ImageFont.truetype("DejaVuSerif.ttf", 240)
    ImageDraw.Draw(printed).text((150, 150), "3", fill="black", font=font, anchor="mm")
    printed.save(folder / "printed-3.png")

    # a sketch: strokes on white, as a mouse draws them
    sketch = Image.new("RGB", (400, 400), "white")
    draw = ImageDraw.Draw(sketch)
    draw.line([(270, 90), (150, 90), (135, 195)], fill="black", width=20, joint="curve")
    draw.arc([(120, 160), (290, 330)], start=-150, end=150, fill="black", width=20)
    sketch.save(folder / "sketch-5.png")

    # a phone photo: a test digit on paper lit from one side, saved sideways with EXIF Orientation 6 ("turn 90
    # degrees clockwise to show"), as phones store portrait photos: upright only where EXIF is applied
    ink = np.asarray(Image.fromarray(test_digit(4, 3)).resize((300, 300), Image.Resampling.BICUBIC), np.float32) / 255
    y, x = np.mgrid[0:480, 0:360].astype(np.float32)
    light = 1.0 - 0.25 * (x / 360 + y / 480) / 2
    photo = np.array((228, 226, 220), np.float32) * light[..., None] + rng.normal(0, 4, (480, 360, 3))
    photo[90:390, 30:330] = photo[90:390, 30:330] * (1 - ink[..., None] * 0.8) + ink[..., None] * 0.8 * (30, 35, 70)
    upright = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.2))
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.transpose(Image.Transpose.ROTATE_90).save(folder / "photo-4.jpg", "JPEG", quality=85, exif=exif.tobytes())
    return dict(EXAMPLE_DIGITS)


def _canvas_model(name: str = "cnn-bn"):
    import onnxruntime as ort

    path = Path(__file__).resolve().parents[1] / "models" / f"{name}-canvas.onnx"
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_the_committed_examples_are_read_as_their_digit(client):
    from demo.tabs.digits import EXAMPLE_PICTURES

    assert set(EXAMPLE_PICTURES) == set(EXAMPLE_DIGITS)
    for name, digit in EXAMPLE_DIGITS.items():
        label, _, _ = client.predict(handle_file(str(EXAMPLES_DIR / name)), api_name="/classify_digit")
        assert _top(label) == digit, name


def test_a_jpeg_with_exif_orientation_6_is_read_upright(client, tmp_path):
    """The photo's stored pixels lie sideways (and are not read as a 4); with its EXIF applied it is a 4."""
    made = make_examples(tmp_path) if _has_dejavu() else None
    for path in [EXAMPLES_DIR / "photo-4.jpg"] + ([tmp_path / "photo-4.jpg"] if made else []):
        with Image.open(path) as photo:
            assert photo.format == "JPEG" and photo.getexif()[0x0112] == 6
            assert photo.size == (480, 360)  # stored landscape: a portrait photo on its side
            sideways = np.asarray(photo.convert("RGBA"))
        probabilities = _canvas_model().run(None, {"image": sideways})[0][0]
        assert int(probabilities.argmax()) != 4, "the sideways pixels alone already read as 4: the test proves nothing"
        label, _, _ = client.predict(handle_file(str(path)), api_name="/classify_digit")
        assert _top(label) == "4"


def _has_dejavu() -> bool:
    from PIL import ImageFont

    try:
        ImageFont.truetype("DejaVuSerif.ttf", 10)
    except OSError:
        return False
    return True


def test_the_frame_comes_back_losslessly(client, digit_files):
    """The 28x28 frame as PNG, every pixel as the canvas model gives it (scaled 6x for the page)."""
    for k in (0, 6):
        _, frame_path, _ = client.predict(handle_file(str(digit_files[k])), api_name="/classify_digit")
        with Image.open(frame_path) as frame:
            assert frame.format == "PNG"
            shown = np.asarray(frame.convert("L"))
        rgba = np.asarray(Image.open(digit_files[k]).convert("RGBA"))
        expected = (_canvas_model().run(None, {"image": rgba})[1] * 255).astype(np.uint8)
        assert np.array_equal(shown, np.kron(expected, np.ones((6, 6), np.uint8)))


def test_sampled_generation_follows_its_seed(client):
    args = ("charseq", "if", 40, 1.5)
    first = client.predict(*args, 7, api_name="/generate_text")
    assert client.predict(*args, 7, api_name="/generate_text") == first  # the same seed, the same text
    assert client.predict(*args, 8, api_name="/generate_text") != first
    # left out, the seed is 0: a caller of the four-input API gets what it got before
    assert client.predict(*args, api_name="/generate_text") == client.predict(*args, 0, api_name="/generate_text")


def test_a_raw_http_call_may_leave_the_seed_out(demo_url, client):
    from tests.servers import HttpApi

    api = HttpApi(demo_url)
    try:
        (text,) = api.call("generate_text", "charseq", "if", 30, 1.0)
    finally:
        api.close()
    assert text == client.predict("charseq", "if", 30, 1.0, 0, api_name="/generate_text")


@pytest.mark.parametrize("seed", [2.5, -1, 2**32, "abc"])
def test_a_bad_seed_is_explained(client, seed):
    _assert_error(lambda: client.predict("charseq", "if", 5, 1.0, seed, api_name="/generate_text"),
                  r"seed must be a whole number from 0 to 4,294,967,295")  # fmt: skip


def test_the_api_page_keeps_generate_text_signature(client):
    params = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/generate_text"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["model", "prefix", "length", "temperature", "seed"]
    assert params[-1]["parameter_has_default"] and params[-1]["parameter_default"] == 0
