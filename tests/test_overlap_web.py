"""Every call of the page is safe to overlap with any other (web/zoo.js), in a real Chromium on `python -m demo`.

All the page's sessions live in one onnxruntime-web WebAssembly instance, and a run is not atomic there: these
tests fire hundreds of calls at once, across every kind of call and model, while the page is still starting,
and hold each answer to the same call made alone; run every mnist-5k digit through every digit model; and
open the page at each tab, again and again, with no error shown.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from tests.test_web import browser  # noqa: F401  (the fixture: one Chromium for the module, as in test_web.py)

ROOT = Path(__file__).resolve().parents[1]
TABS = ("", "#digits", "#text", "#train")

# In the page: a stable text for an answer (every number it carries, `ms` left out), and a 28x28 grey picture
# (a digit's bytes, dark ink on white as a scan) as the ImageData a canvas gives.
HELPERS_JS = """
window.__answerText = (answer) => JSON.stringify(answer, (key, value) =>
  key === "ms" ? undefined : ArrayBuffer.isView(value) ? Array.from(value, Number) : value);
window.__digitImage = (b64) => {
  const grey = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), data = new Uint8ClampedArray(4 * grey.length);
  grey.forEach((v, i) => { data.fill(255 - v, 4 * i, 4 * i + 3); data[4 * i + 3] = 255; });
  return new ImageData(data, 28, 28);
};
window.__call = (zoo, call, images) => {
  const [fn, ...args] = call, picture = () => images[args[0]];
  switch (fn) {
    case "classifyDigit": return zoo.classifyDigit(picture(), args[1]);
    case "inspectDigit": return zoo.inspectDigit(picture(), args[1], args[2] ? { epoch: args[2] } : {});
    default: return zoo[fn](...args);
  }
};
window.__settle = (promise, seconds = 300) => Promise.race([promise, new Promise((_, reject) =>
  setTimeout(() => reject(new Error(`no answer in ${seconds} s`)), 1000 * seconds))])
  .then((a) => ({ ok: window.__answerText(a) }), (e) => ({ error: String(e?.message ?? e) }));
"""

# Fired from inside page.js's `window.zoo = zoo`: before the page has loaded or warmed up any model, while its
# own start-up (the default digit model, the blank canvas's answer, the Inside view, the tab opened) runs.
AT_START_JS = """
window.__burst = null;
let zooValue;
Object.defineProperty(window, "zoo", { configurable: true, get: () => zooValue, set(zoo) {
  zooValue = zoo;
  const { images, calls } = window.__plan, pictures = images.map(window.__digitImage);
  window.__burst = { readyWhenFired: document.body.dataset.ready ?? null,
    answers: Promise.all(calls.map((call) => window.__settle(window.__call(zoo, call, pictures)))) };
} });
"""


def _manifest() -> list[dict]:
    return json.loads((ROOT / "models" / "manifest.json").read_text())["models"]


def _mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 mnist-5k digits (train, validation, test), [5000, 28, 28] uint8, and their labels."""
    pytest.importorskip("torch", reason="mnist-5k is read through zoo.data (torch)")
    from zoo.data import load_mnist5k

    data = load_mnist5k()
    return (np.concatenate([data.x_train, data.x_val, data.x_test]),
            np.concatenate([data.y_train, data.y_val, data.y_test]))  # fmt: skip


def _b64(images: np.ndarray) -> list[str]:
    return [base64.b64encode(np.ascontiguousarray(image, np.uint8).tobytes()).decode() for image in images]


def _plan(images: int) -> list[list]:
    """Calls over every model and every kind of call: each digit picture through every digit model, the Inside
    view of each probe, the replay at two epochs; every text model predicted, inspected and continued."""
    entries = _manifest()
    canvas = [e["base_model"] for e in entries if e["kind"] == "canvas" and e["task"] == "digits"]
    probes = [e["base_model"] for e in entries if e["kind"] == "probe" and e["task"] == "digits"]
    replays = [(e["base_model"], e["epochs"]["count"]) for e in entries if e["kind"] == "replay"]
    calls: list[list] = []
    for i in range(images):
        calls += [["classifyDigit", i, m] for m in canvas]
        calls += [["inspectDigit", i, m] for m in probes]
        calls += [["inspectDigit", i, m, 1 + (i * 7) % count] for m, count in replays]
    for e in entries:
        if e["task"] == "text" and e["kind"] == "full":
            vocab = "".join(e["vocab"])
            for k in range(4):
                text = "".join(vocab[(k * 5 + 3 * j) % len(vocab)] for j in range(3 + 7 * k))
                calls += [["predictText", e["name"], text], ["inspectText", e["name"], text]]
                calls.append(["generateText", e["name"], text, 12 + k, [0, 0.8][k % 2], k])
    return calls


def _new_page(browser, url: str, init: str = ""):  # noqa: F811
    """A fresh context at `url`, every outside request aborted; page errors and console errors collected."""
    from tests.browser import block_outside

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    aborted = block_outside(page, url.split("/web/")[0])
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.add_init_script(HELPERS_JS + init)
    page.goto(url)
    return context, page, aborted, errors


def _wait_ready(page) -> None:
    page.wait_for_function("document.body.dataset.ready || document.body.dataset.error", timeout=180_000)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("tab", ["#digits", "#text"])
def test_hundreds_of_calls_at_start_up_answer_as_each_alone(browser, demo_url, tab):  # noqa: F811
    images, _ = _mnist5k()
    picks = images[[112, *range(0, 5000, 263)]]  # 112: the digit that failed first in cnn-bn when runs overlapped
    calls = _plan(len(picks))
    plan = json.dumps({"images": _b64(picks), "calls": calls})
    context, page, aborted, errors = _new_page(
        browser, demo_url + "web/" + tab, f"window.__plan = {plan};" + AT_START_JS
    )
    _wait_ready(page)
    assert page.evaluate("document.body.dataset.error ?? null") is None
    burst = page.evaluate("""async () => ({ readyWhenFired: window.__burst.readyWhenFired,
      answers: await window.__burst.answers })""")
    assert burst["readyWhenFired"] is None  # fired while the page was starting
    alone = page.evaluate("""async () => {
      const { images, calls } = window.__plan, pictures = images.map(window.__digitImage), out = [];
      for (const call of calls) out.push(await window.__settle(window.__call(window.zoo, call, pictures), 30));
      return out;
    }""")
    errors_at_once = [(c, a["error"]) for c, a in zip(calls, burst["answers"], strict=True) if "error" in a]
    errors_alone = [(c, a["error"]) for c, a in zip(calls, alone, strict=True) if "error" in a]
    differ = [c for c, a, b in zip(calls, burst["answers"], alone, strict=True) if a != b]
    kinds = sorted({c[0] for c in calls})
    print(f"{tab}: {len(calls)} calls at once ({', '.join(kinds)}); errors {len(errors_at_once)} at once, "
          f"{len(errors_alone)} alone; answers different from alone: {len(differ)}")  # fmt: skip
    assert len(calls) >= 300 and len(kinds) == 5
    assert errors_at_once == [] and errors_alone == []
    assert differ == []
    assert errors == [] and aborted == []
    context.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("tab", TABS)
def test_the_page_opens_at_each_tab_20_times_with_no_error(browser, demo_url, tab):  # noqa: F811
    failures = []
    for attempt in range(20):
        context, page, aborted, errors = _new_page(browser, demo_url + "web/" + tab)
        _wait_ready(page)
        shown = page.evaluate("document.body.dataset.error ?? null")
        if tab == "#text":  # the prediction of the text tab's first model is on screen, not blank
            page.wait_for_function("document.getElementById('predicted').value || "
                                   "!document.getElementById('text-error').hidden", timeout=60_000)  # fmt: skip
            text_error = page.evaluate("document.getElementById('text-error').hidden ? null : "
                                       "document.getElementById('text-error').textContent")  # fmt: skip
            if text_error or page.evaluate("document.getElementById('predicted').value") != "ihello":
                failures.append((attempt, "text", text_error))
        page.wait_for_function("!window.zooPage.digits.busy", timeout=60_000)
        info = page.evaluate("document.getElementById('digit-info').className")
        if shown or errors or aborted or "error" in info:
            failures.append((attempt, shown, errors, aborted, info))
        context.close()
    print(f"/web/{tab}: 20 loads, {len(failures)} with an error")
    assert failures == []


@pytest.mark.slow
@pytest.mark.browser
def test_all_5000_mnist5k_digits_through_every_digit_model(browser, demo_url):  # noqa: F811
    images, labels = _mnist5k()
    entries = _manifest()
    canvas = [e["base_model"] for e in entries if e["kind"] == "canvas" and e["task"] == "digits"]
    probes = [e["base_model"] for e in entries if e["kind"] == "probe" and e["task"] == "digits"]
    context, page, aborted, errors = _new_page(browser, demo_url + "web/")
    _wait_ready(page)
    page.evaluate("(b64) => { window.__all = b64; }", _b64(images))
    result = page.evaluate(
        """async ([canvas, probes]) => {
      const zoo = window.zoo, out = { errors: [], labels: {}, inspected: {} };
      const pictures = window.__all.map(window.__digitImage);
      for (const model of canvas) {
        out.labels[model] = [];
        for (let i = 0; i < pictures.length; i++) {
          try { out.labels[model].push((await zoo.classifyDigit(pictures[i], model)).label); }
          catch (e) { out.errors.push([model, "classifyDigit", i, e.message]); out.labels[model].push(null); }
        }
      }
      for (const model of probes) {
        out.inspected[model] = [];
        for (let i = 0; i < pictures.length; i++) {
          try {
            const answer = await zoo.inspectDigit(pictures[i], model);
            out.inspected[model].push(answer.layers.every((l) => l.data.length > 0) ? answer.label : "no layers");
          } catch (e) { out.errors.push([model, "inspectDigit", i, e.message]); out.inspected[model].push(null); }
        }
      }
      return out;
    }""",
        [canvas, probes],
    )
    calls = len(images) * (len(canvas) + len(probes))
    truth = [str(y) for y in labels]
    accuracy = {m: np.mean([a == b for a, b in zip(got, truth, strict=True)]) for m, got in result["labels"].items()}
    print(f"{calls} calls ({len(images)} digits x {len(canvas)} canvas models by classifyDigit + {len(probes)} "
          f"probes by inspectDigit), {len(result['errors'])} errors; accuracy on mnist-5k: "
          + ", ".join(f"{m} {100 * a:.2f}%" for m, a in accuracy.items()))  # fmt: skip
    assert result["errors"] == []
    for model in probes:  # the Inside view answers as the canvas model does
        assert result["inspected"][model] == result["labels"][model], model
    assert all(a >= 0.95 for a in accuracy.values()), accuracy
    assert errors == [] and aborted == []
    context.close()
