"""The digit CNNs' training replayed (export/replay.py, web/replay.js): the proof `python -m export --check` runs
on each replay, its failures, and the epoch slider of the page's Inside view in Chromium against Python's ONNX
Runtime on the same pixels and the same epoch's weights."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.browser import canvas_rgba, draw_seven
from tests.test_web import browser, needs_ort  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _replays(folder: Path) -> list[dict]:
    manifest = folder / "manifest.json"
    return (
        [e for e in json.loads(manifest.read_text())["models"] if e["kind"] == "replay"] if manifest.is_file() else []
    )


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    """A models folder with replays: LECTURE_ZOO_MODELS, models/ once retrained, else a tiny cnn-small run (two
    epochs of five steps) exported into a temp folder."""
    for folder in (os.environ.get("LECTURE_ZOO_MODELS"), ROOT / "models"):
        if folder and _replays(Path(folder)):
            return Path(folder)
    from export.__main__ import export
    from zoo.train import train

    out = tmp_path_factory.mktemp("models")
    train("cnn-small", epochs=2, max_steps=5, out=out / "checkpoints", quiet=True)
    export("cnn-small", out / "checkpoints", out, int8=False)
    return out


@pytest.mark.slow
def test_every_replay_proves_itself(models_dir):
    from export.replay import check_replay

    entries = {e["name"]: e for e in json.loads((models_dir / "manifest.json").read_text())["models"]}
    replays = _replays(models_dir)
    assert replays
    for entry in replays:
        line = check_replay(entry, models_dir, entries)
        info = entry["epochs"]
        assert info["bytes"] == info["count"] * info["parameters"] * 2 == (models_dir / info["file"]).stat().st_size
        assert info["parameters"] == entries[entry["base_model"]]["parameters"]
        print(f"\n{entry['name']}: {line}; {entry['bytes']:,} + {info['bytes']:,} bytes")


@pytest.mark.slow
def test_a_changed_epoch_is_caught(models_dir, tmp_path):
    """One weight of epoch 1 changed: the file no longer matches its sha256; with the sha256 updated, the
    accuracy of that epoch (or the answer) no longer matches the training log."""
    from export.onnx import sha256
    from export.replay import check_replay
    from export.verify import ChecksumMismatch, VerificationError

    folder = tmp_path / "models"
    shutil.copytree(models_dir, folder, ignore=shutil.ignore_patterns("checkpoints"))
    entries = {e["name"]: e for e in json.loads((folder / "manifest.json").read_text())["models"]}
    entry = _replays(folder)[0]
    path = folder / entry["epochs"]["file"]
    weights = np.frombuffer(path.read_bytes(), "<f2").copy()
    weights[: entry["epochs"]["parameters"]] = 0  # epoch 1: every weight zero, one answer for every digit
    path.write_bytes(weights.tobytes())
    with pytest.raises(ChecksumMismatch):
        check_replay(entry, folder, entries)
    entry["epochs"]["sha256"] = sha256(path)
    with pytest.raises(VerificationError, match="epoch 1"):
        check_replay(entry, folder, entries)


# ---------------------------------------------------------------------- the slider in Chromium


@pytest.fixture(scope="module")
def site(models_dir, tmp_path_factory):
    """`python -m demo` on a folder holding every committed model plus `models_dir`'s runs (the demo needs the
    text models too)."""
    import sys

    from tests.servers import free_port, start

    folder = tmp_path_factory.mktemp("site")
    fresh = json.loads((models_dir / "manifest.json").read_text())["models"]
    committed = json.loads((ROOT / "models" / "manifest.json").read_text())["models"]
    runs = {e["run"] for e in fresh}
    for source in (ROOT / "models", models_dir):  # the fresh runs' files over the committed ones
        for item in source.iterdir():
            if item.name not in ("checkpoints", "manifest.json"):
                target = folder / item.name
                if item.is_dir():
                    shutil.copytree(item, target, dirs_exist_ok=True)
                else:
                    shutil.copyfile(item, target)
    merged = [e for e in committed if e["run"] not in runs] + fresh
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "models": merged}))
    port = free_port()
    process, _ = start([sys.executable, "-m", "demo", "--port", str(port), "--models", str(folder)], port,
                       log=folder.parent / "demo.log", cwd=ROOT, timeout=180,
                       env={"GRADIO_TEMP_DIR": str(tmp_path_factory.mktemp("gradio"))})  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}/", folder
    finally:
        process.terminate()
        process.wait(timeout=30)


def _set_epoch(page, epoch: int) -> None:
    page.evaluate(
        "(e) => { const s = document.getElementById('epoch'); s.value = String(e); s.dispatchEvent(new Event('input')); }",
        epoch,
    )
    page.wait_for_function(f"document.querySelector('.replay').dataset.epoch === '{epoch}'", timeout=60_000)
    page.wait_for_function("!window.zooPage.digits.busy && window.zooPage.digits.log.at(-1).paintMs !== undefined")
    page.wait_for_timeout(200)


@pytest.mark.slow
@pytest.mark.browser
@needs_ort
def test_epoch_slider_shows_each_epoch_as_python_computes_it(browser, site):  # noqa: F811
    from export.replay import epoch_feeds, read_epochs
    from tests.test_web import _open

    url, folder = site
    entry = _replays(folder)[-1]  # cnn when it has one, else cnn-small
    model = entry["base_model"]
    context, page, aborted = _open(browser, url + "web/")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.select_option("#digit-model", model)
    page.wait_for_function("!window.zooPage.digits.busy")
    draw_seven(page)
    assert page.locator(".replay").is_visible()
    assert not any(entry["epochs"]["file"] in r or entry["file"] in r for r in requests), (
        "fetched before the slider was used"
    )

    epochs = read_epochs(entry, folder)
    session = ort.InferenceSession(str(folder / entry["file"]), providers=["CPUExecutionProvider"])
    rgba = canvas_rgba(page)
    count = entry["epochs"]["count"]
    for epoch, shot in ((1, "screenshot-replay-early.png"), (count, "screenshot-replay-late.png")):
        _set_epoch(page, epoch)
        expected = dict(
            zip(
                entry["outputs"],
                session.run(None, {"image": rgba, **epoch_feeds(entry, epochs[epoch - 1])}),
                strict=True,
            )
        )
        shown = page.evaluate("""async (e) => {
          const c = document.querySelector('#sketch');
          const r = await window.zoo.inspectDigit(c.getContext('2d').getImageData(0, 0, c.width, c.height), window.zooPage.digits.replay.model, { epoch: e });
          return { probabilities: Array.from(r.confidences.sort((a, b) => a.label - b.label), (x) => x.confidence),
                   layers: Object.fromEntries(r.layers.map((l) => [l.name, Array.from(l.data)])) };
        }""", epoch)  # fmt: skip
        np.testing.assert_allclose(shown["probabilities"], expected["probabilities"][0], atol=1e-5)
        for name, values in shown["layers"].items():
            if name != "frame":
                np.testing.assert_allclose(values, np.ravel(expected[name]), atol=1e-4, rtol=1e-4, err_msg=name)
        label = page.locator("#bars").get_attribute("data-label")
        assert label == str(int(np.argmax(expected["probabilities"][0])))
        # docs/ shows a real run's replay (not the two-epoch run made when no models folder has one)
        # (and only when asked: UPDATE_SCREENSHOTS=1; a plain test run leaves docs/ as committed)
        real = entry["epochs"]["count"] > 2 and os.environ.get("UPDATE_SCREENSHOTS") == "1"
        shots = DOCS if real else ROOT / "test-artifacts"
        shots.mkdir(exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.locator("#digits").screenshot(path=str(shots / shot))
        print(f"\n{model} epoch {epoch}/{count}: shows {label}, p = {float(np.max(expected['probabilities'][0])):.3f}")
    page.set_viewport_size({"width": 400, "height": 800})  # a phone: the slider and its figures fit the screen
    right = page.evaluate(
        "Math.max(...[...document.querySelectorAll('.replay, .replay *')].map((n) => n.getBoundingClientRect().right))"
    )
    assert right <= 400, f"the replay controls reach {right} px on a 400 px screen"
    assert any(entry["epochs"]["file"] in r for r in requests)
    assert aborted == []
    context.close()
