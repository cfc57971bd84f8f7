"""Indexed Jobs in the loopback kubelet: every index at once, as N nodes would run them, on this one machine.

The Job controller gives each pod of an Indexed Job its index (the annotation and label
``batch.kubernetes.io/job-completion-index``, and ``JOB_COMPLETION_INDEX`` in every
container's env) and the host name ``<job>-<index>``, which a headless Service named by
``spec.subdomain`` makes resolvable as ``<job>-<index>.<subdomain>``.

In process mode (`LocalRunner`) every pod is a process on this machine, so:

- an env value naming a pod of the Job under its subdomain is rewritten to 127.0.0.1,
  as the runner already rewrites container paths to local folders;
- the pods share this machine's ports, where real ones would each have their own: every
  Indexed Job's ``MASTER_PORT`` becomes a free local port, so two Jobs (or two test runs)
  never meet at one port.

In container mode (`ContainerRunner`, tests/harness/containers.py) every pod is a container
with a network namespace of its own, as a real pod has: while the Job runs, its containers
share an internal network made for it alone (no route out of it, as the other stage
containers have no network), each with its pod's host name and, as aliases the engine's DNS
answers, the names `pod_names` gives. The env is left as the operator wrote it.

The Job succeeds when every index succeeded. One failed pod fails the Job (the pods still
running are killed, as the Job controller terminates them) when backoffLimit is 0, which is
what the operator asks of a distributed stage; a larger backoffLimit is not emulated here.
"""

from __future__ import annotations

import datetime
import re
import socket
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
RENDEZVOUS_PORT_ENV = "MASTER_PORT"


def is_indexed(job: dict[str, Any]) -> bool:
    return (job.get("spec") or {}).get("completionMode") == "Indexed"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def indexed_template(job: dict[str, Any], index: int) -> dict[str, Any]:
    """The Job's pod template as the Job controller fills it in for one index."""
    name = job["metadata"]["name"]
    template = dict(job["spec"].get("template") or {})
    metadata = dict(template.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), COMPLETION_INDEX: str(index)}
    metadata["labels"] = {**(metadata.get("labels") or {}), COMPLETION_INDEX: str(index)}
    spec = dict(template.get("spec") or {})
    spec["hostname"] = f"{name}-{index}"
    index_env = {"name": INDEX_ENV, "valueFrom": {"fieldRef": {
        "fieldPath": f"metadata.annotations['{COMPLETION_INDEX}']"}}}
    spec["containers"] = [{**container, "env": [index_env, *(container.get("env") or [])]}
                          for container in spec.get("containers") or []]
    return {"metadata": metadata, "spec": spec}


def pod_names(pod: dict[str, Any]) -> list[str]:
    """The names a headless Service gives a pod of its subdomain: `<hostname>.<subdomain>`, then qualified by
    the namespace, as the cluster's DNS answers them; none for a pod without both."""
    spec = pod.get("spec") or {}
    if not spec.get("hostname") or not spec.get("subdomain"):
        return []
    name = f"{spec['hostname']}.{spec['subdomain']}"
    namespace = pod["metadata"]["namespace"]
    return [name, f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.cluster.local"]


def local_env(pod: dict[str, Any], env: dict[str, str], port: int | None) -> dict[str, str]:
    """A pod's env with the host names of its Job's pods pointing at this machine, and its own rendezvous port."""
    subdomain = (pod.get("spec") or {}).get("subdomain")
    if not subdomain:
        return env
    namespace = pod["metadata"]["namespace"]
    host = re.compile(rf"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.{re.escape(subdomain)}"
                      rf"(\.{re.escape(namespace)}(\.svc(\.cluster\.local)?)?)?$")
    rewritten = {key: "127.0.0.1" if host.match(value) else value for key, value in env.items()}
    if port is not None and RENDEZVOUS_PORT_ENV in rewritten:
        rewritten[RENDEZVOUS_PORT_ENV] = str(port)
    return rewritten


def run_indexed_job(runner, uid: str, job: dict[str, Any], deadline: float | None) -> None:
    """Runs every index of an Indexed Job at once and writes the Job's status as the Job controller does."""
    spec = job["spec"]
    completions = int(spec.get("completions") or 1)
    outcomes = []
    with runner._indexed_network(uid, job):
        pods = [runner._create_pod(job, indexed_template(job, index)) for index in range(completions)]
        runner._patch_job_status(job, {"active": completions, "ready": 0})
        with ThreadPoolExecutor(max_workers=completions, thread_name_prefix="local-node") as nodes:
            pending = {nodes.submit(runner._run_pod, uid, job, pod, deadline) for pod in pods}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    outcomes.append(future.result())
                    if outcomes[-1] != "succeeded":
                        runner.halted.add(uid)  # the Job fails: its other pods are stopped
    runner.halted.discard(uid)
    if "gone" in outcomes or runner._stopped.is_set():
        return
    succeeded = outcomes.count("succeeded")
    runner.ended.add(uid)
    if succeeded == completions:
        runner._patch_job_status(job, {"active": 0, "ready": 0, "succeeded": succeeded,
                                       "completedIndexes": f"0-{completions - 1}" if completions > 1 else "0",
                                       "completionTime": _now(), "conditions": [
            runner._condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"),
            runner._condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods")]})
        return
    if "deadline" in outcomes:
        reason, message = "DeadlineExceeded", "Job was active longer than specified deadline"
    else:
        reason, message = "BackoffLimitExceeded", "Job has reached the specified backoff limit"
    runner._patch_job_status(job, {"active": 0, "ready": 0, "succeeded": succeeded,
                                   "failed": completions - succeeded, "conditions": [
        runner._condition("FailureTarget", reason, message), runner._condition("Failed", reason, message)]})


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
