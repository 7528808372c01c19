"""The Inside panel of the page's "Train models" view (web/train-inside.js) in Chromium: what it draws is what
the inside file computes from the weights the page is training, the same numbers ONNX Runtime in Python and
PyTorch's forward hooks give from those weights, and it changes as the model learns. Also: every layer of
the 2-layer RNNs, a digit drawn on the pad, nothing wider than a 360 px phone, and what the panel costs a
cnn-small epoch (measured, printed)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from export import train_inside as ti
from export.probe import reference
from tests.test_web import browser, needs_ort  # noqa: F401  (the fixture)
from zoo import manifest as zoo_manifest
from zoo.models import build_model

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_ort]

# What the panel drew last, as plain arrays: the step count, the input, the weights fed and every output.
SHOWN = """() => { const s = window.zooPage.learn.inside.shown; if (!s) return null;
  const plain = (t, dims) => [Array.from(t, Number), Array.from(dims, Number)];
  return { steps: s.steps, model: s.model, x: plain(s.x.data, s.x.dims),
    weights: Object.fromEntries(Object.entries(s.weights).map(([k, v]) => [k, plain(v.data, v.shape)])),
    out: Object.fromEntries(Object.entries(s.out).map(([k, v]) => [k, plain(v.data, v.dims)])) }; }"""
CAUGHT_UP = "window.zooPage.learn.inside.shown?.steps === window.zooPage.learn.state.trainer.steps"


@pytest.fixture(scope="module")
def learn_page(browser, demo_url):  # noqa: F811
    if not any(e["kind"] == "train-inside" for e in zoo_manifest.load(MODELS)):
        pytest.skip("models/manifest.json has no inside files: run python -m export train")
    from tests.test_web import opened

    with opened(browser, demo_url + "web/?lang=en#learn") as page:
        page.wait_for_function("window.zooPage.learn.state.trainer !== null", timeout=60_000)
        yield page


def shown(page) -> dict:
    """The panel's last drawing, its arrays reshaped."""
    raw = page.evaluate(SHOWN)
    array = lambda pair, dtype=np.float32: np.array(pair[0], dtype).reshape(pair[1])  # noqa: E731
    x_type = np.int64 if raw["model"] in {f"{m}-train-inside" for m in ("hihello", "charseq", "longseq", "longseq-gru")} else np.float32  # fmt: skip
    return {"steps": raw["steps"], "model": raw["model"], "x": array(raw["x"], x_type),
            "weights": {k: array(v) for k, v in raw["weights"].items()},
            "out": {k: array(v) for k, v in raw["out"].items()}}  # fmt: skip


def assert_the_graphs_numbers(drawn: dict) -> None:
    """Every output the page drew = ONNX Runtime in Python and PyTorch's hooks, from the page's weights and input."""
    entry = next(e for e in zoo_manifest.load(MODELS) if e["name"] == drawn["model"])
    session = ort.InferenceSession(str(MODELS / entry["file"]), providers=["CPUExecutionProvider"])
    python = dict(zip(entry["outputs"], session.run(None, {"x": drawn["x"], **drawn["weights"]}), strict=True))
    model = build_model(entry["model"]).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(drawn["weights"][name]))
    hooks = reference(entry["task"], model, ti.inside_layers(entry["model"]), drawn["x"])
    assert set(drawn["out"]) == set(entry["outputs"])
    for name, value in drawn["out"].items():
        assert np.abs(value - python[name]).max() <= 1e-5, name
        assert np.abs(value - hooks[name]).max() <= 1e-5, name


def test_the_charseq_runs_hidden_states_are_the_graphs_and_change_as_it_learns(learn_page):
    page = learn_page
    assert page.input_value("#l-model") == "charseq"
    page.wait_for_function(CAUGHT_UP)
    start = shown(page)
    assert start["steps"] == 0 and start["x"].shape == (1, 14)
    assert page.locator("#l-inside-text figure.layer[data-layer='rnn_l0'] canvas.heat").count() >= 1
    assert_the_graphs_numbers(start)
    page.click("#l-run")
    page.wait_for_function("document.getElementById('learn').dataset.done === 'true'", timeout=120_000)
    page.wait_for_function(CAUGHT_UP)  # the last redraw comes after the last step
    end = shown(page)
    assert end["steps"] == 50
    assert_the_graphs_numbers(end)
    assert np.abs(end["out"]["rnn_l0"] - start["out"]["rnn_l0"]).max() > 0.5  # learnt: the states moved
    # the lecture's sentence, predicted at every character after the run: "f you want you"
    vocab = next(e for e in zoo_manifest.load(MODELS) if e["name"] == "charseq-train-inside")["vocab"]
    assert "".join(vocab[i] for i in end["out"]["probabilities"][0].argmax(-1)) == "f you want you"
    # a cell's written-out h_t (inside.js) from the weights drawn equals the graph's value
    page.locator("#l-inside-text figure.layer[data-layer='rnn_l0'] canvas.heat").first.click(
        position={"x": 20, "y": 20}
    )
    page.wait_for_function("document.querySelector('#l-inside-text .inside-detail [data-sum]')")
    written, value = page.evaluate("""() => { const n = document.querySelector('#l-inside-text .inside-detail [data-sum]');
      return [Number(n.dataset.sum), Number(n.dataset.value)]; }""")  # fmt: skip
    assert abs(written - value) <= 1e-4


def test_both_layers_of_the_two_layer_rnns(learn_page):
    page = learn_page
    for model in ("longseq", "longseq-gru"):
        page.select_option("#l-model", model)
        page.wait_for_function(f"window.zooPage.learn.state.entry?.model === '{model}'")
        page.wait_for_function(CAUGHT_UP + f" && window.zooPage.learn.inside.shown.model === '{model}-train-inside'")
        page.click("#l-step")
        page.wait_for_function("window.zooPage.learn.state.trainer.steps === 1")
        page.wait_for_function(CAUGHT_UP)
        drawn = shown(page)
        assert drawn["steps"] == 1 and drawn["x"].shape == (1, 179)  # the sentence the windows are cut from
        assert drawn["out"]["rnn_l0"].shape == drawn["out"]["rnn_l1"].shape == (1, 179, 25)
        assert_the_graphs_numbers(drawn)
        for layer in ("rnn_l0", "rnn_l1", "logits", "probabilities"):
            assert page.locator(f"#l-inside-text figure.layer[data-layer='{layer}']").count() == 1, layer


def test_cnn_smalls_maps_and_kernels_follow_the_steps_and_a_drawn_digit(learn_page):
    page = learn_page
    page.select_option("#l-model", "cnn-small")
    page.wait_for_function("window.zooPage.learn.state.entry?.model === 'cnn-small'")
    page.wait_for_function(CAUGHT_UP + " && window.zooPage.learn.inside.shown.model === 'cnn-small-train-inside'")
    start = shown(page)
    assert start["steps"] == 0 and start["x"].max() > 0.5  # validation digit 0
    assert_the_graphs_numbers(start)
    kernels = page.evaluate("document.getElementById('l-kernels').toDataURL()")
    for _ in range(3):
        page.click("#l-step")
    page.wait_for_function("window.zooPage.learn.state.trainer.steps === 3")
    page.wait_for_function(CAUGHT_UP)
    later = shown(page)
    assert later["steps"] == 3
    assert_the_graphs_numbers(later)
    assert np.array_equal(later["x"], start["x"])  # the same digit, other weights: other maps
    assert np.abs(later["out"]["conv1"] - start["out"]["conv1"]).max() > 1e-3
    assert page.evaluate("document.getElementById('l-kernels').toDataURL()") != kernels
    assert page.locator("#l-inside-digits figure.layer[data-layer='conv1']").count() == 1
    assert page.inner_text("#l-kernels-caption").startswith("conv1's 10 kernels (5×5) after 3 steps")
    # the next validation digit
    page.click("#l-next")
    page.wait_for_function("document.getElementById('l-inside-status').textContent.startsWith('validation digit 1 ')")
    from export import train_graphs as tg

    entry = next(e for e in zoo_manifest.load(MODELS) if e["name"] == "cnn-small-train-adam")
    second = tg.read_digits(entry["training"], MODELS)["val_images"][1].astype(np.float32) / 255
    assert np.allclose(shown(page)["x"][0, 0], second, rtol=0, atol=1e-7)
    # a 1 drawn on the pad: the canvas model's frame of it goes through the network
    box = page.locator("#l-pad").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.85, steps=8)
    page.mouse.up()
    page.wait_for_function("document.getElementById('l-inside-status').textContent.startsWith('your digit')")
    drawn = shown(page)
    assert drawn["x"].sum() > 10 and not np.array_equal(drawn["x"], start["x"])
    assert_the_graphs_numbers(drawn)


def test_nothing_is_wider_than_a_360_px_phone(browser, demo_url):  # noqa: F811
    from tests.browser import block_outside
    from tests.test_phone_web import WIDER_THAN_SCREEN

    context = browser.new_context(viewport={"width": 360, "height": 800}, has_touch=True, is_mobile=True)
    page = context.new_page()
    aborted = block_outside(page, demo_url.rstrip("/"))
    page.goto(demo_url + "web/?lang=ko#learn")
    page.wait_for_function("window.zooPage?.learn.state.trainer", timeout=120_000)
    for model, box in (("charseq", "text"), ("longseq", "text"), ("cnn-small", "digits")):
        page.select_option("#l-model", model)
        page.wait_for_function(CAUGHT_UP + f" && window.zooPage.learn.inside.shown.model === '{model}-train-inside'")
        assert page.locator(f"#l-inside-{box} figure.layer").count() >= 3
        wide = page.evaluate(WIDER_THAN_SCREEN)
        assert wide == [], f"{model}: wider than the 360 px screen: {wide}"
        scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll[0] <= scroll[1] == 360
        folder = ROOT / "test-artifacts"
        folder.mkdir(exist_ok=True)
        page.locator("#l-inside").screenshot(path=str(folder / f"screenshot-train-inside-{model}-360.png"))
    assert "⟦" not in page.inner_text("#l-inside")  # every word translated
    assert aborted == []
    context.close()


SECONDS = re.compile(r"\(([\d.]+) s\)$")


def test_what_the_panel_costs_a_cnn_small_epoch(learn_page):
    """One epoch of cnn-small with the panel closed, open, closed again: printed (the machine is shared, so the
    epochs' seconds move with its load). Held: the panel redraws during the epoch, and its own work (the inside
    file's runs and the drawing, timed in the page) is at most a tenth of the epoch's time."""
    from zoo.machine import describe

    page = learn_page
    page.select_option("#l-model", "cnn-small")
    page.wait_for_function("window.zooPage.learn.state.entry?.model === 'cnn-small'")
    page.fill("#l-epochs", "1")
    seconds, work = {}, {}
    for panel in ("closed", "open", "closed again"):
        page.click("#l-reset")
        page.evaluate(f"document.getElementById('l-inside').open = {'false' if 'closed' in panel else 'true'}")
        redraws = page.evaluate("window.zooPage.learn.inside.log.length")
        page.click("#l-run")
        page.wait_for_function("document.getElementById('learn').dataset.done === 'true'", timeout=600_000)
        line = page.evaluate("window.zooPage.learn.state.lines.at(-1)")
        log = page.evaluate(f"window.zooPage.learn.inside.log.slice({redraws})")
        seconds[panel] = float(SECONDS.search(line).group(1))
        work[panel] = (len(log), sum(r["runMs"] + r["paintMs"] for r in log) / 1000)
        runs, paints = [r["runMs"] for r in log] or [0], [r["paintMs"] for r in log] or [0]
        print(f"\ncnn-small, 1 epoch (55 steps), panel {panel}: {seconds[panel]:.1f} s, {len(log)} redraws taking "
              f"{work[panel][1]:.3f} s (run {np.median(runs):.1f} ms, paint {np.median(paints):.1f} ms, medians)")  # fmt: skip
    page.evaluate("document.getElementById('l-inside').open = true")
    print(f"open / closed: {seconds['open'] / min(seconds['closed'], seconds['closed again']):.2f}  ({describe()})")
    assert work["closed"][0] == work["closed again"][0] == 0  # closed, it runs nothing
    assert work["open"][0] >= 3 and work["open"][1] <= 0.1 * seconds["open"]
