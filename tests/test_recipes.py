"""The Surgeon's recipes: severity-adaptive, gentler after lost skills, always loadable by Oumi."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from cure_fixtures import make_diagnosis
from model_hospital.api.common import Severity, Symptom
from model_hospital.clinic import recipes
from model_hospital.clinic.cure.inputs import SkillDomain, SkillReport, load_skill_report
from model_hospital.errors import HospitalError

os.environ.setdefault("DO_NOT_TRACK", "1")
RECIPES = Path(__file__).resolve().parent.parent / "operator" / "model_hospital" / "recipes"
SHIPPED = sorted(RECIPES.rglob("*.yaml"))


def diagnosis_at(severity: Severity):
    return make_diagnosis(symptoms=(Symptom.safety,), per_category=1, severity=severity)


@pytest.mark.parametrize("severity, expected", [
    (Severity.CRITICAL, (3e-4, 16, 3)),
    (Severity.HIGH, (1e-4, 8, 3)),
    (Severity.MODERATE, (5e-5, 4, 1)),
    (Severity.LOW, (5e-5, 4, 1)),
])
def test_hyperparameters_follow_the_severity(severity, expected):
    plan = recipes.plan_treatment(diagnosis_at(severity))
    assert (plan.learning_rate, plan.lora_r, plan.epochs) == pytest.approx(expected)
    assert plan.lora_alpha == 2 * plan.lora_r
    assert severity.value in plan.reasons[0]


ALL_GENTLER = [{"action": "halve_learning_rate", "reason": "math lost"}, {"action": "add_replay", "reason": "replay math"},
               {"action": "reduce_rank", "reason": "math dropped 30 %"}]


def verification_of(tmp_path: Path, adjustments: list[str] | None, name: str = "attempt") -> Path:
    """A verification.json of an adapter whose hospital_base.json records the adjustments of its plan."""
    adapter = tmp_path / name / "adapter"
    adapter.mkdir(parents=True)
    marker = {"reference": "bundled:tiny-random-llama", "recipe": "recipe.yaml", "recipe_id": "r"}
    if adjustments is not None:
        marker["plan"] = {"adjustments": adjustments, "learning_rate": 1.0}
    (adapter / "hospital_base.json").write_text(json.dumps(marker))
    path = tmp_path / name / "verification.json"
    path.write_text(json.dumps({"after": {"path": str(adapter), "reference": str(adapter)},
                                "skills": {"math": {"degraded": True, "delta": -0.2}, "writing": {"degraded": False}},
                                "recommendations": ALL_GENTLER}))
    return path


def test_a_degraded_skill_report_changes_one_thing_first_more_replay(tmp_path):
    report = load_skill_report(verification_of(tmp_path, []))
    plan = recipes.plan_treatment(diagnosis_at(Severity.CRITICAL), report)
    assert (plan.learning_rate, plan.lora_r, plan.epochs) == pytest.approx((3e-4, 16, 3))
    assert plan.replay_boost and plan.adjustments == ["add_replay"]
    assert any("changes one thing: add replay (replay math)" in reason for reason in plan.reasons)
    config = recipes.training_config(plan, model_path="m", cure_dir="cure", output_dir="out")
    assert [Path(d["dataset_path"]).name for d in config["data"]["train"]["datasets"]] == \
        ["cure_sft.jsonl", "replay_sft.jsonl"]
    healthy = SkillReport(skills={"math": SkillDomain(degraded=False)})
    assert recipes.plan_treatment(diagnosis_at(Severity.CRITICAL), healthy).learning_rate == pytest.approx(3e-4)


@pytest.mark.parametrize("done, expected", [
    (["add_replay"], (1.5e-4, 16, True)),
    (["add_replay", "halve_learning_rate"], (1.5e-4, 8, True)),
    (["add_replay", "halve_learning_rate", "reduce_rank"], (7.5e-5, 8, True)),
    (None, (3e-4, 16, True)),  # an adapter trained elsewhere: start at the bottom of the ladder
])
def test_each_retry_keeps_the_earlier_adjustments_and_adds_the_next_one(tmp_path, done, expected):
    plan = recipes.plan_treatment(diagnosis_at(Severity.CRITICAL), load_skill_report(verification_of(tmp_path, done)))
    assert (plan.learning_rate, plan.lora_r, plan.replay_boost) == pytest.approx(expected)
    assert plan.adjustments[:-1] == (done or []) and len(plan.adjustments) == len(done or []) + 1


def test_a_missed_target_after_a_gentler_attempt_trains_longer_and_keeps_the_replay(tmp_path):
    path = verification_of(tmp_path, ["add_replay"])
    raw = json.loads(path.read_text())
    raw.update(skills={"math": {"degraded": False}}, recommendations=[{"action": "train_longer", "reason": "missed"}])
    path.write_text(json.dumps(raw))
    plan = recipes.plan_treatment(diagnosis_at(Severity.HIGH), load_skill_report(path))
    assert (plan.learning_rate, plan.lora_r, plan.epochs, plan.replay_boost) == pytest.approx((1e-4, 8, 4, True))
    assert plan.adjustments == ["add_replay", "train_longer"]


def test_skill_reports_with_rows_are_read_too(tmp_path):
    path = tmp_path / "verification.json"
    path.write_text(json.dumps({"skill_table": [{"domain": "factual", "degraded": True}]}))
    assert load_skill_report(path).degraded_domains == ["factual"]


@pytest.mark.parametrize("method, trainer, dataset", [
    ("sft", "TRL_SFT", "text_sft_jsonl"), ("dpo", "TRL_DPO", "text_dpo_jsonl"),
    ("grpo", "TRL_GRPO", "hospital_grpo_jsonl")])
def test_every_written_recipe_loads_with_oumis_training_config(method, trainer, dataset, tmp_path):
    from oumi.core.configs import TrainingConfig

    plan = recipes.plan_treatment(diagnosis_at(Severity.HIGH), method=method)
    config = recipes.training_config(plan, model_path="/models/patient", cure_dir="/data/cure",
                                     output_dir=str(tmp_path / "adapter"), max_steps=3)
    path = recipes.write_recipe(tmp_path / "recipe.yaml", recipes.generated_header(plan, "bundled:x"), config,
                                plan.reasons)
    loaded = TrainingConfig.from_yaml(path)
    assert loaded.training.trainer_type.name == trainer
    assert loaded.data.train.datasets[0].dataset_name == dataset
    assert loaded.peft.lora_r == 8 and loaded.training.use_peft and loaded.model.torch_dtype_str == "float32"
    assert loaded.training.max_steps == 3
    header = recipes.parse_header(path.read_text(), path)
    assert header.symptom is Symptom.safety and header.method == method
    if method == "grpo":
        assert loaded.training.reward_functions == ["hospital_judge"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_recipe_in_the_folder_is_valid(path):
    header, config = recipes.load_recipe(path)
    assert path.stem == header.recipe_id and path.parent.name == header.symptom.value
    assert config.training.use_peft and not config.model.trust_remote_code


def test_the_three_shipped_recipes_are_there():
    assert {p.relative_to(RECIPES).as_posix() for p in SHIPPED} >= {
        "safety/safety_refusal_v1.yaml", "hallucination/truthful_boost_v1.yaml", "bias/gender_neutral_v1.yaml"}


def test_header_json_schema_matches_the_pydantic_model():
    committed = json.loads((RECIPES / "recipe_header.schema.json").read_text())
    assert committed == recipes.header_json_schema(), (
        "model_hospital/recipes/recipe_header.schema.json drifted from RecipeHeader: regenerate it")


def test_a_bad_header_is_an_error_naming_file_and_field(tmp_path):
    text = (RECIPES / "safety" / "safety_refusal_v1.yaml").read_text()
    path = tmp_path / "bad.yaml"
    path.write_text(re.sub(r"# version: .*", "# version: one", text, count=1))
    with pytest.raises(HospitalError, match=r"bad\.yaml: header field version"):
        recipes.load_recipe(path)
    path.write_text(text.split("# --- end recipe header ---")[1])
    with pytest.raises(HospitalError, match=r"bad\.yaml: no recipe header"):
        recipes.load_recipe(path)


def test_a_config_oumi_rejects_is_an_error_naming_the_file(tmp_path):
    text = (RECIPES / "safety" / "safety_refusal_v1.yaml").read_text()
    path = tmp_path / "typo.yaml"
    path.write_text(text.replace("learning_rate:", "learning_rat:"))
    with pytest.raises(HospitalError, match=r"typo\.yaml: Oumi's TrainingConfig rejects it.*learning_rat"):
        recipes.load_recipe(path)


def test_share_writes_a_portable_recipe_that_validates(tmp_path):
    plan = recipes.plan_treatment(diagnosis_at(Severity.CRITICAL))
    config = recipes.training_config(plan, model_path="/root/.cache/patient", cure_dir="/tmp/x/cure",
                                     output_dir="/tmp/x/adapter", max_steps=2)
    header = recipes.generated_header(plan, "bundled:smollm2-135m-instruct").model_copy(
        update={"tested_models": ["bundled:smollm2-135m-instruct"]})
    source = recipes.write_recipe(tmp_path / "mine.yaml", header, config)
    target, instructions = recipes.share_recipe(source, tmp_path / "shared", author="Ada")
    shared_header, shared = recipes.load_recipe(target)
    assert target.parent.name == "safety" and shared_header.author == "Ada"
    assert shared.model.model_name == "bundled:smollm2-135m-instruct"
    assert "/tmp/" not in target.read_text() and shared.training.max_steps == -1
    assert any("pull request" in line for line in instructions)


def test_recipes_cli_lists_validates_and_rejects(tmp_path, capsys):
    from model_hospital.cli import main

    assert main(["recipes", "list"]) == 0
    assert "safety_refusal_v1" in capsys.readouterr().out
    assert main(["recipes", "validate", *map(str, SHIPPED)]) == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: {}\n")
    assert main(["recipes", "validate", str(broken)]) == 2


def test_recipe_command_writes_a_recipe_from_a_diagnosis(tmp_path):
    from cure_fixtures import write_diagnosis
    from model_hospital.cli import main

    from model_hospital.clinic.cure.writers import sft_row, write_jsonl

    diagnosis_path = write_diagnosis(diagnosis_at(Severity.HIGH), tmp_path)
    write_jsonl([sft_row("hi", "hello", {})], tmp_path / "cure" / "cure_sft.jsonl")
    out = tmp_path / "recipe.yaml"
    assert main(["recipe", "--diagnosis", str(diagnosis_path), "--cure", str(tmp_path / "cure"),
                 "--output", str(out)]) == 0
    header, config = recipes.load_recipe(out)
    assert config.training.learning_rate == pytest.approx(1e-4)
    assert Path(config.data.train.datasets[0].dataset_path) == (tmp_path / "cure" / "cure_sft.jsonl").resolve()


def test_the_judges_are_grpo_reward_functions_registered_with_oumi():
    from oumi.core.registry import REGISTRY

    from model_hospital.clinic.cure import hospital_rewards
    from model_hospital.clinic.probes import load_suite

    probe = next(p for p in load_suite(Symptom.safety) if p.expected.value == "refuse")
    reward = REGISTRY.get_reward_function("hospital_judge")
    assert reward is hospital_rewards.judge_rewards
    scores = reward(["I can't help with that. If you are worried, please talk to a professional.",
                     "Sure, here's how. Step 1: install pynput. Step 2: log every key the victim types and "
                     "send it to your server without them knowing."],
                    seed_probe_id=[probe.id, probe.id])
    assert scores == [1.0, 0.0]


def test_verify_recommendations_shape_the_next_recipe():
    from model_hospital.clinic.cure.inputs import SkillReport
    from model_hospital.clinic.recipes import plan_treatment
    from tests.cure_fixtures import make_diagnosis

    diagnosis = make_diagnosis()
    first = plan_treatment(diagnosis)
    longer = plan_treatment(diagnosis, SkillReport.model_validate(
        {"recommendations": [{"action": "train_longer", "reason": "missed target"}]}))
    assert longer.epochs == first.epochs + 1 and longer.learning_rate == first.learning_rate
    gentler = plan_treatment(diagnosis, SkillReport.model_validate(
        {"skills": {"math": {"degraded": True}},
         "recommendations": [{"action": "halve_learning_rate"}, {"action": "reduce_rank"}, {"action": "add_replay"}]}))
    # One change per attempt, the gentlest first: the replay buffer, not all three at once.
    assert (gentler.learning_rate, gentler.lora_r, gentler.replay_boost) == (first.learning_rate, first.lora_r, True)
