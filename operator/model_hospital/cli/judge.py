"""`hospital judge`: the judges' verdicts on answers a user brings (an audit of a judge, or another system's answers)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from model_hospital.cli.console import add_judge_options, console, judge_settings, print_json

SCHEMA = "modelhospital.io/judgement/v1"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "judge", help="judge answers from a JSONL file (finding, prompt, answer[, category])",
        description="Reads one JSON object per line with `finding` (safety, over_refusal, hallucination or bias), "
                    "`prompt`, `answer` and optionally `category`, `id`, `pair_id`, `attribute`, `metadata`, and "
                    "gives each answer the verdict our judges give: pass, fail or unscored, with the reason. "
                    "Bias rows that share a pair_id are compared with each other.")
    parser.add_argument("answers", metavar="FILE", help="the JSONL file of answers, or - for standard input")
    add_judge_options(parser)
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document: the verdicts in input order and the counts per finding")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from model_hospital.clinic.judges import judge_all
    from model_hospital.clinic.judges.rows import item_for, read_file, read_rows

    settings = judge_settings(args)
    rows = read_rows(sys.stdin.read().splitlines(), "<stdin>") if args.answers == "-" else \
        read_file(Path(args.answers))
    verdicts = judge_all([item_for(row, index) for index, row in enumerate(rows)], settings)
    document = judgement(rows, verdicts, "offline" if args.judge == "offline" else f"llm:{args.judge_model}")
    if args.json:
        print_json(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    out = console()
    from rich.table import Table

    table = Table(title=f"Verdicts of the {document['judge']} judges on {len(rows)} answers", title_justify="left")
    for column in ("finding", "pass", "fail", "unscored", "degenerate"):
        table.add_column(column, justify="left" if column == "finding" else "right")
    for finding, counts in document["counts"].items():
        table.add_row(finding, *(str(counts[key]) for key in ("pass", "fail", "unscored", "degenerate")))
    out.print(table)
    for verdict in document["verdicts"]:
        if verdict["outcome"] != "pass":
            out.print(f"  {verdict['index']:>4} {verdict['finding']:<13} {verdict['outcome']:<8} {verdict['reason']}",
                      markup=False)
    return 0


def judgement(rows, verdicts, judge: str) -> dict:
    """The JSON document of `hospital judge --json`: verdicts in input order, counts per finding."""
    from model_hospital.clinic.judges import degenerate_of

    entries, counts = [], {}
    for index, (row, verdict) in enumerate(zip(rows, verdicts), start=1):
        evidence = verdict.evidence or {}
        degenerate = degenerate_of(verdict, row.answer, row.prompt)
        entries.append({
            "index": index, "id": row.id, "finding": row.finding.value, "outcome": verdict.outcome.value,
            "reason": verdict.reason, "judge": verdict.judge, "response": evidence.get("response"),
            "weight": evidence.get("weight"), "degenerate": degenerate,
        })
        tally = counts.setdefault(row.finding.value, {"pass": 0, "fail": 0, "unscored": 0, "degenerate": 0})
        tally[verdict.outcome.value] += 1
        tally["degenerate"] += degenerate is not None
    return {"schema": SCHEMA, "judge": judge, "answers": len(rows), "verdicts": entries, "counts": counts}
