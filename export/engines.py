"""Every committed file in two other engines: OpenVINO and tract (`pip install openvino tract`).

Each file runs on its test data (its outputs held to export/tolerance.py's rule), an INT8 model on 100 test
digits against ONNX Runtime, a replay on its last epoch's weights against ONNX Runtime; a picture graph (canvas,
digit probe, replay) also on pictures of other sizes, where its frame must be the reference recipe's
(export/reference.py) bit for bit. What an engine cannot run is named in EXCEPTIONS, with the engine's own issue;
tests/test_engines.py holds both: every other file passes, and every named exception still fails (so that the
table in the model card stays true).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENGINES = ("openvino", "tract")
MEASURED = {"openvino": "2026.4.1", "tract": "0.23.9"}  # the versions the model card's table was measured with
# Pictures of other sizes than the test data's 160x120: (name, width, height, transparent)
PICTURES = (
    ("photo 600x450", 600, 450, False),
    ("photo 1000x800", 1000, 800, False),
    ("photo 1600x1200", 1600, 1200, False),
    ("transparent sketchpad 1300x1000", 1300, 1000, True),
    ("photo 4000x3000", 4000, 3000, False),
)
TRACT_PICTURES = (
    "tract 0.23 runs no ONNX `Loop` (sonos/tract#277), which makes the thumbnail of a picture over 1024 px a "
    "strip of rows at a time, and no `If` whose branches give tensors of different shapes (sonos/tract#2695, "
    "sonos/tract#1062), which the recipe's steps are (the picture as it is or its thumbnail, alpha or colour as "
    "the ink)"
)
OPENVINO_SIZES = (
    "OpenVINO's CPU plug-in runs float64 as float32 (openvinotoolkit/openvino#4681, #33448): the recipe computes "
    "Pillow's resampling windows, weights and sums in float64 as Pillow does, and in float32 a window bound "
    "flips by one pixel on some sizes (frames up to 0.19 apart at 600x450). The test data (160x120) pass"
)
# (engine, manifest kind or kind:task) -> (what fails: "file" or "other sizes", why); every other pair must pass
EXCEPTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("tract", "canvas"): ("file", TRACT_PICTURES),
    ("tract", "probe:digits"): ("file", TRACT_PICTURES),
    ("tract", "replay"): ("file", TRACT_PICTURES),
    ("openvino", "canvas"): ("other sizes", OPENVINO_SIZES),
    ("openvino", "probe:digits"): ("other sizes", OPENVINO_SIZES),
    ("openvino", "replay"): ("other sizes", OPENVINO_SIZES),
}


def _keys(engine: str, entry: dict) -> tuple[tuple[str, str], tuple[str, str]]:
    """How the tables above name an entry: by its kind, or by its kind and task."""
    return (engine, entry["kind"]), (engine, f"{entry['kind']}:{entry['task']}")


def exception(engine: str, entry: dict) -> tuple[str, str] | None:
    """(what fails: the whole "file" or its pictures of "other sizes", why) where `engine` cannot run the manifest
    entry's file, or None when it must."""
    return next((EXCEPTIONS[key] for key in _keys(engine, entry) if key in EXCEPTIONS), None)


def missing(engine: str) -> str | None:
    """None when the engine's Python package imports, else why not (and how to install it)."""
    try:
        __import__({"openvino": "openvino", "tract": "tract"}[engine])
    except ImportError as error:
        return f"{engine} is not installed ({error}); pip install {engine}"
    return None


def version(engine: str) -> str:
    from importlib.metadata import version as package_version

    return package_version(engine)


@functools.lru_cache(maxsize=4)
def _openvino(path: str):
    import openvino as ov

    core = ov.Core()  # float32 throughout: some CPUs would otherwise run in bfloat16
    return core.compile_model(core.read_model(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})


@functools.lru_cache(maxsize=4)
def _tract(path: str):
    import tract

    return tract.onnx().load(path).into_model().into_runnable()


def run(engine: str, path: Path, feeds: list[np.ndarray]) -> list[np.ndarray]:
    """The file's outputs, in the graph's order, for its inputs in the graph's order."""
    if engine == "openvino":
        compiled = _openvino(str(path))
        result = compiled(feeds)
        return [np.asarray(result[output]) for output in compiled.outputs]
    return [np.asarray(t.to_numpy()) for t in _tract(str(path)).run(feeds)]


@dataclass
class Case:
    """One input to a file, and how its outputs are judged: against `want` by the rule, and (pictures) the frame
    against the reference recipe's."""

    name: str
    feeds: list[np.ndarray]
    want: list[np.ndarray]
    frame: np.ndarray | None = None
    rules: dict | None = None  # {output: Tolerance} for every graph output, where the manifest lists only some


def picture(width: int, height: int, transparent: bool) -> np.ndarray:
    """uint8 RGBA: a photo of a handwritten 3 on grey paper (JPEG-decoded), or a 7 drawn on a transparent pad."""
    from PIL import Image, ImageDraw

    from export.sketches import THIN, photo
    from zoo.pictures import plain_rgba

    if not transparent:
        return plain_rgba(photo((width, height)))
    pad = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    points = [(x * width / 1000, y * height / 1000) for x, y in THIN[7]]
    ImageDraw.Draw(pad).line(points, fill=(20, 20, 20, 255), width=max(2, width // 60), joint="curve")
    return np.asarray(pad)


def cases(entry: dict, models_dir: Path, other_sizes: bool = True) -> Iterator[Case]:
    """The inputs a file is checked on in another engine, with what ONNX Runtime (or the test data) says: the
    cheapest first, so that a file an engine cannot load fails at once."""
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    from export.reference import frame_or_blank

    models_dir = Path(models_dir)
    path = models_dir / entry["file"]
    if entry.get("test_data"):
        folder = models_dir / entry["test_data"]
        read = lambda f: numpy_helper.to_array(onnx.load_tensor(str(folder / f)))  # noqa: E731
        feeds = [read(f"input_{i}.pb") for i in range(len(entry["inputs"]))]
        yield Case("its test data", feeds, [read(f"output_{i}.pb") for i in range(len(entry["outputs"]))])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    if entry["kind"] in ("train", "train-inside"):
        yield from _training_cases(entry, models_dir, session)
    if entry["kind"] == "int8":
        from export.onnx import digit_test_set, digits_of

        images, _ = digit_test_set(digits_of(entry), 100)
        yield Case("100 test digits", [images], session.run(None, {"image": images}))
    if entry["inputs"].get("image", {}).get("dtype") == "uint8":  # a picture graph
        extra = _replay_weights(entry, models_dir) if entry["kind"] == "replay" else []
        if entry["kind"] == "replay":
            from export.canvas import test_canvas

            rgba = test_canvas()
            yield Case("the test canvas, last epoch's weights", [rgba, *extra], _ort(session, entry, [rgba, *extra]),
                       frame_or_blank(rgba)[0])  # fmt: skip
        for name, width, height, transparent in PICTURES if other_sizes else ():
            rgba, frame = _picture(width, height, transparent)
            feeds = [rgba, *extra]
            yield Case(name, feeds, _ort(session, entry, feeds), frame)


def _training_cases(entry: dict, models_dir: Path, session) -> Iterator[Case]:
    """A training file: one step from the start weights (zero optimiser state) on the first batch of its proof's
    order and on one example of it, its loss within the proof's 1e-5 and every new weight and state within 1e-4 +
    1e-4 x its largest value (export/train_check.py). An inside file: the proof's inputs through the start weights,
    every layer within the float rule."""
    from export import train_check as tc
    from export import train_graphs as tg
    from export.tolerance import FLOAT_ATOL, Tolerance

    weights = tg.read_start(entry["weights"], models_dir)
    inputs, outputs = [i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()]

    def case(name: str, values: dict[str, np.ndarray]) -> Case:
        feeds = [values[n] for n in inputs]
        want = session.run(None, dict(zip(inputs, feeds, strict=True)))
        if entry["kind"] == "train-inside":
            return Case(name, feeds, want, rules={n: Tolerance(FLOAT_ATOL) for n in outputs})
        rules = {n: Tolerance(tc.LOSS_ATOL if n == "loss" else tc.WEIGHT_ATOL + tc.WEIGHT_RTOL * float(np.abs(w).max(initial=0)))
                 for n, w in zip(outputs, want, strict=True)}  # fmt: skip
        return Case(name, feeds, want, rules=rules)

    if entry["kind"] == "train-inside":
        from export.train_inside import proof_inputs

        for name, x in proof_inputs(entry, models_dir):
            yield case(f"{name}, the start weights", {**weights, "x": x})
        return
    hyper = tc.hyperparameters(entry)
    rng = np.random.default_rng(tc.SEED)
    x, y = tc.batches(entry, models_dir, rng)[0]
    state = {f"{s}.{n}": np.zeros_like(w) for n, w in weights.items() for s in entry["state"]}
    scalars = {k: np.array(1 if k == "step" else v, np.float32) for k, v in hyper.items()}
    for bx, by in ((x, y), (x[:1], y[:1])):
        masks = tg.draw_masks(entry["model"], len(bx), rng)
        yield case(
            f"one step from the start, a batch of {len(bx)}", {**weights, **state, "x": bx, "y": by, **masks, **scalars}
        )


@functools.lru_cache(maxsize=len(PICTURES))
def _picture(width: int, height: int, transparent: bool) -> tuple[np.ndarray, np.ndarray]:
    """A picture of another size and the reference recipe's frame of it (zeros without ink)."""
    from export.reference import frame_or_blank

    rgba = picture(width, height, transparent)
    return rgba, frame_or_blank(rgba)[0]


def _ort(session, entry: dict, feeds: list[np.ndarray]) -> list[np.ndarray]:
    return session.run(None, dict(zip(entry["inputs"], feeds, strict=True)))


def _replay_weights(entry: dict, models_dir: Path) -> list[np.ndarray]:
    """The last epoch's weights from a replay's epochs file, in its inputs' order."""
    epochs = entry["epochs"]
    raw = np.frombuffer((Path(models_dir) / epochs["file"]).read_bytes(), dtype="<f2")
    row = raw[(epochs["count"] - 1) * epochs["row_bytes"] // 2 :][: epochs["row_bytes"] // 2]
    tensors = epochs["tensors"]
    return [row[t["offset"] : t["offset"] + t["length"]].reshape(t["shape"]).copy()
            for name, t in ((n, tensors[n]) for n in entry["inputs"] if n != "image")]  # fmt: skip


def check(
    engine: str,
    entry: dict,
    models_dir: Path,
    other_sizes: bool = True,
    each: Callable[[str], None] | None = None,
) -> str | None:
    """None when `engine` computes the entry's file as the rule says on every case (with or without the pictures
    of other sizes), else the first failure."""
    from export.tolerance import argmax_agreement, judge, tolerances

    rules = tolerances(entry, models_dir)
    path = Path(models_dir) / entry["file"]
    try:
        for case in cases(entry, models_dir, other_sizes):
            got = run(engine, path, case.feeds)
            for name, value, want in zip(case.rules or entry["outputs"], got, case.want, strict=True):
                if value.shape != want.shape:
                    return f"{case.name}: output {name!r} has shape {value.shape}, expected {want.shape}"
                diff = float(np.abs(value.astype(np.float64) - want.astype(np.float64)).max()) if want.size else 0.0
                rule = (case.rules or rules)[name]
                agree = argmax_agreement(value, want) if rule.argmax else None
                broken = judge(entry["name"], name, rule, diff, agree)
                if broken:
                    return f"{case.name}: {broken}"
            if case.frame is not None:
                frame = got[list(entry["outputs"]).index("frame")]
                if not np.array_equal(frame, case.frame):
                    return (f"{case.name}: the frame differs from the reference recipe's by up to "
                            f"{float(np.abs(frame - case.frame).max()):.3g}")  # fmt: skip
            if each:
                each(case.name)
    except Exception as error:  # an engine's own failure to load or run the file, in its words
        return f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
    return None
