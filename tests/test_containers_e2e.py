"""The tiny-model treatment through kubectl with every stage in a real container, and the operator from its image.

The images are the ones `make images` builds: `make test` (scripts/setup-containers) builds the
operator and worker images first where podman or docker runs, within a time budget, and this
test runs only on images built from this tree's code (a label says which), never on stale ones.
The operator container reaches the loopback API over the host network; each stage pod runs as
a container of the worker image with the pod's security context (non-root, read-only root
filesystem, no capabilities, no network), so a stage that writes outside /tmp and the
artifact volume fails here as it would in a cluster. Skipped, saying why, where no container
engine runs containers, where the images are missing or stale, or with HOSPITAL_TEST_CONTAINERS=0.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import time
import uuid

import pytest
import yaml

from model_hospital import __version__
from tests.harness.cluster import LoopbackCluster
from tests.harness.containers import ContainerRunner, unready
from tests.harness.kubeclient import KubeClient

pytestmark = pytest.mark.cluster

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKER_IMAGE = f"ghcr.io/model-hospital/worker:{__version__}"
OPERATOR_IMAGE = f"ghcr.io/model-hospital/operator:{__version__}"
NAMESPACE = "ward-c"
GROUP_PATH = f"/apis/modelhospital.io/v1alpha1/namespaces/{NAMESPACE}"
STAGE_USER = 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OperatorContainer:
    """`hospital operator run` in the operator image, restricted as the chart's Deployment runs it."""

    def __init__(self, engine: tuple[str, ...], kubeconfig: pathlib.Path, work: pathlib.Path) -> None:
        self.engine, self.name = engine, f"mh-operator-{uuid.uuid4().hex[:8]}"
        self.kubeconfig = work / "operator-kubeconfig"
        self.kubeconfig.write_text(kubeconfig.read_text())
        self.kubeconfig.chmod(0o644)
        self.log = work / "operator.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        settings = {"KUBECONFIG": "/etc/hospital/kubeconfig", "HOSPITAL_METRICS_PORT": str(free_port()),
                    "HOSPITAL_HEALTH_PORT": str(free_port()), "HOSPITAL_RESYNC_SECONDS": "2",
                    "HOSPITAL_PROGRESS_SECONDS": "1", "HOSPITAL_STAGE_RETRIES": "1",
                    "HOSPITAL_ARTIFACT_CLAIM": "artifacts", "HOSPITAL_IMAGE": WORKER_IMAGE}
        argv = [self.engine[0], "run", "--rm", "--name", self.name, *self.engine[1:], "--pull=never",
                "--network", "host", "--read-only", "--read-only-tmpfs=false", "--tmpfs", "/tmp:rw,mode=1777",
                "--user", f"{STAGE_USER}:{STAGE_USER}", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "-v", f"{self.kubeconfig}:/etc/hospital/kubeconfig:ro"]
        for key, value in settings.items():
            argv += ["-e", f"{key}={value}"]
        argv += [OPERATOR_IMAGE, "operator", "run", "--standalone", "-n", NAMESPACE]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run([self.engine[0], "rm", "-f", "-t", "0", self.name], capture_output=True, timeout=60)
        if self.process is not None:
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def contained(tmp_path_factory):
    """The loopback API, the operator container and a container-mode kubelet for one namespace."""
    engine, reason = unready({OPERATOR_IMAGE: "operator", WORKER_IMAGE: "worker"})
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("contained")
    with LoopbackCluster(work / "kube") as kube:
        kube.kubectl("apply", "-f", str(ROOT / "crds"))
        kube.kubectl("wait", "--for=condition=Established", "crd/modelpatients.modelhospital.io",
                     "crd/treatments.modelhospital.io", "--timeout=30s")
        kube.kubectl("create", "namespace", NAMESPACE)
        operator = OperatorContainer(engine, kube.kubeconfig, work)
        runner = ContainerRunner(kube.kubeconfig, root=work / "kubelet", engine=engine, namespace=NAMESPACE)
        client = KubeClient(kube.kubeconfig)
        try:
            operator.start()
            runner.start()
            yield kube, runner, client, operator
        finally:
            operator.stop()
            runner.stop()
            client.close()


def wait_for(client: KubeClient, plural: str, name: str, predicate, timeout: float, operator: OperatorContainer) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = client.get(f"{GROUP_PATH}/{plural}/{name}")
        except Exception:
            body = {}
        if predicate(body.get("status") or {}):
            return body
        if operator.process is not None and operator.process.poll() is not None:
            raise AssertionError(f"the operator container exited:\n{operator.log.read_text()[-3000:]}")
        time.sleep(1)
    raise AssertionError(f"{plural}/{name} never got there: {json.dumps(body.get('status'))[:2000]}\n"
                         f"operator log:\n{operator.log.read_text()[-3000:]}")


def test_tiny_treatment_reaches_a_verdict_with_every_stage_in_a_restricted_container(contained):
    kube, runner, client, operator = contained
    patient = {"apiVersion": "modelhospital.io/v1alpha1", "kind": "ModelPatient",
               "metadata": {"name": "tiny-c", "namespace": NAMESPACE},
               "spec": {"model": {"reference": "bundled:tiny-random-llama"}, "symptoms": ["safety"], "budget": 12}}
    kube.kubectl("apply", "-f", "-", input=yaml.safe_dump(patient))
    wait_for(client, "modelpatients", "tiny-c", lambda status: status.get("phase") in ("Diagnosed", "Failed"),
             600, operator)
    treatment = {"apiVersion": "modelhospital.io/v1alpha1", "kind": "Treatment",
                 "metadata": {"name": "tiny-c-tx", "namespace": NAMESPACE},
                 "spec": {"patientRef": {"name": "tiny-c"}, "symptoms": ["safety"], "maxAttempts": 1,
                          "skillBudget": 4, "budget": 12, "cure": {"minExamples": 4, "maxExamples": 24},
                          "training": {"method": "sft", "maxSteps": 2}}}
    kube.kubectl("apply", "-f", "-", input=yaml.safe_dump(treatment))
    status = wait_for(client, "treatments", "tiny-c-tx", lambda status: status.get("verdict"), 1200, operator)["status"]

    # 12 probes and 4 skill items per domain: too little evidence for anything but Inconclusive
    # (as in process mode, tests/test_operator_e2e.py); the verdict is still reached and recorded.
    assert status["verdict"] == "Inconclusive", status
    row = next(line for line in kube.kubectl("get", "tx", "-n", NAMESPACE).stdout.splitlines()
               if line.startswith("tiny-c-tx"))
    assert status["verdict"] in row and status["severityBefore"] in row
    assert [json.loads(argv[argv.index("--entrypoint") + 1])[2] for argv in runner.commands] == [
        "diagnose", "synth", "train", "verify"]
    for argv in runner.commands:
        assert argv[argv.index("--entrypoint") + 2] == WORKER_IMAGE
        assert {"--read-only", "no-new-privileges"} <= set(argv)
        assert argv[argv.index("--user") + 1] == f"{STAGE_USER}:{STAGE_USER}"
        assert argv[argv.index("--network") + 1] == "none" and argv[argv.index("--cap-drop") + 1] == "ALL"
    owner = runner.root / "pvc" / "artifacts" / NAMESPACE / "tiny-c-tx"
    verification = json.loads((owner / "verify-1" / "verification.json").read_text())
    assert verification["verdict"] == status["verdict"]
    assert verification["verdict_reason"].startswith("not enough evidence for a verdict")
    # verify's examination cache sits on the artifact volume, the only place besides /tmp it may write.
    assert list((owner / "examinations").glob("*.json"))
    assert os.stat(owner / "verify-1" / "verification.json").st_uid == STAGE_USER
