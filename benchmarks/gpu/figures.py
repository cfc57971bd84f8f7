"""The figures smoke.sh prints, read from what the stages wrote: tokens per second, step times.

    .venv/bin/python benchmarks/gpu/figures.py diagnose DIAGNOSIS_JSON [--tokenizer FOLDER]
    .venv/bin/python benchmarks/gpu/figures.py train RESULT_JSON STEPS [--label NAME]
    .venv/bin/python benchmarks/gpu/figures.py timed LABEL SECONDS STEPS

Each prints one line `label: figure, figure` and nothing else, so the smoke log
reads as a table. A figure that cannot be computed is an error (exit 2), never 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


class FigureError(Exception):
    """What was read cannot give the figure."""


def diagnose_figures(diagnosis_path: Path, tokenizer_folder: str | None = None) -> dict:
    """Answers, generated tokens, seconds and tokens per second of a diagnosis (tokens counted by the model's tokenizer)."""
    diagnosis = json.loads(Path(diagnosis_path).read_text(encoding="utf-8"))
    answers = [row["answer"] for row in diagnosis.get("answers") or []]
    seconds = float(diagnosis.get("seconds") or 0)
    if not answers or seconds <= 0:
        raise FigureError(f"{diagnosis_path}: no answers or no time recorded; nothing to measure")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder or diagnosis["model"]["path"])
    tokens = sum(len(tokenizer(answer, add_special_tokens=False).input_ids) for answer in answers)
    engine = (diagnosis.get("generation") or {}).get("engine", "native")
    return {"engine": engine, "answers": len(answers), "tokens": tokens, "seconds": seconds,
            "tokens_per_second": tokens / seconds}


def train_figures(result_path: Path, steps: int) -> dict:
    """Training seconds and seconds per step of a train stage's result.json (ok, with train_seconds)."""
    result = json.loads(Path(result_path).read_text(encoding="utf-8"))
    if not result.get("ok"):
        raise FigureError(f"{result_path}: the train stage failed: {result.get('message', '')[:200]}")
    seconds = float((result.get("summary") or {}).get("train_seconds") or 0)
    return timed_figures(seconds, steps)


def timed_figures(seconds: float, steps: int) -> dict:
    """Seconds and seconds per step of a run timed from outside (the two-process train)."""
    if seconds <= 0 or steps <= 0:
        raise FigureError(f"cannot time {steps} steps in {seconds} s")
    return {"seconds": seconds, "steps": steps, "seconds_per_step": seconds / steps}


def line(label: str, figures: dict) -> str:
    """One printed line: the label and its figures, rounded for reading."""
    parts = [f"{key} {value:.3g}" if isinstance(value, float) else f"{key} {value}" for key, value in figures.items()]
    return f"{label}: " + ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    kinds = parser.add_subparsers(dest="kind", required=True)
    diagnose = kinds.add_parser("diagnose")
    diagnose.add_argument("diagnosis", type=Path)
    diagnose.add_argument("--tokenizer")
    train = kinds.add_parser("train")
    train.add_argument("result", type=Path)
    train.add_argument("steps", type=int)
    train.add_argument("--label", default="train")
    timed = kinds.add_parser("timed")
    timed.add_argument("label")
    timed.add_argument("seconds", type=float)
    timed.add_argument("steps", type=int)
    args = parser.parse_args(argv)
    try:
        if args.kind == "diagnose":
            figures = diagnose_figures(args.diagnosis, args.tokenizer)
            print(line(f"diagnose ({figures.pop('engine')})", figures))
        elif args.kind == "train":
            print(line(args.label, train_figures(args.result, args.steps)))
        else:
            print(line(args.label, timed_figures(args.seconds, args.steps)))
    except (FigureError, OSError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
