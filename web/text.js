// The Text tab: the next character at every position (top 3 each, and the cross-entropy of the true next
// character), and "continue" with the step model.
import { textInside } from "./inside.js";
import { MAX_GENERATE, MAX_TEXT, pyRepr } from "./zoo.js";
import { count, modelName, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const SHOWN = 80; // positions in the top-3 table
const visible = (c) => (c === " " ? "␣" : c);

export function setUpText(zoo) {
  const picker = $("text-model"), input = $("text-input"), predicted = $("predicted"), table = $("top3"), error = $("text-error");
  const length = $("length"), temperature = $("temperature"), generated = $("generated"), loss = $("text-loss");
  const insideBox = $("text-inside"), inside = textInside(zoo, insideBox);
  const options = () => {
    const chosen = picker.value;
    picker.replaceChildren(...zoo.textModels().map((name) => new Option(t("text.option", { name: modelName(name), file: name }), name)));
    if (chosen) picker.value = chosen;
  };
  options();
  let latest = 0;
  let started = false;
  let failure = null; // the words of the error shown, rewritten when the language changes

  const fail = (words) => { failure = words; error.textContent = words(); error.hidden = false; };

  /** The page's own check of the text before the model sees it, in the page's language (zoo.js checks too). */
  function check(text, what) {
    const entry = zoo.entry(picker.value), allowed = entry.vocab.map(pyRepr).join(" ");
    const chars = [...text];
    if (chars.length === 0) return () => t("text.empty", { what: t(`text.${what}`), allowed });
    if (chars.length > MAX_TEXT) return () => t("text.tooLong", { what: t(`text.${what}`), n: count(chars.length), limit: count(MAX_TEXT) });
    const unknown = [...new Set(chars.filter((c) => !entry.vocab.includes(c)))].sort((a, b) => a.codePointAt(0) - b.codePointAt(0));
    if (unknown.length) return () => t("text.unknown", { model: entry.name, chars: unknown.map(pyRepr).join(", "), allowed });
    return null;
  }

  async function update() {
    const ticket = ++latest; // typing fast: only the latest text's answer is shown
    const text = input.value;
    const wrong = check(text, "theText");
    if (wrong) {
      predicted.value = "";
      table.replaceChildren();
      loss.textContent = "";
      fail(wrong);
      return;
    }
    try {
      // With the Inside view open, the probe model answers and gives every hidden state too.
      const probe = insideBox.open && zoo.probeEntry(picker.value);
      const result = probe ? await zoo.inspectText(picker.value, text) : await zoo.predictText(picker.value, text);
      if (ticket !== latest) return;
      error.hidden = true;
      failure = null;
      predicted.value = result.predicted;
      const entry = zoo.entry(picker.value);
      const losses = crossEntropies(entry, [...text], result);
      table.replaceChildren(topTable([...text], result.top, losses));
      const known = losses.filter((v) => v !== null);
      loss.textContent = known.length
        ? t("text.loss", { mean: (known.reduce((a, b) => a + b, 0) / known.length).toFixed(4), n: known.length })
        : "";
      if (probe) inside.update(result, picker.value, text);
    } catch (e) {
      if (ticket !== latest) return;
      predicted.value = "";
      table.replaceChildren();
      loss.textContent = "";
      fail(() => e.message);
    }
  }

  const showTemperature = () => {
    $("temperature-value").value = Number(temperature.value) === 0 ? t("text.greedy") : temperature.value;
  };
  showTemperature();
  input.addEventListener("input", update);
  picker.addEventListener("change", () => {
    const corpus = zoo.entry(picker.value).metrics.dataset;
    input.value = { hihello: "hihell", charseq: "if you wan" }[corpus] ?? "if you want to build a ship";
    update();
  });
  insideBox.addEventListener("toggle", () => { if (insideBox.open && started) update(); });
  temperature.addEventListener("input", showTemperature);
  $("continue").addEventListener("click", async () => {
    generated.value = "...";
    try {
      if (length.value === "") throw Object.assign(new Error("no length"), { words: () => t("text.noLength", { max: count(MAX_GENERATE) }) });
      const wrong = check(input.value, "thePrefix");
      if (wrong) throw Object.assign(new Error("bad prefix"), { words: wrong });
      generated.value = await zoo.generateText(picker.value, input.value, Number(length.value), Number(temperature.value), Date.now() % 2 ** 31);
      error.hidden = true;
    } catch (e) {
      generated.value = "";
      fail(e.words ?? (() => e.message));
    }
  });

  return {
    inside,
    shown() {
      if (!started) { started = true; update(); } // the text models are fetched when the tab is first opened
    },
    relabel() {
      options();
      showTemperature();
      if (failure && !error.hidden) error.textContent = failure();
      if (started) update().then(() => inside.relabel());
    },
  };
}

/** −log p(the next character of the text) at every position that has one (null at the last). predictText and
 * inspectText return every probability ([length x V]), so the true next character's is always known. */
function crossEntropies(entry, chars, result) {
  const V = entry.vocab.length;
  return chars.map((_, i) => {
    const next = chars[i + 1];
    return next === undefined ? null : -Math.log(result.probabilities[i * V + entry.vocab.indexOf(next)]);
  });
}

function topTable(chars, top, losses) {
  const row = document.createElement("tr");
  chars.slice(0, SHOWN).forEach((c, i) => {
    const cell = document.createElement("td");
    const head = document.createElement("b");
    head.textContent = visible(c);
    cell.append(head);
    for (const { char, probability } of top[i]) {
      const line = document.createElement("div");
      line.style.background = `rgba(37, 99, 235, ${probability.toFixed(2)})`;
      line.textContent = `${visible(char)} ${probability.toFixed(2)}`;
      cell.append(line);
    }
    const loss = Object.assign(document.createElement("div"), { className: "loss", textContent: losses[i] === null ? "\u00a0" : losses[i].toFixed(2) });
    loss.title = t("text.lossCell");
    cell.append(loss);
    row.append(cell);
  });
  const tableEl = document.createElement("table");
  tableEl.append(row);
  const wrapper = document.createElement("div");
  wrapper.append(tableEl);
  if (chars.length > SHOWN) wrapper.append(Object.assign(document.createElement("p"), { textContent: t("text.firstPositions", { n: SHOWN, total: chars.length }) }));
  return wrapper;
}
