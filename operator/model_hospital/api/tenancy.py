"""Tenancy: what a ModelPatient or Treatment may ask of the operator (Helm value `policy`), and where
stage pods may connect to (Helm value `stageNetworkPolicy`).

TenancyPolicy is shared by the chart's values (tools/chart_values.py) and the
operator's settings (controller/settings.py, from $HOSPITAL_POLICY);
controller/policy.py applies it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class TenancyPolicy(BaseModel):
    """What a ModelPatient or Treatment may ask of the operator beyond its own defaults (Helm value `policy`).

    Creating these kinds is as strong as creating pods: a stage Job runs an image with
    the namespace's Secrets and claims. Each list is glob patterns (`*` allows anything);
    an empty list allows nothing beyond the operator's own configuration.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)

    allowed_images: list[str] = Field(
        default_factory=list, description="Images a spec may name (spec.image, spec.images.*); the chart's own always pass.")
    allowed_urls: list[str] = Field(
        default_factory=list,
        description="URLs an LLM judge, a teacher or a served patient may be reached at (spec.judge.apiUrl, "
                    "spec.cure.teacher.apiUrl, spec.model.endpoint.url): globs, or prefixes ending in '/'.")
    allowed_secrets: list[str] = Field(
        default_factory=list, description="Secrets a spec may reference (API keys, Hugging Face tokens).")
    allowed_claims: list[str] = Field(
        default_factory=list, description="PersistentVolumeClaims a spec may mount (pvc:// model references and output paths).")


class StageNetworkPolicy(BaseModel):
    """A NetworkPolicy that fences stage pods' egress: DNS, plus the peers listed here."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    enabled: bool = Field(False, description="Render a NetworkPolicy for stage pods in every namespace it serves.")
    namespaces: list[str] = Field(
        default_factory=list, max_length=64,
        description="Namespaces to fence; in namespaced mode the served namespaces when empty (in cluster-wide mode "
                    "list them, the chart cannot know them).",
        json_schema_extra={"items": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}})
    egress: list[dict[str, Any]] = Field(
        default_factory=list,
        description="NetworkPolicyEgressRules stage pods may use besides DNS (the Hugging Face hub, a judge endpoint, "
                    "object storage); nothing else when empty.")
