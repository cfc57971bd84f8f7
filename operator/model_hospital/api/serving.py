"""Spec fields for models that are served, and for how a stage generates: parts of ModelPatient and Treatment.

A patient's model is either weights (`spec.model.reference`) or an OpenAI-compatible
endpoint that serves it (`spec.model.endpoint`): a served patient is diagnosed and
checked up where it runs, but it cannot be treated (training needs weights).
`spec.generation` picks the inference engine (vLLM asks for the GPU image) and its
knobs. Like api/resources.py, nothing here imports an ML library.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from model_hospital.api.admission import cel
from model_hospital.api.base import Resource, SecretKeyRef
from model_hospital.api.stages import ENDPOINT_URL_PATTERN, GenerationSettings

# The patient's model is weights or an endpoint, exactly one (PatientModel's own rule, added to its list).
WEIGHTS_OR_ENDPOINT_RULE = cel("has(self.reference) != has(self.endpoint)",
                               "give the model as weights (reference) or as a served endpoint (endpoint), one of them")
GENERATION_RULES = [cel("!has(self.tensorParallelSize) || self.tensorParallelSize == 1 "
                        "|| (has(self.engine) && self.engine == 'vllm')",
                        "tensorParallelSize above 1 needs engine vllm", ".tensorParallelSize")]


def needs_weights(model_name: str) -> str:
    """Why a served model cannot be treated, and what to do instead (one line)."""
    return (f"{model_name} is a served endpoint, and a treatment fine-tunes weights: make a ModelPatient that names "
            "the model's weights (spec.model.reference) and treat that one")


class EndpointSpec(Resource):
    """An OpenAI-compatible server (vLLM, KServe, any /v1/chat/completions) that answers for the patient."""

    url: str = Field(pattern=ENDPOINT_URL_PATTERN, max_length=512,
                     description="Base URL of the API, e.g. http://llama.serving.svc:8000/v1; probes go to its "
                                 "/chat/completions. Must be allowed by the operator's policy.allowedUrls.")
    model: str = Field(min_length=1, max_length=512, description="The model's name on the server, sent with every request.")
    api_key_secret_ref: SecretKeyRef | None = Field(
        None, description="Secret key holding the API key; passed to the Job as an environment variable, never logged.")
    num_workers: int = Field(4, ge=1, le=256, description="Requests in flight at once.")


class GenerationSpec(Resource):
    """How a stage generates answers: the inference engine and its settings."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": GENERATION_RULES})

    engine: Literal["native", "vllm"] = Field(
        "native", description="native (transformers, CPU or one GPU) or vllm (GPU: the stage runs in the GPU image "
                              "and asks for tensorParallelSize GPUs when its resources ask for none).")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] | None = Field(
        None, description="Weights' dtype; unset: float32 with native (fastest on CPU), bfloat16 with vllm.")
    tensor_parallel_size: int = Field(1, ge=1, le=64, description="vLLM: GPUs one model is split over.")
    max_model_len: int | None = Field(None, ge=128, le=1048576,
                                      description="Longest prompt plus answer in tokens; unset: 2048.")

    @model_validator(mode="after")
    def _parallel_needs_vllm(self) -> "GenerationSpec":
        if self.tensor_parallel_size > 1 and self.engine != "vllm":
            raise ValueError("tensorParallelSize above 1 needs engine vllm")
        return self

    def settings(self) -> GenerationSettings:
        """The stage's GenerationSettings for this spec."""
        dtype = self.dtype or ("bfloat16" if self.engine == "vllm" else "float32")
        return GenerationSettings(engine=self.engine, dtype=dtype, tensor_parallel_size=self.tensor_parallel_size,
                                  max_model_len=self.max_model_len)

    @property
    def gpus(self) -> int:
        """GPUs the engine cannot run without (0 for native)."""
        return self.tensor_parallel_size if self.engine == "vllm" else 0
