"""The cure's strength against what it costs: one point per strength, on the same diagnosis and cure data.

    python benchmarks/perf/strength.py --diagnosis DIAGNOSIS.json --cure SYNTH_DIR
                                       [--point NAME:[method=dpo,]learning_rate=3e-4,lora_r=16,lora_alpha=32,num_train_epochs=3]...
                                       [--existing NAME:VERIFICATION.json]... [--output DIR] [--plot]

Trains once per --point (its training overrides over the recipe's choices; `method=` picks
sft, the default, dpo or grpo, on the same cure folder) with the same stage code as `hospital treat`, verifies each adapter against the untreated patient,
and prints, per point: held-out-family unsafe compliance, over-refusal on held-out
look-alikes, degenerate answers, each skill's accuracy and reference-NLL change against
its margin, training minutes and the verdict. --existing adds a point already verified
(a verify stage's verification.json) without training it again; with --existing alone,
nothing is trained. Writes OUTPUT/strength.json
and, with --plot, OUTPUT/strength.png (unsafe compliance against over-refusal, one dot per
point, skills kept or lost marked).

The recipe's defaults are chosen from these figures; the reasons sit beside the numbers
in benchmarks/perf/README.md. On the bundled SmolLM2-135M each point takes 15-30 minutes
on two CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from verification_figures import percent, verification_figures

DEFAULT_POINTS = (
    "gentle:learning_rate=1e-4,lora_r=8,lora_alpha=16,num_train_epochs=3",
    "short:learning_rate=3e-4,lora_r=16,lora_alpha=32,num_train_epochs=1",
)


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and "e" not in text.lower() and "." not in text else value


TRAINED_METHODS = ("sft", "dpo", "grpo")


def parse_point(text: str) -> tuple[str, dict]:
    """NAME:key=value,key=value -> (NAME, overrides); the keys are TrainInput.overrides', and `method`."""
    name, _, body = text.partition(":")
    if not name or not body:
        raise argparse.ArgumentTypeError(f"{text!r}: write NAME:key=value[,key=value]")
    overrides = {}
    for pair in body.split(","):
        key, sep, value = pair.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"{pair!r} in {text!r}: write key=value")
        if key.strip() == "method":
            if value.strip() not in TRAINED_METHODS:
                raise argparse.ArgumentTypeError(f"{pair!r} in {text!r}: the method is one of "
                                                 f"{', '.join(TRAINED_METHODS)}")
            overrides["method"] = value.strip()
            continue
        try:
            overrides[key.strip()] = _number(value.strip())
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"{pair!r} in {text!r}: the value is not a number") from error
    return name, overrides


def parse_existing(text: str) -> tuple[str, Path]:
    name, _, path = text.partition(":")
    if not name or not path or not Path(path).is_file():
        raise argparse.ArgumentTypeError(f"{text!r}: write NAME:PATH to an existing verification.json")
    return name, Path(path)


def parse_arguments(argv: list[str] | None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled:smollm2-135m-instruct")
    parser.add_argument("--diagnosis", type=Path, required=True, help="the untreated patient's diagnosis.json")
    parser.add_argument("--cure", type=Path, required=True, help="a synth stage's folder (cure_sft.jsonl)")
    parser.add_argument("--symptom", action="append", default=None)
    parser.add_argument("--point", action="append", type=parse_point, default=None,
                        help="NAME:overrides; repeatable (default: " + "; ".join(DEFAULT_POINTS) + ")")
    parser.add_argument("--existing", action="append", type=parse_existing, default=[],
                        help="NAME:verification.json of a point already trained and verified; repeatable")
    parser.add_argument("--output", type=Path, default=Path("runs/perf-strength"))
    parser.add_argument("--skill-budget", type=int, default=64, help="skill items per domain; 0: all of them, as "
                        "hospital treat's verify and methods.py")
    parser.add_argument("--plot", action="store_true", help="also draw OUTPUT/strength.png")
    args = parser.parse_args(argv)
    if args.point is None:  # only points already verified: draw them; else the default strengths
        args.point = [] if args.existing else [parse_point(text) for text in DEFAULT_POINTS]
    return args


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    args = parse_arguments(argv)

    from rich.console import Console

    from model_hospital.api.stages import TrainInput, VerifyInput
    from model_hospital.stages.runner import run_stage

    console = Console(stderr=True)
    output = args.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    symptoms = args.symptom or ["safety"]
    diagnosis = str(args.diagnosis.resolve())
    rows = [figures(name, {}, None, path) for name, path in args.existing]
    for name, point in args.point:
        overrides = {key: value for key, value in point.items() if key != "method"}
        train = run_stage("train", TrainInput(diagnosis=diagnosis, cure=str(args.cure.resolve()),
                                              method=point.get("method", "sft"), overrides=overrides),
                          output / f"train-{name}", console)
        if not train.ok:
            console.print(f"[red]{name}: training failed: {train.message}[/red]")
            return 1
        verify = run_stage("verify", VerifyInput(before=args.model, after=train.artifacts["adapter"], symptoms=symptoms,
                                                 skill_budget=args.skill_budget or None, diagnosis=diagnosis),
                           output / f"verify-{name}", console)
        if "verification" not in verify.artifacts:
            console.print(f"[red]{name}: verify wrote no verification: {verify.message}[/red]")
            return 1
        rows.append(figures(name, point, train.summary.get("train_seconds"), Path(verify.artifacts["verification"])))
        (output / "strength.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    (output / "strength.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print_table(rows, args.model)
    if args.plot:
        plot(rows, output / "strength.png")
    return 0


def figures(name: str, overrides: dict, seconds: float | None, verification_path: Path) -> dict:
    """One point's row, read from its verification.json."""
    return {"point": name, "overrides": overrides, **verification_figures(verification_path),
            "training_minutes": None if seconds is None else round(seconds / 60, 1)}


def print_table(rows: list[dict], model: str) -> None:
    from rich.console import Console
    from rich.table import Table

    findings = sorted({name for row in rows for name in row["findings"]})
    domains = sorted({name for row in rows for name in row["skills"]})
    table = Table(title=f"Cure strength on {model}: held-out failure rate after (failed/scored); skill accuracy "
                        "change and NLL rise / margin; training minutes", title_justify="left")
    for column in ["point", "overrides", *findings, *domains, "train min", "verdict"]:
        table.add_column(column)
    for row in rows:
        cells = [row["point"], ",".join(f"{k}={v}" for k, v in row["overrides"].items()) or "(as run)"]
        for name in findings:
            found = row["findings"].get(name)
            cells.append(f"{percent(found['after'])} ({found['failed_after']}/{found['scored_after']})" if found else "-")
        for domain in domains:
            skill = row["skills"].get(domain)
            if not skill or skill["accuracy_delta"] is None:
                cells.append("-")
                continue
            nll = "" if skill["nll_delta"] is None else f" NLL {skill['nll_delta']:+.2f}/{skill['nll_margin']:.2f}"
            cells.append(f"{skill['accuracy_delta']:+.0%}{nll} {skill['status']}")
        minutes = row["training_minutes"]
        cells += ["-" if minutes is None else f"{minutes:.1f}", row["verdict"]]
        table.add_row(*cells)
    Console(width=200).print(table)


def plot(rows: list[dict], path: Path) -> None:
    """Unsafe compliance (x) against over-refusal (y), one labelled dot per point, coloured by what the skills did."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4.5))
    for row in rows:
        unsafe = row["findings"].get("safety", {}).get("after")
        refusal = row["findings"].get("over_refusal", {}).get("after")
        if unsafe is None or refusal is None:
            continue
        statuses = {s["status"] for s in row["skills"].values()}
        colour = "tab:red" if "degraded" in statuses else "tab:green" if statuses <= {"kept"} else "tab:orange"
        axes.scatter([unsafe * 100], [refusal * 100], s=60, edgecolors=colour,
                     facecolors=colour if colour == "tab:green" else "none")
        axes.annotate(row["point"], (unsafe * 100, refusal * 100), textcoords="offset points", xytext=(5, 5))
    axes.axvline(10, linestyle=":", color="grey")
    axes.axhline(10, linestyle=":", color="grey")
    axes.set_xlabel("unsafe compliance (safety), held-out families (%)")
    axes.set_ylabel("over-refusal, held-out look-alikes (%)")
    axes.set_title("Skills: green = all kept, orange = some undecided, red = one lost", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
