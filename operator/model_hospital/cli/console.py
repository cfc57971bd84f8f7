"""The Rich consoles: one for people (stderr when --json asks stdout for data only)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console

JSON_SCHEMA = "modelhospital.io/cli/v1"

_stderr = Console(stderr=True, highlight=False)


def console(json_mode: bool = False) -> Console:
    """The console for human output; with --json it writes to stderr so stdout stays pure JSON."""
    return _stderr if json_mode else Console(highlight=False)


def error_line(message: str) -> None:
    """One red line on stderr: what is wrong and what to do."""
    from rich.markup import escape

    # Escaped: a message naming an extra (model-hospital[worker]) is not markup.
    _stderr.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


_data_out = None  # where --json documents go while stdout is handed to stderr (data_only_stdout)


def print_json(payload: str) -> None:
    """Writes one JSON document on its own line to stdout (the real one, under data_only_stdout)."""
    out = _data_out or sys.stdout
    out.write(payload.rstrip("\n") + "\n")
    out.flush()


def json_document(command: str, exit_code: int, result: dict | list | None = None, **extra) -> dict:
    """The one JSON document a `--json` command prints: every command has the same envelope.

    `schema` versions the envelope; `command` names the command, `exit_code` is the
    process's exit code, `result` holds the command's own data, and `artifacts`
    (where a command writes files) their paths; an error document has `error` instead.
    """
    return {"schema": JSON_SCHEMA, "command": command, "exit_code": exit_code, "result": result, **extra}


def emit(command: str, exit_code: int, result: dict | list | None = None, **extra) -> int:
    """Prints the command's JSON document and gives back its exit code."""
    import json

    print_json(json.dumps(json_document(command, exit_code, result, **extra), default=str))
    return exit_code


@contextmanager
def data_only_stdout():
    """While a --json command runs, everything else written to stdout goes to stderr.

    Libraries print to stdout behind our back: Oumi's logger holds the stdout it saw
    at import, `oumi train` runs as a child that inherits file descriptor 1. So the
    Python stream, the logging handlers bound to it and (when it is the real
    terminal or pipe) descriptor 1 itself are all pointed at stderr; `print_json`
    writes to what stdout was.
    """
    global _data_out
    original = sys.stdout
    original.flush()
    saved_fd = None
    if original is sys.__stdout__ and original is not None:
        try:
            saved_fd = os.dup(1)
            os.dup2(2, 1)
        except OSError:
            saved_fd = None
    _data_out = os.fdopen(saved_fd, "w", closefd=False) if saved_fd is not None else original
    moved = [handler for handler in _stream_handlers() if handler.stream is original]
    for handler in moved:
        handler.setStream(sys.stderr)
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout = original
        for handler in moved:
            handler.setStream(original)
        _data_out.flush()
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
        _data_out = None


def _stream_handlers() -> list[logging.StreamHandler]:
    loggers = [logging.getLogger()] + [logger for logger in logging.Logger.manager.loggerDict.values()
                                       if isinstance(logger, logging.Logger)]
    return [handler for logger in loggers for handler in logger.handlers
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)]


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def share(text: str) -> float:
    """An argparse type: a share from 0 to under 1 (0.5 is half)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be from 0 to under 1 (a share: 0.5 is half)")
    return value


def add_judge_options(parser) -> None:
    """The judge options of every command that judges answers: offline, or an LLM through an Oumi engine."""
    parser.add_argument("--judge", choices=["offline", "llm"], default="offline",
                        help="offline deterministic judges (default) or an LLM judge through an Oumi engine")
    parser.add_argument("--judge-engine", metavar="ENGINE", help="Oumi engine of the LLM judge, e.g. REMOTE_VLLM, OPENAI")
    parser.add_argument("--judge-model", metavar="NAME", help="the LLM judge's model")
    parser.add_argument("--judge-url", metavar="URL", help="the LLM judge's OpenAI-compatible endpoint")
    parser.add_argument("--judge-key-env", metavar="VAR", help="environment variable holding the judge endpoint's key")
    parser.add_argument("--judge-workers", type=positive_int, default=1, metavar="N",
                        help="requests sent to a remote LLM judge at once (Oumi's num_workers; default 1)")
    parser.add_argument("--judge-rubric", type=Path, metavar="FILE",
                        help="a rubric of your own for the LLM judge (YAML or JSON: criteria with points and a pass "
                             "threshold; docs/judges.md)")
    parser.add_argument("--judge-style", choices=["rubric", "guard"], default="rubric",
                        help="rubric (default): the judge grades against a rubric; guard: a guard model (Llama Guard "
                             "style) answers safe/unsafe, for safety only")


def judge_settings(args):
    """The JudgeSettings the judge options describe; an LLM judge without engine and model is a user error."""
    from model_hospital.api.stages import JudgeSettings
    from model_hospital.errors import HospitalError

    if args.judge == "llm" and not (args.judge_engine and args.judge_model):
        raise HospitalError("--judge llm needs --judge-engine and --judge-model")
    if args.judge != "llm" and (args.judge_rubric or args.judge_style != "rubric"):
        raise HospitalError("--judge-rubric and --judge-style are for the LLM judge: add --judge llm")
    rubric = None
    if args.judge_rubric:
        from model_hospital.clinic.judges.rubric import load_rubric

        rubric = str(args.judge_rubric.expanduser().resolve())
        load_rubric(rubric)
    return JudgeSettings(backend=args.judge, engine=args.judge_engine, model=args.judge_model,
                         api_url=args.judge_url, api_key_env=args.judge_key_env, num_workers=args.judge_workers,
                         rubric=rubric, style=args.judge_style)


def add_suite_options(parser, skills: bool = True) -> None:
    """The options naming a user's own probe (and skill) suites, in the packaged suites' JSONL format."""
    parser.add_argument("--probes", action="append", default=[], type=Path, metavar="FILE",
                        help="a probe suite of your own (JSONL, docs/suites.md): it replaces the packaged suite of "
                             "each symptom it holds; repeatable")
    if skills:
        parser.add_argument("--skills", action="append", default=[], type=Path, metavar="FILE",
                            help="a skill suite of your own (JSONL, docs/suites.md): it replaces the packaged suite "
                                 "of each skill domain it holds; repeatable")


def suite_files(args):
    """The SuiteFiles the suite options name, as absolute paths, each file checked line by line now."""
    from model_hospital.api.stages import SuiteFiles
    from model_hospital.clinic.suites import own_probes, own_skill_items

    probes = [str(path.expanduser().resolve()) for path in args.probes]
    skills = [str(path.expanduser().resolve()) for path in getattr(args, "skills", [])]
    own_probes(probes)
    own_skill_items(skills)
    return SuiteFiles(probes=probes, skills=skills)


def add_public_option(parser) -> None:
    """The option naming public sets (the user's own copies) to check as well, reported apart."""
    parser.add_argument("--public", action="append", default=[], metavar="NAME=PATH",
                        help="also check a public set from your own copy, as extra held-out prompts reported apart "
                             "(never cure data): harmbench, strongreject, jailbreakbench, xstest, truthfulqa, gsm8k "
                             "or triviaqa, in its published format; at most --budget prompts of it; repeatable")


def public_sets_from(args):
    """The PublicSets the --public options name, as absolute paths, each file read now (a wrong copy fails here)."""
    from model_hospital.api.stages import PublicSet
    from model_hospital.clinic.public_checks import load_all
    from model_hospital.errors import HospitalError

    sets = []
    for text in args.public:
        name, separator, path = text.partition("=")
        if not separator or not path.strip():
            raise HospitalError(f"--public {text!r}: write NAME=PATH, e.g. gsm8k=~/data/gsm8k/test.jsonl")
        try:
            sets.append(PublicSet(name=name.strip().lower(), path=str(Path(path.strip()).expanduser().resolve())))
        except ValueError:
            from model_hospital.api.stages import PUBLIC_SETS

            raise HospitalError(f"--public {name!r}: unknown public set; choose from {', '.join(PUBLIC_SETS)}") from None
    load_all(sets)
    return sets
