// train-view.js: the lecture models trained live in the page by their training-step files (train-models.js): the
// RNNs print the lecture's own lines epoch by epoch, the digit models train on mnist-5k's 3,500 training digits
// and are measured on its 500 validation digits after each epoch. Knobs: optimiser, learning rate and its decay
// (train.js's learningRateAt, fed to the step file's `lr` at every step), batch size (digits), epochs; run /
// pause, one step, reset; a run kept as run 1 beside a second one from the same start; loss and accuracy curves
// per epoch (train-curves.js); the Inside panel (train-inside.js: every layer from the live weights, a digit's
// maps and kernels or the RNN's hidden states under the sentence). Steps run a few at a time between frames, so
// the page answers while it trains. Every word is t("learn.*") (web/i18n-<lang>.js) and is written again on a
// language switch (relabel); the lecture's printed lines stay as the lecture's code prints them.
import { ort } from "./zoo.js";
import { StepTrainer, drawMasks, readDigits, rng, shuffled } from "./train-models.js";
import { DECAYS, learningRateAt } from "./train.js";
import { RUN_COLOURS, drawCurve, showLegend } from "./train-curves.js";
import { modelName, t } from "./i18n.js";
import { trainInside } from "./train-inside.js";

const MAX_EPOCHS = { text: 500, digits: 20 };
const FRAME_MS = 30; // steps run until this much time has passed, then the page draws and answers
const SEED = 0;
const DECAY_WORDS = { none: "train.decayNone", step: "train.decayStep", exponential: "train.decayExp", cosine: "train.decayCos" };

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
  const newRun = () => ({ knobs: null, records: [], steps: [] }); // records: one an epoch; steps: one a step
  const view = { state: { lines: [], losses: [], epoch: 0, running: false, trainer: null, run: newRun(), kept: null }, shown, ready: null };
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
  const decay = select("l-decay", DECAYS, "none");
  const batch = el("input", { id: "l-batch", type: "number", step: "1", min: "1", value: "64", size: 5 });
  const batchNote = el("small", { id: "l-batch-note", className: "note" }); // the RNNs: their one batch, said
  const epochs = el("input", { id: "l-epochs", type: "number", step: "1", min: "1", value: "50", size: 4 });
  const run = el("button", { id: "l-run" });
  const step = el("button", { id: "l-step" });
  const reset = el("button", { id: "l-reset" });
  const keep = el("button", { id: "l-keep" });
  const lecture = el("button", { id: "l-lecture" });
  const status = el("p", { id: "l-status" });
  const lossCurve = el("canvas", { id: "l-loss", className: "curve" });
  const accuracyCurve = el("canvas", { id: "l-accuracy", className: "curve" });
  for (const chart of [lossCurve, accuracyCurve]) chart.setAttribute("role", "img"); // its aria-label: the last values
  const legend = el("ul", { id: "l-legend", className: "runs-key" });
  const curvesNote = el("p", { id: "l-curves-note", className: "note" });
  const log = el("pre", { id: "l-log", style: "max-height: 18em; overflow-y: auto; font-size: 12px" });
  const intro = el("p");
  const [modelWords, modelLabel] = label(model), [optimizerWords, optimizerLabel] = label(optimizer);
  const [lrWords, lrLabel] = label(lr), [decayWords, decayLabel] = label(decay);
  const [batchWords, batchLabel] = label(batch), [epochsWords, epochsLabel] = label(epochs);
  batchLabel.append(batchNote);
  root.append(intro, el("div", { className: "controls" }, modelLabel, optimizerLabel, lrLabel, decayLabel, batchLabel, epochsLabel),
    el("div", { className: "controls" }, run, step, reset, keep, lecture),
    status, el("div", { className: "curves" }, lossCurve, accuracyCurve), legend, curvesNote, log);

  let said = () => ""; // the status line's words, written again when the language changes
  const say = (words) => { said = words; status.textContent = words(); };
  /** Every word of the view in the page's language (at the start and after a switch). */
  function relabel() {
    intro.textContent = t("learn.intro");
    modelWords.textContent = t("learn.model");
    optimizerWords.textContent = t("learn.optimizer");
    lrWords.textContent = t("learn.lr");
    decayWords.textContent = t("train.decay");
    batchWords.textContent = t("learn.batch");
    batchNote.textContent = t("learn.batchText");
    epochsWords.textContent = t("learn.epochs");
    for (const o of model.options) o.textContent = t("text.option", { name: modelName(o.value), file: o.value });
    for (const o of optimizer.options) o.textContent = t(`train.name.${o.value}`);
    for (const o of decay.options) o.textContent = t(DECAY_WORDS[o.value]);
    run.textContent = state.running ? t("learn.pause") : t("learn.run");
    step.textContent = t("learn.step");
    reset.textContent = t("learn.reset");
    keep.textContent = t("learn.keep");
    lecture.textContent = t("learn.lecture");
    status.textContent = said();
    if (state.printed) log.textContent = state.printed.map((line) => `${line()}\n`).join("");
    inside.relabel();
    draw();
  }

  const state = view.state;
  let digits = null;
  let working = Promise.resolve(); // the loop or the step under way: awaited before the weights are touched
  const inside = trainInside(zoo, root, () => ({ entry: state.entry, trainer: state.trainer, digits }));
  view.inside = inside;
  const entryOf = () => zoo.byName.get(`${model.value}-train-${optimizer.value}`);
  const taskOf = () => entries.find((e) => e.model === model.value).task;

  /** The RNNs train on their one batch (the lecture's sentence) every step: no batch size to choose. */
  function showBatch() {
    const text = taskOf() === "text";
    batch.hidden = text;
    batchNote.hidden = !text;
  }

  function setLecture() {
    const recipe = entries.find((e) => e.model === model.value).recipe;
    optimizer.value = recipe.optimizer;
    lr.value = String(recipe.lr);
    epochs.value = String(recipe.epochs);
    decay.value = "none";
    if (recipe.batch_size) batch.value = String(recipe.batch_size);
    showBatch();
  }

  /** Stops the loop and waits for the step under way. */
  async function stop() {
    state.running = false;
    await working;
  }

  /** `work` once the loop has stopped and the step under way is done: one thing at a time touches the weights. */
  function after(work) {
    state.running = false;
    working = working.then(work).catch((error) => say(() => error.message));
    return working;
  }

  async function load() {
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

  /** The current run back to the start (the kept run 1 stays). */
  function clear() {
    state.lines = [];
    state.printed = []; // each line as words, so that a language switch writes the log again
    state.losses = []; // per epoch
    state.run = newRun();
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
    const [rateGiven, countGiven, sizeGiven] = [lr.value, epochs.value, batch.value];
    if (!(rate > 0 && rate <= 10)) return () => t("learn.badLr", { value: rateGiven });
    if (!Number.isInteger(count) || count < 1 || count > max) return () => t("learn.badEpochs", { max, value: countGiven });
    const size = Number(batch.value), most = digits?.train.count ?? 0;
    if (state.entry.task === "digits" && !(Number.isInteger(size) && size >= 1 && size <= most)) return () => t("learn.badBatch", { max: most, value: sizeGiven });
    return null;
  }

  /** The run's knobs: {optimizer, lr, decay, batch (null for the RNNs), epochs}. */
  function settings() {
    const wrong = problem();
    if (wrong) throw new Error(wrong());
    const digitsTask = state.entry.task === "digits";
    return { optimizer: optimizer.value, lr: Number(lr.value), decay: decay.value, batch: digitsTask ? Number(batch.value) : null, epochs: Number(epochs.value) };
  }

  /** A run's knobs in words, for the legend. */
  function knobWords(k) {
    const words = { optimizer: t(`train.name.${k.optimizer}`), lr: k.lr, decay: t(DECAY_WORDS[k.decay]), batch: k.batch, epochs: k.epochs };
    return k.batch ? t("learn.knobsDigits", words) : t("learn.knobsText", words);
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

  /** One epoch of the lecture's loop: one step on the whole batch, at the decayed rate of this epoch. */
  async function textEpoch(knobs) {
    const entry = state.entry;
    const [n, t] = [entry.batch.x.length, entry.batch.x[0].length];
    const x = { data: BigInt64Array.from(indicesOf(entry, "x").flat().map(BigInt)), shape: [n, t] };
    const y = { data: BigInt64Array.from(indicesOf(entry, "y").flat().map(BigInt)), shape: [n, t] };
    const rate = learningRateAt(knobs.decay, knobs.lr, state.epoch, knobs.epochs);
    const { loss, accuracy, predicted, predictedShape } = await state.trainer.step({ x, y, lr: rate });
    const line = lectureLine(state.epoch, entry, loss, predicted, predictedShape);
    print(() => line);
    state.losses.push(loss);
    state.run.steps.push({ at: state.epoch, loss, lr: rate });
    state.run.records.push({ x: state.epoch, train: { loss, accuracy }, val: null }); // the batch's, before the step
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

  /** One mini-batch; after the epoch's last, the 500 validation digits. The rate decays step by step: the
   * step's place in the run, in epochs, is learningRateAt's epoch. */
  async function digitBatch(knobs) {
    const count = digits.train.count;
    if (!state.batch) state.batch = { order: shuffled(count, state.random), at: 0, size: knobs.batch, loss: 0, correct: 0, started: performance.now() };
    const b = state.batch;
    const indices = b.order.slice(b.at, b.at + b.size);
    const { x, y } = batchOf(digits.train, indices);
    const rate = learningRateAt(knobs.decay, knobs.lr, state.epoch + b.at / count, knobs.epochs);
    const { loss, accuracy } = await state.trainer.step({ x, y, masks: drawMasks(state.entry, indices.length, state.random), lr: rate });
    b.loss += loss * indices.length;
    b.correct += accuracy * indices.length;
    b.at += indices.length;
    state.run.steps.push({ at: state.epoch + b.at / count, loss, lr: rate });
    if (b.at < count) return;
    const val = await validate();
    const trainLoss = b.loss / count;
    state.epoch += 1;
    state.losses.push(trainLoss);
    state.valAccuracy = val.accuracy;
    state.run.records.push({ x: state.epoch, train: { loss: trainLoss, accuracy: b.correct / count }, val });
    const [epoch, valAccuracy, seconds] = [state.epoch, state.valAccuracy, (performance.now() - b.started) / 1000];
    print(() => t("learn.epochLine", { epoch, loss: trainLoss.toFixed(4), accuracy: (100 * valAccuracy).toFixed(2), seconds: seconds.toFixed(1) }));
    state.batch = null;
  }

  /** The loss and accuracy of the 500 validation digits with the current weights. */
  async function validate() {
    let correct = 0, loss = 0;
    for (let i = 0; i < digits.val.count; i += 250) {
      const idx = Array.from({ length: Math.min(250, digits.val.count - i) }, (_, k) => i + k);
      const r = await state.trainer.evaluate(batchOf(digits.val, idx));
      correct += Math.round(r.accuracy * idx.length);
      loss += r.loss * idx.length;
    }
    return { loss: loss / digits.val.count, accuracy: correct / digits.val.count };
  }

  async function unit() {
    const knobs = settings();
    if (!state.run.knobs) {
      state.run.knobs = knobs;
      if (state.entry.task === "digits") state.run.before = await validate(); // where the validation curve starts
    }
    if (state.entry.task === "text") await textEpoch(knobs);
    else await digitBatch(knobs);
    root.dataset.epoch = String(state.epoch);
  }

  function play() {
    if (state.running) { state.running = false; return working; } // the loop ends after its step
    if (!state.trainer) return working; // not loaded (its failure is in the status line)
    const wrong = problem();
    if (wrong) { say(wrong); return working; }
    working = working.then(loop).catch((error) => say(() => error.message));
    return working;
  }

  async function loop() {
    const limit = settings().epochs;
    state.running = true;
    root.dataset.done = "false";
    run.textContent = t("learn.pause");
    try {
      while (state.running && state.epoch < limit) {
        const until = performance.now() + FRAME_MS;
        while (state.running && state.epoch < limit && performance.now() < until) await unit();
        draw();
        await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      }
    } finally {
      state.running = false;
      run.textContent = t("learn.run");
    }
    if (state.epoch >= limit) { const done = state.epoch; say(() => t("learn.done", { epochs: done })); }
    root.dataset.done = String(state.epoch >= limit);
  }

  /** The runs the curves show: the kept run 1 (if any) and the current one, each with its colour and knobs. */
  function runsShown() {
    const current = { ...state.run, knobs: state.run.knobs ?? (state.entry && !problem() ? settings() : null) };
    return (state.kept ? [state.kept, current] : [current]).map((r, k) => ({
      ...r, colour: RUN_COLOURS[k], label: t("learn.runLabel", { n: k + 1 }), words: r.knobs ? knobWords(r.knobs) : "", epochs: r.knobs?.epochs ?? 1,
    }));
  }

  function draw() {
    inside.refresh(); // redrawn when due, between two steps
    const runs = runsShown();
    drawCurve(lossCurve, runs, "loss");
    drawCurve(accuracyCurve, runs, "accuracy");
    showLegend(legend, runs);
    curvesNote.textContent = taskOf() === "text" ? t("learn.curvesText") : t("learn.curvesDigits");
    keep.disabled = !state.run.steps.length;
    root.dataset.runs = String(runs.length);
  }

  run.addEventListener("click", () => play());
  step.addEventListener("click", () => {
    if (state.running || !state.trainer) return;
    const wrong = problem();
    if (wrong) { say(wrong); return; }
    working = working.then(async () => { await unit(); draw(); }).catch((error) => say(() => error.message));
  });
  reset.addEventListener("click", () => after(() => {
    state.kept = null;
    state.trainer?.reset();
    clear();
  }));
  // run 1 kept as it stands; the next run starts again from the same weights, data order and masks
  keep.addEventListener("click", () => after(() => {
    if (!state.run.steps.length) return;
    state.kept = { ...state.run };
    state.trainer.reset();
    clear();
    say(() => t("learn.kept"));
  }));
  // a knob changed: the current run starts again with it, so that a run's curves are its knobs'
  for (const knob of [lr, decay, batch, epochs]) {
    knob.addEventListener("input", () => after(() => {
      if (state.trainer && state.run.steps.length) { state.trainer.reset(); clear(); }
      draw();
    }));
  }
  lecture.addEventListener("click", () => { setLecture(); view.ready = after(load); });
  model.addEventListener("change", () => { state.kept = null; setLecture(); view.ready = after(load); });
  optimizer.addEventListener("change", () => { view.ready = after(load); });
  globalThis.addEventListener?.("resize", () => { if (!root.hidden) draw(); });
  view.play = play;
  view.stop = stop;
  view.relabel = relabel;
  showBatch();
  relabel();

  let started = false;
  function shown() {
    if (started) { draw(); return; } // the curves fitted to the width the tab now has
    started = true;
    setLecture();
    view.ready = after(load);
  }
  return view;
}
