"""What a caller may make the server read: only files it uploaded to this app, in requests of bounded size.

Gradio checks that a file named in a request is an upload only when the request marks it as one (a `meta`
field); without it, Gradio 6.31's image components would open any path on the server. `check_uploads` closes
that: every file a request names must be one this app received through its upload route, else one message,
the same whether the path exists or not. `data:` URLs (decoded by Gradio past the upload size cap and never
swept from its cache) are refused. `BodyLimit` answers an oversized request body with HTTP 413 before it is
read into memory.
"""

from __future__ import annotations

import os

import gradio as gr

from demo.strings import english

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # what Gradio's own upload cap (max_file_size="10mb") allows
# A request that is not an upload carries JSON: a file's path, a model name, at most 1,000 characters of text
# (a longer text gets the app's own "the limit is 1,000" up to this size).
MAX_JSON_BYTES = 1024 * 1024
# Multipart routes: /gradio_api/upload (a file plus its form fields) and /gradio_api/component_server (the
# sketchpad's drawing, sent as a PNG blob).
FILE_ROUTES = ("/upload", "/component_server")
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
# 3.9 ms, decoding a 600x450 PNG 5.8 -> 9.3 ms); at 4 MB neither moved, and memory still came back.
MMAP_THRESHOLD = 4 * 1024 * 1024


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


class BodyLimit:
    """ASGI middleware: HTTP 413 for a request body over the limit (by Content-Length, or as it streams in)."""

    def __init__(self, app, json_bytes: int = MAX_JSON_BYTES, upload_bytes: int = MAX_UPLOAD_BYTES + MULTIPART_SLACK):
        self.app, self.json_bytes, self.upload_bytes = app, json_bytes, upload_bytes

    def limit(self, path: str) -> int:
        return self.upload_bytes if path.rstrip("/").endswith(FILE_ROUTES) else self.json_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = self.limit(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _too_large(send, limit)
        if declared is not None:  # the server reads no more than declared
            return await self.app(scope, receive, send)
        # Chunked: read it here, up to the limit, then hand it on (the framework turns an error raised while
        # it reads the body into a 400 with no word of why).
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > limit:
                return await _too_large(send, limit)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send, limit: int) -> None:
    body = (
        f"Request body too large: the limit is {limit:,} bytes here (uploads: 10 MB a file; other requests: "
        f"{MAX_JSON_BYTES // 2**20} MB of JSON). Upload pictures as files, not inside JSON."
    ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
