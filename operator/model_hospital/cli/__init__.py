"""The `hospital` command: thin argument parsing over the stages and the clinic.

Each subcommand lives in its own module with a `register(subparsers)` function
that adds its parser and sets `handler` to a function taking the parsed args and
returning an exit code. Modules import their heavy dependencies inside the
handler, so `hospital --help` and the operator never load torch.

Exit codes are documented in `cli.exit_codes` (0 only for success, Healed, or a
diagnosis under `--fail-on`). With `--json` a command prints exactly one JSON
document on stdout (`console.json_document`: a versioned `schema` key, the
command, its exit code, its result) and nothing else: every other line, the
libraries' logs included, goes to stderr; an error is a document with `error`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from model_hospital import __version__
from model_hospital.errors import HospitalError, Unavailable

COMMAND_MODULES = (
    "diagnose",
    "cure",
    "judge",
    "recipes",
    "train",
    "verify",
    "treat",
    "stage",
    "operator",
    "crds",
    "chart",
    "models",
    "doctor",
    "compare",
    "report",
    "export",
)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes become one clear line and exit code 2, like every other user error."""

    def error(self, message: str):
        raise HospitalError(f"{self.prog}: {message} (see {self.prog} --help)")

    def _get_value(self, action, arg_string):
        try:
            return super()._get_value(action, arg_string)
        except HospitalError as error:
            raise argparse.ArgumentError(action, str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hospital",
        description="Diagnose language models, make cure data, fine-tune them with Oumi and prove the cure.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"model_hospital.cli.{name}")
        module.register(subparsers)
    return parser


def command_name(args: argparse.Namespace) -> str:
    """The command as a user typed it: 'verify', 'recipes list'."""
    action = getattr(args, "action", None) or getattr(args, "crds_command", None) or getattr(args, "chart_command", None)
    return f"{args.command} {action}" if action else str(args.command)


def main(argv: list[str] | None = None) -> int:
    from model_hospital.cli import exit_codes

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except (HospitalError, Unavailable) as error:
        from model_hospital.cli.console import emit, error_line

        error_line(str(error))
        if argv is not None and "--json" in argv or argv is None and "--json" in sys.argv[1:]:
            emit("hospital", error.exit_code, None, error=str(error))
        return error.exit_code
    if not getattr(args, "handler", None):
        parser.print_help()
        return exit_codes.USAGE
    json_mode = bool(getattr(args, "json", False))
    if not json_mode:
        return _run(args, json_mode)
    from model_hospital.cli.console import data_only_stdout

    with data_only_stdout():
        return _run(args, json_mode)


def _run(args: argparse.Namespace, json_mode: bool) -> int:
    from model_hospital.cli import exit_codes
    from model_hospital.cli.console import emit, error_line

    try:
        return int(args.handler(args) or 0)
    except (HospitalError, Unavailable) as error:
        error_line(str(error))
        if json_mode:
            emit(command_name(args), error.exit_code, None, error=str(error))
        return error.exit_code
    except ModuleNotFoundError as error:
        from model_hospital.extras import extra_for_module, install_hint

        extra = extra_for_module(error.name)
        if extra is None:
            raise
        from model_hospital.cli.console import error_line

        error_line(f"{error.name} is not installed in this Python environment: {install_hint(extra)}")
        return 2
    except KeyboardInterrupt:
        error_line("interrupted: finished stages are kept; run the same command again to resume")
        if json_mode:
            emit(command_name(args), exit_codes.INTERRUPTED, None, error="interrupted")
        return exit_codes.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
