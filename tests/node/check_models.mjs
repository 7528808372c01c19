// Runs every model of a manifest in onnxruntime-node on its test_data_set_0 and prints, as JSON, the
// largest absolute difference from the expected outputs and, for [N, C] outputs, the rows that keep their
// argmax. tests/test_export.py judges them by export/tolerance.py's rule.
// Usage: node tests/node/check_models.mjs models/
import fs from "node:fs";
import path from "node:path";
import ort from "onnxruntime-node";
import { compareTensors } from "../../web/compare.js"; // what the browser check uses
import { readTensorProto } from "../../web/tensorproto.js"; // the reader the browser page uses

function readTensor(file) {
  const { name, type, data, dims } = readTensorProto(new Uint8Array(fs.readFileSync(file)), file);
  return { name, tensor: new ort.Tensor(type, data, dims) };
}

const modelsDir = process.argv[2] ?? "models";
const manifest = JSON.parse(fs.readFileSync(path.join(modelsDir, "manifest.json"), "utf8"));
const results = [];
for (const entry of manifest.models) {
  if (!entry.test_data) continue;
  const folder = path.join(modelsDir, entry.test_data);
  const session = await ort.InferenceSession.create(path.join(modelsDir, entry.file));
  const feeds = {};
  Object.keys(entry.inputs).forEach((inputName, i) => {
    feeds[inputName] = readTensor(path.join(folder, `input_${i}.pb`)).tensor;
  });
  const outputs = await session.run(feeds);
  const diffs = {}, agree = {};
  Object.keys(entry.outputs).forEach((outputName, i) => {
    const expected = readTensor(path.join(folder, `output_${i}.pb`)).tensor;
    const { maxAbs, agree: same } = compareTensors(`${entry.name}.${outputName}`, outputs[outputName], expected);
    diffs[outputName] = maxAbs;
    if (same) agree[outputName] = same;
  });
  results.push({ name: entry.name, outputs: diffs, agree, batch: feeds[Object.keys(entry.inputs)[0]].dims[0] });
}
console.log(JSON.stringify({ onnxruntime: ort.env.versions?.common ?? "unknown", results }));
