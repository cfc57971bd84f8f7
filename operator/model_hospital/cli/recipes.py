"""`hospital recipe` (the Surgeon writes a recipe) and `hospital recipes list | validate | share`."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    recipe = subparsers.add_parser(
        "recipe", help="write an Oumi training recipe from a diagnosis and cure data",
        description="Chooses the training method and hyperparameters from the diagnosis' severity (and an earlier "
                    "skill report), and writes a complete Oumi TrainingConfig with a recipe header.")
    recipe.add_argument("--diagnosis", required=True, metavar="PATH", help="diagnosis.json")
    recipe.add_argument("--cure", required=True, metavar="DIR", help="folder with cure_sft.jsonl and cure_dpo.jsonl")
    recipe.add_argument("--skill-report", metavar="PATH",
                        help="verification.json of an earlier attempt: halves the learning rate and adds replay when skills degraded")
    recipe.add_argument("--method", choices=["sft", "dpo", "grpo"], default="sft")
    recipe.add_argument("--output", type=Path, default=Path("runs/recipe.yaml"), metavar="PATH",
                        help="where to write the recipe (default: runs/recipe.yaml)")
    recipe.add_argument("--train-output", metavar="DIR",
                        help="the adapter folder training will write (default: 'adapter' beside the recipe)")
    recipe.add_argument("--max-steps", type=int, metavar="N", help="stop training after N steps (a dry run)")
    recipe.add_argument("--q-lora", action="store_true",
                        help="a QLoRA recipe (4-bit NF4 base weights, bf16): written anywhere, trained on a CUDA GPU only")
    recipe.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    recipe.set_defaults(handler=handle_recipe)

    recipes = subparsers.add_parser("recipes", help="list, validate and share recipes",
                                    description="Shareable Oumi recipes with a metadata header (recipes/).")
    actions = recipes.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the recipes in the recipes folder")
    listing.add_argument("--dir", type=Path, metavar="DIR", help="recipes folder (default: the recipes the package ships)")
    listing.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    listing.set_defaults(handler=handle_list)
    validate = actions.add_parser("validate", help="check recipe headers and load each config with Oumi")
    validate.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    validate.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    validate.set_defaults(handler=handle_validate)
    share = actions.add_parser("share", help="write a contribution-ready copy of a recipe, with instructions")
    share.add_argument("path", type=Path, metavar="PATH")
    share.add_argument("--output", type=Path, metavar="DIR", help="recipes folder to write into (default: ./shared-recipes)")
    share.add_argument("--author", metavar="NAME", help="set the header's author")
    share.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    share.set_defaults(handler=handle_share)


def handle_recipe(args) -> int:
    from model_hospital.cli.console import console, emit
    from model_hospital.clinic import recipes
    from model_hospital.clinic.cure.inputs import load_diagnosis, load_skill_report, patient_weights
    from model_hospital.clinic.models import resolve
    from model_hospital.stages.train import default_dtype, explain

    out = console(args.json)
    diagnosis = load_diagnosis(args.diagnosis)
    report = load_skill_report(args.skill_report) if args.skill_report else None
    patient = resolve(patient_weights(diagnosis, args.diagnosis))
    base = patient.base.reference if patient.base else patient.reference
    plan = recipes.plan_treatment(diagnosis, report, args.method)
    train_output = args.train_output or str(args.output.resolve().parent / "adapter")
    config = recipes.training_config(plan, model_path=str(patient.weights_path),
                                     cure_dir=str(Path(args.cure).resolve()), output_dir=train_output,
                                     dtype="bfloat16" if args.q_lora else default_dtype(), max_steps=args.max_steps,
                                     q_lora=args.q_lora)
    path = recipes.write_recipe(args.output, recipes.generated_header(plan, base), config, plan.reasons)
    _, loaded = recipes.load_recipe(path)
    recipes.check_datasets(loaded, path)
    if args.json:
        return emit("recipe", 0, {"recipe": str(path), "base": base, "reasons": list(plan.reasons)},
                    artifacts={"recipe": str(path)})
    explain(plan, out)
    out.print(f"[green]wrote[/] {path} (loads with Oumi's TrainingConfig)")
    out.print(f"next: hospital train --recipe {path} --base {base}")
    return 0


def recipe_files(folder: Path) -> list[Path]:
    """Every recipe YAML under a folder (the header schema and docs are not recipes)."""
    return sorted(p for p in folder.rglob("*.yaml") if p.is_file())


def handle_list(args) -> int:
    from rich.table import Table

    from model_hospital.cli.console import console, emit
    from model_hospital.clinic import recipes
    from model_hospital.errors import HospitalError

    from model_hospital.packaged import recipes_dir

    folder = args.dir or recipes_dir()
    listed: list[dict] = []
    table = Table(title=f"recipes in {folder}")
    table.add_column("recipe", no_wrap=True)
    for column in ("version", "symptom", "method", "tested on", "success", "file"):
        table.add_column(column, overflow="fold")
    for path in recipe_files(folder):
        try:
            header = recipes.parse_header(path.read_text(encoding="utf-8"), path)
        except HospitalError as error:
            table.add_row("[red]invalid[/]", "", "", "", "", "", f"{path}: {error}")
            listed.append({"file": str(path), "valid": False, "error": str(error)})
            continue
        listed.append({"file": str(path), "valid": True, **header.model_dump(mode="json")})
        success = "untested" if header.success_rate is None else f"{header.success_rate:.0%}"
        table.add_row(header.recipe_id, header.version, header.symptom.value, header.method,
                      ", ".join(header.tested_models) or "-", success, str(path.relative_to(folder)))
    if args.json:
        return emit("recipes list", 0, {"folder": str(folder), "recipes": listed})
    console().print(table)
    return 0


def handle_validate(args) -> int:
    from model_hospital.cli.console import console, emit, error_line
    from model_hospital.clinic import recipes
    from model_hospital.errors import HospitalError

    out = console(args.json)
    failures = 0
    checked: list[dict] = []
    for path in args.paths:
        try:
            header, config = recipes.load_recipe(path)
        except HospitalError as error:
            error_line(str(error))
            failures += 1
            checked.append({"file": str(path), "valid": False, "error": str(error)})
            continue
        checked.append({"file": str(path), "valid": True, "recipe_id": header.recipe_id, "version": header.version})
        out.print(f"[green]ok[/] {path}: {header.recipe_id} {header.version} ({header.symptom.value}, "
                  f"{config.training.trainer_type.name}, LoRA r {config.peft.lora_r})")
    code = 2 if failures else 0
    if args.json:
        return emit("recipes validate", code, {"recipes": checked})
    return code


def handle_share(args) -> int:
    from model_hospital.cli.console import console, emit
    from model_hospital.clinic import recipes

    out = console()
    path, instructions = recipes.share_recipe(args.path, args.output or Path("shared-recipes"), author=args.author)
    if args.json:
        return emit("recipes share", 0, {"recipe": str(path), "instructions": list(instructions)},
                    artifacts={"recipe": str(path)})
    out.print(f"[green]wrote[/] {path}")
    for line in instructions:
        out.print(line)
    return 0
