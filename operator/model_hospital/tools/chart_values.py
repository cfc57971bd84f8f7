"""The Helm chart's values, typed once: values.yaml, values.schema.json and docs/chart-values.md come from `ChartValues`.

Every key has a name, a type, a default and a description here; `chart_files` renders
them. This module imports nothing but pydantic and the contract (its tenancy models, and the protocol for
the stages and their Jobs' defaults).
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.alias_generators import to_camel

from model_hospital.api.protocol import PROTOCOL
from model_hospital.api.tenancy import StageNetworkPolicy, TenancyPolicy

IMAGE_REGISTRY = "ghcr.io/model-hospital"

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$"
DURATION_PATTERN = r"^[0-9]+(ms|s|m|h)$"


class Values(BaseModel):
    """Base of every values block: camelCase keys, unknown keys rejected (typos fail at install)."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ImageValues(Values):
    """A container image."""

    repository: str = Field(min_length=1, max_length=255, description="Image repository, without the tag.")
    tag: str = Field(
        "", max_length=128, pattern=r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)?$",
        description="Image tag; empty means the chart's appVersion (the Model Hospital version).")
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(
        "IfNotPresent", description="When the kubelet pulls the image: Always, IfNotPresent or Never.")


class ImageNameValues(Values):
    """A container image whose pull policy comes from elsewhere."""

    repository: str = Field(min_length=1, max_length=255, description="Image repository, without the tag.")
    tag: str = Field(
        "", max_length=128, pattern=r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)?$",
        description="Image tag; empty means the chart's appVersion (the Model Hospital version).")


class ImagePullSecret(Values):
    """A Secret of type kubernetes.io/dockerconfigjson in the pod's namespace."""

    name: str = Field(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253, description="Name of the pull Secret.")


class Toleration(Values):
    """A Kubernetes toleration."""

    key: str | None = Field(None, max_length=317, description="Taint key; empty with operator Exists tolerates every taint.")
    operator: Literal["Exists", "Equal"] | None = Field(None, description="Exists or Equal (the Kubernetes default).")
    value: str | None = Field(None, max_length=63, description="Taint value to match with operator Equal.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        None, description="Taint effect to match; empty matches every effect.")
    toleration_seconds: int | None = Field(None, ge=0, description="For NoExecute: how long the pod stays after the taint appears.")


class ResourceAmounts(Values):
    """CPU and memory amounts, as Kubernetes quantities."""

    cpu: str | None = Field(None, pattern=QUANTITY_PATTERN, description="CPU, e.g. 100m or 2.")
    memory: str | None = Field(None, pattern=QUANTITY_PATTERN, description="Memory, e.g. 256Mi or 8Gi.")


class ContainerResources(Values):
    """Requests and limits of the operator's container."""

    requests: ResourceAmounts = Field(
        default_factory=lambda: ResourceAmounts(cpu="100m", memory="192Mi"),
        description="What the scheduler reserves for the operator.")
    limits: ResourceAmounts = Field(
        default_factory=lambda: ResourceAmounts(memory="512Mi"),
        description="The most the operator may use; no CPU limit, so it is never throttled.")


class CrdValues(Values):
    """The ModelPatient and Treatment CRDs, rendered as templates so that `helm upgrade` upgrades them."""

    install: bool = Field(True, description="Render the CRDs with the release; turn off when they are managed elsewhere.")
    keep: bool = Field(
        True, description="Annotate the CRDs helm.sh/resource-policy: keep, so uninstalling the chart never deletes every patient and treatment.")


class WatchValues(Values):
    """Which namespaces the operator serves."""

    all_namespaces: bool = Field(
        True, description="Serve every namespace with a ClusterRole; false serves only `namespaces`, with a Role in each.")
    namespaces: list[str] = Field(
        default_factory=list, max_length=64,
        description="Namespaces to serve when allNamespaces is false; the release namespace when empty.",
        json_schema_extra={"items": {"type": "string", "pattern": DNS_LABEL_PATTERN, "maxLength": 63}})


class ServiceAccountValues(Values):
    """The operator's ServiceAccount."""

    create: bool = Field(True, description="Create the ServiceAccount; false uses an existing one named `name`.")
    name: str = Field("", pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$", max_length=253,
                      description="Name of the ServiceAccount; the release's full name when empty.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations of the ServiceAccount (e.g. for workload identity).")


class RbacValues(Values):
    """The operator's permissions."""

    create: bool = Field(True, description="Create the ClusterRole/Roles and bindings with exactly the verbs the operator uses.")
    aggregate_to_default_roles: bool = Field(
        True, description="Add the kinds to the cluster's edit/admin roles (create, change, delete) and view role (read), "
                          "so namespace users can use them; creating them is as strong as creating pods.")


class OperatorValues(Values):
    """The operator's own pod."""

    image: ImageValues = Field(
        default_factory=lambda: ImageValues(repository=f"{IMAGE_REGISTRY}/operator"),
        description="The operator image (kopf and the Kubernetes client; no torch).")
    resources: ContainerResources = Field(default_factory=ContainerResources, description="Requests and limits of the operator's container.")
    node_selector: dict[str, str] = Field(default_factory=dict, description="Node labels the operator's pod must match.")
    tolerations: list[Toleration] = Field(default_factory=list, description="Taints the operator's pod tolerates.")
    affinity: dict[str, Any] = Field(default_factory=dict, description="Affinity of the operator's pod, as Kubernetes writes it.")
    priority_class_name: str = Field("", max_length=253, description="PriorityClass of the operator's pod; none when empty.")
    pod_annotations: dict[str, str] = Field(default_factory=dict, description="Extra annotations of the operator's pod.")
    pod_labels: dict[str, str] = Field(default_factory=dict, description="Extra labels of the operator's pod.")
    health_port: int = Field(8081, ge=1024, le=65535, description="Port of kopf's liveness endpoint (/healthz), used by the probes ($HOSPITAL_HEALTH_PORT).")
    run_as_user: int = Field(1000, ge=1, description="Numeric user the operator runs as (never root; the images' user is 1000).")
    resync_seconds: float = Field(30, gt=0, description="How often every resource is reconciled without an event ($HOSPITAL_RESYNC_SECONDS).")
    progress_seconds: float = Field(
        15, gt=0, description="How often a running stage's pod and log tail are read for its progress ($HOSPITAL_PROGRESS_SECONDS).")


class StageValues(Values):
    """Defaults of one stage's Job; a resource's spec overrides them field by field."""

    image: str = Field(
        "", max_length=512,
        description="Image of this stage; empty means stages.image, or stages.gpuImage when gpu > 0.")
    cpu: str | None = Field(None, pattern=QUANTITY_PATTERN, description="CPU request and limit, e.g. 2 or 500m.")
    memory: str | None = Field(None, pattern=QUANTITY_PATTERN, description="Memory request and limit, e.g. 8Gi.")
    gpu: int = Field(0, ge=0, le=64, description="nvidia.com/gpu to request; 0 runs the stage on CPU.")
    node_selector: dict[str, str] = Field(default_factory=dict, description="Node labels this stage's pod must match, over stages.nodeSelector.")
    tolerations: list[Toleration] = Field(default_factory=list, description="Taints this stage's pod tolerates (e.g. GPU nodes), over stages.tolerations.")
    priority_class_name: str = Field(
        "", pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$", max_length=253,
        description="PriorityClass of this stage's pod, over stages.priorityClassName; none when empty.")
    deadline_seconds: int = Field(
        21600, ge=60, description="activeDeadlineSeconds of the stage's Job: after this the Job fails and the stage counts as failed.")


def _stage(cpu: str, memory: str, deadline: int) -> StageValues:
    return StageValues(cpu=cpu, memory=memory, deadline_seconds=deadline)


class _StageImageValues(Values):
    image: ImageValues = Field(
        default_factory=lambda: ImageValues(repository=f"{IMAGE_REGISTRY}/worker"),
        description="The CPU worker image (Oumi, torch, the bundled patient) every stage uses unless set.")
    gpu_image: ImageNameValues = Field(
        default_factory=lambda: ImageNameValues(repository=f"{IMAGE_REGISTRY}/worker-gpu"),
        description="The CUDA worker image (Oumi, torch, vLLM) for every stage Job that asks for GPUs (unless the stage or the spec names an image); pulled with stages.image.pullPolicy.")


# One block per stage of the protocol, with its Job's defaults, in the protocol's order.
_PerStageValues = create_model("_PerStageValues", __base__=_StageImageValues, **{
    declared.name: (StageValues, Field(
        default_factory=partial(_stage, declared.cpu, declared.memory, declared.deadline_seconds),
        description=f"The {declared.name} stage ({declared.what})."))
    for declared in PROTOCOL})


class StagesValues(_PerStageValues):
    """Defaults of the stage Jobs (diagnose, synth, train, verify) the operator starts."""

    node_selector: dict[str, str] = Field(default_factory=dict, description="Node labels every stage pod must match.")
    tolerations: list[Toleration] = Field(default_factory=list, description="Taints every stage pod tolerates.")
    priority_class_name: str = Field(
        "", pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$", max_length=253,
        description="PriorityClass of every stage pod; none when empty.")
    service_account_name: str = Field(
        "", pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$", max_length=253,
        description="ServiceAccount of stage pods (they need no API rights); the namespace's default when empty.")
    image_pull_secrets: list[ImagePullSecret] = Field(
        default_factory=list,
        description="Pull Secrets of every stage pod, in the namespace of its patient or treatment (besides its ServiceAccount's).")
    run_as_user: int = Field(1000, ge=1, description="Numeric user stage pods run as (never root; the worker images' user is 1000).")
    backoff_limit: int = Field(0, ge=0, le=10, description="backoffLimit of every stage Job: pod restarts inside one Job before it fails.")
    retries: int = Field(1, ge=0, le=10, description="New Jobs the operator starts for a failed stage before the resource is Failed.")
    job_ttl_seconds: int = Field(
        86400, ge=600,
        description="ttlSecondsAfterFinished of stage Jobs: how long a failed stage's Job and pod (its logs) are kept "
                    "(at least 600, so the operator reads a result before it goes). Succeeded stages' pods are removed at once.")
    tmp_size_limit: str = Field("20Gi", pattern=QUANTITY_PATTERN, description="sizeLimit of a stage pod's /tmp emptyDir.")
    diagnosis_max_age_seconds: int = Field(
        86400, ge=0, description="A patient's diagnosis younger than this is reused by a new treatment instead of diagnosing again.")


class ClaimValues(Values):
    """A PersistentVolumeClaim the chart makes, or one that already exists."""

    existing_claim: str = Field("", pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$", max_length=253,
                                description="Use this existing claim instead of making one.")
    size: str = Field("50Gi", pattern=QUANTITY_PATTERN, description="Size of the claim the chart makes.")
    storage_class_name: str = Field("", max_length=253, description="StorageClass of the claim the chart makes; the cluster's default when empty.")
    access_modes: list[Literal["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod", "ReadOnlyMany"]] = Field(
        default_factory=lambda: ["ReadWriteOnce"], min_length=1,
        description="Access modes of the claim the chart makes; ReadWriteMany when stages may land on different nodes.")


class ArtifactValues(ClaimValues):
    """The artifact volume: every stage reads and writes /artifacts/<namespace>/<owner>/<stage>/ on it."""


class ModelCacheValues(ClaimValues):
    """An optional volume of downloaded models shared by all stages (HF_HOME)."""

    enabled: bool = Field(False, description="Mount a model cache volume into every stage Job.")
    size: str = Field("100Gi", pattern=QUANTITY_PATTERN, description="Size of the claim the chart makes.")
    access_modes: list[Literal["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod", "ReadOnlyMany"]] = Field(
        default_factory=lambda: ["ReadWriteOnce"], min_length=1,
        description="Access modes of the claim the chart makes.")


class SecretRefValues(Values):
    """A key of an existing Secret."""

    name: str = Field("", pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$", max_length=253,
                      description="Name of the Secret; none when empty.")
    key: str = Field("token", min_length=1, max_length=253, description="Key inside the Secret.")


class HuggingFaceValues(Values):
    """Access to the Hugging Face Hub for gated models (patients may name their own Secret instead)."""

    token_secret_ref: SecretRefValues = Field(
        default_factory=SecretRefValues,
        description="Secret key holding a Hugging Face token, passed to stage Jobs as HF_TOKEN; never logged.")


class KueueValues(Values):
    """Kueue: admission of stage Jobs through a LocalQueue."""

    queue_name: str = Field("", pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$", max_length=63,
                            description="LocalQueue every stage Job is labelled with (kueue.x-k8s.io/queue-name) unless the resource names one; none when empty.")


class ServiceMonitorValues(Values):
    """A Prometheus Operator ServiceMonitor for the metrics Service."""

    enabled: bool = Field(False, description="Render a ServiceMonitor (needs the monitoring.coreos.com CRDs).")
    interval: str = Field("30s", pattern=DURATION_PATTERN, description="How often Prometheus scrapes the operator.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels your Prometheus selects ServiceMonitors by.")


class MetricsValues(Values):
    """The operator's Prometheus metrics."""

    port: int = Field(8080, ge=1024, le=65535, description="Port the operator serves /metrics on ($HOSPITAL_METRICS_PORT).")
    service_monitor: ServiceMonitorValues = Field(default_factory=ServiceMonitorValues, description="A ServiceMonitor for the metrics Service.")


class NetworkPolicyValues(Values):
    """A NetworkPolicy for the operator's pod."""

    enabled: bool = Field(False, description="Render a NetworkPolicy: ingress only to the metrics and health ports, egress only to DNS and the API server.")
    metrics_from: list[dict[str, Any]] = Field(
        default_factory=list,
        description="NetworkPolicyPeers allowed to scrape metrics (e.g. the monitoring namespace); anyone in the cluster when empty.")
    api_server_cidrs: list[str] = Field(
        default_factory=list,
        description="CIDRs of the API server, to narrow egress; port 443 and 6443 to anywhere when empty.",
        json_schema_extra={"items": {"type": "string", "pattern": r"^[0-9a-fA-F.:]+/[0-9]{1,3}$"}})


class DashboardValues(Values):
    """The Grafana dashboard, as a ConfigMap Grafana's sidecar picks up."""

    enabled: bool = Field(False, description="Render the dashboard ConfigMap.")
    labels: dict[str, str] = Field(
        default_factory=lambda: {"grafana_dashboard": "1"}, description="Labels Grafana's dashboard sidecar selects ConfigMaps by.")


class ChartValues(Values):
    """Every value of the model-hospital chart."""

    name_override: str = Field("", max_length=63, description="Replaces the chart name in object names.")
    fullname_override: str = Field("", max_length=63, description="Replaces the whole release-and-chart name in object names.")
    image_pull_secrets: list[ImagePullSecret] = Field(
        default_factory=list,
        description="Pull Secrets for the operator's image (stage pods: stages.imagePullSecrets).")
    crds: CrdValues = Field(default_factory=CrdValues, description="The ModelPatient and Treatment CRDs.")
    watch: WatchValues = Field(default_factory=WatchValues, description="Which namespaces the operator serves.")
    service_account: ServiceAccountValues = Field(default_factory=ServiceAccountValues, description="The operator's ServiceAccount.")
    rbac: RbacValues = Field(default_factory=RbacValues, description="The operator's permissions.")
    operator: OperatorValues = Field(default_factory=OperatorValues, description="The operator's own pod.")
    stages: StagesValues = Field(default_factory=StagesValues, description="Defaults of the stage Jobs.")
    artifacts: ArtifactValues = Field(default_factory=ArtifactValues, description="The artifact volume (reports, cure data, models).")
    model_cache: ModelCacheValues = Field(default_factory=ModelCacheValues, description="An optional shared model cache volume.")
    hugging_face: HuggingFaceValues = Field(default_factory=HuggingFaceValues, description="Access to the Hugging Face Hub.")
    kueue: KueueValues = Field(default_factory=KueueValues, description="Kueue admission of stage Jobs.")
    metrics: MetricsValues = Field(default_factory=MetricsValues, description="Prometheus metrics.")
    network_policy: NetworkPolicyValues = Field(default_factory=NetworkPolicyValues, description="A NetworkPolicy for the operator.")
    dashboard: DashboardValues = Field(default_factory=DashboardValues, description="The Grafana dashboard.")
    stage_network_policy: StageNetworkPolicy = Field(
        default_factory=StageNetworkPolicy, description="A NetworkPolicy fencing stage pods' egress.")
    policy: TenancyPolicy = Field(
        default_factory=TenancyPolicy,
        description="What a ModelPatient or Treatment may ask for (images, URLs, Secrets, claims); a refused spec gets "
                    "a condition naming the rule. Creating these kinds is as strong as creating pods: see docs/install.md.")


def default_values() -> dict[str, Any]:
    """ChartValues' defaults as the plain dict Helm sees."""
    return ChartValues().model_dump(by_alias=True, exclude_none=True, mode="json")
