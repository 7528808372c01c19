"""Results: the table of the runs in a folder, and the spread of the digit models' accuracy over seeds.

`python -m zoo report` prints the README's table from models/checkpoints/*.json; `python -m zoo report
--seeds 0 1 2` trains every digit model with each seed (in a temporary folder, never models/) and prints
the mean and standard deviation of their validation and test accuracy.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from zoo.models import REGISTRY, ZooError
from zoo.train import headline, train


def report(folder: Path) -> str:
    """The README's results table, from the metrics JSON of every run in `folder`."""
    runs = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json")) if not p.stem.endswith("-start")]
    if not runs:
        raise ZooError(f"no metrics in {folder}; train first: python -m zoo train all")
    lines = [
        "| run | task | params | data | result | epochs | wall time | device |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in sorted(runs, key=lambda m: list(REGISTRY).index(m["model"]) if m["model"] in REGISTRY else 99):
        lines.append(f"| {m['run']} | {m['task']} | {m['parameters']:,} | {m['dataset']} | {headline(m)} | "
                     f"{m['epochs']} | {m['wall_time_s']:.1f} s | {m['device']} |")  # fmt: skip
    total = sum(m["wall_time_s"] for m in runs)
    lines.append(f"\nTotal training time: {total / 60:.1f} min.")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- spread over seeds


def digit_models() -> list[str]:
    return [name for name, spec in REGISTRY.items() if spec.task == "digits"]


def seed_spread(
    models: list[str],
    seeds: list[int],
    *,
    committed: Path = Path("models/checkpoints"),
    log: Callable[[str], None] = print,
    **train_options,
) -> str:
    """Train each model with each seed into a temporary folder (models/ is never touched) and return a
    markdown table: mean and sample standard deviation of validation and test accuracy, the epoch where
    the mean validation curve peaks, and the committed run's figures beside them. `train_options` go to
    `zoo.train.train` (device, epochs, threads, dataset, data_dir)."""
    from zoo.machine import describe

    if not seeds:
        raise ZooError("--seeds needs at least one seed")
    log(describe())
    runs: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in models:
            for seed in seeds:
                started = time.perf_counter()
                m = train(name, seed=seed, out=Path(tmp) / f"{name}-{seed}", quiet=True, **train_options).metrics
                runs.setdefault(name, []).append(m)
                log(f"{m['run']} seed {seed}: val {m['val_accuracy']:.2%}  test {m['test_accuracy']:.2%}  "
                    f"{time.perf_counter() - started:.1f} s  ({m['device']})")  # fmt: skip
    lines = [
        "| run | epochs | seeds | val acc mean ± std | test acc mean ± std | val / test per seed | "
        "mean val curve peaks | s per run | committed run: val / test |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for ms in runs.values():
        val, test = [m["val_accuracy"] for m in ms], [m["test_accuracy"] for m in ms]
        per_seed = ", ".join(f"{v:.2%} / {t:.2%}" for v, t in zip(val, test, strict=True))
        curve = [statistics.fmean(c) for c in zip(*(m["history"]["val_accuracy"] for m in ms), strict=True)]
        peak = max(range(len(curve)), key=curve.__getitem__)
        seconds = statistics.fmean(m["wall_time_s"] for m in ms)
        committed_run = _committed(committed / f"{ms[0]['run']}.json")
        lines.append(f"| {ms[0]['run']} | {ms[0]['epochs']} | {len(ms)} | {_spread(val)} | {_spread(test)} | "
                     f"{per_seed} | {curve[peak]:.2%} at epoch {peak + 1} (last {curve[-1]:.2%}) | {seconds:.1f} | "
                     f"{committed_run} |")  # fmt: skip
    lines.append(f"\nstd: sample standard deviation (n-1) over the seeds. {describe()}")
    return "\n".join(lines)


def _spread(values: list[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.2%} ± {std:.2%}"


def _committed(path: Path) -> str:
    if not path.is_file():
        return "none"
    m = json.loads(path.read_text())
    val = f"{m['val_accuracy']:.2%}" if "val_accuracy" in m else "no validation split"
    return f"{val} / {m['test_accuracy']:.2%} (seed {m['seed']})"
