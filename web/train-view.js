// train-view.js: the lecture models trained live in the page by their training-step files (train-models.js):
// the RNNs print the lecture's own lines epoch by epoch, cnn-small trains on mnist-5k's 3,500 training digits
// and is measured on its 500 validation digits after each epoch. Knobs: optimiser, learning rate, epochs;
// run / pause, one step, reset; the loss curve; the Inside panel (train-inside.js: every layer from the live
// weights, a digit's maps and kernels or the RNN's hidden states under the sentence). Steps run a few at a time
// between frames, so the page answers while it trains. Every word is t("learn.*") (web/i18n-<lang>.js) and is
// written again on a language switch (relabel); the lecture's printed lines stay as the lecture's code prints them.
import { ort } from "./zoo.js";
import { StepTrainer, drawMasks, readDigits, rng, shuffled } from "./train-models.js";
import { modelName, t } from "./i18n.js";
import { trainInside } from "./train-inside.js";

const MAX_EPOCHS = { text: 500, digits: 20 };
const FRAME_MS = 30; // steps run until this much time has passed, then the page draws and answers
const SEED = 0;

async function fetchChecked(base, file, sha256) {
  const response = await fetch(new URL(file, base));
  if (!response.ok) throw new Error(t("learn.missing", { file, status: response.status }));
  const bytes = new Uint8Array(await response.arrayBuffer());
  const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
  if (digest !== sha256) throw new Error(t("learn.altered", { file }));
  return bytes;
}

/** The lecture's printed line after an epoch (seed 003), as demo/train_text.py prints it on the server. */
export function lectureLine(epoch, entry, loss, predicted, dims) {
  const vocab = entry.vocab;
  const [n, t] = dims.map(Number);
  const row = (i) => Array.from(predicted.slice(i * t, (i + 1) * t), Number);
  if (n > 1) return row(0).map((c) => vocab[c]).join("") + Array.from({ length: n - 1 }, (_, i) => vocab[row(i + 1)[t - 1]]).join("");
  const result = row(0);
  const pyFloat = (v) => { const s = String(v); return /[.e]/.test(s) ? s : `${s}.0`; };
  return `${epoch} loss:  ${pyFloat(Math.fround(loss))} prediction:  [[${result.join(" ")}]] true Y:  ${JSON.stringify(indicesOf(entry, "y")).replaceAll(",", ", ")} prediction str:  ${result.map((c) => vocab[c]).join("")}`;
}

/** A text entry's batch (rows of characters) as rows of indices in its vocabulary. */
export function indicesOf(entry, key) {
  return entry.batch[key].map((row) => Array.from(row, (c) => entry.vocab.indexOf(c)));
}

export function setUpModelTraining(zoo, root = document.getElementById("learn")) {
  const entries = zoo.entries.filter((e) => e.kind === "train");
  const models = [...new Set(entries.map((e) => e.model))];
  const view = { state: { lines: [], losses: [], epoch: 0, running: false, trainer: null }, shown, ready: null };
  if (!root || !models.length) return view;
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };
  const select = (id, values, value) => { const s = el("select", { id }); for (const v of values) s.append(el("option", { value: v })); s.value = value; return s; };
  const label = (control) => { const words = el("span"); return [words, el("label", {}, words, " ", control)]; };

  const model = select("l-model", models, models.includes("charseq") ? "charseq" : models[0]);
  const optimizer = select("l-optimizer", ["adam", "sgd", "momentum", "rmsprop"], "adam");
  const lr = el("input", { id: "l-lr", type: "number", step: "any", min: "0", value: "0.1", size: 6 });
  const epochs = el("input", { id: "l-epochs", type: "number", step: "1", min: "1", value: "50", size: 4 });
  const run = el("button", { id: "l-run" });
  const step = el("button", { id: "l-step" });
  const reset = el("button", { id: "l-reset" });
  const lecture = el("button", { id: "l-lecture" });
  const status = el("p", { id: "l-status" });
  const curve = el("canvas", { id: "l-curve", width: 480, height: 160 });
  const log = el("pre", { id: "l-log", style: "max-height: 18em; overflow-y: auto; font-size: 12px" });
  const intro = el("p");
  const [modelWords, modelLabel] = label(model), [optimizerWords, optimizerLabel] = label(optimizer);
  const [lrWords, lrLabel] = label(lr), [epochsWords, epochsLabel] = label(epochs);
  root.append(intro, el("div", { className: "controls" }, modelLabel, optimizerLabel, lrLabel, epochsLabel, run, step, reset, lecture),
    status, curve, log);

  let said = () => ""; // the status line's words, written again when the language changes
  const say = (words) => { said = words; status.textContent = words(); };
  /** Every word of the view in the page's language (at the start and after a switch). */
  function relabel() {
    intro.textContent = t("learn.intro");
    modelWords.textContent = t("learn.model");
    optimizerWords.textContent = t("learn.optimizer");
    lrWords.textContent = t("learn.lr");
    epochsWords.textContent = t("learn.epochs");
    for (const o of model.options) o.textContent = t("text.option", { name: modelName(o.value), file: o.value });
    for (const o of optimizer.options) o.textContent = t(`train.name.${o.value}`);
    run.textContent = state.running ? t("learn.pause") : t("learn.run");
    step.textContent = t("learn.step");
    reset.textContent = t("learn.reset");
    lecture.textContent = t("learn.lecture");
    status.textContent = said();
    curve.setAttribute("aria-label", t("learn.curveLabel"));
    if (state.printed) log.textContent = state.printed.map((line) => `${line()}\n`).join("");
    inside.relabel();
    draw();
  }

  const state = view.state;
  let digits = null;
  const inside = trainInside(zoo, root, () => ({ entry: state.entry, trainer: state.trainer, digits }));
  view.inside = inside;
  const entryOf = () => zoo.byName.get(`${model.value}-train-${optimizer.value}`);

  function setLecture() {
    const recipe = zoo.entries.find((e) => e.kind === "train" && e.model === model.value).recipe;
    optimizer.value = recipe.optimizer;
    lr.value = String(recipe.lr);
    epochs.value = String(recipe.epochs);
  }

  async function load() {
    state.running = false;
    const entry = entryOf();
    say(() => t("learn.loading", { name: entry.name }));
    try {
      const [bytes, start] = await Promise.all([fetchChecked(zoo.base, entry.file, entry.sha256), fetchChecked(zoo.base, entry.weights.file, entry.weights.sha256)]);
      if (entry.task === "digits" && !digits) digits = readDigits(entry.training, await fetchChecked(zoo.base, entry.training.file, entry.training.sha256));
      state.trainer = await StepTrainer.create(ort, entry, { model: bytes, start });
    } catch (error) {
      say(() => error.message); // the words of the failure, where the run would have been
      return;
    }
    state.entry = entry;
    log.lang = entry.task === "text" ? "en" : ""; // the lecture's printed lines are its code's output, as printed
    if (!log.lang) log.removeAttribute("lang");
    clear();
    say(() => entry.task === "digits" ? t("learn.recipeNote", { recipe: recipeWords(entry.recipe) }) : t("learn.ready", { name: entry.name, recipe: recipeWords(entry.recipe) }));
  }

  /** An entry's recipe in words: the lecture's loop (text) or the plain digit run, from its numbers. */
  function recipeWords(recipe) {
    const optimizerName = t(`train.name.${recipe.optimizer}`);
    return recipe.batch_size
      ? t("learn.recipeDigits", { optimizer: optimizerName, lr: recipe.lr, batch: recipe.batch_size, epochs: recipe.epochs })
      : t("learn.recipeText", { optimizer: optimizerName, lr: recipe.lr, epochs: recipe.epochs });
  }

  function clear() {
    state.lines = [];
    state.printed = []; // each line as words, so that a language switch writes the log again
    state.losses = []; // per epoch
    state.curve = []; // per step: what the curve draws
    state.epoch = 0;
    state.random = rng(SEED);
    state.batch = null;
    root.dataset.epoch = "0";
    root.dataset.done = "false";
    log.textContent = "";
    draw();
  }

  /** What is wrong with the knobs, as words in the page's language, or null. */
  function problem() {
    const rate = Number(lr.value), count = Number(epochs.value), max = MAX_EPOCHS[state.entry.task];
    const [rateGiven, countGiven] = [lr.value, epochs.value];
    if (!(rate > 0 && rate <= 10)) return () => t("learn.badLr", { value: rateGiven });
    if (!Number.isInteger(count) || count < 1 || count > max) return () => t("learn.badEpochs", { max, value: countGiven });
    return null;
  }

  function settings() {
    const wrong = problem();
    if (wrong) throw new Error(wrong());
    return { lr: Number(lr.value), epochs: Number(epochs.value) };
  }


  /** A line under the curve: `words` gives it in the page's language (the lecture's lines are the same in both). */
  function print(words) {
    const line = words();
    state.lines.push(line);
    state.printed.push(words);
    log.textContent += `${line}\n`;
    log.scrollTop = log.scrollHeight;
  }

  // ------------------------------------------------------------------ one unit of work: a text epoch, a digit batch

  async function textEpoch(lrValue) {
    const entry = state.entry;
    const [n, t] = [entry.batch.x.length, entry.batch.x[0].length];
    const x = { data: BigInt64Array.from(indicesOf(entry, "x").flat().map(BigInt)), shape: [n, t] };
    const y = { data: BigInt64Array.from(indicesOf(entry, "y").flat().map(BigInt)), shape: [n, t] };
    const { loss, predicted, predictedShape } = await state.trainer.step({ x, y, lr: lrValue });
    const line = lectureLine(state.epoch, entry, loss, predicted, predictedShape);
    print(() => line);
    state.losses.push(loss);
    state.curve.push(loss);
    state.epoch += 1;
  }

  function batchOf(part, indices) {
    const x = new Float32Array(indices.length * 784);
    const y = new BigInt64Array(indices.length);
    indices.forEach((k, i) => {
      for (let p = 0; p < 784; p++) x[i * 784 + p] = part.images[k * 784 + p] / 255;
      y[i] = BigInt(part.labels[k]);
    });
    return { x: { data: x, shape: [indices.length, 1, 28, 28] }, y: { data: y, shape: [indices.length] } };
  }

  async function digitBatch(lrValue) {
    const size = state.entry.recipe.batch_size;
    if (!state.batch) state.batch = { order: shuffled(digits.train.count, state.random), at: 0, losses: [], started: performance.now() };
    const b = state.batch;
    const indices = b.order.slice(b.at, b.at + size);
    const { x, y } = batchOf(digits.train, indices);
    const { loss } = await state.trainer.step({ x, y, masks: drawMasks(state.entry, indices.length, state.random), lr: lrValue });
    b.losses.push(loss);
    state.curve.push(loss);
    b.at += size;
    if (b.at < b.order.length) return;
    let correct = 0;
    for (let i = 0; i < digits.val.count; i += 250) {
      const idx = Array.from({ length: Math.min(250, digits.val.count - i) }, (_, k) => i + k);
      const r = await state.trainer.evaluate(batchOf(digits.val, idx));
      correct += Math.round(r.accuracy * idx.length);
    }
    const trainLoss = b.losses.reduce((a, v) => a + v, 0) / b.losses.length;
    state.epoch += 1;
    state.losses.push(trainLoss);
    state.valAccuracy = correct / digits.val.count;
    const [epoch, accuracy, seconds] = [state.epoch, state.valAccuracy, (performance.now() - b.started) / 1000];
    print(() => t("learn.epochLine", { epoch, loss: trainLoss.toFixed(4), accuracy: (100 * accuracy).toFixed(2), seconds: seconds.toFixed(1) }));
    state.batch = null;
  }

  async function unit() {
    const { lr: rate } = settings();
    if (state.entry.task === "text") await textEpoch(rate);
    else await digitBatch(rate);
    root.dataset.epoch = String(state.epoch);
  }

  async function play() {
    if (state.running) { state.running = false; run.textContent = t("learn.run"); return; }
    if (!state.trainer) return; // not loaded (its failure is in the status line)
    const wrong = problem();
    if (wrong) { say(wrong); return; }
    const limit = settings().epochs;
    state.running = true;
    root.dataset.done = "false";
    run.textContent = t("learn.pause");
    while (state.running && state.epoch < limit) {
      const until = performance.now() + FRAME_MS;
      while (state.running && state.epoch < limit && performance.now() < until) await unit();
      draw();
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    }
    if (state.epoch >= limit) { const done = state.epoch; say(() => t("learn.done", { epochs: done })); }
    state.running = false;
    run.textContent = t("learn.run");
    root.dataset.done = String(state.epoch >= limit);
  }

  function draw() {
    inside.refresh(); // redrawn when due, between two steps
    const ctx = curve.getContext("2d");
    ctx.clearRect(0, 0, curve.width, curve.height);
    const losses = state.curve ?? [];
    if (losses.length < 2) return;
    const max = Math.max(...losses), min = Math.min(0, ...losses);
    ctx.strokeStyle = "#1f6feb";
    ctx.beginPath();
    losses.forEach((v, i) => {
      const px = 4 + (i / (losses.length - 1)) * (curve.width - 8);
      const py = curve.height - 4 - ((v - min) / (max - min || 1)) * (curve.height - 8);
      if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py);
    });
    ctx.stroke();
    ctx.fillStyle = "#444";
    ctx.fillText(t("learn.curve", { loss: losses.at(-1).toFixed(4) }), 8, 12);
  }

  run.addEventListener("click", () => play());
  step.addEventListener("click", async () => {
    if (state.running || !state.trainer) return;
    const wrong = problem();
    if (wrong) { say(wrong); return; }
    await unit();
    draw();
  });
  reset.addEventListener("click", () => { state.running = false; state.trainer.reset(); clear(); });
  lecture.addEventListener("click", () => { setLecture(); view.ready = load(); });
  model.addEventListener("change", () => { setLecture(); view.ready = load(); });
  optimizer.addEventListener("change", () => { view.ready = load(); });
  view.play = play;
  view.relabel = relabel;
  relabel();

  let started = false;
  function shown() {
    if (started) return;
    started = true;
    setLecture();
    view.ready = load();
  }
  return view;
}
