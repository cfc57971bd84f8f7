"""A user's own suites (ConfigMaps) and public sets (a claim) on Kubernetes: mounted into the stage Jobs that read
them, named in their stage inputs, and held to the tenancy policy."""

from __future__ import annotations

import kubernetes_validate
import pytest
from pydantic import ValidationError

from model_hospital.api.resources import ModelPatientSpec, TreatmentSpec
from model_hospital.controller import jobs, policy, stage_inputs
from model_hospital.controller.settings import OperatorSettings, TenancyPolicy

OWN = {"suites": {"probes": [{"configMap": "house-probes", "key": "safety.jsonl"}],
                  "skills": [{"configMap": "house-skills", "key": "coding.jsonl"}]},
       "publicSets": [{"name": "gsm8k", "path": "pvc://datasets/gsm8k/test.jsonl"},
                      {"name": "xstest", "path": "/artifacts/copies/xstest_prompts.csv"}]}


def patient(**fields) -> ModelPatientSpec:
    return ModelPatientSpec.model_validate({"model": {"reference": "bundled:tiny-random-llama"}, **fields})


def mounts_of(job) -> dict[str, dict]:
    return {mount["mountPath"]: mount for mount in job["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}


def volumes_of(job) -> dict[str, dict]:
    return {volume["name"]: volume for volume in job["spec"]["template"]["spec"]["volumes"]}


def test_a_patients_checkup_mounts_its_suites_and_public_copies_read_only_and_names_them():
    spec = patient(**OWN)
    owner = jobs.Owner(kind="ModelPatient", name="llama", namespace="ml", uid="u-1", patient="llama")
    stage_input = stage_inputs.patient_diagnose_input(spec)
    job = jobs.stage_job(owner, "diagnose", 1, stage_input, OperatorSettings(), stage_inputs.patient_job_options(spec))
    assert kubernetes_validate.validate(job, "1.32", strict=True)
    assert stage_input.suites.probes == ["/suites/house-probes/safety.jsonl"]
    assert [(p.name, p.path) for p in stage_input.public] == [("gsm8k", "/public/datasets/gsm8k/test.jsonl"),
                                                              ("xstest", "/artifacts/copies/xstest_prompts.csv")]
    mounts, volumes = mounts_of(job), volumes_of(job)
    for path, source in (("/suites/house-probes", {"configMap": {"name": "house-probes"}}),
                         ("/public/datasets", {"persistentVolumeClaim": {"claimName": "datasets", "readOnly": True}})):
        assert mounts[path]["readOnly"] is True
        assert {k: v for k, v in volumes[mounts[path]["name"]].items() if k != "name"} == source


def test_a_treatment_gives_its_suites_to_diagnose_synth_and_verify_and_its_public_sets_to_verify_only():
    spec = patient(**OWN)
    treatment = TreatmentSpec.model_validate({"patientRef": {"name": "llama"}})
    options = {stage: stage_inputs.treatment_job_options(stage, treatment, spec)
               for stage in ("diagnose", "synth", "train", "verify")}
    assert options["train"].config_maps == {}
    assert set(options["verify"].config_maps) == {"/suites/house-probes", "/suites/house-skills"}
    assert "/public/datasets" in options["verify"].claims and "/public/datasets" not in options["diagnose"].claims
    artifacts = {"diagnosis": "/artifacts/d.json", "model": "/artifacts/adapter"}
    diagnose, synth, verify = (stage_inputs.treatment_input(stage, 1, treatment, spec, artifacts)
                               for stage in ("diagnose", "synth", "verify"))
    assert diagnose.suites == synth.suites == verify.suites
    assert verify.suites.skills == ["/suites/house-skills/coding.jsonl"]
    assert diagnose.public == [] and [p.name for p in verify.public] == ["gsm8k", "xstest"]


def test_a_treatments_own_suites_and_sets_replace_the_patients():
    spec = patient(**OWN)
    treatment = TreatmentSpec.model_validate({"patientRef": {"name": "llama"},
                                              "suites": {"probes": [{"configMap": "other", "key": "bias.jsonl"}]},
                                              "publicSets": [{"name": "truthfulqa", "path": "/artifacts/TruthfulQA.csv"}]})
    verify = stage_inputs.treatment_input("verify", 1, treatment, spec, {"model": "/artifacts/adapter"})
    assert verify.suites.probes == ["/suites/other/bias.jsonl"] and verify.suites.skills == []
    assert [p.name for p in verify.public] == ["truthfulqa"]


def test_a_public_copy_on_a_claim_the_policy_does_not_allow_is_refused_naming_the_field():
    settings = OperatorSettings(policy=TenancyPolicy(allowed_claims=["models"]))
    refused = policy.patient_refusals(settings, patient(**OWN))
    assert len(refused) == 1 and refused[0].startswith("spec.publicSets[0].path: claim datasets is not allowed")
    allowed = OperatorSettings(policy=TenancyPolicy(allowed_claims=["datasets"]))
    assert policy.patient_refusals(allowed, patient(**OWN)) == []


@pytest.mark.parametrize("fields, words", [
    ({"suites": {"probes": [{"configMap": "Not_A_Name", "key": "s.jsonl"}]}}, "configMap"),
    ({"suites": {"probes": [{"configMap": "ok", "key": "../etc/passwd"}]}}, "key"),
    ({"publicSets": [{"name": "mmlu", "path": "/artifacts/mmlu.csv"}]}, "name"),
    ({"publicSets": [{"name": "gsm8k", "path": "pvc://data/../secrets/x"}]}, "'..' segment"),
    ({"publicSets": [{"name": "gsm8k", "path": "data/test.jsonl"}]}, "path"),
])
def test_a_wrong_suite_or_public_set_field_is_refused_naming_it(fields, words):
    with pytest.raises(ValidationError, match=words):
        patient(**fields)
