"""The Digits tab: draw or upload a digit, the top 3, the 28x28 frame the model sees, and the Inside view (every
layer of the network for this picture, from the model's probe file). API: classify_digit, inspect_digit."""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

from demo.components import GuardedSketchpad, UploadedImage, refuse
from demo.explain import explain_cell
from demo.images import NotADigit, to_rgba
from demo.inside import cell_at, cell_box, digit_figures, figures_html, labelled, layer_json
from demo.runtime import BadRequest, DigitInside, Zoo
from demo.strings import EN, label, language, message, say

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"  # the Upload tab's example pictures
EXAMPLE_PICTURES = {  # file: what it is (in the examples' label)
    "scan-2.jpg": "a scan", "printed-3.png": "a printed digit", "sketch-5.png": "a sketch",
    "photo-4.jpg": "a phone photo stored sideways (EXIF orientation 6)",
}  # fmt: skip
# Gradio 6.31's Sketchpad opens with no tool selected ("select the draw tool to start"), and its "Clear canvas"
# deselects the brush again: pick the brush for the user as soon as the canvas is on the page and after every
# Clear, so the next stroke draws. (The buttons' aria-labels are Gradio's own, in English in every locale.)
SELECT_BRUSH_JS = """
() => {
  const brushSoon = (ms) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const brush = document.querySelector('button[aria-label="Brush"]');
      if (brush && !brush.classList.contains('highlight')) { brush.click(); clearInterval(timer); }
      else if (Date.now() - started > ms) { clearInterval(timer); }
    }, 100);
  };
  brushSoon(15000);
  document.addEventListener('click', (event) => {
    if (event.target.closest && event.target.closest('button[aria-label="Clear canvas"]')) brushSoon(2000);
  }, true);
}
"""
# At pen up the Sketchpad exports its canvas with canvas.toBlob, three pictures a time, and again for each event
# that reads it, before the stroke's request can leave. Chromium encodes a toBlob PNG in the page's idle time, and
# while the canvas is still redrawing after a stroke (500 ms) it has none: the first picture came 330-400 ms after
# pen up (bench.inside_latency). From pen up until the stroke's request has left (its queue/join), a small canvas
# is encoded here and now (toDataURL: the same PNG encoder, about a millisecond a picture at this size). After it,
# the browser's own toBlob again: the exports Gradio makes while the answer is on its way wait for idle time, as
# before, and do not delay it. Any other type, a large canvas, or a canvas it cannot read: the browser's own.
ENCODE_PNG_NOW_JS = """
() => {
  const later = HTMLCanvasElement.prototype.toBlob;
  if (later.encodesNow) return;
  let until = 0;  // encode at once until then: from pen up until the stroke's request has left (2 s at most)
  window.addEventListener('pointerup', () => { until = performance.now() + 2000; }, true);
  new PerformanceObserver((list) => {
    if (list.getEntries().some((entry) => entry.name.includes('/queue/join'))) until = 0;
  }).observe({type: 'resource'});
  const now = function (callback, type, quality) {
    if (performance.now() > until || (type && type !== 'image/png') || this.width * this.height > 1024 * 1024) {
      return later.call(this, callback, type, quality);
    }
    let blob;
    try {
      const url = this.toDataURL('image/png');
      const text = atob(url.slice(url.indexOf(',') + 1));
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      blob = new Blob([bytes], {type: 'image/png'});
    } catch (error) {  // a canvas tainted by another origin's picture: the browser's own answer (an error)
      return later.call(this, callback, type, quality);
    }
    now.encoded += 1;
    queueMicrotask(() => callback(blob));  // after this call returns, as toBlob calls back; not a task later
  };
  now.encodesNow = true;
  now.encoded = 0;
  HTMLCanvasElement.prototype.toBlob = now;
}
"""
PAGE_JS = f"() => {{ ({SELECT_BRUSH_JS.strip()})(); ({ENCODE_PNG_NOW_JS.strip()})(); }}"  # launch(js=...)


# The Sketchpad's canvas (shown fitted to its box, about 350 px high on a desktop) and its pen. The page exports
# the whole canvas as PNG several times a stroke (see ENCODE_PNG_NOW_JS), so its size is paid at every stroke:
# 280x280 has half the pixels of 420x420 (bench.inside_latency). The canvas models find the ink and fit it to
# 20x20 in 28x28 whatever the picture's size; the pen keeps its share of the canvas (18 px of 420 before).
CANVAS, BRUSH = (280, 280), 12
RECENT = 64  # Inside views kept for their cells to be picked (~0.3 MB each for cnn-bn); older ones are redrawn
# A click on a layer's picture: the cell under the pointer (in the picture's own pixels) worked out on the server
# (explain_pick), written right under that layer, with a marker on the cell. Redone for the same cell when the
# picture changes (a new stroke), so the sum follows the drawing.
PICK_JS = """
let pinned = null;
async function pick(img, x, y) {
  const box = img.getBoundingClientRect();
  const holder = img.closest('.inside-layers');
  const answer = await server.explain_pick({token: holder.dataset.token, layer: Number(img.dataset.layer), x, y});
  element.querySelectorAll('.cell-sum, .marker').forEach((node) => node.remove());
  if (!answer || !answer.html) return;
  pinned = {layer: img.dataset.layer, x, y};
  const figure = img.closest('figure');
  figure.insertAdjacentHTML('afterend', answer.html);
  if (answer.box) {
    const scale = img.clientWidth / img.naturalWidth;
    const marker = document.createElement('div');
    marker.className = 'marker';
    const [left, top, width, height] = answer.box;
    Object.assign(marker.style, {left: `${left * scale - 2}px`, top: `${top * scale - 2}px`,
      width: `${width * scale + 4}px`, height: `${height * scale + 4}px`});
    img.parentElement.appendChild(marker);
  }
}
element.addEventListener('click', (event) => {
  const img = event.target.closest && event.target.closest('img[data-layer]');
  if (!img) return;
  const box = img.getBoundingClientRect();
  const x = (event.clientX - box.left) * img.naturalWidth / box.width;
  const y = (event.clientY - box.top) * img.naturalHeight / box.height;
  pick(img, x, y);
});
watch('value', () => {
  if (pinned === null) return;
  const img = element.querySelector(`img[data-layer="${pinned.layer}"]`);
  if (img) pick(img, pinned.x, pinned.y); else pinned = null;
});
"""


class Recent:
    """The last RECENT Inside views (DigitInside), each under a random token that the page sends back."""

    def __init__(self, capacity: int = RECENT):
        self.capacity = capacity
        self.items: OrderedDict[str, DigitInside] = OrderedDict()
        self.lock = threading.Lock()

    def add(self, inside: DigitInside) -> str:
        token = secrets.token_urlsafe(12)
        with self.lock:
            self.items[token] = inside
            while len(self.items) > self.capacity:
                self.items.popitem(last=False)
        return token

    def get(self, token: str) -> DigitInside | None:
        with self.lock:
            return self.items.get(token)


def digits_tab(app: gr.Blocks, zoo: Zoo, file_cache) -> None:
    """The Digits tab with its events, in `app` (inside its `with gr.Blocks()`); `file_cache`: the app's
    FileCache (an open page's sketch and upload are kept, a read upload expires)."""
    digit_models = zoo.digit_models()
    best = digit_models[0]
    _warm_up(zoo, best)

    def lecture_name(name: str, lang: str) -> str:
        """What the model is, by its lecture (an INT8 copy: its float model's, quantised)."""
        entry = zoo.models[name].entry
        base = entry.get("float_model", name) if entry["kind"] == "int8" else name
        what = say(lang, f"model.{base}") if f"model.{base}" in EN else base
        return say(lang, "model.int8", what=what) if entry["kind"] == "int8" else what

    # ------------------------------------------------------------------ digits

    def classify(image, model: str, lang: str = "en"):
        """Image (path, Pillow image or numpy array) -> (label, frame, info). Raises NotADigit/BadRequest.

        The demo only decodes the picture to RGBA; the canvas model does the rest (demo/runtime.py)."""
        started = time.perf_counter()
        rgba = to_rgba(image)
        decoded = time.perf_counter() - started
        confidences, frame, seconds = zoo.classify(model, rgba)
        metrics = zoo.models[model].entry["metrics"]
        info = say(lang, "digits.answered", model=model, what=lecture_name(model, lang),
                   accuracy=f"{metrics['test_accuracy']:.1%}", dataset=metrics["dataset"], ms=seconds * 1e3,
                   width=rgba.shape[1], height=rgba.shape[0], decoding=decoded * 1e3, provider=zoo.provider)  # fmt: skip
        return confidences, _frame_picture(frame), info

    def classify_sketch(sketch, model: str, lang: str = "en"):
        composite = (sketch or {}).get("composite")
        if composite is None:
            return None, None, say(lang, "digits.empty")
        try:
            return classify(composite, model, lang)
        except NotADigit as error:  # in the UI a blank canvas is a state, not an error: say it in place
            return None, None, message(error, lang)
        except BadRequest as error:
            raise refuse(message(error, lang), lang) from None

    def reclassify(sketch, image: str | None, model: str, request: gr.Request):
        """The model changed: answer again for the upload if there is one, else for the sketch."""
        if image is not None:
            return classify_digit(image, model, request)
        return classify_sketch(sketch, model, language(request))

    def classify_digit(image: str | None, model: str = best, request: gr.Request | None = None):
        """An image file of any size and mode -> top-3 digits with confidences."""
        lang = language(request)
        if image is None:
            raise refuse(say(lang, "error.no_image"), lang)
        try:
            return classify(image, model, lang)
        except (NotADigit, BadRequest) as error:
            raise refuse(message(error, lang), lang) from None

    # ------------------------------------------------------------------ inside the digit models

    def inspect_digit(image: str | None, model: str = best) -> dict:
        """An image file -> the answer and every layer's output as JSON (the module docstring gives its shape)."""
        if image is None:
            raise refuse(say("en", "error.no_image"))
        try:
            return _digit_json(zoo.inspect_digit(model, to_rgba(image)))
        except (NotADigit, BadRequest) as error:
            raise refuse(message(error, "en")) from None

    picked = Recent()  # the Inside views shown lately, by token: a click on a cell is worked out from them

    def inside_pictures(image, model: str, shown: bool, request: gr.Request | None = None):
        """The Inside view for a picture (UI only): every layer's picture, and a line about them. Nothing is
        computed while the accordion is closed."""
        if not shown:
            return gr.skip(), gr.skip()
        lang = language(request)
        if image is None:
            return "", say(lang, "inside.prompt")
        try:
            inside = zoo.inspect_digit(model, to_rgba(image))
        except (NotADigit, BadRequest) as error:
            return "", message(error, lang)
        note = say(lang, "inside.note", model=inside.model, n=len(inside.layers) - 1, ms=inside.seconds * 1e3)
        if inside.model != inside.asked:
            note = f"{say(lang, 'inside.int8', asked=inside.asked, model=inside.model)} {note}"
        figures = digit_figures(inside.layers, list(inside.confidences), lang)
        token = picked.add(inside)
        return figures_html(figures, say(lang, "layer.pick"), token), note

    def explain_pick(data, request: gr.Request | None = None) -> dict:
        """A click on a layer's picture ({token, layer, x, y}: the picture's own pixels) -> the cell's worked sum
        as HTML and where its marker goes ({html, box: [left, top, width, height]}; html only if none)."""
        lang = language(request)
        try:
            token, i, px, py = str(data["token"]), int(data["layer"]), float(data["x"]), float(data["y"])
        except (KeyError, TypeError, ValueError):
            return {"html": "", "box": None}
        inside = picked.get(token)
        if inside is None or not 0 <= i < len(inside.layers):
            return {"html": f'<div class="cell-sum"><p>{say(lang, "cell.gone")}</p></div>', "box": None}
        layer = inside.layers[i]
        labels = list(inside.confidences)
        cell = cell_at(layer, px, py, labelled(layer, labels))
        if cell is None:
            return {"html": f'<div class="cell-sum"><p>{say(lang, "cell.none")}</p></div>', "box": None}
        try:
            weights = zoo.weights(inside.model)
        except BadRequest:
            weights = None
        text = explain_cell(inside.layers, i, *cell, weights, lang)
        return {"html": text, "box": cell_box(layer, *cell, labelled(layer, labels))}

    def inside_sketch(sketch, model: str, shown: bool, request: gr.Request | None = None):
        return inside_pictures((sketch or {}).get("composite"), model, shown, request)

    def drawn(sketch, model: str, shown: bool, request: gr.Request):
        """A stroke on the canvas: the answer and the Inside view in one request (a second event would make
        the page encode and upload the drawing again before it could start)."""
        return *classify_sketch(sketch, model, language(request)), *inside_sketch(sketch, model, shown, request)

    def inside_current(sketch, image: str | None, model: str, shown: bool, request: gr.Request):
        """For the upload if there is one, else the sketch (as reclassify chooses)."""
        if image is not None:
            return inside_pictures(image, model, shown, request)
        return inside_sketch(sketch, model, shown, request)

    def forget():
        """No picture: no answer, no frame, no layers (the upload was removed, or refused)."""
        return None, None, label("digits.start"), "", label("inside.prompt")

    with gr.Tab(label("tab.digits")):
        with gr.Row():
            with gr.Column(scale=3):
                model = gr.Dropdown(digit_models, value=best, label=label("common.model"),
                                    info=label("digits.model_info"))  # fmt: skip
                with gr.Tab(label("tab.draw")):
                    sketch = GuardedSketchpad(
                        label=label("digits.sketch"), type="numpy", image_mode="RGBA",
                        canvas_size=CANVAS, layers=False, transforms=(),
                        brush=gr.Brush(default_size=BRUSH, colors=["#000000"], color_mode="fixed"),
                    )  # fmt: skip
                with gr.Tab(label("tab.upload")):
                    upload = UploadedImage(label=label("digits.image"), type="filepath", image_mode=None,
                                           sources=["upload", "clipboard"], height=300)  # fmt: skip
                    # Not gr.Examples: it sets the image with gr.update(), and Gradio then gives the session a
                    # new UploadedImage made from its constructor arguments, without `app` and `examples`.
                    pictures = [str(EXAMPLES / name) for name in EXAMPLE_PICTURES if (EXAMPLES / name).is_file()]
                    examples = gr.Dataset(components=[upload], samples=[[p] for p in pictures], type="index",
                                          label=label("digits.examples"))  # fmt: skip
            with gr.Column(scale=2):
                answer_label = gr.Label(num_top_classes=3, label=label("digits.prediction"))
                # PNG: the frame's pixels exactly as the model saw them (WebP, Gradio's default, is lossy)
                frame = gr.Image(label=label("digits.frame"), height=180, interactive=False, format="png")
                info = gr.Markdown(label("digits.start"))
        with gr.Accordion(label("digits.inside"), open=True) as inside_box:
            inside_note = gr.Markdown(label("inside.prompt"))
            # the pictures in the page itself (PNG data: URLs, each at its own size): no files in the cache
            layer_pictures = gr.HTML(js_on_load=PICK_JS, server_functions=[explain_pick])
        # the Inside pictures are made only while the accordion is open. A hidden checkbox, not gr.State: with
        # state to clean up, Gradio would hold a heartbeat connection open for every page.
        inside_shown = gr.Checkbox(value=True, visible=False)
        inside = [layer_pictures, inside_note]
        answer = [answer_label, frame, info]
        sketch.change(drawn, [sketch, model, inside_shown], answer + inside, api_name=False,
                      trigger_mode="always_last", show_progress="hidden")  # fmt: skip
        # .upload, not .change: clearing the image is not a request to classify nothing. The Inside pictures
        # follow as their own request (the page asks for them), so classify_digit's cost is its own.
        classified = upload.upload(file_cache.reads_upload(classify_digit), [upload, model], answer,
                                   api_name="classify_digit")  # fmt: skip
        classified.success(inside_pictures, [upload, model, inside_shown], inside, api_name=False)
        # a refused upload (its toast says why) leaves no earlier picture's answer or layers on the screen
        classified.failure(forget, None, answer + inside, api_name=False, queue=False)
        examples.click(lambda k: pictures[k], examples, upload, api_name=False, queue=False).success(
            classify_digit, [upload, model], answer, api_name=False).success(
            inside_pictures, [upload, model, inside_shown], inside, api_name=False)  # fmt: skip
        upload.clear(forget, None, answer + inside, api_name=False)
        model.change(reclassify, [sketch, upload, model], answer, api_name=False).success(
            inside_current, [sketch, upload, model, inside_shown], inside, api_name=False)  # fmt: skip
        inside_box.expand(lambda: True, None, inside_shown, api_name=False, queue=False).success(
            inside_current, [sketch, upload, model, inside_shown], inside, api_name=False)  # fmt: skip
        inside_box.collapse(lambda: False, None, inside_shown, api_name=False, queue=False)
        # cached files expire soon after use (FileCache); an open page's current upload stays. Not the sketch:
        # every event that reads the Sketchpad makes the page export and upload the drawing again (three PNGs),
        # so nothing of it is worth keeping, and a second event on a stroke would delay the answer.
        upload.upload(file_cache.keep, [upload], None, preprocess=False, queue=False, api_name=False,
                      show_progress="hidden")  # fmt: skip
        # API only: every layer as JSON (a hidden button: nothing on the page calls it)
        layers_json = gr.JSON(visible=False)
        gr.Button(visible=False).click(file_cache.reads_upload(inspect_digit), [upload, model], layers_json,
                                       api_name="inspect_digit")  # fmt: skip
    upload.app = sketch.app = app
    # the example pictures as Gradio cached them: read as uploads are, and never swept from the cache
    upload.examples = frozenset(os.path.abspath(_cached(upload, picture)) for picture in pictures)
    upload.keep_in_cache.update(upload.examples)


def _frame_picture(frame: np.ndarray) -> np.ndarray:
    """The 28x28 frame, 6x larger with visible pixels, for the UI."""
    return np.kron((frame * 255).astype(np.uint8), np.ones((6, 6), dtype=np.uint8))


def _cached(component: gr.components.Component, path: str) -> str:
    """Where Gradio caches the file at `path` when `component` outputs it (the path the page then sends back)."""
    from gradio import processing_utils

    data = component.postprocess(path).model_dump()
    return processing_utils.move_files_to_cache(data, component, postprocess=True)["path"]


def _digit_json(inside: DigitInside) -> dict:
    return {"model": inside.model, "asked": inside.asked, "note": inside.note, "label": inside.label,
            "confidences": inside.confidences, "layers": [layer_json(layer) for layer in inside.layers]}  # fmt: skip


def _warm_up(zoo: Zoo, model: str) -> None:
    """One sketch through the default canvas and probe models at start-up: the first run of a session pays
    one-time costs."""
    canvas = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(80, 66), (200, 66), (133, 220)], fill=(0, 0, 0, 255), width=BRUSH)
    zoo.classify(model, np.asarray(canvas))
    with contextlib.suppress(BadRequest):  # a manifest without probes still serves
        zoo.inspect_digit(model, np.asarray(canvas))
