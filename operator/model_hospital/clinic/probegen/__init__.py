"""The probe suites under model_hospital/suites/probes/, generated from this project's own templates.

Each built-in symptom's package (clinic/symptoms/<name>/probes.py) holds its templates
and card; this module numbers the drafts, writes the JSONL suites and checks them.
`families.py` and `cards.py` are the toolkit the generators share.

    python -m model_hospital.clinic.probegen --out operator/model_hospital/suites/probes          # write
    python -m model_hospital.clinic.probegen --out operator/model_hospital/suites/probes --check  # compare

Everything here is deterministic: slot values are picked by a hash of the
category and an index, never by a random generator, so a run rewrites the
committed files byte for byte (a test checks it). Nothing is copied from a public
benchmark. Prompts are requests as a user would type them; no answer, and in
particular no harmful instruction, is written anywhere.

The split is by template family, never by prompt. Every template (and every
jailbreak wrapper, bias scenario and false-premise item) is a family, and about 40 %
of each category's families are held out, at least one on each side
(`heldout_families`). A probe is held out when every family it is built from is,
seed when none is; a probe that would mix the two is never kept. So no held-out
probe shares a template with any seed probe, and so with any cure example grown
from one: held-out figures measure how far a cure carries to phrasings it never
saw. Each category is drawn from a larger pool of candidates so that about 40 % of
its probes are held out.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from model_hospital.api.symptoms import BUILTIN
from model_hospital.clinic.probegen.cards import REGENERATE
from model_hospital.clinic.probegen.families import Draft
from model_hospital.packaged import PROBES

# The packaged suites: one per built-in symptom (a plug-in symptom brings its own suite file).
SUITES = tuple(declaration.name for declaration in BUILTIN)


def _records(symptom: str, drafts: Sequence[Draft]) -> list[dict]:
    """Probe dicts in the Oumi Conversation layout, with ids numbered per category."""
    records = []
    numbers: dict[str, int] = {}
    for draft in drafts:
        if draft.pair_id:
            side = "ab"[numbers.get(draft.pair_id, 0)]
            numbers[draft.pair_id] = numbers.get(draft.pair_id, 0) + 1
            conversation_id = f"{draft.pair_id}-{side}"
        else:
            numbers[draft.category] = numbers.get(draft.category, 0) + 1
            conversation_id = f"{symptom}-{draft.category.replace('/', '-')}-{numbers[draft.category]:03d}"
        metadata = {"symptom": symptom, "category": draft.category, "expected": draft.expected.value,
                    "split": draft.split, "split_key": draft.key, "tags": list(draft.tags),
                    "pair_id": draft.pair_id, "attribute": draft.attribute,
                    "families": [family.id for family in draft.families], **draft.extra}
        records.append({"conversation_id": conversation_id,
                        "messages": [{"role": "user", "content": draft.prompt}],
                        "metadata": metadata})
    return records


def build_suites(names: Sequence[str] = SUITES) -> dict[str, list[dict]]:
    """Every suite's probe records, by suite name, from its symptom package's drafts."""
    from model_hospital.clinic.symptoms import package_of

    return {name: _records(name, package_of(name).suite_drafts()) for name in names}


def _jsonl(records: Sequence[dict]) -> str:
    """The records as JSON Lines, one probe a line."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def render(names: Sequence[str] = SUITES) -> dict[str, str]:
    """Every file the generator writes (file name -> text): a JSONL suite and a card per symptom."""
    from model_hospital.clinic.symptoms import package_of

    files: dict[str, str] = {}
    for name, records in build_suites(names).items():
        files[f"{name}.jsonl"] = _jsonl(records)
        files[f"{name}.md"] = package_of(name).card(records)
    return files


def write(out: Path) -> list[Path]:
    """The paths written under `out`, after writing every suite and card there."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = out / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def stale(out: Path) -> list[str]:
    """The file names under `out` that differ from a fresh generation (empty when up to date)."""
    return [name for name, text in render().items()
            if not (out / name).is_file() or (out / name).read_bytes() != text.encode("utf-8")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_hospital.clinic.probegen",
                                     description="Generate the probe suites and their cards.")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / PROBES,
                        help="folder for the JSONL suites and cards (default: the package's suites/probes)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the files under --out differ from a fresh generation")
    args = parser.parse_args(argv)
    if args.check:
        differing = stale(args.out)
        for name in differing:
            print(f"{args.out / name} is out of date: run {REGENERATE}", file=sys.stderr)
        return 1 if differing else 0
    for path in write(args.out):
        print(path)
    return 0
