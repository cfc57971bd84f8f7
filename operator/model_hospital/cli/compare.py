"""`hospital compare`: several diagnoses or verifications side by side, with intervals and paired tests."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare", help="put diagnoses or verifications of several models side by side",
        description="Reads two or more diagnosis.json or verification.json files (or the folders a diagnose or "
                    "verify run wrote) and shows each model's failure rate per finding and accuracy per skill, "
                    "with 95 %% Wilson intervals. The first is the baseline: each other model is compared with it "
                    "on the items both scored (matched by probe or item id), with an exact McNemar test. "
                    "A verification stands for its treated model on held-out probes.")
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULT",
                        help="diagnosis.json, verification.json, or a folder holding one; the first is the baseline")
    parser.add_argument("--markdown", action="store_true", help="print the comparison as Markdown")
    parser.add_argument("--chart", type=Path, metavar="PNG", help="also draw a bar chart (needs matplotlib)")
    parser.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from model_hospital.cli.console import console, emit
    from model_hospital.clinic import compare_report
    from model_hospital.clinic.compare import compare

    comparison = compare(args.results)
    artifacts = {}
    if args.chart:
        args.chart.parent.mkdir(parents=True, exist_ok=True)
        artifacts["chart"] = str(compare_report.draw_chart(comparison, args.chart))
    if args.json:
        return emit("compare", 0, comparison.model_dump(mode="json", by_alias=True), artifacts=artifacts)
    if args.markdown:
        print(compare_report.markdown(comparison, args.chart.name if args.chart else None), end="")
        return 0
    out = console()
    out.print(compare_report.console_table(comparison))
    if args.chart:
        out.print(f"Chart: {args.chart}")
    return 0
