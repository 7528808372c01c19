"""Pictures of any kind as Pillow images and arrays: what serving (demo/images.py) and the recipe's reference
(export/reference.py) share. Pillow and numpy only.

Every Pillow mode becomes L, LA, RGB or RGBA (8 bits); NaN pixels become background; sizes are checked
before anything is decoded. `NotADigit` carries the message a user sees.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (a 9000x9000 upload is 81 MP)
MIN_CONTRAST = 0.12  # a canvas model's `contrast` output below this: the picture is blank (else a speck)


class NotADigit(ValueError):
    """The input cannot become a digit frame; the message says why and what is accepted."""


BLANK = "No ink found: the image is blank (or nearly uniform). Draw a digit, or upload a picture of one."
SPECK = "Only a speck of ink was found. Draw a digit (bigger), or upload a picture of one."


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


def normalise_mode(image: Image.Image) -> Image.Image:
    """Bring every Pillow mode to L, LA, RGB or RGBA (8 bits), keeping transparency."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if mode in ("P", "PA", "RGBa", "La"):  # palette, premultiplied alpha
        return image.convert("RGBA")
    if mode.startswith("I") or mode == "F":  # 16-bit and 32-bit grey: scale the real range to 0..255
        array = _finite(np.asarray(image, dtype=np.float64))
        full = 65535.0 if mode.startswith("I;16") else max(float(array.max(initial=0)), 1.0)
        return Image.fromarray(np.clip(array / full * 255, 0, 255).astype(np.uint8))
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV


def _finite(array: np.ndarray) -> np.ndarray:
    """NaN and infinite pixels (a float TIFF's "no data") become background: the median of the finite pixels
    of the border (of all finite pixels if the border has none; 0 if there are none)."""
    finite = np.isfinite(array)
    if finite.all():
        return array
    border = np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]])
    known = border[np.isfinite(border)]
    if known.size == 0:
        known = array[finite]
    return np.where(finite, array, float(np.median(known)) if known.size else 0.0)


def array_to_image(array: np.ndarray) -> Image.Image:
    """A numpy image (H,W), (H,W,1|2|3|4), uint8/uint16/float in [0,1]) as a Pillow image."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (2, 3, 4)):
        raise NotADigit(f"An image array must be HxW or HxWx(1-4); got shape {array.shape}.")
    if array.dtype == np.uint16:
        array = (array / 257).astype(np.uint8)
    elif array.dtype != np.uint8:
        array = _finite(array.astype(np.float64))
        array = np.clip(array * (255 if array.max(initial=0) <= 1 else 1), 0, 255)
        array = array.astype(np.uint8)
    return Image.fromarray(array)  # uint8 HxW, HxWx2, x3, x4 -> L, LA, RGB, RGBA


def plain_rgba(image: Image.Image | np.ndarray) -> np.ndarray:
    """A Pillow image of any mode, or a numpy image, as uint8 [H, W, 4] RGBA at its own size: a canvas
    model's input, with nothing done to it (serving also reduces large pictures: demo/images.py)."""
    if isinstance(image, np.ndarray):
        if image.ndim == 3 and image.shape[2] == 4 and image.dtype == np.uint8:
            return np.ascontiguousarray(image)
        image = array_to_image(image)
    return np.asarray(normalise_mode(image).convert("RGBA"))
