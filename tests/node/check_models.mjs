// Runs every model of a manifest in onnxruntime-node on its test_data_set_0 and prints, as JSON, the
// largest absolute difference from the expected outputs (written by PyTorch at export time).
// Usage: node tests/node/check_models.mjs models/
import fs from "node:fs";
import path from "node:path";
import ort from "onnxruntime-node";

// A TensorProto as numpy_helper.from_array writes it: dims (field 1), data_type (2), name (8), raw_data (9).
function readTensor(file) {
  const buf = fs.readFileSync(file);
  let pos = 0;
  const varint = () => {
    let result = 0n, shift = 0n, byte;
    do { byte = buf[pos++]; result |= BigInt(byte & 0x7f) << shift; shift += 7n; } while (byte & 0x80);
    return result;
  };
  const dims = [];
  let dataType = 0, name = "", raw = null;
  while (pos < buf.length) {
    const key = Number(varint()), field = key >> 3, wire = key & 7;
    if (wire === 0) {
      const value = varint();
      if (field === 1) dims.push(Number(value)); else if (field === 2) dataType = Number(value);
    } else if (wire === 2) {
      const length = Number(varint()), bytes = buf.subarray(pos, pos + length); pos += length;
      if (field === 1) { let p = 0; const sub = { buf: bytes }; // packed dims
        while (p < bytes.length) { let r = 0n, s = 0n, b; do { b = bytes[p++]; r |= BigInt(b & 0x7f) << s; s += 7n; } while (b & 0x80); dims.push(Number(r)); } }
      else if (field === 8) name = bytes.toString("utf8");
      else if (field === 9) raw = Buffer.from(bytes);
    } else if (wire === 5) pos += 4; else if (wire === 1) pos += 8;
    else throw new Error(`${file}: unsupported protobuf wire type ${wire}`);
  }
  const ab = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  const types = { 1: ["float32", Float32Array], 2: ["uint8", Uint8Array], 7: ["int64", BigInt64Array], 9: ["bool", Uint8Array] };
  if (!types[dataType]) throw new Error(`${file}: unsupported data_type ${dataType}`);
  const [type, Array] = types[dataType];
  return { name, tensor: new ort.Tensor(type, new Array(ab), dims) };
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
  const diffs = {};
  Object.keys(entry.outputs).forEach((outputName, i) => {
    const expected = readTensor(path.join(folder, `output_${i}.pb`)).tensor;
    const got = outputs[outputName];
    if (got.dims.join() !== expected.dims.join()) throw new Error(`${entry.name}.${outputName}: shape ${got.dims} != ${expected.dims}`);
    let worst = 0;
    for (let k = 0; k < got.data.length; k++) worst = Math.max(worst, Math.abs(Number(got.data[k]) - Number(expected.data[k])));
    diffs[outputName] = worst;
  });
  results.push({ name: entry.name, outputs: diffs, batch: feeds[Object.keys(entry.inputs)[0]].dims[0] });
}
console.log(JSON.stringify({ onnxruntime: ort.env.versions?.common ?? "unknown", results }));
