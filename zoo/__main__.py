"""`python -m zoo list`, `python -m zoo train NAME|all [...]` and `python -m zoo report [--seeds ...]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo", description="The lectures' models: list and train them.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="print every model: name, task, parameters, input, description")
    report = commands.add_parser(
        "report", help="print the results table (markdown) from the metrics JSONs; with --seeds, train the "
                       "digit models with each seed (in a temporary folder) and print the spread")  # fmt: skip
    report.add_argument("--out", type=Path, default=Path("models/checkpoints"),
                        help="where the metrics JSONs are (with --seeds: the committed runs to show beside)")  # fmt: skip
    report.add_argument("--seeds", type=int, nargs="+", help="train each digit model with these seeds")
    report.add_argument("--models", nargs="+", help="with --seeds: these models (default: every digit model)")
    train = commands.add_parser("train", help="train one model, or all of them")
    train.add_argument("name", help="a model name from `python -m zoo list`, or all")
    for command in (train, report):
        command.add_argument("--dataset", help="digit models: mnist-5k (default, embedded), mnist, fashion-mnist")
        command.add_argument("--data-dir", type=Path, help="folder with the IDX files of mnist / fashion-mnist")
        command.add_argument("--epochs", type=int, help="epochs (default: the model's own, see zoo/train.py)")
        command.add_argument("--device", default="auto", help="auto (CUDA when available), cuda or cpu")
        command.add_argument("--threads", type=int,
                             help="CPU threads (default: torch's for digit models, 1 for text and points); "
                                  "the same seed and threads give the same weights on the same CPU")  # fmt: skip
    train.add_argument("--batch-size", type=int,
                       help="digit models: images per step (default: the model's own for the device; "
                            "the learning rate follows by the square root of the ratio)")  # fmt: skip
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", type=Path, default=Path("models/checkpoints"), help="where checkpoints go")
    train.add_argument("--compile", action="store_true",
                       help="on a GPU, capture the step as a CUDA graph (digits: each step; text and points: the "
                            "whole epoch); on the CPU, torch.compile the digit models (a one-time cost; optional)")  # fmt: skip
    args = parser.parse_args(argv)

    from zoo.models import REGISTRY, ZooError, count_parameters, get_spec

    try:
        if args.command == "list":
            print(f"{'name':<12} {'task':<7} {'params':>9}  {'input':<46} description")
            for spec in REGISTRY.values():
                params = count_parameters(spec.build())
                print(f"{spec.name:<12} {spec.task:<7} {params:>9,}  {spec.input:<46} {spec.description}")
            return 0
        if args.command == "report":
            from zoo.report import digit_models, report, seed_spread

            if not args.seeds:
                print(report(args.out))
                return 0
            models = [get_spec(n).name for n in args.models] if args.models else digit_models()
            if any(get_spec(n).task != "digits" for n in models):
                raise ZooError("--seeds reports digit models (validation and test accuracy); "
                               f"digit models: {', '.join(digit_models())}")  # fmt: skip
            table = seed_spread(models, args.seeds, committed=args.out, log=lambda line: print(line, flush=True),
                                dataset=args.dataset, data_dir=args.data_dir, epochs=args.epochs,
                                device=args.device, threads=args.threads)  # fmt: skip
            print(table)
            return 0
        from zoo.train import train as train_model

        names = list(REGISTRY) if args.name == "all" else [get_spec(args.name).name]
        for name in names:
            digits = get_spec(name).task == "digits"
            # `all` applies --dataset and --batch-size to the digit models; a named model gets them as given
            batch_size = args.batch_size if digits or args.name != "all" else None
            train_model(name, dataset=args.dataset if digits else None, data_dir=args.data_dir, epochs=args.epochs,
                        batch_size=batch_size, device=args.device, seed=args.seed, out=args.out,
                        compile=args.compile, threads=args.threads)  # fmt: skip
        return 0
    except ZooError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
