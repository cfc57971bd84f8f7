"""The local runner runs an Indexed Job as its pods at once, each with its index, finding pod 0 on loopback."""

import json
import pathlib

import pytest

from tests.harness.cluster import LoopbackCluster
from tests.harness.runner import LocalRunner
from tests.test_runner import finish, finished_as, job, pods_of, submit, terminated

pytestmark = pytest.mark.cluster

# Each pod writes its index and where it was told node 0 is; index 1 fails on request.
REPORT = (
    "import os, pathlib, sys, time; index = os.environ['JOB_COMPLETION_INDEX']; "
    "pathlib.Path(os.environ['OUT'], 'node-' + index).write_text("
    "index + ' ' + os.environ['MASTER_ADDR'] + ' ' + os.environ['MASTER_PORT']); "
    "fail = os.environ.get('FAIL_INDEX') == index; time.sleep(0 if fail else float(os.environ.get('LINGER', '0'))); "
    "sys.exit(1 if fail else 0)"
)


@pytest.fixture(scope="module")
def runner(loopback: LoopbackCluster, tmp_path_factory: pytest.TempPathFactory):
    local = LocalRunner(loopback.kubeconfig, root=tmp_path_factory.mktemp("indexed"), parallelism=2).start()
    yield local
    local.stop()
    assert local.errors == []


def indexed(name: str, out: pathlib.Path, nodes: int, **env: str) -> dict:
    variables = [{"name": "OUT", "value": str(out)}, {"name": "MASTER_ADDR", "value": f"{name}-0.{name}"},
                 {"name": "MASTER_PORT", "value": "29500"}, *({"name": k, "value": v} for k, v in env.items())]
    manifest = job(name, REPORT, completionMode="Indexed", completions=nodes, parallelism=nodes,
                   container={"env": variables})
    manifest["spec"]["template"]["spec"]["subdomain"] = name
    return manifest


def test_every_index_runs_at_once_with_its_index_and_pod_zero_on_loopback(loopback, runner, tmp_path):
    submit(loopback, indexed("two-nodes", tmp_path, 2, LINGER="1"))
    found = finish(loopback, "two-nodes", timeout=60)
    assert finished_as(found)["type"] == "Complete" and found["status"]["succeeded"] == 2
    seen = [(tmp_path / f"node-{index}").read_text().split() for index in (0, 1)]
    assert [index for index, _, _ in seen] == ["0", "1"]
    assert {host for _, host, _ in seen} == {"127.0.0.1"}, "the Job's host names point at this machine"
    ports = {port for _, _, port in seen}
    assert len(ports) == 1 and ports != {"29500"}, "the Job's rendezvous port is a free port of its own"
    pods = pods_of(loopback, "two-nodes")
    assert sorted(pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] for pod in pods) == ["0", "1"]
    assert {pod["spec"]["hostname"] for pod in pods} == {"two-nodes-0", "two-nodes-1"}


def test_a_failed_index_fails_the_job_and_stops_the_others(loopback, runner, tmp_path):
    submit(loopback, indexed("lost-node", tmp_path, 2, FAIL_INDEX="1", LINGER="60"))
    found = finish(loopback, "lost-node", timeout=30)
    assert finished_as(found)["type"] == "Failed", json.dumps(found["status"])
    exits = sorted(terminated(pod)["exitCode"] for pod in pods_of(loopback, "lost-node"))
    assert exits == [1, 137], "index 1 failed by itself; index 0 was stopped, not left waiting for it"
