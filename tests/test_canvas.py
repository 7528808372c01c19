"""The canvas models: the sketch recipe as ONNX ops in front of each digit model (export/canvas.py).

Held against the reference recipe (export/reference.py) on every form a canvas or an upload takes, on odd
sizes, on blanks and specks; then used the way another runtime would: raw RGBA pixels in, one call.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from PIL import Image, ImageDraw

from export.reference import frame_or_blank, to_mnist_frame
from export.sketches import FORMS, THIN, no_digit, on_canvas, photo, thin_pen
from zoo.pictures import BLANK, MIN_CONTRAST, NotADigit
from zoo.pictures import plain_rgba as to_rgba

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def canvas():
    session = ort.InferenceSession(str(ROOT / "models" / "cnn-bn-canvas.onnx"), providers=["CPUExecutionProvider"])

    def run(image):
        probabilities, frame, ink, contrast = session.run(None, {"image": to_rgba(image)})
        return probabilities, frame, bool(ink), float(contrast)

    return run


@pytest.mark.parametrize("form", FORMS)
def test_every_form_gives_the_reference_frame_and_the_digit(canvas, digits, form):
    for label, ink in enumerate(digits):
        image = FORMS[form](on_canvas(ink))
        want, _ = frame_or_blank(image)
        probabilities, frame, has_ink, _ = canvas(image)
        assert has_ink and frame.shape == (28, 28) and probabilities.shape == (1, 10)
        np.testing.assert_allclose(frame, want, atol=1e-6, err_msg=form)
        assert probabilities.argmax() == label, f"{form}: digit {label}"


@pytest.mark.parametrize("label", THIN)
def test_a_fine_pen_on_a_big_page_is_thickened_as_the_reference_does(canvas, label):
    for image in (thin_pen(label), thin_pen(label, (2000, 1500), 3)):  # the second is reduced first (> 1024 px)
        want, _ = frame_or_blank(image)
        probabilities, frame, has_ink, _ = canvas(image)
        assert has_ink and (frame > 0.5).sum() >= 20
        np.testing.assert_allclose(frame, want, atol=1e-6)
        assert probabilities.argmax() == label


def test_a_large_photo_is_read_as_frame_or_blank_reads_it(canvas):
    for size in ((4000, 3000), (6000, 4500)):  # the box filter alone; reduce() 2x2 first
        image = photo(size).convert("RGB")  # decoded at its own size (no JPEG draft mode)
        rgba = np.asarray(image.convert("RGBA"))
        assert rgba.shape == (size[1], size[0], 4)
        probabilities, frame, has_ink, _ = canvas(rgba)
        want, _ = frame_or_blank(image)
        assert has_ink and probabilities.argmax() == 3
        np.testing.assert_allclose(frame, want, atol=1e-6)


# (height, width) of large pictures, and what each one's thumbnail exercises
THUMBNAILS = {
    (3000, 4000): "the box filter alone: windows of 3 and 4 pixels",
    (1077, 1575): "a window whose last pixel the box filter itself leaves out by rounding",
    (4101, 1000): "reduce() 2x2 with a partial last row of blocks",
    (5003, 3001): "reduce() 2x2 with partial blocks on both edges",
    (6300, 6300): "reduce() 3x3, whose fixed-point rounding is not the rounded mean",
    (2500, 9000): "reduce() 4x4",
    (40, 5000): "a wide strip: reduce() 2x2",
    (5000, 40): "over 100 times taller than wide after reduce(): Pillow resizes down first",
    (3000, 20): "over 100 times taller than wide, no reduce()",
    (20000, 3): "reduce() 1x9 of a three-pixel-wide line",
    (1, 5000): "a single row",
}


@pytest.fixture(scope="module")
def thumbnail():
    from export.canvas import thumbnail_model

    return ort.InferenceSession(thumbnail_model().SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("size", list(THUMBNAILS), ids=[f"{w}x{h}" for h, w in THUMBNAILS])
def test_a_large_picture_becomes_pillows_thumbnail_bit_for_bit(thumbnail, size):
    """On noise (every rounding case), the graph's first step against Pillow's own thumbnail: an opaque
    picture's colour as Pillow makes it of the RGB picture (reduce() first); a picture with transparency's
    alpha as Pillow makes it of the RGBA picture (the box filter alone)."""
    rng = np.random.default_rng(size[0] * 7 + size[1])
    rgba = rng.integers(0, 256, (*size, 4), dtype=np.uint8)
    opaque = np.concatenate([rgba[..., :3], np.full((*size, 1), 255, np.uint8)], axis=2)
    for pixels, picture, channels in ((opaque, Image.fromarray(rgba[..., :3]), slice(0, 3)),
                                      (rgba, Image.fromarray(rgba), slice(3, 4))):  # fmt: skip
        (planes,) = thumbnail.run(None, {"image": pixels})
        picture.thumbnail((1024, 1024), Image.Resampling.BOX)
        want = np.asarray(picture).transpose(2, 0, 1)[channels]
        assert planes[channels].shape == want.shape, THUMBNAILS[size]
        differ = int((planes[channels] != want).sum())
        assert differ == 0, f"{THUMBNAILS[size]}: {differ} of {want.size} values differ from Pillow's ({picture.mode})"


def test_a_large_transparent_canvas_is_read_as_frame_or_blank_reads_it(canvas):
    """A 5000x5000 sketchpad drawn with a fine pen: the frame is the reference's on the same RGBA pixels."""
    image = Image.new("RGBA", (5000, 5000), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(1500, 1000), (3500, 1000), (2250, 4250)], fill=(0, 0, 0, 255), width=12)
    probabilities, frame, has_ink, _ = canvas(image)
    want, _ = frame_or_blank(image)
    assert has_ink and probabilities.argmax() == 7
    np.testing.assert_allclose(frame, want, atol=1e-6)


def test_a_large_opaque_rgba_picture_is_reduced_as_rgb_and_answered_alike(canvas):
    """Past 2048 px Pillow reduces an RGB picture first but not an RGBA one; the graph, which only sees RGBA,
    reduces the opaque ones: its frame is the recipe's on the RGB picture, bit for bit, and its answer the
    recipe's on the RGBA picture too (docs/limitations.md)."""
    from tests.browser import large_picture

    rgba = large_picture()  # 4100x3000, opaque
    probabilities, frame, has_ink, _ = canvas(rgba)
    as_rgb, _ = frame_or_blank(Image.fromarray(np.ascontiguousarray(rgba[..., :3])))
    as_rgba, _ = frame_or_blank(Image.fromarray(rgba))
    np.testing.assert_allclose(frame, as_rgb, atol=1e-6)
    assert np.abs(frame - as_rgba).max() > 0.1  # the two readings do differ here...
    classifier = ort.InferenceSession(str(ROOT / "models" / "cnn-bn.onnx"), providers=["CPUExecutionProvider"])
    (want,) = classifier.run(["probabilities"], {"image": as_rgba[None, None]})
    assert has_ink and probabilities.argmax() == want.argmax() == 7  # ...and agree on the digit


@pytest.mark.parametrize("case", list(no_digit()), ids=lambda c: c.name)
def test_no_digit_is_never_guessed(canvas, case):
    probabilities, frame, has_ink, contrast = canvas(case.image)
    assert not has_ink
    assert not probabilities.any() and not frame.any(), "without ink the outputs are zeros, not a guess"
    assert (contrast < 0.12) == (case.group == "blank")


def _jpeg(image: Image.Image, quality: int = 30) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def _grey_paper(size, grey: int, sigma: float, seed: int = 1) -> np.ndarray:
    return grey + np.random.default_rng(seed).normal(0, sigma, size[::-1])


@pytest.mark.parametrize("sigma", [8, 15, 30, 60])
def test_a_picture_of_only_noise_is_blank_not_a_digit(canvas, sigma):
    """Grainy paper without a drawing (PNG, a JPEG at quality 30, small and large, noisy alpha): the blank message
    from the reference and from the graph (`contrast` 0), never a guess."""
    pictures = {
        "280x280 PNG": Image.fromarray(_grey_paper((280, 280), 128, sigma).clip(0, 255).astype(np.uint8)),
        "800x600 JPEG": _jpeg(Image.fromarray(_grey_paper((800, 600), 200, sigma).clip(0, 255).astype(np.uint8))),
        "280x280 JPEG": _jpeg(Image.fromarray(_grey_paper((280, 280), 128, sigma).clip(0, 255).astype(np.uint8))),
    }
    alpha = np.zeros((300, 400, 4), np.uint8)
    alpha[..., 3] = _grey_paper((400, 300), sigma, sigma).clip(0, 255)  # a faint haze of dust on a sketchpad
    pictures["300x400 noisy alpha"] = alpha
    for name, image in pictures.items():
        with pytest.raises(NotADigit) as refused:
            to_mnist_frame(image)
        assert str(refused.value) == BLANK, name
        probabilities, frame, has_ink, contrast = canvas(image)
        assert not has_ink and contrast < MIN_CONTRAST, name  # the demo and the page show BLANK
        assert not probabilities.any() and not frame.any(), name


def test_a_drawing_on_grainy_paper_or_a_small_rough_one_is_still_read(canvas):
    """Real test digits on noisy grey paper as JPEGs, and as they are at 28x28: read, as the reference reads them."""
    from zoo.data import load_mnist5k

    data = load_mnist5k()
    for label in range(10):
        i = int(np.flatnonzero(data.y_test == label)[3])
        ink = np.asarray(Image.fromarray(data.x_test[i]).resize((280, 280), Image.Resampling.BILINEAR)) / 255
        paper = _grey_paper((280, 280), 200, 12, seed=label)
        for image in (_jpeg(Image.fromarray((paper * (1 - 0.8 * ink)).clip(0, 255).astype(np.uint8))),
                      Image.fromarray(data.x_test[i])):  # fmt: skip
            want, want_ink = frame_or_blank(image)
            probabilities, frame, has_ink, contrast = canvas(image)
            assert want_ink and has_ink and contrast >= MIN_CONTRAST
            np.testing.assert_allclose(frame, want, atol=1e-6)
            assert probabilities.argmax() == label


@pytest.mark.parametrize("size", [(1, 1), (1, 7), (7, 1), (3, 2500), (2500, 3), (1025, 1), (5000, 40)])
def test_any_size_from_one_pixel(canvas, size):
    """Odd shapes run and agree with the reference (ink decision and frame), thin and long ones included."""
    rng = np.random.default_rng(sum(size))
    h, w = size
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 3] = (rng.random((h, w)) < 0.3) * 255
    probabilities, frame, has_ink, _ = canvas(rgba)
    want, want_ink = frame_or_blank(rgba)
    assert has_ink == want_ink
    if max(size) <= 1024:
        np.testing.assert_allclose(frame, want, atol=1e-6)


def test_random_canvases_agree_with_frame_or_blank(canvas):
    """Strokes of random width, position and colour on random backgrounds, both polarities."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        w, h = int(rng.integers(40, 900)), int(rng.integers(40, 900))
        transparent = rng.random() < 0.5
        background = (0, 0, 0, 0) if transparent else tuple(int(v) for v in rng.integers(0, 256, 3)) + (255,)
        image = Image.new("RGBA", (w, h), background)
        points = [(float(rng.uniform(0, w)), float(rng.uniform(0, h))) for _ in range(int(rng.integers(2, 6)))]
        ink = tuple(int(v) for v in rng.integers(0, 256, 3)) + (255,)
        ImageDraw.Draw(image).line(points, fill=ink, width=int(rng.integers(1, 30)))
        _, frame, has_ink, _ = canvas(image)
        want, want_ink = frame_or_blank(image)
        assert has_ink == want_ink
        np.testing.assert_allclose(frame, want, atol=1e-5)


def test_the_contract_is_in_the_file_and_the_manifest():
    entries = {e["name"]: e for e in json.loads((ROOT / "models" / "manifest.json").read_text())["models"]}
    digit_models = [n for n, e in entries.items() if e["task"] == "digits" and e["kind"] in ("full", "int8")]
    assert len(digit_models) == 8
    for name in digit_models:
        entry = entries[f"{name}-canvas"]
        assert entry["kind"] == "canvas" and entry["task"] == "digits" and entry["base_model"] == name
        assert entry["inputs"] == {"image": {"shape": ["H", "W", 4], "dtype": "uint8"}}
        assert list(entry["outputs"]) == ["probabilities", "frame", "ink", "contrast"]
        model = onnx.load(str(ROOT / "models" / entry["file"]))
        props = {p.key: p.value for p in model.metadata_props}
        assert props["kind"] == "canvas" and props["base_model"] == name
        assert set(json.loads(props["outputs"])) == {"probabilities", "frame", "ink", "contrast"}
        assert [o.name for o in model.graph.output] == ["probabilities", "frame", "ink", "contrast"]


def test_onnxruntime_and_pillow_alone_classify_a_png(tmp_path):
    """The model card's snippet, in a fresh interpreter that imports nothing from this repository."""
    path = tmp_path / "seven.png"
    image = Image.new("RGBA", (600, 450), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(200, 100), (400, 100), (280, 380)], fill=(0, 0, 0, 255), width=18)
    image.save(path)
    code = (
        "import sys, numpy as np, onnxruntime as ort\n"
        "from PIL import Image\n"
        "assert not any(m.split('.')[0] in ('demo', 'export', 'zoo') for m in sys.modules)\n"
        f"session = ort.InferenceSession({str(ROOT / 'models' / 'cnn-bn-canvas.onnx')!r})\n"
        f"rgba = np.asarray(Image.open({str(path)!r}).convert('RGBA'))\n"
        "probabilities, frame, ink, contrast = session.run(None, {'image': rgba})\n"
        "print(probabilities.argmax() if ink else 'no digit')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "7"


@pytest.mark.parametrize("drawing, want", [("seven", 7), ("blank", None)])
def test_onnxruntime_node_reads_a_png_sketch_in_one_call(tmp_path, drawing, want):
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    if not (ROOT / "node_modules" / "onnxruntime-node").is_dir() or not (ROOT / "node_modules" / "pngjs").is_dir():
        pytest.skip("onnxruntime-node / pngjs are not installed (npm ci; .ci/run does it)")
    image = Image.new("RGBA", (600, 450), (0, 0, 0, 0))
    if drawing == "seven":
        ImageDraw.Draw(image).line([(200, 100), (400, 100), (280, 380)], fill=(0, 0, 0, 255), width=18)
    image.save(tmp_path / "sketch.png")
    out = subprocess.run([node, "tests/node/classify_png.mjs", "models/cnn-bn-canvas.onnx", str(tmp_path / "sketch.png")],
                         capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["label"] == want and result["ink"] == (want is not None)
    assert (result["width"], result["height"]) == (600, 450)
