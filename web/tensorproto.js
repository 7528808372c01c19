// Reads the ONNX backend-test data (models/test_data/<name>/test_data_set_0/*.pb): one reader for the browser
// (web/testdata.js) and for onnxruntime-node (tests/node/check_models.mjs). No dependencies.

// ONNX TensorProto data types that numpy_helper.from_array writes as raw_data.
const TYPES = {
  1: ["float32", Float32Array], 2: ["uint8", Uint8Array], 3: ["int8", Int8Array], 6: ["int32", Int32Array],
  7: ["int64", BigInt64Array], 9: ["bool", Uint8Array], 11: ["float64", Float64Array],
};

/** A serialized TensorProto -> {name, type, data, dims} (an ort.Tensor's arguments): dims (field 1),
 * data_type (2), name (8), raw_data (9). */
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
  return { name, type, data: new ArrayType(raw.buffer), dims };
}
