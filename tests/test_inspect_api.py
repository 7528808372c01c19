"""The demo's Inside endpoints through gradio_client against `python -m demo`: /inspect_digit and /inspect_text
answer every layer the manifest lists for the model's probe, in its shapes, with the values the probe model gives
when Python's ONNX Runtime runs it on the same pixels or text; bad input gets the same messages as
/classify_digit and /predict_text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from zoo.corpora import encode

pytestmark = pytest.mark.slow
MODELS = Path(__file__).resolve().parents[1] / "models"
TOLERANCE = 1e-4
FLOAT_DIGIT_MODELS = ("mlp", "cnn", "cnn-small", "cnn-bn")
TEXTS = {"hihello": "hihell", "charseq": "if you wan", "longseq": "if you want to build a ship, don't drum up",
         "longseq-gru": "teach them to long for the endless immensity of the sea"}  # fmt: skip


@pytest.fixture(scope="module")
def client(demo_url):
    return Client(demo_url, verbose=False)


@pytest.fixture(scope="module")
def entries() -> dict[str, dict]:
    return {e["name"]: e for e in json.loads((MODELS / "manifest.json").read_text())["models"]}


def _probe(entries: dict, name: str, feeds: dict) -> dict[str, np.ndarray]:
    """The probe model `<name>-probe` run here by ONNX Runtime: {output name: values}."""
    session = ort.InferenceSession(str(MODELS / entries[f"{name}-probe"]["file"]), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds), strict=True))


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory) -> dict[int, Path]:
    """Real test digits as a user would upload them: enlarged, black on white PNG."""
    from zoo.data import load_mnist5k

    data = load_mnist5k()
    folder = tmp_path_factory.mktemp("digits")
    files = {}
    for k in (1, 4, 7):
        x = data.x_test[np.flatnonzero(data.y_test == k)[2]]
        big = np.asarray(Image.fromarray(x).resize((280, 280), Image.Resampling.BILINEAR))
        Image.fromarray(255 - big).save(folder / f"{k}.png")
        files[k] = folder / f"{k}.png"
    return files


def _assert_error(call, pattern: str):
    with pytest.raises(AppError) as raised:
        call()
    assert re.search(pattern, str(raised.value)), str(raised.value)


def _assert_layers_equal(layers: list[dict], probe_layers: list[dict], outputs: dict, shape_of) -> None:
    """Every layer the manifest lists, in its order, its shape, and the probe's values within TOLERANCE."""
    assert [layer["name"] for layer in layers] == [spec["name"] for spec in probe_layers]
    for layer, spec in zip(layers, probe_layers, strict=True):
        assert (layer["module"], layer["op"]) == (spec["module"], spec["op"]), layer["name"]
        assert layer["shape"] == shape_of(spec), layer["name"]
        values = np.array(layer["values"], dtype=np.float64)  # nested lists in the layer's shape
        assert list(values.shape) == layer["shape"], layer["name"]
        expected = outputs[spec["name"]].reshape(values.shape)
        worst = float(np.abs(values - expected).max())
        assert worst <= TOLERANCE, f"{layer['name']}: worst difference {worst:.2e}"


# ----------------------------------------------------------------------------- digits


@pytest.mark.parametrize("model", FLOAT_DIGIT_MODELS)
def test_inspect_digit_answers_every_layer_as_the_probe_computes_it(client, entries, digit_files, model):
    for digit, path in digit_files.items():
        answer = client.predict(handle_file(str(path)), model, api_name="/inspect_digit")
        assert (answer["model"], answer["asked"], answer["note"]) == (model, model, "")
        outputs = _probe(entries, model, {"image": np.asarray(Image.open(path).convert("RGBA"))})
        probe = entries[f"{model}-probe"]
        _assert_layers_equal(answer["layers"], probe["layers"], outputs, lambda spec: list(spec["shape"]))
        probabilities = outputs["probabilities"][0]
        assert answer["label"] == probe["labels"][int(probabilities.argmax())] == str(digit)
        assert np.allclose([answer["confidences"][label] for label in probe["labels"]], probabilities, atol=TOLERANCE)


def test_cnn_bn_shows_at_least_eight_layers_with_the_manifest_shapes(client, entries, digit_files):
    answer = client.predict(handle_file(str(digit_files[7])), api_name="/inspect_digit")  # the default model
    assert answer["model"] == "cnn-bn" and answer["label"] == "7"
    shown = [layer for layer in answer["layers"] if layer["op"] != "Input"]
    assert len(shown) >= 8
    assert {"Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Linear", "Softmax"} <= {layer["op"] for layer in shown}
    by_name = {layer["name"]: layer for layer in answer["layers"]}
    conv1 = by_name["conv1"]
    assert conv1["shape"] == [25, 28, 28] and conv1["kernel"] == [3, 3] and conv1["params"]["weight"] == "0.weight"


def test_an_int8_model_is_shown_through_its_float_model(client, entries, digit_files):
    answer = client.predict(handle_file(str(digit_files[4])), "cnn-int8", api_name="/inspect_digit")
    assert answer["model"] == "cnn" and answer["asked"] == "cnn-int8"
    assert "float models" in answer["note"] and "cnn-int8 is cnn quantised to INT8" in answer["note"]
    outputs = _probe(entries, "cnn", {"image": np.asarray(Image.open(digit_files[4]).convert("RGBA"))})
    _assert_layers_equal(answer["layers"], entries["cnn-probe"]["layers"], outputs, lambda spec: list(spec["shape"]))


def test_inspect_digit_keeps_classify_digit_answer(client, digit_files):
    label, _, _ = client.predict(handle_file(str(digit_files[1])), "cnn-small", api_name="/classify_digit")
    answer = client.predict(handle_file(str(digit_files[1])), "cnn-small", api_name="/inspect_digit")
    assert answer["label"] == label["label"] == "1"


def test_inspect_digit_bad_input(client, tmp_path):
    blank, text = tmp_path / "blank.png", tmp_path / "notes.png"
    Image.new("RGB", (300, 300), "white").save(blank)
    text.write_text("certainly not a PNG")
    _assert_error(
        lambda: client.predict(handle_file(str(blank)), api_name="/inspect_digit"), "No ink found.*Draw a digit"
    )
    _assert_error(
        lambda: client.predict(handle_file(str(text)), api_name="/inspect_digit"), "is not an image.*Upload a PNG"
    )
    _assert_error(lambda: client.predict(handle_file(str(blank)), "resnet", api_name="/inspect_digit"),
                  "resnet is not in the list of choices.*cnn-bn")  # fmt: skip
    _assert_error(lambda: client.predict(None, api_name="/inspect_digit"), "No image was sent")


def test_inspect_digit_reads_only_uploads_and_answers_strict_json(demo_url, digit_files):
    """Over raw HTTP: a path on the server that was not uploaded is refused with demo/guard.py's message; the
    answer's JSON parses with NaN and Infinity refused."""
    import httpx

    from demo.guard import NOT_UPLOADED
    from tests.servers import ApiError, HttpApi

    api = HttpApi(demo_url)
    try:
        with pytest.raises(ApiError, match=re.escape(NOT_UPLOADED[:40])):
            api.call("inspect_digit", {"path": "/etc/hostname", "meta": {"_type": "gradio.FileData"}}, "cnn-bn")
        file = api.upload("seven.png", digit_files[7].read_bytes())
        base = demo_url.rstrip("/") + "/gradio_api/call/inspect_digit"
        event_id = httpx.post(base, json={"data": [file, "cnn-bn"]}, timeout=60).json()["event_id"]
        stream = httpx.get(f"{base}/{event_id}", timeout=60).text
    finally:
        api.close()
    data = [line[6:] for line in stream.splitlines() if line.startswith("data: ")][-1]

    def refuse(constant: str):
        raise AssertionError(f"{constant} in the JSON answer")

    (answer,) = json.loads(data, parse_constant=refuse)
    assert answer["label"] == "7" and all(layer["values"] is not None for layer in answer["layers"])


# ----------------------------------------------------------------------------- text


@pytest.mark.parametrize("model", list(TEXTS))
def test_inspect_text_equals_the_probe(client, entries, model):
    text = TEXTS[model]
    answer = client.predict(model, text, api_name="/inspect_text")
    assert (answer["model"], answer["text"]) == (model, text)
    assert answer["vocab"] == entries[model]["vocab"]
    outputs = _probe(entries, model, {"indices": np.array([encode(text, answer["vocab"])], dtype=np.int64)})
    probe_layers = entries[f"{model}-probe"]["layers"]
    _assert_layers_equal(answer["layers"], probe_layers, outputs, lambda spec: [len(text), *spec["shape"]])
    hidden = [layer["name"] for layer in answer["layers"] if layer["op"] in ("RNN", "GRU")]
    assert "rnn_l0" in hidden
    predicted, _ = client.predict(model, text, api_name="/predict_text")
    assert answer["predicted"] == predicted


@pytest.mark.parametrize(
    "args, pattern",
    [
        (("hihello", "hello world"), r"does not know the characters ' ', 'd', 'r', 'w'.*knows only"),
        (("hihello", ""), "The text is empty"),
        (("hihello", "h" * 2000), "2,000 characters long; the limit is 1,000"),
        (("gpt", "hi"), "gpt is not in the list of choices.*hihello"),
    ],
)
def test_inspect_text_bad_input(client, args, pattern):
    _assert_error(lambda: client.predict(*args, api_name="/inspect_text"), pattern)


def test_the_api_page_lists_the_inside_endpoints(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    digit = endpoints["/inspect_digit"]["parameters"]
    assert [p["parameter_name"] for p in digit] == ["image", "model"] and digit[1]["parameter_default"] == "cnn-bn"
    assert [p["parameter_name"] for p in endpoints["/inspect_text"]["parameters"]] == ["model", "text"]
