"""The text models trained on the server through their training-step files, the lecture's loop printed line by
line as it runs (the Gradio demo's Train tab, and `train_text` in its API).

Each epoch is one run of `<model>-train-<optimizer>.onnx` (proven step for step against PyTorch and
torch.optim by `python -m export --check`) on the lecture's data, in ONNX Runtime: a few milliseconds of CPU
for hihello and charseq, more for longseq's 170 windows. Epochs are capped (`MAX_EPOCHS`) and at most
`TRAINING_RUNS` runs train at once; a run past that waits in Gradio's queue. The tab's words and the errors'
are in demo/strings.py (English and Korean, `train.*` and `error.train_*`); the lecture's printed lines are
its code's output and stay as the lecture prints them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from demo.runtime import BadRequest
from zoo import manifest

MAX_EPOCHS = 300
MAX_LR = 10.0
TRAINING_RUNS = 2  # runs at once (each holds one CPU thread while it trains)
OPTIMIZERS = ("adam", "sgd", "momentum", "rmsprop")


class TrainingError(BadRequest):
    """A training request that cannot run: the message says what was wrong and what is accepted (in English;
    `key` and `values` name the same sentence in demo/strings.py, for the page's language)."""

    def __init__(self, key: str, **values):
        from demo.strings import say  # not at the top: demo.strings reads MAX_EPOCHS from here

        super().__init__(say("en", key, **values), key, **values)


def trainable_models(zoo) -> list[str]:
    """The text models that have training files in the manifest, in its order."""
    names = [e.entry["model"] for e in zoo.models.values() if e.entry["kind"] == "train" and e.entry["task"] == "text"]
    return list(dict.fromkeys(names))


def _checked(zoo, model: str, optimizer: str, lr, epochs) -> tuple[dict, float, int]:
    models = trainable_models(zoo)
    if model not in models:
        raise TrainingError("error.train_model", model=repr(model), models=", ".join(models))
    if optimizer not in OPTIMIZERS:
        raise TrainingError("error.train_optimizer", optimizer=repr(optimizer), optimizers=", ".join(OPTIMIZERS))
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        raise TrainingError("error.train_lr_number", got=repr(lr), top=f"{MAX_LR:g}") from None
    if not 0 < lr <= MAX_LR:
        raise TrainingError("error.train_lr_range", got=f"{lr:g}", top=f"{MAX_LR:g}")
    try:
        whole = int(epochs)
    except (TypeError, ValueError, OverflowError):
        raise TrainingError("error.train_epochs_number", got=repr(epochs), top=MAX_EPOCHS) from None
    if whole != epochs or not 1 <= whole <= MAX_EPOCHS:
        raise TrainingError("error.train_epochs_range", got=repr(epochs), top=MAX_EPOCHS)
    name = f"{model}-train-{optimizer}"
    if name not in zoo.models:
        raise TrainingError("error.train_missing", name=name)
    return zoo.models[name].entry, lr, whole


def lecture_line(epoch: int, entry: dict, loss: float, predicted: np.ndarray, y: list) -> str:
    """What the lecture's loop prints after an epoch (seed 003). charseq and hihello:
    `print(i, "loss: ", loss.item(), "prediction: ", result, "true Y: ", y_data, "prediction str: ", result_str)`;
    longseq: `print(predict_str)`, the sentence put together from the windows' predictions (the first window
    whole, then the last character of each following one)."""
    vocab = entry["vocab"]
    if len(predicted) > 1:  # longseq's windows
        sentence = "".join(vocab[i] for i in predicted[0]) + "".join(vocab[row[-1]] for row in predicted[1:])
        return sentence
    result_str = "".join(vocab[i] for i in predicted[0])
    return f"{epoch} loss:  {loss} prediction:  {predicted} true Y:  {y} prediction str:  {result_str}"


def train_text(zoo, model: str, optimizer: str = "adam", lr: float = 0.1, epochs: int = 50) -> Iterator[str]:
    """The run, one printed line per epoch (TrainingError for a request that cannot run)."""
    entry, lr, epochs = _checked(zoo, model, optimizer, lr, epochs)
    vocab = entry["vocab"]
    session = zoo.models[entry["name"]].session
    start = manifest.checked_file(entry["weights"], zoo.models_dir)
    params = _read_start(entry["weights"], start)
    state = {f"{s}.{n}": np.zeros_like(w) for n, w in params.items() for s in entry["state"]}
    x, y = (np.array([[vocab.index(c) for c in row] for row in entry["batch"][k]], np.int64) for k in ("x", "y"))
    hyper = {**entry["hyperparameters"], "lr": lr}
    names = [o.name for o in session.get_outputs()]
    for epoch in range(epochs):
        feeds = {**params, **state, "x": x, "y": y}
        feeds |= {k: np.array(epoch + 1 if k == "step" else v, np.float32) for k, v in hyper.items()}
        out = dict(zip(names, session.run(None, feeds), strict=True))
        params = {n: out[f"new.{n}"] for n in params}
        state = {n: out[f"new.{n}"] for n in state}
        yield lecture_line(epoch, entry, float(out["loss"]), out["predicted"], y.tolist())


def _read_start(weights: dict, path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    return {
        name: np.frombuffer(raw, "<f4", t["length"], t["offset"]).reshape(t["shape"]).copy()
        for name, t in weights["tensors"].items()
    }


def build_train_tab(zoo) -> None:
    """The Train tab (inside the app's gr.Blocks): the knobs, the button and the log that fills as it trains."""
    import gradio as gr

    from demo.components import refuse
    from demo.strings import label, language, message

    models = trainable_models(zoo)
    if not models:
        return
    with gr.Tab(label("tab.train")):
        gr.Markdown(label("train.intro"))
        with gr.Row():
            model = gr.Dropdown(
                models, value="charseq" if "charseq" in models else models[0], label=label("common.model")
            )
            optimizer = gr.Dropdown(list(OPTIMIZERS), value="adam", label=label("train.optimizer"))
            lr = gr.Number(value=0.1, label=label("train.lr"))
            epochs = gr.Number(value=50, precision=0, label=label("train.epochs"), info=label("train.epochs_info"))
            go = gr.Button(label("train.button"), variant="primary")
        log = gr.Textbox(label=label("train.log"), lines=16, max_lines=16, autoscroll=True, interactive=False)

        def run(model_name, optimizer_name, rate, count, request: gr.Request | None = None):
            lang = language(request)
            lines = []
            try:
                for line in train_text(zoo, model_name, optimizer_name, rate, count):
                    lines.append(line)  # the lecture's printed line, as it prints it (both languages)
                    yield "\n".join(lines)
            except TrainingError as error:
                raise refuse(message(error, lang), lang) from None

        go.click(run, [model, optimizer, lr, epochs], log, api_name="train_text", concurrency_limit=TRAINING_RUNS,
                 concurrency_id="train_text")  # fmt: skip
