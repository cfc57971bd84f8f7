"""The operator's defaults, read from environment variables that the Helm chart sets.

Every variable starts with HOSPITAL_. Structured values (resources per stage, node
selector, tolerations) are JSON, which Helm writes with `toJson`. A bad value is a
HospitalError naming the variable, so a misconfigured chart fails at start-up.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model_hospital import __version__
from model_hospital.api.resources import StageResources, Toleration
from model_hospital.api.tenancy import TenancyPolicy
from model_hospital.api.protocol import PROTOCOL, STAGE_NAMES
from model_hospital.errors import HospitalError

DEFAULT_IMAGE = f"ghcr.io/model-hospital/worker:{__version__}"
DEFAULT_GPU_IMAGE = f"ghcr.io/model-hospital/worker-gpu:{__version__}"
DEFAULT_STAGE_RESOURCES = {declared.name: {"cpu": declared.cpu, "memory": declared.memory} for declared in PROTOCOL}
DEFAULT_DEADLINES = {declared.name: declared.deadline_seconds for declared in PROTOCOL}
# A finished Job must outlive the operator's longest look away (a restart, a resync) or its result is lost.
MIN_JOB_TTL_SECONDS = 600


class OperatorSettings(BaseModel):
    """What every stage Job gets unless a resource's spec says otherwise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    images: dict[str, str] = Field(default_factory=lambda: {stage: DEFAULT_IMAGE for stage in STAGE_NAMES},
                                   description="Container image per stage.")
    gpu_images: dict[str, str] = Field(default_factory=lambda: {stage: DEFAULT_GPU_IMAGE for stage in STAGE_NAMES},
                                       description="Container image per stage when its Job asks for GPUs.")
    image_pull_policy: str = Field("IfNotPresent", pattern="^(Always|IfNotPresent|Never)$")
    image_pull_secrets: list[str] = Field(default_factory=list, description="Pull Secrets of every stage pod.")
    artifact_claim: str = Field("model-hospital-artifacts", description="PVC holding every stage's artifacts.")
    artifact_root: str = Field("/artifacts", description="Where the artifact PVC is mounted in stage pods.")
    config_root: str = Field("/config", description="Where the stage input ConfigMap is mounted.")
    model_cache_claim: str | None = Field(None, description="PVC with cached models (Hugging Face cache), mounted read-only.")
    model_cache_root: str = Field("/model-cache")
    namespaces: list[str] = Field(default_factory=list, description="Namespaces to watch; empty means all.")
    stage_resources: dict[str, StageResources] = Field(
        default_factory=lambda: {stage: StageResources.model_validate(value) for stage, value in DEFAULT_STAGE_RESOURCES.items()})
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list)
    priority_class_name: str | None = None
    queue_name: str | None = Field(None, description="Kueue LocalQueue of every stage Job whose resource names none.")
    hf_token_secret: str | None = Field(None, description="Secret with a Hugging Face token for Jobs whose resource names none.")
    hf_token_key: str = Field("token", description="Key of the token in that Secret.")
    operator_namespace: str | None = Field(None, description="The namespace the operator runs in.")
    service_account: str | None = Field(None, description="ServiceAccount of stage pods (they need no API rights).")
    run_as_user: int = Field(1000, ge=1)
    deadlines: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_DEADLINES),
                                      description="activeDeadlineSeconds per stage.")
    backoff_limit: int = Field(0, ge=0, description="Pod restarts inside one Job (crashes).")
    job_ttl_seconds: int = Field(86400, ge=MIN_JOB_TTL_SECONDS,
                                 description="ttlSecondsAfterFinished of stage Jobs, so failed logs stay a day.")
    tmp_size_limit: str = Field("20Gi", pattern=r"^[0-9]+(Ki|Mi|Gi|Ti)$", description="sizeLimit of a stage pod's /tmp emptyDir.")
    policy: TenancyPolicy = Field(default_factory=TenancyPolicy, description="What specs may ask for.")
    stage_retries: int = Field(1, ge=0, le=10, description="New Jobs for a stage after a failed one, before Failed.")
    diagnosis_max_age_seconds: int = Field(86400, ge=0, description="A patient's diagnosis younger than this is reused by a treatment.")
    resync_seconds: float = Field(30.0, gt=0, description="How often every resource is reconciled without an event.")
    progress_seconds: float = Field(15.0, gt=0, description="How often a running stage's pod and log tail are read.")
    metrics_port: int = Field(8080, ge=0, le=65535, description="Prometheus metrics port (0: off).")
    health_port: int = Field(8081, ge=0, le=65535, description="kopf liveness endpoint port (0: off).")


_SCALARS = {
    "HOSPITAL_IMAGE_PULL_POLICY": "image_pull_policy",
    "HOSPITAL_ARTIFACT_CLAIM": "artifact_claim",
    "HOSPITAL_ARTIFACT_ROOT": "artifact_root",
    "HOSPITAL_CONFIG_ROOT": "config_root",
    "HOSPITAL_MODEL_CACHE_CLAIM": "model_cache_claim",
    "HOSPITAL_MODEL_CACHE_ROOT": "model_cache_root",
    "HOSPITAL_PRIORITY_CLASS_NAME": "priority_class_name",
    "HOSPITAL_QUEUE_NAME": "queue_name",
    "HOSPITAL_HF_TOKEN_SECRET": "hf_token_secret",
    "HOSPITAL_HF_TOKEN_KEY": "hf_token_key",
    "HOSPITAL_OPERATOR_NAMESPACE": "operator_namespace",
    "HOSPITAL_SERVICE_ACCOUNT": "service_account",
    "HOSPITAL_RUN_AS_USER": "run_as_user",
    "HOSPITAL_BACKOFF_LIMIT": "backoff_limit",
    "HOSPITAL_JOB_TTL_SECONDS": "job_ttl_seconds",
    "HOSPITAL_TMP_SIZE_LIMIT": "tmp_size_limit",
    "HOSPITAL_STAGE_RETRIES": "stage_retries",
    "HOSPITAL_DIAGNOSIS_MAX_AGE_SECONDS": "diagnosis_max_age_seconds",
    "HOSPITAL_RESYNC_SECONDS": "resync_seconds",
    "HOSPITAL_PROGRESS_SECONDS": "progress_seconds",
    "HOSPITAL_METRICS_PORT": "metrics_port",
    "HOSPITAL_HEALTH_PORT": "health_port",
}
_JSON = {
    "HOSPITAL_STAGE_RESOURCES": "stage_resources",
    "HOSPITAL_NODE_SELECTOR": "node_selector",
    "HOSPITAL_TOLERATIONS": "tolerations",
    "HOSPITAL_DEADLINES": "deadlines",
    "HOSPITAL_POLICY": "policy",
}


def settings_from_env(environ: Mapping[str, str] | None = None) -> OperatorSettings:
    """The operator settings from HOSPITAL_* variables (defaults for those unset)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    images = {stage: environ.get("HOSPITAL_IMAGE", DEFAULT_IMAGE) for stage in STAGE_NAMES}
    for stage in STAGE_NAMES:
        if environ.get(f"HOSPITAL_IMAGE_{stage.upper()}"):
            images[stage] = environ[f"HOSPITAL_IMAGE_{stage.upper()}"]
    values["images"] = images
    gpu_images = {stage: environ.get("HOSPITAL_GPU_IMAGE") or DEFAULT_GPU_IMAGE for stage in STAGE_NAMES}
    for stage in STAGE_NAMES:
        if environ.get(f"HOSPITAL_GPU_IMAGE_{stage.upper()}"):
            gpu_images[stage] = environ[f"HOSPITAL_GPU_IMAGE_{stage.upper()}"]
    values["gpu_images"] = gpu_images
    for variable, field in _SCALARS.items():
        if environ.get(variable, "") != "":
            values[field] = environ[variable]
    for variable, field in _JSON.items():
        if environ.get(variable, "") != "":
            try:
                values[field] = json.loads(environ[variable])
            except json.JSONDecodeError as error:
                raise HospitalError(f"${variable} is not valid JSON: {error.msg}") from None
    if environ.get("HOSPITAL_IMAGE_PULL_SECRETS", "").strip():
        values["image_pull_secrets"] = [name.strip() for name in environ["HOSPITAL_IMAGE_PULL_SECRETS"].split(",")
                                        if name.strip()]
    if environ.get("HOSPITAL_NAMESPACES", "").strip():
        values["namespaces"] = [name.strip() for name in environ["HOSPITAL_NAMESPACES"].split(",") if name.strip()]
    if "stage_resources" in values:
        merged = dict(DEFAULT_STAGE_RESOURCES)
        merged.update(values["stage_resources"])
        values["stage_resources"] = merged
    if "deadlines" in values:
        values["deadlines"] = {**DEFAULT_DEADLINES, **values["deadlines"]}
    try:
        return OperatorSettings.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0])
        variable = next((name for name, target in {**_SCALARS, **_JSON}.items() if target == field), "HOSPITAL_*")
        raise HospitalError(f"${variable}: {first['msg']}") from None
