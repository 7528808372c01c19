// The ONNX backend-test data of a model (models/test_data/<name>/test_data_set_0/*.pb) run in the browser:
// the same check as tests/node/check_models.mjs, on onnxruntime-web. Used by tests/test_web.py.
import { compareTensors } from "./compare.js";
import { readTensorProto } from "./tensorproto.js";
import { ort } from "./zoo.js";

async function fetchTensor(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const { type, data, dims } = readTensorProto(new Uint8Array(await response.arrayBuffer()), url.pathname);
  return new ort.Tensor(type, data, dims);
}

/** Run manifest entry `name` on its test_data_set_0: {name, outputs: {output: max abs diff}, dims, agree}. */
export async function checkTestData(zoo, name) {
  const entry = zoo.entry(name);
  const folder = new URL(`${entry.test_data}/`, zoo.base);
  const feeds = {};
  const inputs = Object.keys(entry.inputs);
  for (let i = 0; i < inputs.length; i++) feeds[inputs[i]] = await fetchTensor(new URL(`input_${i}.pb`, folder));
  const outputs = await zoo.run(name, feeds);
  const diffs = {}, dims = {}, agree = {};
  const names = Object.keys(entry.outputs);
  for (let i = 0; i < names.length; i++) {
    const expected = await fetchTensor(new URL(`output_${i}.pb`, folder));
    const got = outputs[names[i]];
    const { maxAbs, agree: same } = compareTensors(`${name}.${names[i]}`, got, expected);
    diffs[names[i]] = maxAbs;
    dims[names[i]] = got.dims;
    if (same) agree[names[i]] = same;
  }
  return { name, outputs: diffs, dims, agree };
}
