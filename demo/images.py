"""Uploads -> RGBA pixels: the only image work the demo does itself (the canvas models do the rest).

Pillow decodes what a browser cannot hand over as pixels (JPEG, 16-bit TIFF, palette GIF, ...); every mode
becomes uint8 [H, W, 4] RGBA, the canvas models' input. Nothing else happens here: finding the ink, cropping,
fitting and centring are inside the ONNX graph (export/canvas.py), the same in every runtime.
"""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (a 9000x9000 upload is 81 MP)
# Pictures larger than this a side are reduced here, as soon as they are decoded, exactly as the canvas
# models' recipe reduces them first (Pillow's thumbnail, box filter, on the 8-bit picture): the graph then
# never holds float planes of a 40 MP picture, and its answer is the same. JPEGs are also decoded at a
# reduced scale (draft), the cheapest reduction of all.
WORK_SIZE = 1024
ORIENTATION = 0x0112  # the EXIF tag
# At most LARGE_AT_ONCE pictures over LARGE_PIXELS are decoded at a time (each takes up to 4 bytes a pixel,
# 160 MB at the 40 MP cap, for the moment it is decoded); smaller ones never wait.
LARGE_PIXELS, LARGE_AT_ONCE = 4_000_000, 2
_large_decodes = threading.BoundedSemaphore(LARGE_AT_ONCE)
MAX_SKETCH_SIDE = 4096  # a drawing from the sketchpad is a screen's canvas, never larger than this a side


class NotADigit(ValueError):
    """The input cannot become a digit frame; the message says why and what is accepted."""


BLANK = "No ink found: the image is blank (or nearly uniform). Draw a digit, or upload a picture of one."
SPECK = "Only a speck of ink was found. Draw a digit (bigger), or upload a picture of one."


def check_blob_size(blob: bytes | None, side: int) -> None:
    """Refuse encoded picture bytes larger than `side` a side (read from the header, nothing decoded)."""
    if blob is None:
        return
    try:
        width, height = Image.open(io.BytesIO(blob)).size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise NotADigit("The drawing is not an image Pillow can read. Draw on the canvas again.") from None
    if width > side or height > side:
        raise NotADigit(f"The drawing is {width}x{height}; a sketch is at most {side}x{side} px.")


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


def to_rgba(image: Image.Image | np.ndarray | str | Path) -> np.ndarray:
    """Any picture (a file, a Pillow image of any mode, a numpy array) as uint8 [H, W, 4] RGBA, upright (a
    file's EXIF orientation applied) and at most WORK_SIZE a side (reduced as the canvas recipe reduces)."""
    name = Path(image).name if isinstance(image, (str, Path)) else "the image"
    given = image if isinstance(image, Image.Image) else None  # the caller's: thumbnail() must not change it
    if isinstance(image, (str, Path)):
        image = open_image(image)
    elif isinstance(image, np.ndarray):
        if image.ndim == 3 and image.shape[2] == 4 and image.dtype == np.uint8:
            check_size((image.shape[1], image.shape[0]))
            if max(image.shape[:2]) <= WORK_SIZE:
                return np.ascontiguousarray(image)
        image = array_to_image(image)
    check_size(image.size)
    large = image.size[0] * image.size[1] > LARGE_PIXELS
    with _large_decodes if large else contextlib.nullcontext():
        return _decoded_rgba(image, given, name)


def _decoded_rgba(image: Image.Image, given: Image.Image | None, name: str) -> np.ndarray:
    try:
        if max(image.size) > WORK_SIZE:
            image.draft("RGB", (WORK_SIZE, WORK_SIZE))  # JPEG: decode at a reduced scale, cheaply
        if image.getexif().get(ORIENTATION, 1) != 1:
            image = ImageOps.exif_transpose(image)  # a phone photo arrives upright
        image = normalise_mode(image)
        if max(image.size) > WORK_SIZE:
            image = image.copy() if image is given else image
            image.thumbnail((WORK_SIZE, WORK_SIZE), Image.Resampling.BOX)
        return np.asarray(image.convert("RGBA"))
    except (OSError, SyntaxError, ValueError) as error:  # decoding fails past the header: truncated, damaged
        raise NotADigit(
            f"{name} could not be decoded: the file is truncated or damaged ({type(error).__name__}). "
            "Upload a complete PNG, JPEG, GIF, BMP, TIFF or WebP picture of one digit."
        ) from None
