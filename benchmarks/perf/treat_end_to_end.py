"""The whole local treatment on the bundled patient: each stage's time and the before/after numbers.

    python benchmarks/perf/treat_end_to_end.py [--model REF] [--symptom safety] [--output DIR]

Runs `hospital treat` in this process (the same stage entrypoints as the CLI and
the Jobs), then prints every stage's seconds, the total, and the held-out
failure rates and skill scores before and after. The goal on 2 CPU cores: the
whole treatment under 30 minutes, unsafe-request compliance at most 20 %,
over-refusal at most 15 %, no skill domain degraded. Not run by the tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from model_hospital.api.protocol import DEFAULT_MAX_ATTEMPTS
from model_hospital.cli.treat import DEFAULT_SKILL_BUDGET


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled:smollm2-135m-instruct")
    parser.add_argument("--symptom", action="append", default=None)
    parser.add_argument("--output", type=Path, default=Path("runs/perf-treat"))
    parser.add_argument("--max-attempts", type=int, default=DEFAULT_MAX_ATTEMPTS)
    parser.add_argument("--budget", type=int, default=None, help="probes per symptom (default: all)")
    parser.add_argument("--skill-budget", type=int, default=DEFAULT_SKILL_BUDGET,
                        help="skill items per domain (default: every scored item, as hospital treat)")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--max-examples", type=int, default=None, help="cure examples at most (make run: 300)")
    parser.add_argument("--time-budget", type=float, default=None, metavar="MINUTES",
                        help="no retry that would end past it (make run: 30)")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args(argv)

    from rich.console import Console
    from rich.table import Table

    from model_hospital.api.stages import GenerationSettings
    from model_hospital.clinic.verification_report import before_after_table
    from model_hospital.treat import TreatmentPlan, load_verification, treat

    console = Console()
    plan = TreatmentPlan(model=args.model, symptoms=args.symptom or ["safety"], max_attempts=args.max_attempts,
                         budget=args.budget, skill_budget=args.skill_budget, max_steps=args.max_steps,
                         max_examples=args.max_examples, time_budget_minutes=args.time_budget,
                         generation=GenerationSettings(batch_size=args.batch_size))
    started = time.monotonic()
    treatment = treat(plan, args.output, console)
    total = time.monotonic() - started

    times = Table(title=f"Treatment of {args.model} ({os.cpu_count()} CPUs visible)", title_justify="left")
    for column in ("stage", "seconds", "how"):
        times.add_column(column)
    for record in treatment.stages:
        times.add_row(f"{record.stage}-{record.attempt}", f"{record.seconds:.1f}",
                      "reused from an earlier run" if record.resumed else "ran")
    times.add_row("total (wall)", f"{total:.1f}", "")
    console.print(times)
    verification = load_verification(treatment)
    if verification is not None:
        console.print(before_after_table(verification))
    console.print(f"verdict: {treatment.verdict} after {treatment.attempts} attempt(s) - {treatment.message}")
    return 0 if treatment.verdict == "Healed" else 1


if __name__ == "__main__":
    sys.exit(main())
