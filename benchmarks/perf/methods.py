"""SFT, DPO, SFT-then-DPO (from the SFT adapter) and GRPO on the same diagnosis and cure, side by side.

    python benchmarks/perf/methods.py [--model REF] [--diagnosis PATH] [--symptom safety] [--output DIR]
                                      [--methods sft,dpo,sft_dpo,grpo] [--max-examples N]
                                      [--max-steps N | --max-steps METHOD=N ...] [--watch] [--tiny]

Diagnoses the patient once (or reads --diagnosis), makes the cure data once, then
trains and verifies each method with the same stage code as `hospital treat`
(SFT-then-DPO trains DPO starting from the SFT run's adapter). Prints per method:
the held-out failure rate of each treated symptom, over-refusal on held-out benign
look-alikes, each skill's accuracy change, training minutes, and the verdict;
writes the same figures to OUTPUT/methods.json.

--tiny runs it on the tiny random test model with token-sized budgets (a smoke run:
its verdicts are Inconclusive); the tiny model's answers give the judges nothing to
cure, so --tiny needs --diagnosis. The default patient is the bundled SmolLM2-135M;
that run takes hours on two CPU cores. --max-steps caps training steps, for every
method (N) or for one (grpo=40: GRPO answers four times per prompt at each step, so
on CPU its recipe's epochs take far longer than the others'); the output folder is
reused stage by stage, so methods may run in separate invocations on one folder.
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
    parser.add_argument("--skill-budget", type=int, default=None, help="skill items per domain (default: all, as "
                                                                         "hospital treat's verify)")
    parser.add_argument("--max-examples", type=int, default=None, help="cure examples at most (default: synth's)")
    parser.add_argument("--max-steps", action="append", default=[], metavar="N|METHOD=N",
                        help="training steps, for every method (N) or one (METHOD=N); default: the recipe's epochs")
    parser.add_argument("--watch", action="store_true", help="train with the training watch (early stop)")
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"--methods: unknown {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    args.max_steps = steps_by_method(args.max_steps, parser.error)
    if args.tiny:
        if args.diagnosis is None:
            parser.error("--tiny needs --diagnosis: the tiny model's random answers give the judges nothing to cure")
        args.model = TINY
        args.budget = args.budget or 16
        args.skill_budget = min(args.skill_budget or 2, 2)
        args.max_steps = {method: args.max_steps.get(method, 1) for method in METHODS}
    args.methods = methods
    return args


def steps_by_method(values: list[str], error) -> dict[str, int]:
    """--max-steps values (N for every method, METHOD=N for one) as method -> steps; a later value wins."""
    steps: dict[str, int] = {}
    for value in values:
        method, _, count = value.rpartition("=")
        if method and method not in METHODS:
            error(f"--max-steps {value}: unknown method {method}; choose from {', '.join(METHODS)}")
        if not count.isdigit() or int(count) < 1:
            error(f"--max-steps {value}: the steps must be a whole number of at least 1")
        steps.update({method: int(count)} if method else dict.fromkeys(METHODS, int(count)))
    return steps


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    args = parse_arguments(argv)

    from rich.console import Console

    from model_hospital.api.stages import DiagnoseInput, GenerationSettings, SynthInput, VerifyInput, WatchSettings

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
    synth_sizes = {"min_examples": 4, "max_examples": 12} if args.tiny else (
        {"max_examples": args.max_examples} if args.max_examples else {})
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


def run_stage(stage: str, stage_input, folder: Path, console):
    """The stage's result: the one in `folder` when it finished ok with exactly this input (an earlier
    invocation on the same output folder), else the stage run now."""
    from model_hospital.stages import runner
    from model_hospital.treat import finished_result

    input_text = stage_input.model_dump_json(indent=2)
    reused = finished_result(folder, input_text)
    if reused is not None:
        console.print(f"[dim]{folder.name}: finished before with the same input, reusing it[/]")
        return reused
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "input.json").write_text(input_text, encoding="utf-8")
    return runner.run_stage(stage, stage_input, folder, console)


def train_method(method: str, trained: dict, diagnosis: str, output: Path, args, watch, console) -> dict:
    """Trains one method (SFT-then-DPO from the SFT run's adapter, training SFT first when it has not been)."""
    from model_hospital.api.stages import TrainInput

    cure = str(output / "synth")
    seconds = 0.0
    start_from = None
    if method == "sft_dpo":
        if "sft" not in trained:
            trained["sft"] = train_method("sft", trained, diagnosis, output, args, watch, console)
        start_from, seconds = trained["sft"]["adapter"], trained["sft"]["seconds"]
    result = run_stage("train", TrainInput(
        diagnosis=diagnosis, cure=cure, method="dpo" if method == "sft_dpo" else method,
        max_steps=args.max_steps.get(method), start_from=start_from, watch=watch), output / f"train-{method}", console)
    return {"adapter": result.artifacts["adapter"], "seconds": seconds + result.summary["train_seconds"],
            "max_steps": args.max_steps.get(method), "watch": result.summary.get("watch")}


def figures(method: str, trained: dict, verification_path: Path) -> dict:
    """One method's row: held-out failure rates, over-refusal, skill changes, minutes, verdict."""
    watched = trained.get("watch") or {}
    return {"method": method, **verification_figures(verification_path),
            "training_minutes": round(trained["seconds"] / 60, 2), "max_steps": trained.get("max_steps"),
            "chosen_step": watched.get("chosen_step")}


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
