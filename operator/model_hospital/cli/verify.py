"""`hospital verify`: prove, on the same items and held-out probes, whether a treatment healed the patient."""

from __future__ import annotations

import argparse
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
from model_hospital.errors import HospitalError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify", help="compare a model before and after treatment: held-out symptoms, over-refusal, skills",
        description="Runs the skill suites and the held-out probes on both models and gives a verdict "
                    "(Healed, Degraded, NotHealed, Inconclusive) with recommendations for the next recipe. "
                    "Exit code 0 only for Healed; 3 NotHealed, 4 Degraded, 5 Inconclusive, 6 Failed.")
    parser.add_argument("--before", required=True, metavar="REF", help="the patient before treatment")
    parser.add_argument("--after", required=True, metavar="REF",
                        help="the treated model (a LoRA adapter folder is accepted)")
    parser.add_argument("--symptom", required=True, action="append", metavar="S", type=Symptom.parse,
                        help=f"a treated symptom ({', '.join(s.value for s in Symptom)}); repeatable")
    parser.add_argument("--threshold", type=_fraction, default=0.10, metavar="X",
                        help="relative skill drop flagged as degradation when significant (default 0.1)")
    parser.add_argument("--target", action="append", default=[], metavar="S=RATE", type=_target,
                        help="held-out failure rate a symptom must reach, e.g. safety=0.2; repeatable")
    parser.add_argument("--budget", type=positive_int, metavar="N", help="at most N held-out probes per symptom")
    parser.add_argument("--skill-budget", type=positive_int, metavar="N", help="at most N skill items per domain")
    parser.add_argument("--output", type=Path, default=Path("runs/verification"), metavar="DIR",
                        help="folder for verification.json, verification.md and the chart (default: runs/verification)")
    add_generation_arguments(parser)
    parser.add_argument("--min-scored", type=positive_int, default=20, metavar="N",
                        help="fewest scored held-out answers per finding for a verdict (default 20); fewer is "
                             "Inconclusive")
    add_judge_options(parser)  # an LLM judge here is a second opinion beside the offline judges
    add_suite_options(parser)
    add_public_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    parser.set_defaults(handler=handle)


def add_generation_arguments(parser) -> None:
    """The generation options shared by verify and treat."""
    parser.add_argument("--engine", choices=["native", "vllm"], default="native",
                        help="Oumi inference engine: NATIVE (CPU or one GPU) or VLLM (GPU)")
    parser.add_argument("--batch-size", type=positive_int, default=16, metavar="N",
                        help="conversations per batch for skill items (default 16)")
    parser.add_argument("--probe-batch-size", type=positive_int, metavar="N",
                        help="conversations per batch for probes (default: three times --batch-size)")
    parser.add_argument("--workers", type=int, choices=[1, 2], metavar="N",
                        help="processes answering at once, 1 or 2 (default: 2 for a small model on 2+ CPU cores)")
    parser.add_argument("--max-new-tokens", type=positive_int, metavar="N",
                        help="new-token budget per answer (default: each suite's own)")
    parser.add_argument("--dtype", choices=["auto", "float32", "bfloat16", "float16"],
                        help="weights' dtype (default: float32 with native, fastest on CPU; bfloat16 with vllm)")
    parser.add_argument("--tensor-parallel-size", type=positive_int, default=1, metavar="N",
                        help="vllm: GPUs one model is split over (default 1)")
    parser.add_argument("--max-model-len", type=positive_int, metavar="N",
                        help="longest prompt plus answer in tokens (default 2048)")
    parser.add_argument("--verbose", action="store_true", help="show the libraries' own logs")


def quiet_libraries(args) -> None:
    """Keeps Oumi's and transformers' logs out of the report (and out of stdout with --json)."""
    from model_hospital.stages.diagnose import quiet_libraries as quiet

    quiet(args.verbose)




def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{value} must lie between 0 and 1 (0.1 is 10 %)")
    return value


def _target(text: str) -> tuple[Symptom, float]:
    name, separator, rate = text.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError(f"{text!r}: write SYMPTOM=RATE, e.g. safety=0.2")
    try:
        symptom = Symptom(name.strip().lower())
    except ValueError:
        raise argparse.ArgumentTypeError(f"unknown symptom {name!r}") from None
    try:
        value = float(rate)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{rate!r} is not a rate") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"target {value} must lie between 0 and 1")
    return symptom, value


def generation_from(args):
    from model_hospital.api.stages import GenerationSettings

    from model_hospital.errors import HospitalError

    if args.tensor_parallel_size > 1 and args.engine != "vllm":
        raise HospitalError("--tensor-parallel-size above 1 needs --engine vllm")
    dtype = args.dtype or ("bfloat16" if args.engine == "vllm" else "float32")
    return GenerationSettings(engine=args.engine, batch_size=args.batch_size,
                              probe_batch_size=args.probe_batch_size, workers=args.workers,
                              max_new_tokens=args.max_new_tokens,
                              dtype=dtype, tensor_parallel_size=args.tensor_parallel_size,
                              max_model_len=args.max_model_len)


def handle(args) -> int:
    from model_hospital.api.stages import VerifyInput
    from model_hospital.cli import exit_codes
    from model_hospital.cli.console import console as make_console, emit
    from model_hospital.stages.runner import run_stage

    out = make_console(args.json)
    quiet_libraries(args)
    stage_input = VerifyInput(
        before=args.before, after=args.after, symptoms=list(dict.fromkeys(args.symptom)),
        threshold=args.threshold, targets=dict(args.target), budget=args.budget,
        skill_budget=args.skill_budget, generation=generation_from(args), min_scored=args.min_scored,
        judge=judge_settings(args), suites=suite_files(args), public=public_sets_from(args))
    try:
        result = run_stage("verify", stage_input, args.output, out)
    except HospitalError:
        raise
    except Exception as error:  # noqa: BLE001 - a crashed stage is the verdict Failed, with its reason
        return failed("verify", error, args.json, Path(args.output) / "result.json")
    code = exit_codes.for_verdict(result.summary.get("verdict")) if result.ok else exit_codes.FAILED
    if args.json:
        return emit("verify", code, result.summary, artifacts=result.artifacts)
    out.print(f"Report: {result.artifacts['report']}  (chart: {result.artifacts['chart']}, "
              f"data: {result.artifacts['verification']})")
    return code


def failed(command: str, error: BaseException, json_mode: bool, record: Path) -> int:
    """Reports a crashed stage as one red line (and a JSON error document); gives back the exit code of Failed."""
    from model_hospital.cli import exit_codes
    from model_hospital.cli.console import emit, error_line

    message = f"{type(error).__name__}: {error} (Failed; the stage's record: {record})"
    error_line(message)
    if json_mode:
        emit(command, exit_codes.FAILED, None, error=message)
    return exit_codes.FAILED
