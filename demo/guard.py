"""What a caller may make the server read: only files it uploaded to this app, in requests of bounded size.

Gradio checks that a file named in a request is an upload only when the request marks it as one (a `meta`
field); without it, Gradio 6.31's image components would open any path on the server. `check_uploads` closes
that: every file a request names must be one this app received through its upload route, else one message,
the same whether the path exists or not. `data:` URLs (decoded by Gradio past the upload size cap and never
swept from its cache) are refused. The request-size limits below are enforced by demo/surface.py, as bodies
stream in.
"""

from __future__ import annotations

import os

import gradio as gr

from demo.strings import english

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # what Gradio's own upload cap (max_file_size="10mb") allows
# A request that is not an upload carries JSON: a file's path, a model name, at most 1,000 characters of text
# (a longer text gets the app's own "the limit is 1,000" up to this size).
MAX_JSON_BYTES = 1024 * 1024
# Multipart routes (/gradio_api/upload, and /gradio_api/component_server for the sketchpad's drawing) carry a
# file plus its form fields.
MULTIPART_SLACK = 64 * 1024

NOT_UPLOADED = (
    "The picture was not uploaded to this app (or its upload has expired). Upload it first "
    "(POST /gradio_api/upload, or gradio_client's handle_file) and send the path that returns; "
    "no other file on the server is read."
)
DATA_URL = "data: URLs are not accepted. Upload the picture as a file (PNG, JPEG, ... at most 10 MB)."


def file_payloads(payload) -> list:
    """The FileData-like objects (with `path` and `url`) anywhere in a component's payload."""
    if payload is None:
        return []
    if hasattr(payload, "path") and hasattr(payload, "url"):
        return [payload]
    if isinstance(payload, (list, tuple)):
        return [f for item in payload for f in file_payloads(item)]
    fields = getattr(payload, "__dict__", None)
    if isinstance(fields, dict):
        return [f for value in fields.values() for f in file_payloads(value)]
    return []


def check_uploads(payload, app: gr.Blocks | None) -> None:
    """Raise gr.Error unless every file the payload names is an upload this app holds."""
    for file in file_payloads(payload):
        path, url = file.path or "", file.url or ""
        if path.startswith("data:") or url.startswith("data:"):
            raise gr.Error(DATA_URL)
        uploads = getattr(app, "upload_file_set", None)
        if not path or uploads is None or os.path.abspath(path) not in uploads:  # Gradio stores absolute paths
            raise gr.Error(NOT_UPLOADED)


def return_memory_to_the_system() -> None:
    """glibc keeps freed memory of large buffers (a decoded picture, Pillow's 16 MB blocks) for reuse once its
    mmap threshold has grown, so a server's RSS stays at its peak. Fix the threshold at MMAP_THRESHOLD: larger
    buffers are mapped and unmapped, and memory comes back after each request; an ordinary request's buffers
    (a 600x450 picture is 1 MB) stay below it, on the heap, as fast as before. No-op outside glibc."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):
            libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except OSError:
        pass


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
# Measured in one run: at 128 KB every request's 1 MB buffers were mapped afresh (a canvas model call 2.2 ->
# 3.9 ms, decoding a 600x450 PNG 5.8 -> 9.3 ms); at 4 MB neither moved, and memory still came back until the
# canvas models' noise check: its maps of a 1024-px picture one column short (1024x1023 float32, just under
# 4 MB) stayed on the heap, and a server that had read large pictures held +53 MB (tests/test_surface.py). At
# 2 MB they are mapped, and a 600x450 picture's 1 MB buffers still are not.
MMAP_THRESHOLD = 2 * 1024 * 1024


def explain_refusals(app: gr.Blocks) -> None:
    """Gradio refuses two things before the app's code runs, and tells the caller nothing (`"error": null`):
    a file marked as an upload that is not one, and a call with too few inputs. Say what was wrong."""
    from gradio.exceptions import InvalidPathError

    preprocess_data = app.preprocess_data

    async def preprocess_explained(block_fn, inputs, state, explicit_call=False):
        try:
            return await preprocess_data(block_fn, inputs, state, explicit_call)
        except InvalidPathError:
            raise gr.Error(NOT_UPLOADED) from None

    def validate_inputs(block_fn, inputs) -> None:
        wanted = block_fn.inputs
        if len(inputs) < len(wanted):
            names = ", ".join(english(getattr(b, "label", None) or type(b).__name__.lower()) for b in wanted)
            raise gr.Error(f"{block_fn.name or 'This endpoint'} takes {len(wanted)} inputs ({names}); "
                           f"the request sent {len(inputs)}.")  # fmt: skip

    app.preprocess_data = preprocess_explained
    app.validate_inputs = validate_inputs
