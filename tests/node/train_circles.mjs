// web/train.js under Node: the circles net trained from a run's start (circles-training.json, written by
// `python -m export`) with that run's recipe (or options given as JSON), the loss at every epoch printed as JSON.
// Usage: node tests/node/train_circles.mjs models/circles-training.json ['{"optimizer": "sgd"}']
// '{"points": "all", "learningRate": 0.01}' is the lecture's run: all 500 points, Adam 0.01.
import fs from "node:fs";
import { fromTrainingFile, trainCircles } from "../../web/train.js";

const [path, options = "{}"] = process.argv.slice(2);
const { points = "split", ...rest } = JSON.parse(options);
const { data, init, recipe } = fromTrainingFile(JSON.parse(fs.readFileSync(path, "utf8")), { points });
const lecture = { epochs: recipe.epochs, learningRate: recipe.lr, optimizer: recipe.optimizer.toLowerCase(), batch: "full" };
const run = trainCircles({ data, init, ...lecture, ...rest });
console.log(JSON.stringify({ loss: run.loss, trainAccuracy: run.trainAccuracy, heldOutAccuracy: run.heldOutAccuracy, weights: run.weights }));
