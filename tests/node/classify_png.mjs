// A digit from a PNG file in one call, in onnxruntime-node: the PNG decoded to RGBA (pngjs), fed as it is
// to a canvas model, which finds the ink, crops, fits, centres and classifies inside the graph.
// Usage: node tests/node/classify_png.mjs models/cnn-bn-canvas.onnx sketch.png   (prints JSON)
import fs from "node:fs";
import ort from "onnxruntime-node";
import pngjs from "pngjs";

const [modelPath, pngPath] = process.argv.slice(2);
const png = pngjs.PNG.sync.read(fs.readFileSync(pngPath)); // any PNG colour type -> 8-bit RGBA
const session = await ort.InferenceSession.create(modelPath);
const image = new ort.Tensor("uint8", new Uint8Array(png.data), [png.height, png.width, 4]);
const { probabilities, ink, contrast } = await session.run({ image });
const p = Array.from(probabilities.data);
const label = ink.data[0] ? p.indexOf(Math.max(...p)) : null; // no ink: a blank canvas or a speck, not a digit
console.log(JSON.stringify({ label, ink: Boolean(ink.data[0]), contrast: contrast.data[0], probabilities: p,
                             width: png.width, height: png.height }));
