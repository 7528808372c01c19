"""ONNX Runtime sessions for every model in the manifest, each checked against its sha256 and opened when first used.

This is all the demo knows of the models: `models/manifest.json` and the ONNX files. No torch.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from demo.images import BLANK, SPECK, NotADigit
from zoo import manifest
from zoo.corpora import decode, encode
from zoo.manifest import ManifestError  # noqa: F401  (raised by Zoo(): a folder that does not match its manifest)
from zoo.pictures import MIN_CONTRAST  # what a canvas model's `contrast` output means

MAX_TEXT = 1000  # characters a request may send to predict_text
MAX_GENERATE = 1000  # characters generate_text may add
MAX_TEMPERATURE = 5.0
MAX_SEED = 2**32 - 1  # generate's sampler: NumPy's default_rng takes any whole number from 0


class BadRequest(ValueError):
    """A request the models cannot answer; the message says what was wrong and what is accepted. `key` and
    `values`, where given, name the same sentence in demo/strings.py's tables (the page's language)."""

    def __init__(self, message: str, key: str | None = None, **values):
        super().__init__(message)
        self.key, self.values = key, values


def providers() -> list[str]:
    """CUDA when onnxruntime-gpu sees a GPU, else the CPU."""
    available = ort.get_available_providers()
    return (
        ["CUDAExecutionProvider", "CPUExecutionProvider"]
        if "CUDAExecutionProvider" in available
        else ["CPUExecutionProvider"]
    )


def session_options() -> ort.SessionOptions:
    """One intra-op thread, no spinning. A request runs one image; ORT's default pool of spinning threads
    (one per core) then only takes CPU from the web server on the same machine."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    # No memory arena: ONNX Runtime's arena keeps the largest buffers a session ever needed, so one large
    # picture would leave the server holding them for good. Without it, memory comes back after each request.
    options.enable_cpu_mem_arena = False
    return options


class Model:
    """One manifest entry and its ONNX Runtime session. The session is opened when the model is first used
    (not at start-up: most callers use a few of the 60-odd files, and opening all took over a second), from the
    file's bytes checked against the manifest's sha256 again then; one thread opens it, the others wait."""

    def __init__(self, entry: dict, path: Path, providers: list[str]):
        self.entry, self.path, self._providers = entry, path, providers
        self._session: ort.InferenceSession | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.entry["name"]

    @property
    def opened(self) -> bool:
        return self._session is not None

    @property
    def session(self) -> ort.InferenceSession:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    data = self.path.read_bytes()
                    if hashlib.sha256(data).hexdigest() != self.entry["sha256"]:
                        raise manifest.ManifestError(f"{self.path} changed since the demo started: it no longer "
                                                     "matches the manifest's sha256; refusing to serve it")  # fmt: skip
                    self._session = ort.InferenceSession(data, session_options(), providers=self._providers)
        return self._session

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session.run(None, feeds)

    def run_named(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = [output.name for output in self.session.get_outputs()]
        return dict(zip(names, self.session.run(None, feeds), strict=True))


@dataclass
class Layer:
    """One layer's output from a probe model, with what the manifest says of it (`spec`: module, op, kernel,
    stride, padding, params, ...). `values` has the manifest's shape; a text layer's has one row a character."""

    spec: dict
    values: np.ndarray

    @property
    def name(self) -> str:
        return self.spec["name"]

    @property
    def op(self) -> str:
        return self.spec["op"]

    @property
    def module(self) -> str | None:
        return self.spec.get("module")

    @property
    def shape(self) -> list[int]:
        return list(self.values.shape)


@dataclass
class DigitInside:
    """What `Zoo.inspect_digit` returns: the answer and every layer, from the probe of `model`."""

    model: str  # whose layers these are: the float model (an INT8 model is shown through its float model)
    asked: str  # the model the caller named
    note: str  # why the layers are another model's, or ""
    confidences: dict[str, float]
    layers: list[Layer]
    seconds: float

    @property
    def label(self) -> str:
        return max(self.confidences, key=self.confidences.get)


@dataclass
class TextInside:
    """What `Zoo.inspect_text` returns: the next character at every position and every layer's values."""

    model: str
    text: str
    predicted: str
    vocab: list[str]
    layers: list[Layer]
    seconds: float


class Zoo:
    """The served models, by manifest name."""

    def __init__(self, models_dir: str | Path = "models"):
        self.models_dir = Path(models_dir)
        self.providers = providers()
        self.models: dict[str, Model] = {}
        for entry in manifest.load(self.models_dir):  # zoo/manifest.py: the contract, each file sha256-checked
            path = manifest.checked_file(entry, self.models_dir)
            self.models[entry["name"]] = Model(entry, path, self.providers)
        self._weights: dict[str, dict[str, np.ndarray]] = {}

    @property
    def provider(self) -> str:
        """The execution provider ONNX Runtime really uses (a model's session is opened to ask it)."""
        return self.models[next(iter(self.models))].session.get_providers()[0] if self.models else "none"

    def open_in_background(self, names: list[str]) -> threading.Thread:
        """Open `names` on a thread of their own, so that a server answers at once and its first requests find them open."""

        def run():
            for name in names:
                try:
                    self.models[name].session  # noqa: B018
                except Exception as error:  # said here, and again to the request that first uses it
                    print(f"could not open {name}: {type(error).__name__}: {error}")

        # not a daemon: a process that ends while ONNX Runtime is opening a session would abort in C++
        thread = threading.Thread(target=run, name="open-sessions")
        thread.start()
        return thread

    def first_screens(self) -> list[str]:
        """What the demo's tabs answer from: each digit model's canvas model, the probes, the text models."""
        return ([f"{n}-canvas" for n in self.digit_models()] + [f"{n}-probe" for n in self.probed("digits")]
                + self.text_models() + [f"{n}-probe" for n in self.probed("text")])  # fmt: skip

    # ------------------------------------------------------------------ lists for the UI

    def names(self, task: str, kinds: tuple[str, ...] = ("full", "int8")) -> list[str]:
        return [m.name for m in self.models.values() if m.entry["task"] == task and m.entry["kind"] in kinds]

    def digit_models(self) -> list[str]:
        """Digit models served (those with a canvas model), most accurate first (float before int8 on a tie)."""
        names = [n for n in self.names("digits") if f"{n}-canvas" in self.models]
        return sorted(
            names,
            key=lambda n: (-self.models[n].entry["metrics"]["test_accuracy"], self.models[n].entry["kind"] != "full"),
        )

    def text_models(self) -> list[str]:
        return self.names("text", ("full",))

    def get(self, name: str, task: str) -> Model:
        model = self.models.get(name)
        if model is None or model.entry["task"] != task:
            known = ", ".join(self.names(task, ("full", "int8")))
            raise BadRequest(f"Unknown model {name!r}. Choose one of: {known}.")
        return model

    # ------------------------------------------------------------------ digits

    def classify(self, name: str, rgba: np.ndarray) -> tuple[dict[str, float], np.ndarray, float]:
        """A picture as uint8 [H,W,4] RGBA -> ({label: probability}, the 28x28 frame, seconds), through the
        canvas model `<name>-canvas`: the sketch recipe and the digit model in one ONNX graph, the same one
        the browser page and any other runtime run. Raises NotADigit for a blank canvas or a speck."""
        model = self.get(name, "digits")
        if model.entry["kind"] == "canvas":
            model = self.models[model.entry["base_model"]]
        canvas = self.models.get(f"{model.name}-canvas")
        if canvas is None:
            raise BadRequest(f"{name} has no canvas model in the manifest; make it with: python -m export canvas")
        started = time.perf_counter()
        probabilities, frame, ink, contrast = canvas.run({"image": rgba})
        elapsed = time.perf_counter() - started
        return _confidences(model.entry["labels"], probabilities, ink, contrast), frame, elapsed

    def inspect_digit(self, name: str, rgba: np.ndarray) -> DigitInside:
        """A picture as uint8 [H,W,4] RGBA -> the answer and every layer's output, in the order the network
        computes them, from the probe model `<model>-probe` (the canvas model plus every layer as an output).
        Probes exist for float models only: an INT8 model is shown through the float model it was quantised
        from, and `note` says so. Raises NotADigit for a blank canvas or a speck, as `classify` does."""
        model = self.get(name, "digits")
        float_name = model.entry["float_model"] if model.entry["kind"] == "int8" else model.name
        probe = self.models.get(f"{float_name}-probe")
        if probe is None:
            raise BadRequest(f"{name} has no probe model in the manifest. The Inside view shows the float models "
                             f"that have one: {', '.join(self.probed('digits'))}.")  # fmt: skip
        note = ""
        if float_name != name:
            note = (f"The Inside view shows float models: {name} is {float_name} quantised to INT8, so these are "
                    f"{float_name}'s layers and answer.")  # fmt: skip
        started = time.perf_counter()
        outputs = probe.run_named({"image": rgba})
        elapsed = time.perf_counter() - started
        confidences = _confidences(probe.entry["labels"], *(outputs[k] for k in ("probabilities", "ink", "contrast")))
        return DigitInside(float_name, name, note, confidences, _layers(probe, outputs), elapsed)

    def weights(self, name: str) -> dict[str, np.ndarray]:
        """The weights of a probed model (`<name>-probe`'s side file, sha256-checked), by PyTorch's parameter
        names, each in its shape (float32): what the Inside view's worked sums multiply. Read once, then kept."""
        cached = self._weights.get(name)
        if cached is not None:
            return cached
        probe = self.models.get(f"{name}-probe")
        side = probe.entry.get("weights") if probe is not None else None
        if side is None:
            raise BadRequest(f"{name} has no weights file in the manifest (a probe model's `weights`).")
        data = manifest.checked_file(side, self.models_dir).read_bytes()
        dtype = np.dtype(side.get("dtype", "float32")).newbyteorder(
            "<" if side.get("byte_order", "little") == "little" else ">"
        )
        tensors = {
            key: np.frombuffer(data, dtype, t["length"], t["offset"]).astype(np.float32).reshape(t["shape"])
            for key, t in side["tensors"].items()
        }
        self._weights[name] = tensors
        return tensors

    def probed(self, task: str) -> list[str]:
        """The models of `task` that have a probe model (what the Inside view can show)."""
        return [n for n in self.names(task, ("full",)) if f"{n}-probe" in self.models]

    # ------------------------------------------------------------------ text

    def _encode(self, model: Model, text: str, what: str) -> np.ndarray:
        if not isinstance(text, str) or text == "":
            raise BadRequest(
                f"The {what} is empty. Type at least one character of: {_allowed(model)}.",
                f"error.empty_{what}",
                allowed=_allowed(model),
            )
        if len(text) > MAX_TEXT:
            raise BadRequest(f"The {what} is {len(text):,} characters long; the limit is {MAX_TEXT:,}.")
        try:
            return np.array([encode(text, model.entry["vocab"])], dtype=np.int64)
        except ValueError:
            unknown = sorted({c for c in text if c not in model.entry["vocab"]})
            raise BadRequest(
                f"{model.name} does not know the characters {', '.join(map(repr, unknown))}. "
                f"It knows only: {_allowed(model)}.",
                "error.unknown",
                model=model.name,
                unknown=", ".join(map(repr, unknown)),
                allowed=_allowed(model),
            ) from None

    def predict_next(self, name: str, text: str) -> tuple[str, np.ndarray]:
        """The next-character prediction at every position, and the probabilities [T, V]."""
        model = self.get(name, "text")
        indices = self._encode(model, text, "text")
        _, probabilities = model.run({"indices": indices})
        return decode(probabilities[0].argmax(-1), model.entry["vocab"]), probabilities[0]

    def inspect_text(self, name: str, text: str) -> TextInside:
        """The next character at every position and every layer's values ([characters, units] each: the one-hot
        input, each RNN/GRU layer's hidden state, the logits, the probabilities), from `<name>-probe`."""
        model = self.get(name, "text")
        indices = self._encode(model, text, "text")
        probe = self.models.get(f"{model.name}-probe")
        if probe is None:
            raise BadRequest(f"{name} has no probe model in the manifest. The Inside view shows the text models "
                             f"that have one: {', '.join(self.probed('text'))}.")  # fmt: skip
        started = time.perf_counter()
        outputs = probe.run_named({"indices": indices})
        elapsed = time.perf_counter() - started
        vocab = model.entry["vocab"]
        predicted = decode(outputs["probabilities"][0].argmax(-1), vocab)
        return TextInside(model.name, text, predicted, vocab, _layers(probe, outputs, len(text)), elapsed)

    def generate(self, name: str, prefix: str, length: int, temperature: float = 0.0, seed: int = 0) -> str:
        """`prefix` followed by `length` characters, one step-model call per character; sampled (temperature > 0)
        with NumPy's default_rng(seed): the same seed, prefix and temperature give the same text."""
        model = self.get(name, "text")
        step = self.models.get(f"{model.entry['run']}-step")
        if step is None:
            raise BadRequest(f"{name} has no step model in the manifest; re-export it with python -m export {name}")
        if isinstance(length, float) and not length.is_integer() or not isinstance(length, (int, float)):
            raise BadRequest(
                f"The length must be a whole number from 1 to {MAX_GENERATE:,}; got {length!r}.",
                "error.length",
                top=f"{MAX_GENERATE:,}",
                got=repr(length),
            )
        length = int(length)
        if not 1 <= length <= MAX_GENERATE:
            raise BadRequest(
                f"The length must be from 1 to {MAX_GENERATE:,} characters; got {length:,}.",
                "error.length_range",
                top=f"{MAX_GENERATE:,}",
                got=f"{length:,}",
            )
        if not isinstance(temperature, (int, float)) or not 0 <= temperature <= MAX_TEMPERATURE:  # NaN too
            got = f"{temperature:g}" if isinstance(temperature, (int, float)) else repr(temperature)
            raise BadRequest(
                f"The temperature must be a number from 0 (greedy) to {MAX_TEMPERATURE:g}; got {got}.",
                "error.temperature",
                top=f"{MAX_TEMPERATURE:g}",
                got=got,
            )
        if isinstance(seed, float) and seed.is_integer():
            seed = int(seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise BadRequest(
                f"The seed must be a whole number from 0 to {MAX_SEED:,}; got {seed!r}.",
                "error.seed",
                top=f"{MAX_SEED:,}",
                got=repr(seed),
            )
        indices = self._encode(model, prefix, "prefix")[0]
        vocab = step.entry["vocab"]
        hidden = np.zeros((step.entry["layers"], 1, step.entry["hidden_size"]), dtype=np.float32)
        rng = np.random.default_rng(seed)
        for index in indices:  # read the prefix
            logits, _, hidden = step.run({"index": np.array([index]), "hidden": hidden})
        out = []
        for _ in range(length):
            if temperature == 0:
                index = int(logits[0].argmax())
            else:
                # float64: a tiny temperature (1e-46 is 0 in float32) must give the argmax, not 0/0
                scaled = logits[0].astype(np.float64)
                p = np.exp((scaled - scaled.max()) / temperature)
                index = int(rng.choice(len(vocab), p=p / p.sum()))
            out.append(vocab[index])
            logits, _, hidden = step.run({"index": np.array([index]), "hidden": hidden})
        return prefix + "".join(out)

    # ------------------------------------------------------------------ points

    def point_probability(self, points: np.ndarray) -> np.ndarray:
        model = self.get("circles", "points")
        return model.run({"points": np.asarray(points, dtype=np.float32).reshape(-1, 2)})[1][:, 0]


def _confidences(labels: list[str], probabilities: np.ndarray, ink, contrast) -> dict[str, float]:
    """A canvas (or digit probe) model's answer as {label: probability}; NotADigit where it found no digit
    (`ink` false: blank below MIN_CONTRAST, else a speck)."""
    if not ink:
        raise NotADigit(BLANK if contrast < MIN_CONTRAST else SPECK)
    return dict(zip(labels, map(float, probabilities[0]), strict=True))


def _layers(probe: Model, outputs: dict[str, np.ndarray], positions: int | None = None) -> list[Layer]:
    """The probe's outputs as the manifest lists its layers, in order, each in the manifest's shape (digits:
    batch 1 dropped; text: [positions, *shape])."""
    layers = []
    for spec in probe.entry["layers"]:
        shape = list(spec["shape"]) if positions is None else [positions, *spec["shape"]]
        values = outputs[spec["name"]]
        if values.size != int(np.prod(shape)):
            raise ManifestError(f"{probe.name}: output {spec['name']} has shape {list(values.shape)}, "
                                f"the manifest says {shape}")  # fmt: skip
        layers.append(Layer(spec, values.reshape(shape)))
    return layers


def _allowed(model: Model) -> str:
    return " ".join(repr(c) for c in model.entry["vocab"])
