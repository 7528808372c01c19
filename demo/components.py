"""The app's own Gradio components: each reads only what it should and explains a bad input in the app's words."""

from __future__ import annotations

import os

import gradio as gr

from demo.guard import check_uploads
from demo.images import MAX_SKETCH_SIDE, NotADigit, check_blob_size
from demo.strings import english, say


def refuse(message: str, lang: str = "en") -> gr.Error:
    """The error for a request the app cannot answer: its message is the answer (a toast in the page, the error
    of an API call), under a title in the page's language. Bad input is not a fault of the server: it leaves no
    traceback in the log."""
    return gr.Error(message, title=say(lang, "error.title"), print_exception=False)


class UploadedImage(gr.Image):
    """gr.Image that passes the file as uploaded (alpha and mode intact) and answers a non-image clearly.

    Gradio opens the upload with Pillow before our function runs; a file that is not an image fails there
    with Pillow's own message. This turns that into the same message the rest of the app gives.
    """

    app: gr.Blocks | None = None  # set by build_app: only this app's uploads are read (demo/guard.py)
    examples: frozenset[str] = frozenset()  # and this app's own example pictures, as Gradio cached them

    def get_block_name(self) -> str:
        return "image"

    def preprocess(self, payload):
        path = getattr(payload, "path", None)
        if not (isinstance(path, str) and os.path.abspath(path) in self.examples):
            check_uploads(payload, self.app)
        try:
            return super().preprocess(payload)
        except Exception as error:  # Pillow's UnidentifiedImageError, decompression-bomb errors, ...
            name = getattr(payload, "orig_name", None) or "the upload"
            raise refuse(
                f"{name} is not an image Pillow can read ({type(error).__name__}). "
                "Upload a PNG, JPEG, GIF, BMP, TIFF or WebP picture of one digit."
            ) from None


class GuardedSketchpad(gr.Sketchpad):
    """gr.Sketchpad that reads only this app's uploads and refuses a drawing larger than a screen."""

    app: gr.Blocks | None = None  # set by build_app

    def get_block_name(self) -> str:
        return "imageeditor"  # the front end of gr.Sketchpad

    def preprocess(self, payload):
        check_uploads(payload, self.app)
        blobs = self.blob_storage.get(payload.id) if payload is not None and payload.id is not None else None
        if blobs is not None:  # the drawing as PNG bytes (the page's own route): its size, read from the header
            for blob in (blobs.background, blobs.composite, *blobs.layers):
                try:
                    check_blob_size(blob, MAX_SKETCH_SIDE)
                except NotADigit as error:
                    self.blob_storage.pop(payload.id, None)
                    raise refuse(str(error)) from None
        try:
            return super().preprocess(payload)
        except (OSError, ValueError, SyntaxError) as error:  # Pillow: not an image, truncated, ...
            raise refuse(f"The drawing could not be read ({type(error).__name__}). Draw on the canvas again.") from None


def _as_number(payload, what: str, accepts: str) -> float | None:
    """A JSON number as sent (no rounding: 2.5 stays 2.5 and is refused where a whole number is due), or
    gr.Error naming the field and what it accepts. Strings of digits from raw HTTP callers are read too."""
    if payload is None:
        return None
    if isinstance(payload, bool) or not isinstance(payload, (int, float, str)):
        raise refuse(f"The {what} must be {accepts}; got {str(payload)[:40]!r}.")
    try:
        return float(payload)
    except ValueError:
        raise refuse(f"The {what} must be {accepts}; got {payload[:40]!r}.") from None


class ExactNumber(gr.Number):
    """gr.Number that passes the value as sent and explains one that is not a number (set `accepts`)."""

    accepts = "a number"

    def get_block_name(self) -> str:
        return "number"

    def preprocess(self, payload):
        return _as_number(payload, english(self.label or "value"), self.accepts)


class CheckedSlider(gr.Slider):
    """gr.Slider that explains a value that is not a number or out of range, in the app's words."""

    def get_block_name(self) -> str:
        return "slider"

    def preprocess(self, payload):
        accepts = f"a number from {self.minimum:g} to {self.maximum:g}"
        value = _as_number(payload, english(self.label or "value"), accepts)
        if value is None or not self.minimum <= value <= self.maximum:  # also NaN
            raise refuse(f"The {english(self.label)} must be {accepts}; got {payload!r}.")
        return value
