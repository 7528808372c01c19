// The page: tabs, status line, and the two panels. No prediction is computed here: zoo.js does that.
import { loadZoo, ort } from "./zoo.js";
import { setUpDigits } from "./digits.js";
import { setUpText } from "./text.js";
import { setUpTraining } from "./train-tab.js";
import { setUpModelTraining } from "./train-view.js";

const status = document.getElementById("status");
const params = new URLSearchParams(location.search);

try {
  const zoo = await loadZoo(undefined, { threads: params.has("threads") ? Number(params.get("threads")) : undefined });
  window.zoo = zoo; // for the console (and the browser tests)
  const digits = setUpDigits(zoo);
  const text = setUpText(zoo);
  const train = setUpTraining(zoo);
  const learn = setUpModelTraining(zoo); // the lecture models trained by their training files (train-view.js)
  const panels = { digits, text, train, learn };
  window.zooPage = panels; // digits.log: every answer shown (the browser tests read it)
  const show = (name) => {
    for (const key of Object.keys(panels)) {
      document.getElementById(`tab-${key}`).setAttribute("aria-selected", String(key === name));
      document.getElementById(key).hidden = key !== name;
    }
    panels[name].shown();
  };
  document.getElementById("tab-digits").addEventListener("click", () => show("digits"));
  document.getElementById("tab-text").addEventListener("click", () => show("text"));
  document.getElementById("tab-train").addEventListener("click", () => show("train"));
  document.getElementById("tab-learn").addEventListener("click", () => show("learn"));
  const isolated = globalThis.crossOriginIsolated ? "cross-origin isolated" : "not cross-origin isolated";
  document.getElementById("footer").textContent =
    `onnxruntime-web ${ort.env.versions?.web ?? ""}, WebAssembly backend, ${zoo.threads} thread${zoo.threads > 1 ? "s" : ""} ` +
    `(${isolated}). Models from ${zoo.manifestUrl.pathname}, each checked against its sha256 before use.`;
  show(["#text", "#train", "#learn"].includes(location.hash) ? location.hash.slice(1) : "digits");
  await digits.ready;
  status.textContent = `Ready: ${zoo.digitModels().length} digit models and ${zoo.textModels().length} text models in the manifest; ` +
    "each is downloaded when first chosen.";
  document.body.dataset.ready = "true";
} catch (error) {
  status.textContent = error.message;
  status.classList.add("error");
  document.body.dataset.error = error.message;
  throw error;
}
