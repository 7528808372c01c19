// The page: tabs, status line, language switch, and the panels. No prediction is computed here: zoo.js does
// that. Every word comes from web/i18n-<lang>.js through i18n.js. The modules that need onnxruntime-web are
// imported below, not here: when one of its files is missing the page says which, and what fixes it, instead
// of waiting forever.
import { apply, language, onLanguage, setLanguage, t } from "./i18n.js";
import { MESSAGES } from "./messages.js";
import { ortProblem } from "./ortfiles.js";

const status = document.getElementById("status");
const params = new URLSearchParams(location.search);

function switchButtons() {
  for (const button of document.querySelectorAll(".languages button")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === language()));
  }
}
apply();
switchButtons();
for (const button of document.querySelectorAll(".languages button")) {
  button.addEventListener("click", () => setLanguage(button.dataset.lang));
}
onLanguage(switchButtons);
/** A failure no panel showed: said in the status line (the panels show their own in place). */
function showFailure(message) {
  status.textContent = message;
  status.classList.add("error");
  document.body.dataset.error = message;
}
addEventListener("unhandledrejection", (event) => showFailure(MESSAGES.unexpected(event.reason?.message ?? String(event.reason))));
addEventListener("error", (event) => {
  // Chromium's notice that a ResizeObserver callback changed the layout again (no error object): the observers
  // draw once more on the next frame, nothing failed
  if (!event.error && /^ResizeObserver loop/.test(event.message)) return;
  showFailure(MESSAGES.unexpected(event.message));
});

async function importModules() {
  try {
    return await Promise.all([import("./zoo.js"), import("./digits.js"), import("./text.js"), import("./train-tab.js"), import("./train-view.js")]);
  } catch (error) {
    throw new Error((await ortProblem()) ?? MESSAGES.pageFailed(error.message));
  }
}

try {
  const [{ loadZoo, ort }, { setUpDigits }, { setUpText }, { setUpTraining }, { setUpModelTraining }] = await importModules();
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
  const footer = () => {
    document.getElementById("footer").textContent = t("page.footer", {
      version: ort.env.versions?.web ?? "", threads: zoo.threads, isolated: Boolean(globalThis.crossOriginIsolated), manifest: zoo.manifestUrl.pathname,
    });
  };
  const ready = () => {
    status.textContent = t("page.ready", { digits: zoo.digitModels().length, text: zoo.textModels().length });
  };
  footer();
  show(["#text", "#train", "#learn"].includes(location.hash) ? location.hash.slice(1) : "digits");
  await digits.ready;
  ready();
  onLanguage(() => {
    footer();
    ready();
    for (const panel of Object.values(panels)) panel.relabel?.();
  });
  document.body.dataset.ready = "true";
} catch (error) {
  showFailure(error.message); // said on the page; not thrown again (the console would only repeat it)
}
