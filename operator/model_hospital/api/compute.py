"""Compute and images of stage pods: the parts of a spec that say where and on what a stage runs."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, create_model, field_validator

from model_hospital.api import admission
from model_hospital.api.admission import DNS_SUBDOMAIN_PATTERN
from model_hospital.api.base import Resource
from model_hospital.api.protocol import PROTOCOL


class Toleration(Resource):
    """A Kubernetes toleration, copied onto the stage's pod."""

    key: str | None = Field(None, max_length=317, description="Taint key the toleration applies to; empty with operator Exists matches all taints.")
    operator: Literal["Exists", "Equal"] | None = Field(None, description="Exists or Equal (the default).")
    value: str | None = Field(None, max_length=63, description="Taint value the toleration matches (operator Equal).")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        None, description="Taint effect to match; empty matches all effects.")
    toleration_seconds: int | None = Field(None, ge=0, description="For NoExecute: how long the pod stays bound after the taint appears.")


class StageResources(Resource):
    """Compute for a stage's pod; unset fields fall back to the operator's defaults (Helm values)."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": admission.STAGE_RESOURCES_RULES})

    cpu: int | str | None = Field(None, description="CPU request and limit, a Kubernetes quantity such as 2 or 500m.")
    memory: int | str | None = Field(None, description="Memory request and limit, a Kubernetes quantity such as 8Gi.")
    max_memory: int | str | None = Field(
        None, description="After an OOM kill, retry with twice the memory up to this quantity; unset: an OOM kill "
                          "fails the stage.")
    gpu: int | None = Field(None, ge=0, le=64, description="Number of nvidia.com/gpu to request (0: CPU only).")
    node_selector: dict[str, str] | None = Field(None, max_length=32, description="Node labels the pod must match.")
    tolerations: list[Toleration] | None = Field(None, max_length=32, description="Taints the pod tolerates (e.g. GPU nodes).")
    priority_class_name: str | None = Field(
        None, pattern=DNS_SUBDOMAIN_PATTERN, max_length=253, description="PriorityClass of the pod.")

    @field_validator("cpu", "memory", "max_memory")
    @classmethod
    def _quantity(cls, value, info):
        return admission.check_quantity(value, info.field_name)

    @field_validator("node_selector")
    @classmethod
    def _labels(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key, label in (value or {}).items():
            admission.check_label(key, label)
        return value


# One field per stage of the protocol, in its order: a stage declared there has its image and compute here.
StageImages = create_model(
    "StageImages", __base__=Resource,
    __doc__="Container image per stage; unset stages use the operator's defaults (Helm values).",
    **{declared.name: (str | None, Field(None, max_length=512, description=f"Image of the {declared.name} stage."))
       for declared in PROTOCOL})

StageResourcesByStage = create_model(
    "StageResourcesByStage", __base__=Resource,
    __doc__="Compute per stage of a treatment; unset stages use the operator's defaults.",
    **{declared.name: (StageResources | None, Field(None, description=f"Compute of the {declared.name} stage "
                                                                     f"({declared.what})."))
       for declared in PROTOCOL})
