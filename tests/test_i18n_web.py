"""The page's words in Korean and English: one table per language (web/i18n-en.js, web/i18n-ko.js) with the
same keys, every key the page asks for in both, no untranslated string on the page in either language (model
names, numbers and code aside), Korean chosen when the browser prefers it and kept once switched, and Hangul
drawn with the font the page ships (web/hangul.css), not one the machine happens to have."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess

import pytest

from tests.browser import block_outside, draw_seven
from tests.test_web import ROOT, browser, needs_ort  # noqa: F401  (fixtures)

WEB = ROOT / "web"
MANIFEST = json.loads((ROOT / "models" / "manifest.json").read_text())["models"]
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")

TABLES_JS = """Promise.all([import('./web/i18n-en.js'), import('./web/i18n-ko.js')]).then(([en, ko]) => {
  const kinds = (t) => Object.fromEntries(Object.entries(t.default).map(([k, v]) => [k, typeof v]));
  console.log(JSON.stringify({ en: kinds(en), ko: kinds(ko) }));
})"""


@pytest.fixture(scope="module")
def tables() -> dict:
    done = subprocess.run(["node", "--input-type=module", "-e", TABLES_JS], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    return json.loads(done.stdout)


def keys_the_page_asks_for() -> set[str]:
    """t("key") in the page's modules, data-i18n* in its HTML and modules, and the keys made from names: a model
    (model.<name>), a layer's op (op.<Op>), an optimiser (train.name.<name>), a text layer (inside.textLayer.<Op>)."""
    keys: set[str] = set()
    for path in WEB.glob("*.js"):
        lines = path.read_text(encoding="utf-8").splitlines()
        source = "\n".join(
            line for line in lines if not line.lstrip().startswith(("//", "*", "/*"))
        )  # code, not comments
        keys |= set(re.findall(r"\bt\(\s*\"([\w.-]+)\"", source))
        keys |= set(re.findall(r"\bwords\(\"([\w.-]+)\"\)", source))
        keys |= set(re.findall(r"dataset\.i18n\w* = \"([\w.-]+)\"", source))
    keys |= set(re.findall(r'data-i18n(?:-aria|-title)?="([\w.-]+)"', (WEB / "index.html").read_text(encoding="utf-8")))
    for entry in MANIFEST:
        if entry["kind"] == "full":
            keys.add(f"model.{entry['name']}")
        for layer in entry["layers"] if entry["kind"] == "probe" else []:
            keys.add(f"op.{layer['op']}")
            if entry["task"] == "text" and layer["op"] in ("OneHot", "Linear", "Softmax"):
                keys.add(f"inside.textLayer.{layer['op']}")
    keys |= {f"train.name.{name}" for name in ("sgd", "momentum", "rmsprop", "adam")}
    keys |= {f"inside.{k}" for k in ("digit", "logit", "exp", "p", "minusLogP")} | {"text.theText", "text.thePrefix"}
    return keys


@needs_node
def test_both_tables_have_the_same_keys_of_the_same_kind(tables):
    en, ko = tables["en"], tables["ko"]
    assert sorted(set(en) - set(ko)) == [], "keys missing in Korean"
    assert sorted(set(ko) - set(en)) == [], "keys missing in English"
    assert {k: v for k, v in en.items() if ko[k] != v} == {}, (
        "a key is a function in one table and a string in the other"
    )


@needs_node
def test_every_key_the_page_asks_for_is_in_both_tables(tables):
    wanted = keys_the_page_asks_for()
    assert len(wanted) > 150
    for language in ("en", "ko"):
        assert sorted(wanted - set(tables[language])) == [], f"missing in {language}"


def test_the_korean_table_uses_the_lectures_terms():
    korean = (WEB / "i18n-ko.js").read_text(encoding="utf-8")
    for term in ["합성곱", "필터", "커널", "스트라이드", "패딩", "풀링", "은닉 상태", "원-핫", "교차 엔트로피", "소프트맥스",
                 "활성화 함수", "학습률", "에포크", "배치", "편향", "로짓"]:  # fmt: skip
        assert term in korean, term


def test_the_shipped_font_has_every_hangul_character_the_page_writes():
    """web/hangul.css carries a WOFF2 subset; a Korean string with a syllable it lacks fails here (run
    `python web/make_hangul_font.py` to make it again)."""
    from fontTools.ttLib import TTFont

    css = (WEB / "hangul.css").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in css  # the licence travels with the font
    data = re.search(r"url\(data:font/woff2;base64,([A-Za-z0-9+/=]+)\)", css).group(1)
    font = TTFont(io.BytesIO(base64.b64decode(data)))
    assert font["name"].getDebugName(1) == "lecture-zoo Hangul"
    covered = set(map(chr, font.getBestCmap()))
    text = (WEB / "i18n-ko.js").read_text(encoding="utf-8") + (WEB / "index.html").read_text(encoding="utf-8")
    hangul = {c for c in text if "\uac00" <= c <= "\ud7a3" or "\u3130" <= c <= "\u318f"}
    missing = sorted(hangul - covered)
    assert missing == [], f"web/hangul.css lacks {''.join(missing)}: run python web/make_hangul_font.py"
    assert len(base64.b64decode(data)) < 120_000


# ---------------------------------------------------------------------- Chromium

# Words that stay as they are in both languages: names of things, code and units.
KEEP = {
    "adam", "rmsprop", "relu", "rnn", "gru", "cnn", "mlp", "int8", "pytorch", "webassembly", "wasm", "onnxruntime", "web",
    "kb", "ms", "mnist", "tanh", "exp", "log", "max", "linear", "lecture", "zoo", "factor", "sha256", "onnx", "float16",
    "sigmoid", "softmax", "html", "adamw",
}  # fmt: skip
CODE = re.compile(r"\S*[_./=()\[\]0-9·×−+:'\"`]\S*")  # tokens with code's or numbers' characters
SKIP = "#predicted, #generated, #top3, .heat-chars, .heat-units, .strip-labels, .scale, [lang]:not(html)"

VISIBLE_TEXT = """(skip) => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.textContent.trim() || parent.closest(skip) || parent.closest('script, style')) continue;
    if (!parent.getClientRects().length || parent.closest('[hidden]')) continue;
    out.push(node.textContent.trim());
  }
  for (const e of document.querySelectorAll('[aria-label], [title]')) {
    if (e.closest(skip) || !e.getClientRects().length) continue;
    for (const v of [e.getAttribute('aria-label'), e.getAttribute('title')]) if (v) out.push(v);
  }
  for (const o of document.querySelectorAll('option')) out.push(o.textContent.trim());
  out.push(document.title);
  return out;
}"""


def untranslated(texts: list[str], language: str) -> list[str]:
    """Strings left in the other language: Latin words (names and code aside) on the Korean page, Hangul on the
    English one, and any ⟦key⟧ (a key missing from the table)."""
    names = {e["name"] for e in MANIFEST} | {e.get("metrics", {}).get("dataset", "") for e in MANIFEST}
    names |= {layer["name"] for e in MANIFEST if e["kind"] == "probe" for layer in e["layers"]}  # frame, conv1, ...
    bad = []
    for text in texts:
        if "⟦" in text or language == "en" and re.search(r"[\uac00-\ud7a3]", text):
            bad.append(text)
        elif language == "ko":
            rest = re.sub(r"\"[^\"]*\"|'[^']*'", " ", text)  # quoted text: the lecture's sentences, characters
            for name in sorted(filter(None, names), key=len, reverse=True):  # a name, even with a particle: hihello에서
                rest = re.sub(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", " ", rest)
            words = [w for w in rest.split() if not CODE.search(w)]
            latin = [w for w in re.findall(r"[A-Za-z]{2,}", " ".join(words)) if w.lower() not in KEEP]
            if latin:
                bad.append(f"{text!r}: {latin}")
    return bad


def _every_view(page, phone: bool) -> list[str]:
    """Visit every view (a digit drawn, cells picked in several layers, text and its Inside, a few epochs of
    training) and return every visible string seen on the way."""
    seen: list[str] = []
    collect = lambda: seen.extend(page.evaluate(VISIBLE_TEXT, SKIP))  # noqa: E731
    page.select_option("#digit-model", "cnn-bn")
    draw_seven(page)
    collect()
    detail = "#digit-inside .inside-detail"
    for layer in ["frame", "conv1", "bn1", "relu1", "pool1", "conv2", "fc1", "softmax"]:
        if phone and page.locator(detail).is_visible():
            page.locator(f"{detail} .sheet-close").tap()
        overlay = page.locator(f"#digit-inside figure.layer[data-layer='{layer}'] .layer-overlay")
        overlay.scroll_into_view_if_needed()
        box = overlay.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.35)
        page.wait_for_function(
            f"document.querySelector('{detail}').dataset.layer === '{layer}' && !/\\.\\.\\.\\)/.test(document.querySelector('{detail}').innerText)"
        )
        collect()
    page.click("#tab-text")
    for model, text in [
        ("hihello", "hihell"),
        ("longseq", "if you want to build a ship"),
        ("longseq-gru", "if you want"),
    ]:
        page.select_option("#text-model", model)
        page.fill("#text-input", text)
        page.wait_for_function(f"document.querySelector('#predicted').value.length === {len(text)}")
        for _k, heat in enumerate(page.locator("#text-inside canvas.heat").all()[:4]):
            heat.scroll_into_view_if_needed()
            box = heat.bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
            page.wait_for_function("document.querySelector('#text-inside .inside-detail h4')")
            page.wait_for_timeout(150)
            collect()
    page.fill("#text-input", "hix")  # an error, in the page's language
    page.wait_for_function("!document.getElementById('text-error').hidden")
    collect()
    page.fill("#text-input", "hihell")
    page.click("#tab-train")
    page.wait_for_function("window.zooPage.train.state.runs.length > 0")
    page.click("#t-step")
    page.click("#t-compare")
    page.select_option("#t-data", "split")
    page.click("#t-step")
    collect()
    page.click("#t-lecture")
    if any(e["kind"] == "train" for e in MANIFEST):  # the Train models tab: a few epochs, a wrong knob, a digit model
        page.click("#tab-learn")
        page.wait_for_function("window.zooPage.learn.state.trainer !== null", timeout=60_000)
        for k in range(1, 4):
            page.click("#l-step")
            page.wait_for_function(f"window.zooPage.learn.state.lines.length === {k}")
        collect()
        page.click("#l-keep")  # run 1 kept, run 2 one step in: two runs in the legend and the curves
        page.wait_for_function("window.zooPage.learn.state.kept !== null")
        page.click("#l-step")
        page.wait_for_function("window.zooPage.learn.state.run.steps.length === 1")
        collect()
        page.fill("#l-lr", "0")
        page.click("#l-run")
        page.wait_for_function("document.getElementById('l-status').textContent.includes('\"0\"')")
        collect()
        page.select_option("#l-model", "cnn-small")
        page.wait_for_function(
            "window.zooPage.learn.state.entry?.model === 'cnn-small' && !/\\.\\.\\.$/.test(document.getElementById('l-status').textContent)",
            timeout=60_000,
        )
        collect()
        page.select_option("#l-decay", "cosine")  # a digit model's knobs: batch size and decay in the legend
        page.click("#l-step")
        page.wait_for_function("window.zooPage.learn.state.run.steps.length === 1", timeout=60_000)
        collect()
        page.fill("#l-batch", "0")
        page.click("#l-run")
        page.wait_for_function("document.getElementById('l-status').textContent.includes('\"0\"')")
        collect()
        page.fill("#l-batch", "64")
    page.click("#tab-digits")
    return seen


@pytest.mark.slow
@pytest.mark.browser
@needs_ort
@pytest.mark.parametrize("language", ["ko", "en"])
def test_no_untranslated_string_in_either_language(browser, demo_url, language):  # noqa: F811
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="ko-KR" if language == "ko" else "en-US"
    )
    page = context.new_page()
    aborted = block_outside(page, demo_url.rstrip("/"))
    page.goto(demo_url + "web/")  # no ?lang=: the browser's preference chooses
    page.wait_for_function("document.body.dataset.ready || document.body.dataset.error", timeout=120_000)
    assert page.evaluate("document.documentElement.lang") == language
    seen = _every_view(page, phone=False)
    assert len(seen) > 200
    assert not [
        t for t in seen if re.search(r"\bseed\s*0\d\d", t, re.I)
    ]  # models go by their lecture, never a file number
    bad = untranslated(seen, language)
    assert bad == [], f"{len(bad)} untranslated strings on the {language} page: {bad[:12]}"
    assert aborted == []
    context.close()


@pytest.mark.slow
@pytest.mark.browser
@needs_ort
def test_the_switch_changes_the_language_and_the_choice_is_kept(browser, demo_url):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    block_outside(page, demo_url.rstrip("/"))
    page.goto(demo_url + "web/")
    page.wait_for_function("document.body.dataset.ready", timeout=120_000)
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text("#tab-digits") == "Digits"
    draw_seven(page)
    page.click(".languages button[data-lang='ko']")
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert page.inner_text("#tab-digits") == "숫자"
    assert "합성곱" in page.inner_text("#digit-inside figure.layer[data-layer='conv1']")
    assert "출력 크기 = (28 − 3 + 2×1) / 1 + 1 = 28" in page.inner_text("#digit-inside")
    assert "답했습니다" in page.inner_text("#digit-info")
    page.reload()
    page.wait_for_function("document.body.dataset.ready", timeout=120_000)
    assert page.evaluate("document.documentElement.lang") == "ko"  # kept (localStorage)
    assert page.inner_text("#tab-train") == "학습"
    assert page.inner_text("#tab-learn") == "모델 학습"
    if any(e["kind"] == "train" for e in MANIFEST):  # the Train models tab writes its words again on a switch
        page.click("#tab-learn")
        page.wait_for_function("window.zooPage.learn.state.trainer !== null", timeout=60_000)
        assert page.inner_text("#l-run") == "실행" and "학습률" in page.inner_text("#learn")
    page.click(".languages button[data-lang='en']")
    assert page.inner_text("#tab-train") == "Train"
    assert page.inner_text("#tab-learn") == "Train models"
    if any(e["kind"] == "train" for e in MANIFEST):
        assert page.inner_text("#l-run") == "Run" and "learning rate" in page.inner_text("#learn")
        assert "ready" in page.inner_text("#l-status")
    context.close()


@pytest.mark.slow
@pytest.mark.browser
@needs_ort
def test_hangul_is_drawn_with_the_font_the_page_ships(browser, demo_url):  # noqa: F811
    """Chromium's own account of the font that drew each Hangul string: the page's "lecture-zoo Hangul", never
    the machine's Noto Sans CJK (installed here)."""
    context = browser.new_context(viewport={"width": 400, "height": 800}, locale="ko-KR")
    page = context.new_page()
    block_outside(page, demo_url.rstrip("/"))
    page.goto(demo_url + "web/")
    page.wait_for_function("document.body.dataset.ready", timeout=120_000)
    page.evaluate("document.fonts.ready")
    session = context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument")["root"]["nodeId"]
    for selector in ["#tab-digits", "#digit-info", "#digit-inside summary", ".languages button[data-lang='ko']"]:
        node = session.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        hangul = [f for f in fonts if f["familyName"] != "DejaVu Sans" and f["glyphCount"] > 0]
        assert any(f["familyName"] == "lecture-zoo Hangul" for f in fonts), (selector, fonts)
        assert not any("CJK" in f["familyName"] for f in hangul), (selector, fonts)
    context.close()
