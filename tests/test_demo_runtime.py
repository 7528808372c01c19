"""demo/runtime.py and the Spaces packaging: manifest loading, sha256 refusal, no torch at serving time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from demo.images import NotADigit
from demo.runtime import BadRequest, ManifestError, Zoo

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def zoo():
    return Zoo(ROOT / "models")


def test_every_manifest_model_is_served(zoo):
    kinds = Counter(model.entry["kind"] for model in zoo.models.values())
    # 17 models (9 full, 4 INT8, 4 step), 8 canvas models, 9 probe models, 2 replays, 28 training-step files
    # (7 lecture models x 4 optimisers) and 7 inside files (every layer from the weights being trained)
    assert kinds == {"full": 9, "int8": 4, "step": 4, "canvas": 8, "probe": 9, "replay": 2, "train": 28,
                     "train-inside": 7}  # fmt: skip
    assert zoo.digit_models()[0] == "cnn-bn"  # the most accurate first
    assert set(zoo.text_models()) == {"hihello", "charseq", "longseq", "longseq-gru"}
    assert zoo.provider == "CPUExecutionProvider"


def test_digits_are_read_by_the_canvas_models(zoo):
    canvas = Image.new("RGBA", (600, 450), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(200, 100), (400, 100), (280, 380)], fill=(0, 0, 0, 255), width=18)
    for name in ("cnn-bn", "cnn-int8", "cnn-bn-canvas"):
        confidences, frame, seconds = zoo.classify(name, np.asarray(canvas))
        assert max(confidences, key=confidences.get) == "7" and frame.shape == (28, 28) and seconds > 0
    with pytest.raises(NotADigit, match="No ink found"):
        zoo.classify("cnn-bn", np.zeros((450, 600, 4), np.uint8))
    speck = np.zeros((450, 600, 4), np.uint8)
    speck[200:202, 300:302, 3] = 255
    with pytest.raises(NotADigit, match="speck"):
        zoo.classify("cnn-bn", speck)
    with pytest.raises(BadRequest, match="Unknown model 'cnn-xl'. Choose one of: mlp, mlp-int8, cnn"):
        zoo.classify("cnn-xl", speck)


def test_altered_file_stops_the_start(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models, ignore=shutil.ignore_patterns("checkpoints", "test_data"))
    with open(models / "charseq.onnx", "r+b") as f:
        f.seek(100)
        f.write(b"\xff")
    with pytest.raises(ManifestError, match="charseq.onnx does not match the sha256"):
        Zoo(models)
    (models / "charseq.onnx").unlink()
    with pytest.raises(ManifestError, match="charseq.onnx is listed in .* but missing"):
        Zoo(models)


def test_the_cli_names_the_altered_file(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models, ignore=shutil.ignore_patterns("checkpoints", "test_data"))
    (models / "cnn.onnx").write_bytes(b"swapped")
    out = subprocess.run(
        [sys.executable, "-m", "demo", "--models", str(models)], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 2 and "cnn.onnx does not match the sha256" in out.stderr


def test_text_encoding_round_trip_and_errors(zoo):
    predicted, probabilities = zoo.predict_next("charseq", "if you want yo")
    assert predicted == "f you want you" and probabilities.shape == (14, 10)
    np.testing.assert_allclose(probabilities.sum(1), 1, atol=1e-5)
    with pytest.raises(BadRequest, match=r"does not know the characters '!', 'Y'.*knows only: ' ' 'a'"):
        zoo.predict_next("charseq", "Yo!")
    with pytest.raises(BadRequest, match="length must be a whole number"):
        zoo.generate("charseq", "if", 2.5)


def test_building_the_app_imports_no_torch():
    code = "import sys; from demo.app import build_app; build_app('models'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_spaces_packaging():
    readme = (ROOT / "README.md").read_text()
    front, _, _ = readme.removeprefix("---\n").partition("\n---\n")
    assert readme.startswith("---\n")
    fields = dict(line.split(": ", 1) for line in front.splitlines() if ": " in line)
    assert fields["sdk"] == "gradio" and fields["app_file"] == "app.py"
    lines = [line.split("#")[0].strip().lower() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    packages = {line.split(">")[0].split("=")[0].split("<")[0] for line in lines if line}
    assert packages == {"onnxruntime", "gradio", "numpy", "pillow"}
    code = "import sys, app; print(type(app.demo).__name__, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.split() == ["Blocks", "False"], out.stderr


def test_a_session_makes_each_component_config_when_first_read(zoo):
    """Every API call is a new Gradio session: its component configs are made when read (demo/app.py
    lazy_session_configs), and they are the configs Gradio would have made at once."""
    from gradio import state_holder

    from demo.app import build_app

    app = build_app("models", zoo=zoo)
    config = app.default_config
    eager = [config.config_for_block(key, [], block) for key, block in config.blocks.items() if key in app.blocks]
    state = state_holder.SessionState(app)
    assert len(state.config_values) == len(eager) > 50
    assert not any(map(state.config_values.made, state.config_values))  # nothing made yet
    assert list(state.components) == [c for c in eager if c]  # read: the same configs, in the same order
    assert list(state.config_values.values()) == eager  # a Mapping as a dict is
    fresh = state_holder.SessionState(app)
    keys = [key for key, block in config.blocks.items() if key in app.blocks and hasattr(block, "value")][:3]
    for key in keys:  # a call sets its inputs' and outputs' values: kept until (if ever) the config is made
        fresh._update_value_in_config(key, f"set {key}")
    assert not any(map(fresh.config_values.made, fresh.config_values))
    for key in keys:
        assert fresh.config_values[key]["props"]["value"] == f"set {key}"


def test_an_rgba_png_is_decoded_straight_into_its_array(tmp_path):
    """demo/images.py decodes a sketch's RGBA PNG into the array itself (no copy): the same pixels as Pillow's
    ordinary way, writable, and an EXIF orientation still applied."""
    import numpy as np
    from PIL import Image

    from demo.images import _rgba_in_place, to_rgba

    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (450, 600, 4), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "sketch.png")
    assert _rgba_in_place(Image.open(tmp_path / "sketch.png")) is not None  # the fast way is the one taken
    got = to_rgba(tmp_path / "sketch.png")
    assert got.flags.writeable and (got == pixels).all()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: the picture is shown upright
    Image.fromarray(pixels).save(tmp_path / "turned.png", exif=exif)
    assert (to_rgba(tmp_path / "turned.png") == np.rot90(pixels, -1)).all()
    Image.fromarray(pixels[..., :3]).save(tmp_path / "rgb.png")  # not RGBA: the ordinary way
    assert _rgba_in_place(Image.open(tmp_path / "rgb.png")) is None


def test_sessions_open_when_first_used(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models, ignore=shutil.ignore_patterns("checkpoints", "test_data"))
    zoo = Zoo(models)
    assert not any(model.opened for model in zoo.models.values())  # nothing opened at start
    sessions = []
    threads = [threading.Thread(target=lambda: sessions.append(zoo.models["charseq"].session)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(s) for s in sessions}) == 1 and zoo.models["charseq"].opened  # one session, opened once
    assert [m.name for m in zoo.models.values() if m.opened] == ["charseq"]
    # a file altered after the start is refused at its first use, with the file named
    with open(models / "hihello-train-sgd.onnx", "r+b") as f:
        f.seek(100)
        f.write(b"\xff")
    with pytest.raises(ManifestError, match="hihello-train-sgd.onnx changed since the demo started"):
        zoo.models["hihello-train-sgd"].run({})
    zoo.open_in_background(zoo.first_screens()).join()
    assert {m.name for m in zoo.models.values() if m.opened} == {"charseq", *zoo.first_screens()}
