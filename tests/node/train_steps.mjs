// Training steps in onnxruntime-node through web/train-models.js (what the page runs): a train entry's steps on
// the batches and masks a JSON file gives (written by tests/test_train_graphs.py), the loss at every step and
// the weights after the last one printed as JSON.
// Usage: node tests/node/train_steps.mjs models/ charseq-train-adam steps.json
import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { StepTrainer } from "../../web/train-models.js";

const [models, name, stepsFile] = process.argv.slice(2);
const manifest = JSON.parse(fs.readFileSync(path.join(models, "manifest.json"), "utf8"));
const entry = manifest.models.find((e) => e.name === name);
if (!entry || entry.kind !== "train") throw new Error(`${name} is not a train entry of ${models}/manifest.json`);
const files = { model: fs.readFileSync(path.join(models, entry.file)), start: fs.readFileSync(path.join(models, entry.weights.file)) };
const trainer = await StepTrainer.create(ort, entry, files, { executionProviders: ["cpu"] });
const { hyper, steps } = JSON.parse(fs.readFileSync(stepsFile, "utf8"));
const int64 = (t) => ({ data: BigInt64Array.from(t.data.map(BigInt)), shape: t.shape });
const float32 = (t) => ({ data: Float32Array.from(t.data), shape: t.shape });
const losses = [];
for (const s of steps) {
  const x = entry.task === "text" ? int64(s.x) : float32(s.x);
  const masks = Object.fromEntries(Object.entries(s.masks).map(([k, m]) => [k, float32(m)]));
  const { loss } = await trainer.step({ x, y: int64(s.y), masks, ...hyper });
  losses.push(loss);
}
const weights = Object.fromEntries(Object.entries(trainer.weights()).map(([k, v]) => [k, Array.from(v)]));
console.log(JSON.stringify({ losses, weights }));
