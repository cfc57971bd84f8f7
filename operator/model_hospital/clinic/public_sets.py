"""Loaders for public sets a user points at their own copy of: extra held-out checks, never cure data.

No item of these sets is in this project. Each loader reads the set's published file
format and gives `PublicPrompt`s whose `measure` says how an answer is scored: `judge`
(the finding's judge reads it: `safety`, a harmful request whose failure is not
refusing, or `over_refusal`, a harmless one whose failure is refusing), `math` (the
final number against the answer), `factual` (an accepted alias named) or `truthful`
(closer to a true reference answer than to a false one). `clinic/public_checks.py`
runs them in diagnose and verify and reports them apart from the probe findings.

| name | file | columns read | finding |
| --- | --- | --- | --- |
| `harmbench` | HarmBench behaviours CSV (`harmbench_behaviors_text_*.csv`) | Behavior, FunctionalCategory, SemanticCategory, ContextString, BehaviorID | safety (copyright rows left out: a refusal is not what they test) |
| `strongreject` | StrongREJECT CSV | category, source, forbidden_prompt | safety |
| `jailbreakbench` | JBB-Behaviors CSV (harmful or benign file) | Goal, Category, Behavior (+ the file name: `benign` in it marks benign) | safety or over_refusal |
| `xstest` | XSTest prompts CSV | id, prompt, type, label (`safe` / `unsafe`) | over_refusal for safe, safety for unsafe |
| `truthfulqa` | TruthfulQA CSV (`TruthfulQA.csv`) | Type, Category, Question, Correct Answers, Incorrect Answers (`; `-separated) | truthful |
| `gsm8k` | GSM8K JSONL (`test.jsonl`) | question, answer (ending `#### N`) | math |
| `triviaqa` | TriviaQA JSON (`verified-web-dev.json`, `wikipedia-dev.json`, ...) | Data[].QuestionId, Question, Answer.Value, Answer.Aliases | factual |
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from model_hospital.api.common import Finding
from model_hospital.api.stages import PUBLIC_SETS
from model_hospital.errors import HospitalError

SETS = PUBLIC_SETS
Measure = Literal["judge", "math", "factual", "truthful"]


@dataclass(frozen=True)
class PublicPrompt:
    """One prompt of a public set: what is asked, how its answer is scored, and where it came from.

    `finding` is the judge's finding for `judge` prompts and None for the others;
    `accepted` holds the right answers (the number, the aliases, the true answers),
    `rejected` the false answers of a `truthful` prompt.
    """

    source_id: str
    finding: Finding | None
    prompt: str
    category: str
    measure: Measure = "judge"
    accepted: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()


def load(name: str, path: Path) -> list[PublicPrompt]:
    """The prompts of a public set in its published format; a wrong file is one clear error."""
    if name not in SETS:
        raise HospitalError(f"unknown public set {name!r}: choose from {', '.join(SETS)}")
    if not path.is_file():
        raise HospitalError(f"{name}: {path} does not exist (point at your own copy of the set)")
    if name in ("gsm8k", "triviaqa"):
        prompts = {"gsm8k": _gsm8k, "triviaqa": _triviaqa}[name](path)
    else:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        prompts = {"harmbench": _harmbench, "strongreject": _strongreject, "jailbreakbench": _jailbreakbench,
                   "xstest": _xstest, "truthfulqa": _truthfulqa}[name](rows, path)
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


def _truthfulqa(rows: list[dict], path: Path) -> list[PublicPrompt]:
    _need(rows, path, "truthfulqa", ("Question", "Correct Answers", "Incorrect Answers"))
    found = []
    for index, row in enumerate(rows, start=1):
        true, false = _answers(row["Correct Answers"]), _answers(row["Incorrect Answers"])
        if row.get("Best Answer", "").strip() and row["Best Answer"].strip() not in true:
            true = (row["Best Answer"].strip(), *true)
        if not true or not false:
            raise HospitalError(f"truthfulqa: {path} row {index + 1} needs both Correct Answers and Incorrect Answers")
        found.append(PublicPrompt(f"truthfulqa/{index}", None, row["Question"].strip(),
                                  f"truthfulqa/{row.get('Category') or 'unknown'}", "truthful", true, false))
    return found


def _answers(cell: str) -> tuple[str, ...]:
    return tuple(answer.strip() for answer in (cell or "").split(";") if answer.strip())


def _gsm8k(path: Path) -> list[PublicPrompt]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question, answer = str(row["question"]), str(row["answer"])
        except (json.JSONDecodeError, KeyError, TypeError):
            raise HospitalError(f"gsm8k: {path}:{number} is not a GSM8K row (JSON with question and answer)") from None
        final = answer.rpartition("####")[2].strip().replace(",", "")
        if "####" not in answer or not re.fullmatch(r"-?\d+(?:\.\d+)?", final):
            raise HospitalError(f"gsm8k: {path}:{number}: field answer: it must end with '#### N', the final number")
        found.append(PublicPrompt(f"gsm8k/{number}", None, question.strip(), "gsm8k", "math", (final,)))
    return found


def _triviaqa(path: Path) -> list[PublicPrompt]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["Data"]
        found = []
        for index, row in enumerate(rows):
            answer = row["Answer"]
            accepted = tuple(dict.fromkeys(a for a in (answer["Value"], *answer.get("Aliases", [])) if a))
            found.append(PublicPrompt(f"triviaqa/{row.get('QuestionId') or index}", None, str(row["Question"]).strip(),
                                      "triviaqa", "factual", accepted))
    except (json.JSONDecodeError, KeyError, TypeError):
        raise HospitalError(f"triviaqa: {path} is not a TriviaQA JSON file (Data: [{{Question, QuestionId, "
                            "Answer: {Value, Aliases}}}])") from None
    return found
