"""The local runner runs Jobs like the Job controller and the kubelet would, seen through kubectl."""

import json
import pathlib
import sys
import time
from typing import Any

import pytest

from tests.harness.cluster import LoopbackCluster
from tests.harness.kubeclient import job_finished
from tests.harness.kubelet import rewrite_path
from tests.harness.runner import LocalRunner

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def runner(loopback: LoopbackCluster, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("runner")
    local = LocalRunner(loopback.kubeconfig, root=root, parallelism=2).start()
    yield local
    local.stop()
    assert local.errors == []


def job(name: str, code: str, **spec: Any) -> dict[str, Any]:
    container = {"name": "stage", "image": "model-hospital:test", "command": ["python", "-c", code]}
    container.update(spec.pop("container", {}))
    volumes = spec.pop("volumes", [])
    return {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"backoffLimit": 0, **spec, "template": {"spec": {
            "restartPolicy": "Never", "containers": [container], "volumes": volumes}}},
    }


def submit(cluster: LoopbackCluster, manifest: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))


def finish(cluster: LoopbackCluster, name: str, timeout: float = 30) -> dict[str, Any]:
    """Return the Job once it carries a Complete or Failed condition (whichever comes)."""
    deadline = time.monotonic() + timeout
    while True:
        found = json.loads(cluster.kubectl("get", "job", name, "-o", "json").stdout)
        if job_finished(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def finished_as(found: dict[str, Any]) -> dict[str, Any]:
    """Return the Job's final (Complete or Failed) condition."""
    return next(c for c in found["status"].get("conditions", []) if c["type"] in ("Complete", "Failed"))


def pods_of(cluster: LoopbackCluster, name: str) -> list[dict[str, Any]]:
    listing = json.loads(cluster.kubectl("get", "pods", "-l", f"job-name={name}", "-o", "json").stdout)
    return sorted(listing["items"], key=lambda pod: int(pod["metadata"]["resourceVersion"]))


def terminated(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["status"]["containerStatuses"][0]["state"]["terminated"]


WRITE_MESSAGE = (
    "import os, pathlib; print('diagnosing'); "
    "pathlib.Path(os.environ['HOSPITAL_TERMINATION_LOG']).write_text('{\"severity\": \"low\"}')"
)


def test_job_completes_with_the_termination_message_on_its_pod(loopback, runner):
    submit(loopback, job("diagnose-ok", WRITE_MESSAGE))
    loopback.kubectl("wait", "--for=condition=Complete", "job/diagnose-ok", "--timeout=30s")
    status = finish(loopback, "diagnose-ok")["status"]
    assert status["succeeded"] == 1 and status["active"] == 0 and status["completionTime"]
    (pod,) = pods_of(loopback, "diagnose-ok")
    assert pod["status"]["phase"] == "Succeeded"
    assert terminated(pod)["exitCode"] == 0 and terminated(pod)["reason"] == "Completed"
    assert json.loads(terminated(pod)["message"]) == {"severity": "low"}
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
    assert loopback.kubectl("logs", pod["metadata"]["name"]).stdout == "diagnosing\n"


def test_failing_job_is_retried_then_failed_with_the_log_tail(loopback, runner):
    code = "import sys; print('loading model'); print('CUDA out of memory', file=sys.stderr); sys.exit(3)"
    submit(loopback, job("diagnose-bad", code, backoffLimit=2,
                         container={"terminationMessagePolicy": "FallbackToLogsOnError"}))
    found = finish(loopback, "diagnose-bad")
    assert finished_as(found)["type"] == "Failed" and finished_as(found)["reason"] == "BackoffLimitExceeded"
    assert found["status"]["failed"] == 3
    pods = pods_of(loopback, "diagnose-bad")
    assert len({pod["metadata"]["name"] for pod in pods}) == 3
    assert all(pod["status"]["phase"] == "Failed" for pod in pods)
    assert terminated(pods[-1])["exitCode"] == 3
    assert "CUDA out of memory" in terminated(pods[-1])["message"]


def test_config_map_volume_and_secret_env_reach_the_process(loopback, runner):
    loopback.kubectl("create", "configmap", "recipe", "--from-literal=epochs=3")
    loopback.kubectl("create", "secret", "generic", "hf", "--from-literal=token=hf_secret_value")
    code = (
        "import os, pathlib, sys; "
        "epochs = pathlib.Path(sys.argv[1]).read_text(); "
        "pathlib.Path(os.environ['OUT']).write_text(epochs + ':' + os.environ['HF_TOKEN'] + ':' + os.environ['POD'])"
    )
    manifest = job("train-io", code, container={
        "args": ["/etc/recipe/epochs"],
        "env": [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}},
                {"name": "OUT", "value": "/artifacts/out.txt"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "volumeMounts": [{"name": "recipe", "mountPath": "/etc/recipe"},
                         {"name": "artifacts", "mountPath": "/artifacts"}],
    }, volumes=[{"name": "recipe", "configMap": {"name": "recipe"}},
                {"name": "artifacts", "persistentVolumeClaim": {"claimName": "hospital-artifacts"}}])
    submit(loopback, manifest)
    assert finished_as(finish(loopback, "train-io"))["type"] == "Complete"
    (pod,) = pods_of(loopback, "train-io")
    written = (runner.root / "pvc" / "hospital-artifacts" / "out.txt").read_text()
    assert written == f"3:hf_secret_value:{pod['metadata']['name']}"


def test_deadline_kills_the_process_and_fails_the_job(loopback, runner):
    submit(loopback, job("slow-train", "import time; time.sleep(60)", activeDeadlineSeconds=1, backoffLimit=3))
    condition = finished_as(finish(loopback, "slow-train"))
    assert condition["type"] == "Failed" and condition["reason"] == "DeadlineExceeded"
    (pod,) = pods_of(loopback, "slow-train")
    assert pod["status"]["phase"] == "Failed" and terminated(pod)["exitCode"] != 0


def test_finished_job_with_ttl_is_deleted_with_its_pods(loopback, runner):
    submit(loopback, job("short-lived", "print('done')", ttlSecondsAfterFinished=0))
    loopback.kubectl("wait", "--for=delete", "job/short-lived", "--timeout=30s")
    assert pods_of(loopback, "short-lived") == []


def test_missing_secret_fails_the_pod_with_a_config_error(loopback, runner):
    manifest = job("no-secret", "print('never')", container={
        "env": [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "token"}}}]})
    submit(loopback, manifest)
    assert finished_as(finish(loopback, "no-secret"))["type"] == "Failed"
    (pod,) = pods_of(loopback, "no-secret")
    assert terminated(pod)["reason"] == "CreateContainerConfigError"
    assert 'secret "absent" not found' in terminated(pod)["message"]


def test_container_paths_map_to_local_folders():
    mounts = [("/artifacts", pathlib.Path("/tmp/pvc/a")), ("/dev/termination-log", pathlib.Path("/tmp/t"))]
    assert rewrite_path("/artifacts/run-1/result.json", mounts) == "/tmp/pvc/a/run-1/result.json"
    assert rewrite_path("--output=/artifacts/x", mounts) == "--output=/tmp/pvc/a/x"
    assert rewrite_path("/artifactsX", mounts) == "/artifactsX"
    assert rewrite_path("/dev/termination-log", mounts) == "/tmp/t"
    assert sys.executable  # the runner resolves `python` and `hospital` next to this interpreter


def test_suspended_job_waits_until_resumed(loopback, runner):
    submit(loopback, job("held-back", "print('resumed')", suspend=True))
    time.sleep(0.5)  # the runner has seen the Job by now and must leave it alone
    assert pods_of(loopback, "held-back") == []
    loopback.kubectl("patch", "job", "held-back", "--type=merge", "-p", '{"spec": {"suspend": false}}')
    assert finished_as(finish(loopback, "held-back"))["type"] == "Complete"


def test_kubectl_shows_job_and_pod_state_and_logs(loopback, runner):
    submit(loopback, job("shown", "print('hello from the ward')"))
    finish(loopback, "shown")
    jobs = loopback.kubectl("get", "jobs", "shown").stdout.splitlines()
    assert jobs[0].split()[:3] == ["NAME", "STATUS", "COMPLETIONS"] and jobs[1].split()[1:3] == ["Complete", "1/1"]
    pods = loopback.kubectl("get", "pods", "-l", "job-name=shown").stdout.splitlines()
    assert pods[1].split()[1:3] == ["0/1", "Completed"]
    assert loopback.kubectl("logs", "job/shown").stdout == "hello from the ward\n"


def test_kube_fixture_and_job_runner_run_a_job(kube, job_runner):
    if job_runner is None:
        pytest.skip("a real cluster runs Jobs with its own kubelet")
    submit(kube, job("via-fixtures", WRITE_MESSAGE))
    assert finished_as(finish(kube, "via-fixtures"))["type"] == "Complete"
