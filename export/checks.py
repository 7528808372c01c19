"""What every proof step shares: the typed failures (each message names the model, the output, the input, the
tolerance and the worst difference), a row of the proof's table, and the file check (sha256 and ONNX's own
checks). export/verify.py and export/replay.py both build on it; it imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import onnx

from zoo.manifest import sha256


class VerificationError(Exception):
    """A model failed its proof; the message names the model, output, input, tolerance and difference."""


class ChecksumMismatch(VerificationError):
    pass


class ShapeMismatch(VerificationError):
    pass


class ValuesMismatch(VerificationError):
    pass


class ArgmaxMismatch(VerificationError):
    pass


class AccuracyLoss(VerificationError):
    pass


class SaturationRisk(VerificationError):
    """An INT8 layer whose u8 x s8 pair sums can leave int16: CPUs without VNNI would compute other integers."""


class InkMismatch(VerificationError):
    pass


class LayerMismatch(VerificationError):
    """A probe's layers are not the model's: a module without an output, an output naming no module, or a
    layer computed otherwise than the code defines it (BatchNorm folded into its convolution)."""


@dataclass
class Row:
    name: str
    kind: str
    max_abs: float = 0.0
    max_rel: float = 0.0  # max |onnx - torch| / max |torch|, per output
    agreement: str = ""
    conditioning: str = ""  # char models: random text at 5x length, both runtimes against float64
    size_kb: float = 0.0
    checks: int = 0  # (input, output) comparisons made

    def update(self, abs_diff: float, rel_diff: float) -> None:
        self.max_abs = max(self.max_abs, abs_diff)
        self.max_rel = max(self.max_rel, rel_diff)
        self.checks += 1


def check_file(entry: dict, models_dir: Path) -> Path:
    """The file is the one the manifest names (sha256), passes onnx's full check and strict shape inference."""
    path = Path(models_dir) / entry["file"]
    if not path.is_file():
        raise ChecksumMismatch(f"{entry['name']}: file {path} is missing")
    actual = sha256(path)
    if actual != entry["sha256"]:
        raise ChecksumMismatch(f"{entry['name']}: {path} has sha256 {actual}, the manifest says {entry['sha256']}")
    onnx.checker.check_model(str(path), full_check=True)
    onnx.shape_inference.infer_shapes(onnx.load(str(path)), check_type=True, strict_mode=True)
    return path
