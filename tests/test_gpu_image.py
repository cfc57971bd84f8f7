"""A stage that asks for GPUs runs the chart's GPU worker image, unless its spec names an image."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from model_hospital.api.resources import ModelPatientSpec, TreatmentSpec
from model_hospital.api.protocol import STAGE_NAMES
from model_hospital.controller import jobs, stage_inputs
from model_hospital.controller.settings import settings_from_env
from tests.test_chart import operator_env, render

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = "registry.example.com/team"


def example(name: str) -> dict:
    return yaml.safe_load((ROOT / "examples" / name).read_text())


def stage_images(treatment: dict, patient: dict, values: dict) -> dict[str, str]:
    """The image of each stage Job of a treatment, under the operator a chart with `values` runs."""
    settings = settings_from_env(operator_env(render(values)))
    treatment_spec = TreatmentSpec.model_validate(treatment["spec"])
    patient_spec = ModelPatientSpec.model_validate(patient["spec"])
    owner = jobs.Owner(kind="Treatment", name="tx", namespace="ml", uid="u-1", patient="p")
    images = {}
    for stage in STAGE_NAMES:
        options = stage_inputs.treatment_job_options(stage, treatment_spec, patient_spec)
        job = jobs.stage_job(owner, stage, 1, stage_inputs.treatment_input("diagnose", 1, treatment_spec, patient_spec, {}),
                             settings, options)
        images[stage] = job["spec"]["template"]["spec"]["containers"][0]["image"]
    return images


@pytest.fixture(scope="module")
def own_registry() -> dict:
    """Chart values that move both worker images to another registry and tag, as a platform team does."""
    return {"stages": {"image": {"repository": f"{REGISTRY}/worker", "tag": "7.1"},
                       "gpuImage": {"repository": f"{REGISTRY}/worker-gpu", "tag": "7.1"}}}


def test_the_gpu_example_names_no_image_that_would_drift_on_upgrade():
    assert "images" not in example("gpu-treatment.yaml")["spec"]


def test_a_stage_asking_for_a_gpu_gets_the_charts_gpu_image(own_registry):
    images = stage_images(example("gpu-treatment.yaml"), example("patient.yaml"), own_registry)
    assert images["train"] == f"{REGISTRY}/worker-gpu:7.1"
    assert {images[stage] for stage in STAGE_NAMES if stage != "train"} == {f"{REGISTRY}/worker:7.1"}


def test_an_image_the_spec_names_wins_over_the_gpu_default(own_registry):
    treatment = example("gpu-treatment.yaml")
    treatment["spec"]["images"] = {"train": "mirror.example.com/custom-cuda:1"}
    assert stage_images(treatment, example("patient.yaml"), own_registry)["train"] == "mirror.example.com/custom-cuda:1"


def test_a_stage_image_set_in_the_chart_is_kept_when_the_spec_asks_for_a_gpu(own_registry):
    values = {"stages": {**own_registry["stages"], "train": {"image": f"{REGISTRY}/trainer:2"}}}
    assert stage_images(example("gpu-treatment.yaml"), example("patient.yaml"), values)["train"] == f"{REGISTRY}/trainer:2"


def test_a_treatment_without_gpus_stays_on_the_cpu_image(own_registry):
    images = stage_images(example("treatment.yaml"), example("patient.yaml"), own_registry)
    assert set(images.values()) == {f"{REGISTRY}/worker:7.1"}
