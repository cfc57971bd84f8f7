"""The train stage as a JobSet or a TrainJob on the loopback API: discovery, creation and following to the end.

The operator runs as in test_operator_e2e (stub stages). The JobSet and TrainJob CRDs are
the vendored fixtures in tests/fixtures/launchers, applied with kubectl half-way, so the
first reconcile sees the kind unserved and the next ones see it installed. The test plays
the JobSet controller as it works: it makes the child Indexed Job `<jobset>-node-0` from
the replicated Job's template (pods labelled with the JobSet's name, subdomain = the
JobSet), the local runner runs its pods, and the test marks the JobSet Completed.

The last test loses a node of a plain two-node train Job half-way (the pod is deleted, as a
drained or lost node's pod is; the loopback kubelet stops its process) and follows the
attempt to its clean failure and the retry.
"""

from __future__ import annotations

import copy
import json
import pathlib
import time

import pytest

from model_hospital.controller import launchers
from tests.test_operator_e2e import hospital, stub_only, treatment  # noqa: F401  (pytest fixture)

pytestmark = pytest.mark.cluster

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "launchers"


def ready_reason(status: dict) -> str | None:
    return next((condition.get("reason") for condition in status.get("conditions") or []
                 if condition["type"] == "Ready"), None)


def launched_train(status: dict) -> dict | None:
    return next((record for record in status.get("stages") or []
                 if record["stage"] == "train" and record.get("created")), None)


def install(hospital, launcher: str) -> None:
    kind = launchers.LAUNCHERS[launcher]
    hospital.kube.kubectl("apply", "-f", str(FIXTURES / f"{kind.resource}.yaml"))
    hospital.kube.kubectl("wait", "--for=condition=Established", f"crd/{kind.resource}", "--timeout=30s")


def path_of(hospital, launcher: str, name: str = "") -> str:
    kind = launchers.LAUNCHERS[launcher]
    return f"/apis/{kind.api_version}/namespaces/{hospital.namespace}/{kind.plural}" + (f"/{name}" if name else "")


def play_jobset_controller(hospital, jobset: dict) -> str:
    """Makes the JobSet's child Job as the JobSet controller would; returns its name."""
    name = jobset["metadata"]["name"]
    (replicated,) = jobset["spec"]["replicatedJobs"]
    template = copy.deepcopy(replicated["template"])
    pod = template["spec"]["template"]
    pod.setdefault("metadata", {}).setdefault("labels", {})[launchers.JOBSET_NAME_LABEL] = name
    pod["spec"]["subdomain"] = name
    child = f"{name}-{replicated['name']}-0"
    hospital.client.create(f"/apis/batch/v1/namespaces/{hospital.namespace}/jobs", {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": child, "namespace": hospital.namespace,
                     "labels": {**template.get("metadata", {}).get("labels", {}), launchers.JOBSET_NAME_LABEL: name},
                     "ownerReferences": [{"apiVersion": jobset["apiVersion"], "kind": "JobSet", "name": name,
                                          "uid": jobset["metadata"]["uid"], "controller": True}]},
        "spec": template["spec"]})
    return child


def wait_for_job(hospital, name: str) -> dict:
    deadline = time.monotonic() + hospital.seconds(60)
    while True:
        job = hospital.client.get(f"/apis/batch/v1/namespaces/{hospital.namespace}/jobs/{name}")
        if any(condition["status"] == "True" for condition in (job.get("status") or {}).get("conditions") or []):
            return job
        assert time.monotonic() < deadline, f"Job {name} never finished: {json.dumps(job.get('status'))}"
        time.sleep(0.3)


def finish(hospital, launcher: str, name: str, condition: str, reason: str, message: str = "") -> None:
    hospital.client.patch(path_of(hospital, launcher, name) + "/status", {"status": {"conditions": [
        {"type": condition, "status": "True", "reason": reason, "message": message,
         "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}]}})


@stub_only
def test_a_jobset_treatment_waits_for_the_crd_then_trains_through_the_jobset_to_a_verdict(hospital):
    name = "js"
    assert hospital.apply(hospital.quickly_diagnosed(name)).returncode == 0
    assert hospital.apply(treatment(f"{name}-tx", name, maxAttempts=1,
                                    training={"method": "sft", "nodes": 2, "launcher": "JobSet"})).returncode == 0
    body = hospital.wait_for("treatments", f"{name}-tx", lambda status: ready_reason(status) == "LauncherUnavailable")
    assert "jobsets.jobset.x-k8s.io" in body["status"]["message"]
    assert hospital.jobs(f"modelhospital.io/treatment={name}-tx,modelhospital.io/stage=train") == []

    install(hospital, "JobSet")
    body = hospital.wait_for("treatments", f"{name}-tx", launched_train, timeout=60)
    record = launched_train(body["status"])
    assert record["launcher"] == "JobSet"
    jobset = hospital.client.get(path_of(hospital, "JobSet", record["job"]))
    assert jobset["metadata"]["ownerReferences"][0]["uid"] == body["metadata"]["uid"]
    assert hospital.jobs(f"modelhospital.io/treatment={name}-tx,modelhospital.io/stage=train") == [], \
        "the operator makes no Job of its own: the JobSet controller does"

    child = wait_for_job(hospital, play_jobset_controller(hospital, jobset))
    assert child["status"].get("succeeded") == 2, json.dumps(child["status"])
    finish(hospital, "JobSet", record["job"], "Completed", "AllJobsCompleted")
    body = hospital.wait_for("treatments", f"{name}-tx", lambda status: status.get("verdict"), timeout=60)
    assert body["status"]["verdict"] == "Healed", json.dumps(body["status"])[-2000:]
    train = next(record for record in body["status"]["stages"] if record["stage"] == "train")
    assert train["phase"] == "Succeeded" and body["status"]["artifacts"]["adapter"].endswith("/adapter")
    pods = hospital.client.get(f"/api/v1/namespaces/{hospital.namespace}/pods",
                               labelSelector=launchers.pod_selector(record["job"], record["launcher"]))["items"]
    assert pods == [], "a succeeded JobSet's pods are removed at once, as a Job's are: " \
                       f"{[pod['metadata']['name'] for pod in pods]}"


@stub_only
def test_a_failed_trainjob_is_retried_as_a_new_trainjob_then_fails_the_treatment(hospital):
    name = "tj"
    install(hospital, "TrainJob")
    assert hospital.apply(hospital.quickly_diagnosed(name)).returncode == 0
    assert hospital.apply(treatment(f"{name}-tx", name, maxAttempts=1,
                                    training={"method": "sft", "nodes": 2, "launcher": "TrainJob"})).returncode == 0
    body = hospital.wait_for("treatments", f"{name}-tx", launched_train, timeout=60)
    first = launched_train(body["status"])["job"]
    trainjob = hospital.client.get(path_of(hospital, "TrainJob", first))
    assert trainjob["spec"]["trainer"]["numNodes"] == 2
    finish(hospital, "TrainJob", first, "Failed", "FailedJobs", "jobset failed: node 1 lost")
    body = hospital.wait_for("treatments", f"{name}-tx",
                             lambda status: (launched_train(status) or {}).get("job", first) != first, timeout=60)
    second = launched_train(body["status"])["job"]
    assert second == f"{first}-r1"
    hospital.client.get(path_of(hospital, "TrainJob", second))  # a new TrainJob, not the old one again
    finish(hospital, "TrainJob", second, "Failed", "FailedJobs", "jobset failed: node 0 lost")
    body = hospital.wait_for("treatments", f"{name}-tx", lambda status: status.get("verdict"), timeout=60)
    assert body["status"]["verdict"] == "Failed"
    assert "node 0 lost" in body["status"]["message"]


def train_running_on_every_pod(status: dict) -> dict | None:
    record = (status.get("stages") or [{}])[-1]
    return record if record.get("stage") == "train" and str(record.get("pods", "")).startswith("2 of 2 pods running") \
        else None


@stub_only
def test_a_node_lost_mid_run_fails_the_attempt_cleanly_and_the_retry_starts_every_node_afresh(hospital):
    name = "lost"
    hospital.script(f"{name}-tx/train", sleep=8)
    assert hospital.apply(hospital.quickly_diagnosed(name)).returncode == 0
    assert hospital.apply(treatment(f"{name}-tx", name, maxAttempts=1,
                                    training={"method": "sft", "nodes": 2})).returncode == 0
    body = hospital.wait_for("treatments", f"{name}-tx", train_running_on_every_pod, timeout=60)
    first = train_running_on_every_pod(body["status"])["job"]
    pods = hospital.client.get(f"/api/v1/namespaces/{hospital.namespace}/pods", labelSelector=f"job-name={first}")
    [node_1] = [pod["metadata"]["name"] for pod in pods["items"]
                if pod["metadata"]["annotations"].get("batch.kubernetes.io/job-completion-index") == "1"]
    hospital.client.delete(f"/api/v1/namespaces/{hospital.namespace}/pods/{node_1}")

    job = wait_for_job(hospital, first)
    assert [condition["type"] for condition in job["status"]["conditions"]][-1] == "Failed"
    assert job["status"]["failed"] == 2, "node 0 was stopped with the lost node, not left waiting for it"
    body = hospital.wait_for("treatments", f"{name}-tx", lambda status: status.get("verdict"), timeout=90)
    train = next(record for record in body["status"]["stages"] if record["stage"] == "train")
    assert (train["job"], train["retries"], train["phase"]) == (f"{first}-r1", 1, "Succeeded")
    assert body["status"]["verdict"] == "Healed"
    assert hospital.stage_runs(f"{name}-tx").count("train-1") == 4, "two nodes, twice: every node started afresh"
