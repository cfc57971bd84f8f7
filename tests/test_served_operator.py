"""Served patients and spec.generation on the operator's side: stage inputs, Jobs, policy, refusals, CRD rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from model_hospital.api.resources import ModelPatientSpec, TreatmentSpec
from model_hospital.controller import jobs, stage_inputs
from model_hospital.controller.kube import PATIENTS, TREATMENTS
from model_hospital.controller.patients import PatientReconciler
from model_hospital.controller.settings import OperatorSettings, TenancyPolicy
from model_hospital.controller.status import find_condition
from model_hospital.controller.treatments import TreatmentReconciler
from tests.test_controller_units import NOW, MemoryCluster, treatment_body
from tests.test_crd_rules import spec_schema, violations

URL = "http://llama.serving.svc:8000/v1"
SERVED = {"model": {"endpoint": {"url": URL, "model": "llama-3-8b", "apiKeySecretRef": {"name": "served-key"}}},
          "symptoms": ["safety"]}


def served_patient(name: str = "llama", **spec) -> dict:
    return {"apiVersion": "modelhospital.io/v1alpha1", "kind": "ModelPatient", "metadata": {"name": name},
            "spec": {**SERVED, **spec}}


def weights_patient(name: str = "llama", **spec) -> dict:
    return {"apiVersion": "modelhospital.io/v1alpha1", "kind": "ModelPatient", "metadata": {"name": name},
            "spec": {"model": {"reference": "org/llama"}, "symptoms": ["safety"], **spec}}


@pytest.fixture
def settings() -> OperatorSettings:
    return OperatorSettings(stage_retries=1, policy=TenancyPolicy(allowed_urls=["http://llama.serving.svc:8000/"],
                                                                  allowed_secrets=["served-key"]))


def container(job: dict) -> dict:
    return job["spec"]["template"]["spec"]["containers"][0]


def test_served_patient_checkup_asks_the_endpoint_with_the_key_from_its_secret(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, served_patient())
    PatientReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama")
    assert cluster.created_jobs == ["llama-checkup-1"]
    stage_input = cluster.stage_input("llama-checkup-1")
    assert stage_input["model"] is None
    assert stage_input["endpoint"] == {"url": URL, "model": "llama-3-8b", "api_key_env": jobs.ENDPOINT_KEY_ENV,
                                       "num_workers": 4, "max_retries": 2, "timeout_seconds": 300}
    stage = container(cluster.jobs[("default", "llama-checkup-1")])
    keys = [e for e in stage["env"] if e["name"] == jobs.ENDPOINT_KEY_ENV]
    assert keys == [{"name": jobs.ENDPOINT_KEY_ENV, "valueFrom": {"secretKeyRef": {"name": "served-key", "key": "token"}}}]
    assert stage["image"] == settings.images["diagnose"], "a served patient needs no GPU image"
    assert "nvidia.com/gpu" not in str(stage.get("resources"))


def test_served_patient_at_a_url_the_policy_does_not_allow_is_refused(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, served_patient(model={"endpoint": {"url": "http://elsewhere:80/v1", "model": "m"}}))
    PatientReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama")
    assert cluster.created_jobs == []
    diagnosed = find_condition(cluster.obj(PATIENTS, "llama")["status"]["conditions"], "Diagnosed")
    assert diagnosed["reason"] == "PolicyRefused" and "spec.model.endpoint.url" in diagnosed["message"]


def test_treatment_of_a_served_patient_is_refused_with_a_condition_and_makes_no_job(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, served_patient())
    cluster.add(TREATMENTS, treatment_body())
    for _ in range(2):
        TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    status = cluster.obj(TREATMENTS, "llama-safety")["status"]
    ready = find_condition(status["conditions"], "Ready")
    assert ready["status"] == "False" and ready["reason"] == "PatientServed"
    assert "served endpoint" in ready["message"] and "weights" in ready["message"]
    assert cluster.created_jobs == [] and not status.get("verdict")
    assert [reason for _, reason, _ in cluster.events] == ["PatientServed"], "said once"


def test_vllm_generation_runs_in_the_gpu_image_with_its_gpus(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, weights_patient(generation={"engine": "vllm", "tensorParallelSize": 2, "maxModelLen": 4096}))
    PatientReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama")
    stage = container(cluster.jobs[("default", "llama-checkup-1")])
    assert stage["image"] == settings.gpu_images["diagnose"]
    assert stage["resources"]["limits"]["nvidia.com/gpu"] == "2"
    generation = cluster.stage_input("llama-checkup-1")["generation"]
    assert (generation["engine"], generation["tensor_parallel_size"], generation["max_model_len"],
            generation["dtype"]) == ("vllm", 2, 4096, "bfloat16")


def test_a_treatment_carries_generation_to_diagnose_and_verify_but_not_to_training():
    patient = ModelPatientSpec.model_validate(weights_patient()["spec"])
    treatment = TreatmentSpec.model_validate(
        {**treatment_body()["spec"], "generation": {"engine": "vllm", "dtype": "float16"}})
    assert stage_inputs.treatment_input("diagnose", 1, treatment, patient, {}).generation.engine == "vllm"
    verify = stage_inputs.treatment_input("verify", 1, treatment, patient, {"model": "/artifacts/adapter"})
    assert (verify.generation.engine, verify.generation.dtype) == ("vllm", "float16")
    assert stage_inputs.treatment_job_options("verify", treatment, patient).engine_gpus == 1
    assert stage_inputs.treatment_job_options("train", treatment, patient).engine_gpus == 0


def test_a_gpu_request_in_the_spec_is_kept_over_the_engines_minimum(settings):
    spec = ModelPatientSpec.model_validate(weights_patient(generation={"engine": "vllm"}, resources={"gpu": 4})["spec"])
    from model_hospital.controller.jobs import owner_from

    owner = owner_from({"kind": "ModelPatient", "metadata": {"name": "llama", "namespace": "default"}})
    job = jobs.stage_job(owner, "diagnose", 1, stage_inputs.patient_diagnose_input(spec), settings,
                         stage_inputs.patient_job_options(spec))
    assert container(job)["resources"]["limits"]["nvidia.com/gpu"] == "4"


PATIENT_MISTAKES = [
    ({"model": {}}, "one of them"),
    ({"model": {"reference": "org/llama", "endpoint": {"url": URL, "model": "m"}}}, "one of them"),
    ({"model": {"reference": "org/llama"}, "generation": {"tensorParallelSize": 2}}, "needs engine vllm"),
]


@pytest.mark.parametrize("spec, words", PATIENT_MISTAKES)
def test_patient_spec_mistakes_are_refused_by_the_crd_and_by_the_operator(spec, words):
    found = violations(spec_schema("modelpatients"), spec)
    assert any(words in message for _, message in found), found
    with pytest.raises(ValidationError, match=words):
        ModelPatientSpec.model_validate(spec)


def test_a_served_patient_spec_passes_every_rule():
    assert violations(spec_schema("modelpatients"), SERVED) == []
    assert ModelPatientSpec.model_validate(SERVED).model.served
