"""A real browser: Chromium driven by Playwright draws a digit on the Sketchpad and reads the prediction.

Screenshots land in test-artifacts/ (look at them: they are the demo as a person sees it).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def log_start(demo_url, demo_log) -> int:
    """Where the server's log stood before this module's first action (what follows is this module's)."""
    return demo_log.stat().st_size


@pytest.fixture(scope="module")
def browser(demo_url, log_start):
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, demo_url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(demo_url, wait_until="networkidle")
    yield page
    page.close()


def _stroke(page, points, box):
    """One mouse stroke through `points` given in [0, 1] of the drawing square at the canvas centre."""
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    side = 0.7 * min(box["width"], box["height"])

    def at(u, v):
        return cx + (u - 0.5) * side, cy + (v - 0.5) * side

    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for (u0, v0), (u1, v1) in zip(points, points[1:], strict=False):
        for t in range(1, 16):
            page.mouse.move(*at(u0 + (u1 - u0) * t / 15, v0 + (v1 - v0) * t / 15))
    page.mouse.up()


# A visible <img> served by the demo (a file from its cache), loaded, at least min_width wide, whose URL ends
# with `name`; its URL, or "" while there is none.
_LOADED_IMAGE = """([min_width, name]) => {
  const img = [...document.querySelectorAll('img')].find(i => {
    const box = i.getBoundingClientRect();
    return box.width >= min_width && i.complete && i.naturalWidth > 0 && i.offsetParent !== null
      && i.src.includes('/gradio_api/file=') && i.src.endsWith(name);
  });
  return img ? img.src : '';
}"""


def _wait_for_image(page, min_width: int, name: str = "") -> str:
    """Wait until the page shows a loaded image from the demo's cache; return its URL."""
    return page.wait_for_function(_LOADED_IMAGE, arg=[min_width, name], timeout=30_000).json_value()


def _cached_file(url: str) -> Path:
    return Path(unquote(url.split("/gradio_api/file=", 1)[1]))


def _prediction(page) -> str:
    label = page.get_by_test_id("label-output-value")
    label.wait_for(timeout=30_000)
    return label.inner_text().strip()


def test_drawing_a_digit_gets_it_recognised(page):
    # no click on the brush: the app selects it on load, so the first stroke draws
    page.get_by_text("select the draw tool to start").wait_for(state="hidden", timeout=30_000)
    canvas = page.locator("canvas").last
    box = canvas.bounding_box()
    _stroke(page, [(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)], box)  # a 7: the bar, then the stem
    page.wait_for_function(
        "() => { const el = document.querySelector('[data-testid=label-output-value]'); return el && el.innerText.trim() }",
        timeout=30_000,
    )
    page.get_by_text("answered in").first.wait_for(timeout=30_000)
    _wait_for_image(page, min_width=100)  # the 28x28 frame, shown larger, loaded before the screenshot
    page.screenshot(path=str(ARTIFACTS / "digits.png"))
    assert _prediction(page) == "7"
    assert "answered in" in page.get_by_text("answered in").first.inner_text()


def test_clearing_the_canvas_asks_for_a_digit_and_keeps_the_brush(page):
    page.get_by_role("button", name="Clear canvas").click()
    # the info line, not the canvas label: "No ink found..." for a blank canvas, or the empty-canvas prompt
    page.get_by_text(re.compile(r"No ink found|Draw a digit on the canvas\.")).first.wait_for(timeout=30_000)
    assert page.locator(".toast-body").count() == 0
    # no click on the brush after Clear either: the next strokes draw (a 1 this time, not the 7 from before)
    page.wait_for_function("document.querySelector('button[aria-label=Brush]')?.classList.contains('highlight')",
                           timeout=10_000)  # fmt: skip
    _stroke(page, [(0.5, 0.1), (0.5, 0.9)], page.locator("canvas").last.bounding_box())
    page.wait_for_function(
        "() => document.querySelector('[data-testid=label-output-value]')?.innerText.trim() === '1'", timeout=30_000
    )


def test_a_stroke_is_one_request_to_the_server(page):
    """Pen up sends one event (the answer and the Inside view together), nothing else that waits on the server."""
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/queue/join" in r.url or "/run/" in r.url else None)
    page.get_by_role("button", name="Clear canvas").click()
    page.wait_for_function("document.querySelector('button[aria-label=Brush]')?.classList.contains('highlight')",
                           timeout=10_000)  # fmt: skip
    page.wait_for_timeout(1500)  # the clear's own request
    sent.clear()
    _stroke(page, [(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)], page.locator("canvas").last.bounding_box())
    page.wait_for_function(
        "() => document.querySelector('[data-testid=label-output-value]')?.innerText.trim() === '7'", timeout=30_000
    )
    page.wait_for_timeout(1500)  # anything sent late
    assert len(sent) == 1 and "/queue/join" in sent[0], sent


# A canvas with a 7 on it, encoded by the page's toBlob right after a pen up (a pointerup) or not: the PNG's bytes,
# the canvas's own pixels, and how many pictures the page encoded at once (not in the browser's idle time).
_ENCODED_CANVAS = """async ([side, penUp]) => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = side;
  const c = canvas.getContext('2d');
  c.lineWidth = side / 24; c.lineCap = 'round';
  c.beginPath(); c.moveTo(side * 0.2, side * 0.2); c.lineTo(side * 0.8, side * 0.2); c.lineTo(side * 0.4, side * 0.9);
  c.stroke();
  if (penUp) window.dispatchEvent(new PointerEvent('pointerup'));
  const toBlob = HTMLCanvasElement.prototype.toBlob, before = toBlob.encoded;
  let called = false;
  const blob = await new Promise((resolve) => { canvas.toBlob(resolve); called = true; });
  const text = (bytes) => { let s = ''; for (let i = 0; i < bytes.length; i += 8192)
    s += String.fromCharCode(...bytes.subarray(i, i + 8192)); return btoa(s); };
  return {png: text(new Uint8Array(await blob.arrayBuffer())), type: blob.type, later: called,
          pixels: text(new Uint8Array(c.getImageData(0, 0, side, side).data.buffer)),
          installed: toBlob.encodesNow === true, now: toBlob.encoded - before};
}"""


@pytest.mark.parametrize(("side", "pen_up", "now"), [(280, True, 1), (280, False, 0), (1100, True, 0)])
def test_the_page_encodes_a_canvas_losslessly(page, side, pen_up, now):
    """The page's own toBlob (demo/tabs/digits.py) encodes a small canvas at once after a pen up (not in the
    browser's idle time), else leaves it to the browser; either way a PNG of exactly the canvas's pixels, through a
    callback as the browser's own."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    if not pen_up:
        page.wait_for_timeout(2100)  # any pen up before has had its 2 s
    got = page.evaluate(_ENCODED_CANVAS, [side, pen_up])
    assert got["installed"] and got["later"] and got["type"] == "image/png"
    assert got["now"] == now
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(got["png"]))).convert("RGBA"))
    pixels = np.frombuffer(base64.b64decode(got["pixels"]), np.uint8).reshape(side, side, 4)
    assert png.shape == pixels.shape and np.array_equal(png, pixels)
    assert pixels[..., 3].max() == 255  # the 7 is there


def test_a_refused_upload_leaves_no_earlier_answer_on_screen(page, tmp_path):
    """A file that is no picture is refused in a toast, and the answer, frame and layers of the drawing shown
    before it go: what stays on screen would otherwise read as the refused file's answer."""
    page.get_by_role("tab", name="Draw").click()
    page.get_by_role("button", name="Clear canvas").click()
    page.get_by_text(re.compile(r"No ink found|Draw a digit on the canvas\.")).first.wait_for(timeout=30_000)
    _stroke(page, [(0.5, 0.1), (0.5, 0.9)], page.locator("canvas").last.bounding_box())  # a 1
    page.wait_for_function(
        "() => document.querySelector('[data-testid=label-output-value]')?.innerText.trim() === '1'", timeout=30_000
    )
    path = tmp_path / "notes.png"
    path.write_text("these are my notes, not a picture")
    page.get_by_role("tab", name="Upload").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_text("Click to Upload").click()
    chooser.value.set_files(str(path))
    page.locator(".toast-body").first.wait_for(timeout=30_000)
    assert "not an image" in page.locator(".toast-body").first.inner_text()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=label-output-value]')?.innerText.trim()", timeout=30_000
    )
    page.get_by_text("Draw a digit on the canvas, or upload").first.wait_for(timeout=30_000)
    assert "answered in" not in page.inner_text("body")
    page.locator(".toast-close").first.click()
    remove = page.get_by_role("button", name="Remove Image")
    if remove.count():
        remove.first.click()


def test_uploading_a_picture_gets_it_recognised(page, tmp_path):
    import numpy as np
    from PIL import Image

    from zoo.data import load_mnist5k

    data = load_mnist5k()
    digit = data.x_test[np.flatnonzero(data.y_test == 3)[5]]
    path = tmp_path / "three.png"
    Image.fromarray(255 - np.asarray(Image.fromarray(digit).resize((300, 300)))).save(path)  # black on white
    page.get_by_role("tab", name="Upload").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_text("Click to Upload").click()
    chooser.value.set_files(str(path))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=label-output-value]')?.innerText.trim() === '3'", timeout=30_000
    )
    # The server deletes cached files soon after use (demo/app.py, FileCache), but keeps an open page's upload:
    # once the answer's own image is gone from the cache, a change of model still re-reads the upload.
    frame = _cached_file(_wait_for_image(page, min_width=100, name="image.png"))  # the 28x28, lossless
    upload = _cached_file(_wait_for_image(page, min_width=100, name="three.png"))
    deadline = time.monotonic() + 60
    while frame.exists() and time.monotonic() < deadline:  # waits for the condition, bounded
        time.sleep(0.2)
    assert not frame.exists(), f"{frame} was not swept from the cache"
    assert upload.exists(), "the open page's upload was swept"
    page.get_by_label("model").first.click()
    page.get_by_role("option", name="cnn-small", exact=True).click()
    page.get_by_text(re.compile(r"cnn-small \(.*answered in")).first.wait_for(timeout=30_000)
    # what cnn-small itself reads in this picture (it is not always right), as the page must show it
    import onnxruntime as ort

    from zoo.pictures import plain_rgba

    session = ort.InferenceSession(str(ROOT / "models" / "cnn-small-canvas.onnx"), providers=["CPUExecutionProvider"])
    expected = str(int(session.run(None, {"image": plain_rgba(Image.open(path))})[0].argmax()))
    assert _prediction(page) == expected
    page.get_by_role("button", name="Remove Image").first.click()  # clearing is not an error
    page.get_by_text("Draw a digit on the canvas, or upload").first.wait_for(timeout=30_000)
    assert page.locator(".toast-body").count() == 0


def test_text_tab_predicts_next_characters(page):
    page.get_by_role("tab", name="Text").click()
    box = page.locator("textarea:visible").first  # the text input: first textbox of the Text tab
    page.wait_for_function(  # the default text's prediction, made on load
        "() => [...document.querySelectorAll('textarea')].some(t => t.value === 'ihello')", timeout=30_000
    )
    box.fill("hihel")
    page.wait_for_function(
        "() => [...document.querySelectorAll('textarea')].some(t => t.value === 'ihell')", timeout=30_000
    )
    box.fill("")  # an emptied box clears the answer quietly: no error toast
    page.wait_for_function(
        "() => ![...document.querySelectorAll('textarea')].some(t => t.value === 'ihell')", timeout=30_000
    )
    assert page.locator(".toast-body").count() == 0
    box.fill("hihel")
    page.wait_for_function(
        "() => [...document.querySelectorAll('textarea')].some(t => t.value === 'ihell')", timeout=30_000
    )
    page.get_by_role("button", name="Continue").click()  # 20 more characters from the step model
    page.wait_for_function(
        "() => [...document.querySelectorAll('textarea')].some(t => t.value.startsWith('hihello') && t.value.length === 25)",
        timeout=30_000,
    )
    page.screenshot(path=str(ARTIFACTS / "text.png"))


def test_points_tab_classifies_a_clicked_point(page):
    page.get_by_role("tab", name="Points").click()
    # wait for the tab to render its plot (a loaded image, 360 px wide) before looking for it
    src = _wait_for_image(page, min_width=200)
    box = page.locator(f'img[src="{src}"]').first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.45)  # near (0, 0.15): inner
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=label-output-value]')].some(e => e.innerText.includes('inner circle'))",
        timeout=30_000,
    )
    page.screenshot(path=str(ARTIFACTS / "points.png"))


def test_no_user_action_left_a_traceback_in_the_log(page, demo_log, log_start):
    # a text the model cannot read is explained in a toast: the user's mistake, not the server's fault
    page.get_by_role("tab", name="Text").click()
    page.locator("textarea:visible").first.fill("hi?")
    page.locator(".toast-body").first.wait_for(timeout=30_000)
    assert "does not know the characters '?'" in page.locator(".toast-body").first.inner_text()
    time.sleep(1)  # the server writes its log after it answers
    with open(demo_log, encoding="utf-8", errors="replace") as log:
        log.seek(log_start)
        written = log.read()
    assert "Traceback" not in written, written[-3000:]


def _english_sentences() -> list[str]:
    """Pieces of the app's English sentences long enough to be sure of (between their blanks)."""
    from demo.strings import EN

    pieces = set()
    for text in EN.values():
        for piece in re.split(r"\{[^}]*\}|\*\*|#+ |\n", text):
            piece = piece.strip(" .,:;()")
            if len(piece) >= 16 and " " in piece:
                pieces.add(piece)
    return sorted(pieces)


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("width", [400, 1280])
def test_a_picked_cell_is_worked_out_under_its_layer(browser, demo_url, lang, width):
    """Digits, Inside: a click on a conv1 cell writes its sum under that layer, in the browser's language, the
    written-out result equal to the model's; Text, Inside: longseq's hidden states and cross-entropy. Nothing is
    wider than the screen; in Korean no sentence of the English table shows. Screenshots in test-artifacts/."""
    locale = {"ko": "ko-KR", "en": "en-US"}[lang]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
    try:
        page = context.new_page()
        page.goto(demo_url, wait_until="networkidle")
        page.wait_for_function("document.querySelector('button[aria-label=Brush]')?.classList.contains('highlight')",
                               timeout=30_000)  # fmt: skip
        canvas = page.locator("canvas").last
        canvas.scroll_into_view_if_needed()
        _stroke(page, [(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)], canvas.bounding_box())
        page.wait_for_function("document.querySelectorAll('.inside-layers img[data-layer]').length > 10",
                               timeout=30_000)  # fmt: skip
        conv1 = page.locator('img[data-layer="1"]')
        conv1.scroll_into_view_if_needed()
        box = conv1.bounding_box()
        natural = page.evaluate("(() => { const i = document.querySelector('img[data-layer=\"1\"]'); "
                                "return [i.naturalWidth, i.naturalHeight]; })()")  # fmt: skip
        # channel 0's map: its top-left corner at (10, 13) of the picture, 2 px a cell (demo/inside.py, grid); row
        # 8, column 14: on the 7's bar, where the products are not all zero
        page.mouse.click(box["x"] + 39 / natural[0] * box["width"], box["y"] + 30 / natural[1] * box["height"])
        page.locator(".cell-sum [data-sum]").first.wait_for(timeout=30_000)
        sums = page.evaluate("[...document.querySelectorAll('.cell-sum [data-sum]')].map(n => [+n.dataset.sum, "
                             "+n.dataset.value])")  # fmt: skip
        assert sums and all(abs(a - b) <= 1e-4 * max(1, abs(b)) for a, b in sums), sums
        explained = page.inner_text(".cell-sum")
        assert ("편향" if lang == "ko" else "(bias)") in explained
        # the sum sits right under its layer, and nothing is wider than the screen
        figure = page.locator("figure:has(img[data-layer='1'])").bounding_box()
        written = page.locator(".cell-sum").bounding_box()
        assert 0 <= written["y"] - (figure["y"] + figure["height"]) < 40, (figure, written)
        assert page.evaluate("document.querySelector('.inside-layers').scrollWidth <= "
                             "document.querySelector('.inside-layers').clientWidth + 1")  # fmt: skip
        top = figure["y"] + page.evaluate("window.scrollY")
        height = written["y"] + written["height"] - figure["y"]
        page.screenshot(path=str(ARTIFACTS / f"gradio-digits-inside-{lang}-{width}.png"), full_page=True,
                        clip={"x": 0, "y": max(0, top - 8), "width": width, "height": min(height + 16, 2400)})  # fmt: skip
        digits_text = page.inner_text("body")

        page.get_by_role("tab", name={"ko": "텍스트", "en": "Text"}[lang]).click()
        page.get_by_label({"ko": "모델", "en": "model"}[lang]).nth(1).click()
        page.get_by_role("option", name="longseq", exact=True).click()
        box = page.locator("textarea:visible").first
        box.fill("if you want to build a ship")
        page.wait_for_function("document.querySelectorAll('.cross-entropy .ce-cell').length > 20", timeout=30_000)
        inside = page.locator(".inside-layers:visible").first
        inside.scroll_into_view_if_needed()
        assert "h_t = tanh(W_xh x_t + W_hh h_t−1 + b)" in page.inner_text("body")
        assert "␣" in page.locator("table:visible").first.inner_text()  # the top-3 table: a space made visible
        shot = inside.bounding_box()
        ce = page.locator(".cross-entropy").bounding_box()
        top = shot["y"] + page.evaluate("window.scrollY")
        page.screenshot(path=str(ARTIFACTS / f"gradio-text-inside-{lang}-{width}.png"), full_page=True,
                        clip={"x": 0, "y": max(0, top - 8), "width": width,
                              "height": min(ce["y"] + ce["height"] - shot["y"] + 16, 2400)})  # fmt: skip
        text_text = page.inner_text("body")
    finally:
        context.close()
    if lang == "ko":
        shown = digits_text + text_text
        left = [piece for piece in _english_sentences() if piece in shown]
        assert not left, left
