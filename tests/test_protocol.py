"""The treatment protocol: one `next_step` for both drivers, and both drivers taking its steps."""

from __future__ import annotations

import json
import sys

import pytest
from pydantic import BaseModel

from model_hospital.api.protocol import (
    DEFAULT_MAX_ATTEMPTS, PROTOCOL, STAGE_NAMES, AttemptRules, StageRun, declaration, figures_of, next_step,
    runs_from_status,
)
from model_hospital.api.resources import TreatmentSpec
from model_hospital.api.figures import TrainFigures, VerifyFigures
from model_hospital.api.stages import StageSummary
from model_hospital.controller.kube import PATIENTS, TREATMENTS
from model_hospital.controller.settings import OperatorSettings
from model_hospital.stages import STAGE_MODULES
from model_hospital.api.stages import StageResult
from model_hospital.errors import HospitalError
from model_hospital.treat import TreatmentPlan, treat
from tests.test_controller_units import MemoryCluster, patient_body, run_treatment, treatment_body
from tests.test_treat import FakeClinic, quiet


def install(fake: FakeClinic, monkeypatch) -> None:
    """The fake clinic's stage modules in place of the real ones, for `hospital treat`'s stage runner."""
    for stage in STAGE_NAMES:
        monkeypatch.setitem(sys.modules, f"fake_stage_{stage}", fake.module(stage))
        monkeypatch.setitem(STAGE_MODULES, stage, (f"fake_stage_{stage}", STAGE_MODULES[stage][1]))
    monkeypatch.setenv("HOSPITAL_TERMINATION_LOG", "/nonexistent-dir/termination-log")


def ran(stage: str, attempt: int = 1, verdict: str | None = None, succeeded: bool = True) -> StageRun:
    return StageRun(stage=stage, attempt=attempt, succeeded=succeeded, verdict=verdict)


FIRST_ATTEMPT = [ran("diagnose"), ran("synth"), ran("train")]

# (what happened so far, max attempts) -> (stage to run or None, attempt, adjusted by, final verdict)
PATHS = {
    "a new treatment starts with diagnose": ([], 2, ("diagnose", 1, None, None)),
    "diagnose then synth": ([ran("diagnose")], 2, ("synth", 1, None, None)),
    "synth then the first training, unadjusted": (FIRST_ATTEMPT[:2], 2, ("train", 1, None, None)),
    "healed on the first try ends Healed": ([*FIRST_ATTEMPT, ran("verify", 1, "Healed")], 2, (None, 1, None, "Healed")),
    "NotHealed retries with the verification as adjustment": (
        [*FIRST_ATTEMPT, ran("verify", 1, "NotHealed")], 2, ("train", 2, 1, None)),
    "Degraded retries too": ([*FIRST_ATTEMPT, ran("verify", 1, "Degraded")], 3, ("train", 2, 1, None)),
    "Degraded on the last attempt ends Degraded": (
        [*FIRST_ATTEMPT, ran("verify", 1, "Degraded"), ran("train", 2), ran("verify", 2, "Degraded")], 2,
        (None, 2, None, "Degraded")),
    "Inconclusive ends at once, attempts left or not": (
        [*FIRST_ATTEMPT, ran("verify", 1, "Inconclusive")], 3, (None, 1, None, "Inconclusive")),
    "a failed stage ends Failed": ([ran("diagnose"), ran("synth", succeeded=False)], 3, (None, 1, None, "Failed")),
    "max attempts keeps the last verdict": (
        [*FIRST_ATTEMPT, ran("verify", 1, "NotHealed"), ran("train", 2), ran("verify", 2, "NotHealed")], 2,
        (None, 2, None, "NotHealed")),
    "one attempt allowed: no retry": ([*FIRST_ATTEMPT, ran("verify", 1, "NotHealed")], 1, (None, 1, None, "NotHealed")),
    "a verification without a verdict ends Inconclusive": ([*FIRST_ATTEMPT, ran("verify", 1)], 1,
                                                          (None, 1, None, "Inconclusive")),
    "a verification without a verdict is not trained again": ([*FIRST_ATTEMPT, ran("verify", 1)], 3,
                                                              (None, 1, None, "Inconclusive")),
    "after the retry's training comes its verification": (
        [*FIRST_ATTEMPT, ran("verify", 1, "NotHealed"), ran("train", 2)], 3, ("verify", 2, None, None)),
    "a record of a stage the protocol lacks fails closed": ([ran("diagnose"), ran("bake")], 2,
                                                           (None, 1, None, "Failed")),
}


@pytest.mark.parametrize("records, max_attempts, expected", list(PATHS.values()), ids=list(PATHS))
def test_next_step_takes_every_path_of_the_protocol(records, max_attempts, expected):
    step = next_step(AttemptRules(max_attempts=max_attempts), records)
    assert (step.stage, step.attempt, step.adjusted_by, step.verdict) == expected
    assert step.ended == (expected[0] is None)
    assert step.phase == (expected[0] or ("failed" if expected[3] == "Failed" else "done"))


def test_resume_after_a_crash_reads_the_records_as_left_in_status():
    # The operator stopped while verify-2 ran: the finished records and the running one are in status.
    status_records = [
        {"stage": "diagnose", "attempt": 1, "phase": "Reused"},
        {"stage": "synth", "attempt": 1, "phase": "Succeeded"},
        {"stage": "train", "attempt": 1, "phase": "Succeeded"},
        {"stage": "verify", "attempt": 1, "phase": "Succeeded", "verdict": "Degraded"},
        {"stage": "train", "attempt": 2, "phase": "Succeeded"},
        {"stage": "verify", "attempt": 2, "phase": "Running"},
    ]
    runs = runs_from_status(status_records)
    assert [(run.stage, run.attempt) for run in runs][-1] == ("train", 2)
    step = next_step(AttemptRules(max_attempts=2), runs)
    assert (step.stage, step.attempt) == ("verify", 2)  # the running stage is the one to follow, not a new one
    failed = runs_from_status([*status_records[:5], {"stage": "verify", "attempt": 2, "phase": "Failed"}])
    assert next_step(AttemptRules(max_attempts=2), failed).verdict == "Failed"


def test_treat_resumed_after_a_crash_takes_the_steps_left(monkeypatch, tmp_path):
    fake = FakeClinic(verdicts=("NotHealed", "Healed"))
    install(fake, monkeypatch)
    plan = TreatmentPlan(model="bundled:tiny-random-llama", symptoms=["safety"], max_attempts=3)
    fake.broken.add("verify")  # verify-1 crashes: diagnose, synth and train-1 are on disk
    with pytest.raises(RuntimeError):
        treat(plan, tmp_path, quiet())
    fake.broken.clear()
    fake.calls.clear()
    treatment = treat(plan, tmp_path, quiet())
    assert fake.calls == ["verify", "train", "verify"]
    assert [(record.stage, record.attempt, record.resumed) for record in treatment.stages] == [
        ("diagnose", 1, True), ("synth", 1, True), ("train", 1, True), ("verify", 1, False), ("train", 2, False),
        ("verify", 2, False)]
    assert treatment.verdict == "Healed" and treatment.attempts == 2


def test_max_attempts_has_one_default_locally_and_on_the_crd():
    from model_hospital.cli import build_parser

    parsed = build_parser().parse_args(["treat", "--symptom", "safety"])
    assert parsed.max_attempts == DEFAULT_MAX_ATTEMPTS
    assert TreatmentPlan(model="m", symptoms=["safety"]).max_attempts == DEFAULT_MAX_ATTEMPTS
    assert TreatmentSpec.model_validate({"patientRef": {"name": "p"}}).max_attempts == DEFAULT_MAX_ATTEMPTS


def test_each_stage_is_declared_once_with_its_models():
    assert STAGE_NAMES == ("diagnose", "synth", "train", "verify")
    assert {name: module for name, (module, _) in STAGE_MODULES.items()} == {
        declared.name: declared.module for declared in PROTOCOL}
    with pytest.raises(ValueError, match="unknown stage 'bake'"):
        declaration("bake")
    figures = figures_of(StageSummary(stage="train", ok=True, summary={"adapter": "/a", "merged": "/m", "new": 1}))
    assert isinstance(figures, TrainFigures) and figures.artifacts(None)["model"] == "/m"
    rows = figures_of(StageSummary(stage="verify", ok=True, summary={"verdict": "Degraded", "skills": [
        {"domain": "math", "before": 0.5, "after": 0.3, "degraded": True}]}))
    assert isinstance(rows, VerifyFigures) and rows.skills["math"].degraded
    with pytest.raises(ValueError):
        figures_of(StageSummary(stage="verify", ok=True, summary={"verdict": "Cured"}))


def operator_steps(verdicts: list[str], max_attempts: int) -> tuple[list[tuple[str, int]], str, list[bool]]:
    """The stages the operator ran (as Jobs), its verdict, and which trainings were adjusted."""
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body(maxAttempts=max_attempts))
    made = run_treatment(cluster, OperatorSettings(stage_retries=1), verdicts)
    steps = [(name.rsplit("-", 2)[1], int(name.rsplit("-", 1)[1])) for name in made]
    adjusted = [cluster.stage_input(name)["skill_report"] is not None for name in made if "-train-" in name]
    return steps, cluster.obj(TREATMENTS, "llama-safety")["status"]["verdict"], adjusted


@pytest.mark.parametrize("verdicts, max_attempts", [
    (["Healed"], 2), (["Degraded", "Healed"], 3), (["NotHealed", "NotHealed"], 2), (["Inconclusive"], 3),
    (["NotHealed", "Degraded", "Degraded"], 3), (["Degraded"], 1),
])
def test_treat_and_the_operator_take_the_same_steps(verdicts, max_attempts, monkeypatch, tmp_path):
    fake = FakeClinic(verdicts=verdicts)
    install(fake, monkeypatch)
    treatment = treat(TreatmentPlan(model="bundled:tiny-random-llama", symptoms=["safety"],
                                    max_attempts=max_attempts), tmp_path, quiet())
    local_steps = [(record.stage, record.attempt) for record in treatment.stages]
    local_adjusted = [train.skill_report is not None for train in fake.inputs["train"]]

    steps, verdict, adjusted = operator_steps(verdicts, max_attempts)
    assert local_steps == steps
    assert treatment.verdict == verdict
    assert local_adjusted == adjusted == [attempt > 1 for attempt in range(1, len(adjusted) + 1)]


class VerifySays(FakeClinic):
    """The fake clinic, its verify stage leaving the given figures in its summary."""

    def __init__(self, figures: dict):
        super().__init__()
        self.figures = figures

    def run(self, stage, stage_input, output_dir):
        if stage != "verify":
            return super().run(stage, stage_input, output_dir)
        self.calls.append(stage)
        report = output_dir / "verification.json"
        report.write_text("{}")
        return StageResult(stage=stage, ok=True, summary=self.figures, artifacts={"verification": str(report)})


HEALED_TABLES = {"findings": {"safety": {"before": 0.75, "after": 0.1, "target": 0.2, "healed": True}},
                 "skills": {"math": {"before": 0.5, "after": 0.49, "degraded": False}}}

# What a verify stage's summary says -> the treatment's verdict and the stages run, on both drivers alike.
VERIFY_SUMMARIES = {
    "a verdict is read as given": ({**HEALED_TABLES, "verdict": "NotHealed"}, "NotHealed", 2),
    "no verdict, tables that read healed: Inconclusive, never Healed": (HEALED_TABLES, "Inconclusive", 1),
    "no verdict and no figures: Inconclusive, not trained again": ({}, "Inconclusive", 1),
    "no verdict, a skill lost: still no verdict derived": (
        {"skills": {"math": {"before": 0.5, "after": 0.2, "degraded": True}}}, "Inconclusive", 1),
    "a verdict that is none of ours: a failed stage": ({"verdict": "Cured"}, "Failed", 1),
}


@pytest.mark.parametrize("figures, verdict, attempts", list(VERIFY_SUMMARIES.values()), ids=list(VERIFY_SUMMARIES))
def test_both_drivers_read_a_verification_through_next_step_alike(figures, verdict, attempts, monkeypatch, tmp_path):
    fake = VerifySays(figures)
    install(fake, monkeypatch)
    plan = TreatmentPlan(model="bundled:tiny-random-llama", symptoms=["safety"], max_attempts=2)
    try:
        treat(plan, tmp_path, quiet())
    except HospitalError as error:
        assert verdict == "Failed" and "summary is not readable" in str(error)
    local = json.loads((tmp_path / "treatment.json").read_text())

    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body(maxAttempts=2))
    made = run_treatment(cluster, OperatorSettings(stage_retries=1), [None, None], verify_figures=figures)
    status = cluster.obj(TREATMENTS, "llama-safety")["status"]

    assert local["verdict"] == status["verdict"] == verdict
    assert fake.calls.count("train") == sum("-train-" in name for name in made) == attempts
    if verdict == "Inconclusive":
        assert "gave no verdict" in local["message"] and "gave no verdict" in status["message"]


def test_both_drivers_build_the_same_input_for_every_stage_a_retry_included(monkeypatch, tmp_path):
    fake = FakeClinic(verdicts=("NotHealed", "Healed"))
    install(fake, monkeypatch)
    treat(TreatmentPlan(model="bundled:smollm2-135m-instruct", symptoms=["safety"], max_attempts=2), tmp_path, quiet())
    root = "/artifacts/default/llama-safety"  # where the operator's stages of this treatment leave their artifacts
    local = [json.loads(stage_input.model_dump_json().replace(str(tmp_path), root))
             for stage in STAGE_NAMES for stage_input in fake.inputs[stage]]

    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body(maxAttempts=2))
    made = run_treatment(cluster, OperatorSettings(stage_retries=1), ["NotHealed", "Healed"])
    by_stage = {stage: [cluster.stage_input(name) for name in made if f"-{stage}-" in name] for stage in STAGE_NAMES}
    operator = [stage_input for stage in STAGE_NAMES for stage_input in by_stage[stage]]

    assert len(local) == len(operator) == 6
    assert local == operator
    retry = by_stage["train"][1]
    assert retry["skill_report"] == f"{root}/verify-1/verification.json" and by_stage["train"][0]["skill_report"] is None


def test_a_stage_input_needs_what_the_earlier_stages_left():
    from model_hospital.api.inputs import Placement, stage_input
    from model_hospital.api.protocol import Step

    spec = TreatmentSpec.model_validate({"patientRef": {"name": "p"}, "symptoms": ["safety"]})
    placed = Placement(model="bundled:m", symptoms=["safety", "bias"], budget=7)
    diagnose = stage_input(Step(stage="diagnose", attempt=1), spec, placed, {})
    assert (diagnose.symptoms, diagnose.budget) == (["safety"], 7)  # the treatment's symptoms, the patient's budget
    with pytest.raises(HospitalError, match="synth .attempt 1. needs the diagnosis"):
        stage_input(Step(stage="synth", attempt=1), spec, placed, {})
    with pytest.raises(HospitalError, match="train .attempt 2. needs the verification"):
        stage_input(Step(stage="train", attempt=2, adjusted_by=1), spec, placed, {"diagnosis": "/d", "cure": "/c"})
    with pytest.raises(ValueError, match="unknown stage 'bake'"):
        stage_input(Step(stage="bake", attempt=1), spec, placed, {})


def test_a_stage_is_declared_with_an_input_that_builds_itself():
    from model_hospital.api.protocol import StageDeclaration
    from model_hospital.api.stages import StageInput

    class BakeInput(StageInput):  # a new stage's input that forgot how a treatment builds it
        oven: str

    with pytest.raises(TypeError, match="BakeInput does not say how a treatment builds it"):
        StageDeclaration("bake", "model_hospital.stages.bake", BakeInput, BaseModel, "Baked", "Baking", "Baked",
                         "BakeFailed", per_attempt=False, what="baking", cpu="1", memory="1Gi", deadline_seconds=60)


def test_the_operator_fails_a_stage_whose_input_lacks_an_earlier_artifact_instead_of_raising():
    from model_hospital.controller.treatments import TreatmentReconciler
    from tests.test_controller_units import DIAGNOSIS, NOW, summary

    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body())
    reconcile = TreatmentReconciler(cluster, OperatorSettings(stage_retries=1), clock=lambda: NOW).reconcile
    reconcile("default", "llama-safety")
    # A diagnosis that names neither its file nor its result.json: synth would have no diagnosis to read.
    cluster.finish("llama-safety-diagnose-1", {**summary("diagnose", "/x", **DIAGNOSIS), "result_path": None})
    reconcile("default", "llama-safety")
    status = cluster.obj(TREATMENTS, "llama-safety")["status"]
    assert status["verdict"] == "Failed" and "synth (attempt 1) needs the diagnosis" in status["message"]
    assert cluster.created_jobs == ["llama-safety-diagnose-1"]
    assert status["stages"][-1]["stage"] == "synth" and status["stages"][-1]["phase"] == "Failed"


def test_the_replay_share_reaches_the_synth_stage_from_the_command_line_and_from_the_crd(capsys):
    from model_hospital.api.stages import SynthInput
    from model_hospital.cli import build_parser, main

    parsed = build_parser().parse_args(["treat", "--symptom", "hallucination", "--replay-share", "0.65"])
    spec = TreatmentPlan(model="m", symptoms=["hallucination"], replay_share=parsed.replay_share).treatment_spec()
    assert spec.cure.replay_share == 0.65
    crd = TreatmentSpec.model_validate({"patientRef": {"name": "p"}, "cure": {"replayShare": 0.65}})
    assert crd.cure == spec.cure
    from model_hospital.api.inputs import Placement, stage_input
    from model_hospital.api.protocol import Step

    synth = stage_input(Step(stage="synth", attempt=1), crd, Placement(model="m", symptoms=["hallucination"]),
                        {"diagnosis": "/runs/diagnosis.json"})
    assert isinstance(synth, SynthInput) and synth.replay_share == 0.65
    assert SynthInput.model_fields["replay_share"].default == TreatmentSpec.model_validate(
        {"patientRef": {"name": "p"}, "cure": {}}).cure.replay_share == 0.5
    # A share of the whole or more is refused with one line that says what to fix, before anything runs.
    assert main(["treat", "--symptom", "safety", "--replay-share", "1", "--output", "/nonexistent/x"]) == 2
    assert "--replay-share: 1.0 must be from 0 to under 1" in capsys.readouterr().err


def test_hospital_treat_builds_the_spec_the_crd_carries_with_the_crds_defaults():
    from model_hospital.api.resources import TrainingSpec
    from model_hospital.cli import build_parser

    parsed = build_parser().parse_args(["treat", "--symptom", "safety"])
    spec = TreatmentPlan(model="m", symptoms=["safety"], threshold=parsed.threshold, method=parsed.method,
                         max_attempts=parsed.max_attempts, min_examples=50).treatment_spec()
    crd = TreatmentSpec.model_validate({"patientRef": {"name": "p"}, "cure": {"minExamples": 50}})
    assert (spec.skill_threshold, spec.max_attempts, spec.training.method, spec.cure) == (
        crd.skill_threshold, crd.max_attempts, TrainingSpec().method, crd.cure)
    with pytest.raises(HospitalError, match="budget"):  # one line saying what to fix, as the API server would
        TreatmentPlan(model="m", symptoms=["safety"], budget=10**6).treatment_spec()
