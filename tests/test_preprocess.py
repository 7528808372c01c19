"""export/reference.py, the reference recipe (the canvas models are proven against it), on images drawn in every
form an upload or a canvas can take (export/sketches.py)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from export.reference import NotADigit, open_image, to_mnist_frame
from export.sketches import FORMS
from export.sketches import on_canvas as _on_canvas

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def classify():
    session = ort.InferenceSession(str(ROOT / "models" / "cnn-bn.onnx"))
    return lambda frame: int(session.run(["logits"], {"image": frame[None, None].astype(np.float32)})[0].argmax())


@pytest.mark.parametrize("form", FORMS)
def test_every_form_gives_the_same_centred_frame(digits, classify, form):
    reference = [to_mnist_frame(FORMS["white on black"](_on_canvas(ink))) for ink in digits]
    for label, ink in enumerate(digits):
        frame = to_mnist_frame(FORMS[form](_on_canvas(ink)))
        assert frame.shape == (28, 28) and frame.dtype == np.float32
        assert frame.min() >= 0 and frame.max() == pytest.approx(1)
        rows, cols = np.flatnonzero(frame.any(1)), np.flatnonzero(frame.any(0))
        assert rows[-1] - rows[0] < 21 and cols[-1] - cols[0] < 21, "the digit must fit the 20x20 box"
        cy = (frame.sum(1) * np.arange(28)).sum() / frame.sum()
        cx = (frame.sum(0) * np.arange(28)).sum() / frame.sum()
        assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1, "centred by mass"
        assert np.abs(frame - reference[label]).mean() < 0.08, form  # binarised forms differ a little
        assert classify(frame) == label, f"{form}: digit {label}"


def test_a_naive_resize_is_what_fails(digits, classify):
    """Why the MNIST recipe matters: a small digit in a corner of the canvas, merely resized to 28x28, is
    near chance; the same sketches through to_mnist_frame are all right."""
    small = [np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).resize((84, 84))) / 255 for ink in digits]
    sketches = [_on_canvas(ink, offset=(50, 500), size=(600, 800)) for ink in small]
    naive = [np.asarray(Image.fromarray((s * 255).astype(np.uint8)).resize((28, 28), Image.Resampling.BILINEAR)) / 255
             for s in sketches]  # fmt: skip
    assert sum(classify(f) == k for k, f in enumerate(naive)) <= 3
    assert all(classify(to_mnist_frame(FORMS["white on black"](s))) == k for k, s in enumerate(sketches))


def test_thin_strokes_on_a_big_picture_are_thickened(classify):
    """A 1-px pen on a 1000 px page would vanish when shrunk to 20 px; the frame keeps a visible stroke."""
    page = Image.new("L", (1000, 1000), 255)
    from PIL import ImageDraw

    ImageDraw.Draw(page).line([(500, 150), (500, 850)], fill=0, width=2)  # a "1"
    frame = to_mnist_frame(page)
    assert frame.max() == 1 and (frame > 0.5).sum() >= 20
    assert classify(frame) == 1


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGBA", (400, 400), (0, 0, 0, 0)),  # a blank sketchpad
        Image.new("RGB", (400, 400), "white"),
        Image.new("L", (400, 400), 0),
        Image.new("RGB", (400, 400), (30, 120, 200)),
        Image.fromarray(np.random.default_rng(0).integers(120, 135, (300, 300), dtype=np.uint8)),  # grey noise
    ],
    ids=["transparent", "white", "black", "blue", "faint noise"],
)
def test_an_image_without_ink_is_not_a_digit(image):
    with pytest.raises(NotADigit, match="No ink found.*Draw a digit"):
        to_mnist_frame(image)


def test_a_speck_is_not_a_digit():
    image = Image.new("L", (400, 400), 0)
    image.putpixel((200, 200), 255)
    with pytest.raises(NotADigit, match="speck"):
        to_mnist_frame(image)


def test_a_file_that_is_not_an_image(tmp_path):
    path = tmp_path / "digit.png"
    path.write_text("this is not a picture")
    with pytest.raises(NotADigit, match="digit.png is not an image.*Upload a PNG, JPEG"):
        open_image(path)


def test_a_huge_image_is_refused_before_it_is_decoded(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("1", (9000, 9000)).save(path)  # 81 megapixels, a few kB on disk
    with pytest.raises(NotADigit, match="9000x9000 \\(81 megapixels\\); the limit is 40"):
        open_image(path)


def test_jpeg_upload_reads(tmp_path, digits, classify):
    path = tmp_path / "seven.jpg"
    FORMS["black on white"](_on_canvas(digits[7])).save(path, quality=70)
    assert classify(to_mnist_frame(open_image(path))) == 7
