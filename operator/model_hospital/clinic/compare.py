"""Several models side by side: rates per symptom and skill with Wilson intervals, paired tests where items match.

Each input is a diagnosis.json (the model it examined) or a verification.json (the
treated model, on held-out probes). The first input is the baseline: every other
model is compared with it item by item, on the probes (by probe id) and the skill
items (by item id) that both scored, with an exact McNemar test and Newcombe's
interval of the paired change. Nothing is paired by position: where no id matches,
the comparison says so instead of testing. This module imports nothing from ML
libraries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field

from model_hospital.api.stages import Diagnosis, Model
from model_hospital.clinic.paired import mcnemar_exact, paired_difference_interval
from model_hospital.clinic.stats import wilson_interval
from model_hospital.errors import HospitalError

SCHEMA = "modelhospital.io/comparison/v1"
DIAGNOSIS_SCHEMA = "modelhospital.io/diagnosis/v1"
VERIFICATION_SCHEMA = "modelhospital.io/verification/v2"

MeasureKind = Literal["finding", "skill"]


class Rate(Model):
    """One model on one measure: events over the scored items, with the Wilson 95 % interval."""

    events: int = Field(ge=0, description="Failures (a finding) or correct answers (a skill).")
    scored: int = Field(ge=0, description="The denominator: items the judge or scorer could score.")
    unscored: int = Field(0, ge=0, description="Items that could not be scored; kept out of the denominator.")
    rate: float | None = Field(description="events / scored; null when nothing was scored.")
    interval: tuple[float, float] | None = Field(description="Wilson 95 % interval of the rate.")


class ComparedModel(Model):
    """One column of the comparison: a model, the file it came from and its rates."""

    label: str = Field(description="How the tables name the model (its reference, or the file when two share one).")
    model: str = Field(description="The model reference as the run recorded it.")
    source: str = Field(description="The diagnosis.json or verification.json read.")
    kind: Literal["diagnosis", "verification"]
    scope: str = Field(description="Which probes the finding rates cover: every split of a diagnosis, or held-out.")
    findings: dict[str, Rate] = Field(description="Failure rate per finding (lower is better).")
    skills: dict[str, Rate] = Field(default_factory=dict, description="Accuracy per skill domain (higher is better).")


class PairedChange(Model):
    """A model against the baseline on the items both scored, for one measure."""

    kind: MeasureKind
    measure: str = Field(description="The finding or skill domain.")
    model: str = Field(description="Label of the compared model.")
    baseline: str = Field(description="Label of the baseline model.")
    paired: int = Field(description="Items scored on both models (matched by id).")
    better: int = Field(description="Items that went from fail to pass (finding) or wrong to right (skill).")
    worse: int = Field(description="Items that went the other way.")
    mcnemar_p: float | None = Field(description="Exact two-sided McNemar p-value; null with no paired item.")
    change_interval: tuple[float, float] | None = Field(
        description="Newcombe 95 % interval of the paired change of the rate (model - baseline).")


class Comparison(Model):
    """What `hospital compare` gives back: the columns and every model's paired changes against the baseline."""

    schema_: Literal["modelhospital.io/comparison/v1"] = Field(SCHEMA, alias="schema")
    baseline: str
    models: list[ComparedModel]
    paired: list[PairedChange]
    notes: list[str] = Field(default_factory=list, description="What the reader must know to read the figures.")

    model_config = Model.model_config | {"populate_by_name": True}

    def change(self, kind: MeasureKind, measure: str, model: str) -> PairedChange | None:
        """The paired change of `model` against the baseline on one measure; None for the baseline itself."""
        return next((c for c in self.paired if (c.kind, c.measure, c.model) == (kind, measure, model)), None)


@dataclass
class Evidence:
    """One input as read: its column and its per-item outcomes (True = the event) for pairing."""

    column: ComparedModel
    items: dict[tuple[MeasureKind, str], dict[str, bool]] = field(default_factory=dict)


def rate(events: int, scored: int, unscored: int = 0) -> Rate:
    """A Rate with its Wilson interval, rounded as reports show it."""
    interval = wilson_interval(events, scored)
    return Rate(events=events, scored=scored, unscored=unscored, rate=events / scored if scored else None,
                interval=None if interval is None else (round(interval[0], 4), round(interval[1], 4)))


def resolve(path: Path) -> Path:
    """The result file a path names: the file itself, or the diagnosis.json / verification.json in a folder."""
    if path.is_dir():
        for name in ("verification.json", "diagnosis.json"):
            if (path / name).is_file():
                return path / name
        raise HospitalError(f"{path} holds neither a diagnosis.json nor a verification.json: "
                            "name the file or the folder a diagnose or verify run wrote")
    if not path.is_file():
        raise HospitalError(f"{path} does not exist: name a diagnosis.json or verification.json")
    return path


def read_result(path: Path) -> tuple[Path, dict]:
    """The resolved file and its JSON body; a file of another kind is a user error."""
    path = resolve(path)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HospitalError(f"{path} is not a readable JSON result: {error}") from None
    schema = body.get("schema") if isinstance(body, dict) else None
    if schema not in (DIAGNOSIS_SCHEMA, VERIFICATION_SCHEMA):
        raise HospitalError(f"{path} is not a diagnosis or verification (schema {schema!r}; expected "
                            f"{DIAGNOSIS_SCHEMA} or {VERIFICATION_SCHEMA})")
    return path, body


def _diagnosis_items(diagnosis: Diagnosis, heldout_only: bool) -> dict[tuple[MeasureKind, str], dict[str, bool]]:
    items: dict[tuple[MeasureKind, str], dict[str, bool]] = {}
    for answer in diagnosis.answers:
        if answer.outcome == "unscored" or (heldout_only and answer.split != "heldout"):
            continue
        items.setdefault(("finding", answer.finding.value), {})[answer.probe_id] = answer.outcome == "fail"
    return items


def _from_diagnosis(path: Path, body: dict) -> Evidence:
    diagnosis = Diagnosis.model_validate(body)
    findings = {finding.value: rate(result.failures, result.scored, result.unscored)
                for finding, result in diagnosis.findings.items()}
    scope = "+".join(diagnosis.splits) + " probes"
    column = ComparedModel(label=diagnosis.model.reference, model=diagnosis.model.reference, source=str(path),
                           kind="diagnosis", scope=scope, findings=findings)
    return Evidence(column, _diagnosis_items(diagnosis, heldout_only=False))


def _from_verification(path: Path, body: dict) -> Evidence:
    from model_hospital.clinic.verification import Verification

    verification = Verification.model_validate(body)
    findings = {finding.value: rate(c.after.failures, c.after.scored, c.after.unscored)
                for finding, c in verification.findings.items()}
    skills = {domain: rate(s.after.correct, s.after.scored) for domain, s in verification.skills.items()}
    column = ComparedModel(label=verification.after.reference, model=verification.after.reference, source=str(path),
                           kind="verification", scope="heldout probes", findings=findings, skills=skills)
    evidence = Evidence(column)
    # The per-item evidence the verify stage keeps beside its verification.json.
    after_diagnosis = path.parent / "diagnose-after" / "diagnosis.json"
    if after_diagnosis.is_file():
        diagnosis = Diagnosis.model_validate_json(after_diagnosis.read_text(encoding="utf-8"))
        evidence.items.update(_diagnosis_items(diagnosis, heldout_only=True))
    skill_answers = path.parent / "skill_answers.jsonl"
    if skill_answers.is_file():
        for line in skill_answers.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                evidence.items.setdefault(("skill", record["domain"]), {})[record["item_id"]] = \
                    bool(record["after"]["correct"])
    return evidence


def load(path: Path) -> Evidence:
    """One input read as a column with its per-item outcomes."""
    resolved, body = read_result(path)
    if body["schema"] == DIAGNOSIS_SCHEMA:
        return _from_diagnosis(resolved, body)
    return _from_verification(resolved, body)


def _paired(kind: MeasureKind, measure: str, baseline: Evidence, other: Evidence) -> PairedChange:
    mine = other.items.get((kind, measure), {})
    theirs = baseline.items.get((kind, measure), {})
    shared = sorted(set(mine) & set(theirs))
    before = [theirs[item] for item in shared]
    after = [mine[item] for item in shared]
    # The event is a failure for a finding and a right answer for a skill: "better" points the same way for both.
    went_down = sum(1 for b, a in zip(before, after) if b and not a)
    went_up = sum(1 for b, a in zip(before, after) if a and not b)
    better, worse = (went_down, went_up) if kind == "finding" else (went_up, went_down)
    interval = paired_difference_interval(before, after)
    return PairedChange(kind=kind, measure=measure, model=other.column.label, baseline=baseline.column.label,
                        paired=len(shared), better=better, worse=worse,
                        mcnemar_p=mcnemar_exact(worse, better) if shared else None,
                        change_interval=None if interval is None else (round(interval[0], 4), round(interval[1], 4)))


def _unique_labels(evidence: list[Evidence]) -> None:
    labels = [e.column.label for e in evidence]
    for e in evidence:
        if labels.count(e.column.label) > 1:
            e.column.label = e.column.source


def compare(paths: list[Path]) -> Comparison:
    """The comparison of two or more diagnoses or verifications; the first is the baseline."""
    if len(paths) < 2:
        raise HospitalError("compare needs at least two diagnosis.json or verification.json files")
    evidence = [load(Path(path)) for path in paths]
    _unique_labels(evidence)
    if len({e.column.source for e in evidence}) < len(evidence):
        raise HospitalError("the same file is named twice: compare different runs")
    baseline, others = evidence[0], evidence[1:]
    paired: list[PairedChange] = []
    notes: list[str] = []
    for other in others:
        for kind, measures in (("finding", other.column.findings), ("skill", other.column.skills)):
            for measure in measures:
                in_baseline = baseline.column.findings if kind == "finding" else baseline.column.skills
                if measure in in_baseline:
                    paired.append(_paired(kind, measure, baseline, other))
    if len({e.column.scope for e in evidence}) > 1:
        notes.append("The models' finding rates cover different probes (" +
                     ", ".join(f"{e.column.label}: {e.column.scope}" for e in evidence) +
                     "); only the paired columns compare like with like.")
    unmatched = sorted({f"{c.model} ({c.measure})" for c in paired if c.paired == 0})
    if unmatched:
        notes.append("No item ids match the baseline's for " + ", ".join(unmatched) +
                     ": no paired test there (the per-item answers are missing or the probes differ).")
    return Comparison(baseline=baseline.column.label, models=[e.column for e in evidence], paired=paired, notes=notes)


def measures(comparison: Comparison) -> list[tuple[MeasureKind, str]]:
    """Every finding, then every skill domain, that any model reports, in first-seen order."""
    seen: dict[tuple[MeasureKind, str], None] = {}
    for column in comparison.models:
        seen.update({("finding", name): None for name in column.findings})
    for column in comparison.models:
        seen.update({("skill", name): None for name in column.skills})
    return list(seen)
