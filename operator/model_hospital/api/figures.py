"""What each stage reports to its driver: the figures of its compact summary, typed.

A stage's `StageSummary.summary` (its termination message, < 4 KB) is JSON; its
driver reads it as the stage's `*Figures` model through `protocol.figures_of`, and
nowhere as a dict. Each stage's figures model is named in its declaration
(`api/protocol.py`).
"""

from __future__ import annotations

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


class SynthFigures(Figures):
    """What a synth stage reports: the rows of cure data written (the cure folder is the stage's folder)."""

    sft: int | None = None
    dpo: int | None = None
    grpo: int | None = None
    cure: int | None = Field(None, description="Cure examples chosen (the rest of the SFT rows are replay).")
    replay: int | None = None
    replay_share: float | None = None
    cure_dir: str | None = Field(None, description="The cure folder; the stage's folder when absent.")


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

    @property
    def treated_model(self) -> str | None:
        """The model verify examines: the merged one, else the adapter."""
        return self.merged or self.adapter or self.model


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

    verdict: Verdict | None = Field(None, description="The clinic's verdict; a summary without one is never Healed.")
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


StageFigures = DiagnoseFigures | SynthFigures | TrainFigures | VerifyFigures
