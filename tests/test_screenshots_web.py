"""The page's pictures in docs/, as a student sees it: at 400 px (a phone, touch) and 1280 px, in Korean and
in English, the digit Inside view with a convolution cell picked, the text Inside view on the longseq sentence
with a hidden-state cell picked, and the Train tab after the lecture's run. A plain run writes them to
test-artifacts/; `UPDATE_SCREENSHOTS=1` rewrites docs/screenshot-web-*-{ko,en}-{400,1280}.png (and
docs/screenshot-web.png, the first screen)."""

from __future__ import annotations

import os

import pytest

from tests.browser import block_outside, draw_seven
from tests.test_web import ROOT, browser, needs_ort  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_ort]
LONGSEQ = (
    "if you want to build a ship, don't drum up people together to collect wood and don't assign them tasks and work, "
    "but rather teach them to long for the endless immensity of the sea."
)
FOLDER = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts")


@pytest.mark.parametrize("width", [400, 1280])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_screenshots(browser, demo_url, language, width):  # noqa: F811
    phone = width < 700
    context = browser.new_context(viewport={"width": width, "height": 860 if phone else 900}, has_touch=phone,
                                  is_mobile=phone, device_scale_factor=1)  # fmt: skip
    page = context.new_page()
    aborted = block_outside(page, demo_url.rstrip("/"))
    page.goto(demo_url + f"web/?lang={language}")
    page.wait_for_function("document.body.dataset.ready", timeout=120_000)
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.documentElement.lang") == language
    FOLDER.mkdir(exist_ok=True)
    name = lambda what: str(FOLDER / f"screenshot-web-{what}-{language}-{width}.png")  # noqa: E731
    tap = page.touchscreen.tap if phone else page.mouse.click

    # the digit Inside view: a 7, a conv2 cell picked (its channel enlarged, the window on pool1, the worked sum)
    draw_seven(page)
    if (language, width) == ("en", 1280):  # the page's first screen, README.md's first picture
        page.screenshot(path=str(FOLDER / "screenshot-web.png"))
    overlay = page.locator("#digit-inside figure.layer[data-layer='conv2'] .layer-overlay")
    overlay.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -160)")
    box = overlay.bounding_box()
    tap(box["x"] + box["width"] * 0.09, box["y"] + box["height"] * 0.05)  # channel 0, row 5, column 10: on the stroke
    page.wait_for_function("document.querySelector('#digit-inside .inside-detail').dataset.layer === 'conv2'")
    page.wait_for_timeout(300)
    page.screenshot(path=name("inside-digits"))

    # the text Inside view on longseq's sentence, a cell of the second RNN layer picked
    if phone:
        page.locator("#digit-inside .inside-detail .sheet-close").tap()
    page.evaluate("window.scrollTo(0, 0)")
    page.click("#tab-text")
    page.select_option("#text-model", "longseq")
    page.fill("#text-input", LONGSEQ)
    page.wait_for_function(f"document.querySelector('#predicted').value.length === {len(LONGSEQ)}")
    heat = page.locator("#text-inside figure.layer[data-layer='rnn_l1'] canvas.heat").first
    heat.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -40)")
    box = heat.bounding_box()
    tap(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.3)
    page.wait_for_function("document.querySelector('#text-inside .inside-detail [data-sum]')")
    page.wait_for_timeout(200)
    page.screenshot(path=name("inside-text"))

    # the Train tab after the lecture's 1,000 epochs
    if phone:
        page.locator("#text-inside .inside-detail .sheet-close").tap()
    page.evaluate("window.scrollTo(0, 0)")
    page.click("#tab-train")
    page.wait_for_function("window.zooPage.train.state.runs.length > 0")
    page.click("#t-lecture")
    page.click("#t-play")
    page.wait_for_function("Number(document.getElementById('train').dataset.epoch) === 1000", timeout=120_000)
    page.locator("#train").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, document.getElementById('train').getBoundingClientRect().top + scrollY - 8)")
    page.screenshot(path=name("train"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert aborted == []
    context.close()
