"""Pictures of any kind as Pillow images and arrays: what serving (demo/images.py) and the recipe's reference
(export/reference.py) share. Pillow and numpy only.

Every Pillow mode becomes L, LA, RGB or RGBA (8 bits); NaN pixels become background; sizes are checked
before anything is decoded, by the size Pillow will really decode (an icon file's header may name a small
picture and hold a large one). `NotADigit` carries the message a user sees.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (a 9000x9000 upload is 81 MP)
MIN_CONTRAST = 0.12  # a canvas model's `contrast` output below this: the picture is blank (else a speck)


class NotADigit(ValueError):
    """The input cannot become a digit frame; the message says why and what is accepted. `key` and `values`,
    where given, name the same sentence in the demo's language tables (demo/strings.py), for a reader who
    prefers another language; the message itself is always the English one."""

    def __init__(self, message: str, key: str | None = None, **values):
        super().__init__(message)
        self.key, self.values = key, values


BLANK = "No ink found: the image is blank, nearly uniform or only noise. Draw a digit, or upload a picture of one."
SPECK = "Only a speck of ink was found. Draw a digit (bigger), or upload a picture of one."


def open_image(path, name: str | None = None) -> Image.Image:
    """Open an uploaded file (a path or a binary file object) as an image, refusing non-images and huge
    images before decoding: the size checked is the one Pillow will decode (`real_size`)."""
    name = name or (Path(path).name if isinstance(path, (str, Path)) else "the image")
    try:
        with open(path, "rb") if isinstance(path, (str, Path)) else _rewound(path) as file:
            check_icon(file)  # Pillow decodes an ICO file as it opens it: its real size is read first
        image = Image.open(path)
        check_size(real_size(image))
        return image
    except Image.DecompressionBombError as error:  # over Pillow's own limit, found while opening
        message, key, values = too_large_message(str(error)), "error.too_large", too_large_values(str(error))
    except NotADigit:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as error:
        values = {"name": name, "kind": type(error).__name__}
        message, key = (
            (
                f"{name} is not an image Pillow can read ({values['kind']}). "
                "Upload a PNG, JPEG, GIF, BMP, TIFF or WebP picture of one digit."
            ),
            "error.not_image",
        )
    raise NotADigit(
        message, key, **values
    )  # outside the except: nothing of the failed open stays reachable from the error


class _rewound:
    """A caller's file object as a context manager that rewinds it on exit and leaves it open."""

    def __init__(self, file):
        self.file, self.at = file, file.tell()

    def __enter__(self):
        return self.file

    def __exit__(self, *exc) -> None:
        self.file.seek(self.at)


MAX_ICON_SIDE = 1024  # an icon file (ICO, ICNS) holds pictures of at most 1024 px a side (ICNS's largest)


def check_icon(file) -> None:
    """Refuse an ICO file any of whose pictures is really larger than MAX_ICON_SIDE a side, from its directory
    and each entry's own header (a PNG's IHDR, a bitmap's DIB header): nothing decoded."""
    at = file.tell()
    head = file.read(6)
    if len(head) < 6 or head[:4] != b"\0\0\1\0":
        return
    (count,) = struct.unpack("<H", head[4:6])
    directory = file.read(16 * count)
    for i in range(len(directory) // 16):
        (offset,) = struct.unpack("<I", directory[16 * i + 12 : 16 * i + 16])
        file.seek(at + offset)
        entry = file.read(24)
        if entry[:8] == b"\x89PNG\r\n\x1a\n" and len(entry) >= 24:
            width, height = struct.unpack(">II", entry[16:24])
        elif len(entry) >= 12:
            width, height = struct.unpack("<ii", entry[4:12])
            width, height = abs(width), abs(height) // 2  # a bitmap's height counts its mask too
        else:
            continue
        _check_icon_size(width, height)


def _check_icon_size(width: int, height: int) -> None:
    if width > MAX_ICON_SIDE or height > MAX_ICON_SIDE:
        raise NotADigit(
            f"The icon file holds a {width}x{height} picture; icon files (ICO, ICNS) are read up to "
            f"{MAX_ICON_SIDE}x{MAX_ICON_SIDE} px. Upload the picture as a PNG or JPEG instead.",
            "error.icon_too_large",
            width=width,
            height=height,
            side=MAX_ICON_SIDE,
        )


def real_size(image: Image.Image) -> tuple[int, int]:
    """The size Pillow will decode `image` at, read from headers only. It is the header's size except in icon
    files: an ICNS file names its sizes in a directory, then decodes the PNG stored at that entry, whatever its
    size (ICO files are decoded as they are opened: `check_icon` comes first)."""
    if image.format == "ICNS":  # the entry load() picks: a PNG or JPEG 2000 is opened, header only
        channels = image.icns.dataforsize(image.best_size)
        inner = channels.get("RGBA") or channels.get("RGB")
        if inner is not None:
            _check_icon_size(*inner.size)
            return inner.size
    return image.size


def check_size(size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise NotADigit(
            f"The image is {width}x{height} ({width * height / 1e6:.0f} megapixels); the limit is "
            f"{MAX_PIXELS / 1e6:.0f} megapixels. Scale it down and upload it again.",
            "error.too_many_pixels",
            width=width,
            height=height,
            megapixels=f"{width * height / 1e6:.0f}",
            limit=f"{MAX_PIXELS / 1e6:.0f}",
        )
    if width < 1 or height < 1:
        raise NotADigit(f"The image is {width}x{height}: empty.")


def too_large_values(bomb: str) -> dict:
    """The numbers of `too_large_message`, for the sentence in another language (demo/strings.py)."""
    found = re.search(r"\((\d+) pixels\)", bomb)
    return {"megapixels": f"{int(found.group(1)) / 1e6:.0f}" if found else "?", "limit": f"{MAX_PIXELS / 1e6:.0f}"}


def too_large_message(bomb: str = "") -> str:
    """The size message for a picture Pillow itself refused as too large (its DecompressionBombError says how
    many pixels)."""
    found = re.search(r"\((\d+) pixels\)", bomb)
    size = f" ({int(found.group(1)) / 1e6:.0f} megapixels)" if found else ""
    return (
        f"The image is too large{size}; the limit is {MAX_PIXELS / 1e6:.0f} megapixels. "
        "Scale it down and upload it again."
    )


def normalise_mode(image: Image.Image) -> Image.Image:
    """Bring every Pillow mode to L, LA, RGB or RGBA (8 bits), keeping transparency."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if mode in ("P", "PA", "RGBa", "La"):  # palette, premultiplied alpha
        return image.convert("RGBA")
    if mode.startswith("I") or mode == "F":  # 16-bit and 32-bit grey: scale the real range to 0..255
        return Image.fromarray(_grey_to_uint8(np.asarray(image), full_scale=mode.startswith("I;16")))
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV


STRIP_VALUES = 1 << 20  # float64 values a strip holds at once (8 MB): a 16-bit picture is scaled strip by strip


def _grey_to_uint8(array: np.ndarray, full_scale: bool) -> np.ndarray:
    """A 16/32-bit grey picture (its own dtype) as uint8: value / full * 255, where `full` is 65535 for 16-bit
    pictures, else the largest finite value (at least 1); non-finite pixels become background (`_finite`).
    Computed in float64 strip by strip: the same numbers as for the whole array at once, without a full-size
    float64 copy (317 MB for a 40 MP picture)."""
    out = np.empty(array.shape, np.uint8)
    rows = max(1, STRIP_VALUES // max(1, array.shape[1] if array.ndim > 1 else 1))
    background, finite = 0.0, True
    if array.dtype.kind == "f":
        finite = all(np.isfinite(array[r : r + rows]).all() for r in range(0, len(array), rows))
        if not finite:
            background = _background(array)
    if full_scale:
        full = 65535.0
    else:
        top = 0.0
        for r in range(0, len(array), rows):
            strip = array[r : r + rows].astype(np.float64)
            if not finite:
                strip = np.where(np.isfinite(strip), strip, background)
            top = max(top, float(strip.max(initial=0)))
        full = max(top, 1.0)
    for r in range(0, len(array), rows):
        strip = array[r : r + rows].astype(np.float64)
        if not finite:
            strip = np.where(np.isfinite(strip), strip, background)
        out[r : r + rows] = np.clip(strip / full * 255, 0, 255).astype(np.uint8)
    return out


def _background(array: np.ndarray) -> float:
    """What a non-finite pixel becomes: the median of the finite pixels of the border (of all finite pixels
    if the border has none; 0 if there are none)."""
    border = np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]]).astype(np.float64)
    known = border[np.isfinite(border)]
    if known.size == 0:
        known = array[np.isfinite(array)].astype(np.float64)
    return float(np.median(known)) if known.size else 0.0


def _finite(array: np.ndarray) -> np.ndarray:
    """NaN and infinite pixels (a float TIFF's "no data") become background: the median of the finite pixels
    of the border (of all finite pixels if the border has none; 0 if there are none)."""
    finite = np.isfinite(array)
    if finite.all():
        return array
    return np.where(finite, array, _background(array))


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
