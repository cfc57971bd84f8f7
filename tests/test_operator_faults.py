"""The operator under faults, bad specs and other tenants (issue 18): each test failed on the main of that day.

Reconcilers run against the in-memory cluster of test_controller_units; each test
plays one fault (a twin name, a Job that vanished, an OOM kill, a refused create)
and asserts what a user reads in status.
"""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from model_hospital.api.resources import ModelPatientSpec, TreatmentSpec
from model_hospital.controller import jobs, kube, results
from model_hospital.controller.kube import PATIENTS, TREATMENTS
from model_hospital.controller.patients import PatientReconciler
from model_hospital.controller.settings import OperatorSettings, settings_from_env
from model_hospital.controller.status import find_condition
from model_hospital.controller.treatments import TreatmentReconciler
from test_controller_units import (
    DIAGNOSIS, NOW, MemoryCluster, patient_body, run_treatment, running, summary, treatment_body,
)


@pytest.fixture
def settings() -> OperatorSettings:
    return OperatorSettings(stage_retries=1)


def reconcile_patient(cluster, settings, name="llama"):
    return PatientReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", name)


def reconcile_treatment(cluster, settings, name="llama-safety"):
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", name)


def status_of(cluster, plural, name):
    return cluster.obj(plural, name).get("status") or {}


# --- row 1: names shared between kinds and incarnations -----------------------------------------


def test_a_patient_and_a_treatment_of_the_same_name_never_share_a_job_or_a_folder(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body(name="twin", symptoms=["bias"]))
    cluster.add(TREATMENTS, treatment_body(name="twin", patient="twin"))
    reconcile_patient(cluster, settings, "twin")
    reconcile_treatment(cluster, settings, "twin")
    assert len(cluster.created_jobs) == len(set(cluster.created_jobs)) == 2
    folders = {job["spec"]["template"]["spec"]["containers"][0]["command"][-1] for job in cluster.jobs.values()}
    assert len(folders) == 2
    # The patient's bias-only diagnosis never becomes the treatment's safety diagnosis.
    patient_job = status_of(cluster, PATIENTS, "twin")["diagnoseJob"]
    cluster.finish(patient_job, summary("diagnose", "/p", findings={"bias": {"failure_rate": 0.1, "severity": "LOW"}},
                                        overall_severity="LOW"))
    reconcile_treatment(cluster, settings, "twin")
    assert status_of(cluster, TREATMENTS, "twin")["stages"][-1]["phase"] in ("Pending", "Running")


def test_a_recreated_owner_does_not_adopt_the_job_of_the_one_deleted_before_it(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    reconcile_patient(cluster, settings)
    job = status_of(cluster, PATIENTS, "llama")["diagnoseJob"]
    cluster.finish(job, summary("diagnose", "/old", **DIAGNOSIS))
    # Deleted and created again under the same name: a new uid, no status; the old Job is not yet collected.
    del cluster.objects[(PATIENTS, "default", "llama")]
    cluster.add(PATIENTS, {**patient_body(), "metadata": {"name": "llama", "uid": "uid-second"}})
    for _ in range(3):
        reconcile_patient(cluster, settings)
    status = status_of(cluster, PATIENTS, "llama")
    assert status["phase"] == "Diagnosing" and "overallSeverity" not in status
    owner = cluster.jobs[("default", job)]["metadata"]["ownerReferences"][0]
    assert owner["uid"] == "uid-second"


# --- row 2 and the tenancy policy ---------------------------------------------------------------


def test_by_default_a_spec_may_not_send_secrets_to_urls_run_images_or_mount_claims(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body(judge={"backend": "llm", "engine": "OPENAI", "model": "m",
                                              "apiUrl": "https://evil.example/v1", "apiKeySecretRef": {"name": "db"}}))
    reconcile_patient(cluster, settings)
    status = status_of(cluster, PATIENTS, "llama")
    diagnosed = find_condition(status["conditions"], "Diagnosed")
    assert cluster.created_jobs == [] and diagnosed["reason"] == "PolicyRefused"
    assert "spec.judge.apiUrl" in diagnosed["message"] and "allowedUrls" in diagnosed["message"]
    for spec, field in [({"image": "evil/miner:1"}, "spec.image"),
                        ({"model": {"reference": "pvc://payroll/x"}}, "spec.model.reference"),
                        ({"hfTokenSecretRef": {"name": "db"}}, "spec.hfTokenSecretRef")]:
        cluster = MemoryCluster()
        cluster.add(PATIENTS, patient_body(**spec))
        reconcile_patient(cluster, settings)
        diagnosed = find_condition(status_of(cluster, PATIENTS, "llama")["conditions"], "Diagnosed")
        assert cluster.created_jobs == [] and field in diagnosed["message"], spec


def test_what_the_chart_allows_a_spec_may_use():
    allowed = settings_from_env({"HOSPITAL_POLICY": json.dumps({
        "allowedImages": ["registry.example/team/*"], "allowedUrls": ["https://judge.example/"],
        "allowedSecrets": ["judge-*"], "allowedClaims": ["models"]})})
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body(image="registry.example/team/worker:2", model={"reference": "pvc://models/x"},
                                       judge={"backend": "llm", "engine": "OPENAI", "model": "m",
                                              "apiUrl": "https://judge.example/v1",
                                              "apiKeySecretRef": {"name": "judge-key"}}))
    reconcile_patient(cluster, allowed)
    assert len(cluster.created_jobs) == 1


def test_a_treatment_refused_by_policy_waits_with_the_rule_named_and_resumes_when_fixed(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body(images={"train": "evil/miner:1"}))
    reconcile_treatment(cluster, settings)
    status = status_of(cluster, TREATMENTS, "llama-safety")
    ready = find_condition(status["conditions"], "Ready")
    assert cluster.created_jobs == [] and ready["reason"] == "PolicyRefused"
    assert "spec.images.train" in ready["message"] and "verdict" not in status
    cluster.obj(TREATMENTS, "llama-safety")["spec"].pop("images")
    reconcile_treatment(cluster, settings)
    assert cluster.created_jobs == ["llama-safety-diagnose-1"]


# --- row 3: a cron the CRD accepts ------------------------------------------------------------------


def test_an_impossible_cron_is_a_condition_naming_the_field_not_a_stuck_patient(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body(checkupSchedule="99 99 99 99 99"))
    cluster.add(TREATMENTS, treatment_body())
    reconcile_patient(cluster, settings)
    status = status_of(cluster, PATIENTS, "llama")
    diagnosed = find_condition(status["conditions"], "Diagnosed")
    assert status["phase"] == "Failed" and "spec.checkupSchedule" in diagnosed["message"]
    reconcile_treatment(cluster, settings)
    ready = find_condition(status_of(cluster, TREATMENTS, "llama-safety")["conditions"], "Ready")
    assert "spec.checkupSchedule" in ready["message"]


# --- row 4: specs the API server would refuse on Job create -----------------------------------------


@pytest.mark.parametrize("change", [
    {"queueName": "q" * 253}, {"resources": {"cpu": "lots"}}, {"resources": {"memory": "4GB"}},
    {"resources": {"nodeSelector": {"bad key!": "x"}}}, {"resources": {"nodeSelector": {"gpu": "not a value"}}},
])
def test_a_spec_the_api_server_would_refuse_on_job_create_is_refused_by_the_model(change):
    with pytest.raises(ValidationError):
        ModelPatientSpec.model_validate({"model": {"reference": "a/b"}, **change})


def test_a_long_patient_name_still_gives_valid_label_values_and_routes_events(settings):
    name = "p" * 100
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body(name=name))
    cluster.add(TREATMENTS, treatment_body(name="t" * 90, patient=name))
    reconcile_patient(cluster, settings, name)
    reconcile_treatment(cluster, settings, "t" * 90)
    for job in cluster.jobs.values():
        assert all(len(value) <= 63 for value in job["metadata"]["labels"].values())
        assert jobs.owner_of_job(job) in ((PATIENTS, name), (TREATMENTS, "t" * 90))


class RefusingCluster(MemoryCluster):
    """A cluster whose API server refuses stage Jobs (as a 422 would)."""

    def create(self, manifest):
        if manifest["kind"] == "Job":
            raise kube.Refused(f'Job.batch "{manifest["metadata"]["name"]}" is invalid: spec.template.spec: bad')
        return super().create(manifest)


def test_a_job_the_api_server_refuses_fails_the_checkup_once_with_its_words(settings):
    cluster = RefusingCluster()
    cluster.add(PATIENTS, patient_body())
    for _ in range(3):
        reconcile_patient(cluster, settings)
    status = status_of(cluster, PATIENTS, "llama")
    diagnosed = find_condition(status["conditions"], "Diagnosed")
    assert status["phase"] == "Failed" and "is invalid" in diagnosed["message"]
    assert [reason for _, reason, _ in cluster.events].count("DiagnoseFailed") == 1


def test_a_job_the_api_server_refuses_fails_the_treatment_with_its_words(settings):
    cluster = RefusingCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body())
    for _ in range(2):
        reconcile_treatment(cluster, settings)
    status = status_of(cluster, TREATMENTS, "llama-safety")
    assert status["verdict"] == "Failed" and "is invalid" in find_condition(status["conditions"], "Failed")["message"]


# --- row 5: a patient spec the operator's model refuses ----------------------------------------------


def test_a_treatment_of_a_patient_with_an_invalid_spec_says_so(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body(budget=0))
    cluster.add(TREATMENTS, treatment_body())
    reconcile_treatment(cluster, settings)
    ready = find_condition(status_of(cluster, TREATMENTS, "llama-safety")["conditions"], "Ready")
    assert ready["reason"] == "PatientInvalid" and "spec.budget" in ready["message"]
    assert cluster.created_jobs == []


# --- row 9: where the healed model may go ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/artifacts/../etc", "pvc://claim/../..", "/artifacts/a/./b", "pvc://claim/.."])
def test_output_paths_with_dot_segments_are_refused(path):
    with pytest.raises(ValidationError):
        TreatmentSpec.model_validate({"patientRef": {"name": "p"}, "output": {"path": path}})


def test_an_output_folder_outside_the_artifact_volume_is_refused(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body(output={"path": "/tmp/healed"}))
    reconcile_treatment(cluster, settings)
    ready = find_condition(status_of(cluster, TREATMENTS, "llama-safety")["conditions"], "Ready")
    assert ready["reason"] == "PolicyRefused" and "spec.output.path" in ready["message"]


# --- row 10: an OOM-killed stage ----------------------------------------------------------------------


def oom_killed(cluster, name, namespace="default"):
    """The kubelet OOM-killed the Job's only pod and the Job controller failed the Job."""
    job = cluster.jobs[(namespace, name)]
    job["status"] = {"startTime": "2026-11-22T11:50:00Z", "conditions": [
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "lastTransitionTime": "2026-11-22T11:59:00Z"}]}
    cluster.job_pods[(namespace, name)] = [{"metadata": {"name": f"{name}-x", "creationTimestamp": "2026-11-22T11:50:00Z"},
                                        "status": {"containerStatuses": [{"name": "stage", "state": {"terminated": {
                                            "exitCode": 137, "reason": "OOMKilled", "message": "loading shards\n"}}}]}}]


def memory_of(job):
    return job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]


def test_an_oom_kill_is_reported_as_such_and_not_retried_with_the_same_memory(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body(resources={"memory": "8Gi"}))
    reconcile_patient(cluster, settings)
    oom_killed(cluster, cluster.created_jobs[-1])
    reconcile_patient(cluster, settings)
    status = status_of(cluster, PATIENTS, "llama")
    diagnosed = find_condition(status["conditions"], "Diagnosed")
    assert len(cluster.created_jobs) == 1 and status["phase"] == "Failed"
    assert "OOMKilled" in diagnosed["message"] and "8Gi" in diagnosed["message"]


def test_an_oom_kill_is_retried_with_more_memory_when_the_spec_allows(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body(resources={"diagnose": {"memory": "8Gi", "maxMemory": "12Gi"}}))
    reconcile_treatment(cluster, settings)
    oom_killed(cluster, cluster.created_jobs[-1])
    reconcile_treatment(cluster, settings)
    assert len(cluster.created_jobs) == 2
    assert memory_of(cluster.jobs[("default", cluster.created_jobs[-1])]) == "12Gi"
    oom_killed(cluster, cluster.created_jobs[-1])
    reconcile_treatment(cluster, settings)
    status = status_of(cluster, TREATMENTS, "llama-safety")
    assert len(cluster.created_jobs) == 2 and status["verdict"] == "Failed"
    assert "OOMKilled" in find_condition(status["conditions"], "Failed")["message"]


# --- row 11: a patient or a Job that goes away ----------------------------------------------------------


def test_a_treatment_keeps_following_its_running_job_when_the_patient_is_deleted(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body())
    reconcile_treatment(cluster, settings)
    job = cluster.created_jobs[-1]
    del cluster.objects[(PATIENTS, "default", "llama")]
    cluster.finish(job, summary("diagnose", "/d", **DIAGNOSIS))
    reconcile_treatment(cluster, settings)
    status = status_of(cluster, TREATMENTS, "llama-safety")
    assert status["stages"][-1]["phase"] == "Succeeded"
    assert find_condition(status["conditions"], "Ready")["reason"] == "PatientNotFound"


def test_a_stage_job_removed_after_it_ran_is_not_run_again(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body())
    reconcile_treatment(cluster, settings)
    running(cluster, "llama-safety-diagnose-1")
    reconcile_treatment(cluster, settings)
    cluster.jobs.clear()  # finished and removed (TTL, or by hand) before the operator read it
    for _ in range(2):
        reconcile_treatment(cluster, settings)
    status = status_of(cluster, TREATMENTS, "llama-safety")
    assert cluster.created_jobs == ["llama-safety-diagnose-1"]
    assert status["verdict"] == "Failed" and "removed" in find_condition(status["conditions"], "Failed")["message"]


def test_a_checkup_job_seen_running_then_removed_is_not_made_again(settings):
    """The fault run found it: an operator killed between creating the Job and recording it; the next one saw
    the Job run, then it was deleted by hand; the patient took that for a Job never made and ran the stage twice."""
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    reconcile_patient(cluster, settings)
    cluster.obj(PATIENTS, "llama")["status"]["checkup"].pop("created")  # killed before it recorded the create
    running(cluster, "llama-checkup-1")
    reconcile_patient(cluster, settings)  # the next operator sees the Job running
    cluster.jobs.clear()  # deleted by hand
    for _ in range(2):
        reconcile_patient(cluster, settings)
    status = status_of(cluster, PATIENTS, "llama")
    assert cluster.created_jobs == ["llama-checkup-1"]
    assert status["phase"] == "Failed" and "removed" in find_condition(status["conditions"], "Diagnosed")["message"]


def test_a_job_that_succeeded_but_whose_pods_are_gone_is_not_run_again(settings):
    """The fault run found it: a Job deleted by hand just as it succeeded; the operator still had the Complete Job
    (from its watch) but its pods were collected: that is a result lost, not a crash to retry."""
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    reconcile_patient(cluster, settings)
    cluster.finish("llama-checkup-1", summary("diagnose", "/a", **DIAGNOSIS))
    cluster.job_pods.clear()  # collected with the Job, which the operator still sees
    for _ in range(2):
        reconcile_patient(cluster, settings)
    status = status_of(cluster, PATIENTS, "llama")
    assert cluster.created_jobs == ["llama-checkup-1"]
    assert status["phase"] == "Failed" and "removed" in find_condition(status["conditions"], "Diagnosed")["message"]


def test_a_job_ttl_shorter_than_the_operator_can_read_is_refused():
    from model_hospital.errors import HospitalError

    with pytest.raises(HospitalError, match="HOSPITAL_JOB_TTL_SECONDS"):
        settings_from_env({"HOSPITAL_JOB_TTL_SECONDS": "0"})


# --- row 12: a summary cut to fit ---------------------------------------------------------------------------


def test_a_truncated_summary_is_no_verdict(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    reconcile_patient(cluster, settings)
    cluster.finish(cluster.created_jobs[-1], summary("diagnose", "/d/checkup-1", truncated=True))
    reconcile_patient(cluster, settings)
    status = status_of(cluster, PATIENTS, "llama")
    assert status["phase"] == "Failed" and "overallSeverity" not in status
    assert "/d/checkup-1/result.json" in find_condition(status["conditions"], "Diagnosed")["message"]
    assert len(cluster.created_jobs) == 1  # the same stage would cut its summary again


# --- row 13: the status bound ------------------------------------------------------------------------------


def test_status_stays_under_16_kib_with_ten_attempts_long_names_and_long_paths(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body(name="p" * 200))
    treatment = treatment_body(name="t" * 200, patient="p" * 200, maxAttempts=10,
                               output={"path": "/artifacts/" + "/".join(["d" * 60] * 8)})
    cluster.add(TREATMENTS, treatment)
    name = "t" * 200
    for _ in range(120):
        TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", name)
        status = status_of(cluster, TREATMENTS, name)
        if status.get("verdict"):
            break
        record = status["stages"][-1]
        if ("default", record["job"]) not in cluster.jobs or cluster.jobs[("default", record["job"])].get("status"):
            continue
        folder = "/artifacts/" + "/".join(["f" * 60] * 8) + f"/{record['stage']}-{record['attempt']}"
        if record["stage"] == "train" and not record.get("retries"):
            cluster.finish(record["job"], exit_code=1, message="E" * 4000)  # a long log tail, then a retry
            continue
        figures = {"diagnose": DIAGNOSIS, "synth": {"sft": 1, "dpo": 1}, "train": {"adapter": f"{folder}/adapter"},
                   "verify": {"verdict": "NotHealed", "verification": f"{folder}/verification.json"}}[record["stage"]]
        cluster.finish(record["job"], summary(record["stage"], folder, **figures))
    status = status_of(cluster, TREATMENTS, name)
    assert status["verdict"] == "NotHealed"
    assert len(json.dumps(status).encode()) <= 16 * 1024


# --- row 16: cleanup by outcome ------------------------------------------------------------------------------


def test_a_succeeded_stage_pods_go_at_once_and_tmp_is_bounded(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body())
    run_treatment(cluster, settings, ["Healed"])
    assert set(cluster.deleted_pods) == {"llama-safety-diagnose-1", "llama-safety-synth-1", "llama-safety-train-1",
                                         "llama-safety-verify-1"}
    job = cluster.jobs[("default", "llama-safety-train-1")]
    tmp = next(volume for volume in job["spec"]["template"]["spec"]["volumes"] if volume["name"] == "tmp")
    assert tmp["emptyDir"]["sizeLimit"] == settings.tmp_size_limit


# --- Kubernetes does the retry bookkeeping --------------------------------------------------------------------


def test_stage_jobs_fail_a_user_error_at_once_and_leave_crashes_to_the_backoff_limit(settings):
    owner = jobs.Owner(kind="ModelPatient", name="llama", namespace="ml", uid="u", patient="llama")
    spec = ModelPatientSpec.model_validate(patient_body()["spec"])
    from model_hospital.controller import stage_inputs

    job = jobs.stage_job(owner, "diagnose", 1, stage_inputs.patient_diagnose_input(spec), settings)
    rules = job["spec"]["podFailurePolicy"]["rules"]
    assert rules[0] == {"action": "FailJob", "onExitCodes": {"containerName": "stage", "operator": "In", "values": [2]}}
    assert any(rule["action"] == "Ignore" for rule in rules)  # disruptions (preemption, drain) do not count
    import kubernetes_validate

    assert kubernetes_validate.validate(job, "1.32", strict=True)


def test_a_user_error_failed_by_the_pod_failure_policy_is_not_retried():
    job = {"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "PodFailurePolicy",
                                      "message": "Container stage for pod ns/p failed with exit code 2"}]}}
    pod = {"metadata": {}, "status": {"containerStatuses": [{"name": "stage", "state": {"terminated": {
        "exitCode": 2, "message": json.dumps({"stage": "diagnose", "ok": False, "message": "bad budget"})}}}]}}
    outcome = results.job_outcome(job, [pod])
    assert outcome.state == "failed" and not outcome.retryable and "bad budget" in outcome.message
