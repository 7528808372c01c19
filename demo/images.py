"""Uploads -> RGBA pixels: the only image work the demo does itself (the canvas models do the rest).

Pillow decodes what a browser cannot hand over as pixels (JPEG, 16-bit TIFF, palette GIF, ...); every mode
becomes uint8 [H, W, 4] RGBA, the canvas models' input. Nothing else happens here: finding the ink, cropping,
fitting and centring are inside the ONNX graph (export/canvas.py), the same in every runtime.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (a 9000x9000 upload is 81 MP)
DRAFT_SIZE = 1024  # JPEGs larger than this a side are decoded at a reduced scale (cheap, still >= this)


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
        array = np.asarray(image, dtype=np.float64)
        full = 65535.0 if mode.startswith("I;16") else max(float(array.max()), 1.0)
        return Image.fromarray(np.clip(array / full * 255, 0, 255).astype(np.uint8))
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV


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


def to_rgba(image: Image.Image | np.ndarray | str | Path) -> np.ndarray:
    """Any picture (a file, a Pillow image of any mode, a numpy array) as uint8 [H, W, 4] RGBA."""
    if isinstance(image, (str, Path)):
        image = open_image(image)
    elif isinstance(image, np.ndarray):
        if image.ndim == 3 and image.shape[2] == 4 and image.dtype == np.uint8:
            check_size((image.shape[1], image.shape[0]))
            return np.ascontiguousarray(image)
        image = array_to_image(image)
    check_size(image.size)
    if max(image.size) > DRAFT_SIZE:
        image.draft("RGB", (DRAFT_SIZE, DRAFT_SIZE))  # JPEG: decode at a reduced scale, cheaply
    return np.asarray(normalise_mode(image).convert("RGBA"))
