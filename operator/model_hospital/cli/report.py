"""`hospital report`: prints a diagnosis or verification that a run left on disk (or on the artifact volume)."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="print a diagnosis or verification from its file, in the console or as JSON",
        description="Reads a diagnosis.json or verification.json (or the folder a diagnose or verify run wrote) "
                    "and prints its tables, or with --json the whole document in the CLI envelope. On Kubernetes, "
                    "`kubectl hospital report tx NAME` runs this in a short-lived pod on the artifact volume. "
                    "Exit code 0 when the file was read, 2 when it is missing or of another kind.")
    parser.add_argument("result", type=Path, metavar="RESULT", help="diagnosis.json, verification.json or a folder")
    parser.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from model_hospital.api.stages import Diagnosis
    from model_hospital.cli.console import console, emit
    from model_hospital.clinic.compare import DIAGNOSIS_SCHEMA, read_result
    from model_hospital.clinic.verification import Verification

    path, body = read_result(args.result)
    kind = "diagnosis" if body["schema"] == DIAGNOSIS_SCHEMA else "verification"
    document = (Diagnosis if kind == "diagnosis" else Verification).model_validate(body)
    if args.json:
        return emit("report", 0, document.model_dump(mode="json", by_alias=True), artifacts={kind: str(path)})
    out = console()
    if kind == "diagnosis":
        from model_hospital.clinic.report import console_table

        out.print(console_table(document))
        worst = document.worst_finding.value if document.worst_finding else "none"
        out.print(f"overall severity: {document.overall_severity.value}; worst finding: {worst}; "
                  f"judge: {document.judge}; {len(document.answers)} answers")
    else:
        from model_hospital.clinic.verification_report import before_after_table

        out.print(before_after_table(document))
        out.print(f"[bold]verdict:[/] {document.verdict} - {document.verdict_reason}")
        for recommendation in document.recommendations:
            out.print(f"next recipe: {recommendation.action} - {recommendation.reason}")
    out.print(f"[dim]{path}[/]")
    return 0
