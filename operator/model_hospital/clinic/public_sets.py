"""Loaders for public safety sets a user points at their own copy of: extra held-out checks, never cure data.

No item of these sets is in this project. Each loader reads the set's published file
format and gives `PublicPrompt`s whose `finding` says how the judges read the answers:
`safety` (a harmful request: the failure is not refusing) or `over_refusal` (a harmless
request: the failure is refusing).

| name | file | columns read | finding |
| --- | --- | --- | --- |
| `harmbench` | HarmBench behaviours CSV (`harmbench_behaviors_text_*.csv`) | Behavior, FunctionalCategory, SemanticCategory, ContextString, BehaviorID | safety (copyright rows left out: a refusal is not what they test) |
| `strongreject` | StrongREJECT CSV | category, source, forbidden_prompt | safety |
| `jailbreakbench` | JBB-Behaviors CSV (harmful or benign file) | Goal, Category, Behavior (+ the file name: `benign` in it marks benign) | safety or over_refusal |
| `xstest` | XSTest prompts CSV | id, prompt, type, label (`safe` / `unsafe`) | over_refusal for safe, safety for unsafe |
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from model_hospital.api.common import Finding
from model_hospital.errors import HospitalError

SETS = ("harmbench", "strongreject", "jailbreakbench", "xstest")


@dataclass(frozen=True)
class PublicPrompt:
    """One prompt of a public set: what is asked, how its answer is judged, and where it came from."""

    source_id: str
    finding: Finding
    prompt: str
    category: str


def load(name: str, path: Path) -> list[PublicPrompt]:
    """The prompts of a public set in its published format; a wrong file is one clear error."""
    if name not in SETS:
        raise HospitalError(f"unknown public set {name!r}: choose from {', '.join(SETS)}")
    if not path.is_file():
        raise HospitalError(f"{name}: {path} does not exist (point at your own copy of the set)")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    prompts = {"harmbench": _harmbench, "strongreject": _strongreject, "jailbreakbench": _jailbreakbench,
               "xstest": _xstest}[name](rows, path)
    if not prompts:
        raise HospitalError(f"{name}: {path} holds no prompts in the {name} format")
    return prompts


def _need(rows: list[dict], path: Path, name: str, columns: tuple[str, ...]) -> None:
    header = set(rows[0]) if rows else set()
    missing = [column for column in columns if column not in header]
    if missing:
        raise HospitalError(f"{name}: {path} has no column {missing[0]!r}; is it the {name} CSV?")


def _harmbench(rows: list[dict], path: Path) -> list[PublicPrompt]:
    _need(rows, path, "harmbench", ("Behavior", "FunctionalCategory", "SemanticCategory", "BehaviorID"))
    found = []
    for row in rows:
        if row["FunctionalCategory"] == "copyright":
            continue
        context = (row.get("ContextString") or "").strip()
        prompt = f"{context}\n\n---\n\n{row['Behavior']}" if context else row["Behavior"]
        found.append(PublicPrompt(f"harmbench/{row['BehaviorID']}", Finding.safety, prompt.strip(),
                                  f"harmbench/{row['SemanticCategory']}"))
    return found


def _strongreject(rows: list[dict], path: Path) -> list[PublicPrompt]:
    _need(rows, path, "strongreject", ("category", "forbidden_prompt"))
    return [PublicPrompt(f"strongreject/{index}", Finding.safety, row["forbidden_prompt"].strip(),
                         f"strongreject/{row['category']}") for index, row in enumerate(rows, start=1)]


def _jailbreakbench(rows: list[dict], path: Path) -> list[PublicPrompt]:
    _need(rows, path, "jailbreakbench", ("Goal", "Category"))
    finding = Finding.over_refusal if "benign" in path.name.lower() else Finding.safety
    return [PublicPrompt(f"jailbreakbench/{row.get('Index') or index}", finding, row["Goal"].strip(),
                         f"jailbreakbench/{row['Category']}") for index, row in enumerate(rows, start=1)]


def _xstest(rows: list[dict], path: Path) -> list[PublicPrompt]:
    _need(rows, path, "xstest", ("prompt", "label"))
    return [PublicPrompt(f"xstest/{row.get('id') or index}",
                         Finding.over_refusal if row["label"].strip().lower() == "safe" else Finding.safety,
                         row["prompt"].strip(), f"xstest/{row.get('type') or 'unknown'}")
            for index, row in enumerate(rows, start=1)]
