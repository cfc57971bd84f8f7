"""`hospital stage NAME --input FILE --output DIR`: the entrypoint of every stage Job."""

from __future__ import annotations

from pathlib import Path

from model_hospital.stages import STAGE_MODULES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "stage", help="run one stage from a JSON input (what the Kubernetes Jobs run)")
    parser.add_argument("name", choices=sorted(STAGE_MODULES), help="the stage to run")
    parser.add_argument("--input", required=True,
                        help="stage input JSON file, or - to read $HOSPITAL_STAGE_INPUT")
    parser.add_argument("--output", required=True, type=Path, help="folder for artifacts and result.json")
    parser.add_argument("--json", action="store_true",
                        help="also print the stage result as one JSON document (result.json is written either way)")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from model_hospital.cli.console import console, emit
    from model_hospital.errors import HospitalError
    from model_hospital.stages.runner import read_input, refuse_input, run_stage

    try:
        stage_input = read_input(args.name, args.input)
    except HospitalError as error:
        refuse_input(args.name, args.output, error)  # the contract: result.json whatever happened
        raise
    result = run_stage(args.name, stage_input, args.output, console(json_mode=True))
    if result is None:  # a worker node of a distributed stage: node 0 reports
        return 0
    # A stage that ran is a Job that succeeded, whatever verdict it reached: the verdict is in its result.
    code = 0 if result.ok else 1
    if getattr(args, "json", False):
        return emit(f"stage {args.name}", code, result.model_dump(mode="json"))
    return code
