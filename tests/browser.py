"""Chromium for the tests and the benchmarks: Debian's chromium driven by Playwright, every request that
leaves the page's origin aborted and recorded."""

from __future__ import annotations

import base64
import shutil

import numpy as np

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


def block_outside(page, origin: str) -> list[str]:
    """Abort every request that leaves `origin`; returns the list of those aborted (for the caller to check)."""
    aborted: list[str] = []

    def handle(route):
        url = route.request.url
        if url.startswith(origin + "/") or url == origin or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            aborted.append(url)
            route.abort()

    page.route("**/*", handle)
    return aborted


def open_page(browser, url: str, origin: str, intercept: bool = True):
    """A new context (cold cache), the page loaded and its first prediction made. Outside requests are aborted
    by interception (`intercept`), or else only recorded: interception turns Chromium's HTTP cache off, so a
    warm-cache measurement blocks them with --host-resolver-rules instead (see BENCH_CHROMIUM_ARGS)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    if intercept:
        aborted = block_outside(page, origin)
    else:
        aborted = []
        page.on("request", lambda r: None if r.url.startswith((origin, "data:", "blob:")) else aborted.append(r.url))
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready || document.body.dataset.error", timeout=120_000)
    error = page.evaluate("document.body.dataset.error")
    if error:
        raise RuntimeError(f"{url}: {error}")
    return context, page, aborted


def draw_seven(page) -> None:
    """Clear the page's canvas (/web/) and draw a 7 with mouse strokes; wait until the Inside view is painted."""
    page.click("#clear")
    box = page.locator("#sketch").bounding_box()
    point = lambda x, y: (box["x"] + x * box["width"], box["y"] + y * box["height"])  # noqa: E731
    page.mouse.move(*point(0.25, 0.2))
    page.mouse.down()
    for x, y in [(0.5, 0.2), (0.75, 0.2), (0.6, 0.5), (0.45, 0.85)]:
        page.mouse.move(*point(x, y), steps=6)
    page.mouse.up()
    page.wait_for_function("!window.zooPage.digits.busy && window.zooPage.digits.log.at(-1).paintMs !== undefined")


def canvas_rgba(page) -> np.ndarray:
    """The drawing canvas's pixels as the page hands them to the model."""
    b64, width, height = page.evaluate("""() => {
      const c = document.querySelector('#sketch'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      let s = ''; for (let i = 0; i < d.data.length; i += 8192) s += String.fromCharCode(...d.data.subarray(i, i + 8192));
      return [btoa(s), c.width, c.height];
    }""")
    return np.frombuffer(base64.b64decode(b64), np.uint8).reshape(height, width, 4)


# A 4100x3000 photo-like picture (grey paper with a fine texture, a thick dark 7), the same pixels in JavaScript
# and numpy: past 2048 px, so the canvas model's thumbnail does Pillow's reduce() 2x2 first.
LARGE_PICTURE_JS = """(() => { const w = 4100, h = 3000, d = new Uint8ClampedArray(4 * w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const bar = y >= 600 && y < 900 && x >= 1200 && x < 2900;
    const stem = y >= 900 && y < 2600 && Math.abs(x - (2900 - Math.floor(((y - 900) * 1200) / 1700))) < 140;
    const v = bar || stem ? 30 : 190 + ((x * 7 + y * 13) % 23), i = 4 * (y * w + x);
    d[i] = d[i + 1] = d[i + 2] = v; d[i + 3] = 255;
  }
  return new ImageData(d, w, h); })()"""


def large_picture() -> np.ndarray:
    y, x = np.mgrid[0:3000, 0:4100]
    bar = (y >= 600) & (y < 900) & (x >= 1200) & (x < 2900)
    stem = (y >= 900) & (y < 2600) & (np.abs(x - (2900 - ((y - 900) * 1200) // 1700)) < 140)
    grey = np.where(bar | stem, 30, 190 + (x * 7 + y * 13) % 23).astype(np.uint8)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])
