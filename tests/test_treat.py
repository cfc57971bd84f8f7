"""`hospital treat`: stages through the stage runner, kept artifacts, resume and retry."""

import json
import sys
import types
from pathlib import Path

import pytest
from rich.console import Console

from model_hospital.api.stages import StageResult
from model_hospital.errors import HospitalError
from model_hospital.stages import STAGE_MODULES
from model_hospital.treat import TreatmentPlan, treat


class FakeClinic:
    """Stand-in stage modules that write the artifacts real stages write and count their runs."""

    def __init__(self, verdicts=("Healed",)):
        self.verdicts = list(verdicts)
        self.calls: list[str] = []
        self.inputs: dict[str, list] = {}
        self.broken: set[str] = set()
        self.train_summary: dict = {}

    def module(self, stage: str) -> types.ModuleType:
        module = types.ModuleType(f"fake_stage_{stage}")
        module.run = lambda stage_input, output_dir, console: self.run(stage, stage_input, output_dir)
        return module

    def run(self, stage, stage_input, output_dir: Path) -> StageResult:
        self.calls.append(stage)
        self.inputs.setdefault(stage, []).append(stage_input)
        if stage in self.broken:
            raise RuntimeError(f"{stage} crashed")
        if stage == "diagnose":
            path = output_dir / "diagnosis.json"
            path.write_text("{}")
            return StageResult(stage=stage, ok=True, artifacts={"diagnosis": str(path)})
        if stage == "synth":
            (output_dir / "cure_sft.jsonl").write_text("")
            return StageResult(stage=stage, ok=True, artifacts={"cure_sft": str(output_dir / "cure_sft.jsonl")})
        if stage == "train":
            adapter = output_dir / "adapter"
            adapter.mkdir(exist_ok=True)
            (adapter / "adapter_config.json").write_text("{}")
            return StageResult(stage=stage, ok=True, summary=self.train_summary, artifacts={"adapter": str(adapter)})
        verdict = self.verdicts.pop(0) if len(self.verdicts) > 1 else self.verdicts[0]
        report = output_dir / "verification.json"
        report.write_text(verification(verdict).model_dump_json(by_alias=True))
        return StageResult(stage=stage, ok=True, message=verdict, summary={"verdict": verdict},
                           artifacts={"verification": str(report)})


def verification(verdict: str):
    """A complete verification.json for a verdict, as the verify stage writes it."""
    from model_hospital.api.stages import GenerationSettings, ModelInfo, RateEstimate
    from model_hospital.clinic.verification import RULES, FindingComparison, SkillComparison, SkillScore, Verification

    info = ModelInfo(reference="bundled:tiny-random-llama", kind="bundled", path="/tmp/tiny")
    rate = RateEstimate(failures=1, scored=10, failure_rate=0.1, interval=(0.02, 0.4))
    score = SkillScore(correct=5, scored=10, accuracy=0.5, interval=(0.24, 0.76), nll=2.0)
    skill = SkillComparison(domain="math", items=10, before=score, after=score, accuracy_delta=0.0,
                            accuracy_delta_interval=(0.0, 0.0), accuracy_relative_drop=0.0, lost=0, gained=0,
                            mcnemar_p=1.0, nll_delta=0.0, nll_delta_interval=(0.0, 0.0),
                            nll_relative_increase=0.0, degraded=verdict == "Degraded",
                            status="degraded" if verdict == "Degraded" else "kept")
    return Verification(
        before=info, after=info, symptoms=["safety"], threshold=0.1, verdict=verdict, verdict_reason="test",
        findings={"safety": FindingComparison(finding="safety", before=rate, after=rate, target=0.2,
                                              target_rule="given", healed=verdict != "NotHealed",
                                              status="missed" if verdict == "NotHealed" else "met")},
        skills={"math": skill}, recommendations=[], budget=None, skill_budget=None,
        generation=GenerationSettings(), rules=RULES, started_at="t0", finished_at="t1", seconds=1.0)


@pytest.fixture
def clinic(monkeypatch):
    fake = FakeClinic()
    for stage in ("diagnose", "synth", "train", "verify"):
        name = f"fake_stage_{stage}"
        monkeypatch.setitem(sys.modules, name, fake.module(stage))
        monkeypatch.setitem(STAGE_MODULES, stage, (name, STAGE_MODULES[stage][1]))
    monkeypatch.setenv("HOSPITAL_TERMINATION_LOG", "/nonexistent-dir/termination-log")
    return fake


def quiet():
    return Console(file=open("/dev/null", "w"))


def plan(**fields):
    return TreatmentPlan(model="bundled:tiny-random-llama", symptoms=["safety"], **fields)


def test_treatment_runs_every_stage_through_the_runner_and_keeps_inputs_and_results(clinic, tmp_path):
    treatment = treat(plan(), tmp_path, quiet())
    assert clinic.calls == ["diagnose", "synth", "train", "verify"]
    for folder in ("diagnose-1", "synth-1", "train-1", "verify-1"):
        assert (tmp_path / folder / "input.json").is_file()
        assert json.loads((tmp_path / folder / "result.json").read_text())["ok"] is True
    record = json.loads((tmp_path / "treatment.json").read_text())
    assert record["verdict"] == "Healed" and record["attempts"] == 1
    assert record["adapter"] == str(tmp_path / "train-1" / "adapter")
    assert treatment.verdict == "Healed"
    verify_input = json.loads((tmp_path / "verify-1" / "input.json").read_text())
    assert verify_input["before"] == "bundled:tiny-random-llama"
    assert verify_input["after"] == str(tmp_path / "train-1" / "adapter")


def test_interrupted_treatment_resumes_without_rerunning_finished_stages(clinic, tmp_path):
    clinic.broken.add("train")
    with pytest.raises(RuntimeError, match="train crashed"):
        treat(plan(), tmp_path, quiet())
    record = json.loads((tmp_path / "treatment.json").read_text())
    assert record["verdict"] == "Failed"
    assert json.loads((tmp_path / "train-1" / "result.json").read_text())["ok"] is False

    clinic.broken.clear()
    clinic.calls.clear()
    treatment = treat(plan(), tmp_path, quiet())
    assert clinic.calls == ["train", "verify"], "diagnose and synth had finished and must not run again"
    assert treatment.verdict == "Healed"
    assert [(r.stage, r.resumed) for r in treatment.stages] == [
        ("diagnose", True), ("synth", True), ("train", False), ("verify", False)]


def test_finished_treatment_run_again_runs_nothing(clinic, tmp_path):
    treat(plan(), tmp_path, quiet())
    clinic.calls.clear()
    treatment = treat(plan(), tmp_path, quiet())
    assert clinic.calls == []
    assert treatment.verdict == "Healed"


def test_changed_input_reruns_that_stage_and_every_later_one(clinic, tmp_path):
    treat(plan(budget=5), tmp_path, quiet())
    clinic.calls.clear()
    treat(plan(budget=6), tmp_path, quiet())
    assert clinic.calls == ["diagnose", "synth", "train", "verify"]


def test_not_healed_retries_with_the_skill_report_and_stops_when_healed(clinic, tmp_path):
    clinic.verdicts = ["NotHealed", "Healed"]
    treatment = treat(plan(max_attempts=3), tmp_path, quiet())
    assert clinic.calls == ["diagnose", "synth", "train", "verify", "train", "verify"]
    assert treatment.verdict == "Healed" and treatment.attempts == 2
    first, second = clinic.inputs["train"]
    assert first.skill_report is None
    assert second.skill_report == str(tmp_path / "verify-1" / "verification.json")
    assert json.loads((tmp_path / "train-2" / "input.json").read_text())["skill_report"] == second.skill_report
    assert treatment.adapter == str(tmp_path / "train-2" / "adapter")
    assert not (tmp_path / "train-3").exists()


def test_a_retry_that_would_end_past_the_time_budget_is_not_started_and_the_last_verdict_stands(clinic, tmp_path):
    clinic.verdicts = ["NotHealed", "Healed"]
    treatment = treat(plan(max_attempts=3, time_budget_minutes=1e-6), tmp_path, quiet())
    assert clinic.calls == ["diagnose", "synth", "train", "verify"]
    assert treatment.verdict == "NotHealed" and treatment.attempts == 1
    assert "no attempt 2" in treatment.message and "time budget" in treatment.message
    assert json.loads((tmp_path / "treatment.json").read_text())["verdict"] == "NotHealed"
    # With time to spare the retry runs as without a budget.
    clinic.calls.clear()
    clinic.verdicts = ["NotHealed", "Healed"]
    treatment = treat(plan(max_attempts=3, time_budget_minutes=600), tmp_path / "roomy", quiet())
    assert clinic.calls.count("train") == 2 and treatment.verdict == "Healed"


def test_inconclusive_ends_the_treatment_without_training_again(clinic, tmp_path):
    clinic.verdicts = ["Inconclusive", "Healed"]
    treatment = treat(plan(max_attempts=3), tmp_path, quiet())
    assert clinic.calls == ["diagnose", "synth", "train", "verify"]
    assert treatment.verdict == "Inconclusive" and treatment.attempts == 1


def test_degraded_every_time_ends_degraded_after_max_attempts(clinic, tmp_path):
    clinic.verdicts = ["Degraded"]
    treatment = treat(plan(max_attempts=2), tmp_path, quiet())
    assert clinic.calls.count("train") == 2
    assert treatment.verdict == "Degraded" and treatment.attempts == 2


def test_a_stage_that_fails_with_a_user_error_fails_the_treatment(clinic, tmp_path, monkeypatch):
    def refuse(stage_input, output_dir, console):
        raise HospitalError("model reference 'nope' does not resolve")

    monkeypatch.setattr(sys.modules["fake_stage_diagnose"], "run", refuse)
    with pytest.raises(HospitalError, match="does not resolve"):
        treat(plan(), tmp_path, quiet())
    record = json.loads((tmp_path / "treatment.json").read_text())
    assert record["verdict"] == "Failed" and "does not resolve" in record["message"]
    assert not (tmp_path / "synth-1").exists()


def test_treat_command_prints_the_final_table_and_writes_the_record(clinic, tmp_path, capsys, monkeypatch):
    from model_hospital.cli import main

    monkeypatch.setenv("COLUMNS", "200")

    code = main(["treat", "--model", "bundled:tiny-random-llama", "--symptom", "safety",
                 "--output", str(tmp_path), "--max-attempts", "1"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Treatment: Healed" in printed
    assert "accuracy before" in printed and "math" in printed  # the final before/after table
    assert "Training watch" not in printed
    assert json.loads((tmp_path / "treatment.json").read_text())["verdict"] == "Healed"


def test_a_watched_treatment_prints_the_kept_step_with_over_refusal_and_wrong_answers(clinic, tmp_path, capsys,
                                                                                       monkeypatch):
    from model_hospital.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    clinic.train_summary = {"method": "sft", "watch": {
        "watched": True, "evaluations": 3, "chosen_step": 10, "stopped_early": False, "target_rate": 0.75,
        "over_refusal": 0.1, "lookalike_wrong": 0.2, "record": str(tmp_path / "watch.json")}}
    code = main(["treat", "--model", "bundled:tiny-random-llama", "--symptom", "safety", "--watch",
                 "--output", str(tmp_path), "--max-attempts", "1"])
    assert code == 0 and clinic.inputs["train"][0].watch is not None
    assert ("Training watch (train-1): kept step 10 of 3 evaluations: target rate 75%, over-refusal 10%, "
            "wrong answers 20%") in capsys.readouterr().out


def test_whole_treatment_of_the_tiny_model_leaves_every_artifact(tmp_path, monkeypatch):
    """synth, train and verify for real on the tiny model; the diagnosis is made up because the tiny
    model's random answers give the judges nothing to score, so nothing to cure."""
    from model_hospital.api.common import Symptom
    from model_hospital.api.stages import GenerationSettings
    from tests.cure_fixtures import make_diagnosis, write_diagnosis

    def made_up_diagnosis(stage_input, output_dir, console):
        path = write_diagnosis(make_diagnosis(symptoms=(Symptom.safety,), per_category=1), output_dir)
        return StageResult(stage="diagnose", ok=True, artifacts={"diagnosis": str(path)})

    module = types.ModuleType("made_up_diagnose")
    module.run = made_up_diagnosis
    monkeypatch.setitem(sys.modules, "made_up_diagnose", module)
    monkeypatch.setitem(STAGE_MODULES, "diagnose", ("made_up_diagnose", STAGE_MODULES["diagnose"][1]))
    monkeypatch.setenv("HOSPITAL_TERMINATION_LOG", str(tmp_path / "termination-log"))
    monkeypatch.setenv("HOSPITAL_VERIFY_CACHE", str(tmp_path / "verify-cache"))

    treatment = treat(plan(max_attempts=1, budget=16, skill_budget=2, max_steps=1, min_examples=4,
                           max_examples=12, generation=GenerationSettings(max_new_tokens=8, batch_size=16)),
                      tmp_path / "run", quiet())

    run = tmp_path / "run"
    # 16 probes and 2 skill items per domain: too little evidence for any verdict but Inconclusive.
    assert treatment.verdict == "Inconclusive"
    assert [r.stage for r in treatment.stages] == ["diagnose", "synth", "train", "verify"]
    assert (run / "synth-1" / "cure_sft.jsonl").stat().st_size > 0
    assert (Path(treatment.adapter) / "adapter_config.json").is_file()
    report = json.loads((run / "verify-1" / "verification.json").read_text())
    assert report["after"]["kind"] == "adapter" and report["before"]["reference"] == "bundled:tiny-random-llama"
    assert report["verdict"] == treatment.verdict
    assert (run / "verify-1" / "verification.png").is_file()
    recorded = json.loads((run / "treatment.json").read_text())
    assert recorded["verdict"] == treatment.verdict and recorded["verification"] == str(run / "verify-1" / "verification.json")
    # The adapter remembers its plan, so a retry builds on the first attempt's adjustments (none here).
    from model_hospital.clinic.cure.inputs import load_skill_report
    assert load_skill_report(run / "verify-1" / "verification.json").previous_adjustments == []


def test_stages_run_as_hospital_stage_subprocesses_report_their_errors(tmp_path):
    from model_hospital.treat import subprocess_runner

    bad = TreatmentPlan(model="bundled:no-such-model", symptoms=["safety"])
    with pytest.raises(HospitalError, match="unknown bundled model"):
        treat(bad, tmp_path, quiet(), runner=subprocess_runner)
    result = json.loads((tmp_path / "diagnose-1" / "result.json").read_text())
    assert result["ok"] is False and "unknown bundled model" in result["message"]
    assert json.loads((tmp_path / "treatment.json").read_text())["verdict"] == "Failed"


def test_overrides_given_to_treat_reach_the_train_stage_and_a_bad_one_is_one_line(clinic, tmp_path, capsys):
    from model_hospital.cli import main

    code = main(["treat", "--model", "bundled:tiny-random-llama", "--symptom", "safety", "--output", str(tmp_path),
                 "--max-attempts", "1", "--override", "learning_rate=1e-4", "--override", "epochs=1"])
    assert code == 0 and clinic.inputs["train"][0].overrides == {"learning_rate": 1e-4, "epochs": 1}
    assert json.loads((tmp_path / "train-1" / "input.json").read_text())["overrides"] == {"learning_rate": 0.0001,
                                                                                          "epochs": 1}
    for bad, said in (("dropout=0.1", "unknown training override 'dropout'"), ("epochs=1.5", "positive whole"),
                      ("learning_rate", "is not KEY=VALUE"), ("learning_rate=fast", "must be a number")):
        assert main(["treat", "--symptom", "safety", "--output", str(tmp_path / "bad"), "--override", bad]) == 2
        assert said in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_treat_verifies_every_scored_skill_item_unless_told_fewer(clinic, tmp_path):
    # At 64 a domain the factual and writing suites could not decide a cure's few points either way (h28); the
    # default is now every scored item, as `hospital verify`'s.
    from model_hospital.cli import main

    assert main(["treat", "--model", "bundled:tiny-random-llama", "--symptom", "safety",
                 "--output", str(tmp_path / "all"), "--max-attempts", "1"]) == 0
    assert clinic.inputs["verify"][-1].skill_budget is None
    assert main(["treat", "--model", "bundled:tiny-random-llama", "--symptom", "safety",
                 "--output", str(tmp_path / "few"), "--max-attempts", "1", "--skill-budget", "8"]) == 0
    assert clinic.inputs["verify"][-1].skill_budget == 8
