"""Training: `oumi train` on the tiny model leaves an adapter (and a merged model) the clinic resolves."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from cure_fixtures import make_diagnosis, write_diagnosis
from model_hospital.api.common import Symptom
from model_hospital.api.stages import TrainInput
from model_hospital.clinic import recipes
from model_hospital.clinic.cure import CureSettings, make_cure
from model_hospital.clinic.models import resolve
from model_hospital.errors import HospitalError
from model_hospital.stages import train

os.environ.setdefault("DO_NOT_TRACK", "1")
QUIET = Console(file=open(os.devnull, "w"))


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    diagnosis = make_diagnosis(symptoms=(Symptom.safety, Symptom.hallucination), per_category=1)
    diagnosis_path = write_diagnosis(diagnosis, folder)
    make_cure(diagnosis, folder / "cure", CureSettings(min_examples=30, max_examples=40))
    return diagnosis_path, folder


@pytest.fixture(scope="module")
def trained(prepared):
    diagnosis_path, folder = prepared
    stage_input = TrainInput(diagnosis=str(diagnosis_path), cure=str(folder / "cure"), max_steps=2, merge=True)
    return train.run(stage_input, folder / "run", QUIET), folder / "run"


def test_train_stage_writes_a_recipe_oumi_loads_and_an_adapter_resolve_accepts(trained):
    result, run = trained
    header, config = recipes.load_recipe(result.artifacts["recipe"])
    assert config.training.max_steps == 2 and header.symptom is Symptom.safety
    adapter = resolve(result.artifacts["adapter"])
    assert adapter.kind == "adapter"
    assert adapter.base.reference == "bundled:tiny-random-llama"
    assert (Path(result.artifacts["adapter"]) / "adapter_model.safetensors").is_file()
    marker = json.loads((Path(result.artifacts["adapter"]) / "hospital_base.json").read_text())
    assert marker["recipe_id"] == header.recipe_id


def test_merge_leaves_a_full_model_that_resolves_and_generates(trained):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result, _ = trained
    merged = resolve(result.artifacts["merged"])
    assert merged.kind == "local"
    model = AutoModelForCausalLM.from_pretrained(str(merged.path))
    tokenizer = AutoTokenizer.from_pretrained(str(merged.path))
    out = model.generate(**tokenizer("Hello", return_tensors="pt"), max_new_tokens=2, do_sample=False)
    assert out.shape[1] >= 2


def test_the_adapter_changes_the_model(trained):
    import torch
    from safetensors.torch import load_file

    result, _ = trained
    weights = load_file(str(Path(result.artifacts["adapter"]) / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and any(torch.count_nonzero(t) > 0 for t in lora_b), "two steps should move LoRA B off zero"


def test_train_runs_oumi_as_an_argument_list_without_telemetry(prepared):
    command = train.train_command(Path("r.yaml"))
    assert command[1:] == ["-m", "oumi", "train", "-c", "r.yaml"]
    plan = recipes.plan_treatment(make_diagnosis(symptoms=(Symptom.safety,), per_category=1), method="grpo")
    from oumi.core.configs import TrainingConfig

    _, folder = prepared
    path = recipes.write_recipe(folder / "grpo.yaml", recipes.generated_header(plan, "x"), recipes.training_config(
        plan, model_path=str(resolve("bundled:tiny-random-llama").path), cure_dir=str(folder / "cure"),
        output_dir=str(folder / "grpo")))
    env = train.train_environment(TrainingConfig.from_yaml(path))
    assert env["DO_NOT_TRACK"] == "1" and env["HF_HUB_OFFLINE"] == "1"
    assert Path(env["OUMI_EXTRA_DEPS_FILE"]).read_text().strip().endswith("hospital_rewards.py")


def test_a_malformed_dataset_is_an_error_naming_file_and_field(prepared, tmp_path):
    diagnosis_path, folder = prepared
    broken = tmp_path / "cure"
    broken.mkdir()
    (broken / "cure_sft.jsonl").write_text(json.dumps({"conversation": "oops"}) + "\n")
    plan = recipes.plan_treatment(make_diagnosis(symptoms=(Symptom.safety,), per_category=1))
    config = recipes.training_config(plan, model_path=str(resolve("bundled:tiny-random-llama").path),
                                     cure_dir=str(broken), output_dir=str(tmp_path / "adapter"), max_steps=1)
    path = recipes.write_recipe(tmp_path / "recipe.yaml", recipes.generated_header(plan, "x"), config)
    with pytest.raises(HospitalError, match=r"cure_sft\.jsonl:1: field messages is missing"):
        train.train_recipe(path, QUIET)
    (broken / "cure_sft.jsonl").unlink()
    with pytest.raises(HospitalError, match=r"recipe\.yaml: data\.train\.datasets\[0\]\.dataset_path"):
        train.train_recipe(path, QUIET)


def test_train_cli_reports_a_missing_recipe(tmp_path):
    from model_hospital.cli import main

    assert main(["train", "--recipe", str(tmp_path / "nope.yaml")]) == 2


@pytest.mark.slow
def test_safety_cure_recipe_and_train_on_the_bundled_patient(tmp_path):
    """The shipped safety recipe's path on SmolLM2: cure (the patient answers replay), recipe, a few steps."""
    from model_hospital.api.stages import SynthInput
    from model_hospital.stages import synth

    diagnosis = make_diagnosis(symptoms=(Symptom.safety,), per_category=1,
                               reference="bundled:smollm2-135m-instruct")
    diagnosis_path = write_diagnosis(diagnosis, tmp_path)
    cure = synth.run(SynthInput(diagnosis=str(diagnosis_path), min_examples=40, max_examples=60),
                     tmp_path / "cure", QUIET)
    assert cure.summary["replay"] > 0
    result = train.run(TrainInput(diagnosis=str(diagnosis_path), cure=str(tmp_path / "cure"), max_steps=3),
                       tmp_path / "run", QUIET)
    adapter = resolve(result.artifacts["adapter"])
    assert adapter.kind == "adapter" and adapter.base.reference == "bundled:smollm2-135m-instruct"


def test_training_steps_are_reported_as_progress_lines_from_bars_or_logged_steps():
    from model_hospital.stages.train import StepProgress

    steps = StepProgress(epochs=2, max_steps=None)
    assert steps.update("Map: 100%|██████████| 266/266 [00:00<00:00, 900.1 examples/s]") is None  # not training
    assert steps.update(" 23%|██▎       | 30/134 [01:23<04:50,  2.80s/it]") == "[progress] 30/134 steps: training"
    assert steps.update(" 23%|██▎       | 30/134 [01:24<04:49,  2.80s/it]") is None  # no step moved
    logged = StepProgress(epochs=2, max_steps=None)
    assert logged.update("{'loss': '2.28', 'epoch': '0.2239', 'step': 15}") == "[progress] 15/134 steps: training"
    assert StepProgress(epochs=3, max_steps=40).update("{'epoch': '0.5', 'step': 10}") == "[progress] 10/40 steps: training"
