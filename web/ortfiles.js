// Which of onnxruntime-web's files (ort/ beside the page) does not load, in a sentence: what the page says
// instead of hanging when one is missing. No import of onnxruntime-web here: this runs when it failed to load.
import { MESSAGES } from "./messages.js";

export const ORT_FILES = ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"];

/** A sentence naming the first of the files under `base` (the ort/ folder's URL) that does not load, or null. */
export async function ortProblem(base = new URL("./ort/", import.meta.url)) {
  for (const name of ORT_FILES) {
    const url = new URL(name, base);
    let response;
    try {
      response = await fetch(url, { method: "HEAD", cache: "no-store" });
    } catch {
      return MESSAGES.runtimeMissing(url.pathname, 0, null);
    }
    if (response.ok) continue;
    let detail = null; // the demo's 404 and 500 say what is wrong in plain text; a static host's page does not
    try {
      const answer = await fetch(url, { cache: "no-store" });
      if ((answer.headers.get("content-type") ?? "").startsWith("text/plain")) detail = (await answer.text()).trim().slice(0, 400);
    } catch { /* the status alone, then */ }
    return MESSAGES.runtimeMissing(url.pathname, response.status, detail);
  }
  return null;
}
