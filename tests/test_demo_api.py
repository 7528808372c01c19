"""The demo end to end through gradio_client against `python -m demo` on a free port: every endpoint, and
bad input of every kind, after which the server must still answer a real request."""

from __future__ import annotations

import re
import time

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
    """`python -m demo.soak` at a tiny size: its own server, every request answered, the report printed."""
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run([sys.executable, "-m", "bench.soak", "--requests", "40", "--workers", "4", "--warm-up", "8",
                          "--checkpoints", "2"], capture_output=True, text=True, timeout=600,
                         cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "40 requests from 4 workers: 40 answered correctly, 0 failed or lost" in out.stdout
    assert "| requests done | time | server RSS | files in temp dir |" in out.stdout and "machine: " in out.stdout
