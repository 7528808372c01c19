// zoo.js: the lecture-zoo models in the browser, on onnxruntime-web (wasm). No bundler needed:
//
//   import { loadZoo } from "./zoo.js";
//   const zoo = await loadZoo();                        // reads models/manifest.json next to this file
//   const { label, confidences, frame, ink } = await zoo.classifyDigit(canvas);
//   const { predicted, top } = await zoo.predictText("hihello", "hihell");   // predicted: "ihello"
//   await zoo.generateText("longseq", "if you wan", 170);                    // the whole sentence
//   const { layers } = await zoo.inspectDigit(canvas, "cnn-bn");              // every layer, as computed
//   const { layers: states } = await zoo.inspectText("hihello", "hihell");    // every hidden state
//   const { layers: then } = await zoo.inspectDigit(canvas, "cnn", { epoch: 1 }); // as it was after epoch 1
//   const start = await zoo.trainingFile();     // circles' initial weights and data, for train.js
//
// The manifest is the contract, as for the Python demo (demo/runtime.py): a model is fetched only when it
// is first used, its sha256 checked against the manifest before onnxruntime sees it, and every error says
// what was wrong in the Python demo's words. The digit models used are the "canvas" ones: ImageData in
// (uint8 RGBA, any size), the MNIST preprocessing inside the graph, so this file computes no pixels.
import * as ort from "./ort/ort.wasm.min.mjs";
import { MESSAGES } from "./messages.js";
import { ortProblem } from "./ortfiles.js";

export { ort };

export const MAX_TEXT = 1000; // characters predictText accepts (demo/runtime.py MAX_TEXT)
export const MAX_GENERATE = 1000; // characters generateText may add (MAX_GENERATE)
export const MAX_TEMPERATURE = 5.0;
export const BLANK_MESSAGE =
  "No ink found: the image is blank, nearly uniform or only noise. Draw a digit, or upload a picture of one.";
export const SPECK_MESSAGE = "Only a speck of ink was found. Draw a digit (bigger), or upload a picture of one.";
const BLANK_CONTRAST = 0.12; // the canvas models' threshold: peak ink contrast below it means blank

/** Read `manifest.json` from `baseUrl` (default: the models/ folder beside this module). */
export async function loadZoo(baseUrl = new URL("./models/", import.meta.url), { threads } = {}) {
  configureRuntime(threads);
  const base = new URL(baseUrl, globalThis.location?.href);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  const manifestUrl = new URL("manifest.json", base);
  const response = await fetch(manifestUrl);
  if (!response.ok) {
    throw new Error(`no manifest at ${manifestUrl} (HTTP ${response.status}): point loadZoo at a folder made by \`python -m export all\``);
  }
  return new Zoo(base, manifestUrl, await response.json());
}

let configured = false;
function configureRuntime(threads) {
  if (configured) return; // onnxruntime-web takes its settings once, before the first session
  configured = true;
  ort.env.wasm.wasmPaths = new URL("./ort/", import.meta.url).href; // served beside this file, never a CDN
  // One thread unless asked: measured on a 2-core machine (README, "The browser page"), a second wasm thread
  // made a 28x28 model slower. More threads need a cross-origin isolated page (COOP/COEP headers).
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.floor(threads ?? 1)) : 1;
  ort.env.wasm.proxy = false; // a 28x28 model runs in a few ms: a worker round trip would cost more than it saves
}

export class Zoo {
  constructor(base, manifestUrl, manifest) {
    this.base = base;
    this.manifestUrl = manifestUrl;
    this.entries = manifest.models;
    this.byName = new Map(this.entries.map((e) => [e.name, e]));
    this.sessions = new Map(); // name -> Promise<InferenceSession>
    this.weightFiles = new Map(); // model -> Promise of its probe's weights (the Inside view's arithmetic)
    this.replays = new Map(); // model -> Promise of its training run's weights per epoch
    this.threads = ort.env.wasm.numThreads;
  }

  // ---------------------------------------------------------------- lists

  /** Digit models (canvas kind), most accurate first, float before int8 on a tie; named by base model. */
  digitModels() {
    const canvas = this.entries.filter((e) => e.kind === "canvas" && e.task === "digits");
    const isInt8 = (e) => (this.byName.get(e.base_model)?.kind ?? (e.base_model.endsWith("-int8") ? "int8" : "full")) === "int8";
    return canvas
      .map((e, i) => ({ e, i }))
      .sort((a, b) => b.e.metrics.test_accuracy - a.e.metrics.test_accuracy || isInt8(a.e) - isInt8(b.e) || a.i - b.i)
      .map(({ e }) => ({ name: e.base_model, canvas: e.name, accuracy: e.metrics.test_accuracy, dataset: e.metrics.dataset, kind: isInt8(e) ? "int8" : "full", bytes: e.bytes }));
  }

  /** The default digit model: the most accurate canvas model. */
  get bestDigitModel() {
    return this.digitModels()[0]?.name;
  }

  /** Text models (full kind, with their step models for generation), in manifest order. */
  textModels() {
    return this.entries.filter((e) => e.task === "text" && e.kind === "full").map((e) => e.name);
  }

  entry(name) {
    return this.byName.get(name);
  }

  // ---------------------------------------------------------------- sessions

  /** The session of manifest entry `name`: fetched once, sha256-checked, then created. */
  session(name) {
    return once(this.sessions, name, async () => {
      const entry = this.byName.get(name);
      const bytes = await this.#fetchChecked(entry.file, entry.sha256);
      try {
        return await exclusive(() => ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" }));
      } catch (error) { // the first session also loads onnxruntime-web's wasm: say which file is missing, if one is
        throw new Error((await ortProblem(new URL("./ort/", import.meta.url))) ?? MESSAGES.sessionFailed(name, error.message));
      }
    });
  }

  /** The bytes of a file the manifest lists, after checking them against its sha256 (nothing unchecked is used). */
  async #fetchChecked(file, expected) {
    const url = new URL(file, this.base);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url.pathname} is listed in ${this.manifestUrl.pathname} but missing (HTTP ${response.status})`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if ((await sha256(bytes)) !== expected) {
      throw new Error(`${url.pathname} does not match the sha256 in ${this.manifestUrl.pathname}: altered or corrupted; refusing to serve it`);
    }
    return bytes;
  }

  /** session.run for entry `name`, after every run already asked for, of any session (see `exclusive`). */
  async run(name, feeds) {
    const session = await this.session(name);
    return exclusive(() => session.run(feeds));
  }

  // ---------------------------------------------------------------- digits

  #digitEntry(model) {
    const name = model ?? this.bestDigitModel;
    const entry = this.entries.find((e) => e.kind === "canvas" && e.task === "digits" && (e.base_model === name || e.name === name));
    if (!entry) {
      const known = this.entries.filter((e) => e.kind === "canvas" && e.task === "digits").map((e) => e.base_model).join(", ");
      throw new Error(`Unknown model ${pyRepr(name)}. Choose one of: ${known}.`);
    }
    return entry;
  }

  /** Load (and warm up) a digit model before the first drawing, so the first stroke is answered at once. */
  async prepareDigitModel(model) {
    const entry = this.#digitEntry(model);
    await this.classifyDigit({ data: new Uint8ClampedArray(4 * 28 * 28), width: 28, height: 28 }, entry.name);
    return entry.base_model;
  }

  /**
   * An ImageData (or a canvas, or {data, width, height} with RGBA bytes) -> {label, confidences (all ten,
   * most likely first), frame (Float32Array of 28x28, what the model saw, 0..1 white ink on black), ink,
   * contrast, message, model, ms}. A blank canvas gives ink: false, label: null and the message to show.
   */
  async classifyDigit(imageData, model) {
    const entry = this.#digitEntry(model);
    await this.session(entry.name); // loading is not part of `ms`
    const started = performance.now();
    const out = await this.run(entry.name, { image: imageTensor(imageData) });
    return { ...digitAnswer(entry, out, entry.base_model), ms: performance.now() - started };
  }

  // ---------------------------------------------------------------- inside: the probe models

  /** The probe entry (kind "probe") of a model, or null: float digit models, text models and circles have one. */
  probeEntry(model) {
    return this.entries.find((e) => e.kind === "probe" && e.base_model === model) ?? null;
  }

  /** The digit models the Inside view can show (those with a probe model), in digitModels() order. */
  inspectableDigitModels() {
    return this.digitModels().filter((m) => this.probeEntry(m.name)).map((m) => m.name);
  }

  /**
   * The tensors a probe's `weights` file lists (kernels, biases, BatchNorm's scale and shift, RNN matrices),
   * as {name: {data: Float32Array, shape}}: fetched once, when first asked for, sha256-checked.
   */
  weights(model) {
    const probe = this.probeEntry(model);
    if (!probe?.weights) return Promise.reject(new Error(`${model} has no probe model with weights in the manifest.`));
    return once(this.weightFiles, model, async () => {
      const bytes = await this.#fetchChecked(probe.weights.file, probe.weights.sha256);
      const tensors = {};
      for (const [name, t] of Object.entries(probe.weights.tensors)) {
        tensors[name] = { data: new Float32Array(bytes.buffer.slice(t.offset, t.offset + 4 * t.length)), shape: t.shape };
      }
      return tensors;
    });
  }

  #layers(probe, out) {
    return probe.layers.map((layer) => {
      const tensor = out[layer.name];
      return { ...layer, data: tensor.data, dims: tensor.dims };
    });
  }

  /**
   * What classifyDigit returns, plus `layers`: every layer of the network for this picture, in the order it
   * computes them ([{name, module, op, shape, data: Float32Array, kernel, stride, padding, params, ...}];
   * the first is the 28x28 frame, the input). One call of the probe model (fetched when first used), which
   * holds the recipe, the model and every layer's output. Float digit models only (see inspectableDigitModels).
   */
  async inspectDigit(imageData, model, { epoch } = {}) {
    const name = model ?? this.bestDigitModel;
    const probe = this.probeEntry(name);
    if (!probe || probe.task !== "digits") {
      throw new Error(`${pyRepr(name)} has no probe model: the Inside view shows ${this.inspectableDigitModels().join(", ")}.`);
    }
    if (epoch !== undefined && epoch !== null) return this.#inspectAtEpoch(imageData, name, probe, epoch);
    const canvasEntry = this.byName.get(probe.canvas_model);
    await this.session(probe.name);
    const started = performance.now();
    const out = await this.run(probe.name, { image: imageTensor(imageData) });
    const answer = digitAnswer(canvasEntry ?? probe, out, name);
    return { ...answer, layers: this.#layers(probe, out), probe: probe.name, ms: performance.now() - started };
  }

  // ---------------------------------------------------------------- replay: the training, epoch by epoch

  /** The replay entry (kind "replay") of a digit model, or null: the models whose run kept every epoch's weights. */
  replayEntry(model) {
    return this.entries.find((e) => e.kind === "replay" && e.base_model === model) ?? null;
  }

  /**
   * Every epoch's weights of `model`'s training run (the replay's float16 `epochs` file, fetched once when first
   * asked for, sha256-checked): {count, history (the training log: train_loss, val_loss, val_accuracy,
   * test_loss, test_accuracy per epoch), feeds(epoch) (the float16 tensors the replay graph takes), tensor(epoch,
   * name) ({data: Float32Array, shape})}. Epochs count from 1.
   */
  replay(model) {
    const entry = this.replayEntry(model);
    if (!entry) return Promise.reject(new Error(`${model} has no replay in the manifest (its training run kept no snapshots).`));
    return once(this.replays, model, async () => {
      const info = entry.epochs;
      const halves = new Uint16Array((await this.#fetchChecked(info.file, info.sha256)).buffer); // little-endian hosts
      const check = (epoch) => {
        if (!(Number.isInteger(epoch) && epoch >= 1 && epoch <= info.count)) throw new Error(`epoch must be 1 to ${info.count}; got ${pyRepr(epoch)}`);
        return (epoch - 1) * info.parameters;
      };
      const slice = (epoch, t) => halves.subarray(check(epoch) + t.offset, check(epoch) + t.offset + t.length);
      return {
        count: info.count,
        history: entry.history,
        feeds: (epoch) => Object.fromEntries(Object.entries(info.tensors).map(([name, t]) => [name, new ort.Tensor("float16", slice(epoch, t), t.shape)])),
        tensor: (epoch, name) => ({ data: Float32Array.from(slice(epoch, info.tensors[name]), halfToFloat), shape: info.tensors[name].shape }),
      };
    });
  }

  async #inspectAtEpoch(imageData, name, probe, epoch) {
    const entry = this.replayEntry(name);
    if (!entry) throw new Error(`${pyRepr(name)} has no replay: its training run kept no weights per epoch.`);
    const replay = await this.replay(name);
    await this.session(entry.name);
    const started = performance.now();
    const out = await this.run(entry.name, { image: imageTensor(imageData), ...replay.feeds(epoch) });
    const answer = digitAnswer(entry, out, name);
    return { ...answer, layers: this.#layers(probe, out), probe: entry.name, epoch, ms: performance.now() - started };
  }

  /**
   * What predictText returns, plus `layers`: for every position of `text`, the one-hot input, every RNN/GRU
   * layer's hidden state, the logits and the probabilities ([{name, module, op, layer, shape, data, dims:
   * [1, T, size]}]), from one call of the text model's probe.
   */
  async inspectText(model, text) {
    const entry = this.#textEntry(model);
    const probe = this.probeEntry(entry.name);
    if (!probe) throw new Error(`${entry.name} has no probe model in the manifest; re-export it with python -m export probes`);
    const indices = this.#encode(entry, text, "text");
    await this.session(probe.name);
    const started = performance.now();
    const out = await this.run(probe.name, { indices: new ort.Tensor("int64", indices, [1, indices.length]) });
    return { ...textAnswer(entry, out.probabilities.data, indices.length), layers: this.#layers(probe, out), probe: probe.name,
      ms: performance.now() - started };
  }

  // ---------------------------------------------------------------- points: circles, and its training file

  /** P(inner circle) from the shipped circles model for points [[x, y], ...]: a Float32Array, one per point. */
  async classifyPoints(points, model = "circles") {
    const entry = this.byName.get(model);
    if (!entry || entry.task !== "points") throw new Error(`Unknown model ${pyRepr(model)}: the points model is circles.`);
    const flat = Float32Array.from(points.flat());
    const out = await this.run(entry.name, { points: new ort.Tensor("float32", flat, [points.length, 2]) });
    return out.probability.data;
  }

  /** The circles run's start (initial weights, training and held-out points, recipe, PyTorch's history) that
   * `python -m export` lists as `training` on the circles entry, sha256-checked; null when the manifest has none
   * (a model exported before the run kept its start). */
  async trainingFile(model = "circles") {
    const info = this.byName.get(model)?.training;
    if (!info) return null;
    const bytes = await this.#fetchChecked(info.file, info.sha256);
    return JSON.parse(new TextDecoder().decode(bytes));
  }


  // ---------------------------------------------------------------- text

  #textEntry(name) {
    const entry = this.byName.get(name);
    if (!entry || entry.task !== "text" || !["full", "int8"].includes(entry.kind)) {
      const known = this.entries.filter((e) => e.task === "text" && ["full", "int8"].includes(e.kind)).map((e) => e.name).join(", ");
      throw new Error(`Unknown model ${pyRepr(name)}. Choose one of: ${known}.`);
    }
    return entry;
  }

  #encode(entry, text, what) {
    const allowed = entry.vocab.map(pyRepr).join(" ");
    if (typeof text !== "string" || text === "") throw new Error(`The ${what} is empty. Type at least one character of: ${allowed}.`);
    const chars = [...text]; // code points, as Python counts them
    if (chars.length > MAX_TEXT) throw new Error(`The ${what} is ${thousands(chars.length)} characters long; the limit is ${thousands(MAX_TEXT)}.`);
    const index = new Map(entry.vocab.map((c, i) => [c, i]));
    const unknown = [...new Set(chars.filter((c) => !index.has(c)))].sort(byCodePoint);
    if (unknown.length) throw new Error(`${entry.name} does not know the characters ${unknown.map(pyRepr).join(", ")}. It knows only: ${allowed}.`);
    return BigInt64Array.from(chars, (c) => BigInt(index.get(c)));
  }

  /**
   * The next-character prediction at every position of `text`: {predicted (same length as text), top
   * ([{char, probability}] x3 per position), ms}.
   */
  async predictText(model, text) {
    const entry = this.#textEntry(model);
    const indices = this.#encode(entry, text, "text");
    await this.session(entry.name);
    const started = performance.now();
    const out = await this.run(entry.name, { indices: new ort.Tensor("int64", indices, [1, indices.length]) });
    return { ...textAnswer(entry, out.probabilities.data, indices.length), ms: performance.now() - started };
  }

  /**
   * `prefix` followed by `length` characters from the step model, one call per character: greedy at
   * temperature 0 (the Python demo's path, character for character), else sampled with `seed`.
   */
  async generateText(model, prefix, length, temperature = 0, seed = 0) {
    const entry = this.#textEntry(model);
    const step = this.byName.get(`${entry.run}-step`);
    if (!step) throw new Error(`${model} has no step model in the manifest; re-export it with python -m export ${model}`);
    if (typeof length !== "number" || !Number.isInteger(length)) {
      throw new Error(`The length must be a whole number from 1 to ${thousands(MAX_GENERATE)}; got ${pyRepr(length)}.`);
    }
    if (!(1 <= length && length <= MAX_GENERATE)) {
      throw new Error(`The length must be from 1 to ${thousands(MAX_GENERATE)} characters; got ${thousands(length)}.`);
    }
    if (typeof temperature !== "number" || !(0 <= temperature && temperature <= MAX_TEMPERATURE)) {
      throw new Error(`The temperature must be a number from 0 (greedy) to ${formatG(MAX_TEMPERATURE)}; got ${typeof temperature === "number" ? formatG(temperature) : pyRepr(temperature)}.`);
    }
    const indices = this.#encode(entry, prefix, "prefix");
    const [inIndex, inHidden] = Object.keys(step.inputs);
    const [outLogits, , outHidden] = Object.keys(step.outputs);
    let hidden = new ort.Tensor("float32", new Float32Array(step.layers * step.hidden_size), [step.layers, 1, step.hidden_size]);
    let logits;
    const advance = async (index) => {
      const out = await this.run(step.name, { [inIndex]: new ort.Tensor("int64", BigInt64Array.of(BigInt(index)), [1]), [inHidden]: hidden });
      logits = out[outLogits].data;
      hidden = out[outHidden];
    };
    for (const index of indices) await advance(index); // read the prefix
    const random = mulberry32(seed);
    let generated = "";
    for (let i = 0; i < length; i++) {
      const index = temperature === 0 ? argmax(logits) : sample(logits, temperature, random);
      generated += step.vocab[index];
      await advance(index);
    }
    return prefix + generated;
  }
}

// ------------------------------------------------------------------ helpers

// One queue for everything that enters onnxruntime-web's WebAssembly instance: creating a session and running
// one. Every session of the page (and of every Zoo) lives in that one instance, and a run is not atomic: it
// reserves its tables of input and output names on the instance's stack (stackAlloc), awaits, then calls
// OrtRun and restores the stack. A second run started in that gap, of any session (a warm-up, another tab,
// the Inside view), moves the same stack pointer; whichever finishes first restores it over the other's
// tables, which OrtRun then overwrites: "output name cannot be empty", "Cannot read properties of null".
// A queue per session (what this file had) cannot prevent that. Outputs need no copying: onnxruntime-web
// copies every output out of the wasm memory before run() resolves.
let wasmQueue = Promise.resolve();
export function exclusive(task) {
  const result = wasmQueue.then(task);
  wasmQueue = result.catch(() => {});
  return result;
}

/** A canvas (or probe) model's outputs as the answer classifyDigit gives. */
function digitAnswer(entry, out, model) {
  const probabilities = out.probabilities.data;
  const ink = Boolean(out.ink.data[0]);
  const contrast = out.contrast.data[0];
  const labels = entry.labels ?? Array.from(probabilities, (_, k) => String(k));
  const confidences = Array.from(labels, (label, k) => ({ label, confidence: probabilities[k] })).sort((a, b) => b.confidence - a.confidence);
  return {
    label: ink ? confidences[0].label : null,
    confidences: ink ? confidences : [],
    frame: out.frame.data,
    ink,
    contrast,
    message: ink ? null : contrast < BLANK_CONTRAST ? BLANK_MESSAGE : SPECK_MESSAGE,
    model,
  };
}

/** Probabilities [1, T, V] as predictText's answer: the argmax at every position and the top 3. */
function textAnswer(entry, probabilities, length) {
  const V = entry.vocab.length;
  let predicted = "";
  const top = [];
  for (let t = 0; t < length; t++) {
    const row = probabilities.subarray(t * V, (t + 1) * V);
    predicted += entry.vocab[argmax(row)];
    top.push([...row].map((p, k) => ({ char: entry.vocab[k], probability: p })).sort((a, b) => b.probability - a.probability).slice(0, 3));
  }
  // every probability too ([length x V], row t the next character after position t): the Text tab's
  // cross-entropy needs the true next character's, which is often outside the top 3
  return { predicted, top, probabilities: probabilities.subarray(0, length * V) };
}

/** A canvas model's input: the picture's RGBA bytes as uint8 [H, W, 4], not copied. */
function imageTensor(source) {
  const image = toImageData(source);
  return new ort.Tensor("uint8", new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength), [image.height, image.width, 4]);
}

/** `promise = make()` kept in `cache` under `key`: made once, and made again on the next call if it failed. */
function once(cache, key, make) {
  if (!cache.has(key)) {
    const promise = make();
    promise.catch(() => cache.delete(key)); // a failed load is retried on the next call
    cache.set(key, promise);
  }
  return cache.get(key);
}

function toImageData(source) {
  if (source && typeof source.getContext === "function") {
    const context = source.getContext("2d", { willReadFrequently: true });
    return context.getImageData(0, 0, source.width, source.height);
  }
  if (!source || !source.data || !(source.width >= 1) || !(source.height >= 1) || source.data.length !== source.width * source.height * 4) {
    throw new Error("classifyDigit takes an ImageData, a canvas, or {data, width, height} with 4 bytes (RGBA) per pixel.");
  }
  return source;
}

/** An IEEE 754 half (as its 16 bits) -> a number. */
function halfToFloat(bits) {
  const exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff, sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function argmax(values) {
  let best = 0; // the first of equal maxima, as numpy's argmax
  for (let k = 1; k < values.length; k++) if (values[k] > values[best]) best = k;
  return best;
}

function sample(logits, temperature, random) {
  const max = Math.max(...logits);
  const p = Array.from(logits, (l) => Math.exp((l - max) / temperature));
  let r = random() * p.reduce((a, b) => a + b, 0);
  for (let k = 0; k < p.length; k++) if ((r -= p[k]) < 0) return k;
  return p.length - 1;
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const byCodePoint = (a, b) => a.codePointAt(0) - b.codePointAt(0);
const thousands = (n) => n.toLocaleString("en-US", { maximumFractionDigits: 20 }); // Python's {n:,}

/** Python's repr() for what the error messages quote: strings, numbers, None. */
export function pyRepr(value) {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") return Number.isNaN(value) ? "nan" : value === Infinity ? "inf" : value === -Infinity ? "-inf" : String(value);
  if (typeof value !== "string") return String(value);
  const escaped = [...value].map((c) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c] ?? (c < " " || c === "\x7f" ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}` : c)).join("");
  if (value.includes("'") && !value.includes('"')) return `"${escaped}"`;
  return `'${escaped.replaceAll("'", "\\'")}'`;
}

/** Python's format(x, "g"): 6 significant digits, trailing zeros dropped, exponent below 1e-4 or from 1e6. */
export function formatG(x) {
  if (typeof x !== "number") return String(x);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mantissa, exp] = x.toExponential(5).split("e");
  const e = Number(exp);
  const strip = (s) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
  if (e < -4 || e >= 6) return `${strip(mantissa)}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  return strip(x.toFixed(5 - e));
}

/** Hex sha256 of bytes: Web Crypto where the page is a secure context (https, localhost), else plain JS. */
export async function sha256(bytes) {
  if (globalThis.crypto?.subtle) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  return sha256Js(bytes);
}

// FIPS 180-4, for pages served over plain http from another machine (no crypto.subtle there).
function sha256Js(bytes) {
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  const H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const padded = new Uint8Array(Math.ceil((bytes.length + 9) / 64) * 64);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bytes.length / 0x20000000));
  view.setUint32(padded.length - 4, (bytes.length << 3) >>> 0);
  const W = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let t = 0; t < 16; t++) W[t] = view.getUint32(offset + 4 * t);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(W[t - 15], 7) ^ rotr(W[t - 15], 18) ^ (W[t - 15] >>> 3);
      const s1 = rotr(W[t - 2], 17) ^ rotr(W[t - 2], 19) ^ (W[t - 2] >>> 10);
      W[t] = W[t - 16] + s0 + W[t - 7] + s1;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let t = 0; t < 64; t++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + W[t]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      [h, g, f, e, d, c, b, a] = [g, f, e, (d + t1) >>> 0, c, b, a, (t1 + t2) >>> 0];
    }
    [a, b, c, d, e, f, g, h].forEach((v, i) => (H[i] = (H[i] + v) >>> 0));
  }
  return Array.from(H, (v) => v.toString(16).padStart(8, "0")).join("");
}
