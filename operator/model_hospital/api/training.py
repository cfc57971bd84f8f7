"""How a Treatment fine-tunes (spec.training), and what its last training did (status.training).

Apart from api/resources.py, which re-exports these, so that the training surface reads in
one place. The watch's fields are `WatchSettings`' own (the stage input the train Job gets):
one definition, camelCase on the wire.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, create_model, field_validator, model_validator

from model_hospital.api import admission
from model_hospital.api.base import Resource, StatusModel
from model_hospital.api.stages import TRAINING_OVERRIDES, TrainingMethod, WatchSettings, check_overrides

MAX_TRAINING_MESSAGE = 512
# WatchSettings.prompts is where the train stage writes this run's validation prompts, never a user's to set.
_WATCH_FIELDS = {name: (field.annotation, field) for name, field in WatchSettings.model_fields.items()
                 if name != "prompts"}


class WatchSpec(create_model("_WatchFields", __base__=Resource, **_WATCH_FIELDS)):
    """Training that watches itself: a validation split of the cure data (cure prompts and benign look-alikes),
    answered and judged every everySteps steps; training stops early when over-refusal or the share of wrong
    answers to the look-alikes (wrong, dangerous or falsely reassuring) rises past overRefusalMargin, or when the
    target rate stops improving, and the adapter saved is the best step's within that margin."""

    def settings(self) -> WatchSettings:
        """The train stage's WatchSettings for this spec."""
        return WatchSettings(**self.model_dump())


class TrainingSpec(Resource):
    """How to fine-tune."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": admission.TRAINING_RULES})

    method: TrainingMethod = Field(
        "sft", description="sft (supervised), dpo (preference pairs), grpo, or sft_dpo: SFT, then DPO starting from "
                           "the SFT adapter, in one train stage that leaves one adapter.")
    overrides: dict[str, Any] | None = Field(
        None, description=f"Training fields set over the recipe's choices: {', '.join(TRAINING_OVERRIDES)}; "
                          "any other key is refused.")
    merge: bool = Field(False, description="Also write a merged model next to the LoRA adapter.")
    max_steps: int | None = Field(None, ge=1, description="Stop training after this many steps.")
    q_lora: bool = Field(False, description="QLoRA: the adapter trains over 4-bit base weights (bitsandbytes), for "
                                            "large models; the train stage then runs in the GPU image with a GPU.")
    nodes: int = Field(1, ge=1, le=64, description="Pods training together (PyTorch distributed through Oumi's "
                                                   "torchrun launcher): more than one makes the train Job an Indexed "
                                                   "Job with a headless Service for the rendezvous. The artifact claim "
                                                   "must then be ReadWriteMany.")
    gpus_per_node: int | None = Field(None, ge=1, le=16, description="GPUs of each training pod, one training "
                                                                     "process each; unset: one process (CPU, or the "
                                                                     "train stage's resources).")
    launcher: Literal["Job", "JobSet", "TrainJob"] = Field(
        "Job", description="What runs the nodes of the train stage: an Indexed Job with a headless Service (Job), "
                           "a JobSet (jobset.x-k8s.io/v1alpha2) or a Kubeflow Trainer TrainJob "
                           "(trainer.kubeflow.org/v1alpha1). JobSet and TrainJob need their controller installed; "
                           "when the cluster does not serve the kind, the treatment waits with reason "
                           "LauncherUnavailable and starts no pods.")
    training_runtime: str = Field(
        "torch-distributed", min_length=1, max_length=253,
        description="The ClusterTrainingRuntime a TrainJob refers to (launcher TrainJob only).")
    watch: WatchSpec | None = Field(
        None, description="Evaluate during training on a validation split of the cure and stop early when "
                          "over-refusal or wrong answers to the look-alikes rise past overRefusalMargin or the "
                          "target rate stops improving; status.training shows the step kept and its rates. Off "
                          "when unset. One training process only (nodes 1, gpusPerNode 1).")

    @field_validator("overrides")
    @classmethod
    def _known_overrides(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_overrides(value)

    @field_validator("watch")
    @classmethod
    def _watch_in_one_process(cls, value: WatchSpec | None, info: ValidationInfo) -> WatchSpec | None:
        if value is not None and not _one_process(info.data.get("nodes", 1), info.data.get("gpus_per_node")):
            raise ValueError(admission.WATCH_ONE_PROCESS)
        return value

    @model_validator(mode="after")
    def _sft_dpo_in_one_process(self) -> "TrainingSpec":
        if self.method == "sft_dpo" and not _one_process(self.nodes, self.gpus_per_node):
            raise ValueError(admission.SFT_DPO_ONE_PROCESS)
        return self


def _one_process(nodes: int, gpus_per_node: int | None) -> bool:
    return nodes == 1 and (gpus_per_node or 1) == 1


class TrainingOutcome(StatusModel):
    """What the last training did: its method and, when it was watched, the step whose weights were kept."""

    attempt: int | None = Field(None, description="The attempt whose train stage this describes.")
    method: str | None = Field(None, description="sft, dpo, grpo or sft_dpo.")
    phases: list[str] | None = Field(None, max_length=4, description="The phases trained in order (sft_dpo: sft, dpo).")
    watched: bool | None = Field(None, description="The watch judged the validation split during training; false "
                                                   "when it was asked for but could not run (see message).")
    evaluations: int | None = Field(None, description="Evaluations of the validation split, the one before training "
                                                      "included.")
    chosen_step: int | None = Field(None, description="The training step whose weights the adapter holds "
                                                      "(0: the weights before training).")
    stopped_early: bool | None = Field(None, description="The watch stopped training before its last step.")
    target_rate: float | None = Field(None, description="Passing share of the validation cure prompts at the chosen step.")
    over_refusal: float | None = Field(None, description="Refusing share of the validation look-alikes at the chosen step.")
    lookalike_wrong: float | None = Field(
        None, description="Share of the validation look-alikes answered as help that is not, at the chosen step: a "
                          "wrong answer to an answerable one, dangerous advice or false reassurance.")
    message: str | None = Field(None, max_length=MAX_TRAINING_MESSAGE, description="Why that step was kept, why training stopped, or "
                                                                  "why it was not watched.")
