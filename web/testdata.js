// The ONNX backend-test data of a model (models/test_data/<name>/test_data_set_0/*.pb) run in the browser:
// the same check as tests/node/check_models.mjs, on onnxruntime-web. Used by tests/test_web.py.
import { ort } from "./zoo.js";

// ONNX TensorProto data types that numpy_helper.from_array writes as raw_data.
const TYPES = {
  1: ["float32", Float32Array], 2: ["uint8", Uint8Array], 3: ["int8", Int8Array], 6: ["int32", Int32Array],
  7: ["int64", BigInt64Array], 9: ["bool", Uint8Array], 11: ["float64", Float64Array],
};

/** A serialized TensorProto -> {name, tensor}: dims (field 1), data_type (2), name (8), raw_data (9). */
export function readTensorProto(bytes, where = "tensor") {
  let pos = 0;
  const varint = (buf = bytes) => {
    let result = 0n, shift = 0n, byte;
    do { byte = buf[pos++]; result |= BigInt(byte & 0x7f) << shift; shift += 7n; } while (byte & 0x80);
    return result;
  };
  const dims = [];
  let dataType = 0, name = "", raw = null;
  while (pos < bytes.length) {
    const key = Number(varint()), field = key >> 3, wire = key & 7;
    if (wire === 0) {
      const value = varint();
      if (field === 1) dims.push(Number(value)); else if (field === 2) dataType = Number(value);
    } else if (wire === 2) {
      const length = Number(varint()), body = bytes.subarray(pos, pos + length);
      pos += length;
      if (field === 1) { // packed dims
        const outer = pos; pos = 0;
        while (pos < body.length) dims.push(Number(varint(body)));
        pos = outer;
      } else if (field === 8) name = new TextDecoder().decode(body);
      else if (field === 9) raw = body.slice(); // a copy: typed arrays need their own aligned buffer
    } else if (wire === 5) pos += 4; else if (wire === 1) pos += 8;
    else throw new Error(`${where}: unsupported protobuf wire type ${wire}`);
  }
  if (!TYPES[dataType]) throw new Error(`${where}: unsupported data_type ${dataType}`);
  if (raw === null) throw new Error(`${where}: no raw_data (only raw_data tensors are read)`);
  const [type, ArrayType] = TYPES[dataType];
  return { name, tensor: new ort.Tensor(type, new ArrayType(raw.buffer), dims) };
}

async function fetchTensor(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return readTensorProto(new Uint8Array(await response.arrayBuffer()), url.pathname).tensor;
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
