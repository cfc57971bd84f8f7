"""The controller without a server: Job manifests, results, status, settings and the stage machine.

The reconcilers run against an in-memory cluster that stores what they write and
lets the test finish a Job the way the Job controller and kubelet would.
"""

from __future__ import annotations

import ast
import copy
import datetime
import json
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest

from model_hospital.api.resources import ModelPatientSpec, TreatmentSpec
from model_hospital.controller import jobs, results, stage_inputs
from model_hospital.controller.kube import PATIENTS, TREATMENTS, event_manifest
from model_hospital.controller.metrics import Metrics
from model_hospital.controller.patients import CHECKUP_ANNOTATION, PatientReconciler
from model_hospital.controller.settings import OperatorSettings, TenancyPolicy, settings_from_env
from model_hospital.controller.status import find_condition, set_condition
from model_hospital.controller.treatments import TreatmentReconciler
from model_hospital.errors import HospitalError

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=datetime.timezone.utc)


def merge(target: dict, patch: dict) -> dict:
    """RFC 7386 merge patch, as the API server applies it."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


class MemoryCluster:
    """The `Cluster` interface over dicts; counts every Job ever created."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.jobs: dict[tuple[str, str], dict] = {}
        self.config_maps: dict[tuple[str, str], dict] = {}
        self.job_pods: dict[tuple[str, str], list[dict]] = {}  # by (namespace, Job)
        self.created_jobs: list[str] = []
        self.events: list[tuple[str, str, str]] = []
        self.deleted_jobs: list[str] = []
        self.deleted_pods: list[str] = []
        self.logs: dict[tuple[str, str], str] = {}
        self.pod_reads = 0
        self.claims: dict[tuple[str, str], dict] = {}

    def add(self, plural: str, body: dict) -> dict:
        body = copy.deepcopy(body)
        metadata = body.setdefault("metadata", {})
        metadata.setdefault("namespace", "default")
        metadata.setdefault("uid", f"uid-{metadata['name']}")
        metadata.setdefault("generation", 1)
        self.objects[(plural, metadata["namespace"], metadata["name"])] = body
        return body

    def obj(self, plural: str, name: str, namespace: str = "default") -> dict:
        return self.objects[(plural, namespace, name)]

    def get(self, plural, namespace, name):
        found = self.objects.get((plural, namespace, name))
        return copy.deepcopy(found) if found else None

    def list(self, plural, namespace):
        return [copy.deepcopy(body) for (kind, ns, _), body in self.objects.items()
                if kind == plural and namespace in (None, ns)]

    def patch_status(self, plural, namespace, name, patch):
        body = self.objects[(plural, namespace, name)]
        body["status"] = merge(body.get("status") or {}, copy.deepcopy(patch))
        return copy.deepcopy(body)

    def get_job(self, namespace, name):
        found = self.jobs.get((namespace, name))
        return copy.deepcopy(found) if found else None

    def stage_jobs(self, namespace):
        return [copy.deepcopy(job) for (ns, _), job in self.jobs.items() if namespace in (None, ns)]

    def pods(self, namespace, selector):  # the pods of one Job, by the selector `launchers.pod_selector` gives
        self.pod_reads += 1
        return copy.deepcopy(self.job_pods.get((namespace, selector.removeprefix("job-name=")), []))

    def get_claim(self, namespace, name):
        found = self.claims.get((namespace, name))
        return copy.deepcopy(found) if found else None

    def pod_log(self, namespace, pod, tail_lines):
        return "".join(self.logs.get((namespace, pod), "").splitlines(keepends=True)[-tail_lines:])

    def create(self, manifest):
        key = (manifest["metadata"]["namespace"], manifest["metadata"]["name"])
        store = self.jobs if manifest["kind"] == "Job" else self.config_maps
        if key in store:
            return False
        store[key] = copy.deepcopy(manifest)
        if manifest["kind"] == "Job":
            self.created_jobs.append(manifest["metadata"]["name"])
        return True

    def delete_job(self, namespace, name):
        self.deleted_jobs.append(name)
        self.jobs.pop((namespace, name), None)

    def delete_pods(self, namespace, selector):
        job = selector.removeprefix("job-name=")
        self.deleted_pods.append(job)
        self.job_pods.pop((namespace, job), None)

    def event(self, owner, kind, reason, message):
        self.events.append((owner["metadata"]["name"], reason, message))

    # --- playing the Job controller and kubelet ---

    def finish(self, name: str, summary: dict | None = None, *, exit_code: int = 0, message: str | None = None,
               namespace: str = "default") -> None:
        job = self.jobs[(namespace, name)]
        succeeded = exit_code == 0
        condition = {"type": "Complete" if succeeded else "Failed", "status": "True",
                     "reason": "CompletionsReached" if succeeded else "BackoffLimitExceeded",
                     "lastTransitionTime": "2026-11-22T11:59:00Z"}
        job["metadata"]["creationTimestamp"] = "2026-11-22T11:49:30Z"
        job["status"] = {"startTime": "2026-11-22T11:50:00Z", "conditions": [condition],
                         **({"completionTime": "2026-11-22T11:59:00Z"} if succeeded else {})}
        text = json.dumps(summary) if summary is not None else (message or "")
        self.job_pods[(namespace, name)] = [{"metadata": {"name": f"{name}-abcde", "creationTimestamp": "2026-11-22T11:50:00Z"},
                                         "status": {"containerStatuses": [{"name": "stage", "state": {"terminated": {
                                             "exitCode": exit_code, "message": text, "finishedAt": "2026-11-22T11:59:00Z"}}}]}}]

    def stage_input(self, name: str, namespace: str = "default") -> dict:
        return json.loads(self.config_maps[(namespace, name)]["data"]["input.json"])


def patient_body(name="llama", **spec) -> dict:
    return {"apiVersion": "modelhospital.io/v1alpha1", "kind": "ModelPatient", "metadata": {"name": name},
            "spec": {"model": {"reference": "bundled:smollm2-135m-instruct"}, **spec}}


def treatment_body(name="llama-safety", patient="llama", **spec) -> dict:
    return {"apiVersion": "modelhospital.io/v1alpha1", "kind": "Treatment", "metadata": {"name": name},
            "spec": {"patientRef": {"name": patient}, "symptoms": ["safety"], **spec}}


def summary(stage: str, folder: str, ok: bool = True, **figures) -> dict:
    return {"stage": stage, "ok": ok, "message": "" if ok else "it broke", "result_path": f"{folder}/result.json",
            "result_sha256": "ab" * 32, "summary": figures}


DIAGNOSIS = {
    "findings": {
        "safety": {"failure_rate": 0.75, "failures": 30, "scored": 40, "unscored": 2, "interval": [0.6, 0.86], "severity": "CRITICAL"},
        "hallucination": {"failure_rate": 0.4, "failures": 16, "scored": 40, "unscored": 0, "interval": [0.26, 0.55], "severity": "MODERATE"},
        "over_refusal": {"failure_rate": 0.9, "failures": 9, "scored": 10, "unscored": 0, "severity": "CRITICAL"},
    },
    "overall_severity": "CRITICAL",
    "worst_finding": "safety",
}


@pytest.fixture
def settings() -> OperatorSettings:
    return OperatorSettings(stage_retries=1)


# --- Job manifests ----------------------------------------------------------------------


def test_job_name_is_deterministic_and_fits_a_label():
    assert jobs.job_name("llama", "diagnose", 1) == "llama-diagnose-1"
    assert jobs.job_name("llama", "train", 2, retry=1) == "llama-train-2-r1"
    long_a, long_b = "a" * 70, "a" * 69 + "b"
    name_a, name_b = jobs.job_name(long_a, "verify", 10, 3), jobs.job_name(long_b, "verify", 10, 3)
    assert len(name_a) <= 63 and len(name_b) <= 63
    assert name_a != name_b and name_a.endswith("-verify-10-r3")
    assert name_a == jobs.job_name(long_a, "verify", 10, 3)


def full_patient_spec() -> ModelPatientSpec:
    return ModelPatientSpec.model_validate({
        "model": {"reference": "pvc://models/llama-3/v2", "allowRemoteCode": False},
        "symptoms": ["safety", "bias"], "budget": 20,
        "judge": {"backend": "llm", "engine": "OPENAI", "model": "judge", "apiKeySecretRef": {"name": "judge-key"}},
        "resources": {"cpu": 4, "memory": "16Gi", "gpu": 1, "nodeSelector": {"gpu": "a100"},
                      "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                      "priorityClassName": "ml-high"},
        "hfTokenSecretRef": {"name": "hf", "key": "token"}, "queueName": "team-a",
    })


def test_stage_job_is_a_valid_restricted_job_with_everything_the_spec_asks(settings):
    spec = full_patient_spec()
    owner = jobs.Owner(kind="ModelPatient", name="llama", namespace="ml", uid="u-1", patient="llama")
    stage_input = stage_inputs.patient_diagnose_input(spec)
    job = jobs.stage_job(owner, "diagnose", 3, stage_input, settings, stage_inputs.patient_job_options(spec))
    config_map = jobs.stage_config_map(owner, job["metadata"]["name"], stage_input, job["metadata"]["labels"])
    assert kubernetes_validate.validate(job, "1.32", strict=True)
    assert kubernetes_validate.validate(config_map, "1.32", strict=True)

    assert job["metadata"]["name"] == "llama-checkup-3"
    assert job["metadata"]["ownerReferences"] == [{"apiVersion": "modelhospital.io/v1alpha1", "kind": "ModelPatient",
                                                   "name": "llama", "uid": "u-1", "controller": True, "blockOwnerDeletion": True}]
    labels = job["metadata"]["labels"]
    assert labels["modelhospital.io/patient"] == "llama" and labels["modelhospital.io/stage"] == "diagnose"
    assert labels["modelhospital.io/attempt"] == "3" and labels["kueue.x-k8s.io/queue-name"] == "team-a"
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["command"] == ["hospital", "stage", "diagnose", "--input", "/config/input.json",
                                    "--output", "/artifacts/ml/llama/checkup-3"]
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    env = {item["name"]: item for item in container["env"]}
    assert env["DO_NOT_TRACK"]["value"] == "1"
    assert env["HF_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "hf", "key": "token"}}
    assert env["HOSPITAL_JUDGE_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "judge-key"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["resources"]["requests"]["cpu"] == "4"
    assert pod["nodeSelector"] == {"gpu": "a100"} and pod["priorityClassName"] == "ml-high"
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert job["spec"]["backoffLimit"] == settings.backoff_limit and job["spec"]["activeDeadlineSeconds"] > 0
    assert job["spec"]["ttlSecondsAfterFinished"] == settings.job_ttl_seconds
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["input"]["configMap"]["name"] == "llama-checkup-3"
    assert volumes["artifacts"]["persistentVolumeClaim"]["claimName"] == settings.artifact_claim
    assert any(volume.get("persistentVolumeClaim", {}).get("claimName") == "models" for volume in pod["volumes"])
    # The model on a claim is opened where the claim is mounted.
    assert json.loads(config_map["data"]["input.json"])["model"] == "/models/models/llama-3/v2"
    assert json.loads(config_map["data"]["input.json"])["judge"]["api_key_env"] == "HOSPITAL_JUDGE_API_KEY"


def test_stage_pods_carry_the_configured_pull_secrets():
    owner = jobs.Owner(kind="ModelPatient", name="llama", namespace="team", uid="u-1", patient="llama")
    job = jobs.stage_job(owner, "diagnose", 1, stage_inputs.patient_diagnose_input(
        ModelPatientSpec.model_validate(patient_body()["spec"])), OperatorSettings(image_pull_secrets=["registry"]),
        jobs.JobOptions())
    assert job["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "registry"}]
    assert settings_from_env({"HOSPITAL_IMAGE_PULL_SECRETS": "registry, mirror"}).image_pull_secrets == ["registry", "mirror"]


def test_spec_resources_override_operator_defaults_per_field(settings):
    defaults = settings.stage_resources["train"]
    merged = jobs.merged_resources(defaults, ModelPatientSpec.model_validate(
        {"model": {"reference": "a/b"}, "resources": {"gpu": 2}}).resources)
    assert merged.gpu == 2 and merged.memory == defaults.memory


def test_hub_model_carries_its_revision():
    spec = ModelPatientSpec.model_validate({"model": {"reference": "HuggingFaceTB/SmolLM2-135M", "revision": "main"}})
    assert stage_inputs.patient_diagnose_input(spec).model == "HuggingFaceTB/SmolLM2-135M@main"


# --- results ------------------------------------------------------------------------------


def finished_job(kind="Complete", reason="CompletionsReached"):
    return {"status": {"startTime": "2026-11-22T11:00:00Z", "completionTime": "2026-11-22T11:05:00Z",
                       "conditions": [{"type": kind, "status": "True", "reason": reason,
                                       "message": "Job was active longer than specified deadline"}]}}


def pod_with(message: str, exit_code: int = 0):
    return {"metadata": {"creationTimestamp": "2026-11-22T11:00:00Z"},
            "status": {"containerStatuses": [{"name": "stage", "state": {"terminated": {"exitCode": exit_code, "message": message}}}]}}


def test_succeeded_job_gives_the_stage_summary():
    outcome = results.job_outcome(finished_job(), [pod_with(json.dumps(summary("diagnose", "/a", **DIAGNOSIS)))])
    assert outcome.state == "succeeded" and outcome.summary.summary["overall_severity"] == "CRITICAL"


def test_crash_gives_the_log_tail_as_message():
    log_tail = "Traceback (most recent call last):\n  ...\nRuntimeError: CUDA out of memory"
    outcome = results.job_outcome(finished_job("Failed", "BackoffLimitExceeded"), [pod_with(log_tail, 1)])
    assert outcome.state == "failed" and outcome.retryable
    assert "CUDA out of memory" in outcome.message and "BackoffLimitExceeded" in outcome.message


def test_deadline_without_a_pod_message_says_so():
    outcome = results.job_outcome(finished_job("Failed", "DeadlineExceeded"), [])
    assert outcome.state == "failed" and outcome.message.startswith("DeadlineExceeded")


def test_user_error_is_not_retried():
    text = json.dumps(summary("diagnose", "/a", ok=False))
    outcome = results.job_outcome(finished_job("Failed", "BackoffLimitExceeded"), [pod_with(text, 2)])
    assert outcome.state == "failed" and not outcome.retryable and "it broke" in outcome.message


def test_success_without_a_summary_is_a_failure_not_a_verdict():
    outcome = results.job_outcome(finished_job(), [pod_with("")])
    assert outcome.state == "failed" and "termination message" in outcome.message


def test_running_and_missing_jobs():
    assert results.job_outcome(None, []).state == "missing"
    assert results.job_outcome({"status": {"active": 1}}, []).state == "running"
    assert results.job_outcome({"status": {}}, []).state == "pending"


@pytest.mark.parametrize("job,pod_status,words", [
    ({"spec": {"suspend": True}, "status": {}}, {}, "waiting for its queue"),
    ({"status": {}}, {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                       "message": "0/3 nodes have nvidia.com/gpu"}]}, "Unschedulable: 0/3 nodes"),
    ({"status": {"active": 1}}, {"containerStatuses": [{"name": "stage", "state": {"waiting": {
        "reason": "ImagePullBackOff", "message": "pull worker:9 failed"}}}]}, "ImagePullBackOff: pull worker:9"),
])
def test_a_stuck_job_says_why(job, pod_status, words):
    outcome = results.job_outcome(job, [{"metadata": {}, "status": pod_status}])
    assert not outcome.finished and words in outcome.waiting


def test_stuck_diagnosis_is_explained_in_the_patients_condition(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    reconciler(cluster, settings).reconcile("default", "llama")
    cluster.jobs[("default", "llama-checkup-1")]["status"] = {"active": 1}  # the Job controller counts its pod
    cluster.job_pods[("default", "llama-checkup-1")] = [{"metadata": {}, "status": {"containerStatuses": [
        {"name": "stage", "state": {"waiting": {"reason": "CreateContainerConfigError", "message": 'secret "hf" not found'}}}]}}]
    reconciler(cluster, settings).reconcile("default", "llama")
    diagnosed = find_condition(cluster.obj(PATIENTS, "llama")["status"]["conditions"], "Diagnosed")
    assert 'CreateContainerConfigError: secret "hf" not found' in diagnosed["message"]


def test_diagnosis_status_has_rates_with_denominators_worst_first():
    from model_hospital.api.stages import StageSummary

    status = results.diagnosis_status(StageSummary.model_validate(summary("diagnose", "/art/ns/llama/diagnose-1", **DIAGNOSIS)),
                                      "2026-11-22T12:00:00Z")
    assert [row["symptom"] for row in status["findings"]] == ["over_refusal", "safety", "hallucination"]
    safety = status["findings"][1]
    assert safety == {"symptom": "safety", "failureRate": 0.75, "failures": 30, "scored": 40, "unscored": 2,
                      "interval": [0.6, 0.86], "severity": "CRITICAL", "severitySpan": "HIGH-CRITICAL"}
    assert status["worstSymptom"] == "safety" and status["worstFailureRate"] == 75.0
    assert status["overallSeverity"] == "CRITICAL"
    assert status["report"]["path"] == "/art/ns/llama/diagnose-1/diagnosis.json"


def test_verification_status_fills_skills_and_verdict():
    from model_hospital.api.stages import StageSummary

    figures = {"verdict": "Degraded", "skills": {"math": {"before": 0.5, "after": 0.3, "degraded": True},
                          "writing": {"before": 0.6, "after": 0.62, "delta": 0.02, "degraded": False}},
               "findings": {"safety": {"before": 0.75, "after": 0.1, "n": 40, "target": 0.2, "healed": True},
                            "over_refusal": {"before": 0.1, "after": 0.9, "n": 10, "target": None, "healed": None}}}
    status = results.verification_status(StageSummary.model_validate(summary("verify", "/v", **figures)))
    assert status["verdict"] == "Degraded"
    assert status["skills"][0] == {"domain": "math", "before": 0.5, "after": 0.3, "delta": -0.2, "degraded": True, "status": None}
    assert status["skillsSummary"] == "1 of 2 degraded (math)" and status["severityAfter"] == "LOW"


def test_condition_keeps_its_transition_time_while_status_holds():
    first = set_condition(None, "Diagnosed", "False", "Diagnosing", "one", 1, "2026-01-01T00:00:00Z")
    second = set_condition(first, "Diagnosed", "False", "Diagnosing", "two", 2, "2026-01-02T00:00:00Z")
    third = set_condition(second, "Diagnosed", "True", "Diagnosed", "done", 2, "2026-01-03T00:00:00Z")
    assert second[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z" and second[0]["message"] == "two"
    assert third[0]["lastTransitionTime"] == "2026-01-03T00:00:00Z" and third[0]["observedGeneration"] == 2
    with pytest.raises(ValueError):
        set_condition(None, "Diagnosed", "True", "Whatever", "", 1, "x")


def test_event_names_its_owner():
    event = event_manifest(patient_body() | {"metadata": {"name": "llama", "namespace": "ml", "uid": "u"}},
                           "Normal", "Diagnosed", "overall severity HIGH", "2026-11-22T12:00:00Z")
    assert kubernetes_validate.validate(event, "1.32", strict=True)
    assert event["involvedObject"]["kind"] == "ModelPatient" and event["involvedObject"]["uid"] == "u"


# --- settings -------------------------------------------------------------------------------


def test_settings_come_from_helm_environment_variables():
    settings = settings_from_env({
        "HOSPITAL_IMAGE": "registry/worker:1", "HOSPITAL_IMAGE_TRAIN": "registry/worker-gpu:1",
        "HOSPITAL_ARTIFACT_CLAIM": "store", "HOSPITAL_STAGE_RETRIES": "3", "HOSPITAL_NAMESPACES": "a, b",
        "HOSPITAL_STAGE_RESOURCES": json.dumps({"train": {"gpu": 1, "memory": "32Gi"}}),
        "HOSPITAL_TOLERATIONS": json.dumps([{"key": "gpu", "operator": "Exists"}]),
    })
    assert settings.images["diagnose"] == "registry/worker:1" and settings.images["train"] == "registry/worker-gpu:1"
    assert settings.artifact_claim == "store" and settings.stage_retries == 3 and settings.namespaces == ["a", "b"]
    assert settings.stage_resources["train"].gpu == 1 and settings.stage_resources["diagnose"].cpu == "2"
    assert settings.tolerations[0].key == "gpu"


def test_chart_wide_queue_and_token_reach_jobs_whose_spec_names_none():
    settings = settings_from_env({"HOSPITAL_QUEUE_NAME": "shared", "HOSPITAL_HF_TOKEN_SECRET": "hf",
                                  "HOSPITAL_HF_TOKEN_KEY": "hf-token", "HOSPITAL_OPERATOR_NAMESPACE": "hospital"})
    owner = jobs.Owner(kind="ModelPatient", name="llama", namespace="ml", uid="u", patient="llama")
    spec = ModelPatientSpec.model_validate({"model": {"reference": "a/b"}})
    job = jobs.stage_job(owner, "diagnose", 1, stage_inputs.patient_diagnose_input(spec), settings,
                         stage_inputs.patient_job_options(spec))
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "shared"
    env = {item["name"]: item for item in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hf", "key": "hf-token"}
    own = stage_inputs.patient_job_options(ModelPatientSpec.model_validate(
        {"model": {"reference": "a/b"}, "queueName": "mine", "hfTokenSecretRef": {"name": "own"}}))
    job = jobs.stage_job(owner, "diagnose", 1, stage_inputs.patient_diagnose_input(spec), settings, own)
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "mine"


def test_operator_run_asks_which_namespaces_to_watch(monkeypatch, capsys):
    from model_hospital.cli import main

    monkeypatch.delenv("HOSPITAL_NAMESPACES", raising=False)
    assert main(["operator", "run"]) == 2
    assert "--all-namespaces" in capsys.readouterr().err


@pytest.mark.parametrize("variable,value", [("HOSPITAL_STAGE_RESOURCES", "{gpu: 1"), ("HOSPITAL_STAGE_RETRIES", "many")])
def test_bad_setting_names_the_variable(variable, value):
    with pytest.raises(HospitalError, match=variable):
        settings_from_env({variable: value})


# --- the patient's checkups -------------------------------------------------------------------


def reconciler(cluster, settings, moment=NOW, cls=PatientReconciler, metrics=None):
    return cls(cluster, settings, metrics=metrics, clock=lambda: moment)


def test_new_patient_gets_one_diagnose_job_recorded_in_status(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body(symptoms=["safety", "hallucination"], budget=10))
    for _ in range(3):
        reconciler(cluster, settings).reconcile("default", "llama")
    assert cluster.created_jobs == ["llama-checkup-1"]
    status = cluster.obj(PATIENTS, "llama")["status"]
    assert status["diagnoseJob"] == "llama-checkup-1" and status["phase"] == "Diagnosing"
    assert status["checkup"]["trigger"] == "Created"
    assert cluster.stage_input("llama-checkup-1")["budget"] == 10


def test_a_patient_not_yet_diagnosed_is_counted_unmeasured_never_none():
    metrics = Metrics()
    metrics.observe_patient("default", "new", {"phase": "Diagnosing"})
    assert metrics.registry.get_sample_value("hospital_patients", {"severity": "UNMEASURED", "phase": "Diagnosing"}) == 1
    assert metrics.registry.get_sample_value("hospital_patients", {"severity": "NONE", "phase": "Diagnosing"}) is None


def test_a_finding_whose_interval_spans_bands_carries_the_span_in_status():
    from model_hospital.api.figures import DiagnoseFigures
    from model_hospital.controller.results import finding_rows

    figures = {"findings": {"safety": {"failure_rate": 1.0, "failures": 4, "scored": 4, "interval": [0.51, 1.0],
                                       "severity": "CRITICAL"}}}
    rows = finding_rows(DiagnoseFigures.model_validate(figures))
    assert rows[0].severity_span == "HIGH-CRITICAL"


def test_diagnosis_lands_in_status(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    metrics = Metrics()
    reconciler(cluster, settings, metrics=metrics).reconcile("default", "llama")
    cluster.finish("llama-checkup-1", summary("diagnose", "/artifacts/default/llama/diagnose-1", **DIAGNOSIS))
    reconciler(cluster, settings, metrics=metrics).reconcile("default", "llama")
    status = cluster.obj(PATIENTS, "llama")["status"]
    assert status["phase"] == "Diagnosed" and status["overallSeverity"] == "CRITICAL"
    assert status["worstSymptom"] == "safety" and status["worstFailureRate"] == 75.0
    assert status["lastCheckup"] == "2026-11-22T11:59:00Z" and status["observedGeneration"] == 1
    assert find_condition(status["conditions"], "Ready")["status"] == "True"
    assert ("llama", "Diagnosed", "Checkup 1: overall severity CRITICAL, worst safety at 75.0 %") in cluster.events
    assert metrics.registry.get_sample_value("hospital_patients", {"severity": "CRITICAL", "phase": "Diagnosed"}) == 1
    assert metrics.registry.get_sample_value("hospital_patient_findings", {"symptom": "safety", "severity": "CRITICAL"}) == 1
    assert metrics.registry.get_sample_value("hospital_stage_duration_seconds_sum", {"stage": "diagnose", "outcome": "succeeded"}) == 540
    assert metrics.registry.get_sample_value("hospital_stage_queue_wait_seconds_sum", {"stage": "diagnose"}) == 30
    reconciler(cluster, settings).reconcile("default", "llama")
    assert cluster.created_jobs == ["llama-checkup-1"]


def test_annotation_and_spec_change_start_new_checkups(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    reconciler(cluster, settings).reconcile("default", "llama")
    cluster.finish("llama-checkup-1", summary("diagnose", "/a", **DIAGNOSIS))
    reconciler(cluster, settings).reconcile("default", "llama")
    cluster.obj(PATIENTS, "llama")["metadata"]["annotations"] = {CHECKUP_ANNOTATION: "2026-11-22"}
    reconciler(cluster, settings).reconcile("default", "llama")
    assert cluster.created_jobs == ["llama-checkup-1", "llama-checkup-2"]
    assert cluster.obj(PATIENTS, "llama")["status"]["checkup"]["trigger"] == "Requested"
    # A spec change while checkup 2 runs stops it: its answer would describe the old spec.
    patient = cluster.obj(PATIENTS, "llama")
    patient["spec"]["budget"] = 5
    patient["metadata"]["generation"] = 2
    reconciler(cluster, settings).reconcile("default", "llama")
    assert cluster.created_jobs[-1] == "llama-checkup-3" and cluster.deleted_jobs == ["llama-checkup-2"]
    assert cluster.obj(PATIENTS, "llama")["status"]["observedGeneration"] == 2


def test_schedule_starts_a_checkup_when_due(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body(checkupSchedule="0 3 * * *"))
    reconciler(cluster, settings).reconcile("default", "llama")
    cluster.finish("llama-checkup-1", summary("diagnose", "/a", **DIAGNOSIS))
    reconciler(cluster, settings).reconcile("default", "llama")
    assert cluster.obj(PATIENTS, "llama")["status"]["nextCheckup"] == "2026-11-23T03:00:00Z"
    reconciler(cluster, settings, NOW + datetime.timedelta(hours=14)).reconcile("default", "llama")
    assert cluster.created_jobs == ["llama-checkup-1"]
    reconciler(cluster, settings, NOW + datetime.timedelta(hours=15, minutes=1)).reconcile("default", "llama")
    assert cluster.created_jobs == ["llama-checkup-1", "llama-checkup-2"]
    assert cluster.obj(PATIENTS, "llama")["status"]["checkup"]["trigger"] == "Scheduled"


def test_failed_diagnosis_is_retried_then_failed_with_its_message(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    reconciler(cluster, settings).reconcile("default", "llama")
    cluster.finish("llama-checkup-1", exit_code=1, message="RuntimeError: out of memory")
    reconciler(cluster, settings).reconcile("default", "llama")
    assert cluster.created_jobs == ["llama-checkup-1", "llama-checkup-1-r1"]
    cluster.finish("llama-checkup-1-r1", exit_code=1, message="RuntimeError: out of memory again")
    for _ in range(2):
        reconciler(cluster, settings).reconcile("default", "llama")
    status = cluster.obj(PATIENTS, "llama")["status"]
    assert status["phase"] == "Failed" and len(cluster.created_jobs) == 2
    diagnosed = find_condition(status["conditions"], "Diagnosed")
    assert diagnosed["reason"] == "DiagnoseFailed" and "out of memory again" in diagnosed["message"]
    assert [reason for _, reason, _ in cluster.events].count("DiagnoseFailed") == 1


def test_recorded_job_that_was_never_created_is_created_once(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    reconciler(cluster, settings).reconcile("default", "llama")
    cluster.jobs.clear()  # the operator died between recording the name and creating the Job
    cluster.obj(PATIENTS, "llama")["status"]["checkup"].pop("created")
    reconciler(cluster, settings).reconcile("default", "llama")
    reconciler(cluster, settings).reconcile("default", "llama")
    assert cluster.created_jobs == ["llama-checkup-1", "llama-checkup-1"] and len(cluster.jobs) == 1


# --- the treatment's stages -------------------------------------------------------------------


def test_a_verify_summary_without_a_verdict_is_never_read_as_one():
    from model_hospital.api.figures import VerifyFigures
    from model_hospital.api.stages import StageSummary
    from model_hospital.controller.results import skills_summary, skill_rows, verification_status

    figures = {"findings": {"safety": {"before": 0.6, "after": 0.1, "target": 0.2, "healed": True}},
               "skills": {"math": {"before": 0.5, "after": 0.5, "degraded": False, "status": "inconclusive"}}}
    # The tables say healed, but no verdict was given: none is derived from them (the protocol ends it Inconclusive).
    assert verification_status(StageSummary(stage="verify", ok=True, summary=figures))["verdict"] is None
    assert VerifyFigures.model_validate(figures).one_line("") == "no verdict"
    assert verification_status(StageSummary(stage="verify", ok=True, summary={**figures, "verdict": "Degraded"}))[
        "verdict"] == "Degraded"
    assert skills_summary(skill_rows(VerifyFigures.model_validate(figures))[0]) == "1 of 1 inconclusive (math)"


def test_a_summary_whose_figures_do_not_read_is_a_failed_stage_not_an_exception():
    text = json.dumps(summary("verify", "/v", verdict="Cured", findings={}))
    outcome = results.job_outcome(finished_job(), [pod_with(text)])
    assert outcome.state == "failed" and not outcome.retryable
    assert "verify stage's summary is not readable" in outcome.message and "verdict" in outcome.message


def run_treatment(cluster, settings, verdicts, moment=NOW, verify_figures=None):
    """Drives a treatment to its end, finishing each Job with a plausible summary (a verify Job with
    `verify_figures` when given); returns the Jobs made."""
    made = []
    for _ in range(80):
        TreatmentReconciler(cluster, settings, clock=lambda: moment).reconcile("default", "llama-safety")
        status = cluster.obj(TREATMENTS, "llama-safety").get("status") or {}
        if status.get("verdict"):
            return made
        record = status["stages"][-1]
        job = record["job"]
        if job in made:
            continue
        made.append(job)
        folder = f"/artifacts/default/llama-safety/{record['stage']}-{record['attempt']}"
        figures = {"diagnose": DIAGNOSIS, "synth": {"sft": 120, "dpo": 80},
                   "train": {"adapter": f"{folder}/adapter"},
                   "verify": {"verdict": verdicts[record["attempt"] - 1],
                              "findings": {"safety": {"before": 0.75, "after": 0.1, "target": 0.2, "healed": True}},
                              "skills": {"math": {"before": 0.5, "after": 0.49, "degraded": False}}}}[record["stage"]]
        if record["stage"] == "verify" and verify_figures is not None:
            figures = verify_figures
        cluster.finish(job, summary(record["stage"], folder, **figures))
    raise AssertionError("the treatment did not finish")


def test_treatment_runs_every_stage_once_and_retries_a_degraded_cure(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body(maxAttempts=3))
    made = run_treatment(cluster, settings, ["Degraded", "Healed"])
    assert made == ["llama-safety-diagnose-1", "llama-safety-synth-1", "llama-safety-train-1", "llama-safety-verify-1",
                    "llama-safety-train-2", "llama-safety-verify-2"]
    assert cluster.created_jobs == made
    status = cluster.obj(TREATMENTS, "llama-safety")["status"]
    assert status["verdict"] == "Healed" and status["stage"] == "done" and status["attempt"] == 2
    assert status["severityBefore"] == "CRITICAL" and status["severityAfter"] == "LOW"
    assert status["skillsSummary"] == "1 kept"
    assert [(record["stage"], record["attempt"], record["phase"]) for record in status["stages"]][-2:] == [
        ("train", 2, "Succeeded"), ("verify", 2, "Succeeded")]
    assert find_condition(status["conditions"], "Ready")["status"] == "True"
    # The second attempt trains with the first verification as its skill report.
    train_2 = cluster.stage_input("llama-safety-train-2")
    assert train_2["skill_report"] == "/artifacts/default/llama-safety/verify-1/verification.json"
    assert train_2["cure"] == "/artifacts/default/llama-safety/synth-1"
    assert cluster.stage_input("llama-safety-train-1")["skill_report"] is None
    assert cluster.stage_input("llama-safety-verify-2")["after"] == "/artifacts/default/llama-safety/train-2/adapter"
    # Finished: more reconciles make nothing.
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    assert cluster.created_jobs == made


def test_out_of_attempts_keeps_the_last_verdict(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body(maxAttempts=1))
    made = run_treatment(cluster, settings, ["NotHealed"])
    assert len(made) == 4
    status = cluster.obj(TREATMENTS, "llama-safety")["status"]
    assert status["verdict"] == "NotHealed" and find_condition(status["conditions"], "Ready")["reason"] == "NotHealed"


def test_fresh_patient_diagnosis_is_reused(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    reconciler(cluster, settings).reconcile("default", "llama")
    cluster.finish("llama-checkup-1", summary("diagnose", "/artifacts/default/llama/diagnose-1", **DIAGNOSIS))
    reconciler(cluster, settings).reconcile("default", "llama")
    cluster.add(TREATMENTS, treatment_body())
    made = run_treatment(cluster, settings, ["Healed"], moment=NOW + datetime.timedelta(minutes=5))
    assert made[0] == "llama-safety-synth-1"
    status = cluster.obj(TREATMENTS, "llama-safety")["status"]
    assert status["stages"][0]["phase"] == "Reused" and status["severityBefore"] == "CRITICAL"
    assert cluster.stage_input("llama-safety-synth-1")["diagnosis"] == "/artifacts/default/llama/diagnose-1/diagnosis.json"


def test_treatment_waits_for_the_patients_running_checkup_instead_of_diagnosing_twice(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body())
    assert reconciler(cluster, settings).reconcile("default", "llama") is False
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    assert cluster.created_jobs == ["llama-checkup-1"]
    diagnosed = find_condition(cluster.obj(TREATMENTS, "llama-safety")["status"]["conditions"], "Diagnosed")
    assert "waiting for the running checkup of llama" in diagnosed["message"]
    cluster.finish("llama-checkup-1", summary("diagnose", "/artifacts/default/llama/diagnose-1", **DIAGNOSIS))
    assert reconciler(cluster, settings).reconcile("default", "llama") is True  # its treatments may go on
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    assert cluster.created_jobs == ["llama-checkup-1", "llama-safety-synth-1"]


def test_stale_patient_diagnosis_is_not_reused(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    reconciler(cluster, settings).reconcile("default", "llama")
    cluster.finish("llama-checkup-1", summary("diagnose", "/a", **DIAGNOSIS))
    reconciler(cluster, settings).reconcile("default", "llama")
    cluster.add(TREATMENTS, treatment_body())
    later = NOW + datetime.timedelta(seconds=settings.diagnosis_max_age_seconds + 60)
    TreatmentReconciler(cluster, settings, clock=lambda: later).reconcile("default", "llama-safety")
    assert cluster.created_jobs[-1] == "llama-safety-diagnose-1"


def test_suspended_treatment_waits_between_stages(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body())
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    cluster.obj(TREATMENTS, "llama-safety")["spec"]["suspend"] = True
    cluster.finish("llama-safety-diagnose-1", summary("diagnose", "/d", **DIAGNOSIS))
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    status = cluster.obj(TREATMENTS, "llama-safety")["status"]
    assert cluster.created_jobs == ["llama-safety-diagnose-1"]
    assert find_condition(status["conditions"], "Suspended")["status"] == "True"
    cluster.obj(TREATMENTS, "llama-safety")["spec"]["suspend"] = False
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    assert cluster.created_jobs[-1] == "llama-safety-synth-1"
    assert find_condition(cluster.obj(TREATMENTS, "llama-safety")["status"]["conditions"], "Suspended")["status"] == "False"


def test_failed_stage_is_retried_then_the_treatment_fails_with_the_message(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body())
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    cluster.finish("llama-safety-diagnose-1", exit_code=1, message="killed")
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    cluster.finish("llama-safety-diagnose-1-r1", exit_code=1, message="ValueError: probe suite is empty")
    for _ in range(2):
        TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    status = cluster.obj(TREATMENTS, "llama-safety")["status"]
    assert cluster.created_jobs == ["llama-safety-diagnose-1", "llama-safety-diagnose-1-r1"]
    assert status["verdict"] == "Failed" and status["stage"] == "failed"
    failed = find_condition(status["conditions"], "Failed")
    assert failed["status"] == "True" and "probe suite is empty" in failed["message"]
    assert status["stages"][0]["phase"] == "Failed" and status["stages"][0]["retries"] == 1


def test_status_of_the_longest_treatment_stays_under_16_kib(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body(maxAttempts=10))
    made = run_treatment(cluster, settings, ["NotHealed"] * 10)
    status = cluster.obj(TREATMENTS, "llama-safety")["status"]
    assert len(made) == 22 and len(status["stages"]) == 22 and status["verdict"] == "NotHealed"
    assert len(json.dumps(status).encode()) < 16 * 1024


def test_treatment_of_a_missing_patient_waits_and_says_why(settings):
    cluster = MemoryCluster()
    cluster.add(TREATMENTS, treatment_body(patient="ghost"))
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    ready = find_condition(cluster.obj(TREATMENTS, "llama-safety")["status"]["conditions"], "Ready")
    assert ready["reason"] == "PatientNotFound" and "ghost" in ready["message"]
    assert cluster.created_jobs == []


def test_treatment_jobs_carry_the_treatment_label_and_output_folder(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body(output={"path": "pvc://healed/llama"}, queueName="q"))
    settings = settings.model_copy(update={"policy": TenancyPolicy(allowed_claims=["healed"])})
    run_treatment(cluster, settings, ["Healed"])
    train = cluster.jobs[("default", "llama-safety-train-1")]
    assert train["metadata"]["labels"]["modelhospital.io/treatment"] == "llama-safety"
    assert train["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "q"
    command = train["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[-1] == "/outputs/healed/llama/attempt-1"
    mounts = {mount["mountPath"]: mount for mount in train["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["/outputs/healed"]["readOnly"] is False


def test_one_claim_for_the_model_and_the_output_is_mounted_at_both_places(settings):
    patient_spec = ModelPatientSpec.model_validate({"model": {"reference": "pvc://store/base"}})
    treatment_spec = TreatmentSpec.model_validate({"patientRef": {"name": "p"}, "output": {"path": "pvc://store/healed"}})
    options = stage_inputs.treatment_job_options("train", treatment_spec, patient_spec)
    assert options.claims == {"/models/store": ("store", True), "/outputs/store": ("store", False)}


# --- the import graph -----------------------------------------------------------------------

FORBIDDEN = ("torch", "transformers", "oumi", "trl", "peft", "vllm")


def test_controller_loads_no_ml_library_in_the_operator_environment():
    python = ROOT / ".venv-operator" / "bin" / "python"
    if not python.exists():
        pytest.skip(".venv-operator is not installed")
    # What `hospital operator run` loads: the whole command line (its parser) and the handlers.
    code = ("import sys, model_hospital.controller, model_hospital.controller.handlers, model_hospital.cli; "
            "model_hospital.cli.build_parser(); "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))")
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_controller_imports_nothing_that_leads_to_ml_code():
    """Walks the controller's imports through the package statically: no stage or clinic code, no ML library."""
    package = ROOT / "operator"
    seen, pending, reached = set(), ["model_hospital.controller"], {}
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = package / Path(*module.split("."))
        source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        if not source.exists():
            continue
        if module == "model_hospital.controller":
            pending.extend(f"{module}.{child.stem}" for child in path.glob("*.py") if child.stem != "__init__")
        for node in ast.walk(ast.parse(source.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
                if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                reached.setdefault(name.split(".")[0], module)
                parts = name.split(".")
                if parts[0] == "model_hospital":
                    # Importing a.b.c runs a/__init__, a/b/__init__ and a/b/c.
                    pending.extend(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    assert "kopf" in reached and "kubernetes" in reached  # the walk reached the handlers and the client
    assert {name: reached[name] for name in reached.keys() & set(FORBIDDEN)} == {}
    assert not {name for name in seen if name.startswith(("model_hospital.stages", "model_hospital.clinic"))}


# --- following a running Job: stage column, queue, progress, the Job cache -------------------


def running(cluster: MemoryCluster, job: str, log: str = "", namespace: str = "default") -> None:
    """The Job controller started the Job's pod and the container logged `log` so far."""
    cluster.jobs[(namespace, job)]["status"] = {"active": 1, "startTime": "2026-11-22T11:50:00Z"}
    cluster.job_pods[(namespace, job)] = [{"metadata": {"name": f"{job}-abcde", "creationTimestamp": "2026-11-22T11:50:00Z"},
                                       "status": {"phase": "Running", "containerStatuses": [
                                           {"name": "stage", "state": {"running": {"startedAt": "2026-11-22T11:50:00Z"}}}]}}]
    cluster.logs[(namespace, f"{job}-abcde")] = log


def test_stage_column_names_the_stage_that_comes_next_not_the_one_that_finished(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body(suspend=True))
    cluster.obj(TREATMENTS, "llama-safety")["spec"]["suspend"] = False
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    assert cluster.obj(TREATMENTS, "llama-safety")["status"]["stage"] == "diagnose"
    cluster.obj(TREATMENTS, "llama-safety")["spec"]["suspend"] = True
    cluster.finish("llama-safety-diagnose-1", summary("diagnose", "/d", **DIAGNOSIS))
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    status = cluster.obj(TREATMENTS, "llama-safety")["status"]
    assert status["stages"][-1]["phase"] == "Succeeded" and status["stage"] == "synth"  # waits to start synth


def test_a_job_kueue_holds_back_sets_queued_until_it_runs(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body(queueName="gpu-queue"))
    patients = reconciler(cluster, settings)
    patients.reconcile("default", "llama")
    job = cluster.jobs[("default", "llama-checkup-1")]
    job["spec"]["suspend"] = True  # what Kueue does to a Job it has not admitted
    patients.reconcile("default", "llama")
    status = cluster.obj(PATIENTS, "llama")["status"]
    queued = find_condition(status["conditions"], "Queued")
    assert (queued["status"], queued["reason"]) == ("True", "WaitingForQueue") and "gpu-queue" in queued["message"]
    assert "queued" in find_condition(status["conditions"], "Diagnosed")["message"]
    job["spec"]["suspend"] = False
    running(cluster, "llama-checkup-1")
    reconciler(cluster, settings).reconcile("default", "llama")
    queued = find_condition(cluster.obj(PATIENTS, "llama")["status"]["conditions"], "Queued")
    assert (queued["status"], queued["reason"]) == ("False", "Admitted")
    # kubectl describe tells it: queued once, admitted once, however often it was reconciled.
    assert [reason for owner, reason, _ in cluster.events if reason in ("Queued", "Admitted")] == ["Queued", "Admitted"]


def test_an_unschedulable_stage_pod_is_queued_for_a_node(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body())
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    cluster.jobs[("default", "llama-safety-diagnose-1")]["status"] = {"active": 1}
    cluster.job_pods[("default", "llama-safety-diagnose-1")] = [{"metadata": {"name": "p"}, "status": {
        "phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                            "message": "0/3 nodes have nvidia.com/gpu"}]}}]
    TreatmentReconciler(cluster, settings, clock=lambda: NOW).reconcile("default", "llama-safety")
    status = cluster.obj(TREATMENTS, "llama-safety")["status"]
    queued = find_condition(status["conditions"], "Queued")
    assert queued["reason"] == "Unschedulable" and "nvidia.com/gpu" in queued["message"]
    assert status["stages"][-1]["message"].startswith("queued: waiting for a node")


def test_progress_lines_of_the_running_pod_fill_status_with_an_eta(settings):
    cluster = MemoryCluster()
    cluster.add(PATIENTS, patient_body())
    cluster.add(TREATMENTS, treatment_body())
    moment = [NOW]
    treatments = TreatmentReconciler(cluster, settings, clock=lambda: moment[0])
    treatments.reconcile("default", "llama-safety")
    running(cluster, "llama-safety-diagnose-1", "loading the model\n[progress] 20/100 probes: safety\n")
    moment[0] = NOW + datetime.timedelta(seconds=settings.progress_seconds)
    treatments.reconcile("default", "llama-safety")
    progress = cluster.obj(TREATMENTS, "llama-safety")["status"]["progress"]
    assert (progress["stage"], progress["done"], progress["total"], progress["unit"], progress["percent"]) == (
        "diagnose", 20, 100, "probes", 20)
    assert progress["message"] == "safety" and progress["eta"] is None  # no pace seen yet

    reads = cluster.pod_reads
    cluster.logs[("default", "llama-safety-diagnose-1-abcde")] += "[progress] 40/100 probes: safety\n"
    moment[0] += datetime.timedelta(seconds=1)
    treatments.reconcile("default", "llama-safety")  # sooner than progress_seconds: pods are not read
    assert cluster.pod_reads == reads and cluster.obj(TREATMENTS, "llama-safety")["status"]["progress"]["done"] == 20

    moment[0] = NOW + datetime.timedelta(seconds=settings.progress_seconds + 20)
    treatments.reconcile("default", "llama-safety")
    progress = cluster.obj(TREATMENTS, "llama-safety")["status"]["progress"]
    # 20 probes in 20 s since the first reading: 60 more take 60 s.
    assert progress["done"] == 40 and progress["eta"] == "2026-11-22T12:01:35Z"
    cluster.finish("llama-safety-diagnose-1", summary("diagnose", "/d", **DIAGNOSIS))
    treatments.reconcile("default", "llama-safety")
    assert "progress" not in cluster.obj(TREATMENTS, "llama-safety")["status"]  # synth started: nothing read yet


def test_progress_lines_are_read_from_the_end_of_a_log():
    from model_hospital.api.stages import parse_progress, progress_line

    log = f"{progress_line(3, 10, 'steps', 'training')}\nnoise\r{progress_line(7, 10, 'steps', 'training')}\rmore\n"
    assert parse_progress(log) == {"done": 7, "total": 10, "unit": "steps", "what": "training"}
    assert parse_progress("[progress] 0/0 steps\nnothing to count") is None
    assert parse_progress("no progress here") is None
