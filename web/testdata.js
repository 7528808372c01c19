// The ONNX backend-test data of a model (models/test_data/<name>/test_data_set_0/*.pb) run in the browser:
// the same check as tests/node/check_models.mjs, on onnxruntime-web. Used by tests/test_web.py.
import { readTensorProto } from "./tensorproto.js";
import { ort } from "./zoo.js";

async function fetchTensor(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const { type, data, dims } = readTensorProto(new Uint8Array(await response.arrayBuffer()), url.pathname);
  return new ort.Tensor(type, data, dims);
}

/** Rows of a [N, C] output whose argmax is the expected one: [agreeing, N]. */
function sameArgmax(got, expected) {
  const [n, c] = got.dims;
  let same = 0;
  for (let r = 0; r < n; r++) {
    const row = (t) => Array.from(t.data.subarray(r * c, (r + 1) * c));
    const a = row(got), b = row(expected);
    same += a.indexOf(Math.max(...a)) === b.indexOf(Math.max(...b));
  }
  return [same, n];
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
    if (got.dims.join() !== expected.dims.join()) throw new Error(`${name}.${names[i]}: shape [${got.dims}] != [${expected.dims}]`);
    if (got.type !== expected.type) throw new Error(`${name}.${names[i]}: type ${got.type} != ${expected.type}`);
    let worst = 0;
    for (let k = 0; k < got.data.length; k++) worst = Math.max(worst, Math.abs(Number(got.data[k]) - Number(expected.data[k])));
    diffs[names[i]] = worst;
    dims[names[i]] = got.dims;
    if (got.type === "float32" && got.dims.length === 2) agree[names[i]] = sameArgmax(got, expected);
  }
  return { name, outputs: diffs, dims, agree };
}
