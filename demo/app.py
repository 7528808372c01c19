"""The Gradio app: digits (sketch or upload), text (next character, generation), points (circles), and what
happens inside each network (every layer, from the models' probe files).

API endpoints (gradio_client): classify_digit(image, model), inspect_digit(image, model), predict_text(model,
text), inspect_text(model, text), generate_text(model, prefix, length, temperature, seed), classify_point(x, y).
Every bad input becomes a gr.Error whose message says what was wrong and what is accepted.

inspect_digit and inspect_text answer JSON; every layer's `values` are nested lists in the layer's `shape`
(row-major, as NumPy's tolist() gives them):
  inspect_digit: {model, asked, note, label, confidences: {digit: probability},
                  layers: [{name, module, op, shape, values, ...the manifest's other keys for the layer}]}
  inspect_text:  {model, text, predicted, vocab, layers: [... same, shape [characters, units]]}
`model` is the model whose layers these are: an INT8 model is shown through the float model it was quantised
from (probes are float only), and `note` says so. A value that is not finite would be null, never NaN.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import os
import secrets
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import MutableMapping
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw
from starlette.middleware import Middleware

from demo.guard import BodyLimit, check_uploads, explain_refusals, return_memory_to_the_system
from demo.images import MAX_SKETCH_SIDE, NotADigit, check_blob_size, to_rgba
from demo.inside import digit_pictures, png_bytes, text_heat_maps
from demo.runtime import (
    MAX_GENERATE,
    MAX_SEED,
    MAX_TEMPERATURE,
    MAX_TEXT,
    BadRequest,
    DigitInside,
    Layer,
    TextInside,
    Zoo,
)
from demo.train_text import build_train_tab

MAX_UPLOAD = "10mb"
NO_IMAGE = "No image was sent. Upload a picture of one digit (PNG, JPEG, ...)."
INSIDE_PROMPT = "Draw a digit or upload a picture: every layer of the network will show here."
# Serving limits, each measured with `python -m demo.soak` / `python -m demo.bench` (README, Performance 3).
# Disk: every upload and output image is a file in Gradio's cache; FileCache deletes each CACHE_AGE_S after its
# use (UNREAD_UPLOAD_S for an upload not read yet), except an open page's current sketch and upload.
CACHE_SWEEP_S, CACHE_AGE_S, UNREAD_UPLOAD_S = 1, 2, 60
# Memory: Gradio keeps a copy of the app's config for every session, and every HTTP API call is a new session:
# the 10,000 it keeps by default cost ~50 KB each here. Older sessions lose nothing this app keeps.
SESSIONS = 200
# Overload: at most QUEUE_MAX requests wait; the next gets HTTP 503 "Queue is full" (the page says "This
# application is currently busy. Please try again."), instead of a wait that grows without limit.
QUEUE_MAX = 32
CONCURRENCY = 8
# The circles net is float32: far out, its first layer's sums overflow to inf and the answer to NaN.
# Its answer is settled long before this (the data lies within 1.2 of the origin).
MAX_COORDINATE = 1e6
PLANE = 1.5  # the circles plot spans [-PLANE, PLANE] on both axes
EXAMPLES = Path(__file__).resolve().parent / "examples"  # the Upload tab's example pictures
EXAMPLE_PICTURES = {  # file: what it is (in the examples' label)
    "scan-2.jpg": "a scan", "printed-3.png": "a printed digit", "sketch-5.png": "a sketch",
    "photo-4.jpg": "a phone photo stored sideways (EXIF orientation 6)",
}  # fmt: skip
EXAMPLE_TEXTS = [  # (model, text): each model's own kind of text
    ("hihello", "hihell"), ("charseq", "if you wan"), ("longseq", "if you want to build a ship"),
    ("longseq-gru", "teach them to long for the endless immensity of the sea"),
]  # fmt: skip
# Inputs an API caller may leave out, by endpoint: how many of its last inputs (they then take the function's
# default). generate_text's seed came later: a call with the four inputs it had still answers as before.
OPTIONAL_INPUTS = {"generate_text": 1}
PLOT_SIZE = 360
# Gradio 6.31's Sketchpad opens with no tool selected ("select the draw tool to start"): pick the brush
# for the user as soon as the canvas is on the page, so drawing works at the first stroke.
SELECT_BRUSH_JS = """
() => {
  const started = Date.now();
  const timer = setInterval(() => {
    const brush = document.querySelector('button[aria-label="Brush"]');
    if (brush) { brush.click(); clearInterval(timer); }
    else if (Date.now() - started > 15000) { clearInterval(timer); }
  }, 200);
}
"""


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
            raise gr.Error(
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
                    raise gr.Error(str(error)) from None
        try:
            return super().preprocess(payload)
        except (OSError, ValueError, SyntaxError) as error:  # Pillow: not an image, truncated, ...
            raise gr.Error(
                f"The drawing could not be read ({type(error).__name__}). Draw on the canvas again."
            ) from None


def _as_number(payload, what: str, accepts: str) -> float | None:
    """A JSON number as sent (no rounding: 2.5 stays 2.5 and is refused where a whole number is due), or
    gr.Error naming the field and what it accepts. Strings of digits from raw HTTP callers are read too."""
    if payload is None:
        return None
    if isinstance(payload, bool) or not isinstance(payload, (int, float, str)):
        raise gr.Error(f"The {what} must be {accepts}; got {str(payload)[:40]!r}.")
    try:
        return float(payload)
    except ValueError:
        raise gr.Error(f"The {what} must be {accepts}; got {payload[:40]!r}.") from None


class ExactNumber(gr.Number):
    """gr.Number that passes the value as sent and explains one that is not a number (set `accepts`)."""

    accepts = "a number"

    def get_block_name(self) -> str:
        return "number"

    def preprocess(self, payload):
        return _as_number(payload, self.label or "value", self.accepts)


class CheckedSlider(gr.Slider):
    """gr.Slider that explains a value that is not a number or out of range, in the app's words."""

    def get_block_name(self) -> str:
        return "slider"

    def preprocess(self, payload):
        accepts = f"a number from {self.minimum:g} to {self.maximum:g}"
        value = _as_number(payload, self.label or "value", accepts)
        if value is None or not self.minimum <= value <= self.maximum:  # also NaN
            raise gr.Error(f"The {self.label} must be {accepts}; got {payload!r}.")
        return value


def _frame_picture(frame: np.ndarray) -> np.ndarray:
    """The 28x28 frame, 6x larger with visible pixels, for the UI."""
    return np.kron((frame * 255).astype(np.uint8), np.ones((6, 6), dtype=np.uint8))


def launch_options(models_dir: str | Path = "models") -> dict:
    """What `launch()` needs besides host and port, for `python -m demo` and the Space's app.py alike: the
    upload cap, the request-size limit (demo/guard.py), and the browser page at /web/ (demo/web.py)."""
    from demo.web import routes

    # js= belongs to launch() since Gradio 6 (in gr.Blocks it is deprecated)
    return {"max_file_size": MAX_UPLOAD, "js": SELECT_BRUSH_JS, "state_session_capacity": SESSIONS,
            "app_kwargs": {"routes": routes(models_dir), "middleware": [Middleware(BodyLimit)]}}  # fmt: skip


class FileCache:
    """How long the files in Gradio's cache live (uploads, output images): Gradio keeps them all, forever.

    - an upload that a request has read (classify_digit): CACHE_AGE_S after that, unless uploaded again since;
    - an upload not read yet (it may be waiting in the queue; sketches): UNREAD_UPLOAD_S after it arrived;
    - an output image: CACHE_AGE_S after it was written (the page and gradio_client fetch it at once);
    - kept: each open page's current sketch and upload, which a change of model re-reads (`keep`, one entry
      per browser session, the SESSIONS most recent; API calls never send that event), and the components'
      own files (the circles plot's first picture).
    A thread deletes what has expired every CACHE_SWEEP_S seconds, with the folder Gradio made for each file.
    """

    def __init__(self, capacity: int = SESSIONS):
        self.capacity = capacity
        self.pinned: OrderedDict[str, frozenset[str]] = OrderedDict()
        self.kept: frozenset[str] = frozenset()
        self.read_at: dict[str, float] = {}
        self.lock = threading.Lock()

    def keep(self, sketch, upload, request: gr.Request) -> None:
        """Bound with preprocess=False: `sketch` and `upload` are Gradio's payloads (file paths, not pixels)."""
        paths = frozenset(_file_paths([sketch, upload]))
        with self.lock:
            self.pinned[request.session_hash] = paths
            self.pinned.move_to_end(request.session_hash)
            while len(self.pinned) > self.capacity:
                self.pinned.popitem(last=False)
            self.kept = frozenset().union(*self.pinned.values())

    def reads_upload(self, fn):
        """`fn(path, ...)`, noting when the upload at `path` was read (same signature, for the API page)."""

        @functools.wraps(fn)
        def reading(image, *args, **kwargs):
            try:
                return fn(image, *args, **kwargs)
            finally:
                if isinstance(image, str):
                    self.read_at[image] = time.time()

        return reading

    def sweep(self, app: gr.Blocks, now: float | None = None) -> int:
        """Delete the expired files; returns how many.

        Gradio's own `delete_cache` iterates these sets while uploads add to them: under load it raised "Set
        changed size during iteration" and stopped for good (measured: files piled up again). This copies first.
        """
        now = time.time() if now is None else now
        keep = set(self.kept)
        for block in list(app.blocks.values()):
            keep.update(getattr(block, "keep_in_cache", ()))
        root = os.path.abspath(getattr(app, "GRADIO_CACHE", ""))
        deleted = 0
        for files in list(app.temp_file_sets):
            for path in list(files):  # list(): a copy, made while holding the GIL
                if path in keep:
                    continue
                try:
                    written = os.lstat(path).st_ctime  # an upload of the same bytes again renews it
                    read = self.read_at.get(path)
                    if read is not None and read >= written:
                        expires = read + CACHE_AGE_S
                    elif path in app.upload_file_set:
                        expires = written + UNREAD_UPLOAD_S
                    else:
                        expires = written + CACHE_AGE_S
                    if now <= expires:
                        continue
                    os.remove(path)
                except FileNotFoundError:
                    pass
                except OSError:
                    continue
                files.discard(path)
                self.read_at.pop(path, None)
                deleted += 1
                folder = os.path.dirname(os.path.abspath(path))
                if folder != root:
                    with contextlib.suppress(OSError):  # one folder per file, named by its hash; kept if not empty
                        os.rmdir(folder)
        return deleted

    def start_sweeping(self, app: gr.Blocks) -> None:
        """A daemon thread: sweep every CACHE_SWEEP_S seconds for as long as the app exists."""
        ref = weakref.ref(app)

        def run() -> None:
            while (live := ref()) is not None:
                try:
                    self.sweep(live)
                except Exception as error:  # a failed sweep must not end the sweeping
                    print(f"cache sweep: {type(error).__name__}: {error}")
                del live
                time.sleep(CACHE_SWEEP_S)

        threading.Thread(target=run, name="cache-sweeper", daemon=True).start()


def _file_paths(payload) -> list[str]:
    if isinstance(payload, dict):
        own = [payload["path"]] if isinstance(payload.get("path"), str) else []
        return own + [p for value in payload.values() for p in _file_paths(value)]
    if isinstance(payload, (list, tuple)):
        return [p for value in payload for p in _file_paths(value)]
    return []


def build_app(models_dir: str | Path = "models", zoo: Zoo | None = None, queue_max: int = QUEUE_MAX) -> gr.Blocks:
    return_memory_to_the_system()
    zoo = zoo or Zoo(models_dir)
    digit_models = zoo.digit_models()
    text_models = zoo.text_models()
    best = digit_models[0]
    _warm_up(zoo, best)

    def describe(name: str) -> str:
        entry = zoo.models[name].entry
        metrics = entry["metrics"]
        return f"{name} ({entry['kind']}, {metrics['test_accuracy']:.1%} on the {metrics['dataset']} test split)"

    # ------------------------------------------------------------------ digits

    def classify(image, model: str):
        """Image (path, Pillow image or numpy array) -> (label, frame, info). Raises NotADigit/BadRequest.

        The demo only decodes the picture to RGBA; the canvas model does the rest (demo/runtime.py)."""
        started = time.perf_counter()
        rgba = to_rgba(image)
        decoded = time.perf_counter() - started
        confidences, frame, seconds = zoo.classify(model, rgba)
        info = (f"**{describe(model)}** answered in {seconds * 1e3:.2f} ms, preprocessing included "
                f"(the canvas model, {rgba.shape[1]}x{rgba.shape[0]} px; decoding {decoded * 1e3:.1f} ms) "
                f"on {zoo.provider}.")  # fmt: skip
        return confidences, _frame_picture(frame), info

    def classify_sketch(sketch, model: str):
        composite = (sketch or {}).get("composite")
        if composite is None:
            return None, None, "Draw a digit on the canvas."
        try:
            return classify(composite, model)
        except NotADigit as error:  # in the UI a blank canvas is a state, not an error: say it in place
            return None, None, str(error)
        except BadRequest as error:
            raise gr.Error(str(error)) from None

    def reclassify(sketch, image: str | None, model: str):
        """The model changed: answer again for the upload if there is one, else for the sketch."""
        if image is not None:
            return classify_digit(image, model)
        return classify_sketch(sketch, model)

    def classify_digit(image: str | None, model: str = best):
        """An image file of any size and mode -> top-3 digits with confidences."""
        if image is None:
            raise gr.Error(NO_IMAGE)
        try:
            return classify(image, model)
        except (NotADigit, BadRequest) as error:
            raise gr.Error(str(error)) from None

    # ------------------------------------------------------------------ inside the digit models

    def inspect_digit(image: str | None, model: str = best) -> dict:
        """An image file -> the answer and every layer's output as JSON (the module docstring gives its shape)."""
        if image is None:
            raise gr.Error(NO_IMAGE)
        try:
            return _digit_json(zoo.inspect_digit(model, to_rgba(image)))
        except (NotADigit, BadRequest) as error:
            raise gr.Error(str(error)) from None

    def inside_pictures(image, model: str, shown: bool):
        """The Inside view for a picture (UI only): every layer's picture, and a line about them. Nothing is
        computed while the accordion is closed."""
        if not shown:
            return gr.skip(), gr.skip()
        if image is None:
            return "", INSIDE_PROMPT
        try:
            inside = zoo.inspect_digit(model, to_rgba(image))
        except (NotADigit, BadRequest) as error:
            return "", str(error)
        note = (f"**{inside.model}**: the frame and its {len(inside.layers) - 1} layers, in the order the network "
                f"computes them, from `{inside.model}-probe.onnx` ({inside.seconds * 1e3:.1f} ms). Blue is below "
                "zero, red above; each layer has its own scale, shown under it.")  # fmt: skip
        if inside.note:
            note = f"{inside.note} {note}"
        return _pictures_html(digit_pictures(inside.layers, list(inside.confidences))), note

    def inside_sketch(sketch, model: str, shown: bool):
        return inside_pictures((sketch or {}).get("composite"), model, shown)

    def inside_current(sketch, image: str | None, model: str, shown: bool):
        """For the upload if there is one, else the sketch (as reclassify chooses)."""
        return inside_pictures(image, model, shown) if image is not None else inside_sketch(sketch, model, shown)

    # ------------------------------------------------------------------ text

    def predict_text(model: str, text: str):
        """The next-character prediction at every position (same length as text), and a table."""
        try:
            predicted, probabilities = zoo.predict_next(model, text)
        except BadRequest as error:
            raise gr.Error(str(error)) from None
        return predicted, _prediction_table(text, predicted, probabilities, zoo.models[model].entry["vocab"])

    def generate_text(model: str, prefix: str, length: float, temperature: float = 0.0, seed: float | None = 0):
        """prefix followed by `length` generated characters (greedy at temperature 0; sampled with `seed` above
        it: the same seed gives the same text; left out, seed 0)."""
        try:
            if length is None:
                raise BadRequest(f"The length is missing: give a whole number from 1 to {MAX_GENERATE:,}.")
            return zoo.generate(model, prefix, length, temperature or 0.0, 0 if seed is None else seed)
        except BadRequest as error:
            raise gr.Error(str(error)) from None

    def next_seed(fresh: bool, temperature: float):
        """The seed box before a sampled run (UI only): a fresh seed when asked, else the one shown."""
        return secrets.randbelow(MAX_SEED + 1) if fresh and temperature else gr.skip()

    def inspect_text(model: str, text: str) -> dict:
        """A text -> the next character at every position and every layer's values as JSON."""
        try:
            return _text_json(zoo.inspect_text(model, text))
        except BadRequest as error:
            raise gr.Error(str(error)) from None

    def hidden_states(model: str, text: str):
        """The heat map of every RNN/GRU layer's hidden state (UI only)."""
        try:
            inside = zoo.inspect_text(model, text)
        except BadRequest:
            return ""  # predict_text has said what is wrong
        pictures = text_heat_maps(inside.layers, inside.text, inside.predicted, inside.vocab)
        return _pictures_html([(picture, f"{model}: {caption}") for picture, caption in pictures])

    def fitting_text(model: str, text: str):
        """The model changed: keep the text if the model knows all its characters (left as it is: an example
        text may have arrived with the model), else put the model's example in."""
        fits = text and len(text) <= MAX_TEXT and set(text) <= set(zoo.models[model].entry["vocab"])
        return gr.skip() if fits else _example_text(zoo)(model)

    # ------------------------------------------------------------------ points

    def classify_point(x: float, y: float):
        if x is None or y is None or not (abs(x) <= MAX_COORDINATE and abs(y) <= MAX_COORDINATE):  # NaN too
            raise gr.Error(f"Give both coordinates as numbers from -{MAX_COORDINATE:g} to {MAX_COORDINATE:g}, "
                           f"e.g. x = 0.2, y = -0.5; got x = {x!r}, y = {y!r}.")  # fmt: skip
        p = float(zoo.point_probability(np.array([[x, y]]))[0])
        return {"inner circle (1)": p, "outer circle (0)": 1 - p}, _circles_plot(zoo, (x, y))

    def click_point(event: gr.SelectData):
        px, py = event.index
        x = (px / PLOT_SIZE * 2 - 1) * PLANE
        y = (1 - py / PLOT_SIZE * 2) * PLANE
        label, plot = classify_point(x, y)
        return round(x, 3), round(y, 3), label, plot

    # ------------------------------------------------------------------ layout

    file_cache = FileCache()
    # No usage analytics: the demo may run offline or behind a firewall, and does not phone home.
    with gr.Blocks(title="lecture-zoo: digits, text, points on ONNX Runtime", analytics_enabled=False) as app:
        gr.Markdown(
            "# lecture-zoo\nThe lectures' models (MNIST CNNs, hihello/charseq/longseq RNNs, the circles net), "
            f"served from verified ONNX files by ONNX Runtime ({zoo.provider}). No PyTorch at serving time."
        )
        with gr.Tab("Digits"):
            with gr.Row():
                with gr.Column(scale=3):
                    model = gr.Dropdown(digit_models, value=best, label="model",
                                        info="digit models in the manifest, most accurate first")  # fmt: skip
                    with gr.Tab("Draw"):
                        sketch = GuardedSketchpad(
                            label="Draw a digit", type="numpy", image_mode="RGBA",
                            canvas_size=(420, 420), layers=False, transforms=(),
                            brush=gr.Brush(default_size=18, colors=["#000000"], color_mode="fixed"),
                        )  # fmt: skip
                    with gr.Tab("Upload"):
                        upload = UploadedImage(label="image", type="filepath", image_mode=None,
                                               sources=["upload", "clipboard"], height=300)  # fmt: skip
                        # Not gr.Examples: it sets the image with gr.update(), and Gradio then gives the session a
                        # new UploadedImage made from its constructor arguments, without `app` and `examples`.
                        pictures = [str(EXAMPLES / name) for name in EXAMPLE_PICTURES if (EXAMPLES / name).is_file()]
                        examples = gr.Dataset(components=[upload], samples=[[p] for p in pictures], type="index",
                                              label="Examples: " + ", ".join(EXAMPLE_PICTURES.values()))  # fmt: skip
                with gr.Column(scale=2):
                    label = gr.Label(num_top_classes=3, label="prediction")
                    # PNG: the frame's pixels exactly as the model saw them (WebP, Gradio's default, is lossy)
                    frame = gr.Image(label="what the model sees (28x28)", height=180, interactive=False, format="png")
                    info = gr.Markdown("Draw a digit on the canvas, or upload a picture of one.")
            with gr.Accordion("Inside the network: every layer for this picture", open=True) as inside_box:
                inside_note = gr.Markdown(INSIDE_PROMPT)
                # the pictures in the page itself (PNG data: URLs, each at its own size): no files in the cache
                layer_pictures = gr.HTML()
            # the Inside pictures are made only while the accordion is open. A hidden checkbox, not gr.State: with
            # state to clean up, Gradio would hold a heartbeat connection open for every page.
            inside_shown = gr.Checkbox(value=True, visible=False)
            inside = [layer_pictures, inside_note]
            answer = [label, frame, info]
            sketch.change(classify_sketch, [sketch, model], answer, api_name=False, trigger_mode="always_last",
                          show_progress="hidden").success(
                inside_sketch, [sketch, model, inside_shown], inside, api_name=False, trigger_mode="always_last",
                show_progress="hidden")  # fmt: skip
            # .upload, not .change: clearing the image is not a request to classify nothing. The Inside pictures
            # follow as their own request (the page asks for them), so classify_digit's cost is its own.
            upload.upload(file_cache.reads_upload(classify_digit), [upload, model], answer,
                          api_name="classify_digit").success(
                inside_pictures, [upload, model, inside_shown], inside, api_name=False)  # fmt: skip
            examples.click(lambda k: pictures[k], examples, upload, api_name=False, queue=False).success(
                classify_digit, [upload, model], answer, api_name=False).success(
                inside_pictures, [upload, model, inside_shown], inside, api_name=False)  # fmt: skip
            upload.clear(lambda: (None, None, "Draw a digit on the canvas, or upload a picture of one.", "",
                                  INSIDE_PROMPT), None, answer + inside, api_name=False)  # fmt: skip
            model.change(reclassify, [sketch, upload, model], answer, api_name=False).success(
                inside_current, [sketch, upload, model, inside_shown], inside, api_name=False)  # fmt: skip
            inside_box.expand(lambda: True, None, inside_shown, api_name=False, queue=False).success(
                inside_current, [sketch, upload, model, inside_shown], inside, api_name=False)  # fmt: skip
            inside_box.collapse(lambda: False, None, inside_shown, api_name=False, queue=False)
            # cached files expire soon after use (FileCache); an open page's current sketch and upload stay
            for drawn_or_uploaded in (sketch.change, upload.upload):
                drawn_or_uploaded(file_cache.keep, [sketch, upload], None, preprocess=False, queue=False,
                                  api_name=False, show_progress="hidden")  # fmt: skip
            # API only: every layer as JSON (a hidden button: nothing on the page calls it)
            layers_json = gr.JSON(visible=False)
            gr.Button(visible=False).click(file_cache.reads_upload(inspect_digit), [upload, model], layers_json,
                                           api_name="inspect_digit")  # fmt: skip

        with gr.Tab("Text"):
            with gr.Row():
                text_model = gr.Dropdown(text_models, value=text_models[0], label="model")
                text = gr.Textbox(label="text", value="hihell", max_length=MAX_TEXT,
                                  info=f"up to {MAX_TEXT} characters from the model's vocabulary")  # fmt: skip
            pairs = [pair for pair in EXAMPLE_TEXTS if pair[0] in text_models]
            text_examples = gr.Dataset(components=[text], samples=[[t] for _, t in pairs], type="index",
                                       sample_labels=[f"{m}: {t}" for m, t in pairs], label="Example texts")  # fmt: skip
            predicted = gr.Textbox(label="next character at every position", interactive=False)
            table = gr.HTML()
            with gr.Accordion("Inside the network: the hidden state of every layer", open=True):
                hidden = gr.HTML()  # in the page itself, as the digit layers: shown whenever the tab is opened
            gr.Markdown("### Continue the text (the step model, one character at a time)")
            with gr.Row():
                # No minimum/maximum on the component: generate_text's own message names the field and range.
                length = ExactNumber(value=20, precision=0, label="length", info=f"1 to {MAX_GENERATE} characters")
                length.accepts = f"a whole number from 1 to {MAX_GENERATE:,}"
                temperature = CheckedSlider(0, MAX_TEMPERATURE, value=0, step=0.1, label="temperature",
                                        info="0 = greedy")  # fmt: skip
                seed = ExactNumber(value=0, precision=0, label="seed", info="for sampling (temperature > 0)")
                seed.accepts = f"a whole number from 0 to {MAX_SEED:,}"
                fresh = gr.Checkbox(value=True, label="new seed each run",
                                    info="untick to keep the seed: the same seed gives the same text")  # fmt: skip
                go = gr.Button("Continue", variant="primary")
            generated = gr.Textbox(label="generated", interactive=False)
            text.change(predict_text, [text_model, text], [predicted, table], api_name="predict_text",
                        trigger_mode="always_last", show_progress="hidden").success(
                hidden_states, [text_model, text], hidden, api_name=False, trigger_mode="always_last",
                show_progress="hidden")  # fmt: skip
            # an example sets the model and its text (plain values: see the digit examples), then the events run
            text_examples.click(lambda k: pairs[k], text_examples, [text_model, text], api_name=False, queue=False)
            text_model.change(fitting_text, [text_model, text], text, api_name=False).success(
                predict_text, [text_model, text], [predicted, table], api_name=False).success(
                hidden_states, [text_model, text], hidden, api_name=False)  # fmt: skip
            # the seed box shows the seed each sampled run used (a fresh one unless the user keeps it)
            go.click(next_seed, [fresh, temperature], seed, api_name=False, queue=False).success(
                generate_text, [text_model, text, length, temperature, seed], generated, api_name="generate_text")  # fmt: skip
            app.load(predict_text, [text_model, text], [predicted, table], api_name=False).success(
                hidden_states, [text_model, text], hidden, api_name=False)  # fmt: skip
            gr.Button(visible=False).click(inspect_text, [text_model, text], layers_json, api_name="inspect_text")

        build_train_tab(zoo)  # the text models trained on the server (demo/train_text.py)

        with gr.Tab("Points"):
            with gr.Row():
                with gr.Column():
                    plot = gr.Image(value=_circles_plot(zoo, None), label="click a point", interactive=False,
                                    height=PLOT_SIZE, width=PLOT_SIZE)  # fmt: skip
                with gr.Column():
                    px, py = ExactNumber(value=0.0, label="x"), ExactNumber(value=0.0, label="y")
                    px.accepts = py.accepts = f"a number from -{MAX_COORDINATE:g} to {MAX_COORDINATE:g}"
                    ask = gr.Button("Classify point")
                    point_label = gr.Label(label="probability")
                    entry = zoo.models["circles"].entry
                    gr.Markdown(f"The seed-004 net (2-4-1, sigmoid), {entry['metrics']['test_accuracy']:.0%} on "
                                "100 held-out points. Blue: the model says inner circle; red: outer.\n\n"
                                "**Watch it learn:** the [Train tab of the browser page](/web/#train) trains this "
                                "net live in your browser, from the same points and initial weights, epoch by "
                                "epoch, with the lecture's knobs (optimiser, learning rate, hidden units, ...).")  # fmt: skip
            ask.click(classify_point, [px, py], [point_label, plot], api_name="classify_point")
            plot.select(click_point, None, [px, py, point_label, plot], api_name=False)
        app.queue(default_concurrency_limit=CONCURRENCY, max_size=queue_max)
    upload.app = sketch.app = app
    # the example pictures as Gradio cached them: read as uploads are, and never swept from the cache
    upload.examples = frozenset(os.path.abspath(_cached(upload, picture)) for picture in pictures)
    upload.keep_in_cache.update(upload.examples)
    explain_refusals(app)
    allow_optional_inputs(app, OPTIONAL_INPUTS)
    lazy_session_configs()
    file_cache.start_sweeping(app)
    return app


class LazyConfigs(MutableMapping):
    """A session's component configs (Gradio's `SessionState.config_values`), each made when first read."""

    def __init__(self, config, wanted):
        self._config, self._made, self.pending = config, {}, {}  # pending: values set before the config was made
        self._keys = dict.fromkeys(key for key in config.blocks if key in wanted)  # in Gradio's order

    def __contains__(self, key) -> bool:
        return key in self._keys

    def made(self, key) -> bool:
        return key in self._made

    def __getitem__(self, key):
        if key not in self._made:
            if key not in self._keys:
                raise KeyError(key)
            made = self._config.config_for_block(key, [], self._config.blocks[key])
            if key in self.pending and "props" in made:
                made["props"]["value"] = self.pending[key]
            self._made[key] = made
        self.pending.pop(key, None)
        return self._made[key]

    def __setitem__(self, key, value) -> None:
        self._keys[key] = None
        self._made[key] = value
        self.pending.pop(key, None)

    def __delitem__(self, key) -> None:
        del self._keys[key]  # KeyError if unknown
        self._made.pop(key, None)
        self.pending.pop(key, None)

    def __iter__(self):
        return iter(list(self._keys))

    def __len__(self) -> int:
        return len(self._keys)


def lazy_session_configs() -> None:
    """Gradio makes a SessionState for each new session, and every API call is a session of its own; it then
    computes the config of every component of the app (inspect.signature of each constructor, ...), which a
    call never reads: a third of the demo's Python time per request (py-spy, GIL samples, raw HTTP load), and
    again for the inputs and outputs whose values a call sets in them. Each config is made when first read
    instead, with the last value set: the same configs, for every app in the process."""
    from gradio import state_holder

    session = state_holder.SessionState
    init, update_value = session.__init__, session._update_value_in_config
    if getattr(init, "lazy_configs", False):
        return

    class NoComponents:  # what SessionState.__init__ reads of a Blocks, with no component to configure
        def __init__(self, blocks: gr.Blocks):
            self.default_config, self.blocks = blocks.default_config, {}

    @functools.wraps(init)
    def lazy_init(self, blocks: gr.Blocks) -> None:
        init(self, NoComponents(blocks))
        self.config_values = LazyConfigs(self.blocks_config, blocks.blocks)

    @functools.wraps(update_value)
    def lazy_update_value(self, key: int, value) -> None:  # each call sets its inputs' and outputs' values
        configs = self.config_values
        if isinstance(configs, LazyConfigs) and key in configs and not configs.made(key):
            configs.pending[key] = value  # set in the config when (if ever) it is made
        else:
            update_value(self, key, value)

    lazy_init.lazy_configs = True
    session.__init__, session._update_value_in_config = lazy_init, lazy_update_value


def allow_optional_inputs(app: gr.Blocks, optional: dict[str, int]) -> None:
    """Let an API call leave out an endpoint's last inputs (`optional`: endpoint -> how many): they reach the
    function as None, which takes its default. Gradio refuses any call with fewer inputs than the endpoint has."""
    validate_inputs = app.validate_inputs  # demo/guard.py's, which names the inputs a call is missing

    def validate(block_fn, inputs) -> None:
        may_leave_out = optional.get(block_fn.api_name, 0)
        wanted = len(block_fn.inputs)
        required = wanted - may_leave_out
        if may_leave_out and required <= len(inputs) < wanted:
            inputs.extend([None] * (wanted - len(inputs)))  # the same list Gradio preprocesses next
        elif may_leave_out and len(inputs) < required:
            names = [getattr(b, "label", None) or type(b).__name__.lower() for b in block_fn.inputs]
            raise gr.Error(f"{block_fn.api_name} takes {required} inputs ({', '.join(names[:required])}); the "
                           f"request sent {len(inputs)}. Optional after them: {', '.join(names[required:])}.")  # fmt: skip
        validate_inputs(block_fn, inputs)

    app.validate_inputs = validate


def _cached(component: gr.components.Component, path: str) -> str:
    """Where Gradio caches the file at `path` when `component` outputs it (the path the page then sends back)."""
    from gradio import processing_utils

    data = component.postprocess(path).model_dump()
    return processing_utils.move_files_to_cache(data, component, postprocess=True)["path"]


def _pictures_html(pictures: list[tuple[np.ndarray, str]]) -> str:
    """Pictures as PNG images in the page, side by side where they fit, in order, each captioned (alt, title)."""
    figures = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(png_bytes(picture)).decode()}" alt="{html.escape(caption)}"'
        f' title="{html.escape(caption)}" style="max-width:100%;height:auto;border:1px solid #ddd">'
        for picture, caption in pictures
    )
    return f'<div class="inside-layers" style="display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start">{figures}</div>'


def _layer_json(layer: Layer) -> dict:
    """A layer for the JSON API: the manifest's entry for it, its shape and its values (nested lists; Gradio's
    JSON component writes a NumPy array so, and a value that is not finite as null)."""
    extra = {k: v for k, v in layer.spec.items() if k not in ("name", "module", "op", "shape")}
    return {"name": layer.name, "module": layer.module, "op": layer.op, "shape": layer.shape,
            "values": np.ascontiguousarray(layer.values), **extra}  # fmt: skip


def _digit_json(inside: DigitInside) -> dict:
    return {"model": inside.model, "asked": inside.asked, "note": inside.note, "label": inside.label,
            "confidences": inside.confidences, "layers": [_layer_json(layer) for layer in inside.layers]}  # fmt: skip


def _text_json(inside: TextInside) -> dict:
    return {"model": inside.model, "text": inside.text, "predicted": inside.predicted, "vocab": inside.vocab,
            "layers": [_layer_json(layer) for layer in inside.layers]}  # fmt: skip


def _warm_up(zoo: Zoo, model: str) -> None:
    """One sketch through the default canvas and probe models at start-up: the first run of a session pays
    one-time costs."""
    canvas = Image.new("RGBA", (420, 420), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(120, 100), (300, 100), (200, 330)], fill=(0, 0, 0, 255), width=18)
    zoo.classify(model, np.asarray(canvas))
    with contextlib.suppress(BadRequest):  # a manifest without probes still serves
        zoo.inspect_digit(model, np.asarray(canvas))


def _example_text(zoo: Zoo):
    def example(model: str) -> str:
        corpus = zoo.models[model].entry["metrics"].get("dataset", "")
        return {"hihello": "hihell", "charseq": "if you wan"}.get(corpus, "if you want to build a ship")

    return example


def _prediction_table(text: str, predicted: str, probabilities: np.ndarray, vocab: list[str], top: int = 3) -> str:
    """Per position: the input character, then the top-k next characters shaded by probability."""
    shown = min(len(text), 80)
    order = np.argsort(-probabilities[:shown], axis=1)[:, :top]
    cells = []
    for t in range(shown):
        rows = "".join(
            f'<div style="background:rgba(37,99,235,{probabilities[t, k]:.2f});padding:1px 3px">'
            f"{html.escape(repr(vocab[k])[1:-1])} {probabilities[t, k]:.2f}</div>"
            for k in order[t]
        )
        cells.append(
            f'<td style="vertical-align:top;text-align:center;white-space:nowrap"><b>{html.escape(repr(text[t])[1:-1])}</b>{rows}</td>'
        )
    more = f"<p>(first {shown} of {len(text)} positions)</p>" if shown < len(text) else ""
    return f'<div style="overflow-x:auto"><table style="font-family:monospace;font-size:12px"><tr>{"".join(cells)}</tr></table></div>{more}'


def _circles_plot(zoo: Zoo, point: tuple[float, float] | None) -> np.ndarray:
    """The decision boundary over the plane, the training points, and the asked point (numpy + Pillow)."""
    n = PLOT_SIZE
    axis = np.linspace(-PLANE, PLANE, n, dtype=np.float32)
    xs, ys = np.meshgrid(axis, axis[::-1])
    p = zoo.point_probability(np.stack([xs.ravel(), ys.ravel()], 1)).reshape(n, n)
    red, blue = np.array([239, 154, 154]), np.array([144, 180, 239])
    shade = (p[..., None] * blue + (1 - p[..., None]) * red).astype(np.uint8)
    shade[np.abs(p - 0.5) < 0.01] = 60  # the p = 0.5 boundary
    image = Image.fromarray(shade)
    draw = ImageDraw.Draw(image)

    def to_pixel(x: float, y: float) -> tuple[float, float]:
        return (x / PLANE + 1) / 2 * n, (1 - y / PLANE) / 2 * n

    for x, y, c in zoo.models["circles"].entry["points"]["train"]:
        u, v = to_pixel(x, y)
        draw.ellipse([u - 2, v - 2, u + 2, v + 2], fill=(30, 60, 180) if c else (180, 30, 30))
    if point is not None:
        u, v = to_pixel(*point)
        draw.ellipse([u - 6, v - 6, u + 6, v + 6], outline=(0, 0, 0), width=3)
    return np.asarray(image)
