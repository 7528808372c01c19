// train-curves.js: the Train models tab's curves (train-view.js draws through it): loss and accuracy per epoch
// for one run or two side by side, training solid, validation dashed, each step's loss faint where an epoch has
// many steps; the axes labelled, the legend in HTML (it wraps on a phone, and it is read in the page's
// language). The colours are the Train tab's (train-tab.js); a canvas is drawn at its laid-out width, so it is
// never wider than the screen and its words are never scaled down.
//
//   run = { colour, label, words, epochs, records: [{ x, train: {loss, accuracy}, val: {loss, accuracy} | null }],
//           steps: [{ at, loss }], before: {loss, accuracy} (validation before the first step) | undefined }
//   drawCurve(canvas, [run1, run2], "loss" | "accuracy");  showLegend(list, [run1, run2]);
import { RUN_COLOURS, fmt } from "./train-tab.js";
import { t } from "./i18n.js";

export { RUN_COLOURS };
const HEIGHT = 190;
const FONT = '11px "lecture-zoo Hangul", system-ui, sans-serif';
const PAD = { l: 40, r: 10, t: 18, b: 30 };

/** The drawing buffer at the canvas's laid-out size (a hidden tab has none yet: then 460 px). */
function fit(canvas) {
  const width = Math.round(canvas.clientWidth) || 460;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== HEIGHT) canvas.height = HEIGHT;
}

/** A round top for the loss axis: 0.5, 1, 2, 2.5, 5 times a power of ten, at or above `v`. */
function roundUp(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v * 0.999);
}

/** One chart: `measure` ("loss" or "accuracy") per epoch of every run, with its axes. */
export function drawCurve(canvas, runs, measure) {
  fit(canvas);
  const ctx = canvas.getContext("2d");
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  const accuracy = measure === "accuracy";
  const epochs = Math.max(1, ...runs.map((r) => r.epochs));
  const values = runs.flatMap((r) => [
    ...r.records.flatMap((p) => [p.train[measure], p.val?.[measure]]), r.before?.[measure],
    ...(accuracy ? [] : r.steps.map((s) => s.loss)),
  ]).filter(Number.isFinite);
  const [lo, hi] = accuracy ? [0, 1] : [0, roundUp(Math.max(0, ...values))];
  const x = (e) => PAD.l + ((w - PAD.l - PAD.r) * e) / epochs;
  const y = (v) => PAD.t + (h - PAD.t - PAD.b) * (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo));

  // axes: three levels, the epochs at both ends, a title on each
  ctx.font = FONT;
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#d1d5db";
  ctx.fillStyle = "#4b5563";
  ctx.textAlign = "right";
  for (const v of [lo, (lo + hi) / 2, hi]) {
    ctx.beginPath(); ctx.moveTo(PAD.l, y(v)); ctx.lineTo(w - PAD.r, y(v)); ctx.stroke();
    ctx.fillText(accuracy ? `${Math.round(100 * v)}%` : fmt(v), PAD.l - 4, y(v) + 4);
  }
  ctx.textAlign = "left";
  ctx.fillText(t(accuracy ? "learn.accuracyAxis" : "learn.lossAxis"), PAD.l, 11);
  ctx.fillText("0", PAD.l, h - PAD.b + 13);
  ctx.textAlign = "right";
  ctx.fillText(String(epochs), w - PAD.r, h - PAD.b + 13);
  ctx.textAlign = "center";
  ctx.fillText(t("learn.epochAxis"), (PAD.l + w - PAD.r) / 2, h - 4);
  ctx.textAlign = "left";

  const line = (points, colour, { dash = [], width = 1.6, alpha = 1, dots = false } = {}) => {
    if (!points.length) return;
    ctx.save();
    ctx.strokeStyle = ctx.fillStyle = colour;
    ctx.globalAlpha = alpha;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.beginPath();
    points.forEach(([px, v], i) => (i ? ctx.lineTo(x(px), y(v)) : ctx.moveTo(x(px), y(v))));
    ctx.stroke();
    if (dots) for (const [px, v] of points) { ctx.beginPath(); ctx.arc(x(px), y(v), 2.2, 0, 2 * Math.PI); ctx.fill(); }
    ctx.restore();
  };
  for (const run of runs) {
    const dots = run.epochs <= 40; // a dot at each epoch where they stand apart
    if (!accuracy && run.steps.length > run.records.length + 1) {
      const stride = Math.max(1, Math.floor(run.steps.length / 800));
      line(run.steps.filter((_, i) => i % stride === 0).map((s) => [s.at, s.loss]), run.colour, { width: 1, alpha: 0.3 });
    }
    line(run.records.map((p) => [p.x, p.train[measure]]), run.colour, { dots });
    const val = run.records.filter((p) => p.val).map((p) => [p.x, p.val[measure]]);
    line(run.before ? [[0, run.before[measure]], ...val] : val, run.colour, { dash: [5, 3], dots });
  }
  const last = (run, part) => { const p = run.records.at(-1)?.[part]; return p ? (accuracy ? `${(100 * p[measure]).toFixed(1)}%` : fmt(p[measure])) : "-"; };
  canvas.setAttribute("aria-label", `${t(accuracy ? "learn.accuracyAxis" : "learn.lossAxis")}: ` + runs.map((run) =>
    `${run.label}: ${t("learn.trainingLine")} ${last(run, "train")}` + (run.records.some((p) => p.val) ? `, ${t("learn.validationLine")} ${last(run, "val")}` : "")).join("; "));
}

/** The legend: each run's colour, name and knobs (one line each; they wrap on a phone). */
export function showLegend(list, runs) {
  list.replaceChildren(...runs.map((run) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = run.colour;
    const name = document.createElement("b");
    name.textContent = run.label;
    item.append(swatch, name, `: ${run.words}`);
    return item;
  }));
}
