"""A distributed train stage as Kubernetes objects: an Indexed Job, its headless Service, and who reports."""

from __future__ import annotations

import kubernetes_validate

from model_hospital.api.resources import TreatmentSpec
from model_hospital.api.stages import TrainInput
from model_hospital.controller import jobs, results, stage_inputs
from model_hospital.controller.settings import OperatorSettings

OWNER = jobs.Owner(kind="Treatment", name="llama-safety", namespace="ml", uid="u-7", patient="llama")


def treatment(**training) -> TreatmentSpec:
    return TreatmentSpec.model_validate({"patientRef": {"name": "llama"}, "training": training})


def train_job(spec: TreatmentSpec, retry: int = 0) -> tuple[dict, dict | None, TrainInput]:
    """The train Job (and Service) the operator makes for attempt 2 of `spec`, as `_create_job` does."""
    stage_input = stage_inputs.treatment_input("train", 2, spec, _patient(), {
        "diagnosis": "/a/diagnosis.json", "cure": "/a/cure", "verification": "/a/verify-1/verification.json"})
    distributed = stage_input.distributed
    job = jobs.stage_job(OWNER, "train", 2, stage_input, OperatorSettings(), stage_inputs.treatment_job_options(
        "train", spec, _patient()), retry=retry)
    if distributed is None or distributed.nodes == 1:
        return job, None, stage_input
    job = jobs.distributed_job(job, distributed.nodes)
    return job, jobs.rendezvous_service(job), stage_input


def _patient():
    from model_hospital.api.resources import ModelPatientSpec

    return ModelPatientSpec.model_validate({"model": {"reference": "bundled:tiny-random-llama"}})


def test_two_nodes_make_an_indexed_job_whose_pods_meet_at_pod_zero_through_a_headless_service():
    job, service, stage_input = train_job(treatment(nodes=2, gpusPerNode=4))
    assert kubernetes_validate.validate(job, "1.32", strict=True)
    assert kubernetes_validate.validate(service, "1.32", strict=True)
    name = job["metadata"]["name"]
    assert name == "llama-safety-train-2"
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 2, 2)
    assert spec["backoffLimit"] == 0, "a lost node fails the attempt: the stage retry starts every node afresh"
    assert all(rule["action"] == "FailJob" for rule in spec["podFailurePolicy"]["rules"]), \
        "a disrupted node is not ignored and replaced alone"
    assert spec["template"]["spec"]["subdomain"] == service["metadata"]["name"] == name
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"]
    assert service["spec"]["selector"] == {"batch.kubernetes.io/job-name": name}
    assert service["metadata"]["ownerReferences"] == job["metadata"]["ownerReferences"], "goes with the treatment"
    assert (stage_input.distributed.nodes, stage_input.distributed.processes_per_node) == (2, 4)
    assert stage_input.distributed.master_addr is None, "the Job, not the input, says where the nodes meet"
    container = spec["template"]["spec"]["containers"][0]
    env = {variable["name"]: variable.get("value") for variable in container["env"]}
    assert env["MASTER_ADDR"] == f"{name}-0.{name}"
    assert int(env["MASTER_PORT"]) == service["spec"]["ports"][0]["port"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "4", "each node asks for its GPUs"


def test_a_retried_attempt_meets_at_its_own_jobs_pod_zero():
    job, service, _ = train_job(treatment(nodes=3), retry=1)
    assert job["metadata"]["name"] == service["metadata"]["name"] == "llama-safety-train-2-r1"
    env = {variable["name"]: variable.get("value") for variable in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MASTER_ADDR"] == "llama-safety-train-2-r1-0.llama-safety-train-2-r1"


def test_one_node_stays_a_plain_job_and_one_node_with_gpus_runs_the_launcher_on_loopback():
    job, service, stage_input = train_job(treatment())
    assert service is None and stage_input.distributed is None and "completionMode" not in job["spec"]
    job, service, stage_input = train_job(treatment(gpusPerNode=2))
    assert service is None and "completionMode" not in job["spec"]
    assert stage_input.distributed.processes_per_node == 2 and stage_input.distributed.nodes == 1


def pod(index: str | None, exit_code: int | None, message: str = "") -> dict:
    annotations = {jobs.COMPLETION_INDEX: index} if index is not None else {}
    statuses = [] if exit_code is None else [{"name": jobs.CONTAINER, "state": {"terminated": {
        "exitCode": exit_code, "message": message}}}]
    return {"metadata": {"name": f"p{index}", "annotations": annotations}, "status": {"containerStatuses": statuses}}


def test_node_zero_reports_a_distributed_stage_and_the_node_that_failed_says_why():
    indexed = {"spec": {"completionMode": "Indexed"}, "status": {}}
    node0, node1 = pod("0", 0, '{"ok": true}'), pod("1", 0)
    assert results.reporting_pods(indexed, [node1, node0]) == [node0]
    failed = {"spec": {"completionMode": "Indexed"}, "status": {"conditions": [
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}}
    stopped, crashed = pod("0", 143, "stopped"), pod("1", 1, "gloo: connection reset")
    assert results.reporting_pods(failed, [crashed, stopped]) == [crashed]
    plain = {"spec": {}, "status": {}}
    assert results.reporting_pods(plain, [pod(None, 1), pod(None, 0)]) == [pod(None, 1), pod(None, 0)]
