// The Train tab: the lecture's two-circles net trained live in the page by train.js, one or two runs side by side.
// Each run shows its decision boundary over the plane (with the shipped circles.onnx boundary to compare), every
// hidden unit's output over the plane, and the loss and accuracy curves. The numbers all come from train.js and
// zoo.js: this file only draws. "The lecture's settings" are the lecture's run: all 500 points, BCELoss, Adam
// 0.01, 1,000 epochs; the held-out view (400 to train, 100 never trained on) is the choice beside it.
import { LECTURE, Trainer, fromTrainingFile, learningRateAt, makeCircles } from "./train.js";
import { t } from "./i18n.js";

const EXTENT = 1.6; // the plane shown: [-1.6, 1.6]^2 holds make_circles' points at noise 0.2
const GRID = 96; // cells per side of the boundary map
const UNIT_GRID = 32; // of each hidden unit's map
const FRAME_MS = 30; // training time per animation frame
const OUTER = [234, 88, 12]; // class 0, the outer circle (orange)
const INNER = [37, 99, 235]; // class 1, the inner circle (blue)
export const RUN_COLOURS = ["#111827", "#a21caf"]; // run A (or 1), run B (or 2): also the Train models tab's
const $ = (id) => document.getElementById(id);

export function setUpTraining(zoo) {
  const panel = $("train");
  const knobs = {
    epochs: $("t-epochs"), batch: $("t-batch"), decay: $("t-decay"), hidden: $("t-hidden"), activation: $("t-activation"),
    noise: $("t-noise"), factor: $("t-factor"), optimizerA: $("t-optimizer-a"), rateA: $("t-rate-a"),
    optimizerB: $("t-optimizer-b"), rateB: $("t-rate-b"), compare: $("t-compare"), shipped: $("t-shipped"), points: $("t-data"),
  };
  const status = $("t-status");
  const state = { file: null, shippedGrid: null, runs: [], playing: false, frame: null, started: false };
  let statusWords = () => "";
  const say = (words) => { statusWords = words; status.textContent = words(); };
  const ready = (async () => {
    try {
      state.file = await zoo.trainingFile();
      if (!state.file) say(() => t("train.noFile"));
    } catch (error) {
      say(() => error.message); // the file is listed but did not load: its own reason, not "no training file"
    }
    lectureSettings();
    reset();
    shippedBoundary();
  })();

  // ---------------------------------------------------------------- settings

  function lectureSettings() {
    knobs.points.value = LECTURE.points;
    knobs.epochs.value = LECTURE.epochs;
    knobs.batch.value = "full";
    knobs.decay.value = "none";
    knobs.hidden.value = LECTURE.hidden;
    knobs.activation.value = "sigmoid";
    knobs.noise.value = LECTURE.noise;
    knobs.factor.value = LECTURE.factor;
    knobs.optimizerA.value = "adam";
    knobs.rateA.value = LECTURE.learningRate;
    knobs.optimizerB.value = "sgd";
    knobs.rateB.value = 1;
    showValues();
  }

  function showValues() {
    $("t-hidden-value").textContent = knobs.hidden.value;
    $("t-noise-value").textContent = Number(knobs.noise.value).toFixed(2);
    $("t-factor-value").textContent = Number(knobs.factor.value).toFixed(2);
    $("run-b").hidden = !knobs.compare.checked;
    panel.querySelector(".held-legend").hidden = knobs.points.value === "all";
    const key = $("t-curves-key"); // no dashed curves without held-out points
    key.dataset.i18n = knobs.points.value === "all" ? "train.curvesKeyAll" : "train.curvesKey";
    key.textContent = t(key.dataset.i18n);
    for (const el of [knobs.optimizerB, knobs.rateB]) el.disabled = !knobs.compare.checked;
  }

  /** The lecture's data (the committed run's points) at noise 0.2 and factor 0.3, else made in the page. */
  function data() {
    const noise = Number(knobs.noise.value), factor = Number(knobs.factor.value), points = knobs.points.value;
    if (state.file && noise === LECTURE.noise && factor === LECTURE.factor) return { ...fromTrainingFile(state.file, { points }), generated: false };
    const made = makeCircles({ noise, factor, seed: 123 });
    const all = { points: [...made.train.points, ...made.heldOut.points], labels: [...made.train.labels, ...made.heldOut.labels] };
    return { data: points === "all" ? { train: all, heldOut: { points: [], labels: [] } } : made, init: state.file?.initial_state_dict, generated: true };
  }

  function options(run) {
    const batch = knobs.batch.value === "full" ? "full" : Number(knobs.batch.value);
    return {
      epochs: Math.max(1, Math.min(5000, Math.round(Number(knobs.epochs.value) || LECTURE.epochs))), batch,
      decay: knobs.decay.value, hidden: Number(knobs.hidden.value), activation: knobs.activation.value,
      optimizer: run === 0 ? knobs.optimizerA.value : knobs.optimizerB.value,
      learningRate: Math.max(1e-6, Number(run === 0 ? knobs.rateA.value : knobs.rateB.value) || LECTURE.learningRate),
    };
  }

  // ---------------------------------------------------------------- runs

  function reset() {
    pause();
    const { data: points, init, generated } = data();
    const count = knobs.compare.checked ? 2 : 1;
    state.runs = Array.from({ length: count }, (_, k) => new Trainer({ data: points, init, seed: 0, ...options(k) }));
    state.generated = generated;
    state.fromFile = Boolean(state.file && init && Number(knobs.hidden.value) === init["linear1.weight"].shape[0]);
    note();
    draw();
  }

  function note() {
    const words = { noise: Number(knobs.noise.value).toFixed(2), factor: Number(knobs.factor.value).toFixed(2), all: knobs.points.value === "all" };
    $("t-data-note").textContent = (state.generated ? t("train.madePoints", words) : t("train.lecturePoints", words)) + " " +
      (state.fromFile ? t("train.initFile") : t("train.initDrawn"));
  }

  function play() {
    if (state.runs.every((r) => r.done)) reset();
    state.playing = true;
    $("t-play").textContent = t("train.pause");
    $("t-play").setAttribute("aria-pressed", "true");
    const tick = () => {
      const until = performance.now() + FRAME_MS;
      do {
        for (const run of state.runs) if (!run.done) run.trainEpoch();
      } while (performance.now() < until && state.runs.some((r) => !r.done) && state.runs[0].epoch % 10 !== 0);
      draw();
      if (state.runs.every((r) => r.done)) pause();
      else if (state.playing) state.frame = requestAnimationFrame(tick);
    };
    state.frame = requestAnimationFrame(tick);
  }

  function pause() {
    state.playing = false;
    if (state.frame) cancelAnimationFrame(state.frame);
    state.frame = null;
    $("t-play").textContent = t("train.play");
    $("t-play").setAttribute("aria-pressed", "false");
  }

  function step() {
    pause();
    for (const run of state.runs) if (!run.done) run.trainEpoch();
    draw();
  }

  // ---------------------------------------------------------------- drawing

  async function shippedBoundary() {
    if (!zoo.entry("circles")) return;
    const points = [];
    for (let r = 0; r < GRID; r++) {
      for (let c = 0; c < GRID; c++) points.push([-EXTENT + ((c + 0.5) * 2 * EXTENT) / GRID, EXTENT - ((r + 0.5) * 2 * EXTENT) / GRID]);
    }
    try {
      state.shippedGrid = await zoo.classifyPoints(points);
      draw();
    } catch (error) {
      say(() => `circles.onnx: ${error.message}`);
    }
  }

  function draw() {
    state.runs.forEach((run, k) => drawRun(run, k));
    drawCurves($("t-loss"), t("train.lossWord"), [["loss", t("train.training")], ["heldOutLoss", t("train.heldOut")]], null);
    drawCurves($("t-accuracy"), t("train.accuracyWord"), [["trainAccuracy", t("train.training")], ["heldOutAccuracy", t("train.heldOut")]], [0.4, 1]);
    panel.dataset.epoch = state.runs[0]?.epoch ?? 0;
  }

  function drawRun(run, k) {
    const box = $(k === 0 ? "run-a" : "run-b");
    const { probability } = run.grid(GRID, EXTENT);
    const plane = box.querySelector("canvas.plane");
    paintMap(plane, probability, GRID, (p) => mix(p));
    const ctx = plane.getContext("2d");
    if (knobs.shipped.checked && state.shippedGrid && !state.generated) contour(ctx, state.shippedGrid, plane.width);
    contour(ctx, probability, plane.width, true);
    dots(ctx, run.data.train, plane.width, false);
    dots(ctx, run.data.heldOut, plane.width, true);

    const units = box.querySelector(".units");
    while (units.children.length > run.hidden) units.lastChild.remove();
    while (units.children.length < run.hidden) {
      const figure = document.createElement("figure");
      figure.innerHTML = `<canvas width="${UNIT_GRID}" height="${UNIT_GRID}"></canvas><figcaption></figcaption>`;
      units.append(figure);
    }
    const small = run.grid(UNIT_GRID, EXTENT).hidden;
    const [lo, hi] = run.activation === "relu" ? [0, Math.max(1e-9, ...small.map((u) => Math.max(...u)))] :
      run.activation === "tanh" ? [-1, 1] : [0, 1];
    small.forEach((values, j) => {
      const figure = units.children[j];
      paintMap(figure.querySelector("canvas"), values, UNIT_GRID, (v) => grey((v - lo) / (hi - lo)));
      figure.querySelector("figcaption").textContent = `h${j + 1}`;
    });
    const last = run.epoch > 0;
    const lr = learningRateAt(run.decay, run.learningRate, Math.max(0, run.epoch - 1), run.epochs);
    const heldOut = run.data.heldOut.points.length > 0;
    box.querySelector(".run-stats").textContent = t("train.stats", {
      optimizer: t(`train.name.${run.optimizer}`), lr: fmt(lr), epoch: run.epoch, epochs: run.epochs, last,
      loss: last ? run.loss.at(-1).toFixed(4) : "", heldOut, n: run.data.train.points.length,
      accuracy: last ? (100 * (heldOut ? run.heldOutAccuracy : run.trainAccuracy).at(-1)).toFixed(1) : "",
    });
    box.querySelector("h3 .swatch").style.background = RUN_COLOURS[k];
  }

  function drawCurves(canvas, what, series, range) {
    const ctx = canvas.getContext("2d");
    const { width: w, height: h } = canvas;
    const pad = { l: 34, r: 8, t: 8, b: 18 };
    ctx.clearRect(0, 0, w, h);
    const epochs = Math.max(...state.runs.map((r) => r.epochs));
    const values = state.runs.flatMap((r) => series.flatMap(([key]) => r[key]));
    const [lo, hi] = range ?? [0, Math.max(0.75, ...values.filter(Number.isFinite))];
    const x = (e) => pad.l + ((w - pad.l - pad.r) * e) / epochs;
    const y = (v) => pad.t + (h - pad.t - pad.b) * (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo));
    ctx.strokeStyle = "#d1d5db";
    ctx.fillStyle = "#4b5563";
    ctx.font = '10px "lecture-zoo Hangul", system-ui, sans-serif';
    ctx.lineWidth = 1;
    for (const v of [lo, (lo + hi) / 2, hi]) {
      ctx.beginPath(); ctx.moveTo(pad.l, y(v)); ctx.lineTo(w - pad.r, y(v)); ctx.stroke();
      ctx.fillText(range ? `${Math.round(100 * v)}%` : v.toFixed(2), 2, y(v) + 3);
    }
    ctx.textAlign = "center";
    ctx.fillText(t("train.epochAxis", { epochs }), (pad.l + w - pad.r) / 2, h - 4);
    ctx.textAlign = "left";
    ctx.fillText("0", pad.l, h - 4);
    ctx.textAlign = "right";
    ctx.fillText(String(epochs), w - pad.r, h - 4);
    ctx.textAlign = "left";
    state.runs.forEach((run, k) => {
      series.forEach(([key], s) => {
        const list = run[key];
        if (!list.length || !Number.isFinite(list[0])) return; // no held-out points: no held-out curve
        ctx.strokeStyle = RUN_COLOURS[k];
        ctx.lineWidth = s === 0 ? 1.6 : 1.2;
        ctx.setLineDash(s === 0 ? [] : [4, 3]);
        ctx.beginPath();
        const stride = Math.max(1, Math.floor(list.length / 400));
        for (let i = 0; i < list.length; i += stride) (i === 0 ? ctx.moveTo : ctx.lineTo).call(ctx, x(i + 1), y(list[i]));
        ctx.lineTo(x(list.length), y(list.at(-1)));
        ctx.stroke();
      });
    });
    ctx.setLineDash([]);
    canvas.setAttribute("aria-label", `${what}: ` + state.runs.map((r, k) => `${t(k ? "train.runB" : "train.runA")} ` +
      series.map(([key, label]) => `${label} ${r[key].length ? fmt(r[key].at(-1)) : "-"}`).join(", ")).join("; "));
  }

  // ---------------------------------------------------------------- wiring

  $("t-play").addEventListener("click", () => (state.playing ? pause() : play()));
  $("t-step").addEventListener("click", step);
  $("t-reset").addEventListener("click", reset);
  $("t-lecture").addEventListener("click", () => { lectureSettings(); knobs.compare.checked = false; showValues(); reset(); });
  for (const el of Object.values(knobs)) {
    el.addEventListener("input", () => { showValues(); if (el !== knobs.shipped) reset(); else draw(); });
  }

  return {
    ready,
    state,
    play, pause, step, reset,
    shown() {},
    relabel() {
      status.textContent = statusWords();
      $("t-play").textContent = t(state.playing ? "train.pause" : "train.play");
      if (state.runs.length) { note(); draw(); }
    },
    get playing() { return state.playing; },
  };
}

// ------------------------------------------------------------------ pixels

function mix(p) { // P(inner) -> a tint between the outer class's orange and the inner class's blue
  const a = 0.55 * Math.abs(2 * p - 1);
  const [r, g, b] = p >= 0.5 ? INNER : OUTER;
  return [255 + (r - 255) * a, 255 + (g - 255) * a, 255 + (b - 255) * a];
}

function grey(t) { // 0 black .. 1 white
  const v = 255 * Math.min(1, Math.max(0, t));
  return [v, v, v];
}

function paintMap(canvas, values, n, colour) {
  const ctx = canvas.getContext("2d");
  const tile = new ImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const [r, g, b] = colour(values[i]);
    tile.data.set([r, g, b, 255], 4 * i);
  }
  if (canvas.width === n) { ctx.putImageData(tile, 0, 0); return; }
  const scratch = paintMap.scratch ??= document.createElement("canvas");
  scratch.width = n; scratch.height = n;
  scratch.getContext("2d").putImageData(tile, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

/** The p = 0.5 line of a grid of probabilities: the trained net's solid, the shipped model's dashed. */
function contour(ctx, grid, size, solid = false) {
  const n = Math.round(Math.sqrt(grid.length));
  const cell = size / n;
  ctx.save();
  ctx.strokeStyle = solid ? "#111827" : "#16a34a";
  ctx.lineWidth = solid ? 1.5 : 2.5;
  ctx.setLineDash(solid ? [] : [5, 4]);
  ctx.beginPath();
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const inside = grid[r * n + c] >= 0.5;
      if (c + 1 < n && inside !== grid[r * n + c + 1] >= 0.5) { ctx.moveTo((c + 1) * cell, r * cell); ctx.lineTo((c + 1) * cell, (r + 1) * cell); }
      if (r + 1 < n && inside !== grid[(r + 1) * n + c] >= 0.5) { ctx.moveTo(c * cell, (r + 1) * cell); ctx.lineTo((c + 1) * cell, (r + 1) * cell); }
    }
  }
  ctx.stroke();
  ctx.restore();
}

function dots(ctx, part, size, heldOut) {
  const at = (v) => ((v + EXTENT) / (2 * EXTENT)) * size;
  part.points.forEach(([x, y], i) => {
    const [r, g, b] = part.labels[i] ? INNER : OUTER;
    ctx.beginPath();
    ctx.arc(at(x), size - at(y), heldOut ? 3.2 : 2.4, 0, 2 * Math.PI);
    if (heldOut) { ctx.fillStyle = "#fff"; ctx.fill(); ctx.strokeStyle = `rgb(${r},${g},${b})`; ctx.lineWidth = 1.6; ctx.stroke(); }
    else { ctx.fillStyle = `rgb(${r},${g},${b})`; ctx.fill(); }
  });
}

export function fmt(x) {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 0.01 || x === 0 ? String(Number(x.toPrecision(3))) : x.toExponential(1);
}
