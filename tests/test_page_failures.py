"""Failures the page at /web/ meets are said on the page, in a sentence (web/messages.js), not only in the
console: checked in Chromium on `python -m demo`, with one file altered on its way to the page."""

from __future__ import annotations

import pytest

from tests.browser import draw_seven
from tests.test_inside_web import _hover_cell
from tests.test_web import browser, opened  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_altered_weights_are_said_in_the_inside_view(browser, demo_url):  # noqa: F811
    with opened(browser, demo_url + "web/") as page:
        page.route("**/web/models/cnn-bn-weights.bin", lambda route: route.fulfill(body=b"\0" * 64))
        page.select_option("#digit-model", "cnn-bn")
        draw_seven(page)
        text = _hover_cell(page, "conv1", 0.45, 0.3)["text"]
        assert "The weights for this arithmetic could not be loaded" in text
        assert "cnn-bn-weights.bin does not match the sha256" in text
        assert page.evaluate("document.body.dataset.error ?? null") is None  # the rest of the page goes on


def test_an_unexpected_failure_is_said_in_the_status_line(browser, demo_url):  # noqa: F811
    with opened(browser, demo_url + "web/") as page:
        page.evaluate("() => { Promise.reject(new Error('a handler failed')); }")
        page.wait_for_function("document.body.dataset.error")
        assert page.locator("#status").inner_text() == (
            "Something went wrong: a handler failed. Reload the page to start again."
        )


def test_chromiums_resize_observer_notice_is_not_a_failure(browser, demo_url):  # noqa: F811
    """Chromium fires a window error event, with no error object, when a ResizeObserver callback changes the
    layout again (quick tab switches, then turning a phone): nothing failed, so the page says nothing; a real
    error thrown by a handler is still said, with one full stop."""
    with opened(browser, demo_url + "web/") as page:
        page.evaluate("""() => window.dispatchEvent(new ErrorEvent("error",
            { message: "ResizeObserver loop completed with undelivered notifications." }))""")
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        assert page.evaluate("document.body.dataset.error ?? null") is None
        page.evaluate("() => { setTimeout(() => { throw new Error('a timer failed.'); }); }")
        page.wait_for_function("document.body.dataset.error")
        assert page.locator("#status").inner_text() == (
            "Something went wrong: Uncaught Error: a timer failed. Reload the page to start again."
        )
