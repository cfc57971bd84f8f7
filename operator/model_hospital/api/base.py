"""Bases of the models: the resources' (camelCase on the wire, and the Secret reference every kind uses) and the
stages' contract's (snake_case, with the failure rate every report gives).

Apart from api/resources.py and api/stages.py so that the modules holding parts of them
(api/serving.py, api/public.py) share them without importing what they are part of.
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


class Model(BaseModel):
    """The base of the stages' contract (inputs, results, reports): snake_case, unknown fields refused."""

    model_config = ConfigDict(extra="forbid")



class RateEstimate(Model):
    """A failure rate with its denominator and Wilson 95 % interval."""

    failures: int = Field(ge=0, description="Answers the judge failed.")
    scored: int = Field(ge=0, description="Answers the judge could score (the denominator).")
    unscored: int = Field(0, ge=0, description="Answers the judge could not score; not failures.")
    failure_rate: float | None = Field(None, ge=0, le=1, description="failures / scored; null when nothing was scored.")
    interval: tuple[float, float] | None = Field(None, description="Wilson 95 % interval of the failure rate.")
    degenerate: int = Field(0, ge=0, description="Answers that are no answer (empty, garbled, an echo of the prompt, "
                                                  "a sentence looped to the token limit), scored or not.")
