"""Spec fields for a user's own data on Kubernetes: suites from ConfigMaps, public sets from a claim.

Used by `ModelPatientSpec` and `TreatmentSpec` (api/resources.py); the controller
mounts what they name into the stage Jobs (controller/stage_inputs.py) and passes
the paths in the stage inputs (`SuiteFiles`, `PublicSet`). Formats: docs/suites.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from model_hospital.api.admission import DNS_SUBDOMAIN_PATTERN
from model_hospital.api.stages import PUBLIC_SETS

# A file on the artifact volume or the model cache ('/absolute/path') or on a claim ('pvc://CLAIM/path').
DATA_PATH_PATTERN = (
    r"^(/[A-Za-z0-9._@+-]+(/[A-Za-z0-9._@+-]+)*"
    r"|pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(/[A-Za-z0-9._@+-]+)+)$"
)
CONFIG_MAP_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ConfigMapKeyRef(_Spec):
    """A key of a ConfigMap in the resource's namespace, holding one suite file."""

    config_map: str = Field(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253,
                            description="Name of the ConfigMap, in the same namespace.")
    key: str = Field(pattern=CONFIG_MAP_KEY_PATTERN, max_length=253,
                     description="Key inside the ConfigMap whose value is the suite (JSONL, docs/suites.md).")


class SuitesSpec(_Spec):
    """A user's own probe and skill suites, each replacing the packaged suite of the symptoms or domains it holds."""

    probes: list[ConfigMapKeyRef] = Field(default_factory=list, max_length=8,
                                          description="Probe suites (JSONL), mounted read-only into the stage Jobs.")
    skills: list[ConfigMapKeyRef] = Field(default_factory=list, max_length=8,
                                          description="Skill suites (JSONL), mounted read-only into the verify Jobs.")


class PublicSetSpec(_Spec):
    """A public set from the user's own copy, checked as extra held-out prompts: reported apart, never cure data."""

    name: Literal[PUBLIC_SETS] = Field(description=f"Which set: {', '.join(PUBLIC_SETS)}.")
    path: str = Field(pattern=DATA_PATH_PATTERN, max_length=512,
                      description="The file in the set's published format: 'pvc://CLAIM/path' (mounted read-only) "
                                  "or '/absolute/path' inside the worker. No '.' or '..' segments.")

    @field_validator("path")
    @classmethod
    def _confined(cls, value: str) -> str:
        inside = value[len("pvc://"):].partition("/")[2] if value.startswith("pvc://") else value
        if any(segment in (".", "..") for segment in inside.split("/")):
            raise ValueError(f"{value!r} has a '.' or '..' segment: give the file itself")
        return value
