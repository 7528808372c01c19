// inside.js: the Inside view. It draws what zoo.inspectDigit / zoo.inspectText return (every layer of the
// network, computed by the probe model) and, for a cell one hovers or taps, writes out its arithmetic with the
// real numbers: a convolution's patch, kernel, products, bias and sum, then BatchNorm and ReLU; a pooling
// window and its winner; a unit's weighted sum; logits -> exp -> softmax -> cross-entropy; an RNN's
// h_t = tanh(W_xh x_t + W_hh h_t-1 + b) or a GRU's gates. The layout comes from the manifest's `layers` list:
// no layer is hard-coded. Only drawing happens here; the numbers come from the model (the one check computed
// here, the written-out sum, is shown beside the model's own value). Every word comes from web/i18n-<lang>.js.
//
// The explanation sits in a panel beside the layers on a wide screen and in a sheet over the bottom of a
// phone's screen; picking a cell of a spatial layer also shows its channel enlarged there (a cell big enough
// for a fingertip) beside the window it reads on the layer below.
import { t } from "./i18n.js";
import { MESSAGES } from "./messages.js";

const fmt = (v, digits = 3) => {
  const text = v.toFixed(digits);
  if (/^-0\.?0*$/.test(text)) return text.slice(1); // −0.00 is 0.00
  return text.startsWith("-") ? `−${text.slice(1)}` : text; // the minus sign, not a hyphen
};
/** A term of a sum: a negative number in parentheses, as one writes 2 × (−0.5). */
const num = (v, digits = 3) => { const text = fmt(v, digits); return text.startsWith("−") ? `(${text})` : text; };
const signed = (v, digits = 3) => { const text = fmt(v, digits); return text.startsWith("−") ? `− ${text.slice(1)}` : `+ ${text}`; };
const visible = (c) => (c === " " ? "␣" : c);
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
const GAP = 1; // native pixels between channel tiles
const ZOOM_PX = 280; // the enlarged channel's side, CSS px (a 28x28 map: 10 px a cell)

// ------------------------------------------------------------------ colours

/** Diverging map: negative blue, zero white, positive red; `scale` is the value drawn at full colour. */
function diverging(v, scale) {
  const s = Math.max(-1, Math.min(1, v / (scale || 1)));
  return s >= 0 ? [255 - 35 * s, 255 - 217 * s, 255 - 217 * s] : [255 + 218 * s, 255 + 156 * s, 255 + 20 * s];
}
const grey = (v) => [255 * Math.max(0, Math.min(1, v)), 255 * Math.max(0, Math.min(1, v)), 255 * Math.max(0, Math.min(1, v))];
const colourOf = (layer, v, max) => (layer.op === "Input" ? grey(v) : diverging(v, max));

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
  return t("inside.sizeFormula", { n, k, s, p, out: Math.floor((n - k + 2 * p) / s) + 1 });
}

function describe(layer) {
  const shape = layer.shape.join(" × ");
  if (layer.op === "Conv2d") return t("inside.describeConv", { kernel: layer.kernel.join("×"), stride: layer.stride[0], padding: layer.padding[0], shape });
  if (layer.op === "MaxPool2d") return t("inside.describePool", { kernel: layer.kernel.join("×"), stride: layer.stride[0], shape });
  if (layer.op === "Input") return t("inside.describeInput", { shape });
  return t(`op.${layer.op}`) + ` · ${shape}`;
}

// ------------------------------------------------------------------ the panel / sheet

/** The explanation's box: a close button (the phone's sheet), the enlarged channel and the worked sum. */
function sheet(detail, onClose) {
  const close = el("button", { type: "button", className: "sheet-close", textContent: "×" });
  close.dataset.i18nAria = "inside.close";
  close.setAttribute("aria-label", t("inside.close"));
  const zoom = el("div", { className: "zoom", hidden: true });
  const explain = el("div", { className: "explain" });
  detail.replaceChildren(close, zoom, explain);
  close.addEventListener("click", () => { detail.classList.remove("open"); onClose(); });
  return { zoom, explain, open: () => detail.classList.add("open") };
}

/** On a phone, scroll what was tapped (`target`) above the sheet that now covers the screen's lower part. */
function reveal(target, detail) {
  if (!detail.classList.contains("open") || getComputedStyle(detail).position !== "fixed") return;
  const sheetTop = detail.getBoundingClientRect().top, box = target.getBoundingClientRect();
  if (box.bottom > sheetTop - 8) window.scrollBy({ top: Math.min(box.top - 8, box.bottom - sheetTop + 8) });
}

// ------------------------------------------------------------------ digits

/**
 * The Inside view of the Digits tab in `root`: update(result) after each inspectDigit, unavailable(text).
 * `zoo` gives the weights for the written-out arithmetic (fetched when a cell is first hovered).
 */
export function digitInside(zoo, root) {
  const layersBox = root.querySelector(".inside-layers"), detail = root.querySelector(".inside-detail");
  let blocks = [], current = null, model = null, pinned = null, picked = null;
  const panel = sheet(detail, () => { pinned = null; });
  const zoomed = { i: null, c: null, k: 1 };
  const zoomThis = el("canvas", { className: "zoom-this" }), zoomBelow = el("canvas", { className: "zoom-below" });
  const captionThis = el("figcaption"), captionBelow = el("figcaption");
  const figureBelow = el("figure", {}, captionBelow, zoomBelow);
  panel.zoom.append(el("figure", {}, captionThis, zoomThis), figureBelow);
  const zoomPick = (event) => {
    if (zoomed.i === null) return;
    const box = zoomThis.getBoundingClientRect(), [, H, W] = dims(current.layers[zoomed.i]);
    const x = Math.floor(((event.clientX - box.left) / box.width) * W), y = Math.floor(((event.clientY - box.top) / box.height) * H);
    if (x >= 0 && y >= 0 && x < W && y < H) select(zoomed.i, zoomed.c, y, x);
  };
  zoomThis.addEventListener("pointermove", (e) => { if (e.pointerType === "mouse" || e.buttons) zoomPick(e); });
  zoomThis.addEventListener("pointerdown", (e) => { e.preventDefault(); pinned = zoomed.i; zoomPick(e); });

  function build(result) {
    layersBox.replaceChildren();
    blocks = result.layers.map((layer, i) => {
      const grid = gridOf(layer);
      // a tile about 40 px; the frame larger, where the receptive fields are outlined
      const zoom = layer.op === "Input" ? 4 : grid.spatial ? Math.max(1, 40 / grid.H) : grid.C <= 16 ? 24 : 9;
      const sharp = Math.max(4, Math.ceil(2 * zoom)); // the overlay's pixels per cell: outlines in whole CSS px
      const canvas = el("canvas", { width: grid.width, height: grid.height, className: "layer-map" });
      const overlay = el("canvas", { width: grid.width * sharp, height: grid.height * sharp, className: "layer-overlay" });
      canvas.style.width = `${grid.width * zoom}px`;
      const scale = el("span");
      const wrap = el("div", { className: "layer-canvas" }, canvas, overlay);
      const labels = !grid.spatial && grid.C <= 16 // the output strips: which unit is which digit
        ? el("div", { className: "strip-labels" }, ...Array.from({ length: grid.C }, (_, k) => el("span", { textContent: String(k), style: `width:${zoom}px` })))
        : "";
      const block = el("figure", { className: "layer" },
        el("figcaption", {}, el("b", { textContent: layer.name }), " ", el("span", { className: "describe" }),
          el("div", { className: "formula" }), scale),
        wrap, labels);
      block.dataset.layer = layer.name;
      block.dataset.shape = layer.shape.join(",");
      layersBox.append(block);
      const pick = (event) => {
        const box = overlay.getBoundingClientRect();
        const px = Math.floor(((event.clientX - box.left) / box.width) * grid.width);
        const py = Math.floor(((event.clientY - box.top) / box.height) * grid.height);
        const cell = cellAt(grid, px, py);
        if (cell) return select(i, ...cell);
      };
      overlay.addEventListener("pointermove", (e) => { if (pinned === null && e.pointerType === "mouse") pick(e); });
      overlay.addEventListener("pointerdown", async (e) => { pinned = i; await pick(e); reveal(wrap, detail); });
      return { layer, grid, canvas, overlay, scale, sharp, block, max: 1 };
    });
    words(result);
  }

  /** The layers' captions in the current language. */
  function words(result) {
    result.layers.forEach((layer, i) => {
      const block = blocks[i].block;
      block.querySelector(".describe").textContent = describe(layer);
      block.querySelector(".formula").textContent = sizeFormula(layer, result.layers[i - 1]);
    });
  }

  function paint(result) {
    result.layers.forEach((layer, i) => {
      const { grid, canvas, scale } = blocks[i];
      const data = layer.data;
      let max = 0;
      for (let k = 0; k < data.length; k++) max = Math.max(max, Math.abs(data[k]));
      blocks[i].max = max;
      const pixels = new ImageData(grid.width, grid.height);
      pixels.data.fill(235); // the gaps
      const hw = grid.H * grid.W;
      for (let c = 0; c < grid.C; c++) {
        const [ox, oy] = tileOrigin(grid, c);
        for (let y = 0; y < grid.H; y++) {
          for (let x = 0; x < grid.W; x++) {
            const [r, g, b] = colourOf(layer, data[c * hw + y * grid.W + x], max);
            const o = 4 * ((oy + y) * grid.width + ox + x);
            pixels.data[o] = r; pixels.data[o + 1] = g; pixels.data[o + 2] = b; pixels.data[o + 3] = 255;
          }
        }
      }
      canvas.getContext("2d").putImageData(pixels, 0, 0);
      scale.replaceChildren(legend(layer.op === "Input" ? "grey" : "diverging", max));
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

  /** A rectangle of cells (inclusive) on channel c of layer i's overlay: the receptive field (orange) or the
   * picked cell (a black and white ring, which no colour of the maps looks like). */
  function outline(i, c, y0, y1, x0, x1, kind) {
    const { grid, overlay, sharp } = blocks[i];
    const context = overlay.getContext("2d");
    const [ox, oy] = tileOrigin(grid, c);
    const rect = [(ox + x0) * sharp, (oy + y0) * sharp, (x1 - x0 + 1) * sharp, (y1 - y0 + 1) * sharp];
    ring(context, rect, kind, Math.max(2, sharp / 4));
  }

  /** Draw channel `c` of layer `i` enlarged on `canvas` (k px a cell), with `region` outlined. */
  function drawEnlarged(canvas, i, c, region, kind) {
    const layer = current.layers[i], [, H, W] = dims(layer);
    const k = Math.max(4, Math.floor(ZOOM_PX / Math.max(H, W)));
    canvas.width = W * k;
    canvas.height = H * k;
    const context = canvas.getContext("2d");
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const [r, g, b] = colourOf(layer, at(layer, c, y, x), blocks[i].max);
        context.fillStyle = `rgb(${r},${g},${b})`;
        context.fillRect(x * k, y * k, k, k);
      }
    }
    if (H * W > 1 && k >= 8) { // the cell grid, faint
      context.strokeStyle = "rgba(0,0,0,0.08)";
      context.lineWidth = 1;
      context.beginPath();
      for (let v = 1; v < Math.max(H, W); v++) { context.moveTo(v * k, 0); context.lineTo(v * k, H * k); context.moveTo(0, v * k); context.lineTo(W * k, v * k); }
      context.stroke();
    }
    const [y0, y1, x0, x1] = region;
    ring(context, [x0 * k, y0 * k, (x1 - x0 + 1) * k, (y1 - y0 + 1) * k], kind, 3);
    return k;
  }

  function showZoom(i, c, y, x, belowChannel) {
    const layers = current.layers;
    if (layers[i].shape.length !== 3) { panel.zoom.hidden = true; zoomed.i = null; return; }
    panel.zoom.hidden = false;
    Object.assign(zoomed, { i, c });
    drawEnlarged(zoomThis, i, c, [y, y, x, x], "cell");
    captionThis.textContent = t("inside.zoomThis", { layer: layers[i].name, c });
    const below = layers[i - 1];
    figureBelow.hidden = !(below && below.shape.length === 3);
    if (!figureBelow.hidden) {
      const window = windowBelow(layers[i], below, [y, y, x, x]);
      drawEnlarged(zoomBelow, i - 1, belowChannel, window, "field");
      captionBelow.textContent = t("inside.zoomBelow", { layer: below.name, c: belowChannel, op: t(`op.${layers[i].op}`) });
    }
  }

  async function select(i, c, y, x) {
    if (!current) return;
    picked = [i, c, y, x];
    for (const b of blocks) b.overlay.getContext("2d").clearRect(0, 0, b.overlay.width, b.overlay.height);
    const layers = current.layers;
    if (layers[i].shape.length === 3 && i > 0) {
      const region = receptiveField(layers, i, y, x); // on the frame
      outline(0, 0, ...region, "field");
      if (layers[i - 1].shape.length === 3) { // the window on the layer below, in every channel it reads
        const window = windowBelow(layers[i], layers[i - 1], [y, y, x, x]);
        const channels = layers[i].op === "Conv2d" ? [...Array(dims(layers[i - 1])[0]).keys()] : [c];
        for (const ch of channels) outline(i - 1, ch, ...window, "field");
      }
    }
    outline(i, c, y, y, x, x, "cell");
    let failed = null;
    const weights = await (current.epoch ? epochWeights(zoo, model, current.epoch) : zoo.weights(model)).catch((e) => { failed = e; return null; });
    if (!current || picked.join() !== [i, c, y, x].join()) return; // a later pick has been made meanwhile
    const nodes = explainDigit(layers, i, c, y, x, weights, current);
    showZoom(i, c, y, x, nodes.belowChannel ?? c);
    panel.explain.replaceChildren(...nodes, ...weightsFailure(failed));
    panel.open();
    detail.dataset.layer = layers[i].name;
    detail.dataset.cell = JSON.stringify([c, y, x]);
  }

  function prompt() {
    panel.explain.replaceChildren(el("p", { textContent: t("inside.prompt") }));
    panel.zoom.hidden = true;
    zoomed.i = null;
  }

  return {
    update(result) {
      const shapes = result.layers.map((l) => l.shape.join(",")).join(";");
      if (model !== result.model || root.dataset.shapes !== shapes) {
        build(result);
        root.dataset.shapes = shapes;
        model = result.model;
        pinned = null;
        picked = null;
        detail.classList.remove("open");
        prompt();
        delete detail.dataset.layer;
        delete detail.dataset.cell;
      }
      current = result;
      paint(result);
      root.dataset.model = result.model;
      root.dataset.layers = String(result.layers.length);
      if (picked && pinned !== null) select(...picked);
    },
    unavailable(text) {
      current = null;
      model = null;
      layersBox.replaceChildren(el("p", { className: "note", textContent: text }));
      panel.explain.replaceChildren();
      panel.zoom.hidden = true;
      detail.classList.remove("open");
      root.dataset.layers = "0";
    },
    /** The words again, in the language just chosen. */
    relabel() {
      if (!current) return;
      words(current);
      if (picked) select(...picked);
      else prompt();
    },
    select,
  };
}

/** A rectangle outlined on a 2-D context: "field" orange, "cell" a black ring inside a white one. */
function ring(context, [x, y, w, h], kind, width) {
  context.save();
  context.setLineDash([]);
  if (kind === "cell") {
    context.lineWidth = width + 2;
    context.strokeStyle = "#fff";
    context.strokeRect(x - width / 2, y - width / 2, w + width, h + width);
    context.lineWidth = width;
    context.strokeStyle = "#111";
    context.strokeRect(x - width / 2, y - width / 2, w + width, h + width);
  } else {
    context.lineWidth = width;
    context.strokeStyle = "#f59e0b";
    context.strokeRect(x, y, w, h);
  }
  context.restore();
}

/** The weights as they were after `epoch` (the replay's float16 snapshot), named as zoo.weights names them. */
async function epochWeights(zoo, model, epoch) {
  const replay = await zoo.replay(model);
  const names = Object.keys(zoo.replayEntry(model).epochs.tensors);
  return Object.fromEntries(names.map((name) => [name, replay.tensor(epoch, name)]));
}

const at = (layer, c, y, x) => layer.data[c * dims(layer)[1] * dims(layer)[2] + y * dims(layer)[2] + x];

/** The cell's arithmetic, as DOM nodes. The written-out result carries data-sum; the model's value data-value.
 * For a convolution, `belowChannel` (a property of the list) is the channel of the layer below that gives the
 * largest share: the one shown enlarged. */
function explainDigit(layers, i, c, y, x, weights, result) {
  const layer = layers[i], below = layers[i - 1];
  const value = layer.shape.length === 3 ? at(layer, c, y, x) : layer.data[c];
  const where = layer.shape.length === 3 ? t("inside.whereSpatial", { layer: layer.name, c, y, x }) : `${layer.name}[${c}]`;
  const out = [el("h4", { textContent: `${where} = ${fmt(value, 4)}` })];
  const line = (text, cls = "") => el("p", { className: cls, textContent: text });
  const computed = (sum) => t("inside.computed", { value: fmt(value, 4), sum });
  const result_ = (text, sum) => checked(line(text, "sum"), sum, value);
  const W = (name) => weights?.[layer.params?.[name]];

  if (layer.op === "Input") {
    out.push(line(t("inside.pixel")));
  } else if (layer.op === "Conv2d") {
    const w = W("weight"), b = W("bias");
    if (!w || !b) return [...out, line(t("inside.loadingKernels"))];
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
    const [r0, c0] = [y * s - p, x * s - p];
    const outside = r0 < 0 || c0 < 0 || r0 + k > H || c0 + k > Wd;
    out.push(line(t("inside.convWindow", { k, s, p, r0, r1: r0 + k - 1, c0, c1: c0 + k - 1, outside,
      source: Cin === 1 ? t("inside.theFrame") : t("inside.allChannels", { n: Cin, layer: below.name }) })));
    const caption = Cin === 1 ? "" : t("inside.strongestChannel", { c: strongest.ci, layer: below.name });
    if (caption) out.push(line(caption));
    out.push(el("div", { className: "tables" },
      patchTable(strongest.terms.map(([v]) => v), k, t("inside.patchInput")),
      patchTable(strongest.terms.map(([, wt]) => wt), k, t("inside.patchKernel"))));
    out.push(line(strongest.terms.map(([v, wt]) => `${num(v, 2)}×${num(wt, 2)}`).join(" + ") + ` = ${fmt(strongest.sum)}`, "mono"));
    if (Cin > 1) {
      const shares = [...partial].sort((a, q) => Math.abs(q.sum) - Math.abs(a.sum));
      const shown = shares.slice(0, 6).map((q) => `ch${q.ci} ${signed(q.sum)}`).join(" ");
      out.push(line(t("inside.everyChannel", { k, shown, more: Cin > 6 ? Cin - 6 : 0, total: fmt(total) }), "mono"));
    }
    const sum = total + bias;
    out.push(result_(`${fmt(total)} ${signed(bias)} (${t("inside.bias")}) = ${fmt(sum, 4)}   ${computed(fmt(sum, 4))}`, sum));
    follow(layers, i, c, y, x, weights, out, line);
    out.belowChannel = strongest.ci;
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
    out.push(line(t("inside.poolWindow", { k, layer: below.name, c, r0: y * s, r1: y * s + k - 1, c0: x * s, c1: x * s + k - 1 })));
    out.push(el("div", { className: "tables" }, patchTable(window, k, t("inside.poolCaption"), best)));
    out.push(result_(`max(${window.map((v) => fmt(v, 3)).join(", ")}) = ${fmt(best, 4)}`, best));
  } else if (layer.op === "Linear") {
    const w = W("weight"), b = W("bias");
    if (!w || !b) return [...out, line(t("inside.loadingWeights"))];
    const n = below.data.length;
    const terms = Array.from(below.data, (v, j) => [j, v, w.data[c * n + j]]);
    const total = terms.reduce((a, [, v, wt]) => a + v * wt, 0);
    const top = [...terms].sort((a, q) => Math.abs(q[1] * q[2]) - Math.abs(a[1] * a[2])).slice(0, 6);
    out.push(line(t("inside.linear", { n, layer: below.name })));
    out.push(line(top.map(([j, v, wt]) => `x${j}·w = ${num(v, 2)}×${num(wt, 3)}`).join(", ") + ` … Σ (${n}) = ${fmt(total)}`, "mono"));
    const sum = total + b.data[c];
    out.push(result_(`${fmt(total)} ${signed(b.data[c])} (${t("inside.bias")}) = ${fmt(sum, 4)}   ${computed(fmt(sum, 4))}`, sum));
    if (layers[i + 1]?.op === "Softmax") out.push(...softmax(layers, i + 1, line, result));
  } else if (layer.op === "Softmax") {
    out.push(...softmax(layers, i, line, result, result_));
  }
  return out;
}

/** After a convolution cell: what BatchNorm and ReLU make of it, in the layers that follow. */
function follow(layers, i, c, y, x, weights, out, line) {
  for (let j = i + 1; j < layers.length && ["BatchNorm2d", "ReLU"].includes(layers[j].op); j++) {
    if (layers[j].op === "BatchNorm2d") out.push(...batchNorm(layers, j, c, y, x, weights, line, (text) => line(text, "mono")));
    else out.push(line(t("inside.thenRelu", { layer: layers[j].name, input: fmt(at(layers[j - 1], c, y, x), 4), value: fmt(at(layers[j], c, y, x), 4) }), "mono"));
  }
}

function batchNorm(layers, j, c, y, x, weights, line, result_) {
  const layer = layers[j], input = at(layers[j - 1], c, y, x), value = at(layer, c, y, x);
  const get = (name) => weights?.[layer.params?.[name]]?.data[c];
  const [gamma, beta, mean, variance] = ["weight", "bias", "running_mean", "running_var"].map(get);
  if (gamma === undefined) return [line(t("inside.loadingBatchNorm"))];
  const eps = layer.eps ?? 1e-5;
  const norm = (input - mean) / Math.sqrt(variance + eps), out = norm * gamma + beta;
  return [
    line(t("inside.batchNorm", { layer: layer.name, c })),
    result_(`(${fmt(input, 4)} ${signed(-mean, 4)}) / √(${fmt(variance, 4)} + ${eps}) × ${num(gamma, 4)} ${signed(beta, 4)} = ${fmt(out, 4)}` +
      `   ${t("inside.computed", { value: fmt(value, 4) })}`, out),
  ];
}

/** softmax and cross-entropy as one table, a row per class (it fits a phone's width). */
function softmax(layers, j, line, result, result_ = (text) => line(text, "mono")) {
  const logits = layers[j - 1].data, p = layers[j].data;
  const max = Math.max(...logits);
  const exps = Array.from(logits, (l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  const top = p.indexOf(Math.max(...p));
  const head = ["inside.digit", "inside.logit", "inside.exp", "inside.p", "inside.minusLogP"].map((key) => el("th", { textContent: t(key) }));
  return [
    line(t("inside.softmax")),
    el("table", { className: "softmax" }, el("tr", {}, ...head),
      ...Array.from(logits, (l, k) => el("tr", { className: k === top ? "win" : "" },
        el("th", { textContent: String(k) }), el("td", { textContent: fmt(l, 2) }), el("td", { textContent: fmt(exps[k], 3) }),
        el("td", { textContent: fmt(exps[k] / total, 3) }), el("td", { textContent: fmt(-Math.log(p[k]), 2) })))),
    result_(t("inside.crossEntropy", { k: top, p: fmt(p[top], 4), loss: fmt(-Math.log(p[top]), 4) }), p[top]),
  ].concat(result?.ink === false ? [line(t("inside.noInk"))] : []);
}

/** A k x k table of numbers (2 decimals); `winner`'s cell in bold. */
function patchTable(values, k, caption, winner) {
  const rows = [];
  for (let ky = 0; ky < k; ky++) {
    rows.push(el("tr", {}, ...values.slice(ky * k, (ky + 1) * k).map((v) => el("td", {
      textContent: fmt(v, 2), className: winner !== undefined && v === winner ? "win" : "",
    }))));
  }
  return el("table", { className: "patch" }, el("caption", { textContent: caption }), ...rows);
}

// ------------------------------------------------------------------ text

/** The Inside view of the Text tab: heat maps of every hidden layer (units × characters), cells explained.
 * The characters wrap into lines that fit the width, each line's labels over its own columns. */
export function textInside(zoo, root) {
  const box = root.querySelector(".inside-layers"), detail = root.querySelector(".inside-detail");
  let current = null, model = null, chars = [], text = "", picked = null, width = 0;
  const SHOWN = 400;
  const panel = sheet(detail, () => {});
  new ResizeObserver(() => { if (current && Math.abs(box.clientWidth - width) > 8) render(); }).observe(box);

  function update(result, name, typed) {
    current = result;
    model = name;
    text = typed;
    chars = [...typed].slice(0, SHOWN);
    picked = null;
    detail.classList.remove("open");
    panel.explain.replaceChildren(el("p", { textContent: t("inside.textPrompt") }));
    render();
  }

  function render() {
    const entry = zoo.entry(model), result = current;
    width = box.clientWidth;
    const narrow = width < 600;
    const colW = narrow ? 14 : 16, labelW = 26;
    const perLine = Math.max(4, Math.floor((width - labelW - 2) / colW));
    box.replaceChildren();
    const equal = result.layers.some((l) => l.same_as);
    if (entry.hidden_size === entry.vocab.length && equal) box.append(el("p", { className: "note", textContent: t("inside.hiddenIsLogits", { name: model, n: entry.vocab.length }) }));
    if (chars.length < [...text].length) box.append(el("p", { className: "note", textContent: t("inside.firstChars", { n: SHOWN, total: [...text].length }) }));
    result.layers.forEach((layer, i) => {
      if (layer.same_as) return; // drawn once, under the name of the layer it equals
      const units = layer.shape[0], T = chars.length;
      const unitH = narrow && units > 12 ? 9 : 12;
      const max = layer.op === "OneHot" || layer.op === "Softmax" ? 1 : Math.max(...layer.data.slice(0, T * units).map(Math.abs), 1e-6);
      const byVocab = units === entry.vocab.length && (layer.op !== "RNN" && layer.op !== "GRU" || result.layers.some((l) => l.same_as === layer.name));
      const rowLabels = Array.from({ length: units }, (_, u) => (byVocab ? visible(entry.vocab[u]) : String(u)));
      const title = layer.op === "RNN" || layer.op === "GRU"
        ? t("inside.hiddenState", { layer: layer.name, op: layer.op, k: layer.layer, logits: result.layers.some((l) => l.same_as === layer.name) })
        : t(`inside.textLayer.${layer.op}`, { layer: layer.name });
      const figure = el("figure", { className: "layer" },
        el("figcaption", {}, el("b", { textContent: title }), ` · ${t("inside.unitsByChars", { units, T, byVocab })} `, legend("diverging", max)));
      figure.dataset.layer = layer.name;
      for (let start = 0; start < T; start += perLine) {
        const n = Math.min(perLine, T - start);
        const canvas = el("canvas", { width: n, height: units, className: "heat" });
        canvas.style.width = `${n * colW}px`;
        canvas.style.height = `${units * unitH}px`;
        canvas.dataset.start = String(start);
        const pixels = new ImageData(n, units);
        for (let c = 0; c < n; c++) {
          for (let u = 0; u < units; u++) {
            const [r, g, b] = diverging(layer.data[(start + c) * units + u], max);
            const o = 4 * (u * n + c);
            pixels.data[o] = r; pixels.data[o + 1] = g; pixels.data[o + 2] = b; pixels.data[o + 3] = 255;
          }
        }
        canvas.getContext("2d").putImageData(pixels, 0, 0);
        const header = el("div", { className: "heat-chars" }, ...chars.slice(start, start + n).map((ch, c) => {
          const span = el("span", { textContent: visible(ch), style: `width:${colW}px` });
          span.dataset.t = String(start + c);
          return span;
        }));
        const labels = el("div", { className: "heat-units", style: `width:${labelW}px` },
          ...rowLabels.map((label) => el("span", { textContent: label, style: `height:${unitH}px;line-height:${unitH}px;font-size:${Math.min(10, unitH - 1)}px` })));
        const cells = el("div", { className: "heat-cells" }, canvas);
        const row = el("div", { className: "heat-row", style: `grid-template-columns:${labelW}px auto` }, el("span"), header, labels, cells);
        figure.append(row);
        canvas.addEventListener("pointermove", (event) => { if (event.pointerType === "mouse") pick(event, canvas, i, units, start, n); });
        canvas.addEventListener("pointerdown", async (event) => { await pick(event, canvas, i, units, start, n); reveal(canvas, detail); });
      }
      box.append(figure);
    });
    root.dataset.layers = String(result.layers.length);
    if (picked) mark(...picked);
  }

  function pick(event, canvas, i, units, start, n) {
    const rect = canvas.getBoundingClientRect();
    const c = Math.min(n - 1, Math.max(0, Math.floor(((event.clientX - rect.left) / rect.width) * n)));
    const u = Math.min(units - 1, Math.max(0, Math.floor(((event.clientY - rect.top) / rect.height) * units)));
    return select(i, start + c, u);
  }

  /** The marker on the picked cell: a ring over that column and row of the line holding position `pos`. */
  function mark(i, pos, u) {
    for (const old of box.querySelectorAll(".heat-marker")) old.remove();
    const layer = current.layers[i];
    const figure = box.querySelector(`figure.layer[data-layer='${layer.same_as ?? layer.name}']`);
    const canvas = [...(figure?.querySelectorAll("canvas.heat") ?? [])].find((c) => pos >= Number(c.dataset.start) && pos < Number(c.dataset.start) + c.width);
    if (!canvas) return;
    const colW = parseFloat(canvas.style.width) / canvas.width, unitH = parseFloat(canvas.style.height) / canvas.height;
    canvas.parentElement.append(el("div", { className: "heat-marker",
      style: `left:${(pos - Number(canvas.dataset.start)) * colW}px;top:${u * unitH}px;width:${colW}px;height:${unitH}px` }));
  }

  async function select(i, pos, u) {
    if (!current) return;
    picked = [i, pos, u];
    mark(i, pos, u);
    let failed = null;
    const weights = await zoo.weights(model).catch((e) => { failed = e; return null; });
    if (!picked || picked.join() !== [i, pos, u].join()) return;
    panel.explain.replaceChildren(...explainText(current.layers, i, pos, u, weights, chars, zoo.entry(model)), ...weightsFailure(failed));
    panel.open();
    detail.dataset.layer = current.layers[i].name;
    detail.dataset.cell = JSON.stringify([pos, u]);
  }

  return {
    update,
    select,
    relabel() {
      if (!current) return;
      render();
      if (picked) select(...picked);
      else panel.explain.replaceChildren(el("p", { textContent: t("inside.textPrompt") }));
    },
  };
}

const sigmoid = (v) => 1 / (1 + Math.exp(-v));

/** The sentence saying why the written-out arithmetic has no weights (a file missing or altered), or nothing. */
const weightsFailure = (error) =>
  error ? [Object.assign(document.createElement("p"), { className: "error", textContent: MESSAGES.weightsFailed(error.message) })] : [];

function explainText(layers, i, pos, u, weights, chars, entry) {
  const layer = layers[i], size = layer.shape[0];
  const value = layer.data[pos * size + u];
  const c = visible(chars[pos]);
  const out = [el("h4", { textContent: t("inside.textWhere", { layer: layer.name, u, c, pos, value: fmt(value, 4) }) })];
  const line = (text, cls = "") => el("p", { className: cls, textContent: text });
  const computed = (v) => t("inside.computed", { value: fmt(value, 4), sum: fmt(v, 4) });
  if (layer.op === "OneHot") return [...out, line(t("inside.oneHot", { c, index: entry.vocab.indexOf(chars[pos]) }))];
  if (layer.op === "Softmax") {
    const next = chars[pos + 1];
    out.push(line(t("inside.nextProbability", { c: visible(entry.vocab[u]), p: fmt(value, 4) })));
    if (next !== undefined && entry.vocab.includes(next)) {
      const p = layer.data[pos * size + entry.vocab.indexOf(next)];
      out.push(line(t("inside.charCrossEntropy", { c: visible(next), p: fmt(p, 4), loss: fmt(-Math.log(p), 4) }), "sum"));
    }
    return out;
  }
  if (layer.op === "Linear") return [...out, line(t("inside.textLogit", { c: visible(entry.vocab[u]) }))];
  const k = layer.layer, get = (key) => weights?.[layer.params?.[key]];
  const [Wih, Whh, bih, bhh] = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map(get);
  if (!Wih) return [...out, line(t("inside.loadingWeights"))];
  const below = layers.find((l) => (k === 0 ? l.op === "OneHot" : l.layer === k - 1 && !l.same_as && (l.op === "RNN" || l.op === "GRU")));
  const H = size, I = below.shape[0];
  const x = Array.from(below.data.subarray(pos * I, (pos + 1) * I));
  const h = pos === 0 ? new Array(H).fill(0) : Array.from(layer.data.subarray((pos - 1) * H, pos * H));
  const dot = (M, row, v) => v.reduce((a, vj, j) => a + M.data[row * v.length + j] * vj, 0);
  if (layer.op === "RNN") {
    const a = dot(Wih, u, x), b1 = bih.data[u], r = dot(Whh, u, h), b2 = bhh.data[u];
    const b = b1 + b2, pre = a + r + b;
    const xTerm = k === 0 ? `W_xh[${u}, '${c}']` : `W_xh[${u},·]·h${k - 1}_t`;
    out.push(line("h_t = tanh(W_xh x_t + W_hh h_t−1 + b)", "formula-line"));
    out.push(line(`${xTerm} = ${fmt(a, 4)};  W_hh[${u},·]·h_t−1 = ${fmt(r, 4)};  ` +
      `b[${u}] = b_ih + b_hh = ${fmt(b1, 4)} ${signed(b2, 4)} = ${fmt(b, 4)}`, "mono"));
    out.push(checked(line(`tanh(${fmt(a, 4)} ${signed(r, 4)} ${signed(b, 4)}) = tanh(${fmt(pre, 4)}) = ${fmt(Math.tanh(pre), 4)}   ` +
      computed(Math.tanh(pre)), "sum"), Math.tanh(pre), value));
    out.push(line(t("inside.twoBiases")));
    out.push(line(k === 0 ? t("inside.oneHotColumn") : t("inside.upperLayer", { k })));
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
    out.push(line(t("inside.gru")));
    out.push(line(`r = σ(${fmt(r.ix, 3)} ${signed(r.hh, 3)}) = ${fmt(r.value, 4)};  z = σ(${fmt(z.ix, 3)} ${signed(z.hh, 3)}) = ${fmt(z.value, 4)}`, "mono"));
    out.push(line(`n = tanh(${fmt(nx, 3)} + ${fmt(r.value, 3)} × ${num(nh, 3)}) = ${fmt(n, 4)}`, "mono"));
    out.push(checked(line(`h_t = (1 − ${fmt(z.value, 3)}) × ${num(n, 4)} + ${fmt(z.value, 3)} × ${num(h[u], 4)} = ${fmt(hNew, 4)}   ` +
      computed(hNew), "sum"), hNew, value));
  }
  return out;
}
