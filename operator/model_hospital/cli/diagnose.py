"""`hospital diagnose`: examine a model for symptoms and write a report."""

from __future__ import annotations

from pathlib import Path

from model_hospital.api.common import Symptom
from model_hospital.cli.console import (
    add_judge_options,
    add_public_option,
    add_suite_options,
    judge_settings,
    positive_int,
    public_sets_from,
    suite_files,
)
from model_hospital.cli.served import add_endpoint_options, served_endpoint
from model_hospital.cli.verify import add_generation_arguments


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "diagnose", help="probe a model for unsafe answers, hallucination and bias, and write a report",
        description="Runs the probe suites through the model, judges every answer and grades each symptom.")
    patient = parser.add_mutually_exclusive_group(required=True)
    patient.add_argument("--model", metavar="REF",
                         help="bundled:smollm2-135m-instruct, a Hugging Face id[@revision], or a local folder")
    patient.add_argument("--endpoint", metavar="URL",
                         help="examine a served model instead: the base URL of its OpenAI-compatible API "
                              "(e.g. http://host:8000/v1); needs --served-model")
    add_endpoint_options(parser)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--symptom", action="append", metavar="S", type=Symptom.parse,
                       help=f"a symptom to screen ({', '.join(s.value for s in Symptom)}); repeatable")
    which.add_argument("--full-scan", action="store_true", help="screen every symptom")
    parser.add_argument("--budget", type=positive_int, metavar="N", help="at most N probes per symptom")
    parser.add_argument("--split", choices=["seed", "heldout", "all"], default="all",
                        help="which probes: the seed split (makes cure data), the held-out split (verifies), or all")
    parser.add_argument("--output", type=Path, default=Path("runs/diagnosis"), metavar="DIR",
                        help="folder for diagnosis.json, diagnosis.md and diagnosis.png (default: runs/diagnosis)")
    add_generation_arguments(parser)
    add_judge_options(parser)
    add_suite_options(parser, skills=False)
    add_public_option(parser)
    parser.add_argument("--fail-on", type=_severity, metavar="SEVERITY",
                        help="exit 7 when a finding is at this severity or worse (LOW, MODERATE, HIGH, CRITICAL), "
                             "and 5 when a finding could not be measured: a gate for CI")
    parser.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    parser.add_argument("--dry-run", action="store_true", help="check the inputs and show the plan; run nothing")
    parser.set_defaults(handler=handle)


def _severity(text: str):
    import argparse

    from model_hospital.api.common import Severity

    gates = [s.value for s in Severity if s.rank >= Severity.LOW.rank]
    if text.strip().upper() not in gates:
        raise argparse.ArgumentTypeError(f"{text!r}: choose from {', '.join(gates)}")
    return Severity(text.strip().upper())


def gate(diagnosis, fail_on) -> tuple[int, str]:
    """The exit code of a diagnosis under --fail-on, and why: 7 at or over it, 5 when a finding was not measured."""
    from model_hospital.api.common import Severity
    from model_hospital.cli import exit_codes

    if fail_on is None:
        return exit_codes.OK, "no --fail-on gate"
    reached = [f"{name.value} {result.severity.value}" for name, result in diagnosis.findings.items()
               if result.severity.rank >= fail_on.rank]
    if reached:
        return exit_codes.SEVERITY_REACHED, f"at or over {fail_on.value}: {', '.join(reached)}"
    unmeasured = [name.value for name, result in diagnosis.findings.items() if result.severity is Severity.UNMEASURED]
    if unmeasured or not diagnosis.findings:
        return exit_codes.INCONCLUSIVE, f"not measured (nothing scored): {', '.join(unmeasured) or 'every finding'}"
    return exit_codes.OK, f"every finding under {fail_on.value}"


def stage_input_from(args):
    from model_hospital.api.stages import DiagnoseInput
    from model_hospital.cli.verify import generation_from

    symptoms = list(Symptom) if args.full_scan else list(dict.fromkeys(args.symptom))
    judge = judge_settings(args)
    return DiagnoseInput(
        model=args.model, endpoint=served_endpoint(args), symptoms=symptoms, budget=args.budget,
        splits=["seed", "heldout"] if args.split == "all" else [args.split],
        generation=generation_from(args),
        judge=judge, suites=suite_files(args), public=public_sets_from(args))


def handle(args) -> int:
    from model_hospital.extras import require_engine

    require_engine(args.engine)  # before anything loads: a dry run must not say all is well without it
    from model_hospital.cli.console import console as make_console, emit
    from model_hospital.stages import diagnose as stage

    out = make_console(args.json)
    stage.quiet_libraries(args.verbose)
    stage_input = stage_input_from(args)
    planned = stage.plan(stage_input)
    if args.dry_run:
        from model_hospital.clinic.models import check_reference

        if stage_input.model is not None:
            check_reference(stage_input.model)
        patient = stage_input.model or f"{stage_input.endpoint.model} at {stage_input.endpoint.url}"
        plan = {s.value: {"probes": len(p), "max_new_tokens": stage.suite_max_new_tokens(s)}
                for s, p in planned.items()}
        if args.json:
            return emit("diagnose", 0, {"dry_run": True, "model": patient, "plan": plan,
                                        "output": str(args.output)})
        else:
            for symptom, row in plan.items():
                out.print(f"would send {row['probes']} {symptom} probes (up to {row['max_new_tokens']} new tokens each)")
            out.print(f"to {patient}; reports would go to {args.output}")
        return 0
    diagnosis = stage.diagnose(stage_input, out)
    artifacts = stage.write_reports(diagnosis, args.output)
    code, why = gate(diagnosis, args.fail_on)
    if args.json:
        return emit("diagnose", code, stage.summary(diagnosis), artifacts=artifacts, gate=why)
    from model_hospital.clinic.report import console_table

    out.print(console_table(diagnosis))
    if diagnosis.treatment_priority:
        out.print("Treatment priority: " + " > ".join(s.value for s in diagnosis.treatment_priority))
    out.print(f"Report: {artifacts['report']}  (chart: {artifacts['chart']}, data: {artifacts['diagnosis']})")
    if args.fail_on is not None:
        out.print(f"--fail-on {args.fail_on.value}: {why} (exit {code})")
    return code
