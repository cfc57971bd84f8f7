"""`hospital treat`: diagnose, make cure data, train and verify, retried until healed; resumable."""

from __future__ import annotations

import argparse
from pathlib import Path

from model_hospital.api.common import Symptom
from model_hospital.api.protocol import DEFAULT_MAX_ATTEMPTS
from model_hospital.api.resources import TrainingSpec, TreatmentSpec
from model_hospital.api.stages import TRAINING_METHODS, TRAINING_OVERRIDES, override_problem
from model_hospital.cli.console import (add_judge_options, add_suite_options, judge_settings, positive_int, share,
                                        suite_files)
from model_hospital.cli.verify import (
    _fraction,
    add_generation_arguments,
    generation_from,
    quiet_libraries,
)

# Skill items per domain in each verify of a treatment: every scored item (None), as `hospital verify`. Both models
# answer them on every attempt. At 64 a domain (40 before that could not decide either), the factual skill's 58 and
# writing's 60 were all there were, and a cure that moved accuracy a few points either way could not exclude a
# 10-point loss (h28: factual -3 points [-16, +9], "about 162 more items would decide it"); factual now scores 192
# (short answers, 24 tokens each) and writing 90. The model before treatment is examined once and cached, so the
# cost is the treated model's answers.
DEFAULT_SKILL_BUDGET: int | None = None


def _override(text: str) -> tuple[str, int | float]:
    """KEY=VALUE of --override: a whole number or a decimal, checked as spec.training.overrides is."""
    key, equals, raw = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE (e.g. learning_rate=1e-4)")
    try:
        value: int | float = int(raw) if raw.strip().lstrip("-").isdigit() else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{key}={raw!r}: the value must be a number") from None
    key = key.strip()
    problem = override_problem(key, value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return key, value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "treat", help="the whole treatment: diagnose -> cure -> train -> verify, retried until healed",
        description="Runs every stage through the same entrypoint a Kubernetes Job uses, keeps each stage's "
                    "input and result under DIR/<stage>-<attempt>/, and resumes from the last finished stage "
                    "when run again. Exit code 0 only for Healed; 3 NotHealed, 4 Degraded, 5 Inconclusive, "
                    "6 Failed (a stage failed), 2 bad input.")
    parser.add_argument("--model", default="bundled:smollm2-135m-instruct", metavar="REF",
                        help="the patient (default: bundled:smollm2-135m-instruct)")
    parser.add_argument("--symptom", required=True, action="append", metavar="S", type=Symptom.parse,
                        help=f"a symptom to treat ({', '.join(s.value for s in Symptom)}); repeatable")
    parser.add_argument("--output", type=Path, default=Path("runs/treatment"), metavar="DIR",
                        help="folder for every stage's input, result and artifacts (default: runs/treatment)")
    parser.add_argument("--max-attempts", type=positive_int, default=DEFAULT_MAX_ATTEMPTS, metavar="N",
                        help=f"train and verify at most N times (default {DEFAULT_MAX_ATTEMPTS}, as a Treatment's)")
    parser.add_argument("--budget", type=positive_int, metavar="N", help="at most N probes per symptom")
    parser.add_argument("--skill-budget", type=positive_int, default=DEFAULT_SKILL_BUDGET, metavar="N",
                        help="at most N skill items per domain in each verify (default: every scored item, as "
                             "`hospital verify`; fewer decide the no-harm bounds less often)")
    parser.add_argument("--threshold", type=_fraction, default=TreatmentSpec.model_fields["skill_threshold"].default,
                        metavar="X",
                        help="relative skill drop flagged as degradation when significant (default 0.1)")
    parser.add_argument("--method", choices=TRAINING_METHODS, default=TrainingSpec.model_fields["method"].default,
                        help="training method (sft_dpo: SFT, then DPO starting from the SFT adapter)")
    parser.add_argument("--max-examples", type=positive_int, metavar="N",
                        help="at most N cure examples, replay included (default: the Treatment's, 500); fewer train "
                             "faster and teach less")
    parser.add_argument("--replay-share", type=share, metavar="X",
                        help="share of the SFT rows that replay help (harmless look-alikes, skill items) beside the "
                             "cure's rows, 0 to under 1 (default: the Treatment's, 0.5); more keeps help, cures less")
    parser.add_argument("--max-steps", type=positive_int, metavar="N", help="stop training after N steps")
    parser.add_argument("--override", type=_override, action="append", default=[], metavar="KEY=VALUE",
                        help=f"a training field set over the recipe's choice (spec.training.overrides), repeatable: "
                             f"{', '.join(TRAINING_OVERRIDES)}; e.g. --override learning_rate=1e-4")
    parser.add_argument("--time-budget", type=positive_int, metavar="MINUTES",
                        help="start no retry that would end past MINUTES from the start of this run (judged by "
                             "the last attempt's time); the last verdict stands and its message says so")
    parser.add_argument("--watch", action="store_true",
                        help="train watching a validation split of the cure: stop early when over-refusal or wrong "
                             "answers to look-alikes rise or the target rate stops improving, and keep the best step")
    parser.add_argument("--q-lora", action="store_true",
                        help="train QLoRA: the adapter over 4-bit base weights (bitsandbytes; needs a CUDA GPU)")
    parser.add_argument("--subprocess", action="store_true",
                        help="run each stage as a `hospital stage` subprocess, exactly as a Job would")
    add_generation_arguments(parser)
    add_judge_options(parser)
    add_suite_options(parser)
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document only (its result is treatment.json; see `hospital --help`)")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from model_hospital.cli import exit_codes
    from model_hospital.cli.console import console as make_console, emit
    from model_hospital.api.stages import WatchSettings
    from model_hospital.cli.verify import failed
    from model_hospital.errors import HospitalError
    from model_hospital.treat import (
        TreatmentPlan,
        in_process_runner,
        load_verification,
        subprocess_runner,
        treat,
    )

    if args.q_lora:  # before the diagnosis and the cure, not after them
        from model_hospital.stages.train import require_q_lora

        require_q_lora("--q-lora")
    out = make_console(args.json)
    quiet_libraries(args)
    plan = TreatmentPlan(
        model=args.model, symptoms=list(dict.fromkeys(args.symptom)), max_attempts=args.max_attempts,
        budget=args.budget, skill_budget=args.skill_budget, threshold=args.threshold, method=args.method,
        max_steps=args.max_steps, overrides=dict(args.override), time_budget_minutes=args.time_budget,
        max_examples=args.max_examples, replay_share=args.replay_share, q_lora=args.q_lora,
        generation=generation_from(args), judge=judge_settings(args),
        suites=suite_files(args), watch=WatchSettings() if args.watch else None)
    runner = subprocess_runner if args.subprocess else in_process_runner
    try:
        treatment = treat(plan, args.output, out, runner)
    except HospitalError:
        raise
    except Exception as error:  # noqa: BLE001 - treatment.json says Failed; so does the exit code
        return failed("treat", error, args.json, Path(args.output) / "treatment.json")
    code = exit_codes.for_verdict(treatment.verdict)
    if args.json:
        return emit("treat", code, treatment.model_dump(mode="json", by_alias=True),
                    artifacts={"treatment": str(Path(args.output) / "treatment.json")})
    out.print(stage_table(treatment))
    watched = training_line(treatment)
    if watched:
        out.print(watched, markup=False)
    verification = load_verification(treatment)
    if verification is not None:
        from model_hospital.clinic.verification_report import before_after_table

        out.print(before_after_table(verification))
    out.print(f"[bold]Treatment: {treatment.verdict}[/] after {treatment.attempts} attempt(s) - {treatment.message}")
    out.print(f"Treated model: {treatment.adapter}")
    out.print(f"Record: {Path(args.output) / 'treatment.json'}")
    return code


def stage_table(treatment):
    """A Rich table of the stages run (or reused) and their times."""
    from rich.table import Table

    table = Table(title="Stages", title_justify="left")
    for column in ("stage", "seconds", "", "result"):
        table.add_column(column)
    for record in treatment.stages:
        table.add_row(f"{record.stage}-{record.attempt}", f"{record.seconds:.1f}",
                      "reused" if record.resumed else "ran", record.message[:90])
    return table


def training_line(treatment) -> str | None:
    """The last watched train stage in one line (the step kept, its target, over-refusal and wrong-answer rates, as
    a Treatment's status.training shows them); None when no training was watched."""
    from model_hospital.clinic.training_watch import summary_line

    record = next((r for r in reversed(treatment.stages)
                   if r.stage == "train" and isinstance(r.summary.get("watch"), dict)), None)
    return f"Training watch (train-{record.attempt}): {summary_line(record.summary['watch'])}" if record else None
