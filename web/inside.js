// inside.js: the Inside view. It draws what zoo.inspectDigit / zoo.inspectText return (every layer of the
// network, computed by the probe model) and, for a cell one hovers or taps, writes out its arithmetic with the
// real numbers: a convolution's patch, kernel, products, bias and sum, then BatchNorm and ReLU; a pooling
// window and its winner; a unit's weighted sum; logits -> exp -> softmax; an RNN's h_t = tanh(...) or a GRU's
// gates. The layout comes from the manifest's `layers` list: no layer is hard-coded. Only drawing happens
// here; the numbers come from the model (the one check computed here, the written-out sum, is shown beside
// the model's own value).
import { MESSAGES } from "./messages.js";

const $ = (id) => document.getElementById(id);
const fmt = (v, digits = 3) => (Object.is(v, -0) ? 0 : v).toFixed(digits);
const signed = (v, digits = 3) => (v < 0 ? `− ${fmt(-v, digits)}` : `+ ${fmt(v, digits)}`);
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}
/** A line whose written-out result (`sum`) sits beside the model's own `value`: the tests compare the two. */
function checked(node, sum, value) {
  node.dataset.sum = String(sum);
  node.dataset.value = String(value);
  return node;
}
const SPATIAL = new Set(["Input", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]);
const GAP = 1; // native pixels between channel tiles

// ------------------------------------------------------------------ colours

/** Diverging map: negative blue, zero white, positive red; `scale` is the value drawn at full colour. */
function diverging(v, scale) {
  const t = Math.max(-1, Math.min(1, v / (scale || 1)));
  return t >= 0 ? [255 - 35 * t, 255 - 217 * t, 255 - 217 * t] : [255 + 218 * t, 255 + 156 * t, 255 + 20 * t];
}
const grey = (v) => [255 * Math.max(0, Math.min(1, v)), 255 * Math.max(0, Math.min(1, v)), 255 * Math.max(0, Math.min(1, v))];

function legend(kind, scale) {
  const bar = el("span", { className: `legend ${kind}` });
  const text = kind === "grey" ? ["0", "1"] : [`−${fmt(scale, 2)}`, `+${fmt(scale, 2)}`];
  return el("span", { className: "scale" }, el("span", { textContent: text[0] }), bar, el("span", { textContent: text[1] }));
}

// ------------------------------------------------------------------ geometry

/** Channels, height, width of a layer's per-sample shape ([C,H,W]; [N] as N units of 1x1). */
function dims(layer) {
  return layer.shape.length === 3 ? layer.shape : [layer.shape[0], 1, 1];
}

/** Where each channel's tile (spatial) or unit (1-D) sits on the layer's canvas. */
function gridOf(layer) {
  const [C, H, W] = dims(layer);
  if (layer.shape.length === 3) {
    const cols = Math.ceil(Math.sqrt(C));
    return { spatial: true, C, H, W, cols, rows: Math.ceil(C / cols), width: cols * (W + GAP) - GAP, height: Math.ceil(C / cols) * (H + GAP) - GAP };
  }
  const cols = C <= 16 ? C : 32;
  return { spatial: false, C, H: 1, W: 1, cols, rows: Math.ceil(C / cols), width: cols, height: Math.ceil(C / cols) };
}

function tileOrigin(grid, c) {
  return grid.spatial ? [(c % grid.cols) * (grid.W + GAP), Math.floor(c / grid.cols) * (grid.H + GAP)] : [c % grid.cols, Math.floor(c / grid.cols)];
}

/** The region of `layers[from]` (y0, y1, x0, x1, inclusive) that cell (y, x) of layers[to] depends on. */
export function receptiveField(layers, to, y, x) {
  let region = [y, y, x, x];
  for (let j = to; j > 0; j--) region = windowBelow(layers[j], layers[j - 1], region);
  return region;
}

/** The region of `below` (y0, y1, x0, x1, inclusive) that a region of `layer` reads: a convolution's or a
 * pooling's window (stride, padding; clipped to the picture), the same cells for an element-wise layer, and
 * everything where either layer is not spatial (a Linear reads it all). */
function windowBelow(layer, below, [y0, y1, x0, x1]) {
  const [, H, W] = dims(below);
  if (layer.shape.length !== 3 || below.shape.length !== 3) return [0, H - 1, 0, W - 1];
  if (layer.op === "Conv2d" || layer.op === "MaxPool2d") {
    const [k, s, p] = [layer.kernel[0], layer.stride[0], layer.padding[0]];
    [y0, y1, x0, x1] = [y0 * s - p, y1 * s - p + k - 1, x0 * s - p, x1 * s - p + k - 1];
  }
  return [Math.max(0, y0), Math.min(H - 1, y1), Math.max(0, x0), Math.min(W - 1, x1)];
}

/** "(in − k + 2p) / s + 1 = out" with the layer's numbers: the lecture's output-size formula. */
function sizeFormula(layer, below) {
  if (!(layer.op === "Conv2d" || layer.op === "MaxPool2d") || !below) return "";
  const n = dims(below)[1], [k, s, p] = [layer.kernel[0], layer.stride[0], layer.padding[0]];
  return `output size = (${n} − ${k} + 2×${p}) / ${s} + 1 = ${Math.floor((n - k + 2 * p) / s) + 1}`;
}

function describe(layer) {
  const shape = layer.shape.join(" × ");
  if (layer.op === "Conv2d") return `Conv2d ${layer.kernel.join("×")}, stride ${layer.stride[0]}, padding ${layer.padding[0]} · ${shape}`;
  if (layer.op === "MaxPool2d") return `MaxPool2d ${layer.kernel.join("×")}, stride ${layer.stride[0]} · ${shape}`;
  if (layer.op === "Input") return `the 28×28 frame the model sees (input) · ${shape}`;
  return `${layer.op} · ${shape}`;
}

// ------------------------------------------------------------------ digits

/**
 * The Inside view of the Digits tab in `root`: update(result) after each inspectDigit, unavailable(text).
 * `zoo` gives the weights for the written-out arithmetic (fetched when a cell is first hovered).
 */
export function digitInside(zoo, root) {
  const layersBox = root.querySelector(".inside-layers"), detail = root.querySelector(".inside-detail");
  let blocks = [], current = null, model = null, pinned = null;

  function build(result) {
    layersBox.replaceChildren();
    blocks = result.layers.map((layer, i) => {
      const grid = gridOf(layer);
      const canvas = el("canvas", { width: grid.width, height: grid.height, className: "layer-map" });
      const overlay = el("canvas", { width: grid.width, height: grid.height, className: "layer-overlay" });
      // a tile about 40 px; the frame larger, where the receptive fields are outlined
      const zoom = layer.op === "Input" ? 4 : grid.spatial ? Math.max(1, 40 / grid.H) : grid.C <= 16 ? 24 : 9;
      for (const c of [canvas, overlay]) c.style.width = `${grid.width * zoom}px`;
      const scale = el("span");
      const wrap = el("div", { className: "layer-canvas" }, canvas, overlay);
      const block = el("figure", { className: "layer" },
        el("figcaption", {}, el("b", { textContent: layer.name }), " ", el("span", { textContent: describe(layer) }),
          el("div", { className: "formula", textContent: sizeFormula(layer, result.layers[i - 1]) }), scale),
        wrap);
      block.dataset.layer = layer.name;
      block.dataset.shape = layer.shape.join(",");
      layersBox.append(block);
      const pick = (event) => {
        const box = overlay.getBoundingClientRect();
        const px = Math.floor(((event.clientX - box.left) / box.width) * grid.width);
        const py = Math.floor(((event.clientY - box.top) / box.height) * grid.height);
        const cell = cellAt(grid, px, py);
        if (cell) select(i, ...cell, event.type === "pointerdown");
      };
      overlay.addEventListener("pointermove", (e) => { if (pinned === null) pick(e); });
      overlay.addEventListener("pointerdown", (e) => { pinned = null; pick(e); pinned = i; });
      return { layer, grid, canvas, overlay, scale };
    });
  }

  function paint(result) {
    result.layers.forEach((layer, i) => {
      const { grid, canvas, scale } = blocks[i];
      const data = layer.data;
      let max = 0;
      for (let k = 0; k < data.length; k++) max = Math.max(max, Math.abs(data[k]));
      const kind = layer.op === "Input" ? "grey" : "diverging";
      const pixels = new ImageData(grid.width, grid.height);
      pixels.data.fill(235); // the gaps
      const hw = grid.H * grid.W;
      for (let c = 0; c < grid.C; c++) {
        const [ox, oy] = tileOrigin(grid, c);
        for (let y = 0; y < grid.H; y++) {
          for (let x = 0; x < grid.W; x++) {
            const v = data[c * hw + y * grid.W + x];
            const [r, g, b] = kind === "grey" ? grey(v) : diverging(v, max);
            const o = 4 * ((oy + y) * grid.width + ox + x);
            pixels.data[o] = r; pixels.data[o + 1] = g; pixels.data[o + 2] = b; pixels.data[o + 3] = 255;
          }
        }
      }
      canvas.getContext("2d").putImageData(pixels, 0, 0);
      scale.replaceChildren(legend(kind, max));
    });
  }

  function cellAt(grid, px, py) {
    if (grid.spatial) {
      const col = Math.floor(px / (grid.W + GAP)), row = Math.floor(py / (grid.H + GAP));
      const x = px - col * (grid.W + GAP), y = py - row * (grid.H + GAP), c = row * grid.cols + col;
      return c < grid.C && x < grid.W && y < grid.H && x >= 0 && y >= 0 ? [c, y, x] : null;
    }
    const c = py * grid.cols + px;
    return c >= 0 && c < grid.C ? [c, 0, 0] : null;
  }

  function outline(i, c, y0, y1, x0, x1, colour) {
    const { grid, overlay } = blocks[i];
    const context = overlay.getContext("2d");
    const [ox, oy] = tileOrigin(grid, c);
    context.strokeStyle = colour;
    context.lineWidth = Math.max(0.5, grid.H / 56);
    context.strokeRect(ox + x0 - 0.25, oy + y0 - 0.25, x1 - x0 + 1.5, y1 - y0 + 1.5);
  }

  async function select(i, c, y, x) {
    if (!current) return;
    for (const b of blocks) b.overlay.getContext("2d").clearRect(0, 0, b.overlay.width, b.overlay.height);
    const layers = current.layers;
    outline(i, c, y, y, x, x, "#111");
    if (layers[i].shape.length === 3 && i > 0) {
      const region = receptiveField(layers, i, y, x); // on the frame
      outline(0, 0, ...region, "#f59e0b");
      if (layers[i - 1].shape.length === 3) { // the window on the layer below, in every channel it reads
        const window = windowBelow(layers[i], layers[i - 1], [y, y, x, x]);
        const channels = layers[i].op === "Conv2d" ? [...Array(dims(layers[i - 1])[0]).keys()] : [c];
        for (const ch of channels) outline(i - 1, ch, ...window, "#f59e0b");
      }
    }
    let failed = null;
    const weights = await (current.epoch ? epochWeights(zoo, model, current.epoch) : zoo.weights(model)).catch((e) => { failed = e; return null; });
    detail.replaceChildren(...explainDigit(layers, i, c, y, x, weights, current), ...weightsFailure(failed));
    detail.dataset.layer = layers[i].name;
    detail.dataset.cell = JSON.stringify([c, y, x]);
  }

  return {
    update(result) {
      const shapes = result.layers.map((l) => l.shape.join(",")).join(";");
      if (model !== result.model || root.dataset.shapes !== shapes) {
        build(result);
        root.dataset.shapes = shapes;
        model = result.model;
        pinned = null;
        detail.replaceChildren(el("p", { textContent: "Hover over (or tap) any cell of any layer to see how its value was computed." }));
        delete detail.dataset.layer;
      }
      current = result;
      paint(result);
      root.dataset.model = result.model;
      root.dataset.layers = String(result.layers.length);
      if (pinned !== null && detail.dataset.cell) select(pinned, ...JSON.parse(detail.dataset.cell));
    },
    unavailable(text) {
      current = null;
      model = null;
      layersBox.replaceChildren(el("p", { className: "note", textContent: text }));
      detail.replaceChildren();
      root.dataset.layers = "0";
    },
    select,
  };
}

/** The weights as they were after `epoch` (the replay's float16 snapshot), named as zoo.weights names them. */
async function epochWeights(zoo, model, epoch) {
  const replay = await zoo.replay(model);
  const names = Object.keys(zoo.replayEntry(model).epochs.tensors);
  return Object.fromEntries(names.map((name) => [name, replay.tensor(epoch, name)]));
}

const at = (layer, c, y, x) => layer.data[c * dims(layer)[1] * dims(layer)[2] + y * dims(layer)[2] + x];

/** The cell's arithmetic, as DOM nodes. The written-out result carries data-sum; the model's value data-value. */
function explainDigit(layers, i, c, y, x, weights, result) {
  const layer = layers[i], below = layers[i - 1];
  const value = layer.shape.length === 3 ? at(layer, c, y, x) : layer.data[c];
  const where = layer.shape.length === 3 ? `${layer.name}[channel ${c}, row ${y}, column ${x}]` : `${layer.name}[${c}]`;
  const out = [el("h4", { textContent: `${where} = ${fmt(value, 4)}` })];
  const line = (text, cls = "") => el("p", { className: cls, textContent: text });
  const result_ = (text, sum) => checked(line(text, "sum"), sum, value);
  const W = (name) => weights?.[layer.params?.[name]];

  if (layer.op === "Input") {
    out.push(line("A pixel of the 28×28 frame: 0 is background, 1 is ink (white on black, as in MNIST)."));
  } else if (layer.op === "Conv2d") {
    const w = W("weight"), b = W("bias");
    if (!w || !b) return [...out, line("(loading the kernels...)")];
    const [Cin, H, Wd] = dims(below), k = layer.kernel[0], s = layer.stride[0], p = layer.padding[0];
    const partial = [];
    let total = 0;
    for (let ci = 0; ci < Cin; ci++) {
      const terms = [];
      for (let ky = 0; ky < k; ky++) {
        for (let kx = 0; kx < k; kx++) {
          const yy = y * s - p + ky, xx = x * s - p + kx;
          const input = yy < 0 || yy >= H || xx < 0 || xx >= Wd ? 0 : at(below, ci, yy, xx);
          terms.push([input, w.data[((c * Cin + ci) * k + ky) * k + kx]]);
        }
      }
      const sum = terms.reduce((a, [v, wt]) => a + v * wt, 0);
      partial.push({ ci, terms, sum });
      total += sum;
    }
    const bias = b.data[c];
    const strongest = partial.reduce((a, q) => (Math.abs(q.sum) > Math.abs(a.sum) ? q : a));
    out.push(line(`A ${k}×${k} kernel slides over ${Cin === 1 ? "the frame" : `all ${Cin} channels of ${below.name}`} ` +
      `(stride ${s}, padding ${p}): this cell is its window at rows ${y * s - p}..${y * s - p + k - 1}, columns ${x * s - p}..${x * s - p + k - 1}` +
      `${p ? " (outside the picture counts as 0)" : ""}.`));
    out.push(patchTable(strongest.terms, k, Cin === 1 ? "input × kernel" : `channel ${strongest.ci} of ${below.name} (the largest share): input × kernel`));
    out.push(line(strongest.terms.map(([v, wt]) => `(${fmt(v, 2)}×${fmt(wt, 2)})`).join(" + ") + ` = ${fmt(strongest.sum)}`, "mono"));
    if (Cin > 1) {
      const shares = [...partial].sort((a, q) => Math.abs(q.sum) - Math.abs(a.sum));
      const shown = shares.slice(0, 6).map((q) => `ch${q.ci} ${signed(q.sum)}`).join(" ");
      out.push(line(`Every channel's ${k}×${k} sum, largest first: ${shown}${Cin > 6 ? ` … (${Cin - 6} more)` : ""} = ${fmt(total)}`, "mono"));
    }
    const sum = total + bias;
    out.push(result_(`${fmt(total)} ${signed(bias)} (bias) = ${fmt(sum, 4)}   (the model computed ${fmt(value, 4)})`, sum));
    follow(layers, i, c, y, x, weights, out, line);
  } else if (layer.op === "BatchNorm2d") {
    out.push(...batchNorm(layers, i, c, y, x, weights, line, result_));
  } else if (layer.op === "ReLU") {
    const input = below.shape.length === 3 ? at(below, c, y, x) : below.data[c];
    out.push(result_(`ReLU: max(0, ${fmt(input, 4)}) = ${fmt(Math.max(0, input), 4)}`, Math.max(0, input)));
  } else if (layer.op === "MaxPool2d") {
    const k = layer.kernel[0], s = layer.stride[0];
    const window = [];
    for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) window.push(at(below, c, y * s + ky, x * s + kx));
    const best = Math.max(...window);
    out.push(line(`The ${k}×${k} window of ${below.name}, channel ${c}, rows ${y * s}..${y * s + k - 1}, columns ${x * s}..${x * s + k - 1}:`));
    out.push(patchTable(window.map((v) => [v]), k, "the window (the winner in bold)", best));
    out.push(result_(`max(${window.map((v) => fmt(v, 3)).join(", ")}) = ${fmt(best, 4)}`, best));
  } else if (layer.op === "Linear") {
    const w = W("weight"), b = W("bias");
    if (!w || !b) return [...out, line("(loading the weights...)")];
    const n = below.data.length;
    const terms = Array.from(below.data, (v, j) => [j, v, w.data[c * n + j]]);
    const total = terms.reduce((a, [, v, wt]) => a + v * wt, 0);
    const top = [...terms].sort((a, q) => Math.abs(q[1] * q[2]) - Math.abs(a[1] * a[2])).slice(0, 6);
    out.push(line(`A weighted sum of all ${n} values of ${below.name} (flattened), plus a bias. The largest terms:`));
    out.push(line(top.map(([j, v, wt]) => `x${j}·w = ${fmt(v, 2)}×${fmt(wt, 3)}`).join(", ") + ` … Σ of ${n} terms = ${fmt(total)}`, "mono"));
    const sum = total + b.data[c];
    out.push(result_(`${fmt(total)} ${signed(b.data[c])} (bias) = ${fmt(sum, 4)}   (the model computed ${fmt(value, 4)})`, sum));
    if (layers[i + 1]?.op === "Softmax") out.push(...softmax(layers, i + 1, line, result));
  } else if (layer.op === "Softmax") {
    out.push(...softmax(layers, i, line, result, result_));
  }
  return out;
}

/** After a convolution cell: what BatchNorm and ReLU make of it, in the layers that follow. */
function follow(layers, i, c, y, x, weights, out, line) {
  for (let j = i + 1; j < layers.length && ["BatchNorm2d", "ReLU"].includes(layers[j].op); j++) {
    if (layers[j].op === "BatchNorm2d") out.push(...batchNorm(layers, j, c, y, x, weights, line, (t) => line(t, "mono")));
    else out.push(line(`then ${layers[j].name} (ReLU): max(0, ${fmt(at(layers[j - 1], c, y, x), 4)}) = ${fmt(at(layers[j], c, y, x), 4)}`, "mono"));
  }
}

function batchNorm(layers, j, c, y, x, weights, line, result_) {
  const layer = layers[j], input = at(layers[j - 1], c, y, x), value = at(layer, c, y, x);
  const get = (name) => weights?.[layer.params?.[name]]?.data[c];
  const [gamma, beta, mean, variance] = ["weight", "bias", "running_mean", "running_var"].map(get);
  if (gamma === undefined) return [line("(loading BatchNorm's statistics...)")];
  const eps = layer.eps ?? 1e-5;
  const norm = (input - mean) / Math.sqrt(variance + eps), out = norm * gamma + beta;
  return [
    line(`${layer.name} (BatchNorm, channel ${c}): (x − mean) / √(var + ε) × γ + β`),
    result_(`(${fmt(input, 4)} − ${fmt(mean, 4)}) / √(${fmt(variance, 4)} + ${eps}) × ${fmt(gamma, 4)} ${signed(beta, 4)} = ${fmt(out, 4)}` +
      `   (the model computed ${fmt(value, 4)})`, out),
  ];
}

function softmax(layers, j, line, result, result_ = (t) => line(t, "mono")) {
  const logits = layers[j - 1].data, p = layers[j].data;
  const max = Math.max(...logits);
  const exps = Array.from(logits, (l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  const top = p.indexOf(Math.max(...p));
  return [
    line("softmax: p_k = exp(logit_k) / Σ exp(logit_j)  (exp taken after subtracting the largest logit, which changes nothing)"),
    el("table", { className: "softmax" },
      el("tr", {}, el("th", { textContent: "digit" }), ...Array.from(logits, (_, k) => el("th", { textContent: String(k) }))),
      el("tr", {}, el("th", { textContent: "logit" }), ...Array.from(logits, (l) => el("td", { textContent: fmt(l, 2) }))),
      el("tr", {}, el("th", { textContent: "exp" }), ...exps.map((e) => el("td", { textContent: fmt(e, 3) }))),
      el("tr", {}, el("th", { textContent: "p" }), ...exps.map((e, k) => el("td", { textContent: fmt(e / total, 3), className: k === top ? "win" : "" })))),
    result_(`cross-entropy if the answer is ${top}: −log p(${top}) = −log ${fmt(p[top], 4)} = ${fmt(-Math.log(p[top]), 4)}`, p[top]),
  ].concat(result?.ink === false ? [line("(no ink: the canvas model answers all zeros; the layers show the empty frame)")] : []);
}

function patchTable(terms, k, caption, winner) {
  const rows = [];
  for (let ky = 0; ky < k; ky++) {
    rows.push(el("tr", {}, ...terms.slice(ky * k, (ky + 1) * k).map(([v, wt]) => el("td", {
      textContent: wt === undefined ? fmt(v, 2) : `${fmt(v, 2)}×${fmt(wt, 2)}`,
      className: winner !== undefined && v === winner ? "win" : "",
    }))));
  }
  return el("table", { className: "patch" }, el("caption", { textContent: caption }), ...rows);
}

// ------------------------------------------------------------------ text

/** The Inside view of the Text tab: heat maps of every hidden layer (units × characters), cells explained. */
export function textInside(zoo, root) {
  const box = root.querySelector(".inside-layers"), detail = root.querySelector(".inside-detail");
  let current = null, model = null, chars = [];
  const SHOWN = 80;

  function update(result, name, text) {
    current = result;
    model = name;
    chars = [...text].slice(0, SHOWN);
    const entry = zoo.entry(name);
    box.replaceChildren();
    const note = entry.hidden_size === entry.vocab.length && result.layers.some((l) => l.same_as)
      ? `In ${name}, the hidden size equals the vocabulary size (${entry.vocab.length}): the RNN's hidden state IS its output, ` +
        "the logits of the next character (the lecture's model has no Linear layer after the RNN)."
      : "";
    if (note) box.append(el("p", { className: "note", textContent: note }));
    result.layers.forEach((layer, i) => {
      if (layer.same_as) return; // drawn once, under the name of the layer it equals
      const units = layer.shape[0], T = chars.length;
      const canvas = el("canvas", { width: T, height: units, className: "heat" });
      canvas.style.width = `${T * 16}px`;
      canvas.style.height = `${units * 12}px`;
      const max = layer.op === "OneHot" || layer.op === "Softmax" ? 1 : Math.max(...layer.data.slice(0, T * units).map(Math.abs), 1e-6);
      const pixels = new ImageData(T, units);
      for (let t = 0; t < T; t++) {
        for (let u = 0; u < units; u++) {
          const [r, g, b] = diverging(layer.data[t * units + u], max);
          const o = 4 * (u * T + t);
          pixels.data[o] = r; pixels.data[o + 1] = g; pixels.data[o + 2] = b; pixels.data[o + 3] = 255;
        }
      }
      canvas.getContext("2d").putImageData(pixels, 0, 0);
      const header = el("div", { className: "heat-chars" }, ...chars.map((c) => el("span", { textContent: c === " " ? "␣" : c })));
      const title = layer.op === "RNN" || layer.op === "GRU" ? `${layer.name}: hidden state of ${layer.op} layer ${layer.layer}` +
        (result.layers.find((l) => l.same_as === layer.name) ? " (= the logits)" : "") : layer.name;
      const figure = el("figure", { className: "layer" },
        el("figcaption", {}, el("b", { textContent: title }), ` · ${units} units × ${T} characters `, legend("diverging", max)),
        header, canvas);
      figure.dataset.layer = layer.name;
      canvas.addEventListener("pointermove", (event) => pick(event, canvas, i, units, T));
      canvas.addEventListener("pointerdown", (event) => pick(event, canvas, i, units, T));
      box.append(figure);
    });
    root.dataset.layers = String(result.layers.length);
  }

  async function pick(event, canvas, i, units, T) {
    const rect = canvas.getBoundingClientRect();
    const t = Math.min(T - 1, Math.floor(((event.clientX - rect.left) / rect.width) * T));
    const u = Math.min(units - 1, Math.floor(((event.clientY - rect.top) / rect.height) * units));
    await select(i, t, u);
  }

  async function select(i, t, u) {
    if (!current) return;
    let failed = null;
    const weights = await zoo.weights(model).catch((e) => { failed = e; return null; });
    detail.replaceChildren(...explainText(current.layers, i, t, u, weights, chars, zoo.entry(model)), ...weightsFailure(failed));
    detail.dataset.layer = current.layers[i].name;
  }

  return { update, select };
}

const sigmoid = (v) => 1 / (1 + Math.exp(-v));

/** The sentence saying why the written-out arithmetic has no weights (a file missing or altered), or nothing. */
const weightsFailure = (error) =>
  error ? [Object.assign(document.createElement("p"), { className: "error", textContent: MESSAGES.weightsFailed(error.message) })] : [];

function explainText(layers, i, t, u, weights, chars, entry) {
  const layer = layers[i], size = layer.shape[0];
  const value = layer.data[t * size + u];
  const c = chars[t] === " " ? "␣" : chars[t];
  const out = [el("h4", { textContent: `${layer.name}, unit ${u}, after '${c}' (position ${t}) = ${fmt(value, 4)}` })];
  const line = (text, cls = "") => el("p", { className: cls, textContent: text });
  if (layer.op === "OneHot") return [...out, line(`The input: 1 at the index of '${c}' in the vocabulary, 0 elsewhere.`)];
  if (layer.op === "Softmax") return [...out, line(`The probability that the next character is '${entry.vocab[u]}'.`)];
  if (layer.op === "Linear") return [...out, line(`logit of '${entry.vocab[u]}': fc's weighted sum of the last RNN layer's hidden state, plus its bias.`)];
  const k = layer.layer, get = (key) => weights?.[layer.params?.[key]];
  const [Wih, Whh, bih, bhh] = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map(get);
  if (!Wih) return [...out, line("(loading the weights...)")];
  const below = layers.find((l) => (k === 0 ? l.op === "OneHot" : l.layer === k - 1 && !l.same_as && (l.op === "RNN" || l.op === "GRU")));
  const H = size, I = below.shape[0];
  const x = Array.from(below.data.subarray(t * I, (t + 1) * I));
  const h = t === 0 ? new Array(H).fill(0) : Array.from(layer.data.subarray((t - 1) * H, t * H));
  const dot = (M, row, v) => v.reduce((a, vj, j) => a + M.data[row * v.length + j] * vj, 0);
  const xDesc = k === 0 ? `W_ih[${u}, '${c}']` : `W_ih[${u},·]·h${k - 1}_t`;
  if (layer.op === "RNN") {
    const a = dot(Wih, u, x), b1 = bih.data[u], r = dot(Whh, u, h), b2 = bhh.data[u];
    const pre = a + b1 + r + b2;
    out.push(line("h_t = tanh(W_ih x_t + b_ih + W_hh h_t−1 + b_hh)  (for this unit, with the numbers:)"));
    out.push(line(`${xDesc} = ${fmt(a, 4)};  b_ih[${u}] = ${fmt(b1, 4)};  W_hh[${u},·]·h_t−1 = ${fmt(r, 4)};  b_hh[${u}] = ${fmt(b2, 4)}`, "mono"));
    out.push(checked(line(`tanh(${fmt(a, 4)} ${signed(b1, 4)} ${signed(r, 4)} ${signed(b2, 4)}) = tanh(${fmt(pre, 4)}) = ` +
      `${fmt(Math.tanh(pre), 4)}   (the model computed ${fmt(value, 4)})`, "sum"), Math.tanh(pre), value));
    if (k === 0) out.push(line("x_t is one-hot, so W_ih x_t is one column of W_ih: the one for this character."));
  } else {
    const gate = (g, act) => {
      const row = g * H + u;
      const ix = dot(Wih, row, x) + bih.data[row], hh = dot(Whh, row, h) + bhh.data[row];
      return { ix, hh, value: act(ix + hh) };
    };
    const r = gate(0, sigmoid), z = gate(1, sigmoid);
    const nRow = 2 * H + u;
    const nx = dot(Wih, nRow, x) + bih.data[nRow], nh = dot(Whh, nRow, h) + bhh.data[nRow];
    const n = Math.tanh(nx + r.value * nh);
    const hNew = (1 - z.value) * n + z.value * h[u];
    out.push(line("GRU (PyTorch's form): r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz), " +
      "n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h_t = (1 − z) ⊙ n + z ⊙ h_t−1"));
    out.push(line(`r = σ(${fmt(r.ix, 3)} ${signed(r.hh, 3)}) = ${fmt(r.value, 4)};  z = σ(${fmt(z.ix, 3)} ${signed(z.hh, 3)}) = ${fmt(z.value, 4)}`, "mono"));
    out.push(line(`n = tanh(${fmt(nx, 3)} + ${fmt(r.value, 3)} × ${fmt(nh, 3)}) = ${fmt(n, 4)}`, "mono"));
    out.push(checked(line(`h_t = (1 − ${fmt(z.value, 3)}) × ${fmt(n, 4)} + ${fmt(z.value, 3)} × ${fmt(h[u], 4)} = ${fmt(hNew, 4)}` +
      `   (the model computed ${fmt(value, 4)})`, "sum"), hNew, value));
  }
  return out;
}
