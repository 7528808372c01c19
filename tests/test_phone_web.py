"""The page at /web/ on a 360 px and a 400 px phone (touch) and a 1280 px desktop, in Chromium: nothing wider
than the screen, the picked cell's worked sum on the first screen after the tap, the channel enlarged, the text
Inside view's character labels over their own columns for a 150-character text, the answer over the drawing,
the 0-9 labels under the output strips, and the Train tab's plot just under its buttons."""

from __future__ import annotations

import pytest

from tests.browser import block_outside, draw_seven
from tests.test_web import ROOT, browser, needs_ort  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_ort]
WIDTHS = [360, 400, 1280]
# the first 150 characters of the longseq lecture's sentence
SENTENCE = (
    "if you want to build a ship, don't drum up people together to collect wood and don't assign them tasks and work, "
    "but rather teach them to long for the endless immensity of the sea."
)[:150]

# Every visible element that reaches past the screen's right or left edge (the sheet's hidden parts aside).
WIDER_THAN_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')].filter((e) => {
    if (!e.getClientRects().length || getComputedStyle(e).visibility === 'hidden') return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && (r.right > width + 1 || r.left < -1);
  }).slice(0, 8).map((e) => `${e.tagName.toLowerCase()}.${e.className}#${e.id}: ${Math.round(e.getBoundingClientRect().left)}..${Math.round(e.getBoundingClientRect().right)}`);
}"""


@pytest.fixture(scope="module", params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def screen(request, browser, demo_url):  # noqa: F811
    width = request.param
    phone = width < 700
    context = browser.new_context(
        viewport={"width": width, "height": 800 if phone else 900}, has_touch=phone, is_mobile=phone
    )
    page = context.new_page()
    aborted = block_outside(page, demo_url.rstrip("/"))
    page.goto(demo_url + "web/?lang=en")
    page.wait_for_function("document.body.dataset.ready || document.body.dataset.error", timeout=120_000)
    assert not page.evaluate("document.body.dataset.error")
    yield page, width, phone
    assert aborted == []
    context.close()


def _fits(page, width: int, where: str) -> None:
    scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll[0] <= scroll[1] == width, f"{where}: the page is {scroll[0]} px wide on a {width} px screen"
    wide = page.evaluate(WIDER_THAN_SCREEN)
    assert wide == [], f"{where}: wider than the {width} px screen: {wide}"


def _tap(page, phone: bool, locator, fx: float, fy: float) -> None:
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
    if phone:
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)


def test_a_picked_cell_is_explained_on_the_first_screen_and_nothing_is_wider_than_it(screen):
    page, width, phone = screen
    page.click("#tab-digits")
    page.select_option("#digit-model", "cnn-bn")
    draw_seven(page)
    # the answer sits over the drawing, so it is seen while drawing
    answer = page.locator("#answer")
    assert answer.inner_text().startswith("7")
    a, sketch = answer.bounding_box(), page.locator("#sketch").bounding_box()
    assert sketch["x"] <= a["x"] and a["x"] + a["width"] <= sketch["x"] + sketch["width"] + 1
    assert sketch["y"] <= a["y"] and a["y"] + a["height"] <= sketch["y"] + sketch["height"] + 1
    _fits(page, width, "drawn")
    detail = "#digit-inside .inside-detail"
    for layer, fx, fy in [("conv1", 0.45, 0.3), ("conv2", 0.3, 0.2), ("pool2", 0.45, 0.45), ("softmax", 0.75, 0.5)]:
        if phone and page.locator(detail).is_visible():  # the sheet covers the screen's lower part: closed first
            page.locator(f"{detail} .sheet-close").tap()
        _tap(page, phone, page.locator(f"#digit-inside figure.layer[data-layer='{layer}'] .layer-overlay"), fx, fy)
        page.wait_for_function(
            f"document.querySelector('{detail}').dataset.layer === '{layer}' && document.querySelector('{detail} h4')"
        )
        page.wait_for_timeout(100)
        # the worked sum's heading and its result line are on the screen, not below it
        height = page.evaluate("innerHeight")
        for part in [f"{detail} h4", f"{detail} .sum"]:
            box = page.locator(part).first.bounding_box()
            assert box and box["y"] >= 0 and box["y"] + min(box["height"], 20) <= height, (layer, part, box, height)
        _fits(page, width, f"{layer} picked")
        if layer in ("conv1", "conv2"):
            # its channel enlarged beside the window it reads: a cell at least 7 px (1.4 px on the tile)
            zoom = page.locator(f"{detail} canvas.zoom-this").bounding_box()
            assert zoom and zoom["width"] / (28 if layer == "conv1" else 14) >= 7
            assert page.locator(f"{detail} canvas.zoom-below").is_visible()
            # a tap there picks one of its cells
            c = page.evaluate(f"JSON.parse(document.querySelector('{detail}').dataset.cell)[0]")
            _tap(page, phone, page.locator(f"{detail} canvas.zoom-this"), 0.55, 0.45)
            page.wait_for_function(f"JSON.parse(document.querySelector('{detail}').dataset.cell)[1] === "
                                   f"Math.floor(0.45 * {28 if layer == 'conv1' else 14})")  # fmt: skip
            assert page.evaluate(f"JSON.parse(document.querySelector('{detail}').dataset.cell)[0]") == c
        if layer == "softmax":  # ten rows, the winner marked, no column hidden
            assert page.locator(f"{detail} table.softmax tr").count() == 11
            assert page.locator(f"{detail} table.softmax tr.win th").inner_text() == "7"
    # 0-9 under the output strips, each under its own unit
    for layer in ("fc2", "softmax"):
        figure = page.locator(f"#digit-inside figure.layer[data-layer='{layer}']")
        labels = figure.locator(".strip-labels span")
        assert labels.all_inner_texts() == [str(k) for k in range(10)]
        strip = figure.locator("canvas.layer-map").bounding_box()
        for k in (0, 9):
            box = labels.nth(k).bounding_box()
            assert abs(box["x"] + box["width"] / 2 - (strip["x"] + (k + 0.5) * strip["width"] / 10)) <= 2
    if phone:  # the sheet closes
        page.locator(f"{detail} .sheet-close").tap()
        assert not page.locator(detail).is_visible()


def test_text_labels_sit_over_their_columns_for_150_characters(screen):
    page, width, phone = screen
    page.click("#tab-text")
    page.select_option("#text-model", "longseq")
    page.fill("#text-input", SENTENCE)
    page.wait_for_function(f"document.querySelector('#predicted').value.length === {len(SENTENCE)}")
    page.wait_for_function(
        f"document.querySelectorAll('#text-inside figure.layer .heat-chars span').length >= {len(SENTENCE)}"
    )
    offsets = page.evaluate("""() => {
      const out = [];
      for (const canvas of document.querySelectorAll('#text-inside canvas.heat')) {
        const r = canvas.getBoundingClientRect(), start = Number(canvas.dataset.start), n = canvas.width;
        const row = canvas.closest('.heat-row');
        for (const span of row.querySelectorAll('.heat-chars span')) {
          const s = span.getBoundingClientRect(), t = Number(span.dataset.t);
          out.push([t, s.left + s.width / 2 - (r.left + ((t - start + 0.5) * r.width) / n)]);
        }
      }
      return out;
    }""")
    positions = {t for t, _ in offsets}
    assert positions == set(range(len(SENTENCE)))  # every character labelled, in every layer
    worst = max(abs(d) for _, d in offsets)
    assert worst <= 2, f"a label is {worst:.1f} px off its column"
    _fits(page, width, "text")
    # a cell of the first RNN layer: h_t in the lecture's notation, with b = b_ih + b_hh
    heat = page.locator("#text-inside figure.layer[data-layer='rnn_l0'] canvas.heat").first
    _tap(page, phone, heat, 0.5, 0.5)
    page.wait_for_function("document.querySelector('#text-inside .inside-detail [data-sum]')")
    text = page.inner_text("#text-inside .inside-detail")
    assert "h_t = tanh(W_xh x_t + W_hh h_t−1 + b)" in text and "b_ih + b_hh" in text
    written, value = page.evaluate("""() => { const n = document.querySelector('#text-inside .inside-detail [data-sum]');
      return [Number(n.dataset.sum), Number(n.dataset.value)]; }""")  # fmt: skip
    assert abs(written - value) <= 1e-4
    _fits(page, width, "text cell picked")
    page.click("#tab-digits") if not phone else page.tap("#tab-digits")


def test_the_train_plot_is_just_under_its_buttons(screen):
    page, width, phone = screen
    page.click("#tab-train")
    page.wait_for_function("window.zooPage.train.state.runs.length > 0")
    play, plane = page.locator("#t-play").bounding_box(), page.locator("#run-a canvas.plane").bounding_box()
    assert plane["y"] - (play["y"] + play["height"]) <= 360, (play, plane)
    _fits(page, width, "train")
    page.click("#tab-digits")


def test_every_control_is_big_enough_for_a_finger(screen):
    """On a touch screen every button, list and number box is at least 40 px tall (a list was 19 px), on every
    tab; with a mouse the page keeps its compact controls."""
    page, width, phone = screen
    if not phone:
        pytest.skip("a mouse: compact controls")
    small = []
    for tab in ("#tab-digits", "#tab-text", "#tab-train", "#tab-learn"):
        page.click(tab)
        small += page.evaluate("""() => [...document.querySelectorAll(
            'button, select, input[type=number], input[type=text]')]
          .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
          .filter((e) => e.getBoundingClientRect().height < 40)
          .map((e) => `${e.tagName.toLowerCase()}#${e.id}: ${Math.round(e.getBoundingClientRect().height)} px`)""")
    page.click("#tab-digits")
    assert small == [], small
