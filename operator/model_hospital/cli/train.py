"""`hospital train`: run a recipe with `oumi train` and leave a LoRA adapter usable as --model."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="fine-tune with a recipe (oumi train) and leave a LoRA adapter",
        description="Runs `oumi train -c RECIPE` and leaves the LoRA adapter in the recipe's training.output_dir, "
                    "marked with its base model so that `--model ADAPTER_DIR` works in diagnose and verify.")
    parser.add_argument("--recipe", required=True, type=Path, metavar="PATH", help="recipe.yaml from `hospital recipe`")
    parser.add_argument("--merge", action="store_true", help="also write a merged full model next to the adapter")
    parser.add_argument("--base", metavar="REF",
                        help="the base model's reference to record (default: the recipe's model_name)")
    parser.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from model_hospital.cli.console import console, emit
    from model_hospital.stages.train import train_recipe

    out = console(args.json)
    outcome = train_recipe(args.recipe, out, merge=args.merge, base_reference=args.base)
    if args.json:
        return emit("train", 0, outcome)
    else:
        out.print(f"[green]trained[/] in {outcome['seconds']} s: adapter at {outcome['adapter']}"
                  + (f", merged model at {outcome['merged']}" if "merged" in outcome else ""))
        out.print(f"next: hospital diagnose --model {outcome['adapter']} --full-scan")
    return 0
