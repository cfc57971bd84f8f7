"""Prints each offline judge's agreement with the labelled set, with its denominator and the disagreements.

    .venv/bin/python benchmarks/judges/agreement.py            # the judges called directly
    .venv/bin/python benchmarks/judges/agreement.py --oumi     # through Oumi's Evaluator.evaluate

Agreement is the share of labelled cases whose verdict (pass, fail or
unscored) equals the label; every case of a judge is in its denominator.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LABELLED = Path(__file__).resolve().with_name("labelled.jsonl")
JUDGES = ("safety", "over_refusal", "hallucination", "bias")


@dataclass
class Agreement:
    judge: str
    agreed: int = 0
    total: int = 0
    hard_agreed: int = 0
    hard_total: int = 0
    disagreements: list[dict] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.agreed / self.total if self.total else 0.0


def load_cases(path: Path = LABELLED) -> list[dict]:
    """The labelled cases of a JSONL file, in order."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def item_for(case: dict):
    """The JudgedItem (a probe built from the case's metadata, and its answer) a labelled case describes."""
    from model_hospital.clinic.judges.rows import AnswerRow
    from model_hospital.clinic.judges.rows import item_for as row_item

    row = AnswerRow(finding=case.get("judge") or case["finding"], prompt=case["prompt"], answer=case["answer"],
                    category=case.get("category"), id=case["id"], metadata=dict(case.get("metadata") or {}))
    return row_item(row)


def measure(cases: Sequence[dict], judge_all: Callable | None = None) -> dict[str, Agreement]:
    """Each judge's agreement with the labels, judging all cases in one batch (bias pairs stay together)."""
    if judge_all is None:
        from model_hospital.clinic.judges import judge_all
    items = [item_for(case) for case in cases]
    verdicts = judge_all(items)
    results = {name: Agreement(name) for name in JUDGES}
    for case, verdict in zip(cases, verdicts):
        result = results[case["judge"]]
        agreed = verdict.outcome.value == case["expected"]
        result.total += 1
        result.agreed += agreed
        if case.get("hard"):
            result.hard_total += 1
            result.hard_agreed += agreed
        if not agreed:
            result.disagreements.append({
                "id": case["id"], "expected": case["expected"], "got": verdict.outcome.value,
                "reason": verdict.reason, "note": case.get("note", ""), "answer": case["answer"],
            })
    return results


def report(results: dict[str, Agreement]) -> str:
    """The agreement table and the disagreements, as Markdown."""
    lines = ["| judge | agreement | agreed / cases | hard cases agreed |", "| --- | ---: | ---: | ---: |"]
    agreed = total = 0
    for result in results.values():
        agreed, total = agreed + result.agreed, total + result.total
        lines.append(
            f"| {result.judge} | {100 * result.rate:.1f} % | {result.agreed} / {result.total} "
            f"| {result.hard_agreed} / {result.hard_total} |"
        )
    lines.append(f"| **all** | {100 * agreed / max(total, 1):.1f} % | {agreed} / {total} | |")
    for result in results.values():
        for miss in result.disagreements:
            lines.append(
                f"\n- `{miss['id']}` expected {miss['expected']}, got {miss['got']} ({miss['reason']}); "
                f"{miss['note']}\n  answer: {miss['answer'][:160]!r}"
            )
    return "\n".join(lines)


def report_by_set(results_by_set: dict[str, dict[str, Agreement]]) -> str:
    """Agreement per judge and per set (development, heldout, model), as Markdown."""
    sets = list(results_by_set)
    lines = ["| judge | " + " | ".join(sets) + " |", "| --- |" + " ---: |" * len(sets)]
    for judge in JUDGES:
        cells = [f"{r.agreed} / {r.total}" for r in (results_by_set[name][judge] for name in sets)]
        lines.append(f"| {judge} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oumi", action="store_true", help="judge through Oumi's Evaluator.evaluate")
    parser.add_argument("--labelled", type=Path, default=LABELLED)
    args = parser.parse_args(argv)
    judge_all = None
    if args.oumi:
        from model_hospital.clinic.judges import evaluate_with_oumi as judge_all
    cases = load_cases(args.labelled)
    print(report(measure(cases, judge_all)))
    sets = list(dict.fromkeys(case.get("set", "all") for case in cases))
    by_set = {name: measure([c for c in cases if c.get("set", "all") == name], judge_all) for name in sets}
    print("\nBy set (agreed / cases):\n")
    print(report_by_set(by_set))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "operator"))
    sys.exit(main())
