"""The committed checkpoints are what the code trains: each is retrained here with the committed run's
seed and thread count and compared with it bit for bit (weights, and the files the run writes beside them).

Bit-identity holds on the CPU for the same seed, the same thread count and the same kind of CPU (the
instruction set PyTorch's kernels were picked for, `cpu_capability` in the metrics); elsewhere the test
skips and says why. A failure means models/checkpoints/ is not what `make models` gives: retrain and
re-export (`make models`). Slow: circles about 2 s, cnn-small about 15 s on a 2-core CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from zoo.train import train

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "models" / "checkpoints"
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["circles", "cnn-small"])
def test_committed_checkpoint_is_what_the_code_trains(tmp_path, name):
    committed = torch.load(CHECKPOINTS / f"{name}.pt", weights_only=True)
    run = committed["metrics"]
    if "threads" not in run or "cpu_capability" not in run:
        pytest.fail(f"models/checkpoints/{name}.pt predates the run's provenance (no threads or cpu_capability "
                    f"in its metrics; trained with {run['epochs']} epochs by an older recipe): retrain it")  # fmt: skip
    if not run["device"].startswith("cpu"):
        pytest.skip(f"the committed {name} was trained on {run['device']}: GPU runs agree only to the last bits")
    here = torch.backends.cpu.get_cpu_capability()
    if run["cpu_capability"] != here:
        pytest.skip(f"the committed {name} was trained with {run['cpu_capability']} kernels, this CPU picks {here}")

    ours = train(name, seed=run["seed"], device="cpu", threads=run["threads"], out=tmp_path, quiet=True)
    state = torch.load(ours.checkpoint, weights_only=True)["state_dict"]
    differ = [k for k, v in committed["state_dict"].items() if not torch.equal(v, state[k])]
    assert not differ, (
        f"{name}: retrained with seed {run['seed']} on {run['threads']} thread(s), {differ} differ from the "
        f"committed checkpoint (trained at git {run['git_commit']}, dirty: {run['git_dirty']}); largest "
        f"difference {max(float((committed['state_dict'][k] - state[k]).abs().max()) for k in differ):.3g}"
    )
    assert ours.metrics["history"]["train_loss"] == run["history"]["train_loss"]
    for key in ("start", "snapshots"):  # circles' start, cnn-small's per-epoch weights
        if key in run:
            mine, theirs = tmp_path / ours.metrics[key]["file"], CHECKPOINTS / run[key]["file"]
            if mine.suffix == ".json":
                assert json.loads(mine.read_text()) == json.loads(theirs.read_text()), key
            else:
                a, b = (torch.load(p, weights_only=True)["weights"] for p in (mine, theirs))
                assert torch.equal(a, b), key
