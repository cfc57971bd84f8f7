"""The short-lived Job that reads a report off the artifact volume: `kubectl hospital report` starts it.

The full diagnosis and verification live on the artifact claim, which people outside
the cluster cannot mount. A reader Job runs `hospital report PATH` in the worker image
with the claim mounted read-only and prints the report to its log; the plugin reads
the log and deletes the Job (ttlSecondsAfterFinished removes it anyway). It is a Job,
not a bare Pod, so that a node loss or an eviction is reported, not waited on forever,
and so that the same Job controller that runs the stages runs it.

Where the report lies comes from the resource's status; the image, the claim and its
mount path from the stage Job that wrote it (so the reader sees the volume exactly as
the writer did), or from the operator's defaults when that Job is gone.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from model_hospital.controller.jobs import LABEL_PREFIX, MAX_NAME, owner_reference, owner_from
from model_hospital.controller.settings import DEFAULT_IMAGE, OperatorSettings
from model_hospital.errors import HospitalError

READER_LABEL = f"{LABEL_PREFIX}/report-reader"
READER_TTL_SECONDS = 300
READER_DEADLINE_SECONDS = 300
KINDS = {"tx": "Treatment", "treatment": "Treatment", "treatments": "Treatment",
         "mp": "ModelPatient", "patient": "ModelPatient", "patients": "ModelPatient",
         "modelpatient": "ModelPatient", "modelpatients": "ModelPatient"}
RESOURCES = {"Treatment": "treatments.modelhospital.io", "ModelPatient": "modelpatients.modelhospital.io"}


@dataclass(frozen=True)
class VolumeSource:
    """What the reader borrows from the Job that wrote the report: image and the artifact claim's mount."""

    image: str
    claim: str
    mount_path: str
    image_pull_policy: str = "IfNotPresent"
    image_pull_secrets: tuple[str, ...] = ()
    run_as_user: int = 1000


def report_path(body: dict[str, Any]) -> str:
    """Where the resource's full report lies on the artifact volume; an error that says why when none does yet."""
    kind, name = body.get("kind", ""), body["metadata"]["name"]
    status = body.get("status") or {}
    if kind == "Treatment":
        artifacts = status.get("artifacts") or {}
        path = artifacts.get("verification") or artifacts.get("diagnosis")
        what = "verification or diagnosis"
    else:
        path = (status.get("report") or {}).get("path")
        what = "diagnosis"
    if not path:
        stage = status.get("stage") or status.get("phase") or "pending"
        raise HospitalError(f"{kind} {name} has no {what} on the artifact volume yet (it is at {stage}); "
                            f"wait for its diagnose or verify stage to finish")
    return path


def latest_stage_job(body: dict[str, Any]) -> str | None:
    """The name of the last stage Job the resource recorded (the one most likely to still exist); None when none."""
    status = body.get("status") or {}
    records = [record for record in status.get("stages") or [] if record.get("job")]
    if records:
        return records[-1]["job"]
    return status.get("diagnoseJob")


def source_from_job(job: dict[str, Any], report: str) -> VolumeSource | None:
    """The image and the mount of the claim that holds `report`, as a stage Job has them; None when it has none."""
    pod = job["spec"]["template"]["spec"]
    claims = {volume["name"]: volume["persistentVolumeClaim"]["claimName"]
              for volume in pod.get("volumes") or [] if "persistentVolumeClaim" in volume}
    container = pod["containers"][0]
    for mount in sorted(container.get("volumeMounts") or [], key=lambda m: len(m["mountPath"]), reverse=True):
        root = mount["mountPath"].rstrip("/") + "/"
        if mount["name"] in claims and report.startswith(root):
            return VolumeSource(
                image=container["image"], claim=claims[mount["name"]], mount_path=mount["mountPath"],
                image_pull_policy=container.get("imagePullPolicy", "IfNotPresent"),
                image_pull_secrets=tuple(s["name"] for s in pod.get("imagePullSecrets") or []),
                run_as_user=(pod.get("securityContext") or {}).get("runAsUser", 1000))
    return None


def default_source(settings: OperatorSettings | None = None) -> VolumeSource:
    """The operator's default worker image and artifact claim (when the stage Job is gone)."""
    settings = settings or OperatorSettings()
    return VolumeSource(image=settings.images.get("verify", DEFAULT_IMAGE), claim=settings.artifact_claim,
                        mount_path=settings.artifact_root, image_pull_policy=settings.image_pull_policy,
                        image_pull_secrets=tuple(settings.image_pull_secrets), run_as_user=settings.run_as_user)


def reader_name(owner_name: str, suffix: str | None = None) -> str:
    """`<owner>-report-<random>`, at most 63 characters: each reading is its own Job."""
    suffix = suffix or secrets.token_hex(3)
    tail = f"-report-{suffix}"
    return owner_name.replace(".", "-")[:MAX_NAME - len(tail)].rstrip("-") + tail


def reader_job(body: dict[str, Any], report: str, source: VolumeSource, json_mode: bool = False,
               name: str | None = None) -> dict[str, Any]:
    """The Job manifest that prints `report` with `hospital report`, the claim mounted read-only."""
    command = ["hospital", "report", report] + (["--json"] if json_mode else [])
    return _reader(body, [report], command, source, name)


def comparison_job(bodies: list[dict[str, Any]], reports: list[str], source: VolumeSource, output: str = "console",
                   name: str | None = None) -> dict[str, Any]:
    """The Job manifest that prints `hospital compare` of `reports` (the first is the baseline) as a console table,
    Markdown or JSON (`output`), the claim mounted read-only; owned by the first resource."""
    flags = {"console": [], "markdown": ["--markdown"], "json": ["--json"]}[output]
    return _reader(bodies[0], reports, ["hospital", "compare", *reports, *flags], source, name)


def _reader(body: dict[str, Any], reports: list[str], command: list[str], source: VolumeSource,
            name: str | None) -> dict[str, Any]:
    for report in reports:
        if not report.startswith(source.mount_path.rstrip("/") + "/"):
            raise HospitalError(f"the report {report} is not under the artifact volume's mount {source.mount_path}")
    owner = owner_from(body)
    container = {
        "name": "report",
        "image": source.image,
        "imagePullPolicy": source.image_pull_policy,
        "command": command,
        "env": [{"name": "DO_NOT_TRACK", "value": "1"}, {"name": "HOME", "value": "/tmp"},
                # Wide enough that the tables are not folded in the log.
                {"name": "COLUMNS", "value": "200"}],
        "volumeMounts": [{"name": "artifacts", "mountPath": source.mount_path, "readOnly": True},
                         {"name": "tmp", "mountPath": "/tmp"}],
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"}},
    }
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": source.run_as_user, "runAsGroup": source.run_as_user,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": [{"name": "artifacts", "persistentVolumeClaim": {"claimName": source.claim, "readOnly": True}},
                    {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
    }
    if source.image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": secret} for secret in source.image_pull_secrets]
    owner_label = f"{LABEL_PREFIX}/{'treatment' if owner.kind == 'Treatment' else 'patient'}"
    labels = {READER_LABEL: "true", owner_label: owner.name[:MAX_NAME]}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name or reader_name(owner.name), "namespace": owner.namespace, "labels": labels,
                     "ownerReferences": [owner_reference(owner)]},
        "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": READER_TTL_SECONDS,
                 "activeDeadlineSeconds": READER_DEADLINE_SECONDS,
                 "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
    }

