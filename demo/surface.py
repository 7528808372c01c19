"""Every way into the server is the app's to check: Gradio's routes, events without an API name, bodies,
slow clients, and the files a request leaves.

- `Surface` (ASGI middleware, outermost of the app's): routes the demo does not use are off (`deep_link`
  writes a file per call, `process_recording` one per request, nothing deletes either); a call names a
  public endpoint or, from the page, an event by its number (`fn_index`) that exists; every request body is
  counted as it streams in (HTTP 413 past the limit) and kept on disk past SPOOL_IN_RAM, not in memory; a
  body that stalls gets HTTP 408; a client that leaves mid-body leaves nothing (Gradio sees only complete
  bodies); an error no handler caught gets a sentence, not a bare 500.
- `install_surface(app)`: events run through the queue only (Gradio's REST route would skip its limits);
  every input is checked before Gradio looks at it (a file path that is a URL or holds a NUL byte, a value
  of the wrong type: a sentence naming the input and what it accepts); every failure carries a message;
  stray upload temp files are swept.
- `SketchBlobs`: the Sketchpad's drawings as the page sends them (`component_server`, `accept_blobs`),
  bounded in size, count per caller, total bytes and age; `sketch_value` reads a drawing's composite only,
  checked by its real size before it is decoded.
- `TimedH11Protocol`: uvicorn's HTTP protocol with a deadline for a request's headers.

Gradio 6.31 and uvicorn 0.3x internals are used by name (`Blocks.preprocess_data`, `process_api`,
`api_open`, `upload_file_set`, `uvicorn.config.HTTP_PROTOCOLS`, `H11Protocol.on_response_complete`);
tests/test_surface.py fails if any of them moves.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
import threading
import time
import weakref
from collections import OrderedDict

import gradio as gr
from fastapi import HTTPException
from uvicorn.protocols.http.h11_impl import H11Protocol

from demo.guard import MAX_JSON_BYTES, MAX_UPLOAD_BYTES, MULTIPART_SLACK, check_uploads
from demo.images import MAX_SKETCH_SIDE, NotADigit, check_blob_size, to_rgba
from demo.strings import english

API = "/gradio_api"
FILE_ROUTES = ("/upload", "/component_server")  # multipart: a file and its form fields
OFF_ROUTES = {  # Gradio's routes this app does not use, each of which writes a file that nothing deletes
    f"{API}/deep_link": "Deep links are not offered by this app.",
    f"{API}/process_recording": "Screen recordings are not processed by this app.",
}
SPOOL_IN_RAM = 256 * 1024  # a body larger than this is kept in an unnamed temp file until it has all arrived
BODY_IDLE_S, BODY_TOTAL_S = 15, 120  # a body may pause this long between two pieces, and take this long in all
HEADER_TIMEOUT_S = 15  # a request's headers must arrive within this of the connection (or the last answer)
STRAY_AGE_S, STRAY_SWEEP_S = 60, 5  # Gradio's upload temp files left by a failed parse: deleted after 60 s
# The Sketchpad's drawings between the page's upload of them and the call that reads them (one each).
BLOB_AGE_S, BLOBS_PER_CALLER, BLOB_BYTES = 30, 8, 32 * 1024 * 1024
MAX_BLOB_BYTES = 4 * 1024 * 1024  # the page's 280x280 canvas is at most 0.3 MB as a PNG, a drawing ~5 KB
BLOB_TYPES = ("composite", "layer", "background")
MAX_LAYER_INDEX = 16  # the page sends layer 0 only (layers are off); any index above this is refused

URL_PATH = (
    "A file path must be the path /gradio_api/upload returned; URLs (http://, https://, ...) are not read. "
    "Upload the picture as a file and send that path."
)
NUL_PATH = "The file path holds a NUL byte. Send the path /gradio_api/upload returned, as it returned it."


# ---------------------------------------------------------------------------------------------- middleware


class Surface:
    """ASGI middleware: the app's routes and bodies, as the module docstring says."""

    def __init__(self, app, json_bytes: int = MAX_JSON_BYTES, upload_bytes: int = MAX_UPLOAD_BYTES + MULTIPART_SLACK):
        self.app, self.json_bytes, self.upload_bytes = app, json_bytes, upload_bytes

    def limit(self, path: str) -> int:
        return self.upload_bytes if path.rstrip("/").endswith(FILE_ROUTES) else self.json_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "").rstrip("/")
        if path in OFF_ROUTES:
            return await _answer(send, 404, OFF_ROUTES[path])
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return await self._run(scope, receive, send)
        body = await _read_body(scope, receive, send, self.limit(path))
        if body is None:  # answered (413, 408) or the client has gone
            return
        try:
            refusal = _call_refusal(scope, path, body)
            if refusal is not None:
                return await _answer(send, *refusal)
            await self._run(scope, body.replay(receive), send)
        finally:
            body.close()

    async def _run(self, scope, receive, send):
        started = False

        async def sending(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:  # what no handler caught: Starlette would answer "Internal Server Error"
            if started:
                raise
            await _answer(send, 500, f"The server could not handle this request ({type(error).__name__}). "
                                     "See /?view=api for the endpoints and what each accepts.")  # fmt: skip


class _Body:
    """A request body as it arrived: in memory up to SPOOL_IN_RAM, then in an unnamed temp file (gone when
    closed, or when the process ends)."""

    def __init__(self):
        self.chunks: list[bytes] | None = []
        self.file = None
        self.size = 0

    def add(self, data: bytes) -> None:
        self.size += len(data)
        if self.file is None and self.size > SPOOL_IN_RAM:
            self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close(), unnamed: never left behind)
            self.file.writelines(self.chunks)
            self.chunks = None
        if self.file is not None:
            self.file.write(data)
        else:
            self.chunks.append(data)

    def json_bytes(self) -> bytes:
        if self.file is None:
            return b"".join(self.chunks)
        self.file.seek(0)
        return self.file.read()

    def replay(self, receive):
        """An ASGI `receive` that gives the body in pieces of SPOOL_IN_RAM at most, then the client's own."""
        if self.file is not None:
            self.file.seek(0)
        pending = list(self.chunks or []) if self.file is None else None
        done = False

        async def replaying():
            nonlocal done
            if done:
                return await receive()
            if pending is not None:
                data = b"".join(pending)
                pending.clear()
                done = True
                return {"type": "http.request", "body": data, "more_body": False}
            data = self.file.read(SPOOL_IN_RAM)
            done = self.file.tell() >= self.size
            return {"type": "http.request", "body": data, "more_body": not done}

        return replaying

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        self.chunks = None


async def _read_body(scope, receive, send, limit: int) -> _Body | None:
    """The whole body, counted against `limit` as it streams in (Content-Length or chunked), or None once
    answered (413 over the limit, 408 if it stalls) or if the client has gone."""
    headers = dict(scope.get("headers") or [])
    declared = headers.get(b"content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        await _too_large(send, limit)
        return None
    body = _Body()
    deadline = time.monotonic() + BODY_TOTAL_S
    try:
        while True:
            wait = min(BODY_IDLE_S, deadline - time.monotonic())
            try:
                message = await _receive_within(receive, max(wait, 0.001))
            except asyncio.TimeoutError:
                await _answer(send, 408, f"The request body stalled: a body must keep arriving (a pause of at "
                                         f"most {BODY_IDLE_S} s) and be complete within {BODY_TOTAL_S} s.")  # fmt: skip
                body.close()
                return None
            if message["type"] != "http.request":  # http.disconnect: nothing was handed on, nothing is left
                body.close()
                return None
            body.add(message.get("body", b""))
            if body.size > limit:
                body.close()
                await _too_large(send, limit)
                return None
            if not message.get("more_body", False):
                return body
    except BaseException:
        body.close()
        raise


async def _receive_within(receive, seconds: float):
    if hasattr(asyncio, "timeout"):  # Python 3.11: no task per message, as wait_for makes
        async with asyncio.timeout(seconds):
            return await receive()
    return await asyncio.wait_for(receive(), seconds)


def _call_refusal(scope, path: str, body: _Body) -> tuple[int, str] | None:
    """(status, sentence) for a call that names no endpoint of this app, else None. Gradio answers such calls
    with a bare 500, or runs an event that has no API name under the name it gave it ("false_3")."""
    route = path[len(API) :] if path.startswith(API) else path
    match = re.fullmatch(r"/(run|api|call|call/v2)/([^/]+)", route)
    if route != "/queue/join" and match is None:
        return None
    blocks = _blocks(scope)
    if blocks is None:
        return None
    public = _public_names(blocks)
    named = "the endpoints are " + ", ".join(public) + " (see /?view=api)"
    try:
        request = json.loads(body.json_bytes())
    except (ValueError, UnicodeDecodeError):
        return 400, f'The request body is not JSON. Send {{"data": [...]}} with the endpoint\'s inputs; {named}.'
    if not isinstance(request, dict):
        return 400, f'The request body must be a JSON object, {{"data": [...]}}; {named}.'
    if "data" in request and not isinstance(request["data"], list):
        return 422, f'"data" must be a list of the endpoint\'s inputs, in order; {named}.'
    name = match.group(2) if match else None
    by_number = route == "/queue/join" or (name == "predict" and match.group(1) in ("run", "api"))
    if by_number:  # the page's own events, by number
        index = request.get("fn_index")
        if isinstance(index, bool) or not isinstance(index, int) or index not in blocks.fns:
            return 404, f"There is no event number {str(index)[:20]} in this app; {named}."
        if route != "/queue/join" and blocks.fns[index].queue:  # Gradio would run it outside the queue's limits
            return 404, f"This event runs through the queue only (/gradio_api/queue/join); {named}."
        return None
    if name not in public:
        return 404, f"There is no endpoint {name[:60]!r}; {named}."
    return None


def _public_names(blocks) -> list[str]:
    """The app's public endpoints, sorted (read once per app: its events do not change once it is built)."""
    names = getattr(blocks, "_public_endpoint_names", None)
    if names is None:
        names = sorted(fn.api_name for fn in blocks.fns.values() if fn.api_visibility == "public" and fn.api_name)
        blocks._public_endpoint_names = names
    return names


def _blocks(scope):
    app = scope.get("app")
    get_blocks = getattr(app, "get_blocks", None)
    try:
        return get_blocks() if get_blocks else None
    except Exception:
        return None


async def _answer(send, status: int, text: str) -> None:
    body = json.dumps({"detail": text}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


async def _too_large(send, limit: int) -> None:
    body = (
        f"Request body too large: the limit is {limit:,} bytes here (uploads: 10 MB a file; other requests: "
        f"{MAX_JSON_BYTES // 2**20} MB of JSON). Upload pictures as files, not inside JSON."
    ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def middleware() -> list:
    """What `launch(app_kwargs={"middleware": ...})` takes; also installs the header deadline."""
    from starlette.middleware import Middleware

    install_header_timeout()
    return [Middleware(Surface)]


# ------------------------------------------------------------------------------------------ header deadline


def install_header_timeout() -> None:
    """uvicorn (as Gradio starts it, protocol "auto") serves HTTP/1.1 with TimedH11Protocol."""
    from uvicorn import config

    config.HTTP_PROTOCOLS["auto"] = f"{__name__}:TimedH11Protocol"


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, which waits for a request's headers for ever: here a connection whose next
    request has not been read HEADER_TIMEOUT_S after it opened (or after the last answer) is told 408 and
    closed. A request being answered is never cut."""

    _header_timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_deadline()

    def connection_lost(self, exc) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()  # the timer would keep this connection's objects for HEADER_TIMEOUT_S
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        # the cycle by id, not the cycle itself: a finished request's objects are not kept for the deadline
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._headers_due, id(self.cycle))

    def _headers_due(self, cycle_id: int) -> None:
        cycle = self.cycle
        waiting = id(cycle) == cycle_id and (cycle is None or cycle.response_complete)
        if waiting and not self.transport.is_closing():
            text = b"The request headers did not arrive in time."
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\nconnection: "
                                 b"close\r\ncontent-length: %d\r\n\r\n%s" % (len(text), text))  # fmt: skip
            self.transport.close()


# ---------------------------------------------------------------------------------------------- the app


def install_surface(app: gr.Blocks) -> None:
    """Events through the queue only, every input checked before Gradio reads it, every failure explained,
    stray temp files swept (see the module docstring). Call once, after the app is built."""
    app.api_open = False  # Gradio's REST route would run a queued event outside the queue's limits
    preprocess_data, process_api = app.preprocess_data, app.process_api

    async def checked_preprocess(block_fn, inputs, state, explicit_call=False):
        for block, value in zip(block_fn.inputs, inputs, strict=False):
            check_input(block, value)
        try:
            return await preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error:
            raise
        except Exception as error:  # what Gradio would answer with "error": null
            raise gr.Error(_input_failure(block_fn, error)) from None

    async def explained_process_api(*args, **kwargs):
        try:
            return await process_api(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as error:
            raise gr.Error(f"This request could not be handled ({type(error).__name__}). Check its inputs "
                           "against the API page (/?view=api): each endpoint lists what it accepts.") from None  # fmt: skip

    app.preprocess_data, app.process_api = checked_preprocess, explained_process_api
    _start_stray_sweep(app)


def check_input(block, value) -> None:
    """gr.Error for an input Gradio would mishandle before the app sees it: a file path that is a URL
    (Gradio fetches it and leaves a folder per URL) or holds a NUL byte, a file field of the wrong type."""
    for key, path in _named_paths(value):
        if not isinstance(path, str):
            raise gr.Error(f"{_label(block)}: a file's {key} must be text, the path /gradio_api/upload returned; "
                           f"got {type(path).__name__}.")  # fmt: skip
        if "\x00" in path:
            raise gr.Error(NUL_PATH)
        if key == "path" and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+:", path) and not path.startswith("data:"):
            raise gr.Error(URL_PATH)  # (the page's own file values carry an http `url`: Gradio does not fetch it)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**300:
        raise gr.Error(f"{_label(block)} must be {getattr(block, 'accepts', 'a number')}; got an integer of "
                       f"{len(str(abs(value)))} digits.")  # fmt: skip
    if isinstance(block, gr.Dropdown) and not block.multiselect and isinstance(value, (list, dict)):
        choices = ", ".join(str(c[1] if isinstance(c, tuple) else c) for c in block.choices)[:300]
        raise gr.Error(f"{_label(block)} must be one of: {choices}; got a {type(value).__name__}.")
    data_model = getattr(block, "data_model", None)
    if data_model is not None and value is not None and not isinstance(value, dict):
        raise gr.Error(f"{_label(block)} must be {_accepts(block)}; got {type(value).__name__} "
                       f"{str(value)[:40]!r}.")  # fmt: skip


def _named_paths(value, depth: int = 0) -> list:
    """(key, value) for the `path` and `url` of every dict in a payload (a FileData, a sketch's layers, ...)."""
    if depth > 8:
        return []
    if isinstance(value, dict):
        own = [(key, value[key]) for key in ("path", "url") if value.get(key) is not None]
        return own + [p for v in value.values() if isinstance(v, (dict, list)) for p in _named_paths(v, depth + 1)]
    if isinstance(value, list):
        return [p for v in value for p in _named_paths(v, depth + 1)]
    return []


def _label(block) -> str:
    return f"The {english(getattr(block, 'label', None) or type(block).__name__.lower())} input"


def _accepts(block) -> str:
    if isinstance(block, gr.ImageEditor):
        return 'a drawing: {"id": ...} as the page sends it, or {"composite": <an uploaded file>}'
    if isinstance(block, (gr.Image, gr.File)):
        return ('an uploaded file: {"path": <the path /gradio_api/upload returned>, '
                '"meta": {"_type": "gradio.FileData"}}')  # fmt: skip
    return "a value of the type the API page (/?view=api) gives"


def _input_failure(block_fn, error: Exception) -> str:
    """A sentence for an input Gradio could not take (a pydantic ValidationError, OverflowError, ...)."""
    names = ", ".join(english(getattr(b, "label", None) or type(b).__name__.lower()) for b in block_fn.inputs)
    error = error.__cause__ or error  # Gradio's ComponentProcessingError names only its own frame
    reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
    what = block_fn.api_name if block_fn.api_visibility == "public" else "This event"
    return (f"{what}: an input could not be read ({type(error).__name__}: {reason}). Its inputs are: {names}; "
            "see /?view=api for what each accepts.")  # fmt: skip


def _start_stray_sweep(app: gr.Blocks) -> None:
    """Gradio writes an upload into a temp file in its upload folder as it streams in and moves it into
    place when the request ends; a request whose parse fails part-way (or a form field it does not read)
    leaves that file. Delete such files (tmp*, at the top of the folder) and empty folders STRAY_AGE_S old."""
    ref = weakref.ref(app)

    def run() -> None:
        from gradio.utils import get_upload_folder

        while ref() is not None:
            try:
                sweep_strays(get_upload_folder())
                for store in list(_blob_stores):
                    store.expire()
            except Exception as error:  # a failed sweep must not end the sweeping
                print(f"temp sweep: {type(error).__name__}: {error}")
            time.sleep(STRAY_SWEEP_S)

    threading.Thread(target=run, name="stray-sweeper", daemon=True).start()


def sweep_strays(folder: str, now: float | None = None) -> int:
    now = time.time() if now is None else now
    deleted = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < STRAY_AGE_S:
                continue
            if entry.is_file(follow_symlinks=False) and entry.name.startswith("tmp"):
                os.remove(entry.path)
                deleted += 1
            elif entry.is_dir(follow_symlinks=False) and not any(os.scandir(entry.path)):
                os.rmdir(entry.path)
                deleted += 1
        except OSError:
            continue
    return deleted


# ------------------------------------------------------------------------------------------- the sketchpad


class SketchBlobs:
    """The drawings the page sends before the call that reads each (`accept_blobs`), bounded: the composite
    only (the app reads nothing else), each checked by its real size before it is kept, at most
    BLOBS_PER_CALLER per caller (address), BLOB_BYTES in all and BLOB_AGE_S old; the oldest go first."""

    def __init__(self):
        self.items: OrderedDict[str, tuple[bytes, str, float]] = OrderedDict()  # id -> (png, caller, when)
        self.lock = threading.Lock()
        _blob_stores.add(self)  # expired by the sweeping thread too, when no request comes

    def expire(self) -> None:
        with self.lock:
            self._expire(time.monotonic())

    def accept(self, data, caller: str) -> None:
        fields = getattr(data, "data", None)
        files = getattr(data, "files", None)
        if not isinstance(fields, dict) or not files:
            raise _bad_blob("The drawing upload needs form fields id, type and index, and one file.")
        kind, index, key = fields.get("type"), fields.get("index"), fields.get("id")
        if kind not in BLOB_TYPES:
            raise _bad_blob(f"type must be one of {', '.join(BLOB_TYPES)}; got {str(kind)[:40]!r}.")
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            raise _bad_blob("id must be text of 1 to 64 characters.")
        if kind == "layer" and not (isinstance(index, str) and index.isdigit() and int(index) <= MAX_LAYER_INDEX):
            raise _bad_blob(f"index must be a whole number from 0 to {MAX_LAYER_INDEX}; got {str(index)[:40]!r}.")
        blob = files[0][1]
        if not isinstance(blob, bytes) or len(blob) > MAX_BLOB_BYTES:
            raise _bad_blob(f"The drawing must be one PNG file of at most {MAX_BLOB_BYTES // 2**20} MB.", 413)
        try:
            check_blob_size(blob, MAX_SKETCH_SIDE)
        except NotADigit as error:
            raise _bad_blob(str(error)) from None
        if kind != "composite":
            return  # accepted, not kept: the app reads only the composite
        now = time.monotonic()
        with self.lock:
            self.items.pop(key, None)
            self.items[key] = (blob, caller, now)
            mine = [k for k, (_, who, _) in self.items.items() if who == caller]
            for old in mine[:-BLOBS_PER_CALLER]:
                del self.items[old]
            self._expire(now)

    def _expire(self, now: float) -> None:
        total = sum(len(blob) for blob, _, _ in self.items.values())
        while self.items:
            key, (blob, _, when) = next(iter(self.items.items()))
            if now - when <= BLOB_AGE_S and total <= BLOB_BYTES:
                break
            del self.items[key]
            total -= len(blob)

    def pop(self, key) -> bytes | None:
        with self.lock:
            self._expire(time.monotonic())
            item = self.items.pop(key, None) if isinstance(key, str) else None
        return item[0] if item else None

    def __len__(self) -> int:
        return len(self.items)

    def held_bytes(self) -> int:
        return sum(len(blob) for blob, _, _ in list(self.items.values()))


_blob_stores: weakref.WeakSet[SketchBlobs] = weakref.WeakSet()


def _bad_blob(text: str, status: int = 400) -> HTTPException:
    return HTTPException(status_code=status, detail=f"{text} (the Sketchpad's drawing upload)")


def sketch_blobs(sketchpad) -> SketchBlobs:
    """The Sketchpad's drawing store, made bounded the first time it is used (Gradio's is a plain dict, set in
    its constructor, whose signature Gradio also reads for the component's props: it is left as it is)."""
    if not isinstance(sketchpad.blob_storage, SketchBlobs):
        sketchpad.blob_storage = SketchBlobs()
    return sketchpad.blob_storage


def sketch_value(sketchpad, payload) -> dict | None:
    """A Sketchpad's input as the app reads it: {"composite": RGBA array or None, "background": None,
    "layers": []}. The composite comes from the page's drawing (`payload.id`) or an upload named in the
    payload; it is refused before it is decoded if it is not this app's upload or larger than MAX_SKETCH_SIDE
    a side, and decoded as every picture is (demo/images.py: at most two large ones at a time)."""
    if payload is None:
        return None
    check_uploads(payload, sketchpad.app)
    drawing = sketch_blobs(sketchpad).pop(payload.id) if payload.id is not None else None
    if drawing is None and payload.composite is not None:
        drawing = payload.composite.path
    composite = None
    if drawing is not None:
        try:
            composite = to_rgba(drawing if isinstance(drawing, str) else _bytes_file(drawing), "The drawing",
                                max_side=MAX_SKETCH_SIDE)  # fmt: skip
        except NotADigit as error:
            raise gr.Error(str(error)) from None
    return {"background": None, "layers": [], "composite": composite}


def _bytes_file(blob: bytes):
    import io

    return io.BytesIO(blob)


def kept_files(upload, uploads) -> list[str]:
    """What a page asks to keep in the cache (the keep event's raw payload), as the paths worth keeping: the
    upload, which a change of model re-reads, if it is this app's upload. Whatever else the payload names (a
    thousand paths, a path with a NUL) is not kept."""
    path = upload.get("path") if isinstance(upload, dict) else None
    if isinstance(path, str) and "\x00" not in path and os.path.abspath(path) in uploads:
        return [path]
    return []
