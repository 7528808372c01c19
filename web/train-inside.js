// train-inside.js: the Inside view of the "Train models" tab, following the weights as they train. Each time it
// is redrawn, the model's inside file (`<model>-train-inside.onnx`, proven against PyTorch's layers by
// `python -m export --check`) runs once with the parameters the trainer holds at that moment: for a digit
// model on a digit (a validation digit, or one drawn on the pad, through a canvas model's 28x28 frame), every
// layer's maps and the first convolution's kernels; for a text model, every layer's hidden state under the
// sentence it learns. The drawing is inside.js's (the same maps, cells and written-out sums as the Inside
// view of the trained models), fed by this file's outputs and the same weights.
//
// While training runs it is redrawn at most every REFRESH_MS (and once more after the last step), between two
// steps: every run of onnxruntime-web, the trainer's too, goes through one queue (zoo.js `exclusive`).
import { digitInside, textInside } from "./inside.js";
import { paintKernels } from "./replay.js";
import { exclusive, ort } from "./zoo.js";
import { t } from "./i18n.js";
import { drawOn } from "./pad.js";

const REFRESH_MS = 250;
const PAD_BRUSH = 12; // px on the 280 px pad (the Digits tab's brush, to scale)

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** The characters a text model reads, in order: its one row, or the windows' sentence (the first window, then
 * the last character of each next one). */
export function sentenceOf(entry) {
  const rows = entry.batch.x.map((row) => [...row]);
  return rows.length === 1 ? rows[0] : [...rows[0], ...rows.slice(1).map((row) => row.at(-1))];
}

/**
 * The panel, appended to `root`. `live()` says what the Train models view holds now: {entry (the training
 * file's manifest entry), trainer (train-models.js StepTrainer), digits (mnist-5k's parts, or null)}.
 * refresh() redraws when due (call it after each frame of training); relabel() after a language switch.
 */
export function trainInside(zoo, root, live) {
  const box = el("details", { className: "inside", id: "l-inside", open: true });
  const summary = el("summary"), hint = el("p", { className: "hint" }), status = el("p", { className: "note", id: "l-inside-status" });
  const pad = el("canvas", { id: "l-pad", width: 280, height: 280 });
  const padContext = pad.getContext("2d", { willReadFrequently: true });
  const padCaption = el("figcaption"), next = el("button", { type: "button", id: "l-next" }), clearPad = el("button", { type: "button", id: "l-clear" });
  const kernels = el("canvas", { className: "replay-kernels", id: "l-kernels", width: 10, height: 10 });
  const kernelCaption = el("figcaption", { id: "l-kernels-caption" });
  const kernelFigure = el("figure", {}, kernelCaption, kernels);
  const input = el("div", { className: "l-inside-input" }, el("figure", {}, padCaption, pad, el("div", { className: "controls" }, next, clearPad)), kernelFigure);
  const body = (id) => el("div", { id }, el("div", { className: "inside-body" }, el("div", { className: "inside-layers" }), el("aside", { className: "inside-detail", ariaLive: "polite" })));
  const digitBox = body("l-inside-digits"), textBox = body("l-inside-text");
  box.append(summary, hint, input, status, digitBox, textBox);
  root.append(box);

  // inside.js asks its `zoo` for the model's entry and weights: here, the inside file's and the weights drawn
  let shown = null; // {entry (the inside file's), model, steps, weights: {name: {data, shape}}, x, out}
  const source = {
    entry: () => ({ vocab: shown.entry.vocab, hidden_size: shown.entry.layers.find((l) => l.op === "RNN" || l.op === "GRU")?.shape[0] }),
    weights: async () => shown.weights,
  };
  let digitView = null, textView = null;
  const log = []; // every redraw: {steps, runMs, paintMs} (the browser tests read it)

  // ---------------------------------------------------------------- the digit: a validation digit or the pad
  let frame = null, frameWords = () => "", validation = 0, digitsSeen = null;
  function useValidation(digits, index) {
    validation = index % digits.val.count;
    frame = Float32Array.from(digits.val.images.subarray(validation * 784, (validation + 1) * 784), (v) => v / 255);
    const label = digits.val.labels[validation], shownIndex = validation;
    frameWords = () => t("live.validationDigit", { index: shownIndex, label });
    padContext.clearRect(0, 0, pad.width, pad.height);
    due = true;
  }
  drawOn(pad, PAD_BRUSH, {
    start: () => {
      if (frameWords !== drawnWords) padContext.clearRect(0, 0, pad.width, pad.height); // a new drawing over a validation digit
      frameWords = drawnWords;
    },
    end: () => readPad(),
  });
  const drawnWords = () => t("live.drawn");
  /** The pad's picture through a canvas model: the 28x28 frame every digit model reads (zeros without ink). */
  async function readPad() {
    const model = zoo.entries.some((e) => e.kind === "canvas" && e.base_model === live().entry?.model) ? live().entry.model : zoo.bestDigitModel;
    try {
      const answer = await zoo.classifyDigit(pad, model);
      frame = Float32Array.from(answer.frame);
      frameWords = answer.ink ? drawnWords : () => t("live.noInk");
    } catch (error) {
      status.textContent = error.message;
      return;
    }
    due = true;
    refresh();
  }
  next.addEventListener("click", () => { if (digitsSeen) { useValidation(digitsSeen, validation + 1); refresh(); } });
  clearPad.addEventListener("click", () => {
    padContext.clearRect(0, 0, pad.width, pad.height);
    frame = new Float32Array(784);
    frameWords = () => t("live.noInk");
    due = true;
    refresh();
  });

  // ---------------------------------------------------------------- the redraw
  let busy = false, due = true, last = 0, timer = null, trainer = null;
  box.addEventListener("toggle", () => { if (box.open) { due = true; refresh(); } });

  function insideEntry(model) {
    return zoo.entries.find((e) => e.kind === "train-inside" && e.model === model) ?? null;
  }

  /** Redraw now if something changed (another model, a reset, a new digit) or REFRESH_MS have passed since the
   * last redraw; else once that much time has passed. */
  function refresh() {
    const now = live();
    if (!now.entry || !now.trainer) return;
    now.trainer.queue = exclusive; // the trainer's runs queue with every other run of the page (this panel's too)
    if (now.trainer !== trainer || now.trainer.steps < (shown?.steps ?? 0)) due = true; // another model, or a reset
    const wait = REFRESH_MS - (performance.now() - last);
    if (!due && wait > 0) {
      if (timer === null) timer = setTimeout(() => { timer = null; refresh(); }, wait);
      return;
    }
    if (busy) { due = true; return; } // once the redraw under way is done
    redraw(now);
  }

  async function redraw({ entry, trainer: current, digits }) {
    const inside = insideEntry(entry.model);
    box.hidden = !inside;
    if (!inside || !box.open) return;
    const isDigits = entry.task === "digits";
    hint.textContent = isDigits ? t("live.hintDigits") : t("live.hintText");
    input.hidden = !isDigits;
    digitBox.hidden = !isDigits;
    textBox.hidden = isDigits;
    if (isDigits && digits && digitsSeen !== digits) { digitsSeen = digits; useValidation(digits, 0); }
    if (isDigits && !frame) return; // the digits are still loading
    busy = true;
    due = false;
    trainer = current;
    const weights = { ...trainer.params }; // this moment's tensors: each step returns new ones
    const steps = trainer.steps;
    const chars = isDigits ? null : sentenceOf(entry);
    const x = isDigits
      ? new ort.Tensor("float32", frame.slice(), [1, 1, 28, 28])
      : new ort.Tensor("int64", BigInt64Array.from(chars, (c) => BigInt(entry.vocab.indexOf(c))), [1, chars.length]);
    try {
      const started = performance.now();
      const out = await zoo.run(inside.name, { x, ...weights });
      const runMs = performance.now() - started;
      if (live().trainer !== current) return; // another model or run since: its own redraw follows
      shown = { entry: inside, model: inside.name, steps, x, out,
        weights: Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, { data: v.data, shape: v.dims }])) };
      const layers = inside.layers.map((layer) => layer.op === "Input"
        ? { ...layer, data: x.data, dims: [1, 1, 28, 28] }
        : { ...layer, data: out[layer.name].data, dims: out[layer.name].dims });
      const painted = performance.now();
      if (isDigits) paintDigit(entry.model, layers);
      else paintText(entry.model, layers, chars);
      log.push({ steps, runMs, paintMs: performance.now() - painted });
      box.dataset.steps = String(steps);
      say(steps, isDigits);
    } catch (error) {
      status.textContent = error.message;
    } finally {
      busy = false;
      last = performance.now();
      if (due) refresh();
    }
  }

  let said = () => "";
  function say(steps, isDigits) {
    said = () => (isDigits ? `${frameWords()} · ` : "") + t("live.after", { steps, file: shown.entry.file });
    status.textContent = said();
  }

  function paintDigit(model, layers) {
    digitView ??= digitInside(source, digitBox);
    digitView.update({ model, layers, ink: true });
    const first = layers.find((l) => l.op === "Conv2d");
    kernelFigure.hidden = !first;
    if (!first) return;
    const { C, k, max } = paintKernels(kernels, shown.weights[first.params.weight]);
    kernelCaption.textContent = t("live.kernels", { layer: first.name, C, k, max: max.toFixed(2), steps: shown.steps });
  }

  function paintText(model, layers, chars) {
    textView ??= textInside(source, textBox);
    const detail = textBox.querySelector(".inside-detail");
    const picked = detail.classList.contains("open") && detail.dataset.layer ? [detail.dataset.layer, JSON.parse(detail.dataset.cell)] : null;
    textView.update({ layers }, model, chars.join(""));
    if (picked) { // the cell explained before this redraw, explained again with the new weights
      const i = layers.findIndex((l) => l.name === picked[0]);
      if (i >= 0) textView.select(i, ...picked[1]);
    }
  }

  function relabel() {
    summary.textContent = t("live.title");
    const entry = live().entry;
    hint.textContent = entry?.task === "text" ? t("live.hintText") : t("live.hintDigits");
    padCaption.textContent = t("live.pad");
    next.textContent = t("live.next");
    clearPad.textContent = t("live.clear");
    if (shown) {
      status.textContent = said();
      const first = shown.entry.layers.find((l) => l.op === "Conv2d");
      if (first) {
        const [C, , k] = shown.weights[first.params.weight].shape;
        const max = Math.max(...Array.from(shown.weights[first.params.weight].data, Math.abs));
        kernelCaption.textContent = t("live.kernels", { layer: first.name, C, k, max: max.toFixed(2), steps: shown.steps });
      }
    }
    // only the view of what is shown: the other one's layers belong to a model no longer trained (a text
    // view would ask the digit model's entry for its characters)
    if (shown?.entry.vocab) textView?.relabel();
    else digitView?.relabel();
  }
  relabel();

  return {
    refresh,
    relabel,
    log,
    /** What was drawn last: the step count, the input, the weights (name -> {data, shape}) and every output. */
    get shown() { return shown; },
  };
}
