// The Digits tab: a drawing canvas (mouse, touch, pen: pointer events) classified as you draw, top-3
// bars, the 28x28 frame the model saw, a model picker, clear and upload. The canvas's ImageData goes to
// the model as it is: the preprocessing is inside the canvas models.
const THROTTLE_MS = 50; // during a stroke, at most one classification started per 50 ms
const BRUSH = 18; // px on the 420 px canvas, as the Gradio demo's brush
const MAX_PIXELS = 40_000_000; // as demo/images.py: a larger upload is refused, never resized here
const PROMPT = "Draw a digit on the canvas, or upload a picture of one.";

const $ = (id) => document.getElementById(id);

export function setUpDigits(zoo) {
  const canvas = $("sketch"), frameCanvas = $("frame"), bars = $("bars"), info = $("digit-info"), picker = $("digit-model");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const log = []; // every answer shown: {label, drawing, ms, at} (read by the browser tests)
  let model = zoo.bestDigitModel;
  let source = canvas; // the canvas, or the ImageData of an uploaded picture at its own size
  let drawing = null, last = null;
  let busy = false, pending = false, timer = null, lastStart = 0;

  for (const m of zoo.digitModels()) {
    const option = new Option(`${m.name} (${(100 * m.accuracy).toFixed(1)}% on ${m.dataset}, ${Math.round(m.bytes / 1024)} KB)`, m.name);
    picker.add(option);
  }
  picker.value = model;

  // A transparent canvas (the page's CSS paints it white): the strokes are the alpha channel, the Sketchpad's
  // form, which the canvas model reads on its cheapest path (one plane instead of three colours).
  const blank = () => context.clearRect(0, 0, canvas.width, canvas.height);
  blank();

  // ---------------------------------------------------------------- classification

  async function classify() {
    if (busy) { pending = true; return; } // answer the latest drawing once the current call returns
    busy = true; pending = false; lastStart = performance.now();
    const wasDrawing = drawing !== null;
    try {
      if (!zoo.sessions.has(zoo.entries.find((e) => e.base_model === model)?.name)) info.textContent = `Loading ${model}...`;
      show(await zoo.classifyDigit(source, model), wasDrawing);
    } catch (error) {
      bars.replaceChildren();
      info.textContent = error.message;
      info.classList.add("error");
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
    info.classList.remove("error");
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
    info.textContent = result.ink
      ? `${result.model} answered in ${result.ms.toFixed(1)} ms, in this browser (wasm, ${zoo.threads} thread${zoo.threads > 1 ? "s" : ""}).`
      : result.message;
    const pixels = new ImageData(28, 28);
    result.frame.forEach((v, i) => {
      pixels.data.fill(Math.round(255 * v), 4 * i, 4 * i + 3);
      pixels.data[4 * i + 3] = 255;
    });
    frameCanvas.getContext("2d").putImageData(pixels, 0, 0);
  }

  // ---------------------------------------------------------------- drawing

  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * canvas.width) / box.width, y: ((event.clientY - box.top) * canvas.height) / box.height,
      width: event.pointerType === "pen" && event.pressure > 0 ? BRUSH * (0.5 + event.pressure) : BRUSH };
  };
  const segment = (from, to) => {
    context.strokeStyle = "#000";
    context.lineCap = context.lineJoin = "round";
    context.lineWidth = to.width;
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
  };

  canvas.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    if (source !== canvas) { blank(); source = canvas; } // drawing after an upload starts a new sketch
    drawing = event.pointerId;
    last = at(event);
    segment(last, last);
    request();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (drawing !== event.pointerId) return;
    for (const e of event.getCoalescedEvents?.() ?? [event]) {
      const point = at(e);
      segment(last, point);
      last = point;
    }
    request();
  });
  const end = (event) => {
    if (drawing !== event.pointerId) return;
    drawing = null;
    request(true); // the finished stroke is always answered
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  $("clear").addEventListener("click", () => {
    blank();
    source = canvas;
    request(true); // the model itself says the canvas is blank
  });

  $("upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      bars.replaceChildren();
      info.textContent = `${file.name} is not an image this browser can read. Upload a PNG, JPEG, GIF, BMP or WebP picture of one digit.`;
      info.classList.add("error");
      return;
    }
    const pixelCount = bitmap.width * bitmap.height;
    if (pixelCount > MAX_PIXELS) {  // the Python demo's words (demo/images.py check_size)
      bars.replaceChildren();
      info.textContent = `The image is ${bitmap.width}x${bitmap.height} (${Math.round(pixelCount / 1e6)} megapixels); ` +
        `the limit is ${MAX_PIXELS / 1e6} megapixels. Scale it down and upload it again.`;
      info.classList.add("error");
      return;
    }
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

  if (!model) {
    info.textContent = "This manifest has no canvas models (kind \"canvas\"): export them with python -m export all.";
    return { log, ready: Promise.resolve(), shown() {}, busy: false };
  }

  return {
    log,
    // load the default model and answer the blank canvas: the first stroke is then answered at once
    ready: zoo.prepareDigitModel(model).then(() => classify()).then(() => { window.firstPrediction = performance.now(); }),
    shown() {},
    get busy() { return busy || pending || timer !== null; },
  };
}
