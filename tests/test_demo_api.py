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
        (("longseq", "if", 10, 9.0), "Value 9.0 is greater than maximum value 5.0"),  # the slider's own check
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
