"""The treatment protocol: the stages, declared once, and the one rule that says what runs next.

`hospital treat` (stages in process or as subprocesses) and the operator (stages as
Jobs) are two drivers of this protocol: each asks `next_step(spec, records)` what to
run, runs it its own way, and records what came back; neither decides the order or
the retry rule itself. This module is pure and ML-free (the operator imports it).

The order is the order of `PROTOCOL`. Stages before the first `per_attempt` one run
once; the `per_attempt` ones (train, verify) run once per attempt. The last stage's
verdict closes an attempt: Healed ends the treatment, and so does Inconclusive (too
little evidence is not fixed by training again), and so does a verification that gave no
verdict at all (it ends Inconclusive, with the reason); Degraded or NotHealed start the next
attempt at the first per-attempt stage, its recipe adjusted by that verification,
while `spec.max_attempts` allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, Field

from model_hospital.api.figures import (
    DiagnoseFigures, StageFigures, SynthFigures, TrainFigures, Verdict, VerifyFigures,
)
from model_hospital.api.stages import DiagnoseInput, Model, StageInput, StageSummary, SynthInput, TrainInput, VerifyInput

# Train-and-verify attempts when a treatment names none, locally and on the CRD alike. Two: the
# first retry is the ladder's gentlest step (the replay buffer added again), which is what a
# Degraded cure of the bundled patient needs; each further attempt costs a whole train and verify
# (hours of GPU time for a large model, docs/scale.md) for a smaller step, so more is asked for.
DEFAULT_MAX_ATTEMPTS = 2

# Verdicts after which training again cannot help: the cure worked, or the evidence is too thin.
FINAL_VERDICTS = ("Healed", "Inconclusive", "Failed")

# What a status record's phase means for the protocol.
DONE_PHASES = ("Succeeded", "Reused")
ACTIVE_PHASES = ("Pending", "Running")


@dataclass(frozen=True)
class StageDeclaration:
    """One stage of the protocol: everything a driver needs to know about it but how to run it."""

    name: str
    module: str  # the stage module, `run(stage_input, output_dir, console) -> StageResult`
    input_model: type[StageInput]  # the stage's input, which builds itself from a treatment (`for_step`)
    figures_model: type[BaseModel]  # its `StageSummary.summary`, typed
    condition: str  # the Treatment condition it sets, and that condition's reasons
    running_reason: str
    done_reason: str
    failed_reason: str
    per_attempt: bool  # runs again on every attempt (else once per treatment)
    what: str  # what the stage does, in a few words (descriptions of the chart values and CRD fields per stage)
    cpu: str  # the default compute and deadline of its Job (the chart's values and the operator's settings)
    memory: str
    deadline_seconds: int

    def __post_init__(self) -> None:
        if self.input_model.for_step.__func__ is StageInput.for_step.__func__:
            raise TypeError(f"{self.input_model.__name__} does not say how a treatment builds it: give it a "
                            "`for_step` classmethod (api/stages.py)")


PROTOCOL: tuple[StageDeclaration, ...] = (
    StageDeclaration("diagnose", "model_hospital.stages.diagnose", DiagnoseInput, DiagnoseFigures,
                     "Diagnosed", "Diagnosing", "Diagnosed", "DiagnoseFailed", per_attempt=False,
                     what="the examination", cpu="2", memory="8Gi", deadline_seconds=3 * 3600),
    StageDeclaration("synth", "model_hospital.stages.synth", SynthInput, SynthFigures,
                     "CureReady", "Synthesizing", "CureReady", "SynthFailed", per_attempt=False,
                     what="cure data", cpu="2", memory="8Gi", deadline_seconds=3 * 3600),
    StageDeclaration("train", "model_hospital.stages.train", TrainInput, TrainFigures,
                     "Trained", "Training", "Trained", "TrainFailed", per_attempt=True,
                     what="fine-tuning with Oumi, usually the GPU one", cpu="4", memory="16Gi",
                     deadline_seconds=24 * 3600),
    StageDeclaration("verify", "model_hospital.stages.verify", VerifyInput, VerifyFigures,
                     "Verified", "Verifying", "Verified", "VerifyFailed", per_attempt=True,
                     what="the check of the cure", cpu="2", memory="8Gi", deadline_seconds=6 * 3600),
)
STAGE_NAMES: tuple[str, ...] = tuple(declared.name for declared in PROTOCOL)
_BY_NAME = {declared.name: declared for declared in PROTOCOL}


def declaration(stage: str) -> StageDeclaration:
    """The declaration of a stage; a ValueError naming the known stages for any other name."""
    if stage not in _BY_NAME:
        raise ValueError(f"unknown stage {stage!r}: the protocol has {', '.join(STAGE_NAMES)}")
    return _BY_NAME[stage]


def figures_of(summary: StageSummary) -> StageFigures:
    """The stage's figures, typed by its declaration; a ValueError saying what is wrong with them."""
    return declaration(summary.stage).figures_model.model_validate(summary.summary)


class TreatmentRules(Protocol):
    """What `next_step` reads of a treatment: the CRD's `TreatmentSpec` and `hospital treat`'s plan both have it."""

    max_attempts: int


class AttemptRules(Model):
    """The rules alone, for a driver that holds no whole spec (a Treatment whose spec did not validate)."""

    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1)


class StageRun(Model):
    """One finished stage of a treatment, as the protocol sees it."""

    stage: str
    attempt: int = Field(ge=1)
    succeeded: bool = Field(description="It finished and its result can be used (a reused diagnosis too).")
    verdict: Verdict | None = Field(None, description="The last stage's verdict for this attempt.")


class Step(Model):
    """What a driver does next: run a stage, or close the treatment with a verdict."""

    stage: str | None = Field(None, description="The stage to run; None once the treatment ended.")
    attempt: int = Field(ge=1, description="The attempt the stage belongs to (the last one once ended).")
    adjusted_by: int | None = Field(
        None, description="For a retry: the attempt whose verification adjusts this training's recipe (its skill "
                          "report); None on the first attempt.")
    verdict: Verdict | None = Field(None, description="The treatment's verdict once it ended.")
    reason: str = Field("", description="Why it ended when the records themselves are the problem.")

    @property
    def ended(self) -> bool:
        return self.stage is None

    @property
    def phase(self) -> str:
        """The stage to run, else `done`, or `failed` when a stage failed for good."""
        if self.stage is not None:
            return self.stage
        return "failed" if self.verdict == "Failed" else "done"


def next_step(spec: TreatmentRules, records: Sequence[StageRun]) -> Step:
    """What runs after `records` (the finished stages, oldest first) under `spec`'s attempts."""
    if not records:
        return Step(stage=PROTOCOL[0].name, attempt=1)
    last = records[-1]
    if last.stage not in _BY_NAME:
        return Step(attempt=last.attempt, verdict="Failed",
                    reason=f"a record names stage {last.stage!r}, which is not in the protocol")
    if not last.succeeded:
        return Step(attempt=last.attempt, verdict="Failed", reason=f"{last.stage} (attempt {last.attempt}) failed")
    index = STAGE_NAMES.index(last.stage)
    if index + 1 < len(PROTOCOL):
        return Step(stage=PROTOCOL[index + 1].name, attempt=last.attempt)
    if last.verdict is None:
        # A verification that gave no verdict (a figure it needed missing or unscored) is evidence of nothing:
        # never a cure, and no reason to train again. Both drivers read it here, and only here.
        return Step(attempt=last.attempt, verdict="Inconclusive",
                    reason=f"{last.stage} (attempt {last.attempt}) gave no verdict")
    verdict = last.verdict
    if verdict in FINAL_VERDICTS or last.attempt >= spec.max_attempts:
        return Step(attempt=last.attempt, verdict=verdict)
    retry = next(declared for declared in PROTOCOL if declared.per_attempt)
    return Step(stage=retry.name, attempt=last.attempt + 1, adjusted_by=adjustment_for(retry.name, last.attempt + 1))


def adjustment_for(stage: str, attempt: int) -> int | None:
    """The attempt whose verification adjusts this run (the retry's skill report): the one before, for the
    first per-attempt stage of a later attempt; None for every other run."""
    first = next(declared for declared in PROTOCOL if declared.per_attempt)
    return attempt - 1 if stage == first.name and attempt > 1 else None


def runs_from_status(records: Sequence[dict[str, Any]]) -> list[StageRun]:
    """The finished stages of a Treatment's `status.stages` (camelCase records); a running one ends the list."""
    runs = []
    for record in records:
        phase = record.get("phase")
        if phase in ACTIVE_PHASES:
            break
        runs.append(StageRun(stage=str(record.get("stage")), attempt=int(record.get("attempt") or 1),
                             succeeded=phase in DONE_PHASES, verdict=record.get("verdict")))
    return runs
