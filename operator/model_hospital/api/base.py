"""Bases of the resource models: camelCase on the wire, and the Secret reference every kind uses.

Apart from api/resources.py so that the modules holding parts of a spec (api/serving.py)
share them without importing the resources they are part of.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from model_hospital.api.admission import DNS_SUBDOMAIN_PATTERN


class Resource(BaseModel):
    """Base of every resource model: camelCase on the wire, unknown fields rejected."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class StatusModel(BaseModel):
    """Base of status models: camelCase on the wire; fields we do not know (kopf's) are ignored."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True)


class SecretKeyRef(Resource):
    """A key of a Secret in the resource's namespace."""

    name: str = Field(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253,
                      description="Name of the Secret, in the same namespace.")
    key: str = Field("token", min_length=1, max_length=253,
                     description="Key inside the Secret whose value is used.")
