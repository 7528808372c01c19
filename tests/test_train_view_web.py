"""The page's "Train models" view (web/train-view.js) in Chromium: the lecture's charseq run through its
training file in onnxruntime-web prints the lecture's lines and ends on the sample sentence; its losses are
the server's (demo/train_text.py), which tests/test_train_demo.py holds to PyTorch's."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from tests.test_web import browser  # noqa: F401  (the fixture)
from zoo import manifest as zoo_manifest

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^(\d+) loss:  (\S+) prediction:  .* prediction str:  (.*)$")


@pytest.fixture(scope="module")
def learn_page(browser, demo_url):  # noqa: F811
    if not any(e["kind"] == "train" for e in zoo_manifest.load(ROOT / "models")):
        pytest.skip("models/manifest.json has no training files: run python -m export train")
    from tests.test_web import opened

    with opened(browser, demo_url + "web/#learn") as page:
        page.wait_for_function("window.zooPage.learn.state.trainer !== null", timeout=60_000)
        yield page


@pytest.mark.slow
@pytest.mark.browser
def test_the_lectures_charseq_run_in_chromium(learn_page):
    from demo import train_text
    from demo.runtime import Zoo

    page = learn_page
    assert page.input_value("#l-model") == "charseq" and page.input_value("#l-optimizer") == "adam"
    assert page.input_value("#l-epochs") == "50"
    page.click("#l-run")
    page.wait_for_function("document.getElementById('learn').dataset.done === 'true'", timeout=120_000)
    lines = page.evaluate("window.zooPage.learn.state.lines")
    assert len(lines) == 50
    assert lines[-1].endswith("prediction str:  f you want you")
    server = list(train_text.train_text(Zoo(ROOT / "models"), "charseq", "adam", 0.1, 50))
    ours = [float(LINE.match(line).group(2)) for line in lines]
    theirs = [float(LINE.match(line).group(2)) for line in server]
    assert np.allclose(ours, theirs, atol=1e-5)
    assert [LINE.match(line).group(3) for line in lines] == [LINE.match(line).group(3) for line in server]
    # under the sentence, the hidden state of every character (the Inside panel: tests/test_train_inside_web.py)
    assert page.locator("#l-inside-text figure.layer[data-layer='rnn_l0'] canvas.heat").count() >= 1
    folder = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts")
    folder.mkdir(exist_ok=True)
    page.locator("#learn").screenshot(path=str(folder / "screenshot-train-rnn.png"))
    # reset, then one step at a time
    page.click("#l-reset")
    assert page.evaluate("window.zooPage.learn.state.lines.length") == 0
    page.click("#l-step")
    page.wait_for_function("window.zooPage.learn.state.lines.length === 1")
    assert page.evaluate("window.zooPage.learn.state.lines[0]") == lines[0]


M32 = 0xFFFFFFFF


def mulberry32(seed: int):
    """train-models.js's `rng`, in Python: the same floats in the same order."""
    a = seed & M32

    def imul(x: int, y: int) -> int:
        return (x * y) & M32

    def random() -> float:
        nonlocal a
        a = (a + 0x6D2B79F5) & M32
        t = imul(a ^ (a >> 15), a | 1)
        t = (t ^ ((t + imul(t ^ (t >> 7), t | 61)) & M32)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296

    return random


def pytorch_page_run(entry: dict, epochs: int) -> list[float]:
    """The page's digit run in PyTorch: the start file, its data order and masks (mulberry32, seed 0), its
    recipe (torch.optim.Adam, batch 64); the validation accuracy after each epoch."""
    import torch
    import torch.nn.functional as F

    from export import train_graphs as tg

    digits = tg.read_digits(entry["training"], ROOT / "models")
    train_x = torch.from_numpy(digits["train_images"].astype(np.float32)[:, None] / 255)
    train_y = torch.from_numpy(digits["train_labels"].astype(np.int64))
    val_x = torch.from_numpy(digits["val_images"].astype(np.float32)[:, None] / 255)
    val_y = torch.from_numpy(digits["val_labels"].astype(np.int64))
    model, _, dropout = tg.trainable(entry["model"])
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(tg.read_start(entry["weights"], ROOT / "models")[name]))
    recipe = entry["recipe"]
    optimizer = torch.optim.Adam(model.parameters(), recipe["lr"])
    random = mulberry32(0)
    size, accuracy = recipe["batch_size"], []
    for _ in range(epochs):
        order = list(range(len(train_y)))
        for i in range(len(order) - 1, 0, -1):
            j = int(random() * (i + 1))
            order[i], order[j] = order[j], order[i]
        for start in range(0, len(order), size):
            index = torch.tensor(order[start : start + size])
            masks = {}
            for key, mask in entry["masks"].items():
                shape = [len(index), *mask["shape"][1:]]
                values = [2.0 if random() >= mask["p"] else 0.0 for _ in range(int(np.prod(shape)))]
                masks[key] = torch.tensor(values, dtype=torch.float32).reshape(shape)
            dropout.set(masks)
            optimizer.zero_grad()
            F.cross_entropy(model(train_x[index]), train_y[index]).backward()
            optimizer.step()
        dropout.set({key: torch.ones(len(val_y), *m["shape"][1:]) for key, m in entry["masks"].items()})
        with torch.no_grad():
            accuracy.append(float((model(val_x).argmax(1) == val_y).float().mean()))
    return accuracy


@pytest.mark.slow
@pytest.mark.browser
def test_a_cnn_small_run_in_chromium_is_pytorchs(learn_page):
    page = learn_page
    page.select_option("#l-model", "cnn-small")
    page.wait_for_function(
        "window.zooPage.learn.state.entry?.model === 'cnn-small' && window.zooPage.learn.state.trainer"
    )
    page.evaluate("window.zooPage.learn.ready")
    epochs = int(page.input_value("#l-epochs"))
    assert epochs == 5 and page.input_value("#l-optimizer") == "adam"
    page.click("#l-run")
    page.wait_for_function("Number(document.getElementById('learn').dataset.epoch) >= 1", timeout=300_000)
    folder = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts")
    folder.mkdir(exist_ok=True)
    page.locator("#learn").screenshot(path=str(folder / "screenshot-train-cnn.png"))
    page.wait_for_function("document.getElementById('learn').dataset.done === 'true'", timeout=900_000)
    lines = page.evaluate("window.zooPage.learn.state.lines")
    page_accuracy = page.evaluate("window.zooPage.learn.state.valAccuracy")
    entry = next(e for e in zoo_manifest.load(ROOT / "models") if e["name"] == "cnn-small-train-adam")
    torch_accuracy = pytorch_page_run(entry, epochs)
    print(f"\nthe page: {lines[-1]}\nPyTorch: validation accuracy {torch_accuracy}")
    assert len(lines) == epochs
    assert abs(page_accuracy - torch_accuracy[-1]) <= 0.005


# ---------------------------------------------------------------------- the knobs, the curves, two runs

LEARN = "window.zooPage.learn"
RUN_COLOURS = [(0x11, 0x18, 0x27), (0xA2, 0x1C, 0xAF)]  # web/train-tab.js's RUN_COLOURS: run 1, run 2


def choose(page, model: str, optimizer: str | None = None) -> None:
    """`model` (and `optimizer`) chosen in the view and its training file loaded."""
    if page.input_value("#l-model") != model:
        page.select_option("#l-model", model)
    if optimizer and page.input_value("#l-optimizer") != optimizer:
        page.select_option("#l-optimizer", optimizer)
    page.evaluate(f"{LEARN}.ready")
    assert page.evaluate(f"{LEARN}.state.entry.name") == f"{model}-train-{page.input_value('#l-optimizer')}"


def reset(page) -> None:
    page.click("#l-reset")
    page.wait_for_function(f"{LEARN}.state.run.steps.length === 0 && {LEARN}.state.kept === null")


def run_to_the_end(page, timeout: int = 300_000) -> None:
    page.click("#l-run")
    page.wait_for_function("document.getElementById('learn').dataset.done === 'true'", timeout=timeout)


def set_knob(page, selector: str, value: str) -> None:
    if selector == "#l-decay":
        page.select_option(selector, value)
    else:
        page.fill(selector, value)
    page.evaluate(f"{LEARN}.stop()")


def colour_pixels(page, selector: str, faint: bool = False) -> list[int]:
    """How many pixels of the canvas are drawn in each run's colour: its solid lines, or its faint ones (each
    step's loss, drawn at 30% opacity)."""
    return page.evaluate(
        """([selector, colours, faint]) => {
          const c = document.querySelector(selector), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const drawn = (a) => (faint ? a > 40 && a < 120 : a > 200);
          return colours.map(([r, g, b]) => { let n = 0;
            for (let i = 0; i < d.length; i += 4) if (drawn(d[i + 3]) && Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 40) n++;
            return n; });
        }""",
        [selector, RUN_COLOURS, faint],
    )


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_mlp_and_cnn_train_in_chromium_and_their_loss_falls(learn_page, model):
    """A short run of the lecture's recipe (Adam 0.001, batch 64): 40 steps, the loss of the last ten batches
    well under the first ten's; every step at the chosen rate; the step's loss drawn."""
    page = learn_page
    choose(page, model, "adam")
    reset(page)
    assert page.input_value("#l-batch") == "64" and page.is_visible("#l-batch")
    page.click("#l-run")
    page.wait_for_function(f"{LEARN}.state.run.steps.length >= 40", timeout=300_000)
    page.evaluate(f"{LEARN}.stop()")
    steps = page.evaluate(f"{LEARN}.state.run.steps")
    losses = [s["loss"] for s in steps[:40]]
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    print(f"\n{model}: mean batch loss, steps 1-10 {first:.3f}, steps 31-40 {last:.3f}")
    assert first > 1.5 and last < 0.75 * first, (first, last)
    assert {s["lr"] for s in steps} == {0.001}
    assert colour_pixels(page, "#l-loss", faint=True)[0] > 20  # each step's loss, in run 1's colour
    reset(page)


@pytest.mark.slow
@pytest.mark.browser
def test_the_batch_size_sets_the_steps_of_an_epoch(learn_page):
    """Batch 500: an epoch of the 3,500 training digits is 7 steps of the file; batch 3,500: one. Each epoch
    ends on the 500 validation digits (its loss and accuracy in the curves' record)."""
    page = learn_page
    choose(page, "mlp", "adam")
    reset(page)
    set_knob(page, "#l-epochs", "1")
    for size, steps in [("500", 7), ("3500", 1)]:
        set_knob(page, "#l-batch", size)
        assert page.evaluate(f"{LEARN}.state.run.steps.length") == 0  # a changed knob starts the run again
        run_to_the_end(page)
        assert page.evaluate(f"{LEARN}.state.trainer.steps") == steps
        [record] = page.evaluate(f"{LEARN}.state.run.records")
        assert record["x"] == 1 and 0 < record["val"]["accuracy"] <= 1 and record["val"]["loss"] > 0
        assert 0 <= record["train"]["accuracy"] <= 1 and record["train"]["loss"] > 0
        assert page.evaluate(f"{LEARN}.state.run.knobs.batch") == int(size)
    set_knob(page, "#l-batch", "0")
    page.click("#l-run")
    page.wait_for_function("document.getElementById('l-status').textContent.includes('\"0\"')")
    assert "1 to 3500" in page.inner_text("#l-status")
    set_knob(page, "#l-batch", "64")
    set_knob(page, "#l-epochs", "5")
    reset(page)


def text_run_in_onnxruntime(name: str, lrs: list[float]) -> list[float]:
    """The text model's run in ONNX Runtime (Python), fed `lrs[k]` at epoch k: its losses."""
    from demo.runtime import Zoo

    zoo = Zoo(ROOT / "models")
    entry = zoo.models[name].entry
    session = zoo.models[name].session
    raw = (ROOT / "models" / entry["weights"]["file"]).read_bytes()
    params = {
        n: np.frombuffer(raw, "<f4", t["length"], t["offset"]).reshape(t["shape"]).copy()
        for n, t in entry["weights"]["tensors"].items()
    }
    state = {f"{s}.{n}": np.zeros_like(w) for n, w in params.items() for s in entry["state"]}
    vocab = entry["vocab"]
    x, y = (np.array([[vocab.index(c) for c in row] for row in entry["batch"][k]], np.int64) for k in ("x", "y"))
    names = [o.name for o in session.get_outputs()]
    losses = []
    for epoch, lr in enumerate(lrs):
        hyper = {**entry["hyperparameters"], "lr": lr, "step": epoch + 1}
        feeds = {**params, **state, "x": x, "y": y} | {k: np.array(v, np.float32) for k, v in hyper.items()}
        out = dict(zip(names, session.run(None, feeds), strict=True))
        params = {n: out[f"new.{n}"] for n in params}
        state = {n: out[f"new.{n}"] for n in state}
        losses.append(float(out["loss"]))
    return losses


def learning_rate_at(decay: str, lr: float, epoch: float, epochs: int) -> float:
    """web/train.js's learningRateAt, in Python."""
    t = epoch / epochs
    return {
        "none": lr,
        "step": lr * 0.5 ** np.floor(4 * t),
        "exponential": lr * 0.01**t,
        "cosine": lr * 0.5 * (1 + np.cos(np.pi * t)),
    }[decay]


@pytest.mark.slow
@pytest.mark.browser
def test_the_decay_is_the_rate_the_step_file_receives(learn_page):
    """charseq, 8 epochs at 0.1: each decay's rate at every epoch is train.js's rule, and the losses are those of
    the same file in ONNX Runtime (Python) fed those rates; step decay leaves the first 3 losses alone (the
    rate halves from epoch 2, and a loss is measured before its step). A digit model's rate decays step by step
    within an epoch."""
    page = learn_page
    choose(page, "charseq", "adam")
    reset(page)
    set_knob(page, "#l-epochs", "8")
    losses = {}
    for decay in ["none", "step", "exponential", "cosine"]:
        set_knob(page, "#l-decay", decay)
        run_to_the_end(page)
        steps = page.evaluate(f"{LEARN}.state.run.steps")
        lrs = [s["lr"] for s in steps]
        assert np.allclose(lrs, [learning_rate_at(decay, 0.1, k, 8) for k in range(8)], rtol=1e-12), (decay, lrs)
        losses[decay] = [s["loss"] for s in steps]
        assert np.allclose(losses[decay], text_run_in_onnxruntime("charseq-train-adam", lrs), atol=1e-5), decay
    assert losses["step"][:3] == losses["none"][:3] and losses["step"][3] != losses["none"][3]
    for decay in ["exponential", "cosine"]:
        assert losses[decay][0] == losses["none"][0] and losses[decay][2] != losses["none"][2]

    choose(page, "mlp", "adam")  # 2 epochs of 7 steps, cosine: the rate of each step at its place in the run
    set_knob(page, "#l-batch", "500")
    set_knob(page, "#l-epochs", "2")
    set_knob(page, "#l-decay", "cosine")
    run_to_the_end(page)
    lrs = [s["lr"] for s in page.evaluate(f"{LEARN}.state.run.steps")]
    want = [learning_rate_at("cosine", 0.001, e + min(500 * i, 3500) / 3500, 2) for e in range(2) for i in range(7)]
    assert np.allclose(lrs, want, rtol=1e-12) and lrs[0] == 0.001 and lrs[-1] < 0.0001
    set_knob(page, "#l-decay", "none")
    page.click("#l-lecture")
    page.evaluate(f"{LEARN}.ready")
    choose(page, "charseq", "adam")


@pytest.mark.slow
@pytest.mark.browser
def test_two_runs_from_the_same_start_are_drawn_side_by_side(learn_page):
    """Run 1 (Adam) kept, run 2 (plain gradient descent) trained from the same weights: both in the record, each
    in its colour on both charts, each with its knobs in the legend; the two begin at the same loss; Reset
    leaves one empty run."""
    page = learn_page
    choose(page, "charseq", "adam")
    reset(page)
    set_knob(page, "#l-epochs", "10")
    assert page.is_disabled("#l-keep")  # nothing to keep yet
    assert page.is_hidden("#l-batch") and page.is_visible("#l-batch-note")  # the RNN: its one batch, said
    run_to_the_end(page)
    page.click("#l-keep")
    page.wait_for_function(f"{LEARN}.state.kept !== null && {LEARN}.state.run.steps.length === 0")
    choose(page, "charseq", "sgd")
    set_knob(page, "#l-lr", "1")
    run_to_the_end(page)
    kept, run = page.evaluate(f"[{LEARN}.state.kept, {LEARN}.state.run]")
    assert len(kept["records"]) == len(run["records"]) == 10
    assert kept["knobs"]["optimizer"] == "adam" and run["knobs"]["optimizer"] == "sgd" and run["knobs"]["lr"] == 1
    assert kept["steps"][0]["loss"] == run["steps"][0]["loss"]  # the same start
    assert kept["steps"][-1]["loss"] != run["steps"][-1]["loss"]
    legend = page.locator("#l-legend li").all_inner_texts()
    assert len(legend) == 2 and "run 1: Adam, learning rate 0.1" in legend[0], legend
    assert "run 2: gradient descent, learning rate 1" in legend[1], legend
    assert "No validation curve" in page.inner_text("#l-curves-note")
    for chart in ("#l-loss", "#l-accuracy"):
        one, two = colour_pixels(page, chart)
        assert one > 20 and two > 20, (chart, one, two)
    label = page.get_attribute("#l-loss", "aria-label")
    assert "run 1" in label and "run 2" in label
    reset(page)
    assert page.locator("#l-legend li").count() == 1 and colour_pixels(page, "#l-loss") == [0, 0]
    page.select_option("#l-optimizer", "adam")
    page.click("#l-lecture")
    page.evaluate(f"{LEARN}.ready")


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("model", ["hihello", "longseq", "longseq-gru"])
def test_every_rnn_trains_with_a_training_curve_only(learn_page, model):
    """Three epochs of each other RNN's lecture loop: a record an epoch with the batch's loss and per-character
    accuracy, no validation values (there is no validation set), the batch-size control replaced by its note."""
    page = learn_page
    choose(page, model)
    reset(page)
    assert page.is_hidden("#l-batch") and "whole text" in page.inner_text("#l-batch-note")
    for k in range(1, 4):
        page.click("#l-step")
        page.wait_for_function(f"{LEARN}.state.run.records.length === {k}", timeout=60_000)
    records = page.evaluate(f"{LEARN}.state.run.records")
    assert [r["x"] for r in records] == [0, 1, 2] and all(r["val"] is None for r in records)
    assert all(0 <= r["train"]["accuracy"] <= 1 and r["train"]["loss"] > 0 for r in records)
    assert len({r["train"]["loss"] for r in records}) == 3  # the weights moved (GRU at Adam 0.1 first climbs)
    assert "No validation curve" in page.inner_text("#l-curves-note")
    assert colour_pixels(page, "#l-accuracy")[0] > 20
    reset(page)


WIDER_THAN_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('#learn, #learn *')].filter((e) => {
    if (!e.getClientRects().length) return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && (r.right > width + 1 || r.left < -1);
  }).slice(0, 8).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}: ${Math.round(e.getBoundingClientRect().left)}..${Math.round(e.getBoundingClientRect().right)}`);
}"""


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("width", [360, 400, 1280])
def test_the_view_with_two_runs_fits_the_screen(browser, demo_url, width):  # noqa: F811
    """Two runs of charseq and a digit model's knobs, at 360 and 400 px (a phone) and 1280 px: no sideways
    scroll, nothing past the screen's edge, the two charts side by side only where they fit."""
    from tests.browser import block_outside

    phone = width < 700
    context = browser.new_context(viewport={"width": width, "height": 800}, has_touch=phone, is_mobile=phone)
    page = context.new_page()
    aborted = block_outside(page, demo_url.rstrip("/"))
    page.goto(demo_url + "web/?lang=en#learn")
    page.wait_for_function("window.zooPage?.learn.state.trainer", timeout=120_000)

    def fits(where: str) -> None:
        scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll[0] <= scroll[1] == width, f"{where}: the page is {scroll[0]} px wide on a {width} px screen"
        wide = page.evaluate(WIDER_THAN_SCREEN)
        assert wide == [], f"{where}: wider than the {width} px screen: {wide}"

    set_knob(page, "#l-epochs", "5")
    run_to_the_end(page)
    page.click("#l-keep")
    page.click("#l-run")
    page.wait_for_function(f"{LEARN}.state.run.records.length >= 2")
    fits("two runs of charseq")
    loss, accuracy = page.locator("#l-loss").bounding_box(), page.locator("#l-accuracy").bounding_box()
    assert (loss["y"] == accuracy["y"]) == (width >= 700), (loss, accuracy)  # side by side on a wide screen
    assert page.evaluate("document.getElementById('l-loss').width") == round(loss["width"])  # drawn at its size
    choose(page, "cnn-small", "adam")
    fits("cnn-small")
    assert aborted == []
    context.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("width", [400, 1280])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_screenshots_of_two_runs_mid_run(browser, demo_url, language, width):  # noqa: F811
    """docs/screenshot-train-view-{rnn,cnn}-{language}-{width}.png (`UPDATE_SCREENSHOTS=1`; else test-artifacts/):
    charseq, run 1 the lecture's 50 epochs (Adam 0.1), run 2 plain gradient descent at 1 with cosine decay,
    paused at epoch 30 or so; cnn-small, run 1 the recipe's (Adam 0.001, batch 64) for 2 epochs, run 2 batch 256
    at 0.003 with step decay, paused in its second epoch."""
    from tests.browser import block_outside

    phone = width < 700
    context = browser.new_context(viewport={"width": width, "height": 860 if phone else 900}, has_touch=phone,
                                  is_mobile=phone, device_scale_factor=1)  # fmt: skip
    page = context.new_page()
    aborted = block_outside(page, demo_url.rstrip("/"))
    page.goto(demo_url + f"web/?lang={language}#learn")
    page.wait_for_function("window.zooPage?.learn.state.trainer", timeout=120_000)
    page.evaluate("document.fonts.ready")
    folder = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts")
    folder.mkdir(exist_ok=True)
    name = lambda what: str(folder / f"screenshot-train-view-{what}-{language}-{width}.png")  # noqa: E731

    run_to_the_end(page)
    page.click("#l-keep")
    choose(page, "charseq", "sgd")
    set_knob(page, "#l-lr", "1")
    set_knob(page, "#l-decay", "cosine")
    page.click("#l-run")
    page.wait_for_function(f"{LEARN}.state.run.records.length >= 30")
    page.evaluate(f"{LEARN}.stop()")
    page.locator("#learn").screenshot(path=name("rnn"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    choose(page, "cnn-small", "adam")
    set_knob(page, "#l-epochs", "2")
    run_to_the_end(page, timeout=600_000)
    page.click("#l-keep")
    set_knob(page, "#l-batch", "256")
    set_knob(page, "#l-lr", "0.003")
    set_knob(page, "#l-decay", "step")
    page.click("#l-run")
    page.wait_for_function(f"{LEARN}.state.run.steps.length >= 20", timeout=600_000)  # 14 steps an epoch
    page.evaluate(f"{LEARN}.stop()")
    page.locator("#learn").screenshot(path=name("cnn"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert aborted == []
    context.close()


@pytest.mark.slow
@pytest.mark.browser
def test_switching_language_after_switching_model_keeps_the_view_working(browser, demo_url):  # noqa: F811
    """The live Inside panel painted charseq's text view on load, then cnn-small's digit view: a language switch
    relabels the view shown (the text view, asked again, read the digit model's entry and threw, leaving the
    page's "something went wrong" and the curves in the old language)."""
    from tests.test_web import opened

    with opened(browser, demo_url + "web/?lang=ko#learn") as page:
        page.wait_for_function(f"{LEARN}.state.trainer !== null", timeout=60_000)
        page.wait_for_function(f"{LEARN}.inside.shown?.entry.vocab !== undefined", timeout=60_000)  # text shown
        choose(page, "cnn-small")
        page.wait_for_function(f"{LEARN}.inside.shown?.entry.name.startsWith('cnn-small')", timeout=60_000)
        for language, run_word in (("en", "Run"), ("ko", "실행"), ("en", "Run")):
            page.click(f"button[data-lang={language}]")
            page.wait_for_function(f"document.documentElement.lang === '{language}'")
            assert page.evaluate("document.body.dataset.error ?? ''") == ""
            assert page.inner_text("#l-run").strip() == run_word
        choose(page, "charseq")  # and back to text: its view relabels in the new language
        page.wait_for_function(f"{LEARN}.inside.shown?.entry.vocab !== undefined", timeout=60_000)
        page.click("button[data-lang=ko]")
        assert page.evaluate("document.body.dataset.error ?? ''") == ""
