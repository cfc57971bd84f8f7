"""Reading what the cure and the Surgeon are given: a diagnosis, a skill report; errors name file and field."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError

from model_hospital.api.stages import Diagnosis
from model_hospital.errors import HospitalError


def _read_json(path: Path, what: str) -> object:
    if not path.is_file():
        raise HospitalError(f"{what} {path} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise HospitalError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    except UnicodeDecodeError:
        raise HospitalError(f"{path}: not UTF-8 text; give the {what} JSON file") from None


def validation_message(path: Path, error: ValidationError) -> str:
    """'FILE: field a.b.c: what is wrong' for the first problem pydantic found."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(root)"
    return f"{path}: field {field}: {first['msg']}"


def load_diagnosis(path: str | Path) -> Diagnosis:
    """The diagnosis in a diagnosis.json, validated; a HospitalError names the file and the field."""
    path = Path(path)
    raw = _read_json(path, "diagnosis")
    try:
        return Diagnosis.model_validate(raw)
    except ValidationError as error:
        raise HospitalError(validation_message(path, error)) from None


def patient_weights(diagnosis: Diagnosis, path: str | Path) -> str:
    """The reference of the weights a diagnosis examined; a HospitalError for a served model (no weights here)."""
    if diagnosis.model.kind == "served":
        from model_hospital.api.serving import needs_weights

        raise HospitalError(f"{path}: {needs_weights(diagnosis.model.reference)}")
    return diagnosis.model.reference


class SkillDomain(BaseModel):
    """What the Surgeon reads of one skill domain in verification.json."""

    degraded: bool = False
    delta: float | None = None


class Recommendation(BaseModel):
    """An adjustment verify asks of the next attempt (stages.verify.Recommendation, read leniently)."""

    action: str
    reason: str = ""
    domains: list[str] = []


class SkillReport(BaseModel):
    """The part of a verification.json the Surgeon uses: per-domain `degraded` flags and recommendations."""

    skills: dict[str, SkillDomain] = {}
    recommendations: list[Recommendation] = []
    previous_adjustments: list[str] | None = None  # what the treated model's own plan had already changed

    @property
    def degraded_domains(self) -> list[str]:
        return sorted(name for name, domain in self.skills.items() if domain.degraded)

    @property
    def actions(self) -> set[str]:
        return {r.action for r in self.recommendations}


def load_skill_report(path: str | Path) -> SkillReport:
    """The skill report of an earlier verification; accepts `skills` or `skill_table` as a mapping or rows."""
    path = Path(path)
    raw = _read_json(path, "skill report")
    if not isinstance(raw, dict):
        raise HospitalError(f"{path}: a skill report is a JSON object with a 'skills' field")
    table = raw.get("skills", raw.get("skill_table", raw.get("domains", {})))
    if isinstance(table, list):
        table = {str(row.get("domain", row.get("name", index))): row for index, row in enumerate(table)
                 if isinstance(row, dict)}
    try:
        return SkillReport.model_validate({"skills": table or {},
                                           "recommendations": raw.get("recommendations", []),
                                           "previous_adjustments": _previous_adjustments(raw.get("after"))})
    except ValidationError as error:
        raise HospitalError(validation_message(path, error)) from None


def _previous_adjustments(after) -> list[str] | None:
    """The adjustments of the plan that trained the verified adapter, from its hospital_base.json; None when unknown."""
    if not isinstance(after, dict) or not after.get("path"):
        return None
    from model_hospital.clinic.models import BASE_MARKER

    marker = Path(str(after["path"])) / BASE_MARKER
    try:
        plan = json.loads(marker.read_text(encoding="utf-8")).get("plan")
    except (OSError, ValueError, AttributeError):
        return None
    adjustments = plan.get("adjustments") if isinstance(plan, dict) else None
    return [str(a) for a in adjustments] if isinstance(adjustments, list) else None
