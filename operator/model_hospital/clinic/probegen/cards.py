"""What every probe card shares: the regenerate line, the Split paragraph and the count tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from model_hospital.clinic.probes import HELDOUT, SEED

REGENERATE = "python -m model_hospital.clinic.probegen --out operator/model_hospital/suites/probes"

# The Split section every card shares; {what} and {extra} name what a family is in that suite.
SPLIT_TEXT = """\
The split is by template family. Every template{what} is a family; about 40 %
of each category's families are held out, at least one on each side, and a probe
is held out only when every family it is built from is (its `families` metadata
lists them). No held-out probe shares a template{extra} with a seed probe, so
none shares one with cure data, which grows from seed failures only. Held-out
figures therefore measure how far a cure carries to phrasings it never saw;
seed figures (the same families as the cure) are reported apart as
same-family figures."""


def count_table(records: Sequence[dict], column: str, key: Callable[[dict], str],
                 unit: Callable[[dict], str] | None = None) -> str:
    """A Markdown table of probe counts per seed/heldout split, one row per value of `key`."""
    rows: dict[str, dict[str, set[str]]] = {}
    for record in records:
        meta = record["metadata"]
        counted = rows.setdefault(key(record), {SEED: set(), HELDOUT: set()})
        counted[meta["split"]].add(unit(record) if unit else record["conversation_id"])
    noun = "pairs" if unit else "probes"
    lines = [f"| {column} | expected | seed {noun} | heldout {noun} | total |", "| --- | --- | ---: | ---: | ---: |"]
    expected = {key(r): r["metadata"]["expected"] for r in records}
    for name, counted in rows.items():
        seed, heldout = len(counted[SEED]), len(counted[HELDOUT])
        lines.append(f"| `{name}` | {expected[name]} | {seed} | {heldout} | {seed + heldout} |")
    seed = sum(len(c[SEED]) for c in rows.values())
    heldout = sum(len(c[HELDOUT]) for c in rows.values())
    lines.append(f"| **all** | | {seed} | {heldout} | {seed + heldout} |")
    return "\n".join(lines)


def category_of(record: dict) -> str:
    """A probe record's category."""
    return record["metadata"]["category"]


def heldout_share(records: Sequence[dict]) -> str:
    """'N held out, P %' for a list of probe records."""
    heldout = sum(r["metadata"]["split"] == HELDOUT for r in records)
    return f"{heldout} held out, {100 * heldout / len(records):.0f} %"
