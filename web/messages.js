// The sentences the page shows when something fails outside a model's own answer (a model's refusals come from
// zoo.js, in the Python demo's words). One table, so that every one of them is translated in one place.
export const MESSAGES = {
  /** onnxruntime-web's file `file` did not load: `status` is the HTTP status (0: no answer), `detail` the
   * server's own sentence when it gave one. */
  runtimeMissing: (file, status, detail) =>
    `The page cannot start: ${file} (onnxruntime-web, which runs the models) did not load` +
    `${status ? ` (HTTP ${status})` : ""}${detail ? `: ${detail}. Then reload the page.` : ". " +
    "Serve the page with `python -m demo` from a complete copy of lecture-zoo (restore the file with " +
    "`git checkout -- web/ort`), or write a static folder with `python -m demo.web --out site`, then reload."}`,
  /** A module of the page failed to load or run, the runtime's files being fine. */
  pageFailed: (detail) => `The page could not load its scripts (${detail}). Reload it; if this stays, ` +
    "serve it again with `python -m demo` from a complete copy of lecture-zoo.",
  /** A model could not be started in onnxruntime-web (its file loaded and checked). */
  sessionFailed: (model, detail) => `${model} could not be started in this browser (${detail}). Reload the page to try again.`,
  /** The Inside view's written-out arithmetic lacks its weights (their file is missing or altered). */
  weightsFailed: (detail) => `The weights for this arithmetic could not be loaded: ${detail}. The values above are the model's own.`,
  /** Anything else that went wrong and reached no part of the page: the catch-all. */
  unexpected: (detail) => `Something went wrong: ${detail}. Reload the page to start again.`,
};
