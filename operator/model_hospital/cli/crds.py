"""`hospital crds generate [--check]`: write (or check) the CRD YAML generated from the models."""

from __future__ import annotations

from pathlib import Path

from model_hospital.errors import HospitalError


def register(subparsers) -> None:
    parser = subparsers.add_parser("crds", help="the CustomResourceDefinitions of ModelPatient and Treatment")
    actions = parser.add_subparsers(dest="crds_command", metavar="ACTION")
    generate = actions.add_parser("generate", help="write crds/*.yaml from the pydantic models")
    generate.add_argument("--output", type=Path, default=Path("crds"), help="folder to write into (default: ./crds)")
    generate.add_argument("--check", action="store_true",
                          help="write nothing; exit 1 when the files differ from the models")
    generate.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    generate.set_defaults(handler=handle_generate)


def stale_files(folder: Path) -> list[str]:
    """Names of the CRD files under `folder` that are missing or differ from the models."""
    from model_hospital.tools.crdgen import crd_documents, render_yaml

    return [name for name, document in crd_documents().items()
            if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != render_yaml(document)]


def handle_generate(args) -> int:
    from model_hospital.tools.crdgen import crd_documents, render_yaml
    from model_hospital.cli.console import console, emit

    out = console(args.json)
    if args.check:
        stale = stale_files(args.output)
        for name in stale:
            out.print(f"[red]stale[/] {args.output / name}: run `hospital crds generate`")
        code = 1 if stale else 0
        return emit("crds generate", code, {"stale": [str(args.output / n) for n in stale]}) if args.json else code
    if args.output.exists() and not args.output.is_dir():
        raise HospitalError(f"--output {args.output} is a file: give a folder")
    args.output.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in crd_documents().items():
        (args.output / name).write_text(render_yaml(document), encoding="utf-8")
        out.print(f"wrote {args.output / name}")
        written.append(str(args.output / name))
    return emit("crds generate", 0, {"written": written}) if args.json else 0
