"""The train stage as a JobSet or a Kubeflow Trainer TrainJob: pure functions from the stage Job to those objects.

When `spec.training.launcher` asks for JobSet or TrainJob, the operator builds the same
stage Job as ever (`jobs.stage_job`: pod template, env, volumes, security) and hands it
to that kind's controller instead of the Job controller:

- JobSet (jobset.x-k8s.io/v1alpha2): one replicated Job named `node`, the Indexed Job of
  `jobs.distributed_job` as its template; the JobSet controller makes the headless Service
  (subdomain = the JobSet's name) and the pods `<jobset>-node-0-<index>`.
- TrainJob (trainer.kubeflow.org/v1alpha1, Trainer v2.1's podTemplateOverrides): the
  container's image, command, env and resources go to `spec.trainer`, the volumes and
  scheduling to a pod template override of the runtime's `node` job; the JobSet the
  Trainer makes has the TrainJob's name, so the pods and host names are the same as above.
  The runtime (a ClusterTrainingRuntime, `torch-distributed` by default) owns what a
  TrainJob cannot override: the container's security context.

Either way node 0 is `<name>-node-0-0.<name>`, named in MASTER_ADDR; the operator follows
the object's conditions (`as_job`, a Job-shaped view that `results` already reads) and
its pods, found by the JobSet name label.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from model_hospital.controller.jobs import CONTAINER, QUEUE_LABEL, RENDEZVOUS_PORT, distributed_job, job_name

REPLICATED_JOB = "node"  # Trainer's torch runtimes call their training job "node"; our JobSets use the same name
TRAINER_CONTAINER = "node"  # the trainer container of Trainer's runtimes (ours keeps the name `stage`)
JOBSET_NAME_LABEL = "jobset.sigs.k8s.io/jobset-name"
TRAINER_GROUP = "trainer.kubeflow.org"


@dataclass(frozen=True)
class LauncherKind:
    """A custom resource that can run the train stage, as the API serves it."""

    kind: str
    group: str
    version: str
    plural: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def resource(self) -> str:
        return f"{self.plural}.{self.group}"


LAUNCHERS = {
    "JobSet": LauncherKind("JobSet", "jobset.x-k8s.io", "v1alpha2", "jobsets"),
    "TrainJob": LauncherKind("TrainJob", TRAINER_GROUP, "v1alpha1", "trainjobs"),
}
DONE = {"Completed": "Complete", "Complete": "Complete", "Failed": "Failed"}  # JobSet's and TrainJob's words -> a Job's


def node_zero(name: str) -> str:
    """The host name of node 0 of a JobSet (or a TrainJob's JobSet) named `name`."""
    return f"{name}-{REPLICATED_JOB}-0-0.{name}"


def pod_selector(name: str, launcher: str | None = None) -> str:
    """The label selector of every pod of a stage: of the Job `name`, or of the JobSet (or TrainJob) `name` when a
    `launcher` runs it (its pods belong to child Jobs of other names)."""
    return f"{JOBSET_NAME_LABEL}={name}" if launcher else f"job-name={name}"


def train_launcher(treatment) -> str | None:
    """The kind that runs a TreatmentSpec's train stage when it is not a Job (JobSet, TrainJob); None for a Job."""
    launcher = treatment.training.launcher if treatment.training else "Job"
    return launcher if launcher in LAUNCHERS else None


def host_name_room(nodes: int, launcher: str | None) -> int:
    """The characters a distributed stage's pod host names add to its name: `-<index>` for our Indexed Job's pods,
    `-node-0-<index>` for a JobSet's (a TrainJob's); 0 for one plain pod."""
    if launcher:
        return len(f"-{REPLICATED_JOB}-0-{nodes - 1}")
    return len(f"-{nodes - 1}") if nodes > 1 else 0


def stage_job_name(treatment, owner_name: str, stage: str, attempt: int, retry: int = 0) -> str:
    """The name of a treatment's stage Job (or JobSet, TrainJob). For a train stage on several nodes it leaves room
    for the pods' host names (`<name>-<index>` must stay a 63-character DNS label) and starts with a letter, as
    its Service's name (a DNS-1035 label) must."""
    if stage != "train" or treatment.training is None:
        return job_name(owner_name, stage, attempt, retry)
    room = host_name_room(treatment.training.nodes, train_launcher(treatment))
    if not room:
        return job_name(owner_name, stage, attempt, retry)
    name = job_name(owner_name, stage, attempt, retry, reserve=room)
    return name if name[0].isalpha() else job_name(f"t-{owner_name}", stage, attempt, retry, reserve=room)


def shared_claim_problem(claim: dict[str, Any] | None, nodes: int) -> str | None:
    """Why the artifact claim cannot serve a train stage on `nodes` pods (it is not ReadWriteMany); None when it
    can, or when the claim cannot be read (a missing claim is reported by the stuck pod)."""
    if claim is None or nodes < 2:
        return None
    modes = (claim.get("status") or {}).get("accessModes") or (claim.get("spec") or {}).get("accessModes") or []
    if "ReadWriteMany" in modes:
        return None
    return (f"spec.training.nodes is {nodes}, but the artifact claim {claim['metadata']['name']} is "
            f"{', '.join(modes) or 'of no access mode'}: pods on several nodes can only share a ReadWriteMany claim "
            "(set the chart's artifacts.accessModes, or train on one node)")


def unavailable(cluster, launcher: str | None) -> str | None:
    """The LauncherUnavailable message when the cluster (by discovery) does not serve the launcher's kind; None
    when it does, or for a Job."""
    if launcher is None:
        return None
    kind = LAUNCHERS[launcher]
    if cluster.serves(kind.group, kind.version, kind.plural):
        return None
    return (f"spec.training.launcher is {launcher}, but this cluster does not serve {kind.resource} "
            f"({kind.api_version}): install its controller, or set the launcher to Job")


def launcher_object(launcher: str, job: dict[str, Any], nodes: int, training_runtime: str) -> dict[str, Any]:
    """The JobSet or TrainJob that runs the stage Job `job` (from `jobs.stage_job`) on `nodes` pods."""
    if launcher == "JobSet":
        return jobset(job, nodes)
    if launcher == "TrainJob":
        return trainjob(job, nodes, training_runtime)
    raise ValueError(f"not a launcher kind: {launcher}")


def _metadata(job: dict[str, Any]) -> dict[str, Any]:
    metadata = job["metadata"]
    return {key: copy.deepcopy(metadata[key]) for key in ("name", "namespace", "labels", "annotations", "ownerReferences")
            if key in metadata}


def jobset(job: dict[str, Any], nodes: int) -> dict[str, Any]:
    """A JobSet of one replicated Job (`node`): the stage's Indexed Job, node 0 named for the JobSet's Service.

    A lost pod fails its Job (backoffLimit 0) and the JobSet with it (maxRestarts 0): the
    operator's stage retry starts a new JobSet, which resumes from the newest checkpoint.
    """
    name = job["metadata"]["name"]
    indexed = distributed_job(job, nodes, master_addr=node_zero(name))
    spec = {key: value for key, value in indexed["spec"].items() if key != "ttlSecondsAfterFinished"}
    template_labels = {key: value for key, value in job["metadata"]["labels"].items() if key != QUEUE_LABEL}
    manifest = {
        "apiVersion": LAUNCHERS["JobSet"].api_version,
        "kind": "JobSet",
        "metadata": _metadata(job),
        "spec": {
            "replicatedJobs": [{"name": REPLICATED_JOB, "replicas": 1,
                                "template": {"metadata": {"labels": template_labels}, "spec": spec}}],
            "network": {"enableDNSHostnames": True, "publishNotReadyAddresses": True},
            "successPolicy": {"operator": "All"},
            "failurePolicy": {"maxRestarts": 0},
        },
    }
    ttl = job["spec"].get("ttlSecondsAfterFinished")
    if ttl is not None:
        manifest["spec"]["ttlSecondsAfterFinished"] = ttl
    return manifest


def trainjob(job: dict[str, Any], nodes: int, training_runtime: str) -> dict[str, Any]:
    """A TrainJob on the ClusterTrainingRuntime `training_runtime` running the stage's container on `nodes` nodes."""
    name = job["metadata"]["name"]
    pod_spec = job["spec"]["template"]["spec"]
    container = next(item for item in pod_spec["containers"] if item["name"] == CONTAINER)
    env = [variable for variable in container.get("env", []) if variable["name"] not in ("MASTER_ADDR", "MASTER_PORT")]
    env += [{"name": "MASTER_ADDR", "value": node_zero(name)}, {"name": "MASTER_PORT", "value": str(RENDEZVOUS_PORT)}]
    trainer: dict[str, Any] = {"image": container["image"], "command": list(container["command"]), "env": env,
                               "numNodes": nodes}
    if container.get("resources"):
        trainer["resourcesPerNode"] = copy.deepcopy(container["resources"])
    override: dict[str, Any] = {
        "volumes": copy.deepcopy(pod_spec.get("volumes", [])),
        "containers": [{"name": TRAINER_CONTAINER, "volumeMounts": copy.deepcopy(container.get("volumeMounts", []))}],
    }
    for key in ("serviceAccountName", "nodeSelector", "tolerations", "imagePullSecrets"):
        if pod_spec.get(key):
            override[key] = copy.deepcopy(pod_spec[key])
    return {
        "apiVersion": LAUNCHERS["TrainJob"].api_version,
        "kind": "TrainJob",
        "metadata": _metadata(job),
        "spec": {
            "runtimeRef": {"name": training_runtime, "apiGroup": TRAINER_GROUP, "kind": "ClusterTrainingRuntime"},
            "trainer": trainer,
            "podTemplateOverrides": [{"targetJobs": [{"name": REPLICATED_JOB}], "spec": override}],
        },
    }


def as_job(launched: dict[str, Any] | None) -> dict[str, Any] | None:
    """A JobSet or TrainJob seen as the Indexed Job `results` reads: Complete / Failed conditions, start and end
    times, suspension (a queue holds it), owner references; None when there is none."""
    if launched is None:
        return None
    metadata = launched.get("metadata") or {}
    conditions = []
    finished = None
    for condition in (launched.get("status") or {}).get("conditions") or []:
        kind = DONE.get(condition.get("type"))
        if kind and condition.get("status") == "True":
            conditions.append({**condition, "type": kind})
            finished = condition.get("lastTransitionTime")
    status: dict[str, Any] = {"conditions": conditions, "startTime": metadata.get("creationTimestamp")}
    child_jobs = (launched.get("status") or {}).get("replicatedJobsStatus") or (
        (launched.get("status") or {}).get("jobsStatus") or [])  # JobSet's, TrainJob's
    active = sum(int(child.get("active") or 0) for child in child_jobs)
    if active:
        status["active"] = active
    if finished and any(condition["type"] == "Complete" for condition in conditions):
        status["completionTime"] = finished
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {key: metadata[key] for key in ("name", "namespace", "labels", "ownerReferences",
                                                        "creationTimestamp") if key in metadata},
            "spec": {"completionMode": "Indexed", "completions": _nodes(launched),
                     "suspend": bool((launched.get("spec") or {}).get("suspend"))},
            "status": status}


def _nodes(launched: dict[str, Any]) -> int | None:
    """The pods a JobSet (its one replicated Job) or a TrainJob runs."""
    spec = launched.get("spec") or {}
    if "trainer" in spec:
        return (spec.get("trainer") or {}).get("numNodes")
    replicated = (spec.get("replicatedJobs") or [{}])[0]
    return ((replicated.get("template") or {}).get("spec") or {}).get("completions")
