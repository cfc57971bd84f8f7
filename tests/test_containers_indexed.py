"""The operator's distributed train Job in the loopback kubelet's container mode: two nodes, two containers.

The Job, its headless Service and its input ConfigMap are the ones the operator makes for a
Treatment trained on two nodes (`jobs.stage_job`, `jobs.distributed_job`,
`jobs.rendezvous_service`, `jobs.stage_config_map`); the diagnosis and cure data lie on the
artifact claim beforehand, so only the train stage runs (tests/test_operator_distributed.py
runs the whole Treatment in process mode). Each index runs as a container of the worker image
with the stage's restrictions, on an internal network of the Job's own, where node 1 finds
node 0 by the name the operator gave it (`<job>-0.<job>`, port 29500 as written) and both
train the tiny model together through Oumi's torchrun launcher with gloo. Skipped, saying why,
where no engine runs containers or the worker image is missing or stale (as
tests/test_containers_e2e.py is).
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest
import yaml

from cure_fixtures import make_diagnosis, write_diagnosis
from model_hospital.api.common import Symptom
from model_hospital.api.stages import DistributedTraining, TrainInput
from model_hospital.clinic.cure import CureSettings, make_cure
from model_hospital.controller import jobs
from model_hospital.controller.settings import DEFAULT_IMAGE, OperatorSettings
from tests.harness.containers import ContainerRunner, unready
from tests.harness.kubeclient import KubeClient, job_finished, job_path
from tests.test_runner import finished_as, job, pods_of, terminated

pytestmark = pytest.mark.cluster

NAMESPACE = "default"  # the loopback fixture's, where tests/test_runner.py's helpers look
TREATMENT = "tiny-two-nodes-c"
STAGE_USER = 1000
MAX_STEPS = 4

# Node 0 listens at MASTER_PORT and stays; node 1 dials MASTER_ADDR, says who it is, and fails.
DIAL_AND_FAIL = """
import os, socket, sys, time
address = (os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]))
if os.environ["JOB_COMPLETION_INDEX"] == "0":
    peer, _ = socket.create_server(("0.0.0.0", address[1])).accept()
    print("node 0 reached by", peer.recv(64).decode(), flush=True)
    time.sleep(300)
deadline = time.monotonic() + 120
while True:
    try:
        socket.create_connection(address, timeout=2).sendall(socket.gethostname().encode())
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
sys.exit(1)
"""


@pytest.fixture(scope="module")
def kubelet(loopback, tmp_path_factory):
    engine, reason = unready({DEFAULT_IMAGE: "worker"})
    if reason:
        pytest.skip(reason)
    runner = ContainerRunner(loopback.kubeconfig, root=tmp_path_factory.mktemp("kubelet"), engine=engine,
                             namespace=NAMESPACE).start()
    yield runner
    runner.stop()
    assert runner.errors == []


def distributed_train_job(settings: OperatorSettings, claim_folder) -> tuple[list[dict], str]:
    """The operator's objects for a two-node train stage, with its diagnosis and cure on the claim."""
    owner = jobs.Owner(kind="Treatment", name=TREATMENT, namespace=NAMESPACE, uid=str(uuid.uuid4()), patient="tiny")
    diagnosis = make_diagnosis(symptoms=(Symptom.safety,), per_category=1)
    folder = claim_folder / NAMESPACE / TREATMENT
    folder.mkdir(parents=True)
    write_diagnosis(diagnosis, folder)
    make_cure(diagnosis, folder / "cure", CureSettings(min_examples=8, max_examples=16))
    inside = f"{settings.artifact_root}/{NAMESPACE}/{TREATMENT}"
    stage_input = TrainInput(diagnosis=f"{inside}/diagnosis.json", cure=f"{inside}/cure", max_steps=MAX_STEPS,
                             distributed=DistributedTraining(nodes=2, processes_per_node=1))
    job = jobs.distributed_job(jobs.stage_job(owner, "train", 1, stage_input, settings), 2)
    name = job["metadata"]["name"]
    config_map = jobs.stage_config_map(owner, name, stage_input, job["metadata"]["labels"])
    return [config_map, jobs.rendezvous_service(job), job], name


def finish(loopback, kubelet: ContainerRunner, name: str, timeout: float) -> dict:
    """The Job once it is Complete or Failed, looked at once a second (training takes minutes); the kubelet's
    own failure (a network it could not make) ends the wait at once."""
    client = KubeClient(loopback.kubeconfig)
    deadline = time.monotonic() + timeout
    try:
        while not job_finished(found := client.get(job_path(NAMESPACE, name))) and time.monotonic() < deadline:
            assert kubelet.errors == []
            time.sleep(1)
    finally:
        client.close()
    return found


def test_two_nodes_train_the_tiny_model_to_the_end_as_two_restricted_containers(loopback, kubelet):
    settings = OperatorSettings()
    claim = kubelet.root / "pvc" / settings.artifact_claim
    manifests, name = distributed_train_job(settings, claim)
    loopback.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))
    found = finish(loopback, kubelet, name, timeout=1500)

    pods = sorted(pods_of(loopback, name), key=lambda pod: pod["spec"]["hostname"])
    logs = [(kubelet.root / "pods" / NAMESPACE / pod["metadata"]["name"] / "log").read_text() for pod in pods]
    assert finished_as(found)["type"] == "Complete", json.dumps(found["status"]) + "\n" + logs[-1][-3000:]
    assert found["status"]["succeeded"] == 2 and found["status"]["completedIndexes"] == "0-1"
    assert [terminated(pod)["exitCode"] for pod in pods] == [0, 0], "both containers exited 0"

    commands = sorted((argv for argv in kubelet.commands if argv[argv.index("--hostname") + 1].startswith(name)),
                      key=lambda argv: argv[argv.index("--hostname") + 1])
    assert [argv[argv.index("--hostname") + 1] for argv in commands] == [f"{name}-0", f"{name}-1"]
    networks = {argv[argv.index("--network") + 1] for argv in commands}
    assert len(networks) == 1 and networks != {"none"}, "the two nodes share one network of their Job's"
    for index, argv in enumerate(commands):
        assert argv[argv.index("--entrypoint") + 2] == DEFAULT_IMAGE
        assert {"--read-only", "no-new-privileges"} <= set(argv)
        assert argv[argv.index("--user") + 1] == f"{STAGE_USER}:{STAGE_USER}"
        assert argv[argv.index("--cap-drop") + 1] == "ALL"
        assert f"{name}-{index}.{name}" in [argv[at + 1] for at, flag in enumerate(argv) if flag == "--network-alias"]
    network = networks.pop()
    gone = subprocess.run([kubelet.engine[0], "network", "exists", network], capture_output=True)
    assert gone.returncode != 0, "the Job's network is removed after its containers"

    # A real rendezvous at node 0's name and the port as the operator wrote them, and a gloo group of two.
    assert f"--master-addr={name}-0.{name}" in logs[0] and "--master-port=29500" in logs[0]
    assert "DeviceRankInfo(world_size=2, rank=0" in logs[0]
    for rank, log in enumerate(logs):
        assert f"[Gloo] Rank {rank} is connected to 1 peer ranks" in log, log[-3000:]
    output = claim / NAMESPACE / TREATMENT / "train-1"
    result = json.loads((output / "result.json").read_text())
    assert result["ok"] and result["summary"]["distributed"] == {"nodes": 2, "processes_per_node": 1}
    assert (output / "adapter" / "adapter_model.safetensors").is_file()
    assert (output / "node-1" / "recipe.yaml").is_file() and not (output / "node-1" / "result.json").exists()
    assert [log.count("Model has been saved at") for log in logs] == [1, 0], "the adapter is saved once, by node 0"
    assert json.loads(terminated(pods[0])["message"])["ok"]


def test_a_failed_index_fails_the_job_and_its_other_container_is_stopped(loopback, kubelet):
    name = "dial-and-fail"
    manifest = job(name, DIAL_AND_FAIL, completionMode="Indexed", completions=2, parallelism=2, container={
        "image": DEFAULT_IMAGE, "command": ["python3", "-c", DIAL_AND_FAIL],
        "env": [{"name": "MASTER_ADDR", "value": jobs.rendezvous_host(name)}, {"name": "MASTER_PORT", "value": "29500"}]})
    manifest["spec"]["template"]["spec"]["subdomain"] = name
    loopback.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    found = finish(loopback, kubelet, name, timeout=300)

    assert finished_as(found)["type"] == "Failed", json.dumps(found["status"])
    pods = sorted(pods_of(loopback, name), key=lambda pod: pod["spec"]["hostname"])
    assert [terminated(pod)["exitCode"] for pod in pods] == [137, 1], "node 1 failed; node 0 was stopped, not waited for"
    log = (kubelet.root / "pods" / NAMESPACE / pods[0]["metadata"]["name"] / "log").read_text()
    assert f"node 0 reached by {name}-1" in log, "node 1 found node 0 by its name under the Job's Service"
