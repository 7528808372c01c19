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
