"""The Inside view of the page at /web/ in Chromium (outside requests aborted): what it shows is what the probe
models compute, checked against Python's ONNX Runtime on the same pixels and text."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from tests.browser import canvas_rgba, draw_seven
from tests.test_web import ROOT, browser, needs_ort, opened  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_ort]
MANIFEST = {e["name"]: e for e in json.loads((ROOT / "models" / "manifest.json").read_text())["models"]}
PROBES = [e for e in MANIFEST.values() if e["kind"] == "probe"]
needs_probes = pytest.mark.skipif(not PROBES, reason="no probe models in models/manifest.json yet")


@pytest.fixture(scope="module")
def page(browser, demo_url):  # noqa: F811
    with opened(browser, demo_url + "web/") as page:
        yield page


def _python_probe(name: str, feeds: dict) -> dict[str, np.ndarray]:
    entry = MANIFEST[name]
    session = ort.InferenceSession(str(ROOT / "models" / entry["file"]), providers=["CPUExecutionProvider"])
    return dict(zip(entry["outputs"], session.run(None, feeds), strict=True))


@needs_probes
@pytest.mark.parametrize("model", [e["base_model"] for e in PROBES if e["task"] == "digits"])
def test_inspect_digit_shows_every_layer_as_python_computes_it(page, model):
    page.select_option("#digit-model", model)
    draw_seven(page)
    assert page.evaluate("document.querySelector('#bars').dataset.label") == "7"
    probe = MANIFEST[f"{model}-probe"]
    shown = page.evaluate("""async (model) => {
      const r = await window.zoo.inspectDigit(document.querySelector('#sketch'), model);
      return { label: r.label, layers: r.layers.map((l) => ({ name: l.name, op: l.op, shape: l.shape, data: Array.from(l.data) })) };
    }""", model)  # fmt: skip
    assert [layer["name"] for layer in shown["layers"]] == [layer["name"] for layer in probe["layers"]]
    if model == "cnn-bn":
        assert len(shown["layers"]) >= 8
    python = _python_probe(probe["name"], {"image": canvas_rgba(page)})
    for layer in shown["layers"]:
        want = python[layer["name"]].reshape(-1)
        assert int(np.prod(layer["shape"])) == want.size, layer["name"]
        np.testing.assert_allclose(np.array(layer["data"], np.float32), want, atol=1e-4, err_msg=layer["name"])
    # the page drew every layer with its manifest shape
    figures = page.evaluate("""() => [...document.querySelectorAll('#digit-inside figure.layer')]
      .map((f) => [f.dataset.layer, f.dataset.shape])""")  # fmt: skip
    assert figures == [[layer["name"], ",".join(map(str, layer["shape"]))] for layer in probe["layers"]]


def _hover_cell(page, layer: str, fx: float, fy: float) -> dict:
    """Hover at (fx, fy) of a layer's map (inside a tile, not on the 1 px gaps between tiles)."""
    overlay = page.locator(f"#digit-inside figure.layer[data-layer='{layer}'] .layer-overlay")
    overlay.scroll_into_view_if_needed()
    box = overlay.bounding_box()
    overlay.hover(position={"x": box["width"] * fx, "y": box["height"] * fy})
    page.wait_for_function(f"document.querySelector('#digit-inside .inside-detail').dataset.layer === '{layer}'")
    return page.evaluate("""() => {
      const d = document.querySelector('#digit-inside .inside-detail');
      return { cell: JSON.parse(d.dataset.cell), text: d.innerText,
               sums: [...d.querySelectorAll('[data-sum]')].map((n) => [Number(n.dataset.sum), Number(n.dataset.value)]) };
    }""")


@needs_probes
def test_a_hovered_convolution_cell_is_worked_out_to_its_value(page):
    page.select_option("#digit-model", "cnn-bn")
    draw_seven(page)
    python = _python_probe("cnn-bn-probe", {"image": canvas_rgba(page)})
    for layer, fx, fy in [("conv1", 0.45, 0.3), ("conv2", 0.3, 0.2), ("pool2", 0.45, 0.45), ("fc2", 0.75, 0.5)]:
        detail = _hover_cell(page, layer, fx, fy)
        c, y, x = detail["cell"]
        value = python[layer][0, c, y, x] if python[layer].ndim == 4 else python[layer][0, c]
        assert detail["sums"], detail["text"]
        written, shown = detail["sums"][0]
        assert abs(written - shown) <= 1e-4 and abs(shown - value) <= 1e-4, (layer, detail["text"])
    conv = _hover_cell(page, "conv1", 0.45, 0.3)["text"]
    assert "bias" in conv and "×" in conv and "batch normalisation" in conv and "ReLU" in conv
    assert "output size = (28 − 3 + 2×1) / 1 + 1 = 28" in page.inner_text(
        "#digit-inside figure.layer[data-layer='conv1']"
    )
    softmax = _hover_cell(page, "softmax", 0.5, 0.5)["text"]
    assert "exp" in softmax and "−log p(7)" in softmax


@needs_probes
@pytest.mark.parametrize("model,text", [("hihello", "hihell"), ("longseq-gru", "if you want to")])
def test_text_heat_maps_equal_the_probe_in_python(page, model, text):
    page.click("#tab-text")
    page.select_option("#text-model", model)
    page.fill("#text-input", text)
    page.wait_for_function(f"document.querySelector('#predicted').value.length === {len(text)}")
    shown = page.evaluate("""async ([model, text]) => {
      const r = await window.zoo.inspectText(model, text);
      return r.layers.map((l) => ({ name: l.name, data: Array.from(l.data) }));
    }""", [model, text])  # fmt: skip
    entry = MANIFEST[model]
    indices = np.array([[entry["vocab"].index(c) for c in text]], np.int64)
    python = _python_probe(f"{model}-probe", {"indices": indices})
    for layer in shown:
        np.testing.assert_allclose(np.array(layer["data"], np.float32), python[layer["name"]].reshape(-1), atol=1e-4)
    heat = page.locator("#text-inside canvas.heat").nth(1)
    heat.scroll_into_view_if_needed()
    box = heat.bounding_box()
    heat.hover(position={"x": box["width"] * 0.7, "y": box["height"] * 0.5})
    page.wait_for_function("document.querySelector('#text-inside [data-sum]')")
    written, value = page.evaluate("""() => { const n = document.querySelector('#text-inside [data-sum]');
      return [Number(n.dataset.sum), Number(n.dataset.value)]; }""")  # fmt: skip
    assert abs(written - value) <= 1e-4
    page.click("#tab-digits")


@needs_probes
def test_inside_works_on_a_phone_sized_screen_with_touch(browser, demo_url):  # noqa: F811
    context = browser.new_context(viewport={"width": 400, "height": 800}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(demo_url + "web/")
    page.wait_for_function("document.body.dataset.ready", timeout=120_000)
    draw_seven(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 400 + 1  # nothing wider than the screen
    overlay = page.locator("#digit-inside figure.layer[data-layer='conv1'] .layer-overlay")
    overlay.scroll_into_view_if_needed()
    box = overlay.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.3)  # inside a tile
    page.wait_for_function("document.querySelector('#digit-inside .inside-detail').dataset.layer === 'conv1'")
    context.close()


def _png_header(width: int, height: int) -> bytes:
    """A PNG's signature and IHDR for a picture of that size (no pixel data: nothing can decode it)."""
    import struct
    import zlib

    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))


def test_an_oversized_upload_is_refused_from_its_header_and_clears_the_answer(page):
    page.click("#tab-digits")
    draw_seven(page)
    assert page.evaluate("document.querySelector('#bars').dataset.label") == "7"
    started = page.evaluate("performance.now()")
    page.set_input_files(
        "#upload", files=[{"name": "huge.png", "mimeType": "image/png", "buffer": _png_header(30000, 30000)}]
    )
    page.wait_for_function("document.querySelector('#digit-info').textContent.includes('30000x30000')")
    assert page.evaluate("performance.now()") - started < 5000
    assert "the limit is 40 megapixels" in page.inner_text("#digit-info")
    assert page.evaluate("document.querySelector('#bars').dataset.label") == ""
    assert page.evaluate("document.querySelectorAll('#bars li').length") == 0


@pytest.mark.parametrize("model,text", [("hihello", "hihello"), ("longseq", "if you want to build a ship")])
def test_the_text_tab_shows_the_cross_entropy_of_every_next_character(page, model, text):
    """−log p of the true next character at every position (the lecture's CrossEntropyLoss, per character), and
    their mean, as Python's ONNX Runtime computes them from the same model."""
    page.click("#tab-text")
    page.select_option("#text-model", model)
    page.fill("#text-input", text)
    page.wait_for_function(f"document.querySelector('#predicted').value.length === {len(text)}")
    page.wait_for_function(f"document.querySelectorAll('#top3 td .loss').length === {len(text)}")
    entry = MANIFEST[model]
    session = ort.InferenceSession(str(ROOT / "models" / entry["file"]), providers=["CPUExecutionProvider"])
    indices = np.array([[entry["vocab"].index(c) for c in text]], np.int64)
    probabilities = dict(zip(entry["outputs"], session.run(None, {"indices": indices}), strict=True))["probabilities"][
        0
    ]
    losses = [-np.log(probabilities[t, indices[0, t + 1]]) for t in range(len(text) - 1)]
    shown = page.evaluate("[...document.querySelectorAll('#top3 td .loss')].map((n) => n.textContent)")
    assert [float(v) for v in shown[:-1]] == pytest.approx(losses, abs=0.006)  # two decimals
    assert shown[-1].strip() == ""  # the last character has no next one
    mean = float(page.inner_text("#text-loss").split(f"{len(losses)} positions that have one: ")[1].split()[0])
    assert mean == pytest.approx(np.mean(losses), abs=6e-5)
    page.click("#tab-digits")
