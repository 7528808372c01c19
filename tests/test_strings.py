"""The demo's words (demo/strings.py): every sentence in English and in Korean, with the same blanks, Korean in
the lectures' terms, and no visible text of the app left outside the tables."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from gradio.i18n import I18nData

from demo.strings import EN, KO, STATIC, TABLES, english, i18n, language, message, say

ROOT = Path(__file__).resolve().parents[1]
# Words that stay as they are in Korean: names of models, files, libraries, formats, and code.
KEPT = {
    "lecture", "zoo", "onnx", "runtime", "pytorch", "mnist", "cnn", "cnns", "rnn", "rnns", "gru", "int8", "exif",
    "png", "jpeg", "gif", "bmp", "tiff", "webp", "pillow", "metacode", "bceloss", "adam", "crossentropyloss",
    "relu", "weight", "bias", "max", "exp", "log", "tanh", "logit", "hihello", "charseq", "longseq", "probe", "web", "train", "ms",
    "px", "b_ih", "b_hh", "b_in", "b_hn", "w_xh", "w_hh", "w_in", "w_hn", "h_t", "x_t", "z_t", "r_t", "n_t",
    "ch", "api", "ico", "icns",
}  # fmt: skip


def _blanks(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_every_sentence_is_in_both_languages_with_the_same_blanks():
    assert set(EN) == set(KO), f"only English: {sorted(set(EN) - set(KO))}; only Korean: {sorted(set(KO) - set(EN))}"
    for key in EN:
        assert EN[key].strip() and KO[key].strip(), key
        assert _blanks(EN[key]) == _blanks(KO[key]), key


def test_korean_uses_the_lectures_terms_and_leaves_no_english_word():
    for key, text in KO.items():
        words = re.sub(r"\{[^}]*\}|\[[^\]]*\]\([^)]*\)|`[^`]*`", " ", text)  # blanks, links' targets, code
        english_words = [
            w for w in re.findall(r"[A-Za-z][A-Za-z_0-9]{2,}", words) if w.lower() not in KEPT and "_" not in w
        ]
        assert not english_words, f"{key}: {english_words} in {text!r}"
    korean = " ".join(KO.values())
    for term in (
        "합성곱",
        "커널",
        "필터",
        "스트라이드",
        "패딩",
        "풀링",
        "은닉 상태",
        "교차 엔트로피",
        "소프트맥스",
        "편향",
    ):
        assert term in korean, term


def test_the_browser_tables_hold_every_fixed_sentence_filled_in():
    tables = i18n().translations_dict
    assert set(tables) == set(TABLES)
    for lang, table in tables.items():
        for key, text in table.items():
            assert "{" not in text and "}" not in text, (lang, key, text)  # ICU would read a blank there
    assert tables["ko"]["text.text_info"] == KO["text.text_info"].format(**STATIC)


def test_messages_follow_the_request_language():
    class Request:
        def __init__(self, header: str):
            self.headers = {"accept-language": header}

    assert language(Request("ko-KR,ko;q=0.9,en;q=0.8")) == "ko"
    assert language(Request("en-US,en;q=0.9,ko;q=0.8")) == "en"
    assert language(Request("fr-FR,fr;q=0.9")) == "en" and language(None) == "en"
    from demo.runtime import BadRequest
    from zoo.pictures import BLANK

    assert message(ValueError(BLANK), "ko") == KO["error.blank"]
    error = BadRequest("The seed must be ...", "error.seed", top="9", got="-1")
    assert message(error, "ko") == say("ko", "error.seed", top="9", got="-1") and message(error, "en") == str(error)
    assert english(I18nData("common.model")) == "model"


@pytest.fixture(scope="module")
def app():
    from demo.app import build_app

    return build_app(ROOT / "models")


def _visible_texts(app) -> list[tuple[str, str, object]]:
    """(component, property, value) for every text a reader sees: labels, notes, buttons, tabs, Markdown."""
    import gradio as gr

    texts = []
    for block in app.blocks.values():
        if getattr(block, "visible", True) is False:
            continue
        for prop in ("label", "info", "placeholder"):
            value = getattr(block, prop, None)
            if value is not None:  # a hidden label too: a screen reader reads it
                texts.append((type(block).__name__, prop, value))
        if isinstance(block, (gr.Markdown, gr.Button)):
            texts.append((type(block).__name__, "value", block.value))
    return texts


def test_no_visible_text_of_the_app_is_left_untranslated(app):
    from demo.runtime import Zoo

    models = set(Zoo(ROOT / "models").models)
    left = []
    for component, prop, value in _visible_texts(app):
        if value is None or isinstance(value, (I18nData, int, float)):
            continue
        text = str(value)
        if "__i18n__" in text or text in models or not re.search(r"[A-Za-z]{2,}", text):
            continue
        left.append((component, prop, text))
    assert not left, left


def test_a_picture_the_app_cannot_read_is_explained_in_the_readers_language(tmp_path):
    """Each way a picture is refused (not an image, truncated, too many pixels, an oversized icon, a drawing
    larger than a screen) carries its sentence's key: English as raised, Korean from the table, same numbers."""
    import io
    import struct
    import zlib

    import numpy as np
    from PIL import Image

    from demo.images import NotADigit, to_rgba

    text = tmp_path / "notes.png"
    text.write_bytes(b"not a picture at all")
    whole = io.BytesIO()
    Image.fromarray(np.full((300, 400, 3), 200, np.uint8)).save(whole, "PNG")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    png = whole.getvalue()

    def header_says(width: int, height: int) -> io.BytesIO:  # a PNG whose header names another size
        ihdr = struct.pack(">II", width, height) + png[24:29]
        return io.BytesIO(png[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + png[33:])

    cases = {
        "error.not_image": (text, {}),
        "error.damaged": (truncated, {}),
        "error.too_many_pixels": (header_says(8000, 6000), {}),  # 48 MP: over the app's limit
        "error.too_large": (header_says(20000, 20000), {}),  # 400 MP: over Pillow's own, found as it opens
        "error.sketch_too_large": (io.BytesIO(png), {"max_side": 100}),
    }
    for key, (picture, options) in cases.items():
        with pytest.raises(NotADigit) as refused:
            to_rgba(picture, **options)
        error = refused.value
        assert error.key == key, (key, str(error))
        assert message(error, "en") == str(error) == EN[key].format(**error.values)
        korean = message(error, "ko")
        assert korean == KO[key].format(**error.values) and re.search("[가-힣]", korean), korean
        for value in error.values.values():
            assert str(value) in korean
