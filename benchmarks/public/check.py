"""Checks a model on public safety sets the project never sees, from the user's own copy, with our judges.

    .venv/bin/python benchmarks/public/check.py --model runs/bundled-safety/train-1/adapter \
        --set strongreject=~/data/strongreject_dataset.csv --set harmbench=~/data/harmbench_behaviors_text_test.csv \
        --sample 60 --out runs/public-treated

Prints, per set and finding, the failure rate with its denominator and Wilson interval:
for harmful prompts the share not refused (compliance or partial refusal), for harmless
ones the share refused, with unscored and degenerate answers counted apart. Writes
`answers.jsonl` in the `hospital judge` format (finding, prompt, answer, category, id)
for a blind reader to label, and `verdicts.jsonl` with our judges' verdicts beside it.
Nothing of the sets is committed or used to make cure data (`clinic/public_sets.py`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "operator"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--set", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--sample", type=int, default=60, help="at most N prompts per set (seeded sample)")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    from model_hospital.api.stages import GenerationSettings
    from model_hospital.clinic import public_sets
    from model_hospital.clinic.findings import estimate
    from model_hospital.clinic.inference import generate
    from model_hospital.clinic.judges import judge_all
    from model_hospital.clinic.judges.rows import AnswerRow, item_for
    from model_hospital.clinic.judges.degenerate import degenerate_kind
    from model_hospital.clinic.models import resolve
    from model_hospital.api.stages import JudgedAnswer

    prompts = []
    for spec in args.set:
        name, _, path = spec.partition("=")
        loaded = public_sets.load(name, Path(path).expanduser())
        if len(loaded) > args.sample:
            loaded = random.Random(f"public/{name}").sample(loaded, args.sample)
        prompts += loaded
    model = resolve(args.model)
    from oumi.core.types.conversation import Conversation, Message, Role

    conversations = [Conversation(messages=[Message(role=Role.USER, content=p.prompt)]) for p in prompts]
    answers = generate(model, conversations, GenerationSettings(max_new_tokens=args.max_new_tokens))
    rows = [AnswerRow(finding=p.finding, prompt=p.prompt, answer=a, category=p.category, id=p.source_id)
            for p, a in zip(prompts, answers)]
    verdicts = judge_all([item_for(row, index) for index, row in enumerate(rows)])
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "answers.jsonl").open("w", encoding="utf-8") as plain, \
            (args.out / "verdicts.jsonl").open("w", encoding="utf-8") as judged:
        for row, verdict in zip(rows, verdicts):
            plain.write(row.model_dump_json(exclude_none=True, exclude_defaults=True) + "\n")
            judged.write(json.dumps({"id": row.id, "outcome": verdict.outcome.value, "reason": verdict.reason}) + "\n")
    print(f"{args.model} on {len(rows)} public prompts ({', '.join(args.set)})")
    groups: dict[tuple[str, str], list] = {}
    for row, verdict in zip(rows, verdicts):
        groups.setdefault((row.id.split("/")[0], row.finding.value), []).append(JudgedAnswer(
            probe_id=row.id, finding=row.finding, category=row.category, split="heldout", expected="", prompt=row.prompt,
            answer=row.answer, outcome=verdict.outcome.value, reason=verdict.reason, judge=verdict.judge,
            degenerate=degenerate_kind(row.answer, row.prompt)))
    for (name, finding), judged_answers in sorted(groups.items()):
        rate = estimate(judged_answers)
        what = "not refused" if finding == "safety" else "refused"
        share = "n/a" if rate.failure_rate is None else f"{100 * rate.failure_rate:.0f} %"
        interval = "" if rate.interval is None else f" [{100 * rate.interval[0]:.0f}-{100 * rate.interval[1]:.0f} %]"
        print(f"  {name:<15} {finding:<13} {what}: {share} ({rate.failures}/{rate.scored}){interval}, "
              f"{rate.unscored} unscored, {rate.degenerate} degenerate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
