"""`python -m export NAME|all` writes models/; `python -m export --check` proves them."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from zoo import manifest as zoo_manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m export", description="Export zoo checkpoints to ONNX and prove them."
    )
    parser.add_argument(
        "name",
        nargs="?",
        help="a trained run (e.g. cnn, cnn-fashion-mnist), all, canvas (re-make "
        "the canvas models from the digit models already exported), probes (re-make the probe models from the "
        "checkpoints of the models already exported, without training), replay (circles' training file and the "
        "digit replays from those checkpoints), or train (the training-step files: every lecture model's step with "
        "each optimiser, their start files and mnist-5k's training digits; replaces only the manifest's train entries)",
    )
    parser.add_argument(
        "--check", action="store_true", help="verify every model in the manifest; non-zero exit on failure"
    )
    parser.add_argument(
        "--engines",
        action="store_true",
        help="with --check, also run every file in OpenVINO and tract (export/engines.py)",
    )
    parser.add_argument("--checkpoints", type=Path, default=Path("models/checkpoints"))
    parser.add_argument("--out", "--models", dest="out", type=Path, default=Path("models"))
    parser.add_argument("--no-int8", action="store_true", help="skip the INT8 variants of digit models")
    args = parser.parse_args(argv)
    if not args.check and not args.name:
        parser.error("name a run to export (or all), or pass --check")

    from zoo.models import ZooError

    try:
        if args.name == "canvas":
            export_canvases(args.out)
        elif args.name == "probes":
            export_probes(args.out)
        elif args.name == "replay":
            from export.replay import export_replays

            export_replays(args.out)
        elif args.name == "train":
            from export.train_graphs import publish_training

            publish_training(args.out)
        elif args.name:
            export(args.name, args.checkpoints, args.out, int8=not args.no_int8)
        if args.check:
            return max(check(args.out), check_engines(args.out) if args.engines else 0)
        return 0
    except ZooError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def export(name: str, checkpoints: Path, out: Path, int8: bool = True) -> list[dict]:
    from export.canvas import export_canvas
    from export.card import publish
    from export.onnx import digit_test_set, digits_of, export_run, sha256
    from export.probe import export_probe, probed
    from export.quantize import MAX_ACCURACY_LOSS, accuracy, int8_accuracy_loss, quantize_digits, validation_set
    from export.replay import training_entries
    from zoo.models import REGISTRY

    runs = list(REGISTRY) if name == "all" else [name]
    manifest_path = out / "manifest.json"
    manifest = zoo_manifest.load(out) if manifest_path.is_file() else []
    written = []
    for run in runs:
        entries = export_run(run, checkpoints, out)
        for entry in entries:
            entry["checkpoint"] = os.path.relpath(entry["checkpoint"], out)
        if int8 and entries[0]["task"] == "digits":
            float_entry = entries[0]
            int8_path = out / f"{run}-int8.onnx"
            # The data loaded once: calibration (train split), the rule (validation split), the report (test)
            data = digits_of(float_entry)
            float_path = out / float_entry["file"]
            quantize_digits(float_path, int8_path, data)
            float_val, int8_val, loss = int8_accuracy_loss(float_path, int8_path, *validation_set(data))
            if loss > MAX_ACCURACY_LOSS:
                int8_path.unlink()
                print(f"{run}-int8: not shipped, validation accuracy {int8_val:.2%} vs {float_val:.2%} float")
            else:
                float_test, int8_test = (accuracy(p, *digit_test_set(data)) for p in (float_path, int8_path))
                entries.append({
                    **{k: v for k, v in float_entry.items() if k not in ("test_data",)},
                    "name": f"{run}-int8", "kind": "int8", "file": int8_path.name, "float_model": run,
                    "sha256": sha256(int8_path), "bytes": int8_path.stat().st_size,
                    "metrics": {**float_entry["metrics"], "test_accuracy": round(int8_test, 5),
                                "float_test_accuracy_ort": round(float_test, 5), "val_accuracy": round(int8_val, 5),
                                "float_val_accuracy_ort": round(float_val, 5)},
                })  # fmt: skip
        if entries[0]["task"] == "digits":  # the sketch recipe fused with each digit model (export/canvas.py)
            entries += [export_canvas(e, out) for e in list(entries)]
        entries += [export_probe(e, out) for e in list(entries) if probed(e)]  # every layer an output (probe.py)
        entries += training_entries(entries, out)  # circles' training file, the digit replays (replay.py)
        names = {e["name"] for e in entries}
        manifest = [e for e in manifest if e["name"] not in names and e.get("run") != run] + entries
        for entry in entries:
            print(f"{entry['name']:<22} {entry['kind']:<5} {entry['bytes'] / 1024:>8.1f} KB  -> {out / entry['file']}")
        written += entries
    publish(manifest, out)
    return written


def export_canvases(out: Path) -> list[dict]:
    """Re-make every canvas model from the digit models already in `out` (no checkpoint, no torch needed)."""
    from export.canvas import export_canvas
    from export.card import publish

    manifest = zoo_manifest.load(out)
    digits = [e for e in manifest if e["task"] == "digits" and e["kind"] in ("full", "int8")]
    canvases = [export_canvas(e, out) for e in digits]
    names = {e["name"] for e in canvases}
    publish([e for e in manifest if e["name"] not in names] + canvases, out)
    for entry in canvases:
        print(f"{entry['name']:<22} {entry['kind']:<6} {entry['bytes'] / 1024:>8.1f} KB  -> {out / entry['file']}")
    return canvases


def export_probes(out: Path) -> list[dict]:
    """Re-make every probe model (and weights file) from the checkpoints of the full models in `out`."""
    from export.card import publish
    from export.probe import export_probe, probed

    manifest = zoo_manifest.load(out)
    probes = [export_probe(e, out) for e in manifest if probed(e)]
    names = {e["name"] for e in probes}
    publish([e for e in manifest if e["name"] not in names] + probes, out)
    for entry in probes:
        print(f"{entry['name']:<22} {entry['kind']:<6} {entry['bytes'] / 1024:>8.1f} KB  -> {out / entry['file']}"
              f" + {entry['weights']['bytes'] / 1024:.1f} KB {entry['weights']['file']}")  # fmt: skip
    return probes


def check(models_dir: Path) -> int:
    from export.verify import ATOL, RTOL, check_all, format_table

    rows, failures = check_all(models_dir)
    print(format_table(rows))
    checks = sum(r.checks for r in rows)
    print(
        f"\n{len(rows)} models verified ({checks} output comparisons, tolerance max abs diff <= {ATOL:g} + {RTOL:g} x max|PyTorch output|), {len(failures)} failed"
    )
    for failure in failures:
        print(f"FAIL {type(failure).__name__}: {failure}", file=sys.stderr)
    return 1 if failures else 0


def check_engines(models_dir: Path) -> int:
    """Every file in OpenVINO and tract: pass, or the named exception (which must still fail)."""
    from export.engines import ENGINES, PICTURES, check, exception, missing, version

    entries = zoo_manifest.load(models_dir)
    failures = []
    for engine in ENGINES:
        reason = missing(engine)
        if reason:
            failures.append(reason)
            continue
        print(f"\n{engine} {version(engine)}:")
        for entry in entries:
            known = exception(engine, entry)
            failure = check(engine, entry, models_dir)
            if known and known[0] == "other sizes" and failure:  # the test data must still pass
                failure = check(engine, entry, models_dir, other_sizes=False) or failure
                if not failure.startswith(tuple(name for name, *_ in PICTURES)):
                    known = None
            if known and failure is None:
                failures.append(f"{entry['name']} now runs in {engine}: drop its exception in export/engines.py")
            elif failure and not known:
                failures.append(f"{entry['name']} in {engine}: {failure}")
            status = (
                "pass" if failure is None else f"FAIL: {failure}" if not known else f"fails on {known[0]}: {failure}"
            )
            print(f"  {entry['name']:<24} {status}")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
