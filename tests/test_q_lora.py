"""QLoRA as a recipe option: a recipe Oumi loads, a GPU asked for on Kubernetes, and a clear refusal without one."""

from __future__ import annotations

import os

import pytest
from rich.console import Console

from cure_fixtures import make_diagnosis, write_diagnosis
from model_hospital.api.common import Symptom, Severity
from model_hospital.api.resources import ModelPatientSpec, TreatmentSpec
from model_hospital.api.stages import TrainInput
from model_hospital.clinic import recipes
from model_hospital.clinic.cure import CureSettings, make_cure
from model_hospital.controller import stage_inputs
from model_hospital.errors import HospitalError
from model_hospital.stages import train
from tests.test_diagnose import hospital

QUIET = Console(file=open(os.devnull, "w"))


def cuda_present() -> bool:
    import torch

    return torch.cuda.is_available()


def test_a_q_lora_recipe_loads_with_oumis_training_config(tmp_path):
    from oumi.core.configs import TrainingConfig

    plan = recipes.plan_treatment(make_diagnosis(symptoms=(Symptom.safety,), per_category=1,
                                                 severity=Severity.HIGH))
    config = recipes.training_config(plan, model_path="/models/patient", cure_dir="/data/cure",
                                     output_dir=str(tmp_path / "adapter"), dtype="bfloat16", q_lora=True)
    path = recipes.write_recipe(tmp_path / "recipe.yaml", recipes.generated_header(plan, "org/big"), config)
    loaded = TrainingConfig.from_yaml(path)
    assert loaded.peft.q_lora and loaded.peft.q_lora_bits == 4 and loaded.peft.bnb_4bit_quant_type == "nf4"
    assert loaded.training.use_peft
    plain = recipes.training_config(plan, model_path="/m", cure_dir="/c", output_dir=str(tmp_path / "a"))
    assert "q_lora" not in plain["peft"]


@pytest.fixture(scope="module")
def cured(tmp_path_factory):
    """A diagnosis of the tiny model and its cure data."""
    folder = tmp_path_factory.mktemp("q-lora")
    diagnosis = make_diagnosis(symptoms=(Symptom.safety,), per_category=1)
    diagnosis_path = write_diagnosis(diagnosis, folder)
    make_cure(diagnosis, folder / "cure", CureSettings(min_examples=10, max_examples=20))
    return diagnosis_path, folder / "cure"


def test_the_recipe_command_writes_a_q_lora_recipe_without_a_gpu(cured, tmp_path):
    import yaml

    from model_hospital.cli import main

    diagnosis_path, cure = cured
    assert main(["recipe", "--diagnosis", str(diagnosis_path), "--cure", str(cure), "--q-lora",
                 "--output", str(tmp_path / "recipe.yaml"), "--json"]) == 0
    written = yaml.safe_load((tmp_path / "recipe.yaml").read_text())
    assert written["peft"]["q_lora"] and written["model"]["torch_dtype_str"] == "bfloat16"


@pytest.mark.skipif("cuda_present()", reason="the refusal is what a machine without a GPU gives")
def test_without_a_gpu_the_train_stage_refuses_q_lora_before_training(cured, tmp_path):
    diagnosis_path, cure = cured
    stage_input = TrainInput(diagnosis=str(diagnosis_path), cure=str(cure), max_steps=1, q_lora=True)
    with pytest.raises(HospitalError, match="peft.q_lora needs a CUDA GPU and none is present"):
        train.run(stage_input, tmp_path / "run", QUIET)
    assert (tmp_path / "run" / "recipe.yaml").is_file(), "the recipe is written, so it can be run elsewhere"
    assert not (tmp_path / "run" / "adapter").exists(), "oumi train never started"


@pytest.mark.skipif("cuda_present()", reason="the refusal is what a machine without a GPU gives")
def test_treat_with_q_lora_and_no_gpu_is_one_line_before_any_stage(tmp_path):
    done = hospital("treat", "--model", "bundled:tiny-random-llama", "--symptom", "safety", "--q-lora",
                    "--output", str(tmp_path / "run"))
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--q-lora needs a CUDA GPU" in lines[0], done.stderr
    assert not (tmp_path / "run").exists()


def test_a_q_lora_treatment_trains_in_the_gpu_image_with_a_gpu():
    patient = ModelPatientSpec.model_validate({"model": {"reference": "org/big"}})
    treatment = TreatmentSpec.model_validate({"patientRef": {"name": "big"}, "training": {"qLora": True}})
    assert stage_inputs.treatment_input("train", 1, treatment, patient, {"diagnosis": "/d/diagnosis.json",
                                                                        "cure": "/d/cure"}).q_lora
    assert stage_inputs.treatment_job_options("train", treatment, patient).engine_gpus == 1
    assert stage_inputs.treatment_job_options("synth", treatment, patient).engine_gpus == 0
    plain = TreatmentSpec.model_validate({"patientRef": {"name": "big"}})
    assert stage_inputs.treatment_job_options("train", plain, patient).engine_gpus == 0
