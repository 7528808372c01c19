// train-models.js: the lecture models trained by their training-step files (`<model>-train-<optimizer>.onnx`,
// written by `python -m export train` and proven step for step against PyTorch by `python -m export --check`),
// in any onnxruntime: onnxruntime-web in the page, onnxruntime-node in tests/node/train_steps.mjs.
//
//   const trainer = await StepTrainer.create(ort, entry, { model: bytesOfOnnx, start: bytesOfStartFile });
//   const { loss, accuracy, predicted } = await trainer.step({ x, y, masks, lr: 0.1 });
//
// The caller owns the loop: the data order, the dropout masks (drawn from a seeded generator: `rng`) and the
// schedule. A step is one session run: parameters, optimiser state, batch, masks and hyperparameters in; the
// batch's loss and accuracy (before the update), the argmax at every position, the new parameters and state out.

/** The start file's tensors (float32 little-endian, laid out as `weights.tensors` says): name -> Float32Array. */
export function readStart(weights, bytes) {
  const buffer = bytes instanceof ArrayBuffer ? bytes : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const out = {};
  for (const [name, t] of Object.entries(weights.tensors)) {
    out[name] = { data: new Float32Array(buffer.slice(t.offset, t.offset + 4 * t.length)), shape: t.shape };
  }
  return out;
}

/** mnist-5k's training file (`training` on a digit model's train entry): images uint8 [n, 784], labels uint8 [n]. */
export function readDigits(training, bytes) {
  const u8 = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  const part = (key) => u8.subarray(training.parts[key].offset, training.parts[key].offset + training.parts[key].length);
  return {
    train: { images: part("train_images"), labels: part("train_labels"), count: training.parts.train_labels.length },
    val: { images: part("val_images"), labels: part("val_labels"), count: training.parts.val_labels.length },
  };
}

/** A small seeded generator (mulberry32): uniform floats in [0, 1), the same sequence in every browser. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A shuffled order of 0..n-1 (Fisher-Yates with `random`). */
export function shuffled(n, random) {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Dropout masks for a batch of n (`entry.masks`: name -> {p, shape ["N", ...]}): 0 or 1/(1-p); ones to evaluate. */
export function drawMasks(entry, n, random, { evaluate = false } = {}) {
  const masks = {};
  for (const [name, { p, shape }] of Object.entries(entry.masks ?? {})) {
    const dims = [n, ...shape.slice(1)];
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = evaluate || random() >= p ? (evaluate ? 1 : 1 / (1 - p)) : 0;
    masks[name] = { data, shape: dims };
  }
  return masks;
}

export class StepTrainer {
  /** `files`: {model: the .onnx bytes, start: the start file's bytes}; `options`: onnxruntime session options. */
  static async create(ort, entry, files, options = {}) {
    const session = await ort.InferenceSession.create(files.model, { executionProviders: ["wasm"], ...options });
    return new StepTrainer(ort, session, entry, readStart(entry.weights, files.start));
  }

  constructor(ort, session, entry, start) {
    this.ort = ort;
    this.session = session;
    this.entry = entry;
    this.start = start;
    // how a run enters the runtime: the page queues it behind every other run of onnxruntime-web's one
    // WebAssembly instance (zoo.js `exclusive`), so that its Inside view can run between two steps
    this.queue = (task) => task();
    this.reset();
  }

  /** Back to the start file's weights, the optimiser's state at zero, step 0. */
  reset() {
    this.params = Object.fromEntries(Object.entries(this.start).map(([k, t]) => [k, new this.ort.Tensor("float32", t.data.slice(), t.shape)]));
    this.state = {};
    for (const [k, t] of Object.entries(this.start)) {
      for (const s of this.entry.state) this.state[`${s}.${k}`] = new this.ort.Tensor("float32", new Float32Array(t.data.length), t.shape);
    }
    this.steps = 0;
  }

  /** Hyperparameters as the file takes them: the entry's defaults, then `overrides` (lr, momentum, ...). */
  hyper(overrides = {}) {
    const values = { ...this.entry.hyperparameters, ...overrides, step: this.steps + 1 };
    return Object.fromEntries(Object.keys(this.entry.hyperparameters).map((k) => [k, new this.ort.Tensor("float32", Float32Array.of(values[k]), [])]));
  }

  /** One step. x: {data, shape} (float32 images or int64 indices as BigInt64Array), y likewise (int64). */
  async step({ x, y, masks = {}, ...hyper }, { update = true } = {}) {
    const tensor = (t, type) => new this.ort.Tensor(type, t.data, t.shape);
    const feeds = {
      ...this.params,
      ...this.state,
      x: tensor(x, x.data instanceof BigInt64Array ? "int64" : "float32"),
      y: tensor(y, "int64"),
      ...Object.fromEntries(Object.entries(masks).map(([k, m]) => [k, tensor(m, "float32")])),
      ...this.hyper(hyper),
    };
    const out = await this.queue(() => this.session.run(feeds));
    if (update) {
      for (const k of Object.keys(this.params)) this.params[k] = out[`new.${k}`];
      for (const k of Object.keys(this.state)) this.state[k] = out[`new.${k}`];
      this.steps += 1;
    }
    return { loss: out.loss.data[0], accuracy: out.accuracy.data[0], predicted: out.predicted.data, predictedShape: out.predicted.dims };
  }

  /** The loss, accuracy and predictions of a batch with the current weights, nothing updated (masks all ones). */
  async evaluate({ x, y }) {
    return this.step({ x, y, masks: drawMasks(this.entry, x.shape[0], null, { evaluate: true }), lr: 0 }, { update: false });
  }

  /** The current weights: name -> Float32Array (a copy). */
  weights() {
    return Object.fromEntries(Object.entries(this.params).map(([k, t]) => [k, Float32Array.from(t.data)]));
  }
}
