// train.js: the two-circles net of the lecture (2 -> H -> 1, binary cross-entropy), trained here, in float64.
//
//   import { trainCircles, fromTrainingFile, LECTURE } from "./train.js";
//   const { data, init } = fromTrainingFile(file, { points: "all" });   // the lecture's 500 points
//   const { weights, loss, trainAccuracy } = trainCircles({ data, init, learningRate: LECTURE.learningRate });
//
// A hand-written forward and backward pass, as small as the net (TensorFlow Playground's nn.ts is the model):
// z1 = W1 x + b1, h = act(z1), z2 = w2 . h + b2 (the logit), p = sigmoid(z2), loss = BCE(p, y) computed from the
// logit as PyTorch's binary_cross_entropy_with_logits does. The optimisers follow torch.optim's update rules
// (SGD, SGD with momentum 0.9, RMSprop alpha 0.99, Adam betas 0.9/0.999, eps 1e-8), so that from the same
// weights and data the loss matches PyTorch's epoch for epoch (tests/test_train_web.py). No prediction is
// computed in the page's UI code: it calls `Trainer.predict` / `Trainer.hiddenOutputs` from here.

/** The lecture's run: make_circles(500, noise=0.2, factor=0.3, random_state=123), all 500 points, BCELoss,
 * Adam(lr=0.01), 1,000 epochs of the whole set. */
export const LECTURE = Object.freeze({
  epochs: 1000, learningRate: 0.01, optimizer: "adam", batch: "full", decay: "none", hidden: 4, activation: "sigmoid",
  noise: 0.2, factor: 0.3, seed: 0, points: "all",
});
export const POINTS = ["all", "split"];
export const OPTIMIZERS = ["sgd", "momentum", "rmsprop", "adam"];
export const DECAYS = ["none", "step", "exponential", "cosine"];
export const ACTIVATIONS = {
  sigmoid: { f: (z) => 1 / (1 + Math.exp(-z)), df: (z, h) => h * (1 - h) },
  tanh: { f: Math.tanh, df: (z, h) => 1 - h * h },
  relu: { f: (z) => (z > 0 ? z : 0), df: (z) => (z > 0 ? 1 : 0) },
};

/** The learning rate at `epoch` (0-based) of `epochs`: none, step (halved every quarter), exponential (to 1% at
 * the end), cosine (to 0 at the end). */
export function learningRateAt(decay, learningRate, epoch, epochs) {
  const t = epoch / epochs;
  if (decay === "step") return learningRate * 0.5 ** Math.floor(4 * t);
  if (decay === "exponential") return learningRate * 0.01 ** t;
  if (decay === "cosine") return learningRate * 0.5 * (1 + Math.cos(Math.PI * t));
  return learningRate;
}

/** A seeded generator of numbers in [0, 1) (mulberry32), and normal ones from it (Box-Muller). */
export function seededRandom(seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  uniform.normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return uniform;
}

/** make_circles as scikit-learn draws it (half on the unit circle, half on one of radius `factor`, Gaussian
 * `noise`), from this file's seeded generator: the same shape of data, not NumPy's numbers. First `nTrain`
 * points train, the rest are held out. */
export function makeCircles({ n = 500, noise = 0.2, factor = 0.3, seed = 123, nTrain = 400 } = {}) {
  const random = seededRandom(seed);
  const nOut = Math.floor(n / 2);
  const points = [];
  for (let i = 0; i < n; i++) {
    const inner = i >= nOut;
    const angle = (2 * Math.PI * (inner ? i - nOut : i)) / (inner ? n - nOut : nOut);
    const r = inner ? factor : 1;
    points.push([r * Math.cos(angle) + noise * random.normal(), r * Math.sin(angle) + noise * random.normal(), inner ? 1 : 0]);
  }
  shuffle(points, random);
  const part = (rows) => ({ points: rows.map(([x, y]) => [x, y]), labels: rows.map((row) => row[2]) });
  return { train: part(points.slice(0, nTrain)), heldOut: part(points.slice(nTrain)) };
}

function shuffle(array, random) {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [array[i], array[j]] = [array[j], array[i]];
  }
  return array;
}

/** Weights {W1: [H][2], b1: [H], w2: [H], b2} from a PyTorch state_dict as circles-training.json lists it
 * ({"linear1.weight": {shape, values}, ...}), or drawn as nn.Linear draws them (uniform within 1/sqrt(fan_in)). */
export function initialWeights({ init, hidden = 4, seed = 0 } = {}) {
  if (init && init["linear1.weight"].shape[0] === hidden) {
    const w1 = init["linear1.weight"].values;
    return {
      W1: Array.from({ length: hidden }, (_, j) => [w1[2 * j], w1[2 * j + 1]]),
      b1: [...init["linear1.bias"].values],
      w2: [...init["linear2.weight"].values],
      b2: init["linear2.bias"].values[0],
    };
  }
  const random = seededRandom(seed + 1);
  const u = (bound) => (2 * random() - 1) * bound;
  const a1 = 1 / Math.sqrt(2);
  const a2 = 1 / Math.sqrt(hidden);
  return {
    W1: Array.from({ length: hidden }, () => [u(a1), u(a1)]),
    b1: Array.from({ length: hidden }, () => u(a1)),
    w2: Array.from({ length: hidden }, () => u(a2)),
    b2: u(a2),
  };
}

/** The net's weights as one flat list of parameters (the optimiser's view): [W1, b1, w2, b2]. */
const flatten = (w) => [...w.W1.flat(), ...w.b1, ...w.w2, w.b2];
function unflatten(flat, hidden) {
  return {
    W1: Array.from({ length: hidden }, (_, j) => [flat[2 * j], flat[2 * j + 1]]),
    b1: flat.slice(2 * hidden, 3 * hidden),
    w2: flat.slice(3 * hidden, 4 * hidden),
    b2: flat[4 * hidden],
  };
}

/** One optimiser step on `params` (Float64Array, in place) with gradient `grad`, as torch.optim does it. */
function makeOptimizer(kind, size) {
  const m = new Float64Array(size);
  const v = new Float64Array(size);
  let t = 0;
  return (params, grad, lr) => {
    t += 1;
    for (let i = 0; i < size; i++) {
      const g = grad[i];
      if (kind === "sgd") {
        params[i] -= lr * g;
      } else if (kind === "momentum") { // torch.optim.SGD(momentum=0.9): buf = 0.9 buf + g
        m[i] = t === 1 ? g : 0.9 * m[i] + g;
        params[i] -= lr * m[i];
      } else if (kind === "rmsprop") { // torch.optim.RMSprop: alpha 0.99, eps 1e-8 outside the root
        v[i] = 0.99 * v[i] + 0.01 * g * g;
        params[i] -= (lr * g) / (Math.sqrt(v[i]) + 1e-8);
      } else { // torch.optim.Adam: betas (0.9, 0.999), eps 1e-8
        m[i] = 0.9 * m[i] + 0.1 * g;
        v[i] = 0.999 * v[i] + 0.001 * g * g;
        const denom = Math.sqrt(v[i]) / Math.sqrt(1 - 0.999 ** t) + 1e-8;
        params[i] -= (lr / (1 - 0.9 ** t)) * (m[i] / denom);
      }
    }
  };
}

/** A training run one epoch at a time (the page animates it); `trainCircles` runs one to the end. */
export class Trainer {
  constructor({ data, init, epochs = LECTURE.epochs, learningRate = LECTURE.learningRate, optimizer = LECTURE.optimizer,
    batch = LECTURE.batch, decay = LECTURE.decay, hidden = LECTURE.hidden, activation = LECTURE.activation, seed = LECTURE.seed } = {}) {
    if (!OPTIMIZERS.includes(optimizer)) throw new Error(`optimizer must be one of ${OPTIMIZERS.join(", ")}; got ${optimizer}`);
    if (!DECAYS.includes(decay)) throw new Error(`decay must be one of ${DECAYS.join(", ")}; got ${decay}`);
    if (!ACTIVATIONS[activation]) throw new Error(`activation must be one of ${Object.keys(ACTIVATIONS).join(", ")}; got ${activation}`);
    if (!(Number.isInteger(hidden) && hidden >= 1 && hidden <= 8)) throw new Error(`hidden must be 1 to 8 units; got ${hidden}`);
    if (!(batch === "full" || (Number.isInteger(batch) && batch >= 1))) throw new Error(`batch must be "full" or a size from 1; got ${batch}`);
    Object.assign(this, { data, epochs, learningRate, optimizer, batch, decay, hidden, activation });
    this.act = ACTIVATIONS[activation];
    this.params = Float64Array.from(flatten(initialWeights({ init, hidden, seed })));
    this.step = makeOptimizer(optimizer, this.params.length);
    this.random = seededRandom(seed + 2); // mini-batch order
    this.epoch = 0;
    this.loss = [];
    this.heldOutLoss = [];
    this.trainAccuracy = [];
    this.heldOutAccuracy = [];
  }

  get weights() {
    return unflatten([...this.params], this.hidden);
  }

  get done() {
    return this.epoch >= this.epochs;
  }

  /** Logit and hidden outputs of point (x, y). */
  forward(x, y, p = this.params) {
    const H = this.hidden;
    const z1 = new Float64Array(H);
    const h = new Float64Array(H);
    let z2 = p[4 * H];
    for (let j = 0; j < H; j++) {
      z1[j] = p[2 * j] * x + p[2 * j + 1] * y + p[2 * H + j];
      h[j] = this.act.f(z1[j]);
      z2 += p[3 * H + j] * h[j];
    }
    return { z1, h, z2 };
  }

  /** Mean BCE over `indices` of the training points and its gradient (the backward pass). */
  lossAndGradient(indices) {
    const H = this.hidden;
    const grad = new Float64Array(this.params.length);
    const { points, labels } = this.data.train;
    let loss = 0;
    for (const i of indices) {
      const [x, y] = points[i];
      const { z1, h, z2 } = this.forward(x, y);
      const t = labels[i];
      loss += Math.max(z2, 0) - z2 * t + Math.log1p(Math.exp(-Math.abs(z2))); // BCE from the logit, stably
      const dz2 = (1 / (1 + Math.exp(-z2)) - t) / indices.length; // dLoss/dlogit
      grad[4 * H] += dz2;
      for (let j = 0; j < H; j++) {
        grad[3 * H + j] += dz2 * h[j];
        const dz1 = dz2 * this.params[3 * H + j] * this.act.df(z1[j], h[j]);
        grad[2 * j] += dz1 * x;
        grad[2 * j + 1] += dz1 * y;
        grad[2 * H + j] += dz1;
      }
    }
    return { loss: loss / indices.length, grad };
  }

  /** Mean BCE and the fraction classified right (logit > 0 means the inner circle, class 1) on `part`
   * ({points, labels}). */
  evaluate(part) {
    if (part.points.length === 0) return { loss: NaN, accuracy: NaN }; // no held-out points (the lecture's run)
    let loss = 0;
    let right = 0;
    part.points.forEach(([x, y], i) => {
      const z2 = this.forward(x, y).z2;
      const t = part.labels[i];
      loss += Math.max(z2, 0) - z2 * t + Math.log1p(Math.exp(-Math.abs(z2)));
      right += (z2 > 0 ? 1 : 0) === t;
    });
    return { loss: loss / part.points.length, accuracy: right / part.points.length };
  }

  /** One epoch: full batch (one step), mini-batches or single points (shuffled each epoch). Records the
   * epoch's loss (full batch: before its step, as PyTorch's loop logs it; else the mean over its batches) and
   * the accuracies after it. */
  trainEpoch() {
    const n = this.data.train.points.length;
    const lr = learningRateAt(this.decay, this.learningRate, this.epoch, this.epochs);
    const all = Array.from({ length: n }, (_, i) => i);
    const size = this.batch === "full" ? n : Math.min(this.batch, n);
    if (size < n) shuffle(all, this.random);
    let total = 0;
    let batches = 0;
    for (let start = 0; start < n; start += size) {
      const { loss, grad } = this.lossAndGradient(all.slice(start, start + size));
      this.step(this.params, grad, lr);
      total += loss;
      batches += 1;
    }
    this.epoch += 1;
    this.loss.push(total / batches);
    this.trainAccuracy.push(this.evaluate(this.data.train).accuracy);
    const heldOut = this.evaluate(this.data.heldOut);
    this.heldOutLoss.push(heldOut.loss);
    this.heldOutAccuracy.push(heldOut.accuracy);
    return { epoch: this.epoch, loss: this.loss.at(-1), heldOutLoss: heldOut.loss, trainAccuracy: this.trainAccuracy.at(-1),
      heldOutAccuracy: heldOut.accuracy, learningRate: lr };
  }

  /** P(inner circle) at every cell centre of an n x n grid over [-extent, extent]^2 (row 0 at the top), and
   * each hidden unit's output there: {probability: Float64Array(n*n), hidden: [Float64Array(n*n)] x H}. */
  grid(n, extent) {
    const probability = new Float64Array(n * n);
    const hidden = Array.from({ length: this.hidden }, () => new Float64Array(n * n));
    for (let r = 0; r < n; r++) {
      const y = extent - ((r + 0.5) * 2 * extent) / n;
      for (let c = 0; c < n; c++) {
        const x = -extent + ((c + 0.5) * 2 * extent) / n;
        const { h, z2 } = this.forward(x, y);
        probability[r * n + c] = 1 / (1 + Math.exp(-z2));
        for (let j = 0; j < this.hidden; j++) hidden[j][r * n + c] = h[j];
      }
    }
    return { probability, hidden };
  }

  summary() {
    return { weights: this.weights, loss: [...this.loss], heldOutLoss: [...this.heldOutLoss], trainAccuracy: [...this.trainAccuracy], heldOutAccuracy: [...this.heldOutAccuracy] };
  }
}

/**
 * Train the circles net to the end: {weights, loss, heldOutLoss, trainAccuracy, heldOutAccuracy} (one value
 * per epoch; `loss` is the training loss).
 * `data`: {train: {points, labels}, heldOut: {points, labels}}; `init`: a state_dict as circles-training.json
 * holds it (else seeded random weights). `onEpoch(record)` is called after every epoch; returning false stops.
 */
export function trainCircles(options) {
  const trainer = new Trainer(options);
  while (!trainer.done) {
    const record = trainer.trainEpoch();
    if (options.onEpoch?.(record, trainer) === false) break;
  }
  return trainer.summary();
}

/** circles-training.json (written by `python -m export`) as trainCircles' `data` and `init`. The file keeps the
 * 500 points of make_circles(500, noise=0.2, factor=0.3, random_state=123) in their order, split 400 / 100:
 * `points: "all"` joins them again (the lecture trains on all 500), `"split"` keeps the last 100 held out. */
export function fromTrainingFile(file, { points = "split" } = {}) {
  if (!POINTS.includes(points)) throw new Error(`points must be one of ${POINTS.join(", ")}; got ${points}`);
  const all = {
    points: [...file.train.points, ...file.held_out.points],
    labels: [...file.train.labels, ...file.held_out.labels],
  };
  return {
    data: points === "all" ? { train: all, heldOut: { points: [], labels: [] } } : { train: file.train, heldOut: file.held_out },
    init: file.initial_state_dict,
    recipe: file.recipe,
  };
}
