// How far a runtime's output is from a model's expected output (its test data): the largest absolute
// difference, and for a [N, C] float output how many of the N rows keep their argmax. The rule these are
// judged by is export/tolerance.py's. Used by web/testdata.js (the browser) and tests/node/check_models.mjs.

/** Rows of a [N, C] float output whose argmax is the expected one: [agreeing, N]; null for other shapes. */
function sameArgmax(got, expected) {
  if (got.type !== "float32" || got.dims.length !== 2) return null;
  const [n, c] = got.dims;
  let same = 0;
  for (let r = 0; r < n; r++) {
    const row = (t) => Array.from(t.data.subarray(r * c, (r + 1) * c));
    const a = row(got), b = row(expected);
    same += a.indexOf(Math.max(...a)) === b.indexOf(Math.max(...b));
  }
  return [same, n];
}

/** {maxAbs, agree} of two ort.Tensor-like values ({type, data, dims}); throws if shapes or types differ. */
export function compareTensors(where, got, expected) {
  if (got.dims.join() !== expected.dims.join()) throw new Error(`${where}: shape [${got.dims}] != [${expected.dims}]`);
  if (got.type !== expected.type) throw new Error(`${where}: type ${got.type} != ${expected.type}`);
  let maxAbs = 0;
  for (let k = 0; k < got.data.length; k++) {
    const diff = Math.abs(Number(got.data[k]) - Number(expected.data[k]));
    maxAbs = Number.isNaN(diff) ? Infinity : Math.max(maxAbs, diff);
  }
  return { maxAbs, agree: sameArgmax(got, expected) };
}
