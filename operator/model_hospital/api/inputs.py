"""The input of each stage of a treatment, built once, for both drivers.

`stage_input(step, spec, placed, artifacts)` is the one call that turns a Treatment's
spec, the step `next_step` gave and the paths the earlier stages left into the stage's
typed input: the stage's input model builds itself (`StageInput.for_step`, in
api/stages.py, found through the stage's declaration in `PROTOCOL`). The operator
(`controller/stage_inputs.py`) and `hospital treat` (`treat.py`, which builds the same
`TreatmentSpec` from its flags) call it; each adds
only what is its own, as a `Placement`: where the patient's weights, the user's suites
and public sets are as the stage sees them (claims and ConfigMaps mounted in a Job, or
local files), and the judge with its key named the driver's way. A spec field the
treatment leaves unset falls back to the patient's in the builders, and nowhere else.
"""

from __future__ import annotations

from pydantic import Field

from model_hospital.api.common import Symptom
from model_hospital.api.protocol import Step, declaration
from model_hospital.api.resources import TreatmentSpec
from model_hospital.api.stages import (  # noqa: F401  (treated_symptoms re-exported: the drivers read it here)
    Artifacts, GenerationSettings, JudgeSettings, Model, PublicSet, StageInput, SuiteFiles, treated_symptoms,
)


class Placement(Model):
    """What a driver adds to a treatment's spec: the patient, and the user's data, where the stages find them."""

    model: str = Field(description="The patient's weights as a stage opens them: a claim's path inside the Job, an "
                                   "id@revision, a bundled name or a local folder.")
    symptoms: list[Symptom] = Field(min_length=1, description="The patient's screened symptoms: what a treatment that "
                                                              "names none treats.")
    budget: int | None = Field(None, gt=0, description="The patient's probes per symptom, when the treatment names "
                                                       "none.")
    generation: GenerationSettings = Field(default_factory=GenerationSettings,
                                           description="The patient's generation; the treatment's spec.generation "
                                                       "replaces it.")
    judge: JudgeSettings = Field(default_factory=JudgeSettings, description="The patient's judge, its key named as "
                                                                            "the driver passes it.")
    teacher: JudgeSettings | None = Field(None, description="The teacher of spec.cure, placed like the judge.")
    suites: SuiteFiles = Field(default_factory=SuiteFiles, description="The treatment's own suites (else the "
                                                                       "patient's) as files the stages read.")
    public: list[PublicSet] = Field(default_factory=list, description="The public sets verify checks, as files.")
    treatment: str = Field("healed", description="The treatment's name (the default tag of an exported adapter).")


def stage_input(step: Step, spec: TreatmentSpec, placed: Placement, artifacts: Artifacts) -> StageInput:
    """The input of the step's stage: the spec's choices over the patient's, and the paths earlier stages left.
    Each stage's input model builds itself (`for_step`), so a stage is declared in `PROTOCOL` and its models."""
    return declaration(step.stage).input_model.for_step(step, spec, placed, artifacts)
