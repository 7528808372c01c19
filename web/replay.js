// The epoch slider of the Inside view: the digit model's training replayed on what you drew. Drag it and the
// layers, the prediction, the first layer's kernels and the cursor on the training curves are those of that
// epoch (zoo.inspectDigit(image, model, {epoch}) runs the replay model with that epoch's weights). The replay's
// files (the graph and every epoch's float16 weights) are fetched when the slider is first used.
import { count as thousands, t } from "./i18n.js";

function $el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/**
 * Controls in `root` (the Inside view's <details>) for the digit models with a replay entry. `onChange()` is
 * called when the epoch changes (the Digits tab asks inspectDigit again). `epoch` is null for the trained model.
 */
export function replaySlider(zoo, root, onChange) {
  const box = $el("div", { className: "replay", hidden: true });
  const slider = $el("input", { type: "range", min: "1", max: "1", step: "1", value: "1", id: "epoch" });
  slider.dataset.i18nAria = "replay.slider";
  slider.setAttribute("aria-label", t("replay.slider"));
  const label = $el("output", { className: "replay-label" });
  const final = $el("button", { type: "button", textContent: t("replay.final"), className: "replay-final" });
  final.dataset.i18n = "replay.final";
  const note = $el("p", { className: "hint" });
  const kernels = $el("canvas", { className: "replay-kernels", width: 10, height: 10 });
  const curves = $el("canvas", { className: "replay-curves", width: 360, height: 140 });
  const kernelCaption = $el("figcaption");
  const words = (key) => { const node = $el("span", { textContent: t(key) }); node.dataset.i18n = key; return node; };
  const key = (name, word) => { const node = words(word); node.className = `key ${name}`; return node; };
  const slideLabel = $el("label", { htmlFor: "epoch" }, words("replay.label"));
  box.append(
    $el("div", { className: "replay-row" }, slideLabel, slider, label, final),
    note,
    $el("div", { className: "replay-figures" },
      $el("figure", {}, kernelCaption, kernels),
      $el("figure", {}, $el("figcaption", {}, words("replay.log"), " ", key("loss", "replay.trainLoss"), ", ",
        key("val", "replay.valLoss"), " ", words("replay.left"), ", ", key("acc", "replay.testAccuracy"), " ", words("replay.right"), " ",
        words("replay.logNote")), curves)),
  );
  root.querySelector(".inside-body").before(box);

  let model = null, replay = null, epoch = null, loading = null;

  async function load() {
    if (!loading) {
      const entry = zoo.replayEntry(model);
      note.textContent = t("replay.loading", { graph: kb(entry.bytes), weights: kb(entry.epochs.bytes), epochs: entry.epochs.count, parameters: thousands(entry.epochs.parameters) });
      loading = zoo.replay(model);
    }
    replay = await loading;
    return replay;
  }

  async function setEpoch(value) {
    const wanted = model;
    try {
      await load();
    } catch (error) {
      note.textContent = error.message;
      return;
    }
    if (wanted !== model) return;
    epoch = value;
    draw();
    onChange();
  }

  function draw() {
    const entry = zoo.replayEntry(model);
    const history = entry.history;
    const count = entry.epochs.count;
    const shown = epoch ?? count;
    label.value = epoch === null ? t("replay.trained", { count }) : t("replay.of", { epoch, count });
    final.disabled = epoch === null;
    const test = history.test_accuracy[shown - 1];
    note.textContent = epoch === null
      ? t("replay.drag", { size: kb(entry.bytes + entry.epochs.bytes) })
      : t("replay.after", { epoch, test: (100 * test).toFixed(1), train: history.train_loss[shown - 1].toFixed(3), val: history.val_loss[shown - 1].toFixed(3) });
    drawCurves(curves, history, shown);
    if (replay) drawKernels(shown);
    else kernelCaption.textContent = t("replay.kernelsLater");
    box.dataset.epoch = epoch === null ? "" : String(epoch);
  }

  function drawKernels(at) {
    const probe = zoo.probeEntry(model);
    const first = probe.layers.find((l) => l.op === "Conv2d");
    const name = first?.params?.weight;
    if (!name) return;
    const { C, k, max } = paintKernels(kernels, replay.tensor(at, name));
    kernelCaption.textContent = t("replay.kernels", { layer: first.name, C, k, at, max: max.toFixed(2) });
  }

  slider.addEventListener("input", () => setEpoch(Number(slider.value)));
  final.addEventListener("click", () => { epoch = null; slider.value = slider.max; draw(); onChange(); });

  return {
    /** Show the slider for `name` when it has a replay (else hide it); resets to the trained model. */
    setModel(name) {
      if (name === model) return;
      model = name;
      replay = null;
      loading = null;
      epoch = null;
      const entry = zoo.replayEntry(name);
      box.hidden = !entry;
      if (!entry) return;
      slider.max = String(entry.epochs.count);
      slider.value = slider.max;
      draw();
    },
    /** The words again, in the language just chosen. */
    relabel() { if (model && !box.hidden) draw(); },
    get epoch() { return epoch; },
    get model() { return model; },
    setEpoch,
  };
}

/** A first convolution's kernels ({data, shape [C_out, 1, k, k]}: one input channel, the frame) on `canvas`, 16 a row,
 * red positive, blue negative, full colour at the largest |weight|; returns {C, k, max}. */
export function paintKernels(canvas, { data, shape }) {
  const [C, , k] = shape;
  const cols = Math.min(C, 16), rows = Math.ceil(C / cols), cell = k + 1;
  canvas.width = cols * cell - 1;
  canvas.height = rows * cell - 1;
  canvas.style.width = `${Math.min(360, (cols * cell - 1) * (k <= 3 ? 8 : 10))}px`;
  const pixels = new ImageData(canvas.width, canvas.height);
  pixels.data.fill(255);
  let max = 0;
  for (const v of data) max = Math.max(max, Math.abs(v));
  for (let c = 0; c < C; c++) {
    const ox = (c % cols) * cell, oy = Math.floor(c / cols) * cell;
    for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) {
      const t = data[c * k * k + y * k + x] / (max || 1);
      const o = 4 * ((oy + y) * canvas.width + ox + x);
      const [r, g, b] = t >= 0 ? [255, 255 * (1 - t), 255 * (1 - t)] : [255 * (1 + t), 255 * (1 + t), 255];
      pixels.data[o] = r; pixels.data[o + 1] = g; pixels.data[o + 2] = b;
    }
  }
  canvas.getContext("2d").putImageData(pixels, 0, 0);
  return { C, k, max };
}

function drawCurves(canvas, history, at) {
  const ctx = canvas.getContext("2d");
  const { width: w, height: h } = canvas;
  const pad = { l: 30, r: 34, t: 8, b: 16 };
  const n = history.train_loss.length;
  ctx.clearRect(0, 0, w, h);
  const x = (e) => pad.l + ((w - pad.l - pad.r) * (e - 1)) / Math.max(1, n - 1);
  const maxLoss = Math.max(...history.train_loss, ...history.val_loss);
  const yLoss = (v) => pad.t + (h - pad.t - pad.b) * (1 - v / maxLoss);
  const yAcc = (v) => pad.t + (h - pad.t - pad.b) * (1 - v);
  ctx.font = '10px "lecture-zoo Hangul", system-ui, sans-serif';
  ctx.fillStyle = "#4b5563";
  ctx.strokeStyle = "#e5e7eb";
  for (const v of [0, 0.5, 1]) {
    ctx.beginPath(); ctx.moveTo(pad.l, yAcc(v)); ctx.lineTo(w - pad.r, yAcc(v)); ctx.stroke();
    ctx.fillText(`${Math.round(100 * v)}%`, w - pad.r + 3, yAcc(v) + 3);
    ctx.fillText((maxLoss * v).toFixed(1), 2, yLoss(maxLoss * v) + 3);
  }
  ctx.fillText("1", pad.l - 2, h - 3);
  ctx.textAlign = "right";
  ctx.fillText(t("replay.axis", { n }), w - pad.r, h - 3);
  ctx.textAlign = "left";
  const line = (values, y, colour, dash = []) => {
    ctx.strokeStyle = colour; ctx.setLineDash(dash); ctx.lineWidth = 1.5; ctx.beginPath();
    values.forEach((v, i) => (i ? ctx.lineTo(x(i + 1), y(v)) : ctx.moveTo(x(1), y(v))));
    ctx.stroke(); ctx.setLineDash([]);
  };
  line(history.train_loss, yLoss, "#2563eb");
  line(history.val_loss, yLoss, "#2563eb", [4, 3]);
  line(history.test_accuracy, yAcc, "#16a34a");
  ctx.strokeStyle = "#dc2626"; ctx.lineWidth = 1.5;
  ctx.beginPath(); ctx.moveTo(x(at), pad.t); ctx.lineTo(x(at), h - pad.b); ctx.stroke();
}

const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KB`;
