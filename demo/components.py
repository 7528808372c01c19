"""The app's own Gradio components: each reads only what it should and explains a bad input in the app's words."""

from __future__ import annotations

import os

import gradio as gr
from gradio.components.base import server

from demo import surface
from demo.guard import check_uploads
from demo.strings import english, say


def refuse(message: str, lang: str = "en") -> gr.Error:
    """The error for a request the app cannot answer: its message is the answer (a toast in the page, the error
    of an API call), under a title in the page's language. Bad input is not a fault of the server: it leaves no
    traceback in the log."""
    return gr.Error(message, title=say(lang, "error.title"), print_exception=False)


class UploadedImage(gr.Image):
    """gr.Image that passes the file as uploaded (alpha and mode intact): its path, once it is known to be this
    app's upload. Gradio would open it with Pillow first, which decodes an ICO file whatever its size; the app's
    own reading checks the real size before decoding and explains a non-image (demo/images.py)."""

    app: gr.Blocks | None = None  # set by build_app: only this app's uploads are read (demo/guard.py)
    examples: frozenset[str] = frozenset()  # and this app's own example pictures, as Gradio cached them

    def get_block_name(self) -> str:
        return "image"

    def preprocess(self, payload):
        path = getattr(payload, "path", None)
        if not (isinstance(path, str) and os.path.abspath(path) in self.examples):
            check_uploads(payload, self.app)
        return None if payload is None else payload.path


class GuardedSketchpad(gr.Sketchpad):
    """gr.Sketchpad that reads only this app's uploads, refuses a drawing larger than a screen before decoding
    it, and keeps the page's drawings in a bounded store (demo/surface.py)."""

    app: gr.Blocks | None = None  # set by build_app

    def get_block_name(self) -> str:
        return "imageeditor"  # the front end of gr.Sketchpad

    def preprocess(self, payload):
        return surface.sketch_value(self, payload)

    @server
    def accept_blobs(self, data, request: gr.Request):
        surface.sketch_blobs(self).accept(data, caller=request.client.host if request.client else "")


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
