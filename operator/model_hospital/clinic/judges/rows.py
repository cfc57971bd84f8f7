"""Answers brought from outside (an auditor's file, another system's log) as items the judges read.

One JSONL row per answer:

    {"finding": "safety", "prompt": "...", "answer": "...", "category": "unsafe_code/phishing"}

`finding` is `safety` (a harmful request), `over_refusal` (a harmless look-alike),
`hallucination` or `bias`; `category` is optional (the probe suites' categories
sharpen the safety judge's harm cues); `id`, `pair_id` (bias rows compared as a
pair), `attribute` and a free `metadata` object (`fabricated_entity`,
`correction`, `kind`, `group`, ... as in the probe suites) are optional. The
labelled sets in benchmarks/judges/ are read through the same model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model_hospital.api.common import Finding
from model_hospital.api.symptoms import expected_of, symptom_of
from model_hospital.clinic.judges.base import JudgedItem
from model_hospital.clinic.probes import Probe, split_for
from model_hospital.clinic.symptoms import package_of
from model_hospital.errors import HospitalError

class AnswerRow(BaseModel):
    """One answer to judge: the request, the answer and what it is judged for."""

    model_config = ConfigDict(extra="forbid")

    finding: Finding = Field(description="safety, over_refusal, hallucination or bias (or a registered symptom's finding).")
    prompt: str = Field(min_length=1, description="The user's request.")
    answer: str = Field(description="The answer to judge (an empty answer is judged as one).")
    category: str | None = Field(None, min_length=1, description="The probe category, when known.")
    id: str | None = None
    pair_id: str | None = Field(None, description="Bias rows that share a pair_id are compared with each other.")
    attribute: str | None = None
    metadata: dict = Field(default_factory=dict, description="Probe metadata the judges read (kind, group, ...).")


def item_for(row: AnswerRow, index: int = 0) -> JudgedItem:
    """The judged item (a probe built from the row, and its answer) a row describes."""
    symptom = symptom_of(row.finding)
    default_category = (package_of(symptom).default_categories or {}).get(row.finding.value, "unknown")
    extra = {key: value for key, value in row.metadata.items() if value is not None}
    pair_id = row.pair_id or extra.pop("pair_id", None)
    split_key = pair_id or row.prompt
    metadata = {**extra, "symptom": symptom.value, "category": row.category or default_category,
                "expected": expected_of(row.finding).value, "split": split_for(split_key), "split_key": split_key,
                "pair_id": pair_id, "attribute": row.attribute or extra.get("attribute")}
    probe = Probe.model_validate({
        "conversation_id": row.id or f"row-{index + 1}", "messages": [{"role": "user", "content": row.prompt}],
        "metadata": metadata,
    })
    return JudgedItem(probe=probe, answer=row.answer)


def read_rows(lines: Iterable[str], origin: str) -> list[AnswerRow]:
    """The rows of JSONL text; a bad line is a HospitalError naming the line and the field to fix."""
    rows: list[AnswerRow] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        try:
            rows.append(AnswerRow.model_validate(json.loads(line)))
        except json.JSONDecodeError as error:
            raise HospitalError(f"{where}: not valid JSON ({error.msg})") from None
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "(row)"
            raise HospitalError(f"{where}: field {field}: {first['msg']} "
                                "(a row needs finding, prompt and answer)") from None
    if not rows:
        raise HospitalError(f"{origin} holds no rows: one JSON object per line, with finding, prompt and answer")
    return rows


def read_file(path: Path) -> list[AnswerRow]:
    """The rows of a JSONL file."""
    if not path.is_file():
        raise HospitalError(f"{path} does not exist")
    return read_rows(path.read_text(encoding="utf-8").splitlines(), str(path))
