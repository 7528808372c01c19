"""Shared fixtures: the demo served for real, as `python -m demo` on a free local port."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def digits():
    """Ten real test digits (one per class), scaled up to canvas size: 0..1 ink, [10, 280, 280]."""
    import numpy as np
    from PIL import Image

    from zoo.data import load_mnist5k

    data = load_mnist5k()
    picks = [int(np.flatnonzero(data.y_test == k)[3]) for k in range(10)]
    big = [np.asarray(Image.fromarray(data.x_test[i]).resize((280, 280), Image.Resampling.BILINEAR)) for i in picks]
    return np.stack(big).astype(np.float32) / 255


@pytest.fixture
def write_fake_mnist():
    """Writes the four standard IDX files (random pixels, labels 0..9 in turn) into a folder."""
    import numpy as np

    from zoo.data import write_idx

    def write(folder: Path, n_train: int = 64, n_test: int = 20, gz: bool = True) -> None:
        rng = np.random.default_rng(0)
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".gz" if gz else ""
        for prefix, n in (("train", n_train), ("t10k", n_test)):
            write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, 28, 28)))
            write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", np.arange(n) % 10)

    return write


@pytest.fixture(scope="session")
def demo_temp_dir(tmp_path_factory) -> Path:
    """The demo server's GRADIO_TEMP_DIR (uploads, output images), its own, to count the files it keeps."""
    return tmp_path_factory.mktemp("gradio")


@pytest.fixture(scope="session")
def demo_log(tmp_path_factory) -> Path:
    """The demo server's output (stdout and stderr), to check what a request left in it."""
    return tmp_path_factory.mktemp("demo") / "demo.log"


@pytest.fixture(scope="session")
def demo_url(demo_log, demo_temp_dir):
    from tests.servers import free_port, start

    port = free_port()
    log = demo_log
    process, _ = start([sys.executable, "-m", "demo", "--port", str(port)], port, log=log, cwd=ROOT, timeout=120,
                       env={"GRADIO_TEMP_DIR": str(demo_temp_dir)})  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=30)
