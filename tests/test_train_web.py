"""web/train.js trains what PyTorch trains: the circles net from the committed run's start (initial weights and
data, `models/circles-training.json`), the committed run's recipe (400 points, BCE, Adam 0.03, full batch, 1,000
epochs) and the lecture's own (all 500 points, BCELoss, Adam 0.01, 1,000 epochs), loss compared at every epoch;
and the Train tab in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.test_web import browser  # noqa: F401  (the fixture)
from zoo.models import Circles

ROOT = Path(__file__).resolve().parents[1]
# float64 in JS against float32 in PyTorch: the loss (about 0.09-0.7) agrees to float32's rounding, which 1,000
# Adam steps carry along but do not grow (measured: 1.2e-7 at most here).
LOSS_ATOL = 1e-5


@pytest.fixture(scope="module")
def training_file(tmp_path_factory) -> Path:
    """models/circles-training.json when the committed run has one, else one from a fresh run of circles."""
    committed = ROOT / "models" / "circles-training.json"
    if committed.is_file():
        return committed
    from export.replay import training_json
    from zoo.train import train

    folder = tmp_path_factory.mktemp("circles")
    result = train("circles", out=folder, quiet=True)
    path = folder / "circles-training.json"
    path.write_text(json.dumps(training_json(result.checkpoint)))
    return path


def pytorch_run(blob: dict) -> tuple[np.ndarray, list[float]]:
    """zoo/train.py's circles loop from the file's start: per epoch, the loss before the step and the held-out
    accuracy after it (float32)."""
    recipe = blob["recipe"]
    model = Circles()
    model.load_state_dict(
        {k: torch.tensor(v["values"]).view(v["shape"]) for k, v in blob["initial_state_dict"].items()}
    )
    x, y = torch.tensor(blob["train"]["points"]), torch.tensor(blob["train"]["labels"])
    x_held, y_held = torch.tensor(blob["held_out"]["points"]), torch.tensor(blob["held_out"]["labels"])
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe["lr"], betas=recipe["betas"], eps=recipe["eps"])
    losses, accuracy = [], []
    for _ in range(recipe["epochs"]):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        with torch.no_grad():
            accuracy.append(((model(x_held).squeeze(1) > 0).float() == y_held).float().mean().item())
    return np.array(losses), accuracy


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_train_js_matches_pytorch_at_every_epoch(training_file):
    blob = json.loads(training_file.read_text())
    done = subprocess.run(["node", "tests/node/train_circles.mjs", str(training_file)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)  # fmt: skip
    js = json.loads(done.stdout)
    torch_loss, torch_accuracy = pytorch_run(blob)
    js_loss = np.array(js["loss"])
    assert len(js_loss) == len(torch_loss) == blob["recipe"]["epochs"] == 1000
    diff = np.abs(js_loss - torch_loss)
    print(f"\nlargest loss difference over {len(diff)} epochs: {diff.max():.3e} at epoch {diff.argmax() + 1} "
          f"(JS {js_loss[diff.argmax()]:.8f}, PyTorch {torch_loss[diff.argmax()]:.8f}); final loss JS "
          f"{js_loss[-1]:.6f}, PyTorch {torch_loss[-1]:.6f}; held-out accuracy JS {js['heldOutAccuracy'][-1]:.2%}, "
          f"PyTorch {torch_accuracy[-1]:.2%}")  # fmt: skip
    assert diff.max() <= LOSS_ATOL, (
        f"epoch {diff.argmax() + 1}: JS {js_loss[diff.argmax()]} vs PyTorch {torch_loss[diff.argmax()]}"
    )
    assert js["heldOutAccuracy"][-1] == pytest.approx(torch_accuracy[-1], abs=1e-6)
    # and the run the file came from (its logged loss has 8 decimals)
    logged = np.array(blob["pytorch_history"]["train_loss"])
    assert np.abs(js_loss - logged).max() <= LOSS_ATOL
    assert js["heldOutAccuracy"][-1] == pytest.approx(blob["pytorch_history"]["test_accuracy"][-1], abs=1e-6)


def lecture_run(init: dict) -> np.ndarray:
    """The lecture's own loop (seed 004's notes): make_circles(500, noise=0.2, factor=0.3, random_state=123) from
    scikit-learn, all 500 points, sigmoid outputs into nn.BCELoss, Adam(lr=0.01), 1,000 epochs, the loss printed
    before each step; from the committed run's initial weights."""
    from sklearn import datasets

    x, y = datasets.make_circles(n_samples=500, random_state=123, noise=0.2, factor=0.3)
    x_data, y_data = torch.Tensor(x), torch.Tensor(y.reshape(500, 1))
    model = Circles()
    model.load_state_dict({k: torch.tensor(v["values"]).view(v["shape"]) for k, v in init.items()})
    criterion = torch.nn.BCELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(1000):
        optimizer.zero_grad()
        loss = criterion(torch.sigmoid(model(x_data)), y_data)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return np.array(losses)


def test_the_training_file_holds_the_lectures_500_points(training_file):
    """The page's "all 500 (the lecture)" joins the file's 400 + 100 points: scikit-learn's make_circles, in order."""
    from sklearn import datasets

    blob = json.loads(training_file.read_text())
    x, y = datasets.make_circles(n_samples=500, random_state=123, noise=0.2, factor=0.3)
    points = np.array(blob["train"]["points"] + blob["held_out"]["points"])
    labels = np.array(blob["train"]["labels"] + blob["held_out"]["labels"])
    np.testing.assert_allclose(points, x, atol=1e-6)  # float32 in the file
    np.testing.assert_array_equal(labels, y)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_lectures_settings_match_the_lectures_pytorch_loop_at_every_epoch(training_file):
    """The Train tab's "the lecture's settings" (all 500 points, BCE, Adam 0.01, 1,000 epochs) against the
    lecture's own PyTorch loop, loss compared at every epoch."""
    blob = json.loads(training_file.read_text())
    options = {"points": "all", "learningRate": 0.01, "epochs": 1000}
    assert page_lecture_settings() == {
        "learningRate": 0.01,
        "epochs": 1000,
        "optimizer": "adam",
        "batch": "full",
        "points": "all",
    }
    done = subprocess.run(["node", "tests/node/train_circles.mjs", str(training_file), json.dumps(options)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    js = json.loads(done.stdout)
    js_loss, torch_loss = np.array(js["loss"]), lecture_run(blob["initial_state_dict"])
    assert len(js_loss) == len(torch_loss) == 1000
    diff = np.abs(js_loss - torch_loss)
    print(f"\nthe lecture's run: largest loss difference over 1000 epochs {diff.max():.3e} at epoch {diff.argmax() + 1}; "
          f"final loss JS {js_loss[-1]:.6f}, PyTorch {torch_loss[-1]:.6f}; accuracy on the 500 points JS "
          f"{js['trainAccuracy'][-1]:.2%}")  # fmt: skip
    assert diff.max() <= LOSS_ATOL, (
        f"epoch {diff.argmax() + 1}: JS {js_loss[diff.argmax()]} vs PyTorch {torch_loss[diff.argmax()]}"
    )
    assert js["heldOutAccuracy"][-1] is None  # no held-out points in the lecture's run (NaN -> null)


def page_lecture_settings() -> dict:
    """web/train.js's LECTURE, read from the file under Node."""
    script = (
        "import('./web/train.js').then(({ LECTURE: l }) => console.log(JSON.stringify({ learningRate: l.learningRate, "
        "epochs: l.epochs, optimizer: l.optimizer, batch: l.batch, points: l.points })))"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
@pytest.mark.parametrize("options", [{"optimizer": "sgd", "learningRate": 0.5}, {"optimizer": "momentum", "learningRate": 0.05},
                                     {"optimizer": "rmsprop", "learningRate": 0.01}])  # fmt: skip
def test_other_optimizers_match_torch_optim(training_file, options):
    """Plain gradient descent, momentum and RMSProp follow torch.optim's rules too (200 epochs)."""
    blob = json.loads(training_file.read_text())
    epochs = 200
    done = subprocess.run(["node", "tests/node/train_circles.mjs", str(training_file), json.dumps({**options, "epochs": epochs})],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    js_loss = np.array(json.loads(done.stdout)["loss"])
    model = Circles()
    model.load_state_dict(
        {k: torch.tensor(v["values"]).view(v["shape"]) for k, v in blob["initial_state_dict"].items()}
    )
    lr = options["learningRate"]
    optimizer = {"sgd": lambda p: torch.optim.SGD(p, lr=lr), "momentum": lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9),
                 "rmsprop": lambda p: torch.optim.RMSprop(p, lr=lr)}[options["optimizer"]](model.parameters())  # fmt: skip
    x, y = torch.tensor(blob["train"]["points"]), torch.tensor(blob["train"]["labels"])
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.abs(js_loss - np.array(losses)).max() <= LOSS_ATOL


# ---------------------------------------------------------------------- Chromium: train.js and the Train tab

DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(request, tmp_path_factory):
    """The page's base URL: `python -m demo` on the committed models, or on the folder in LECTURE_ZOO_MODELS (a
    temp export of fresh runs, for the screenshots of files the committed models do not have yet)."""
    import os
    import sys

    folder = os.environ.get("LECTURE_ZOO_MODELS")
    if not folder:
        yield request.getfixturevalue("demo_url")
        return
    from tests.servers import free_port, start

    port = free_port()
    log = tmp_path_factory.mktemp("demo") / "demo.log"
    process, _ = start([sys.executable, "-m", "demo", "--port", str(port), "--models", folder], port, log=log, cwd=ROOT,
                       timeout=180, env={"GRADIO_TEMP_DIR": str(tmp_path_factory.mktemp("gradio"))})  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def train_page(browser, site):  # noqa: F811
    from tests.test_web import opened

    with opened(browser, site + "web/#train") as page:
        yield page


@pytest.mark.slow
@pytest.mark.browser
def test_train_circles_in_chromium_reaches_93_percent(train_page, training_file):
    blob = json.loads(training_file.read_text())
    run = train_page.evaluate("""async (file) => {
      const { trainCircles, fromTrainingFile } = await import("./train.js");
      const { data, init, recipe } = fromTrainingFile(file);
      const started = performance.now();
      const run = trainCircles({ data, init, epochs: recipe.epochs, learningRate: recipe.lr, optimizer: "adam", batch: "full" });
      return { ...run, ms: performance.now() - started };
    }""", blob)  # fmt: skip
    torch_loss, _ = pytorch_run(blob)
    diff = np.abs(np.array(run["loss"]) - torch_loss).max()
    print(f"\nChromium: held-out accuracy {run['heldOutAccuracy'][-1]:.2%} after {len(run['loss'])} epochs in "
          f"{run['ms']:.0f} ms; largest loss difference from PyTorch {diff:.3e}")  # fmt: skip
    assert len(run["loss"]) == 1000
    assert run["heldOutAccuracy"][-1] >= 0.93
    assert diff <= LOSS_ATOL


@pytest.mark.slow
@pytest.mark.browser
def test_train_tab_plays_pauses_steps_resets(train_page):
    page = train_page
    page.click("#tab-train")
    page.wait_for_function("window.zooPage.train.state.runs.length > 0")
    epoch = lambda: int(page.evaluate("document.getElementById('train').dataset.epoch"))  # noqa: E731
    assert epoch() == 0
    page.click("#t-compare")  # run B: gradient descent beside Adam
    page.click("#t-play")
    page.wait_for_function("Number(document.getElementById('train').dataset.epoch) >= 150", timeout=60_000)
    page.click("#t-play")  # pause
    assert page.evaluate("window.zooPage.train.playing") is False
    paused = epoch()
    page.wait_for_timeout(300)
    assert epoch() == paused
    page.click("#t-step")
    assert epoch() == paused + 1
    # docs/ shows the real thing: the committed run's start (else, models exported before it, a test artifact)
    # (and only when asked: UPDATE_SCREENSHOTS=1; a plain test run leaves docs/ as committed)
    real = page.evaluate("window.zooPage.train.state.file !== null") and os.environ.get("UPDATE_SCREENSHOTS") == "1"
    folder = DOCS if real else ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.locator("#train").screenshot(path=str(folder / "screenshot-train.png"))
    stats = page.locator("#run-a .run-stats").inner_text()
    assert f"epoch {paused + 1}/" in stats
    page.click("#t-reset")
    assert epoch() == 0
    page.click("#t-lecture")
    assert page.evaluate("window.zooPage.train.state.runs.length") == 1


@pytest.mark.slow
@pytest.mark.browser
def test_train_tab_on_a_400px_touch_screen(browser, site):  # noqa: F811
    from tests.browser import block_outside

    context = browser.new_context(viewport={"width": 400, "height": 800}, has_touch=True, is_mobile=True)
    page = context.new_page()
    aborted = block_outside(page, site.rstrip("/"))
    page.goto(site + "web/#train")
    page.wait_for_function("document.body.dataset.ready || document.body.dataset.error", timeout=120_000)
    page.wait_for_function("window.zooPage.train.state.runs.length > 0")
    page.tap("#t-step")
    page.tap("#t-step")
    assert int(page.evaluate("document.getElementById('train').dataset.epoch")) == 2
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the Train tab is {width} px wide on a 400 px screen"
    page.screenshot(path=str(ROOT / "test-artifacts" / "train-400px.png"), full_page=True)
    assert aborted == []
    context.close()
