"""`hospital cure`: turn a diagnosis' seed-split failures into cure data (cure_sft.jsonl, cure_dpo.jsonl)."""

from __future__ import annotations

from pathlib import Path

from model_hospital.cli.console import positive_int, share


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "cure", help="make cure data from a diagnosis (templates, oumi synth, judges, dedupe)",
        description="Seeds cure data with the failures on the diagnosis' seed split (never held-out probes), "
                    "varies it with oumi synth, keeps what the judges pass, removes duplicates and adds a replay "
                    "buffer of benign look-alikes and skill prompts answered well.")
    parser.add_argument("--diagnosis", required=True, metavar="PATH", help="diagnosis.json from `hospital diagnose`")
    parser.add_argument("--output", type=Path, default=Path("runs/cure"), metavar="DIR",
                        help="folder for cure_sft.jsonl, cure_dpo.jsonl, replay_sft.jsonl (default: runs/cure)")
    parser.add_argument("--min", dest="min_examples", type=positive_int, default=100, metavar="N",
                        help="at least N SFT examples (default 100)")
    parser.add_argument("--max", dest="max_examples", type=positive_int, default=500, metavar="N",
                        help="at most N SFT examples (default 500)")
    parser.add_argument("--replay-share", type=share, default=0.5, metavar="X",
                        help="share of the SFT rows that replay help beside the cure's rows, 0 to under 1 "
                             "(default 0.5)")
    parser.add_argument("--model", metavar="REF", help="the patient answering replay prompts (default: the diagnosis' model)")
    parser.add_argument("--teacher-engine", metavar="ENGINE",
                        help="an Oumi inference engine that paraphrases prompts and answers (e.g. VLLM, OPENAI, NATIVE)")
    parser.add_argument("--teacher-model", metavar="NAME", help="the teacher's model name or path")
    parser.add_argument("--teacher-url", metavar="URL", help="the teacher's OpenAI-compatible endpoint")
    parser.add_argument("--teacher-key-env", metavar="VAR", help="environment variable holding the teacher endpoint's key")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    parser.set_defaults(handler=handle)




def stage_input_from(args):
    """The synth stage input the command line describes."""
    from model_hospital.api.stages import JudgeSettings, SynthInput
    from model_hospital.errors import HospitalError

    teacher = None
    if args.teacher_engine or args.teacher_model:
        if not (args.teacher_engine and args.teacher_model):
            raise HospitalError("a teacher needs both --teacher-engine and --teacher-model")
        teacher = JudgeSettings(backend="llm", engine=args.teacher_engine, model=args.teacher_model,
                                api_url=args.teacher_url, api_key_env=args.teacher_key_env)
    if args.min_examples > args.max_examples:
        raise HospitalError(f"--min {args.min_examples} is more than --max {args.max_examples}")
    return SynthInput(diagnosis=args.diagnosis, model=args.model, min_examples=args.min_examples,
                      max_examples=args.max_examples, replay_share=args.replay_share, teacher=teacher, seed=args.seed)


def handle(args) -> int:
    from model_hospital.cli import exit_codes
    from model_hospital.cli.console import console, emit
    from model_hospital.stages.runner import run_stage

    result = run_stage("synth", stage_input_from(args), args.output, console(args.json))
    code = exit_codes.OK if result.ok else exit_codes.FAILED
    if args.json:
        return emit("cure", code, result.model_dump(mode="json", exclude={"artifacts"}), artifacts=result.artifacts)
    else:
        out = console()
        for name, path in result.artifacts.items():
            if not name.startswith("synth_config"):
                out.print(f"  {name}: {path}")
        out.print(f"next: hospital recipe --diagnosis {args.diagnosis} --cure {args.output} "
                  f"--output {Path(args.output) / 'recipe.yaml'}")
    return code
