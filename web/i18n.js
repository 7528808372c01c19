// i18n.js: the page's words, one table per language (web/i18n-en.js, web/i18n-ko.js: one module per language, beside the page's other files so that every host serves them). Drawing code asks
// t("key", {params}); static HTML carries data-i18n="key" (its text), data-i18n-aria="key" (aria-label) and
// data-i18n-title="key". Korean is chosen when the browser prefers it to English, ?lang=ko|en or the
// language switch changes it, and the choice is kept in localStorage.
import en from "./i18n-en.js";
import ko from "./i18n-ko.js";

export const TABLES = { en, ko };
export const LANGUAGES = Object.keys(TABLES);
const STORED = "lecture-zoo.language";
const listeners = new Set();

/** The language to start in: ?lang=, else the kept choice, else the first of the browser's that we have. */
export function preferredLanguage(search = globalThis.location?.search ?? "", stored = safeStorage()?.getItem(STORED),
  languages = globalThis.navigator?.languages ?? []) {
  const asked = new URLSearchParams(search).get("lang");
  if (LANGUAGES.includes(asked)) return asked;
  if (LANGUAGES.includes(stored)) return stored;
  for (const tag of languages) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

function safeStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage refused (a sandboxed frame): the choice is then not kept
  }
}

let current = globalThis.document ? preferredLanguage() : "en";

export const language = () => current;

/** The string for `key` in the current language; a function entry is called with `params`. A key missing
 * from the table is shown as ⟦key⟧, so that it stands out (tests/test_i18n_web.py lists any). */
export function t(key, params = {}) {
  const entry = TABLES[current][key] ?? TABLES.en[key];
  if (entry === undefined) return `⟦${key}⟧`;
  return typeof entry === "function" ? entry(params) : entry;
}

/** A number as this language writes it (grouping), for counts such as 1,000. */
export const count = (n) => Number(n).toLocaleString(current === "ko" ? "ko-KR" : "en-US");

/** Write every data-i18n* attribute's string under `root`. */
export function apply(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
  for (const node of root.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
  if (root === document) {
    document.documentElement.lang = current;
    document.title = t("page.title");
  }
}

/** Switch to `lang` (kept for the next visit), rewrite the static words and tell every listener. */
export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) throw new Error(`language must be one of ${LANGUAGES.join(", ")}; got ${lang}`);
  current = lang;
  safeStorage()?.setItem(STORED, lang);
  apply();
  for (const listener of listeners) listener(lang);
}

/** `listener(lang)` after every switch (a tab redraws its dynamic words). */
export function onLanguage(listener) {
  listeners.add(listener);
}

/** A model as a student knows it: its lecture and what it is (model.<name> in the table), INT8 copies too. */
export function modelName(name) {
  const base = name.replace(/-int8$/, "");
  const key = `model.${base}`;
  if (TABLES[current][key] === undefined && TABLES.en[key] === undefined) return name;
  return base === name ? t(key) : t("model.int8", { name: t(key) });
}
