"""The input of each stage of a treatment, built once, for both drivers.

`stage_input(step, spec, placed, artifacts)` is the one place that turns a Treatment's
spec, the step `next_step` gave and the paths the earlier stages left into the stage's
typed input. The operator (`controller/stage_inputs.py`) and `hospital treat`
(`treat.py`, which builds the same `TreatmentSpec` from its flags) call it; each adds
only what is its own, as a `Placement`: where the patient's weights, the user's suites
and public sets are as the stage sees them (claims and ConfigMaps mounted in a Job, or
local files), and the judge with its key named the driver's way. A spec field the
treatment leaves unset falls back to the patient's here, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel, Field

from model_hospital.api.common import Symptom
from model_hospital.api.protocol import STAGE_NAMES, Step
from model_hospital.api.resources import TreatmentSpec
from model_hospital.api.stages import (
    DiagnoseInput, DistributedTraining, ExportTarget, GenerationSettings, JudgeSettings, Model, PublicSet, SuiteFiles,
    SynthInput, TrainInput, VerifyInput,
)
from model_hospital.errors import HospitalError

# The paths earlier stages yield, by the names their figures give them (`api/figures.py` `artifacts`): diagnosis,
# cure, model (the treated model verify examines), adapter, verification.
Artifacts = Mapping[str, str | None]


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


def treated_symptoms(spec: TreatmentSpec, screened: Sequence[Symptom]) -> list[Symptom]:
    """The symptoms a treatment treats: its own list, else every symptom the patient is screened for."""
    return list(spec.symptoms or screened)


def stage_input(step: Step, spec: TreatmentSpec, placed: Placement, artifacts: Artifacts) -> BaseModel:
    """The input of the step's stage: the spec's choices over the patient's, and the paths earlier stages left."""
    if step.stage not in _BUILDERS:
        raise ValueError(f"no input is built for stage {step.stage!r}: the protocol has {', '.join(STAGE_NAMES)}")
    return _BUILDERS[step.stage](step, spec, placed, artifacts)


def _diagnose(step: Step, spec: TreatmentSpec, placed: Placement, artifacts: Artifacts) -> DiagnoseInput:
    return DiagnoseInput(model=placed.model, symptoms=treated_symptoms(spec, placed.symptoms),
                         budget=spec.budget or placed.budget, generation=_generation(spec, placed),
                         judge=placed.judge, suites=placed.suites)


def _synth(step: Step, spec: TreatmentSpec, placed: Placement, artifacts: Artifacts) -> SynthInput:
    cure = spec.cure
    amounts = {"min_examples": cure.min_examples, "max_examples": cure.max_examples} if cure else {}
    return SynthInput(diagnosis=_needed(artifacts, "diagnosis", step), model=placed.model, suites=placed.suites,
                      teacher=placed.teacher, **amounts)


def _train(step: Step, spec: TreatmentSpec, placed: Placement, artifacts: Artifacts) -> TrainInput:
    training = spec.training
    # The retry's adjustment: the recipe learns from the verification of the attempt before.
    skill_report = _needed(artifacts, "verification", step) if step.adjusted_by is not None else None
    chosen = {}
    if training:
        chosen = {"method": training.method, "overrides": training.overrides or {}, "merge": training.merge,
                  "max_steps": training.max_steps, "q_lora": training.q_lora,
                  "watch": training.watch.settings() if training.watch else None}
    return TrainInput(diagnosis=_needed(artifacts, "diagnosis", step), cure=_needed(artifacts, "cure", step),
                      skill_report=skill_report, distributed=distributed_training(spec), **chosen)


def _verify(step: Step, spec: TreatmentSpec, placed: Placement, artifacts: Artifacts) -> VerifyInput:
    treated = _needed(artifacts, "model", step)
    targets = spec.targets.model_dump(exclude_none=True) if spec.targets else {}
    return VerifyInput(before=placed.model, after=treated, symptoms=treated_symptoms(spec, placed.symptoms),
                       threshold=spec.skill_threshold, targets=targets, budget=spec.budget or placed.budget,
                       skill_budget=spec.skill_budget, generation=_generation(spec, placed), judge=placed.judge,
                       diagnosis=artifacts.get("diagnosis"), suites=placed.suites, public=placed.public,
                       export=export_target(spec, artifacts.get("adapter") or treated, placed.treatment))


_BUILDERS: dict[str, Callable[[Step, TreatmentSpec, Placement, Artifacts], BaseModel]] = {
    "diagnose": _diagnose, "synth": _synth, "train": _train, "verify": _verify}


def _generation(spec: TreatmentSpec, placed: Placement) -> GenerationSettings:
    return spec.generation.settings() if spec.generation else placed.generation


def _needed(artifacts: Artifacts, name: str, step: Step) -> str:
    """The path of an artifact an earlier stage yields; an error naming it when no record holds it."""
    path = artifacts.get(name)
    if not path:
        raise HospitalError(f"{step.stage} (attempt {step.attempt}) needs the {name} an earlier stage yields, and "
                            "none is recorded")
    return path


def export_target(spec: TreatmentSpec, adapter: str, treatment: str) -> ExportTarget | None:
    """Where the verify stage pushes the adapter after a Healed verdict (spec.output.registry); None: nowhere."""
    registry = spec.output.registry if spec.output else None
    if registry is None:
        return None
    return ExportTarget(reference=f"{registry.repository}:{registry.tag or treatment}", adapter=adapter,
                        merged=registry.merged, insecure=registry.insecure,
                        source={"treatment": treatment, "patient": spec.patient_ref.name})


def distributed_training(spec: TreatmentSpec) -> DistributedTraining | None:
    """The train stage's distributed setting: None for one process. Where the nodes meet is the Job's to say
    (`jobs.distributed_job` sets MASTER_ADDR and MASTER_PORT), so one input serves every retry's Job."""
    training = spec.training
    if training is None or (training.nodes == 1 and (training.gpus_per_node or 1) == 1):
        return None
    return DistributedTraining(nodes=training.nodes, processes_per_node=training.gpus_per_node or 1)
