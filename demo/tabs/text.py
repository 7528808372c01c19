"""The Text tab: the next character at every position (top 3 each), every RNN/GRU layer's hidden state, and
"Continue" (the step model, one character at a time). API: predict_text, inspect_text, generate_text."""

from __future__ import annotations

import html
import secrets

import gradio as gr
import numpy as np

from demo.components import CheckedSlider, ExactNumber, refuse
from demo.inside import figures_html, layer_json, text_figures
from demo.inside import shown as shown_character
from demo.runtime import MAX_GENERATE, MAX_SEED, MAX_TEMPERATURE, MAX_TEXT, BadRequest, TextInside, Zoo
from demo.strings import label, language, message, say
from zoo.corpora import CORPORA

EXAMPLE_TEXTS = [  # (model, text): each model's own kind of text
    ("hihello", "hihell"), ("charseq", "if you wan"), ("longseq", "if you want to build a ship"),
    ("longseq-gru", "teach them to long for the endless immensity of the sea"),
]  # fmt: skip


def text_tab(app: gr.Blocks, zoo: Zoo) -> None:
    """The Text tab with its events, in `app` (inside its `with gr.Blocks()`)."""
    text_models = zoo.text_models()

    def predict_text(model: str, text: str, request: gr.Request | None = None):
        """The next-character prediction at every position (same length as text), and a table."""
        lang = language(request)
        try:
            predicted, probabilities = zoo.predict_next(model, text)
        except BadRequest as error:
            raise refuse(message(error, lang), lang) from None
        vocab = zoo.models[model].entry["vocab"]
        return predicted, _prediction_table(text, predicted, probabilities, vocab, lang)

    def text_answer(model: str, text: str, request: gr.Request):
        """predict_text for the page: an emptied text box is a state, not an error, and clears the answer."""
        return ("", "") if text == "" else predict_text(model, text, request)

    def generate_text(
        model: str, prefix: str, length: float, temperature: float = 0.0, seed: float | None = 0,
        request: gr.Request | None = None,
    ):  # fmt: skip
        """prefix followed by `length` generated characters (greedy at temperature 0; sampled with `seed` above
        it: the same seed gives the same text; left out, seed 0)."""
        lang = language(request)
        try:
            if length is None:
                raise BadRequest(f"The length is missing: give a whole number from 1 to {MAX_GENERATE:,}.",
                                 "error.length_missing", top=f"{MAX_GENERATE:,}")  # fmt: skip
            return zoo.generate(model, prefix, length, temperature or 0.0, 0 if seed is None else seed)
        except BadRequest as error:
            raise refuse(message(error, lang), lang) from None

    def next_seed(fresh: bool, temperature: float):
        """The seed box before a sampled run (UI only): a fresh seed when asked, else the one shown."""
        return secrets.randbelow(MAX_SEED + 1) if fresh and temperature else gr.skip()

    def inspect_text(model: str, text: str) -> dict:
        """A text -> the next character at every position and every layer's values as JSON."""
        try:
            return _text_json(zoo.inspect_text(model, text))
        except BadRequest as error:
            raise refuse(message(error, "en")) from None

    def hidden_states(model: str, text: str, request: gr.Request | None = None):
        """The heat map of every RNN/GRU layer's hidden state, and the cross-entropy per character where the
        text is a part of the model's training text (UI only)."""
        try:
            inside = zoo.inspect_text(model, text)
        except BadRequest:
            return ""  # predict_text has said what is wrong
        lang = language(request)
        figures = text_figures(inside.layers, inside.text, inside.predicted, inside.vocab, lang)
        for figure in figures:
            figure.title = f"{model}: {figure.title}"
        probabilities = next(layer.values for layer in inside.layers if layer.name == "probabilities")
        corpus = zoo.models[model].entry["metrics"].get("dataset", "")
        return figures_html(figures) + _cross_entropy(model, text, probabilities, inside.vocab, corpus, lang)

    def fitting_text(model: str, text: str):
        """The model changed: keep the text if the model knows all its characters (left as it is: an example
        text may have arrived with the model), else put the model's example in."""
        fits = text and len(text) <= MAX_TEXT and set(text) <= set(zoo.models[model].entry["vocab"])
        return gr.skip() if fits else _example_text(zoo)(model)

    with gr.Tab(label("tab.text")):
        with gr.Row():
            text_model = gr.Dropdown(text_models, value=text_models[0], label=label("common.model"))
            text = gr.Textbox(label=label("text.text"), value="hihell", max_length=MAX_TEXT,
                              info=label("text.text_info"))  # fmt: skip
        pairs = [pair for pair in EXAMPLE_TEXTS if pair[0] in text_models]
        text_examples = gr.Dataset(components=[text], samples=[[t] for _, t in pairs], type="index",
                                   sample_labels=[f"{m}: {t}" for m, t in pairs], label=label("text.examples"))  # fmt: skip
        predicted = gr.Textbox(label=label("text.predicted"), interactive=False)
        table = gr.HTML()
        with gr.Accordion(label("text.inside"), open=True):
            hidden = gr.HTML()  # in the page itself, as the digit layers: shown whenever the tab is opened
        gr.Markdown(label("text.continue"))
        with gr.Row():
            # No minimum/maximum on the component: generate_text's own message names the field and range.
            length = ExactNumber(value=20, precision=0, label=label("text.length"),
                          info=label("text.length_info"))  # fmt: skip
            length.accepts = f"a whole number from 1 to {MAX_GENERATE:,}"
            temperature = CheckedSlider(0, MAX_TEMPERATURE, value=0, step=0.1, label=label("text.temperature"),
                                    info=label("text.temperature_info"))  # fmt: skip
            seed = ExactNumber(value=0, precision=0, label=label("text.seed"), info=label("text.seed_info"))
            seed.accepts = f"a whole number from 0 to {MAX_SEED:,}"
            fresh = gr.Checkbox(value=True, label=label("text.fresh"),
                                info=label("text.fresh_info"))  # fmt: skip
            go = gr.Button(label("text.go"), variant="primary")
        generated = gr.Textbox(label=label("text.generated"), interactive=False)
        text.change(text_answer, [text_model, text], [predicted, table], api_name=False,
                    trigger_mode="always_last", show_progress="hidden").success(
            hidden_states, [text_model, text], hidden, api_name=False, trigger_mode="always_last",
            show_progress="hidden")  # fmt: skip
        # an example sets the model and its text (plain values: see the digit examples), then the events run
        text_examples.click(lambda k: pairs[k], text_examples, [text_model, text], api_name=False, queue=False)
        text_model.change(fitting_text, [text_model, text], text, api_name=False).success(
            text_answer, [text_model, text], [predicted, table], api_name=False).success(
            hidden_states, [text_model, text], hidden, api_name=False)  # fmt: skip
        # the seed box shows the seed each sampled run used (a fresh one unless the user keeps it)
        go.click(next_seed, [fresh, temperature], seed, api_name=False, queue=False).success(
            generate_text, [text_model, text, length, temperature, seed], generated, api_name="generate_text")  # fmt: skip
        app.load(text_answer, [text_model, text], [predicted, table], api_name=False).success(
            hidden_states, [text_model, text], hidden, api_name=False)  # fmt: skip
        # API only: every layer as JSON (hidden: nothing on the page shows it)
        layers_json = gr.JSON(visible=False)
        # API only, as the page's events answer an emptied box quietly (a hidden button: nothing calls it)
        gr.Button(visible=False).click(predict_text, [text_model, text], [predicted, table], api_name="predict_text")
        gr.Button(visible=False).click(inspect_text, [text_model, text], layers_json, api_name="inspect_text")


def _text_json(inside: TextInside) -> dict:
    return {"model": inside.model, "text": inside.text, "predicted": inside.predicted, "vocab": inside.vocab,
            "layers": [layer_json(layer) for layer in inside.layers]}  # fmt: skip


def _example_text(zoo: Zoo):
    def example(model: str) -> str:
        corpus = zoo.models[model].entry["metrics"].get("dataset", "")
        return {"hihello": "hihell", "charseq": "if you wan"}.get(corpus, "if you want to build a ship")

    return example


def _prediction_table(
    text: str, predicted: str, probabilities: np.ndarray, vocab: list[str], lang: str = "en", top: int = 3
) -> str:
    """Per position: the input character, then the top-k next characters shaded by probability."""
    shown = min(len(text), 80)
    order = np.argsort(-probabilities[:shown], axis=1)[:, :top]
    cells = []
    for t in range(shown):
        rows = "".join(
            f'<div style="background:rgba(37,99,235,{probabilities[t, k]:.2f});padding:1px 3px">'
            f"{html.escape(shown_character(vocab[k]))} {probabilities[t, k]:.2f}</div>"
            for k in order[t]
        )
        cells.append(
            f'<td style="vertical-align:top;text-align:center;white-space:nowrap"><b>{html.escape(shown_character(text[t]))}</b>{rows}</td>'
        )
    more = f"<p>{say(lang, 'text.more', shown=shown, n=len(text))}</p>" if shown < len(text) else ""
    return f'<div style="overflow-x:auto"><table style="font-family:monospace;font-size:12px"><tr>{"".join(cells)}</tr></table></div>{more}'


def _cross_entropy(model: str, text: str, probabilities: np.ndarray, vocab: list[str], corpus: str, lang: str) -> str:
    """The lecture's loss per character, −log p(the true next character), where the text is a part of the
    model's training text (so each character has a true next one); else a line that says what to type."""
    training = CORPORA.get(corpus, "")
    start = training.find(text) if training else -1
    if start < 0 or not text:
        example = training[:20] if training else ""
        return f"<p>{html.escape(say(lang, 'text.ce_none', model=model, example=repr(example)))}</p>"
    targets = training[start + 1 : start + len(text) + 1]  # the last character may have no next one
    rows = {"read": [], "true": [], "p": [], "loss": []}
    losses = []
    for t, target in enumerate(targets):
        p = float(probabilities[t, vocab.index(target)])
        loss = -np.log(p) if p > 0 else np.inf
        losses.append(loss)
        rows["read"].append(shown_character(text[t]))
        rows["true"].append(shown_character(target))
        rows["p"].append(f"{p:.3f}")
        rows["loss"].append(f"{loss:.3f}")
    shown = min(len(losses), 80)
    # one small column per character, wrapping at the screen's width (no sideways scrolling on a phone)
    box = "display:inline-flex;flex-direction:column;text-align:center;border:1px solid #ddd;padding:1px 4px"
    names = "".join(f"<span>{html.escape(say(lang, 'text.' + key))}</span>" for key in rows)
    columns = [f'<div class="ce-names" style="{box};text-align:left;color:#555">{names}</div>'] + [
        f'<div class="ce-cell" style="{box}">' + "".join(f"<span>{html.escape(rows[key][t])}</span>" for key in rows)
        + "</div>"
        for t in range(shown)
    ]  # fmt: skip
    mean = say(lang, "text.mean", n=len(losses), loss=f"{float(np.mean(losses)):.4f}")
    return (f'<div class="cross-entropy"><p><b>{html.escape(say(lang, "text.ce_title"))}</b></p>'
            f"<p>{html.escape(say(lang, 'text.ce_note', model=model))}</p>"
            f'<div style="display:flex;flex-wrap:wrap;gap:2px;font-family:monospace;font-size:12px">'
            f'{"".join(columns)}</div><p>{html.escape(mean)}</p></div>')  # fmt: skip
