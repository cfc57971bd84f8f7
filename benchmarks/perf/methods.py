"""SFT, DPO, SFT-then-DPO (from the SFT adapter) and GRPO on the same diagnosis and cure, side by side.

    python benchmarks/perf/methods.py [--model REF] [--diagnosis PATH] [--symptom safety] [--output DIR]
                                      [--methods sft,dpo,sft_dpo,grpo] [--watch] [--tiny]

Diagnoses the patient once (or reads --diagnosis), makes the cure data once, then
trains and verifies each method with the same stage code as `hospital treat`
(SFT-then-DPO trains DPO starting from the SFT run's adapter). Prints per method:
the held-out failure rate of each treated symptom, over-refusal on held-out benign
look-alikes, each skill's accuracy change, training minutes, and the verdict;
writes the same figures to OUTPUT/methods.json.

--tiny runs it on the tiny random test model with token-sized budgets (a smoke run:
its verdicts are Inconclusive); the tiny model's answers give the judges nothing to
cure, so --tiny needs --diagnosis. The default patient is the bundled SmolLM2-135M;
that run takes hours on two CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from verification_figures import percent, verification_figures

METHODS = ("sft", "dpo", "sft_dpo", "grpo")
TINY = "bundled:tiny-random-llama"


def parse_arguments(argv: list[str] | None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled:smollm2-135m-instruct")
    parser.add_argument("--tiny", action="store_true", help=f"the tiny test model ({TINY}) with token-sized budgets")
    parser.add_argument("--diagnosis", type=Path, help="an existing diagnosis.json of the model (skips diagnose)")
    parser.add_argument("--symptom", action="append", default=None)
    parser.add_argument("--output", type=Path, default=Path("runs/perf-methods"))
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of {', '.join(METHODS)}")
    parser.add_argument("--budget", type=int, default=None, help="probes per symptom (default: all)")
    parser.add_argument("--skill-budget", type=int, default=64)
    parser.add_argument("--max-steps", type=int, default=None, help="training steps per method (default: the recipe's epochs)")
    parser.add_argument("--watch", action="store_true", help="train with the training watch (early stop)")
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"--methods: unknown {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    if args.tiny:
        if args.diagnosis is None:
            parser.error("--tiny needs --diagnosis: the tiny model's random answers give the judges nothing to cure")
        args.model = TINY
        args.budget = args.budget or 16
        args.skill_budget = min(args.skill_budget, 2)
        args.max_steps = args.max_steps or 1
    args.methods = methods
    return args


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    args = parse_arguments(argv)

    from rich.console import Console

    from model_hospital.api.stages import DiagnoseInput, GenerationSettings, SynthInput, VerifyInput, WatchSettings
    from model_hospital.stages.runner import run_stage

    console = Console(stderr=True)
    output = args.output.resolve()
    generation = GenerationSettings(max_new_tokens=8, batch_size=16) if args.tiny else GenerationSettings()
    symptoms = args.symptom or ["safety"]
    if args.diagnosis is not None:
        diagnosis = str(args.diagnosis.resolve())
    else:
        diagnose = run_stage("diagnose", DiagnoseInput(model=args.model, symptoms=symptoms, budget=args.budget,
                                                       generation=generation), output / "diagnose", console)
        diagnosis = diagnose.artifacts["diagnosis"]
    synth_sizes = {"min_examples": 4, "max_examples": 12} if args.tiny else {}
    run_stage("synth", SynthInput(diagnosis=diagnosis, model=args.model, **synth_sizes), output / "synth", console)
    watch = WatchSettings(every_steps=1, max_new_tokens=8) if args.watch and args.tiny else (
        WatchSettings() if args.watch else None)
    trained: dict[str, dict] = {}
    rows = []
    for method in args.methods:
        trained[method] = train_method(method, trained, diagnosis, output, args, watch, console)
        verify = run_stage("verify", VerifyInput(
            before=args.model, after=trained[method]["adapter"], symptoms=symptoms, budget=args.budget,
            skill_budget=args.skill_budget, generation=generation, diagnosis=diagnosis),
            output / f"verify-{method}", console)
        rows.append(figures(method, trained[method], Path(verify.artifacts["verification"])))
    (output / "methods.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print_table(rows, args.model)
    return 0


def train_method(method: str, trained: dict, diagnosis: str, output: Path, args, watch, console) -> dict:
    """Trains one method (SFT-then-DPO from the SFT run's adapter, training SFT first when it has not been)."""
    from model_hospital.api.stages import TrainInput
    from model_hospital.stages.runner import run_stage

    cure = str(output / "synth")
    seconds = 0.0
    start_from = None
    if method == "sft_dpo":
        if "sft" not in trained:
            trained["sft"] = train_method("sft", trained, diagnosis, output, args, watch, console)
        start_from, seconds = trained["sft"]["adapter"], trained["sft"]["seconds"]
    result = run_stage("train", TrainInput(
        diagnosis=diagnosis, cure=cure, method="dpo" if method == "sft_dpo" else method,
        max_steps=args.max_steps, start_from=start_from, watch=watch), output / f"train-{method}", console)
    return {"adapter": result.artifacts["adapter"], "seconds": seconds + result.summary["train_seconds"],
            "watch": result.summary.get("watch")}


def figures(method: str, trained: dict, verification_path: Path) -> dict:
    """One method's row: held-out failure rates, over-refusal, skill changes, minutes, verdict."""
    watched = trained.get("watch") or {}
    return {"method": method, **verification_figures(verification_path),
            "training_minutes": round(trained["seconds"] / 60, 2), "chosen_step": watched.get("chosen_step")}


def print_table(rows: list[dict], model: str) -> None:
    from rich.console import Console
    from rich.table import Table

    findings = sorted({name for row in rows for name in row["findings"]})
    domains = sorted({name for row in rows for name in row["skills"]})
    table = Table(title=f"Training methods on {model} ({os.cpu_count()} CPUs visible): held-out failure rate "
                        "after (scored), skill accuracy change, training minutes", title_justify="left")
    for column in ["method", *findings, *[f"{d} Δ" for d in domains], "train min", "verdict"]:
        table.add_column(column)
    for row in rows:
        cells = [row["method"]]
        for name in findings:
            found = row["findings"].get(name)
            cells.append(f"{percent(found['after'])} ({found['scored_after']})" if found else "-")
        for domain in domains:
            skill = row["skills"].get(domain)
            cells.append(f"{skill['accuracy_delta']:+.0%}" if skill and skill["accuracy_delta"] is not None else "-")
        cells += [f"{row['training_minutes']:.1f}", row["verdict"]]
        table.add_row(*cells)
    Console(width=160).print(table)


if __name__ == "__main__":
    sys.exit(main())
