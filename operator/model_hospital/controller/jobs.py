"""Stage Jobs as manifests: pure functions from an owner, a stage and its input to Kubernetes objects.

A stage Job runs `hospital stage NAME --input /config/input.json --output DIR` in the
worker image. Its input comes from a ConfigMap of the same name (owned by the
patient or treatment), its artifacts go to the artifact PVC under
`<root>/<namespace>/<owner>/<stage>-<attempt>`, and its summary comes back in the
container's termination message. Names are deterministic, so a restarted operator
finds the Job it made instead of making another.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from model_hospital.api.resources import API_VERSION, SecretKeyRef, StageResources
from model_hospital.controller.settings import OperatorSettings

LABEL_PREFIX = "modelhospital.io"
PATIENT_LABEL = f"{LABEL_PREFIX}/patient"
TREATMENT_LABEL = f"{LABEL_PREFIX}/treatment"
STAGE_LABEL = f"{LABEL_PREFIX}/stage"
ATTEMPT_LABEL = f"{LABEL_PREFIX}/attempt"
RETRY_LABEL = f"{LABEL_PREFIX}/retry"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
CONTAINER = "stage"
TERMINATION_LOG = "/dev/termination-log"
MAX_NAME = 63
MODEL_VOLUME_ROOT = "/models"
OUTPUT_VOLUME_ROOT = "/outputs"
SUITE_VOLUME_ROOT = "/suites"
PUBLIC_VOLUME_ROOT = "/public"
HF_TOKEN_ENV = "HF_TOKEN"
JUDGE_KEY_ENV = "HOSPITAL_JUDGE_API_KEY"
REGISTRY_CONFIG_ENV = "HOSPITAL_REGISTRY_CONFIG"  # clinic.export reads the registry login from this file
REGISTRY_CONFIG_ROOT = "/var/run/secrets/modelhospital.io/registry"
ENDPOINT_KEY_ENV = "HOSPITAL_ENDPOINT_API_KEY"
# A patient's diagnose Jobs and folders are named for its checkups, so a Treatment of the same
# name (whose first stage is also diagnose) never shares a Job or a folder with it.
CHECKUP = "checkup"
USER_ERROR_EXIT = 2
PLURALS = {"ModelPatient": "modelpatients", "Treatment": "treatments"}
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}


@dataclass(frozen=True)
class Owner:
    """The ModelPatient or Treatment a Job belongs to."""

    kind: str
    name: str
    namespace: str
    uid: str
    patient: str

    @property
    def treatment(self) -> str | None:
        return self.name if self.kind == "Treatment" else None


def owner_from(body: dict[str, Any], patient: str | None = None) -> Owner:
    """The Owner of a resource body; a treatment names its patient."""
    metadata = body["metadata"]
    kind = body.get("kind", "ModelPatient")
    if patient is None:
        patient = metadata["name"] if kind == "ModelPatient" else body["spec"]["patientRef"]["name"]
    return Owner(kind=kind, name=metadata["name"], namespace=metadata["namespace"], uid=metadata.get("uid", ""),
                 patient=patient)


@dataclass
class JobOptions:
    """What a resource's spec adds to the operator's defaults for one stage Job."""

    image: str | None = None
    resources: StageResources | None = None
    queue_name: str | None = None
    hf_token: SecretKeyRef | None = None
    judge_api_key: SecretKeyRef | None = None
    endpoint_api_key: SecretKeyRef | None = None  # a served patient's key
    engine_gpus: int = 0  # GPUs the inference engine cannot run without (vLLM), when the resources ask for none
    claims: dict[str, tuple[str, bool]] = field(default_factory=dict)  # mount path -> (claim, read only)
    config_maps: dict[str, str] = field(default_factory=dict)  # mount path -> ConfigMap of a user's suites (read only)
    memory: str | None = None  # over everything else: the memory a retry after an OOM kill asked for
    registry_secret: str | None = None  # a dockerconfigjson Secret, mounted as a file (the verify Job's push)


def job_name(owner_name: str, stage: str, attempt: int, retry: int = 0, reserve: int = 0) -> str:
    """`<owner>-<stage>-<attempt>[-r<retry>]`, trimmed to 63 characters (less `reserve`, the room names made from
    it need) with a hash that keeps it unique."""
    suffix = f"-{stage}-{attempt}" + (f"-r{retry}" if retry else "")
    base = owner_name.replace(".", "-")
    if len(base) + len(suffix) <= MAX_NAME - reserve:
        return base + suffix
    digest = hashlib.sha256(owner_name.encode()).hexdigest()[:8]
    keep = MAX_NAME - reserve - len(suffix) - len(digest) - 1
    return f"{base[:keep].rstrip('-')}-{digest}{suffix}"


def run_name(owner: Owner, stage: str) -> str:
    """What a stage run is called in Job names and folders: `checkup` for a patient's, the stage for a treatment's."""
    return CHECKUP if owner.kind == "ModelPatient" else stage


def stage_output_dir(settings: OperatorSettings, owner: Owner, stage: str, attempt: int) -> str:
    """Where a stage writes its artifacts inside the pod: <root>/<namespace>/<owner>/<run>-<attempt>."""
    return posixpath.join(settings.artifact_root, owner.namespace, owner.name, f"{run_name(owner, stage)}-{attempt}")


def label_value(text: str) -> str:
    """`text` as a label value: itself when it fits 63 characters, else cut with a hash that keeps it unique."""
    if len(text) <= MAX_NAME:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[:MAX_NAME - len(digest) - 1].rstrip('-_.')}-{digest}"


def controller_of(job: dict[str, Any]) -> dict[str, Any] | None:
    """The ownerReference of the object that controls a Job, if any."""
    return next((ref for ref in (job.get("metadata") or {}).get("ownerReferences") or [] if ref.get("controller")), None)


def owner_of_job(job: dict[str, Any]) -> tuple[str, str] | None:
    """(plural, name) of the patient or treatment a stage Job belongs to; names longer than a label fit are kept here."""
    owner = controller_of(job)
    if not owner or owner.get("kind") not in PLURALS:
        return None
    return PLURALS[owner["kind"]], owner["name"]


def quantity_bytes(quantity: str | int) -> float:
    """The number a Kubernetes quantity stands for (bytes for memory): '8Gi' -> 8589934592."""
    found = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([KMGTPE]i|[mkMGTPE]?)", str(quantity).strip())
    if not found:
        raise ValueError(f"not a Kubernetes quantity: {quantity!r}")
    number, unit = float(found.group(1)), found.group(2)
    return number * (_BINARY[unit] if unit in _BINARY else _DECIMAL[unit])


def more_memory(current: str | None, most: str | None) -> str | None:
    """The memory of a retry after an OOM kill: twice `current`, at most `most`; None when no more is allowed."""
    if not current or not most or quantity_bytes(most) <= quantity_bytes(current):
        return None
    doubled = 2 * quantity_bytes(current)
    return str(most) if doubled >= quantity_bytes(most) else f"{int(doubled // 2**20)}Mi"


def claim_path(reference: str, root: str) -> tuple[str, str, str] | None:
    """For 'pvc://CLAIM/path': (claim, mount path, path inside the pod); None for other references."""
    if not reference.startswith("pvc://"):
        return None
    claim, _, rest = reference[len("pvc://"):].partition("/")
    mount = posixpath.join(root, claim)
    return claim, mount, posixpath.join(mount, rest) if rest else mount


def labels_for(owner: Owner, stage: str, attempt: int, retry: int, queue_name: str | None) -> dict[str, str]:
    """The labels of a stage Job and its pod (Kueue's queue label when a queue is named)."""
    labels = {
        "app.kubernetes.io/name": "model-hospital",
        "app.kubernetes.io/component": "stage",
        "app.kubernetes.io/managed-by": "model-hospital-operator",
        PATIENT_LABEL: label_value(owner.patient),
        STAGE_LABEL: stage,
        ATTEMPT_LABEL: str(attempt),
        RETRY_LABEL: str(retry),
    }
    if owner.treatment:
        labels[TREATMENT_LABEL] = label_value(owner.treatment)
    if queue_name:
        labels[QUEUE_LABEL] = queue_name
    return labels


def owner_reference(owner: Owner) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": owner.kind, "name": owner.name, "uid": owner.uid,
            "controller": True, "blockOwnerDeletion": True}


def merged_resources(defaults: StageResources | None, override: StageResources | None) -> StageResources:
    """The spec's compute over the operator's defaults, field by field; node selectors merge, tolerations add up."""
    base = defaults or StageResources()
    if override is None:
        return base
    values = base.model_dump()
    for name, value in override.model_dump(exclude_none=True).items():
        if name == "node_selector":
            values[name] = {**(values.get(name) or {}), **value}
        elif name == "tolerations":
            values[name] = [*(values.get(name) or []), *value]
        else:
            values[name] = value
    return StageResources.model_validate(values)


def container_resources(resources: StageResources) -> dict[str, dict[str, str]]:
    """requests/limits: CPU is requested; memory and GPUs are requested and limited."""
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if resources.cpu is not None:
        requests["cpu"] = str(resources.cpu)
    if resources.memory is not None:
        requests["memory"] = limits["memory"] = str(resources.memory)
    if resources.gpu:
        requests["nvidia.com/gpu"] = limits["nvidia.com/gpu"] = str(resources.gpu)
    out: dict[str, dict[str, str]] = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    return out


def secret_env(name: str, ref: SecretKeyRef) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}


def stage_config_map(owner: Owner, name: str, stage_input: BaseModel, labels: dict[str, str]) -> dict[str, Any]:
    """The ConfigMap holding a stage's input.json, owned by the patient or treatment."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": owner.namespace, "labels": labels,
                     "ownerReferences": [owner_reference(owner)]},
        "data": {"input.json": stage_input.model_dump_json(indent=2)},
    }


def stage_job(owner: Owner, stage: str, attempt: int, stage_input: BaseModel, settings: OperatorSettings,
              options: JobOptions | None = None, retry: int = 0, output_dir: str | None = None,
              name: str | None = None) -> dict[str, Any]:
    """The Job manifest of one stage run (its ConfigMap is `stage_config_map` with the same name), named `name`
    (the name recorded in the owner's status) or else by `job_name`."""
    options = options or JobOptions()
    name = name or job_name(owner.name, run_name(owner, stage), attempt, retry)
    queue_name = options.queue_name or settings.queue_name
    hf_token = options.hf_token or (
        SecretKeyRef(name=settings.hf_token_secret, key=settings.hf_token_key) if settings.hf_token_secret else None)
    labels = labels_for(owner, stage, attempt, retry, queue_name)
    output_dir = output_dir or stage_output_dir(settings, owner, stage, attempt)
    resources = merged_resources(settings.stage_resources.get(stage), options.resources)
    if options.memory:
        resources = resources.model_copy(update={"memory": options.memory})
    if options.engine_gpus and not resources.gpu:  # and with them the GPU image, below
        resources = resources.model_copy(update={"gpu": options.engine_gpus})
    node_selector = {**settings.node_selector, **(resources.node_selector or {})}
    tolerations = [*settings.tolerations, *(resources.tolerations or [])]
    env = [
        {"name": "DO_NOT_TRACK", "value": "1"},
        {"name": "PYTHONUNBUFFERED", "value": "1"},
        {"name": "HOME", "value": "/tmp"},
        {"name": "HOSPITAL_TERMINATION_LOG", "value": TERMINATION_LOG},
        # The root filesystem is read-only: verify keeps its examinations of the patient
        # beside the owner's stage folders, where every attempt finds them.
        {"name": "HOSPITAL_VERIFY_CACHE",
         "value": posixpath.join(settings.artifact_root, owner.namespace, owner.name, "examinations")},
    ]
    mounts = [
        {"name": "input", "mountPath": settings.config_root, "readOnly": True},
        {"name": "artifacts", "mountPath": settings.artifact_root},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "input", "configMap": {"name": name}},
        {"name": "artifacts", "persistentVolumeClaim": {"claimName": settings.artifact_claim}},
        {"name": "tmp", "emptyDir": {"sizeLimit": settings.tmp_size_limit}},
    ]
    if settings.model_cache_claim:
        mounts.append({"name": "model-cache", "mountPath": settings.model_cache_root, "readOnly": True})
        volumes.append({"name": "model-cache", "persistentVolumeClaim": {"claimName": settings.model_cache_claim, "readOnly": True}})
        env.append({"name": "HF_HOME", "value": posixpath.join(settings.model_cache_root, "huggingface")})
    for index, (mount_path, (claim, read_only)) in enumerate(sorted(options.claims.items())):
        volume = f"claim-{index}"
        mounts.append({"name": volume, "mountPath": mount_path, "readOnly": read_only})
        volumes.append({"name": volume, "persistentVolumeClaim": {"claimName": claim, "readOnly": read_only}})
    for index, (mount_path, config_map) in enumerate(sorted(options.config_maps.items())):
        volume = f"suite-{index}"
        mounts.append({"name": volume, "mountPath": mount_path, "readOnly": True})
        volumes.append({"name": volume, "configMap": {"name": config_map}})
    if hf_token:
        env.append(secret_env(HF_TOKEN_ENV, hf_token))
    if options.judge_api_key:
        env.append(secret_env(JUDGE_KEY_ENV, options.judge_api_key))
    if options.registry_secret:
        mounts.append({"name": "registry-login", "mountPath": REGISTRY_CONFIG_ROOT, "readOnly": True})
        volumes.append({"name": "registry-login", "secret": {
            "secretName": options.registry_secret, "items": [{"key": ".dockerconfigjson", "path": "config.json"}]}})
        env.append({"name": REGISTRY_CONFIG_ENV, "value": posixpath.join(REGISTRY_CONFIG_ROOT, "config.json")})
    if options.endpoint_api_key:
        env.append(secret_env(ENDPOINT_KEY_ENV, options.endpoint_api_key))

    container = {
        "name": CONTAINER,
        # A stage that asks for GPUs needs the CUDA image, unless its spec names one.
        "image": options.image or (settings.gpu_images if resources.gpu else settings.images)[stage],
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["hospital", "stage", stage, "--input", posixpath.join(settings.config_root, "input.json"),
                    "--output", output_dir],
        "env": env,
        "volumeMounts": mounts,
        "terminationMessagePath": TERMINATION_LOG,
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    resource_spec = container_resources(resources)
    if resource_spec:
        container["resources"] = resource_spec
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        # Stage pods never talk to the Kubernetes API: results travel in the termination message.
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": settings.run_as_user,
            "runAsGroup": settings.run_as_user,
            "fsGroup": settings.run_as_user,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": volumes,
    }
    if settings.service_account:
        pod_spec["serviceAccountName"] = settings.service_account
    if settings.image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": name} for name in settings.image_pull_secrets]
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    if tolerations:
        pod_spec["tolerations"] = [toleration.model_dump(by_alias=True, exclude_none=True) for toleration in tolerations]
    priority = resources.priority_class_name or settings.priority_class_name
    if priority:
        pod_spec["priorityClassName"] = priority
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": owner.namespace,
            "labels": labels,
            "annotations": {f"{LABEL_PREFIX}/input-sha256": _input_digest(stage_input)},
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": {
            "backoffLimit": settings.backoff_limit,
            "podFailurePolicy": pod_failure_policy(),
            "activeDeadlineSeconds": settings.deadlines.get(stage, 86400),
            "ttlSecondsAfterFinished": settings.job_ttl_seconds,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def pod_failure_policy() -> dict[str, Any]:
    """The Job controller's retry rules: a user error (exit 2) fails the Job at once; an evicted or
    preempted pod does not count against backoffLimit; any other crash does."""
    return {"rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": CONTAINER, "operator": "In", "values": [USER_ERROR_EXIT]}},
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
    ]}


def _input_digest(stage_input: BaseModel) -> str:
    return hashlib.sha256(json.dumps(stage_input.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"  # the pod index an Indexed Job gives each pod
RENDEZVOUS_PORT = 29500  # torchrun's own default, on pod 0


def rendezvous_host(job: str) -> str:
    """Where the nodes of a distributed stage meet: pod 0 of the Indexed Job, through the headless Service
    of the same name (`<job>-0.<job>`, resolved in the Job's namespace)."""
    return f"{job}-0.{job}"


def distributed_job(job: dict[str, Any], nodes: int, master_addr: str | None = None) -> dict[str, Any]:
    """A stage Job as an Indexed Job of `nodes` pods that run at once, each with a stable host name under the
    Service `rendezvous_service` makes, told where node 0 is (MASTER_ADDR, MASTER_PORT).

    One lost pod fails the Job at once (backoffLimit 0, and no rule that ignores a disruption): the
    other nodes cannot go on without it, and a replacement could not join a rendezvous that already
    ended. The operator's stage retry then starts the nodes afresh in a new Job, and they resume from
    the newest checkpoint on the artifact claim. `master_addr`, when given, is node 0's host name under a
    Service someone else makes (a JobSet's); the pods then get no subdomain of ours.
    """
    name = job["metadata"]["name"]
    spec = job["spec"]
    rules = [rule for rule in pod_failure_policy()["rules"] if rule["action"] == "FailJob"]
    pod_spec = spec["template"]["spec"]
    containers = [{**container, "env": [*container.get("env", []),
                                        {"name": "MASTER_ADDR", "value": master_addr or rendezvous_host(name)},
                                        {"name": "MASTER_PORT", "value": str(RENDEZVOUS_PORT)}]}
                  if container["name"] == CONTAINER else container for container in pod_spec["containers"]]
    subdomain = {} if master_addr else {"subdomain": name}
    template = {**spec["template"], "spec": {**pod_spec, **subdomain, "containers": containers}}
    return {**job, "spec": {**spec, "completionMode": "Indexed", "completions": nodes, "parallelism": nodes,
                            "backoffLimit": 0, "podFailurePolicy": {"rules": rules}, "template": template}}


def rendezvous_service(job: dict[str, Any]) -> dict[str, Any]:
    """The headless Service that names the pods of a distributed stage Job (`<job>-<index>.<job>`); owned like
    the Job, so it goes with its treatment. Addresses are published before the pods are ready: the
    rendezvous happens before any readiness."""
    metadata = job["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": metadata["name"], "namespace": metadata["namespace"],
                     "labels": dict(metadata["labels"]), "ownerReferences": list(metadata["ownerReferences"])},
        "spec": {"clusterIP": "None", "publishNotReadyAddresses": True,
                 "selector": {"batch.kubernetes.io/job-name": metadata["name"]},
                 "ports": [{"name": "rendezvous", "port": RENDEZVOUS_PORT, "targetPort": RENDEZVOUS_PORT,
                            "protocol": "TCP"}]},
    }
