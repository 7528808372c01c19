"""The reference sketch recipe in numpy + Pillow: any image -> the 28x28 frame an MNIST model expects.

Serving never runs this: it serves the canvas models (export/canvas.py), in which the same recipe is an
ONNX graph, so that the UI, the API, the browser page and every other runtime compute one thing. This file
is the oracle that graph is proven against (`python -m export --check`, tests/test_canvas.py): readable,
step by step, the way the MNIST authors made their frames.

Find the ink whatever the input (a transparent canvas with the strokes in alpha, black on white, white on
black, coloured, palette, 16-bit, grey + alpha), crop to it, fit it into 20x20 keeping the aspect ratio,
and centre it by its centre of mass in 28x28. A model fed a sketch merely resized to 28x28 is near chance;
the tests draw each of those forms. No torch here: numpy and Pillow only.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from zoo.pictures import BLANK, MIN_CONTRAST, SPECK, NotADigit, array_to_image, check_size, normalise_mode, open_image

__all__ = ["NotADigit", "open_image", "to_mnist_frame", "frame_or_blank", "ink_map", "frame_from_ink", "is_noise"]

WORK_SIZE = 1024  # images are reduced to at most this many pixels a side before looking for ink
# MIN_CONTRAST (zoo/pictures.py): ink must differ from the background by this much (0..1) somewhere
MIN_INK_PIXELS = 16  # and cover at least this many pixels (at most 1024 a side): a speck is not a digit
# Noise is not a drawing: a picture is read only where its paper is calm (at least CALM of its horizontally
# neighbouring pixel pairs differ by at most ALIKE x the peak) or its ink forms strokes (at least STROKES of the
# solid pixels, over half the peak, touch another one above, below or beside them). Fractions as integer ratios.
ALIKE = 0.125
CALM = (19, 20)
STROKES = (7, 8)
BOX = 20  # MNIST: the digit fits a 20x20 box...
FRAME = 28  # ...centred by mass in a 28x28 frame
STROKE = 2.0  # target stroke width in the 20x20 box, in pixels (MNIST's pen is about 2-3 px)


def ink_map(image: Image.Image) -> np.ndarray:
    """float32 [H, W] in [0, 1]: how much each pixel is ink rather than background."""
    check_size(image.size)
    if max(image.size) > WORK_SIZE:
        image.draft("RGB", (WORK_SIZE, WORK_SIZE))  # JPEG: decode at a reduced scale, cheaply
    image = normalise_mode(image)
    if max(image.size) > WORK_SIZE:
        image = image.copy()  # thumbnail() works in place: leave the caller's image as it was
        image.thumbnail((WORK_SIZE, WORK_SIZE), Image.Resampling.BOX)
    pixels = np.asarray(image, dtype=np.float32) / 255
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if image.mode in ("LA", "RGBA"):
        alpha = pixels[..., -1]
        if alpha.min() < 0.98:  # a transparent background: the strokes are what is opaque
            return alpha.copy()
        pixels = pixels[..., :-1]
    # An opaque picture: the background is the typical border colour; ink is whatever differs from it,
    # in any channel (coloured ink, either polarity).
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border, axis=0)
    return np.abs(pixels - background).max(axis=-1)


def to_mnist_frame(image: Image.Image | np.ndarray) -> np.ndarray:
    """float32 [28, 28] in [0, 1], white ink on black, or NotADigit when there is no ink to read."""
    if isinstance(image, np.ndarray):
        image = array_to_image(image)
    return frame_from_ink(ink_map(image))


def frame_or_blank(image: Image.Image | np.ndarray) -> tuple[np.ndarray, bool]:
    """(the frame, True), or (zeros, False) where there is no digit: what a canvas model outputs as frame and ink."""
    try:
        return to_mnist_frame(image), True
    except NotADigit:
        return np.zeros((FRAME, FRAME), np.float32), False


def frame_from_ink(ink: np.ndarray) -> np.ndarray:
    peak = float(ink.max(initial=0))
    if peak < MIN_CONTRAST or is_noise(ink):
        raise NotADigit(BLANK)
    ink = np.where(ink >= 0.3 * peak, ink / peak, 0).astype(np.float32)  # drop paper texture and shadows
    if int((ink > 0.5).sum()) < MIN_INK_PIXELS:
        raise NotADigit(SPECK)

    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    # Work at 4x the final size: small enough to be cheap, large enough to fix the stroke width.
    work = _fit(crop, 4 * BOX)
    work = _thicken(work, target=4 * STROKE)
    digit = _fit(work, BOX)

    frame = np.zeros((FRAME, FRAME), dtype=np.float32)
    h, w = digit.shape
    total = digit.sum()
    cy = (digit.sum(axis=1) * np.arange(h)).sum() / total
    cx = (digit.sum(axis=0) * np.arange(w)).sum() / total
    top = int(np.clip(round(FRAME / 2 - 0.5 - cy), 0, FRAME - h))
    left = int(np.clip(round(FRAME / 2 - 0.5 - cx), 0, FRAME - w))
    frame[top : top + h, left : left + w] = digit
    return np.clip(frame / max(float(frame.max()), 1e-6), 0, 1)


def is_noise(ink: np.ndarray) -> bool:
    """True for a picture of noise (grainy paper, a blank photo), not a drawing: neither calm paper nor strokes.

    Paper is calm when at least 95% of the horizontally neighbouring pixel pairs differ by at most 1/8 of the
    peak ink; strokes are there when at least 7/8 of the solid pixels (over half the peak) touch another solid
    pixel above, below or beside them. A drawing on clean or grainy paper has calm paper; a small picture the
    digit fills, or a fine pen, has strokes; noise, even JPEG-smoothed, has neither. Counted in integers on
    the float32 ink map, so the canvas graph computes the same booleans."""
    peak = ink.max(initial=0)
    alike = np.abs(ink[:, 1:] - ink[:, :-1]) <= peak * ALIKE
    if CALM[1] * int(alike.sum()) >= CALM[0] * alike.size:
        return False
    solid = ink > peak * 0.5
    around = np.pad(solid, 1)
    touching = solid & (around[:-2, 1:-1] | around[2:, 1:-1] | around[1:-1, :-2] | around[1:-1, 2:])
    return STROKES[1] * int(touching.sum()) < STROKES[0] * int(solid.sum())


def _fit(ink: np.ndarray, size: int) -> np.ndarray:
    """Resize so the longer side is `size`, keeping the aspect ratio (area-averaging when shrinking)."""
    h, w = ink.shape
    scale = size / max(h, w)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    out = np.asarray(Image.fromarray(ink, "F").resize(new, resample), dtype=np.float32)
    return out / max(float(out.max()), 1e-6)


def _thicken(ink: np.ndarray, target: float) -> np.ndarray:
    """Dilate thin strokes (a fine pen on a big picture) to about `target` pixels wide.

    Stroke width is estimated as 2 * area / perimeter, exact for long thin strokes. Thick strokes are left
    alone: the models were trained with thickened strokes too.
    """
    solid = ink > 0.5
    area = int(solid.sum())
    if area == 0:
        return ink
    padded = np.pad(solid, 1)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    perimeter = max(int((solid & ~interior).sum()), 1)
    width = 2 * area / perimeter
    if width >= target * 0.75:
        return ink
    size = 2 * math.ceil((target - width) / 2) + 1  # odd
    return np.asarray(Image.fromarray(ink, "F").filter(ImageFilter.MaxFilter(size)), dtype=np.float32)
