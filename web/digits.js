// The Digits tab: a drawing canvas (mouse, touch, pen: pointer events) classified as you draw, top-3
// bars, the 28x28 frame the model saw, a model picker, clear and upload. The canvas's ImageData goes to
// the model as it is: the preprocessing is inside the canvas models.
import { digitInside } from "./inside.js";
import { drawOn } from "./pad.js";
import { replaySlider } from "./replay.js";
import { BLANK_MESSAGE, SPECK_MESSAGE } from "./zoo.js";
import { modelName, t } from "./i18n.js";

const THROTTLE_MS = 50; // during a stroke, at most one classification started per 50 ms
const BRUSH = 18; // px on the 420 px canvas, as the Gradio demo's brush
const MAX_PIXELS = 40_000_000; // as demo/images.py: a larger upload is refused, never resized here

const $ = (id) => document.getElementById(id);

export function setUpDigits(zoo) {
  const canvas = $("sketch"), frameCanvas = $("frame"), bars = $("bars"), info = $("digit-info"), picker = $("digit-model"), answer = $("answer");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const insideBox = $("digit-inside"), inside = digitInside(zoo, insideBox);
  const replay = replaySlider(zoo, insideBox, () => request(true)); // the epoch slider (models that kept every epoch)
  const log = []; // every answer shown: {label, drawing, ms, at} (read by the browser tests)
  let model = zoo.bestDigitModel;
  let source = canvas; // the canvas, or the ImageData of an uploaded picture at its own size
  let busy = false, pending = false, timer = null, lastStart = 0;

  let lastInfo = () => t("digits.prompt"); // the line under the bars, rewritten when the language changes
  const say = (words, error = false) => {
    lastInfo = words;
    info.textContent = words();
    info.classList.toggle("error", error);
  };
  function options() {
    picker.replaceChildren(...zoo.digitModels().map((m) => new Option(t("digits.option", {
      name: modelName(m.name), file: m.name, accuracy: (100 * m.accuracy).toFixed(1), dataset: m.dataset, kb: Math.round(m.bytes / 1024),
    }), m.name)));
    picker.value = model;
  }
  options();

  // A transparent canvas (the page's CSS paints it white): the strokes are the alpha channel, the Sketchpad's
  // form, which the canvas model reads on its cheapest path (one plane instead of three colours).
  const blank = () => context.clearRect(0, 0, canvas.width, canvas.height);
  blank();

  // ---------------------------------------------------------------- classification

  async function classify() {
    if (busy) { pending = true; return; } // answer the latest drawing once the current call returns
    busy = true; pending = false; lastStart = performance.now();
    const wasDrawing = pen.drawing;
    try {
      // With the Inside view open, one call of the probe model answers and shows every layer; else the canvas model.
      const probe = insideBox.open ? zoo.probeEntry(model) : null;
      const name = probe?.name ?? zoo.entries.find((e) => e.kind === "canvas" && e.base_model === model)?.name;
      if (!zoo.sessions.has(name)) say(() => t("digits.loading", { model, probe: Boolean(probe) }));
      if (probe) replay.setModel(model);
      const epoch = probe && replay.model === model ? replay.epoch : null;
      const result = probe ? await zoo.inspectDigit(source, model, { epoch }) : await zoo.classifyDigit(source, model);
      show(result, wasDrawing);
      if (probe) {
        const started = performance.now();
        inside.update(result);
        log[log.length - 1].paintMs = performance.now() - started;
      } else if (insideBox.open) {
        inside.unavailable(t("digits.int8Inside", { model, list: zoo.inspectableDigitModels().join(", ") }));
      }
    } catch (error) {
      bars.replaceChildren();
      answer.value = "";
      say(() => error.message, true);
    } finally {
      busy = false;
      if (pending) classify();
    }
  }

  function request(now = false) {
    if (now) { clearTimeout(timer); timer = null; classify(); return; }
    if (timer !== null) return;
    timer = setTimeout(() => { timer = null; classify(); }, Math.max(0, lastStart + THROTTLE_MS - performance.now()));
  }

  function show(result, wasDrawing) {
    log.push({ label: result.label, drawing: wasDrawing, ms: result.ms, at: performance.now() });
    bars.dataset.label = result.label ?? "";
    bars.replaceChildren(...result.confidences.slice(0, 3).map(({ label, confidence }) => {
      const item = document.createElement("li");
      item.innerHTML = `<span class="label"></span><span class="bar"></span><span class="pct"></span>`;
      item.querySelector(".label").textContent = label;
      item.querySelector(".bar").style.width = `${(100 * confidence).toFixed(1)}%`;
      item.querySelector(".pct").textContent = `${(100 * confidence).toFixed(1)}%`;
      return item;
    }));
    const top = result.confidences[0];
    answer.replaceChildren();
    if (result.ink && top) answer.append(top.label, " ", Object.assign(document.createElement("small"), { textContent: `${(100 * top.confidence).toFixed(0)}%` }));
    const message = result.message === BLANK_MESSAGE ? "digits.blank" : result.message === SPECK_MESSAGE ? "digits.speck" : null;
    say(result.ink
      ? () => t("digits.answered", { model: result.model, epoch: result.epoch, ms: result.ms.toFixed(1), threads: zoo.threads })
      : () => (message ? t(message) : result.message));
    const pixels = new ImageData(28, 28);
    result.frame.forEach((v, i) => {
      pixels.data.fill(Math.round(255 * v), 4 * i, 4 * i + 3);
      pixels.data[4 * i + 3] = 255;
    });
    frameCanvas.getContext("2d").putImageData(pixels, 0, 0);
  }

  // ---------------------------------------------------------------- drawing

  const pen = drawOn(canvas, BRUSH, {
    start: () => { if (source !== canvas) { blank(); source = canvas; } }, // drawing after an upload starts a new sketch
    move: () => request(),
    end: () => request(true), // the finished stroke is always answered
  });

  $("clear").addEventListener("click", () => {
    blank();
    source = canvas;
    request(true); // the model itself says the canvas is blank
  });

  $("upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    const refuse = (text) => { // a failed upload clears the previous answer: nothing stale stays on screen
      bars.replaceChildren();
      bars.dataset.label = "";
      answer.value = "";
      say(text, true);
    };
    // The size from the file's header, before anything is decoded (a 30000x30000 PNG is refused at once).
    const size = imageSize(new Uint8Array(await file.slice(0, 65536).arrayBuffer()));
    if (size && size.width * size.height > MAX_PIXELS) return refuse(() => tooLarge(size.width, size.height));
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      return refuse(() => t("digits.notImage", { name: file.name }));
    }
    if (bitmap.width * bitmap.height > MAX_PIXELS) return refuse(() => tooLarge(bitmap.width, bitmap.height));
    // the picture's own pixels, at its own size: finding and fitting the digit is the canvas model's work
    const picture = new OffscreenCanvas(bitmap.width, bitmap.height);
    picture.getContext("2d").drawImage(bitmap, 0, 0);
    source = picture.getContext("2d").getImageData(0, 0, picture.width, picture.height); // alpha kept
    blank(); // show it, fitted into the drawing canvas
    const fit = Math.min(canvas.width / bitmap.width, canvas.height / bitmap.height);
    const w = bitmap.width * fit, h = bitmap.height * fit;
    context.drawImage(bitmap, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
    request(true);
  });

  picker.addEventListener("change", () => {
    model = picker.value;
    request(true);
  });
  insideBox.addEventListener("toggle", () => { if (insideBox.open) request(true); });

  if (!model) {
    say(() => t("digits.noCanvas"), true);
    return { log, ready: Promise.resolve(), shown() {}, relabel() { say(lastInfo, true); }, busy: false };
  }

  return {
    log,
    inside,
    replay,
    // load the default model and answer the blank canvas: the first stroke is then answered at once
    ready: zoo.prepareDigitModel(model).then(() => classify()).then(() => { window.firstPrediction = performance.now(); }),
    shown() {},
    relabel() {
      options();
      say(lastInfo, info.classList.contains("error"));
      inside.relabel();
      replay.relabel?.();
      if (insideBox.open && !zoo.probeEntry(model)) request(true);
    },
    get busy() { return busy || pending || timer !== null; },
  };
}

/** The Python demo's words for a picture over the limit (demo/images.py check_size). */
function tooLarge(width, height) {
  return t("digits.tooLarge", { width, height, megapixels: Math.round((width * height) / 1e6), limit: MAX_PIXELS / 1e6 });
}

/** {width, height} read from a PNG, GIF, BMP, JPEG or WebP header (the first 64 KB), or null if unknown. */
export function imageSize(b) {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ascii = (at, n) => String.fromCharCode(...b.subarray(at, at + n));
  if (b.length >= 24 && b[0] === 0x89 && ascii(1, 3) === "PNG") return { width: view.getUint32(16), height: view.getUint32(20) };
  if (b.length >= 10 && ascii(0, 3) === "GIF") return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
  if (b.length >= 26 && ascii(0, 2) === "BM") return { width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
  if (b.length >= 30 && ascii(0, 4) === "RIFF" && ascii(8, 4) === "WEBP") {
    const kind = ascii(12, 4);
    if (kind === "VP8X") return { width: 1 + (b[24] | (b[25] << 8) | (b[26] << 16)), height: 1 + (b[27] | (b[28] << 8) | (b[29] << 16)) };
    if (kind === "VP8L") { const v = view.getUint32(21, true); return { width: (v & 0x3fff) + 1, height: ((v >> 14) & 0x3fff) + 1 }; }
    if (kind === "VP8 ") return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    for (let at = 2; at + 9 < b.length;) {
      if (b[at] !== 0xff) { at++; continue; }
      const marker = b[at + 1];
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; }
      at += 2 + view.getUint16(at + 2);
    }
  }
  return null;
}
