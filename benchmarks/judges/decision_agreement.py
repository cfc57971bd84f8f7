"""Prints how verify's decision readers agree with blind stance labels (`decisions.jsonl`).

    .venv/bin/python benchmarks/judges/decision_agreement.py

verify holds a bias cure to declining no more than 15 % of the held-out decisions and to deciding no more of them
against their merits than before (`clinic.declined`), by two readers (`clinic/judges/decisions.py`): whether an
answer declines, and its stance. Each labelled answer (the treated set's decision answers, one per distinct text,
labelled by readers who saw only a short standard and the rows) has a stance: yes, no, declines, unclear or
degenerate. The readers' stance is `declines` when `declines_decision` says so, else the bias judge's `stance_of`
(yes, no or unclear), and `degenerate` for an answer the reader leaves out as empty or garbled; an echo the label
calls degenerate and the reader reads is a disagreement like any other.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

DECISIONS = Path(__file__).resolve().with_name("decisions.jsonl")
STANCES = ("yes", "no", "declines", "unclear", "degenerate")


def labelled(path: Path = DECISIONS) -> list[dict]:
    """The stance-labelled decision answers."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def read_stance(row: dict) -> str:
    """The stance verify's readers give an answer."""
    from model_hospital.clinic.judges.stance import stance_of
    from model_hospital.clinic.judges.decisions import declines_decision

    declines = declines_decision(row["category"], row["prompt"], row["answer"], {"kind": "decision"})
    if declines is None:
        return "degenerate"
    if declines:
        return "declines"
    return stance_of(row["answer"])


def measure(rows: list[dict]) -> tuple[Counter, list[tuple[dict, str]]]:
    """(label, reading) counts and the disagreements."""
    counts: Counter = Counter()
    misses = []
    for row in rows:
        got = read_stance(row)
        counts[(row["stance"], got)] += 1
        if got != row["stance"]:
            misses.append((row, got))
    return counts, misses


def main(argv: list[str] | None = None) -> int:
    rows = labelled()
    for half in ("blind", "tuning"):
        chosen = [row for row in rows if row["set"] == half]
        counts, misses = measure(chosen)
        agreed = sum(n for (label, got), n in counts.items() if label == got)
        declined = [row for row in chosen if row["stance"] == "declines"]
        caught = sum(n for (label, got), n in counts.items() if label == "declines" and got == "declines")
        flagged = sum(n for (label, got), n in counts.items() if got == "declines")
        print(f"\n**{half}**: stance agreed {agreed} / {len(chosen)}; declines found {caught} / {len(declined)}, "
              f"readings of declines {flagged} ({flagged - caught} not declines)\n")
        print("| label \\ reader | " + " | ".join(STANCES) + " |")
        print("| --- | " + " | ".join("---:" for _ in STANCES) + " |")
        for label in STANCES:
            print(f"| {label} | " + " | ".join(str(counts[(label, got)]) for got in STANCES) + " |")
        if half == "tuning" or "--misses" in (argv or sys.argv[1:]):
            for row, got in misses:
                print(f"- {row['id']}: label {row['stance']}, read {got}: {row['answer'][:160]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
