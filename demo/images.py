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
from PIL import Image, ImageOps

from zoo.pictures import (  # noqa: F401  (BLANK, SPECK, NotADigit: the messages serving gives)
    BLANK,
    SPECK,
    NotADigit,
    array_to_image,
    check_size,
    normalise_mode,
    open_image,
    real_size,
    too_large_message,
    too_large_values,
)

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


def check_blob_size(blob: bytes | None, side: int) -> None:
    """Refuse encoded picture bytes larger than `side` a side (the size Pillow would decode, read from the
    headers; nothing decoded)."""
    if blob is None:
        return
    with open_image(io.BytesIO(blob), "The drawing") as image:
        width, height = real_size(image)
    if width > side or height > side:
        raise NotADigit(
            f"The drawing is {width}x{height}; a sketch is at most {side}x{side} px.",
            "error.sketch_too_large",
            width=width,
            height=height,
            side=side,
        )


def to_rgba(image, name: str | None = None, max_side: int | None = None) -> np.ndarray:
    """Any picture (a file's path or bytes in a binary file, a Pillow image of any mode, a numpy array) as
    uint8 [H, W, 4] RGBA, upright (a file's EXIF orientation applied) and at most WORK_SIZE a side (reduced as
    the canvas recipe reduces). A picture that cannot be read raises NotADigit, and nothing of it stays
    reachable from the error: a failed decode gives its memory back as a successful one does. `max_side`: a
    picture larger than this a side is refused before it is decoded (a Sketchpad drawing)."""
    try:
        return _to_rgba(image, name, max_side)
    except NotADigit as error:
        message, key, values = str(error), error.key, error.values
    raise NotADigit(message, key, **values)  # raised here, outside the except: the failed picture's frames are gone


def _to_rgba(image, name: str | None, max_side: int | None) -> np.ndarray:
    name = name or (Path(image).name if isinstance(image, (str, Path)) else "the image")
    given = image if isinstance(image, Image.Image) else None  # the caller's: thumbnail() must not change it
    if isinstance(image, (str, Path)) or hasattr(image, "read"):
        image = open_image(image, name)
    elif isinstance(image, np.ndarray):
        if image.ndim == 3 and image.shape[2] == 4 and image.dtype == np.uint8:
            check_size((image.shape[1], image.shape[0]))
            if max(image.shape[:2]) <= WORK_SIZE:
                return np.ascontiguousarray(image)
        image = array_to_image(image)
    width, height = real_size(image) if given is None else image.size
    check_size((width, height))
    if max_side is not None and max(width, height) > max_side:
        raise NotADigit(
            f"The drawing is {width}x{height}; a sketch is at most {max_side}x{max_side} px.",
            "error.sketch_too_large",
            width=width,
            height=height,
            side=max_side,
        )
    large = width * height > LARGE_PIXELS
    try:
        with _large_decodes if large else contextlib.nullcontext():
            return _decoded_rgba(image, given, name)
    finally:
        if given is None:
            image.close()  # the file and any partly decoded pixels, now, not when the error is collected


def _decoded_rgba(image: Image.Image, given: Image.Image | None, name: str) -> np.ndarray:
    pixels = None
    try:
        pixels = _rgba_in_place(image)  # a sketch's RGBA PNG: decoded straight into the array
        if max(image.size) > WORK_SIZE:
            image.draft("RGB", (WORK_SIZE, WORK_SIZE))  # JPEG: decode at a reduced scale, cheaply
        if image.getexif().get(ORIENTATION, 1) != 1:
            image = ImageOps.exif_transpose(image)  # a phone photo arrives upright
        elif pixels is not None:
            return pixels
        image = normalise_mode(image)
        if max(image.size) > WORK_SIZE:
            image = image.copy() if image is given else image
            image.thumbnail((WORK_SIZE, WORK_SIZE), Image.Resampling.BOX)
        return np.asarray(image.convert("RGBA"))
    except Image.DecompressionBombError as error:  # an icon's inner picture, found over Pillow's own limit
        failure, key, values = too_large_message(str(error)), "error.too_large", too_large_values(str(error))
    except Exception as error:  # decoding fails past the header: truncated, damaged (a plugin's IndexError, ...)
        values = {"name": name, "kind": type(error).__name__}
        failure, key = (
            (
                f"{name} could not be decoded: the file is truncated or damaged ({values['kind']}). "
                "Upload a complete PNG, JPEG, GIF, BMP, TIFF or WebP picture of one digit."
            ),
            "error.damaged",
        )
    del image, pixels
    raise NotADigit(failure, key, **values)


def _rgba_in_place(image: Image.Image) -> np.ndarray | None:
    """An RGBA PNG of at most WORK_SIZE a side, not decoded yet (a sketch, an API upload): decode it straight into
    a numpy array, or None for any other picture. `np.asarray` of a decoded picture copies it through Pillow's
    `tobytes()` (about 1 ms for a 600x450 canvas, on every request); here Pillow's PNG decoder writes into an
    image mapped onto the array. If a Pillow ever decodes elsewhere, its pixels are taken the ordinary way."""
    loaded = getattr(image, "_im", None) if hasattr(image, "_im") else getattr(image, "im", None)
    if image.format != "PNG" or image.mode != "RGBA" or max(image.size) > WORK_SIZE or loaded is not None:
        return None
    pixels = np.empty((image.height, image.width, 4), np.uint8)
    target = Image.frombuffer("RGBA", image.size, pixels, "raw", "RGBA", 0, 1)
    image.im = target.im  # ImageFile.load decodes into an image of the right mode and size that is already there
    image.load()
    return pixels if image.im is target.im else np.asarray(image)
