// The sentences the page shows when something fails outside a model's own answer (a model's refusals come from
// zoo.js, in the Python demo's words). One table, whose words live in web/i18n-<lang>.js under "fail.*", so
// that every one of them is translated in one place.
import { t } from "./i18n.js";

export const MESSAGES = {
  /** onnxruntime-web's file `file` did not load: `status` is the HTTP status (0: no answer), `detail` the
   * server's own sentence when it gave one. */
  runtimeMissing: (file, status, detail) =>
    t(detail ? "fail.runtimeMissingDetail" : "fail.runtimeMissing", { file, status: status ? ` (HTTP ${status})` : "", detail }),
  /** A module of the page failed to load or run, the runtime's files being fine. */
  pageFailed: (detail) => t("fail.page", { detail }),
  /** A model could not be started in onnxruntime-web (its file loaded and checked). */
  sessionFailed: (model, detail) => t("fail.session", { model, detail }),
  /** The Inside view's written-out arithmetic lacks its weights (their file is missing or altered). */
  weightsFailed: (detail) => t("fail.weights", { detail }),
  /** Anything else that went wrong and reached no part of the page: the catch-all. */
  unexpected: (detail) => t("fail.unexpected", { detail }),
};
