"""`hospital chart generate [--check]`: write (or check) the chart's values, schema, CRD copies and references."""

from __future__ import annotations

from pathlib import Path

from model_hospital.errors import HospitalError


def register(subparsers) -> None:
    parser = subparsers.add_parser("chart", help="the Helm chart's generated files")
    actions = parser.add_subparsers(dest="chart_command", metavar="ACTION")
    generate = actions.add_parser(
        "generate", help="write values.yaml, values.schema.json, the chart's CRD copies, docs references and argocd-cm")
    generate.add_argument("--root", type=Path, default=Path("."), help="repository root (default: .)")
    generate.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is out of date")
    generate.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    generate.set_defaults(handler=handle_generate)


def handle_generate(args) -> int:
    from model_hospital.tools.chart_files import CHART_DIR, stale_chart_files, write_chart_files
    from model_hospital.cli.console import console, emit

    if not (args.root / CHART_DIR / "Chart.yaml").is_file() or not (args.root / "crds").is_dir():
        raise HospitalError(f"{args.root} is not the repository root: it needs {CHART_DIR}/Chart.yaml and crds/")
    out = console(args.json)
    if args.check:
        stale = stale_chart_files(args.root)
        for path in stale:
            out.print(f"[red]stale[/] {path}: run `hospital chart generate`")
        code = 1 if stale else 0
        return emit("chart generate", code, {"stale": [str(p) for p in stale]}) if args.json else code
    written = [str(path) for path in write_chart_files(args.root)]
    for path in written:
        out.print(f"wrote {path}")
    return emit("chart generate", 0, {"written": written}) if args.json else 0
