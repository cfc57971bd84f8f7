"""What each stage reports to its driver: the figures of its compact summary, typed.

A stage's `StageSummary.summary` (its termination message, < 4 KB) is JSON; its
driver reads it as the stage's `*Figures` model through `protocol.figures_of`, and
nowhere as a dict. Each stage's figures model is named in its declaration
(`api/protocol.py`).
"""

from __future__ import annotations

import posixpath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from model_hospital.api.common import Severity

# A treatment's verdicts: verify gives one of the first four; Failed is a stage that failed for good.
Verdict = Literal["Healed", "Degraded", "NotHealed", "Inconclusive", "Failed"]


class Figures(BaseModel):
    """Base of a stage's compact figures (`StageSummary.summary`, read through `protocol.figures_of`).

    Figures the model does not name are ignored, not refused: an operator one release behind
    reads a newer worker's summary (a rolling upgrade) by the fields it knows.
    """

    model_config = ConfigDict(extra="ignore")

    def artifacts(self, result_path: str | None) -> dict[str, str | None]:
        """The paths the stage yields for later stages and status.artifacts (None: unknown)."""
        return {}

    def one_line(self, message: str) -> str:
        """The stage's result in one line, for its record."""
        return (message or "done")[:256]

    @model_validator(mode="before")
    @classmethod
    def _rows_by_name(cls, raw: Any) -> Any:
        """Tables written as lists of rows (each naming its key) become the dicts the models declare."""
        if not isinstance(raw, dict):
            return raw
        keys = {"findings": ("finding", "symptom"), "symptoms": ("symptom", "finding"), "skills": ("domain",)}
        rows = {name: raw[name] for name in keys if isinstance(raw.get(name), list)}
        for name, table in rows.items():
            by_name = {}
            for row in table:
                key = next((row.get(field) for field in keys[name] if isinstance(row, dict) and row.get(field)), None)
                if key is not None:
                    by_name[str(key)] = row
            rows[name] = by_name
        return {**raw, **rows} if rows else raw


class FindingFigures(Figures):
    """One finding of a diagnosis in its summary."""

    failure_rate: float | None = None
    failures: int = 0
    scored: int = 0
    unscored: int = 0
    interval: list[float] | None = None
    severity: Severity | None = Field(None, description="The finding's severity; from its rate when absent.")


class DiagnoseFigures(Figures):
    """What a diagnose stage reports to its driver: the figures copied into a patient's status."""

    model: str | None = None
    revision: str | None = None
    model_revision: str | None = Field(None, description="An older name of `revision`.")
    overall_severity: Severity | None = Field(None, description="Worst severity over the symptoms; from the "
                                                                "findings when absent.")
    worst_finding: str | None = None
    treatment_priority: list[str] = Field(default_factory=list)
    findings: dict[str, FindingFigures] = Field(default_factory=dict)
    diagnosis: str | None = Field(None, description="diagnosis.json; the file beside result.json when absent.")
    report: str | None = Field(None, description="diagnosis.md; the file beside result.json when absent.")

    def artifacts(self, result_path: str | None) -> dict[str, str | None]:
        return {"diagnosis": self.diagnosis or beside(result_path, "diagnosis.json")}

    def one_line(self, message: str) -> str:
        return f"overall severity {self.overall_severity.value if self.overall_severity else '?'}"


class SynthFigures(Figures):
    """What a synth stage reports: the rows of cure data written (the cure folder is the stage's folder)."""

    sft: int | None = None
    dpo: int | None = None
    grpo: int | None = None
    cure: int | None = Field(None, description="Cure examples chosen (the rest of the SFT rows are replay).")
    replay: int | None = None
    replay_share: float | None = None
    cure_dir: str | None = Field(None, description="The cure folder; the stage's folder when absent.")

    def artifacts(self, result_path: str | None) -> dict[str, str | None]:
        return {"cure": self.cure_dir or (posixpath.dirname(result_path) if result_path else None)}

    def one_line(self, message: str) -> str:
        return f"{_count(self.sft)} SFT / {_count(self.dpo)} DPO rows"


class TrainFigures(Figures):
    """What a train stage reports: the treated model and the recipe's choices, with the retry's adjustments."""

    method: str | None = None
    severity: str | None = None
    learning_rate: float | None = None
    lora_r: int | None = None
    epochs: int | None = None
    replay_boost: bool | None = None
    adjustments: list[str] = Field(default_factory=list, description="Retry adjustments applied, one per earlier "
                                                                     "attempt.")
    adapter: str | None = Field(None, description="The LoRA adapter folder.")
    merged: str | None = Field(None, description="The merged model, when asked for.")
    model: str | None = Field(None, description="The treated model, when neither adapter nor merged names it.")
    recipe: str | None = Field(None, description="recipe.yaml; the file beside result.json when absent.")

    def artifacts(self, result_path: str | None) -> dict[str, str | None]:
        """The treated model verify examines (the merged one, else the adapter), the adapter, the recipe."""
        return {"model": self.merged or self.adapter or self.model or beside(result_path, "adapter"),
                "adapter": self.adapter, "recipe": self.recipe or beside(result_path, "recipe.yaml")}

    def one_line(self, message: str) -> str:
        return (message or "trained")[:256]


class OutcomeFigures(Figures):
    """A verified symptom before and after (`findings`), or a skill domain (`skills`)."""

    before: float | None = None
    after: float | None = None
    n: int | None = None
    target: float | None = None
    healed: bool | None = None
    delta: float | None = None
    degraded: bool = False
    status: str | None = None


class VerifyFigures(Figures):
    """What a verify stage reports: the verdict (decided by the clinic) and the before/after tables."""

    verdict: Verdict | None = Field(None, description="The clinic's verdict, read as given, never derived from the "
                                                      "tables; a summary without one ends the treatment Inconclusive "
                                                      "(`protocol.next_step`).")
    severity_after: Severity | None = None
    findings: dict[str, OutcomeFigures] = Field(default_factory=dict)
    symptoms: dict[str, OutcomeFigures] = Field(default_factory=dict, description="An older name of `findings`.")
    skills: dict[str, OutcomeFigures] = Field(default_factory=dict)
    recommendations: list[str] = Field(default_factory=list)
    verification: str | None = Field(None, description="verification.json; the file beside result.json when absent.")
    report: str | None = None
    exported: str | None = Field(None, description="Where the healed adapter was pushed (a Healed verdict only).")
    exported_merged: str | None = None

    @property
    def outcomes(self) -> dict[str, OutcomeFigures]:
        return self.findings or self.symptoms

    def artifacts(self, result_path: str | None) -> dict[str, str | None]:
        return {"verification": self.verification or beside(result_path, "verification.json"),
                "image": self.exported, "merged_image": self.exported_merged}

    def one_line(self, message: str) -> str:
        return f"verdict {self.verdict}" if self.verdict else "no verdict"


StageFigures = DiagnoseFigures | SynthFigures | TrainFigures | VerifyFigures


def beside(result_path: str | None, name: str) -> str | None:
    """The file `name` beside a stage's result.json, where a stage leaves it by convention."""
    return posixpath.join(posixpath.dirname(result_path), name) if result_path else None


def _count(rows: int | None) -> str:
    return "?" if rows is None else str(rows)
