"""The whole local treatment: diagnose -> synth -> train -> verify, retried until healed.

Every stage runs through the same entrypoint a Kubernetes Job uses (the stage
runner, in process, or `hospital stage NAME` as a subprocess), with its input
kept as DIR/<stage>-<attempt>/input.json beside its result.json. Run the same
command again after an interruption and it resumes: a stage whose result.json
says ok, whose input is unchanged and whose earlier stages were not re-run, is
not run again.

The order and the retry rule are the protocol's (`api/protocol.py` `next_step`), the
same the operator follows with Jobs: diagnose and synth run once; train and verify run
once per attempt. When verify says Degraded or NotHealed and attempts remain, the next
train gets the last verification.json as its skill report (the recipe lowers the
learning rate, shrinks the rank or adds replay, as its recommendations say).
Inconclusive ends the treatment: too little evidence is not fixed by training again;
so does a verification that gave no verdict (Inconclusive, with the reason).

Each stage's input is the protocol's too (`api/inputs.py`): the plan becomes the
`TreatmentSpec` the CRD would carry (`TreatmentPlan.treatment_spec`), and this driver
adds only where the patient and the user's files are (`TreatmentPlan.placement`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from model_hospital.api.common import Symptom
from model_hospital.api.figures import Verdict
from model_hospital.api import inputs
from model_hospital.api.inputs import Placement
from model_hospital.api.protocol import PROTOCOL, StageRun, Step, declaration, figures_of, next_step
from model_hospital.api.resources import CureSpec, PatientRef, SymptomTargets, TrainingSpec, TreatmentSpec, WatchSpec
from model_hospital.api.stages import (
    GenerationSettings,
    JudgeSettings,
    Model,
    StageResult,
    SuiteFiles,
    TrainingMethod,
    WatchSettings,
)
from model_hospital.errors import HospitalError

SCHEMA = "modelhospital.io/treatment/v1"
# The artifacts later stages read (`api/inputs.py`), by name, and the field of treatment.json that names each.
KEPT = {"diagnosis": "diagnosis", "cure": "cure", "model": "adapter", "verification": "verification"}
# The patient's name in the Treatment spec `hospital treat` builds: there is one patient, and no ModelPatient.
LOCAL_PATIENT = "local"
StageRunner = Callable[[str, BaseModel, Path, object], StageResult]


class TreatmentPlan(Model):
    """What `hospital treat` was asked to do."""

    model: str = Field(description="The patient's model reference.")
    symptoms: list[Symptom] = Field(min_length=1)
    # The defaults below are the Treatment CRD's own (this plan becomes its spec: `treatment_spec`).
    max_attempts: int = Field(TreatmentSpec.model_fields["max_attempts"].default, ge=1,
                              description="Train + verify at most this many times.")
    budget: int | None = Field(None, gt=0, description="Probes per symptom, for diagnose and verify.")
    skill_budget: int | None = Field(None, gt=0, description="Skill items per domain in verify.")
    threshold: float = Field(TreatmentSpec.model_fields["skill_threshold"].default, gt=0, lt=1)
    targets: dict[Symptom, float] = Field(default_factory=dict)
    method: TrainingMethod = TrainingSpec.model_fields["method"].default
    max_steps: int | None = Field(None, gt=0)
    overrides: dict[str, int | float] = Field(
        default_factory=dict, description="Training fields set over the recipe's choices (spec.training.overrides).")
    time_budget_minutes: float | None = Field(
        None, gt=0, description="Start no further attempt that would end past this many minutes from the start of "
                                "this run, judged by the last attempt's time; the last verdict stands.")
    watch: WatchSettings | None = Field(None, description="Train watching a validation split (early stop); off when absent.")
    q_lora: bool = Field(False, description="Train QLoRA (4-bit base weights); needs a CUDA GPU.")
    min_examples: int | None = Field(None, ge=1, description="Cure examples at least (synth's default when absent).")
    max_examples: int | None = Field(None, ge=1, description="Cure examples at most (synth's default when absent).")
    replay_share: float | None = Field(None, ge=0, lt=1, description="Share of the SFT rows that replay help "
                                                                     "(synth's default when absent).")
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    judge: JudgeSettings = Field(default_factory=JudgeSettings)
    suites: SuiteFiles = Field(default_factory=SuiteFiles, description="A user's own probe and skill suites.")

    def treatment_spec(self) -> TreatmentSpec:
        """The Treatment spec the CRD would carry for this plan: its defaults are the CRD's, its inputs the
        operator's (`api/inputs.py`)."""
        cure = {name: getattr(self, name) for name in ("min_examples", "max_examples", "replay_share")
                if getattr(self, name) is not None}
        watch = WatchSpec.model_validate(self.watch.model_dump(exclude={"prompts"})) if self.watch else None
        try:
            return TreatmentSpec(
                patient_ref=PatientRef(name=LOCAL_PATIENT), symptoms=self.symptoms, cure=CureSpec(**cure) if cure else None,
                training=TrainingSpec(method=self.method, max_steps=self.max_steps, q_lora=self.q_lora, watch=watch,
                                      overrides=self.overrides or None),
                skill_threshold=self.threshold, budget=self.budget, skill_budget=self.skill_budget,
                targets=SymptomTargets(**{str.__str__(symptom): rate for symptom, rate in self.targets.items()})
                if self.targets else None, max_attempts=self.max_attempts)
        except ValidationError as error:
            first = error.errors()[0]
            raise HospitalError(f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}") from None

    def placement(self) -> Placement:
        """The patient and the user's files where the local stages find them: as given on the command line."""
        return Placement(model=self.model, symptoms=self.symptoms, generation=self.generation, judge=self.judge,
                         suites=self.suites)


class StageRecord(Model):
    """One stage run (or reused) in a treatment."""

    stage: str
    attempt: int
    folder: str
    ok: bool
    resumed: bool = Field(description="True when a finished result.json was reused instead of running the stage.")
    seconds: float
    message: str = ""
    summary: dict = Field(default_factory=dict)


class Treatment(Model):
    """treatment.json: the whole treatment, kept up to date after every stage."""

    schema_: Literal["modelhospital.io/treatment/v1"] = Field(SCHEMA, alias="schema")
    plan: TreatmentPlan
    verdict: Verdict | None = Field(None, description="Null while the treatment runs.")
    message: str = ""
    attempts: int = 0
    stages: list[StageRecord] = Field(default_factory=list)
    artifacts: dict[str, str] = Field(default_factory=dict, description="The paths the stages yielded, by name "
                                                                        "(diagnosis, cure, model, adapter, recipe, "
                                                                        "verification), as a Treatment's status.artifacts.")
    diagnosis: str | None = None
    cure: str | None = None
    adapter: str | None = Field(None, description="The treated model of the last attempt (a LoRA adapter folder).")
    verification: str | None = Field(None, description="verification.json of the last attempt.")
    started_at: str
    finished_at: str | None = None

    model_config = Model.model_config | {"populate_by_name": True}


def in_process_runner(stage: str, stage_input: BaseModel, output_dir: Path, console) -> StageResult:
    """Runs a stage in this process through the stage runner (result.json, termination message)."""
    from model_hospital.stages.runner import run_stage

    return run_stage(stage, stage_input, output_dir, console)


def subprocess_runner(stage: str, stage_input: BaseModel, output_dir: Path, console) -> StageResult:
    """Runs a stage as `hospital stage NAME --input input.json --output DIR`, exactly as a Job does."""
    input_path = output_dir / "input.json"
    input_path.write_text(stage_input.model_dump_json(indent=2), encoding="utf-8")
    environment = {**os.environ, "DO_NOT_TRACK": "1", "HOSPITAL_TERMINATION_LOG": str(output_dir / "termination-log")}
    command = [sys.executable, "-m", "model_hospital.cli", "stage", stage, "--input", str(input_path),
               "--output", str(output_dir)]
    completed = subprocess.run(command, env=environment, check=False)
    result_path = output_dir / "result.json"
    if not result_path.is_file():
        raise HospitalError(f"stage {stage} exited with code {completed.returncode} and wrote no {result_path}")
    result = StageResult.model_validate_json(result_path.read_text(encoding="utf-8"))
    if completed.returncode != 0 and result.ok:
        raise HospitalError(f"stage {stage} exited with code {completed.returncode} but says ok in {result_path}")
    return result


class Treater:
    """Runs one treatment under one folder, stage by stage, reusing what already finished."""

    def __init__(self, plan: TreatmentPlan, output_dir: Path, console, runner: StageRunner = in_process_runner):
        self.plan = plan
        self.spec, self.placed = plan.treatment_spec(), plan.placement()
        self.output_dir = output_dir.resolve()
        self.console = console
        self.runner = runner
        # Once a stage runs again, every later stage must too: its inputs name the same paths
        # but their contents are new.
        self.rerun_from_here = False
        previous = self.output_dir / "treatment.json"
        started_at = _now()
        if previous.is_file():
            try:
                started_at = json.loads(previous.read_text(encoding="utf-8")).get("started_at") or started_at
            except json.JSONDecodeError:
                pass
        self.treatment = Treatment(plan=plan, started_at=started_at)

    def run(self) -> Treatment:
        """The treatment to its verdict; a failed stage is recorded as Failed and re-raised."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        runs: list[StageRun] = []
        started = time.monotonic()
        try:
            step = next_step(self.spec, runs)
            while not step.ended:
                if step.adjusted_by is not None and self.out_of_time(step.attempt, time.monotonic() - started):
                    break
                if declaration(step.stage).per_attempt:
                    self.treatment.attempts = step.attempt
                if step.adjusted_by is not None:
                    self.console.print(f"[yellow]{self.treatment.verdict}[/]: attempt {step.attempt} of "
                                       f"{self.plan.max_attempts} with the recipe adjusted by the skill report")
                result = self.stage(step.stage, step.attempt, self.stage_input(step))
                runs.append(self.took(step, result))
                step = next_step(self.spec, runs)
        except BaseException as error:
            self.treatment.verdict = "Failed"
            self.treatment.message = f"{type(error).__name__}: {error}" if not isinstance(error, HospitalError) \
                else str(error)
            if isinstance(error, KeyboardInterrupt):
                self.treatment.verdict = None
                self.treatment.message = "interrupted: run the same command again to resume"
            self.save()
            raise
        if step.ended:
            self.treatment.verdict = step.verdict
            if step.reason:
                self.treatment.message = step.reason
        self.treatment.finished_at = _now()
        self.save()
        return self.treatment

    def out_of_time(self, attempt: int, elapsed: float) -> bool:
        """Whether the next attempt would end past the plan's time budget, judged by the last attempt's stages; when
        it would, the treatment keeps the last verdict and its message says why no attempt followed."""
        if self.plan.time_budget_minutes is None:
            return False
        budget = self.plan.time_budget_minutes * 60
        last = sum(r.seconds for r in self.treatment.stages
                   if r.attempt == attempt - 1 and declaration(r.stage).per_attempt)
        if elapsed + last <= budget:
            return False
        self.treatment.message += (f" (no attempt {attempt}: {elapsed / 60:.0f} of the {budget / 60:g}-minute time "
                                   f"budget spent, and attempt {attempt - 1} took {last / 60:.0f} minutes)")
        return True

    def stage_input(self, step: Step) -> BaseModel:
        """The input of the step's stage: the protocol's (`api/inputs.py`, as on the operator), with the patient
        and the user's files in place locally and the artifacts treatment.json records."""
        return inputs.stage_input(step, self.spec, self.placed, self.treatment.artifacts)

    def took(self, step: Step, result: StageResult) -> StageRun:
        """What a finished stage means for the protocol; the paths it yields, read from its figures as the operator
        reads them, kept in treatment.json (those later stages read must exist: the files are here to check)."""
        stage, attempt, treatment = step.stage, step.attempt, self.treatment
        result_path = result.result_path or str(self.folder(stage, attempt) / "result.json")
        try:  # as the operator reads a Job's summary: figures that do not read are a failed stage
            figures = figures_of(result)
        except ValueError as error:
            raise HospitalError(f"the {stage} stage's summary is not readable: {error} (see {result_path})") from None
        for name, path in figures.artifacts(result_path).items():
            if path and name in KEPT and not Path(path).exists():
                raise HospitalError(f"stage {stage} (attempt {attempt}) left no {name} at {path}")
            if path:
                treatment.artifacts[name] = path
        for name, field in KEPT.items():
            setattr(treatment, field, treatment.artifacts.get(name))
        verdict = getattr(figures, "verdict", None)  # none from verify: `next_step` ends it Inconclusive, as on the operator
        if declaration(stage) is PROTOCOL[-1]:
            treatment.verdict, treatment.message = verdict, result.message
        return StageRun(stage=stage, attempt=attempt, succeeded=result.ok, verdict=verdict)

    def folder(self, stage: str, attempt: int) -> Path:
        return self.output_dir / f"{stage}-{attempt}"

    def stage(self, stage: str, attempt: int, stage_input: BaseModel) -> StageResult:
        """The result of one stage: reused when it finished before with the same input, else run now."""
        folder = self.folder(stage, attempt)
        input_text = stage_input.model_dump_json(indent=2)
        reused = None if self.rerun_from_here else finished_result(folder, input_text)
        if reused is not None:
            self.console.print(f"[dim]{stage}-{attempt}: finished before, reusing {folder / 'result.json'}[/]")
            self.record(stage, attempt, reused, resumed=True)
            return reused
        self.rerun_from_here = True
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "result.json").unlink(missing_ok=True)
        (folder / "input.json").write_text(input_text, encoding="utf-8")
        self.console.print(f"[bold]{stage}-{attempt}[/]: running")
        started = time.monotonic()
        try:
            result = self.runner(stage, stage_input, folder, self.console)
        except BaseException as error:
            self.record(stage, attempt, failed_result(stage, folder, error, time.monotonic() - started), resumed=False)
            raise
        self.record(stage, attempt, result, resumed=False)
        if not result.ok:
            raise HospitalError(f"stage {stage} (attempt {attempt}) failed: {result.message} "
                                f"(see {folder / 'result.json'})")
        return result

    def record(self, stage: str, attempt: int, result: StageResult, resumed: bool) -> None:
        self.treatment.stages.append(StageRecord(
            stage=stage, attempt=attempt, folder=str(self.folder(stage, attempt)), ok=result.ok, resumed=resumed,
            seconds=result.seconds, message=result.message, summary=result.summary))
        self.save()

    def save(self) -> None:
        path = self.output_dir / "treatment.json"
        temporary = path.with_suffix(".json.partial")
        temporary.write_text(self.treatment.model_dump_json(by_alias=True, indent=2), encoding="utf-8")
        temporary.replace(path)


def finished_result(folder: Path, input_text: str) -> StageResult | None:
    """The stage's earlier result when it finished ok with exactly this input; None otherwise."""
    result_path, input_path = folder / "result.json", folder / "input.json"
    if not (result_path.is_file() and input_path.is_file()):
        return None
    if input_path.read_text(encoding="utf-8") != input_text:
        return None
    try:
        result = StageResult.model_validate_json(result_path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return result if result.ok else None


def failed_result(stage: str, folder: Path, error: BaseException, seconds: float) -> StageResult:
    """What a stage that raised left in its result.json, or a result made from the error when it left none."""
    try:
        return StageResult.model_validate_json((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return StageResult(stage=stage, ok=False, seconds=round(seconds, 3), message=f"{type(error).__name__}: {error}")


def treat(plan: TreatmentPlan, output_dir: Path, console, runner: StageRunner = in_process_runner) -> Treatment:
    """Runs (or resumes) a treatment under `output_dir`; returns treatment.json's content."""
    return Treater(plan, output_dir, console, runner).run()


def load_verification(treatment: Treatment):
    """The last attempt's Verification, or None before any verify finished."""
    from model_hospital.clinic.verification import Verification

    if not treatment.verification or not Path(treatment.verification).is_file():
        return None
    return Verification.model_validate_json(Path(treatment.verification).read_text(encoding="utf-8"))


def stage_times(treatment: Treatment) -> list[tuple[str, float, bool]]:
    """(stage-attempt, seconds, resumed) of every stage of the treatment, in order."""
    return [(f"{r.stage}-{r.attempt}", r.seconds, r.resumed) for r in treatment.stages]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
