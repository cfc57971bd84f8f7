"""A Treatment that trains on two nodes: the operator's Indexed Job and Service, run by the loopback kubelet.

The runner plays the Job controller for an Indexed Job (tests/harness/indexed.py): both
pods run at once as real `hospital stage train` processes, pod 1 finds pod 0 by the host
name the operator gave it (pointed at 127.0.0.1), and they train the tiny model together
through Oumi's torchrun launcher with gloo.
"""

from __future__ import annotations

import json
import pathlib
import time

import pytest

from tests.harness.kubeclient import KubeError
from tests.test_operator_e2e import hospital, patient, stub_only, treatment  # noqa: F401  (pytest fixture)

pytestmark = pytest.mark.cluster


def train_record(status: dict) -> dict | None:
    return next((record for record in status.get("stages") or [] if record["stage"] == "train"
                 and record.get("phase") in ("Succeeded", "Failed")), None)


@stub_only
def test_a_treatment_on_two_nodes_trains_to_the_end_as_one_indexed_job(hospital):
    namespace, name = hospital.real_namespace, "tiny-two-nodes"
    document = patient(name, model={"reference": "bundled:tiny-random-llama"}, symptoms=["safety"], budget=12)
    assert hospital.apply(document, namespace=namespace).returncode == 0
    hospital.wait_for("modelpatients", name, lambda status: status.get("phase") in ("Diagnosed", "Failed"),
                      namespace=namespace, timeout=600)
    cure = treatment(f"{name}-tx", name, maxAttempts=1, skillBudget=4, budget=12,
                     cure={"minExamples": 4, "maxExamples": 24},
                     training={"method": "sft", "maxSteps": 4, "nodes": 2})
    assert hospital.apply(cure, namespace=namespace).returncode == 0
    body = hospital.wait_for("treatments", f"{name}-tx", train_record, namespace=namespace, timeout=1800)

    record = train_record(body["status"])
    assert record["phase"] == "Succeeded", json.dumps(body["status"])[-3000:]
    job_name = record["job"]
    job = hospital.client.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/{job_name}")
    assert (job["spec"]["completionMode"], job["spec"]["completions"], job["spec"]["parallelism"]) == ("Indexed", 2, 2)
    assert job["status"]["succeeded"] == 2, "both nodes ran to the end"
    service = hospital.client.get(f"/api/v1/namespaces/{namespace}/services/{job_name}")
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"] == {"batch.kubernetes.io/job-name": job_name}

    adapter = body["status"]["artifacts"]["adapter"]
    assert hospital.artifact_exists(f"{adapter}/adapter_model.safetensors", namespace)
    folder = pathlib.Path(adapter).parent
    result = json.loads((folder / "result.json").read_text())
    assert result["ok"] and result["summary"]["distributed"] == {"nodes": 2, "processes_per_node": 1}
    assert (folder / "node-1" / "recipe.yaml").is_file() and not (folder / "node-1" / "result.json").exists()

    hospital.client.delete(f"/apis/modelhospital.io/v1alpha1/namespaces/{namespace}/treatments/{name}-tx")
    deadline = time.monotonic() + hospital.seconds(30)
    while service_exists(hospital, namespace, job_name):
        assert time.monotonic() < deadline, "the train Job's Service outlived its treatment"
        time.sleep(0.3)


def service_exists(hospital, namespace: str, name: str) -> bool:
    try:
        hospital.client.get(f"/api/v1/namespaces/{namespace}/services/{name}")
    except KubeError as error:
        if error.status == 404:
            return False
        raise
    return True
