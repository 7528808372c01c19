"""Any image -> the 28x28 frame an MNIST model expects, the way the MNIST authors made theirs.

Find the ink whatever the input (a transparent canvas with the strokes in alpha, black on white, white on
black, coloured, palette, 16-bit, grey + alpha), crop to it, fit it into 20x20 keeping the aspect ratio,
and centre it by its centre of mass in 28x28. A model fed a sketch merely resized to 28x28 is near chance;
the tests draw each of those forms. No torch here: numpy and Pillow only.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (a 9000x9000 upload is 81 MP)
WORK_SIZE = 1024  # images are reduced to at most this many pixels a side before looking for ink
MIN_CONTRAST = 0.12  # ink must differ from the background by this much (0..1) somewhere
MIN_INK_PIXELS = 16  # and cover at least this many pixels (at most 1024 a side): a speck is not a digit
BOX = 20  # MNIST: the digit fits a 20x20 box...
FRAME = 28  # ...centred by mass in a 28x28 frame
STROKE = 2.0  # target stroke width in the 20x20 box, in pixels (MNIST's pen is about 2-3 px)


class NotADigit(ValueError):
    """The input cannot become a digit frame; the message says why and what is accepted."""


def open_image(path: str | Path) -> Image.Image:
    """Open an uploaded file as an image, refusing non-images and huge images before decoding."""
    try:
        image = Image.open(path)
    except (UnidentifiedImageError, OSError) as error:
        raise NotADigit(
            f"{Path(path).name} is not an image Pillow can read ({type(error).__name__}). "
            "Upload a PNG, JPEG, GIF, BMP, TIFF or WebP picture of one digit."
        ) from None
    check_size(image.size)
    return image


def check_size(size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise NotADigit(
            f"The image is {width}x{height} ({width * height / 1e6:.0f} megapixels); the limit is "
            f"{MAX_PIXELS / 1e6:.0f} megapixels. Scale it down and upload it again."
        )
    if width < 1 or height < 1:
        raise NotADigit(f"The image is {width}x{height}: empty.")


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Bring every Pillow mode to L, LA, RGB or RGBA (8 bits), keeping transparency."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if mode in ("P", "PA"):
        return image.convert("RGBA")
    if mode in ("RGBa", "La"):  # premultiplied alpha
        return image.convert("RGBA")
    if mode.startswith("I") or mode == "F":  # 16-bit and 32-bit grey: scale the real range to 0..255
        array = np.asarray(image, dtype=np.float64)
        full = 65535.0 if mode.startswith("I;16") else max(float(array.max()), 1.0)
        return Image.fromarray(np.clip(array / full * 255, 0, 255).astype(np.uint8), "L")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV


def ink_map(image: Image.Image) -> np.ndarray:
    """float32 [H, W] in [0, 1]: how much each pixel is ink rather than background."""
    check_size(image.size)
    if max(image.size) > WORK_SIZE:
        image.draft("RGB", (WORK_SIZE, WORK_SIZE))  # JPEG: decode at a reduced scale, cheaply
    image = _normalise_mode(image)
    if max(image.size) > WORK_SIZE:
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


def array_to_image(array: np.ndarray) -> Image.Image:
    """A numpy image (H,W), (H,W,1|2|3|4), uint8/uint16/float in [0,1]) as a Pillow image."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (2, 3, 4)):
        raise NotADigit(f"An image array must be HxW or HxWx(1-4); got shape {array.shape}.")
    if array.dtype == np.uint16:
        array = (array / 257).astype(np.uint8)
    elif array.dtype != np.uint8:
        array = np.clip(np.nan_to_num(array.astype(np.float32)) * (255 if array.max(initial=0) <= 1 else 1), 0, 255)
        array = array.astype(np.uint8)
    return Image.fromarray(array)  # uint8 HxW, HxWx2, x3, x4 -> L, LA, RGB, RGBA


def frame_from_ink(ink: np.ndarray) -> np.ndarray:
    peak = float(ink.max(initial=0))
    if peak < MIN_CONTRAST:
        raise NotADigit(
            "No ink found: the image is blank (or nearly uniform). Draw a digit, or upload a picture of one."
        )
    ink = np.where(ink >= 0.3 * peak, ink / peak, 0).astype(np.float32)  # drop paper texture and shadows
    if int((ink > 0.5).sum()) < MIN_INK_PIXELS:
        raise NotADigit("Only a speck of ink was found. Draw a digit (bigger), or upload a picture of one.")

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
