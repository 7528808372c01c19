"""Chromium for the tests and the benchmarks: Debian's chromium driven by Playwright, every request that
leaves the page's origin aborted and recorded."""

from __future__ import annotations

import shutil

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
