// The page: tabs, status line, and the two panels. No prediction is computed here: zoo.js does that.
// The modules that need onnxruntime-web are imported here, not above: when one of its files is missing the
// page says which, and what fixes it, instead of waiting forever.
import { MESSAGES } from "./messages.js";
import { ortProblem } from "./ortfiles.js";

const status = document.getElementById("status");
const params = new URLSearchParams(location.search);

/** A failure no panel showed: said in the status line (the panels show their own in place). */
function showFailure(message) {
  status.textContent = message;
  status.classList.add("error");
  document.body.dataset.error = message;
}
addEventListener("unhandledrejection", (event) => showFailure(MESSAGES.unexpected(event.reason?.message ?? String(event.reason))));
addEventListener("error", (event) => showFailure(MESSAGES.unexpected(event.message)));

async function importModules() {
  try {
    return await Promise.all([import("./zoo.js"), import("./digits.js"), import("./text.js"), import("./train-tab.js")]);
  } catch (error) {
    throw new Error((await ortProblem()) ?? MESSAGES.pageFailed(error.message));
  }
}

try {
  const [{ loadZoo, ort }, { setUpDigits }, { setUpText }, { setUpTraining }] = await importModules();
  const zoo = await loadZoo(undefined, { threads: params.has("threads") ? Number(params.get("threads")) : undefined });
  window.zoo = zoo; // for the console (and the browser tests)
  const digits = setUpDigits(zoo);
  const text = setUpText(zoo);
  const train = setUpTraining(zoo);
  const panels = { digits, text, train };
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
  const isolated = globalThis.crossOriginIsolated ? "cross-origin isolated" : "not cross-origin isolated";
  document.getElementById("footer").textContent =
    `onnxruntime-web ${ort.env.versions?.web ?? ""}, WebAssembly backend, ${zoo.threads} thread${zoo.threads > 1 ? "s" : ""} ` +
    `(${isolated}). Models from ${zoo.manifestUrl.pathname}, each checked against its sha256 before use.`;
  show(["#text", "#train"].includes(location.hash) ? location.hash.slice(1) : "digits");
  await digits.ready;
  status.textContent = `Ready: ${zoo.digitModels().length} digit models and ${zoo.textModels().length} text models in the manifest; ` +
    "each is downloaded when first chosen.";
  document.body.dataset.ready = "true";
} catch (error) {
  showFailure(error.message); // said on the page; not thrown again (the console would only repeat it)
}
