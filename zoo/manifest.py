"""models/manifest.json: the one hand-off from export to serving, the browser page and any other runtime.

The exporter writes it (`write`), the proof, the demo and the page's static export read it (`load`, `entries`)
and check each file it names against its sha256 (`checked_file`) before using it. Standard library only: the
demo imports this without torch or numpy.

An entry's keys (`Entry`) are the contract; `models/README.md` (the model card) describes them for users.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TypedDict

FILE = "manifest.json"
FORMAT = 1


class ManifestError(RuntimeError):
    """The models folder does not match its manifest: it is absent, or a file is missing or altered."""


class Entry(TypedDict, total=False):
    """One model file. Every entry has the first group; the others depend on its kind and task."""

    name: str  # unique: "cnn-bn", "cnn-bn-int8", "cnn-bn-canvas", "cnn-bn-probe", "hihello-step", ...
    kind: str  # full | int8 | canvas | step | probe | replay
    task: str  # digits | text | points
    model: str  # the architecture's name in zoo.models.REGISTRY
    run: str  # the training run it comes from (one architecture may have several, e.g. cnn-fashion-mnist)
    file: str  # the ONNX file, relative to the manifest's folder
    sha256: str  # of `file`
    bytes: int
    opset: int
    inputs: dict  # name -> {shape, dtype}
    outputs: dict  # name -> {shape, dtype, doc}
    input_contract: str  # what the inputs mean, in words
    metrics: dict  # the run's figures (test_accuracy, val_accuracy, ...) and provenance (git_commit, torch, ...)
    checkpoint: str  # the PyTorch checkpoint the proof compares against
    checkpoint_sha256: str
    parameters: int
    test_data: str  # ONNX backend-test folder: input_N.pb and the expected output_N.pb
    labels: list  # digits: the class names
    vocab: list  # text: the characters, in index order
    layers: list | int  # probe: every layer output [{name, module, op, shape, ...}]; text: stacked RNN layers
    hidden_size: int  # text
    base_model: str  # canvas, probe, replay: the model it wraps
    float_model: str  # int8: the float model it was quantised from
    canvas_model: str  # digit probe: the canvas model whose answer it repeats
    weights: dict  # probe: {file, sha256, bytes, tensors: {name: {offset, length, shape}}}
    points: dict  # circles: the training and held-out points, for plots
    training: dict  # circles: the data and initial weights the page's trainer starts from


def sha256(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load(models_dir: str | Path) -> list[Entry]:
    """The entries of `models_dir/manifest.json`, in its order; ManifestError if there is none."""
    path = Path(models_dir) / FILE
    if not path.is_file():
        raise ManifestError(f"no manifest at {path}: point at a folder made by `python -m export all`")
    return json.loads(path.read_text())["models"]


def entries(models_dir: str | Path) -> dict[str, Entry]:
    """The entries by name."""
    return {entry["name"]: entry for entry in load(models_dir)}


def checked_file(entry: Entry, models_dir: str | Path, file_key: str = "file", sha_key: str = "sha256") -> Path:
    """The path of the file an entry names, after checking it exists and matches its sha256."""
    path = Path(models_dir) / entry[file_key]
    where = Path(models_dir) / FILE
    if not path.is_file():
        raise ManifestError(f"{path} is listed in {where} but missing")
    if sha256(path) != entry[sha_key]:
        raise ManifestError(f"{path} does not match the sha256 in {where}: altered or corrupted; refusing to serve it")
    return path


# Keys whose value describes a file an entry brings along ({file, sha256, bytes, ...}): a probe's weights, the
# circles run's training file, a replay's weights per epoch.
SIDE_FILES = ("weights", "training", "epochs")


def files_of(entry: Entry) -> list[dict]:
    """Every file an entry names, each as a dict with `file` and `sha256`: its ONNX file, then its side files."""
    return [{"file": entry["file"], "sha256": entry["sha256"]}] + [entry[k] for k in SIDE_FILES if entry.get(k)]


def write(models: list[Entry], models_dir: str | Path) -> Path:
    """Write the manifest (the exporter sorts the entries first)."""
    path = Path(models_dir) / FILE
    path.write_text(json.dumps({"format": FORMAT, "models": models}, indent=2) + "\n")
    return path
