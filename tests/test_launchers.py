"""The train stage as a JobSet or a TrainJob: the objects against their schemas, and the stage machine with them.

The schemas are the vendored CRD fixtures in tests/fixtures/launchers (written from the
JobSet v1alpha2 and Trainer v1alpha1 APIs): unknown fields are what the API server
would prune, so a misspelt field fails here. The Job template inside a JobSet and the
core types inside a TrainJob are checked by kubernetes-validate as the built-in kinds.
"""

from __future__ import annotations

import copy
import pathlib

import kubernetes_validate
import pytest
import yaml

from model_hospital.controller import jobs, launchers, stage_inputs
from model_hospital.controller.kube import PATIENTS, TREATMENTS
from model_hospital.controller.settings import OperatorSettings
from model_hospital.controller.status import find_condition
from model_hospital.controller.treatments import TreatmentReconciler
from tests.harness.schema import nullable_to_draft4, prune_object, validation_causes
from tests.test_distributed_jobs import OWNER, _patient, train_job, treatment
from test_controller_units import NOW, MemoryCluster, patient_body, summary, treatment_body

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "launchers"
CRDS = {kind.kind: FIXTURES / f"{kind.resource}.yaml" for kind in launchers.LAUNCHERS.values()}


def open_api(kind: str) -> dict:
    crd = yaml.safe_load(CRDS[kind].read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def assert_valid(manifest: dict) -> None:
    schema = open_api(manifest["kind"])
    _, pruned = prune_object(manifest, schema)
    assert pruned == [], f"fields {manifest['kind']} does not have: {pruned}"
    assert validation_causes(manifest, nullable_to_draft4(schema)) == []


def stage_job(**training) -> dict:
    """The train stage's Job as the reconciler builds it before handing it to a launcher (one pod, no index)."""
    spec = treatment(**training)
    _, _, stage_input = train_job(spec)
    return jobs.stage_job(OWNER, "train", 2, stage_input, OperatorSettings(),
                          stage_inputs.treatment_job_options("train", spec, _patient()))


def test_a_jobset_runs_the_stage_job_as_one_indexed_job_whose_node_zero_its_service_names():
    job = stage_job(nodes=2, gpusPerNode=4, launcher="JobSet")
    jobset = launchers.launcher_object("JobSet", job, 2, "torch-distributed")
    assert_valid(jobset)
    name = jobset["metadata"]["name"]
    assert name == job["metadata"]["name"] and jobset["metadata"]["ownerReferences"][0]["uid"] == OWNER.uid
    (replicated,) = jobset["spec"]["replicatedJobs"]
    child = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": f"{name}-node-0", "namespace": "ml"},
             **replicated["template"]}
    assert kubernetes_validate.validate(child, "1.32", strict=True), "the template is a real JobSpec"
    spec = replicated["template"]["spec"]
    assert (replicated["replicas"], spec["completionMode"], spec["completions"], spec["parallelism"]) == (1, "Indexed", 2, 2)
    assert spec["backoffLimit"] == 0 and jobset["spec"]["failurePolicy"] == {"maxRestarts": 0}, \
        "a lost node fails the attempt; the operator's retry restarts every node"
    pod_spec = spec["template"]["spec"]
    assert "subdomain" not in pod_spec, "the JobSet makes its own Service and subdomain"
    env = {variable["name"]: variable.get("value") for variable in pod_spec["containers"][0]["env"]}
    assert env["MASTER_ADDR"] == f"{name}-node-0-0.{name}"
    assert pod_spec["containers"][0]["volumeMounts"] == job["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert jobset["spec"]["network"] == {"enableDNSHostnames": True, "publishNotReadyAddresses": True}


def test_a_trainjob_carries_the_stage_container_volumes_and_scheduling_to_the_runtime_node_job():
    job = stage_job(nodes=3, gpusPerNode=8, launcher="TrainJob")
    job["spec"]["template"]["spec"]["nodeSelector"] = {"gpu": "h100"}
    trainjob = launchers.launcher_object("TrainJob", job, 3, "torch-distributed")
    assert_valid(trainjob)
    name = trainjob["metadata"]["name"]
    spec = trainjob["spec"]
    assert spec["runtimeRef"] == {"name": "torch-distributed", "apiGroup": "trainer.kubeflow.org",
                                  "kind": "ClusterTrainingRuntime"}
    container = job["spec"]["template"]["spec"]["containers"][0]
    trainer = spec["trainer"]
    assert (trainer["image"], trainer["command"], trainer["numNodes"]) == (container["image"], container["command"], 3)
    assert trainer["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == "8"
    env = {variable["name"]: variable.get("value") for variable in trainer["env"]}
    assert env["MASTER_ADDR"] == f"{name}-node-0-0.{name}" and env["DO_NOT_TRACK"] == "1"
    (override,) = spec["podTemplateOverrides"]
    assert override["targetJobs"] == [{"name": "node"}]
    assert override["spec"]["volumes"] == job["spec"]["template"]["spec"]["volumes"]
    assert override["spec"]["containers"] == [{"name": "node", "volumeMounts": container["volumeMounts"]}]
    assert override["spec"]["nodeSelector"] == {"gpu": "h100"}
    # The core types inside it are the built-in ones: a pod made of them is valid.
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "node", "image": trainer["image"], "env": trainer["env"],
                        "resources": trainer["resourcesPerNode"], "volumeMounts": container["volumeMounts"]}],
        "volumes": override["spec"]["volumes"], "nodeSelector": override["spec"]["nodeSelector"]}}
    assert kubernetes_validate.validate(pod, "1.32", strict=True)


def test_a_misspelt_launcher_field_would_be_pruned_and_is_caught():
    jobset = launchers.launcher_object("JobSet", stage_job(nodes=2, launcher="JobSet"), 2, "r")
    jobset["spec"]["network"]["enableDnsHostnames"] = True
    with pytest.raises(AssertionError, match="enableDnsHostnames"):
        assert_valid(jobset)


@pytest.mark.parametrize("kind, done, state", [("JobSet", "Completed", "Complete"), ("JobSet", "Failed", "Failed"),
                                               ("TrainJob", "Complete", "Complete"), ("TrainJob", "Failed", "Failed")])
def test_the_launchers_conditions_read_as_a_jobs(kind, done, state):
    launched = {"metadata": {"name": "x", "creationTimestamp": "2026-11-22T11:50:00Z"}, "status": {"conditions": [
        {"type": "Suspended", "status": "False"},
        {"type": done, "status": "True", "reason": "R", "lastTransitionTime": "2026-11-22T11:59:00Z"}]}}
    job = launchers.as_job(launched)
    assert [condition["type"] for condition in job["status"]["conditions"]] == [state]
    assert job["spec"]["completionMode"] == "Indexed", "node 0 reports, as for our Indexed Job"
    assert ("completionTime" in job["status"]) == (state == "Complete")


def test_active_child_jobs_make_the_launcher_running():
    assert launchers.as_job({"metadata": {}, "status": {"replicatedJobsStatus": [{"name": "node", "active": 1}]}}
                            )["status"]["active"] == 1
    assert "active" not in launchers.as_job({"metadata": {}, "status": {}})["status"]


# --- the stage machine with a launcher ----------------------------------------------------------


class LauncherCluster(MemoryCluster):
    """The in-memory cluster with discovery, custom objects and pods by label."""

    def __init__(self, served: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.served = set(served)
        self.custom: dict[tuple[str, str, str], dict] = {}
        self.pods_by_label: dict[str, list[dict]] = {}

    def serves(self, group, version, plural):
        return f"{plural}.{group}" in self.served

    def get_custom(self, group, version, plural, namespace, name):
        found = self.custom.get((plural, namespace, name))
        return copy.deepcopy(found) if found else None

    def pods(self, namespace, selector):
        if selector in self.pods_by_label:
            return copy.deepcopy(self.pods_by_label[selector])
        return super().pods(namespace, selector)  # a Job's

    def create(self, manifest):
        if manifest["kind"] in launchers.LAUNCHERS:
            key = (launchers.LAUNCHERS[manifest["kind"]].plural, manifest["metadata"]["namespace"],
                   manifest["metadata"]["name"])
            if key in self.custom:
                return False
            self.custom[key] = copy.deepcopy(manifest)
            return True
        return super().create(manifest)


def cured_treatment(cluster, launcher: str) -> None:
    """A treatment whose diagnosis and cure are done: its next stage is train."""
    cluster.add(PATIENTS, patient_body())
    body = treatment_body(training={"launcher": launcher, "nodes": 2})
    body["status"] = {"attempt": 1, "artifacts": {"diagnosis": "/a/d/diagnosis.json", "cure": "/a/c"}, "stages": [
        {"stage": stage, "attempt": 1, "job": f"llama-safety-{stage}-1", "phase": "Succeeded"}
        for stage in ("diagnose", "synth")]}
    cluster.add(TREATMENTS, body)


def reconcile(cluster) -> dict:
    TreatmentReconciler(cluster, OperatorSettings(stage_retries=0), clock=lambda: NOW).reconcile("default", "llama-safety")
    return cluster.obj(TREATMENTS, "llama-safety")["status"]


@pytest.mark.parametrize("launcher", ["JobSet", "TrainJob"])
def test_a_launcher_the_cluster_does_not_serve_starts_nothing_and_says_so(launcher):
    cluster = LauncherCluster()
    cured_treatment(cluster, launcher)
    status = reconcile(cluster)
    ready = find_condition(status["conditions"], "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "LauncherUnavailable")
    assert launchers.LAUNCHERS[launcher].resource in ready["message"]
    assert cluster.created_jobs == [] and cluster.custom == {} and cluster.config_maps == {}
    assert status["stages"][-1]["stage"] == "synth", "no train record: nothing was started"
    cluster.served.add(launchers.LAUNCHERS[launcher].resource)  # the controller was installed since
    status = reconcile(cluster)
    assert status["stages"][-1] == {**status["stages"][-1], "stage": "train", "launcher": launcher, "created": True}
    assert list(cluster.custom) == [(launchers.LAUNCHERS[launcher].plural, "default", "llama-safety-train-1")]


def node_pod(name: str, index: str, exit_code: int, message: str, container: str = jobs.CONTAINER) -> dict:
    return {"metadata": {"name": f"{name}-node-0-{index}-x", "creationTimestamp": "2026-11-22T11:50:00Z",
                         "annotations": {jobs.COMPLETION_INDEX: index}},
            "status": {"containerStatuses": [{"name": container, "state": {"terminated": {
                "exitCode": exit_code, "message": message, "finishedAt": "2026-11-22T11:59:00Z"}}}]}}


@pytest.mark.parametrize("launcher, done, container", [("JobSet", "Completed", jobs.CONTAINER),
                                                       ("TrainJob", "Complete", launchers.TRAINER_CONTAINER)])
def test_a_completed_launcher_gives_node_zeros_result(launcher, done, container):
    import json

    cluster = LauncherCluster(served=tuple(kind.resource for kind in launchers.LAUNCHERS.values()))
    cured_treatment(cluster, launcher)
    reconcile(cluster)
    name = "llama-safety-train-1"
    key = (launchers.LAUNCHERS[launcher].plural, "default", name)
    cluster.custom[key]["status"] = {"conditions": [{"type": done, "status": "True",
                                                     "lastTransitionTime": "2026-11-22T11:59:00Z"}]}
    result = summary("train", "/a/t", adapter="/a/t/adapter")
    cluster.pods_by_label[launchers.pod_selector(name, launcher)] = [node_pod(name, "1", 0, "", container),
                                                                     node_pod(name, "0", 0, json.dumps(result), container)]
    status = reconcile(cluster)
    train = next(record for record in status["stages"] if record["stage"] == "train")
    assert train["phase"] == "Succeeded" and status["artifacts"]["adapter"] == "/a/t/adapter"


def test_a_failed_jobset_fails_the_stage_with_the_failed_nodes_words():
    cluster = LauncherCluster(served=("jobsets.jobset.x-k8s.io",))
    cured_treatment(cluster, "JobSet")
    reconcile(cluster)
    name = "llama-safety-train-1"
    cluster.custom[("jobsets", "default", name)]["status"] = {"conditions": [
        {"type": "Failed", "status": "True", "reason": "FailedJobs", "lastTransitionTime": "2026-11-22T11:59:00Z"}]}
    cluster.pods_by_label[launchers.pod_selector(name, "JobSet")] = [node_pod(name, "0", 143, "stopped"),
                                                                     node_pod(name, "1", 1, "gloo: connection reset by peer")]
    status = reconcile(cluster)
    assert status["verdict"] == "Failed"
    assert "gloo: connection reset by peer" in find_condition(status["conditions"], "Trained")["message"]


# --- distributed edges: names, the shared claim, every pod -------------------------------------

LONG = "a-very-long-treatment-name-for-the-seventy-billion-model-xx"  # 58 characters


@pytest.mark.parametrize("launcher, nodes, host", [(None, 12, "{name}-11"), ("JobSet", 2, "{name}-node-0-1"),
                                                   ("TrainJob", 64, "{name}-node-0-63")])
def test_names_near_63_characters_leave_room_for_every_pods_host_name(launcher, nodes, host):
    training = {"nodes": nodes, **({"launcher": launcher} if launcher else {})}
    spec = treatment(**training)
    names = {launchers.stage_job_name(spec, LONG, "train", attempt, retry) for attempt in (1, 2) for retry in (0, 1, 2)}
    assert len(names) == 6, "every attempt and retry keeps its own name"
    for name in names:
        assert len(host.format(name=name)) <= 63 and len(name) <= 63
        assert name[0].isalpha()
    assert launchers.stage_job_name(spec, LONG, "verify", 1) == jobs.job_name(LONG, "verify", 1), "one pod: as ever"
    assert launchers.stage_job_name(treatment(nodes=2), "7b-safety", "train", 1) == "t-7b-safety-train-1", \
        "the Service named after it is a DNS-1035 label"


def test_a_long_named_two_node_treatment_creates_its_job_and_service_under_the_recorded_name():
    cluster = LauncherCluster()
    cluster.add(PATIENTS, patient_body())
    body = treatment_body(name=LONG, training={"nodes": 2})
    body["status"] = {"attempt": 1, "artifacts": {"diagnosis": "/a/d/diagnosis.json", "cure": "/a/c"}, "stages": [
        {"stage": stage, "attempt": 1, "job": f"x-{stage}-1", "phase": "Succeeded"} for stage in ("diagnose", "synth")]}
    cluster.add(TREATMENTS, body)
    TreatmentReconciler(cluster, OperatorSettings(), clock=lambda: NOW).reconcile("default", LONG)
    record = cluster.obj(TREATMENTS, LONG)["status"]["stages"][-1]
    assert cluster.created_jobs == [record["job"]] and len(f"{record['job']}-1") <= 63
    job = cluster.jobs[("default", record["job"])]
    env = {variable["name"]: variable.get("value") for variable in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MASTER_ADDR"] == f"{record['job']}-0.{record['job']}"
    assert kubernetes_validate.validate(job, "1.32", strict=True)


def claim(*modes: str, bound: tuple[str, ...] | None = None) -> dict:
    body = {"metadata": {"name": "model-hospital-artifacts"}, "spec": {"accessModes": list(modes)}}
    if bound is not None:
        body["status"] = {"phase": "Bound", "accessModes": list(bound)}
    return body


def test_two_nodes_on_a_claim_that_is_not_read_write_many_start_no_pods_and_say_so():
    cluster = LauncherCluster()
    cured_treatment(cluster, "Job")
    cluster.claims[("default", OperatorSettings().artifact_claim)] = claim("ReadWriteOnce")
    status = reconcile(cluster)
    ready = find_condition(status["conditions"], "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ClaimNotShared")
    assert "ReadWriteOnce" in ready["message"] and "ReadWriteMany" in ready["message"]
    assert cluster.created_jobs == [] and status["stages"][-1]["stage"] == "synth"
    cluster.claims[("default", OperatorSettings().artifact_claim)] = claim("ReadWriteMany", bound=("ReadWriteMany",))
    reconcile(cluster)
    assert cluster.created_jobs == ["llama-safety-train-1"]


def test_the_claims_bound_modes_decide_and_one_node_needs_no_shared_claim():
    assert launchers.shared_claim_problem(claim("ReadWriteMany", bound=("ReadWriteOnce",)), 2)
    assert launchers.shared_claim_problem(claim("ReadWriteOnce"), 1) is None
    assert launchers.shared_claim_problem(None, 4) is None, "an absent claim is the stuck pod's to report"


def test_status_says_how_every_pod_of_a_running_distributed_stage_stands():
    cluster = LauncherCluster()
    cured_treatment(cluster, "Job")
    reconcile(cluster)
    name = "llama-safety-train-1"
    cluster.jobs[("default", name)]["status"] = {"active": 2, "startTime": "2026-11-22T11:50:00Z"}
    running = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    cluster.job_pods[("default", name)] = [
        {"metadata": {"name": f"{name}-0-a", "annotations": {jobs.COMPLETION_INDEX: "0"}}, "status": running},
        {"metadata": {"name": f"{name}-1-b", "annotations": {jobs.COMPLETION_INDEX: "1"}},
         "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]}}]
    record = reconcile(cluster)["stages"][-1]
    assert record["phase"] == "Running" and record["pods"] == "1 of 2 pods running (1 ready), 1 pending"
