// The Text tab: the next character at every position (top 3 each) and "continue" with the step model.
import { textInside } from "./inside.js";
import { MAX_GENERATE } from "./zoo.js";

const $ = (id) => document.getElementById(id);
const SHOWN = 80; // positions in the top-3 table

export function setUpText(zoo) {
  const picker = $("text-model"), input = $("text-input"), predicted = $("predicted"), table = $("top3"), error = $("text-error");
  const length = $("length"), temperature = $("temperature"), generated = $("generated");
  const insideBox = $("text-inside"), inside = textInside(zoo, insideBox);
  for (const name of zoo.textModels()) picker.add(new Option(name, name));
  let latest = 0;
  let started = false;

  const fail = (e) => { error.textContent = e.message; error.hidden = false; };

  async function update() {
    const ticket = ++latest; // typing fast: only the latest text's answer is shown
    try {
      // With the Inside view open, the probe model answers and gives every hidden state too.
      const probe = insideBox.open && zoo.probeEntry(picker.value);
      const text = input.value;
      const result = probe ? await zoo.inspectText(picker.value, text) : await zoo.predictText(picker.value, text);
      if (ticket !== latest) return;
      error.hidden = true;
      predicted.value = result.predicted;
      table.replaceChildren(topTable([...text], result.top));
      if (probe) inside.update(result, picker.value, text);
    } catch (e) {
      if (ticket !== latest) return;
      predicted.value = "";
      table.replaceChildren();
      fail(e);
    }
  }

  input.addEventListener("input", update);
  picker.addEventListener("change", () => {
    const corpus = zoo.entry(picker.value).metrics.dataset;
    input.value = { hihello: "hihell", charseq: "if you wan" }[corpus] ?? "if you want to build a ship";
    update();
  });
  insideBox.addEventListener("toggle", () => { if (insideBox.open && started) update(); });
  temperature.addEventListener("input", () => {
    $("temperature-value").value = Number(temperature.value) === 0 ? "0 (greedy)" : temperature.value;
  });
  $("continue").addEventListener("click", async () => {
    generated.value = "...";
    try {
      if (length.value === "") throw new Error(`The length is missing: give a whole number from 1 to ${MAX_GENERATE.toLocaleString("en-US")}.`);
      generated.value = await zoo.generateText(picker.value, input.value, Number(length.value), Number(temperature.value), Date.now() % 2 ** 31);
      error.hidden = true;
    } catch (e) {
      generated.value = "";
      fail(e);
    }
  });

  return {
    inside,
    shown() {
      if (!started) { started = true; update(); } // the text models are fetched when the tab is first opened
    },
  };
}

function topTable(chars, top) {
  const row = document.createElement("tr");
  chars.slice(0, SHOWN).forEach((c, t) => {
    const cell = document.createElement("td");
    const head = document.createElement("b");
    head.textContent = c === " " ? "␣" : c;
    cell.append(head);
    for (const { char, probability } of top[t]) {
      const line = document.createElement("div");
      line.style.background = `rgba(37, 99, 235, ${probability.toFixed(2)})`;
      line.textContent = `${char === " " ? "␣" : char} ${probability.toFixed(2)}`;
      cell.append(line);
    }
    row.append(cell);
  });
  const tableEl = document.createElement("table");
  tableEl.append(row);
  const wrapper = document.createElement("div");
  wrapper.append(tableEl);
  if (chars.length > SHOWN) wrapper.append(Object.assign(document.createElement("p"), { textContent: `(first ${SHOWN} of ${chars.length} positions)` }));
  return wrapper;
}
