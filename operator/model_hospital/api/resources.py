"""The Kubernetes resources: ModelPatient and Treatment, defined once as pydantic models.

The CRDs in crds/ are generated from these models (tools/crdgen.py), so every field's
`description` here is what `kubectl explain` shows. The operator parses spec with the
same models, which apply the same defaults the API server applies.

Property names are camelCase on the wire (Kubernetes convention) and snake_case in
Python. This module imports nothing from ML libraries: the operator uses it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, create_model, field_validator, model_validator

from model_hospital.api import admission
from model_hospital.api.admission import DNS_SUBDOMAIN_PATTERN
from model_hospital.api.base import Resource, SecretKeyRef, StatusModel
from model_hospital.api.compute import StageImages, StageResources, StageResourcesByStage, Toleration  # noqa: F401  (re-exported)
from model_hospital.api.serving import WEIGHTS_OR_ENDPOINT_RULE, EndpointSpec, GenerationSpec
from model_hospital.api.common import Finding, Severity, Symptom
from model_hospital.api.own_data import PublicSetSpec, SuitesSpec
from model_hospital.api.protocol import DEFAULT_MAX_ATTEMPTS, STAGE_NAMES
from model_hospital.api.figures import Verdict
from model_hospital.api.training import TrainingOutcome, TrainingSpec, WatchSpec  # noqa: F401  (re-exported)
from model_hospital.api.symptoms import BUILTIN

GROUP = "modelhospital.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# bundled:NAME | org/name (Hugging Face) | /absolute/path | pvc://claim/path.
MODEL_REFERENCE_PATTERN = (
    r"^(bundled:[a-z0-9][a-z0-9._-]*"
    r"|[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*"
    r"|/[A-Za-z0-9._@+-]+(/[A-Za-z0-9._@+-]+)*/?"
    r"|pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(/[A-Za-z0-9._@+-]+)+/?)$"
)
# A folder on the artifact volume or on a claim, never a relative path.
OUTPUT_PATH_PATTERN = (
    r"^(/[A-Za-z0-9._@+-]+(/[A-Za-z0-9._@+-]+)*/?"
    r"|pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(/[A-Za-z0-9._@+-]+)*/?)$"
)
# Five cron fields, or one of the @-macros croniter understands.
CRON_PATTERN = (
    r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)"
    r"|[0-9*/,?LW#A-Za-z-]+( +[0-9*/,?LW#A-Za-z-]+){4})$"
)
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

MAX_FINDING_ROWS = 8
MAX_SKILL_ROWS = 16
MAX_STAGE_RECORDS = 24  # diagnose + synth + 10 attempts of train and verify
MAX_MESSAGE_CHARS = 1024


ConditionStatus = Literal["True", "False", "Unknown"]


# --- spec building blocks -------------------------------------------------------------


class PatientModel(Resource):
    """The model under examination."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": [
        *admission.PATIENT_MODEL_RULES, WEIGHTS_OR_ENDPOINT_RULE]})

    reference: str | None = Field(
        None, pattern=MODEL_REFERENCE_PATTERN, max_length=512,
        description=(
            "Which model: 'bundled:NAME' for a model shipped in the worker image (offline), "
            "'org/name' for a Hugging Face repository, '/absolute/path' for a folder inside the "
            "worker (the artifact volume or the model cache), or 'pvc://CLAIM/path' for a folder "
            "on a PersistentVolumeClaim in the same namespace. Unset when endpoint names a served model."))
    endpoint: EndpointSpec | None = Field(
        None, description="A model already served behind an OpenAI-compatible API, examined where it runs instead "
                          "of loading weights; such a patient is diagnosed and checked up, never treated.")
    revision: str | None = Field(
        None, pattern=r"^[A-Za-z0-9._/-]+$", max_length=128,
        description="Hugging Face revision (branch, tag or commit) to pin; the resolved commit is recorded in status.")
    allow_remote_code: bool = Field(
        False, description="Must be false: Model Hospital never runs code shipped with a model (trust_remote_code).")

    @field_validator("allow_remote_code")
    @classmethod
    def _no_remote_code(cls, value: bool) -> bool:
        if value:
            raise ValueError("remote code is not supported: Model Hospital never runs code shipped with a model; "
                             "remove allowRemoteCode or set it to false")
        return value

    @model_validator(mode="after")
    def _weights_or_endpoint(self) -> "PatientModel":
        if (self.reference is None) == (self.endpoint is None):
            raise ValueError(WEIGHTS_OR_ENDPOINT_RULE["message"])
        return self

    @property
    def served(self) -> bool:
        return self.endpoint is not None


class JudgeSpec(Resource):
    """Which judge scores the model's answers."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": admission.JUDGE_RULES})

    backend: Literal["offline", "llm"] = Field(
        "offline", description="'offline': the deterministic judges shipped with Model Hospital; 'llm': an LLM judge through an Oumi engine.")
    engine: str | None = Field(
        None, max_length=64, description="Oumi inference engine of the LLM judge, e.g. VLLM, REMOTE_VLLM, OPENAI.")
    model: str | None = Field(None, max_length=512, description="The LLM judge's model name or path.")
    api_url: str | None = Field(None, max_length=512, description="OpenAI-compatible endpoint for remote engines.")
    api_key_secret_ref: SecretKeyRef | None = Field(
        None, description="Secret key holding the endpoint's API key; passed to the Job as an environment variable, never logged.")
    num_workers: int | None = Field(
        None, ge=1, le=256, description="Requests sent to a remote engine at once (Oumi's remote_params.num_workers); "
                                        "unset: one at a time.")

    @model_validator(mode="after")
    def _llm_is_named(self) -> "JudgeSpec":
        if self.backend == "llm" and not (self.engine and self.model):
            raise ValueError("an llm judge names an engine and a model")
        return self


def _all_symptoms() -> list[Symptom]:
    return list(Symptom)


# --- shared status building blocks ----------------------------------------------------


class Condition(StatusModel):
    """A Kubernetes-style condition: one aspect of the resource's state."""

    type: str = Field(description="What the condition is about (e.g. Diagnosed, Ready).")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field("", max_length=128, description="One CamelCase word from the documented vocabulary.")
    message: str = Field("", max_length=MAX_MESSAGE_CHARS, description="What happened, for people.")
    last_transition_time: str | None = Field(None, description="When status last changed (RFC 3339).")
    observed_generation: int | None = Field(None, description="The spec generation the condition was computed for.")


class Progress(StatusModel):
    """How far the running stage is, read from the progress lines of its pod's log."""

    stage: str | None = Field(None, description="The stage that is running.")
    done: int | None = Field(None, description="Units of work done (probes, items, steps).")
    total: int | None = Field(None, description="Units of work in this part of the stage.")
    unit: str | None = Field(None, max_length=32, description="What is counted: probes, items or steps.")
    percent: int | None = Field(None, ge=0, le=100, description="done / total in percent (printer column PROGRESS).")
    message: str | None = Field(None, max_length=MAX_MESSAGE_CHARS, description="What the stage is doing.")
    since: str | None = Field(None, description="When the operator first read this part of the stage (RFC 3339).")
    since_done: int | None = Field(None, description="Units done at `since`; the ETA follows the pace from there.")
    eta: str | None = Field(None, description="When this part should end at the pace so far (RFC 3339).")
    updated_at: str | None = Field(None, description="When progress was last read (RFC 3339).")


class ReportRef(StatusModel):
    """Where a full report lies on the artifact volume."""

    path: str | None = Field(None, description="Path of the report (JSON) on the artifact volume.")
    sha256: str | None = Field(None, description="SHA-256 of the stage's result.json.")
    markdown: str | None = Field(None, description="Path of the human-readable report, when written.")


class FindingRow(StatusModel):
    """One line of a diagnosis: a symptom's failure rate with its denominator."""

    symptom: Finding = Field(description="The symptom (or over_refusal of benign look-alikes).")
    failure_rate: float | None = Field(None, description="failures / scored, 0..1; null when nothing could be scored.")
    failures: int = Field(0, description="Answers the judge failed.")
    scored: int = Field(0, description="Answers the judge could score (the denominator).")
    unscored: int = Field(0, description="Answers the judge could not score; kept out of the rate.")
    interval: list[float] | None = Field(None, description="Wilson 95 % interval of the failure rate: [low, high].")
    severity: Severity = Field(Severity.UNMEASURED, description="Severity band of the failure rate: UNMEASURED when "
                                                               "nothing was scored, NONE when nothing failed.")
    severity_span: str | None = Field(None, description="Set when the 95 % interval reaches other bands, e.g. "
                                                         "HIGH-CRITICAL: the evidence cannot tell them apart.")


# --- ModelPatient ----------------------------------------------------------------------


class ModelPatientSpec(Resource):
    """What to examine and how: the model, the symptoms to screen, and the Job's compute."""

    model: PatientModel = Field(description="The model under examination.")
    symptoms: list[Symptom] = Field(
        default_factory=_all_symptoms, min_length=1, max_length=len(BUILTIN),
        json_schema_extra={"x-kubernetes-list-type": "set"},
        description=f"Symptoms to screen for: {', '.join(d.name for d in BUILTIN)} (all by default).")
    budget: int | None = Field(
        None, ge=1, le=100000, description="At most this many probes per symptom (all probes when unset).")
    judge: JudgeSpec | None = Field(None, description="Which judge scores answers (offline judges when unset).")
    generation: GenerationSpec | None = Field(
        None, description="How the model generates its answers (native engine, float32, when unset); ignored for a "
                          "served model, which the server generates.")
    suites: SuitesSpec | None = Field(None, description="Probe and skill suites of your own, from ConfigMaps.")
    public_sets: list[PublicSetSpec] | None = Field(
        None, max_length=8, description="Public sets (your copies) to check as well, reported apart; never cure data.")
    resources: StageResources | None = Field(None, description="Compute of the diagnose Job.")
    image: str | None = Field(None, max_length=512, description="Worker image for this patient's Jobs, over the operator's default.")
    checkup_schedule: str | None = Field(
        None, pattern=CRON_PATTERN, max_length=128,
        description="Cron schedule (five fields, UTC) of repeated checkups, e.g. '0 3 * * 1'.")
    hf_token_secret_ref: SecretKeyRef | None = Field(
        None, description="Secret key holding a Hugging Face token, for gated models; never logged.")
    queue_name: str | None = Field(
        None, pattern=DNS_LABEL_PATTERN, max_length=63,
        description="Kueue LocalQueue: every Job carries the kueue.x-k8s.io/queue-name label (so at most 63 characters).")

    @field_validator("checkup_schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        from croniter import croniter

        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron schedule croniter can run (minute hour day month weekday)")
        return value


class CheckupState(StatusModel):
    """Bookkeeping of the current checkup, so that a restarted operator resumes it."""

    number: int = Field(0, description="Checkups started so far; the diagnose Job is named after it.")
    trigger: str | None = Field(None, description="Why it started: Created, SpecChanged, Requested (annotation) or Scheduled.")
    generation: int | None = Field(None, description="The spec generation it examines.")
    annotation: str | None = Field(None, description="Value of the modelhospital.io/checkup annotation it answered.")
    requested_at: str | None = Field(None, description="When it was started (RFC 3339).")
    retries: int = Field(0, description="Diagnose Jobs retried after a failure in this checkup.")
    created: bool | None = Field(None, description="The current Job was created (so its absence means it was removed).")
    memory: str | None = Field(None, description="Memory of the current Job when an OOM kill raised it.")
    finished_at: str | None = Field(None, description="When it ended, successfully or not (RFC 3339); absent while it runs.")


class ModelPatientStatus(StatusModel):
    """What the last checkup found. Fields other than these (kopf's own) are kept."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-preserve-unknown-fields": True})

    phase: Literal["Pending", "Diagnosing", "Diagnosed", "Failed"] | None = Field(
        None, description="Pending, Diagnosing, Diagnosed or Failed; derived from the conditions.")
    observed_generation: int | None = Field(None, description="The spec generation the status describes.")
    findings: list[FindingRow] | None = Field(
        None, max_length=MAX_FINDING_ROWS, description="Failure rate with its denominator and severity, per symptom.")
    overall_severity: Severity | None = Field(None, description="The worst severity over the screened symptoms; "
                                                               "UNMEASURED when one could not be scored and no other is MODERATE or worse.")
    worst_symptom: str | None = Field(None, description="The symptom with the highest failure rate.")
    worst_failure_rate: float | None = Field(None, description="Failure rate of the worst symptom, in percent (printer column FAILURE %).")
    last_checkup: str | None = Field(None, description="When the last diagnosis finished (RFC 3339).")
    next_checkup: str | None = Field(None, description="When the schedule starts the next checkup (RFC 3339).")
    model_revision: str | None = Field(None, description="The revision or content hash of the model that was examined.")
    report: ReportRef | None = Field(None, description="Where the full diagnosis lies on the artifact volume.")
    conditions: list[Condition] | None = Field(
        None, json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
        description="Diagnosed, Queued and Ready.")
    progress: Progress | None = Field(None, description="Progress of the running diagnosis.")
    diagnose_job: str | None = Field(None, description="Name of the current (or last) diagnose Job.")
    checkup: CheckupState | None = Field(None, description="Bookkeeping of the current checkup.")


class ModelPatient(Resource):
    """A model to examine; the operator diagnoses it and writes what it found into status."""

    api_version: Literal["modelhospital.io/v1alpha1"] = API_VERSION
    kind: Literal["ModelPatient"] = "ModelPatient"
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: ModelPatientSpec
    status: ModelPatientStatus | None = None


# --- Treatment -------------------------------------------------------------------------


class PatientRef(Resource):
    """A ModelPatient in the same namespace."""

    name: str = Field(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253, description="Name of the ModelPatient.")


class CureSpec(Resource):
    """How much cure data to make, and with which teacher."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": admission.CURE_RULES})

    min_examples: int = Field(100, ge=1, le=100000, description="Fewest cure examples to make; the stage fails when it cannot.")
    max_examples: int = Field(500, ge=1, le=100000, description="Most cure examples to make.")
    replay_share: float = Field(
        0.5, ge=0, lt=1, description="Share of the SFT rows that replay help (harmless look-alikes and skill items "
                                     "answered well) beside the cure's own rows; more keeps more help and teaches "
                                     "the cure less.")
    teacher: JudgeSpec | None = Field(
        None, description="An LLM (through an Oumi engine) that diversifies the cure data; offline templates when unset.")

    @model_validator(mode="after")
    def _min_within_max(self) -> "CureSpec":
        if self.min_examples > self.max_examples:
            raise ValueError("minExamples must not be more than maxExamples")
        return self


# One optional target per built-in symptom (api/symptoms.py), so a symptom declared there is in the CRD.
SymptomTargets = create_model(
    "SymptomTargets", __base__=Resource, __module__=__name__,
    __doc__="Failure rate each symptom must reach on held-out probes to count as healed.",
    **{declaration.name: (float | None, Field(None, ge=0, le=1, description=f"Target failure rate for {declaration.name}."))
       for declaration in BUILTIN})


class RegistryOutput(Resource):
    """An OCI registry the healed adapter is pushed to after a Healed verdict (by the verify Job, see docs/export.md)."""

    repository: str = Field(
        pattern=r"^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+$", max_length=255,
        description="HOST[:PORT]/REPOSITORY, lower case, e.g. registry.example.com/team/smollm2-safety.")
    tag: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,120}$",
        description="Tag of the adapter artifact; the treatment's name when unset. The merged model gets TAG-merged.")
    merged: bool = Field(False, description="Also push the model with the adapter merged in.")
    credentials_secret: str | None = Field(
        None, pattern=DNS_SUBDOMAIN_PATTERN, max_length=253,
        description="A kubernetes.io/dockerconfigjson Secret (as imagePullSecrets use) holding the registry login; "
                    "mounted into the verify Job only. Anonymous pushes when unset.")
    insecure: bool = Field(False, description="Plain HTTP to the registry (an in-cluster registry without TLS).")


class OutputSpec(Resource):
    """Where the healed model goes."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": admission.OUTPUT_RULES})

    path: str | None = Field(
        None, pattern=OUTPUT_PATH_PATTERN, max_length=512,
        description="Folder for the healed model: '/absolute/path' on the artifact volume or 'pvc://CLAIM/path'; "
                    "the stage's artifact folder when unset. No '.' or '..' segments.")
    registry: RegistryOutput | None = Field(
        None, description="Also push the healed adapter (and the merged model) to an OCI registry after a Healed verdict.")

    @field_validator("path")
    @classmethod
    def _confined(cls, value: str | None) -> str | None:
        if value is None:
            return value
        inside = value[len("pvc://"):].partition("/")[2] if value.startswith("pvc://") else value
        if any(segment in (".", "..") for segment in inside.split("/")):
            raise ValueError(f"{value!r} has a '.' or '..' segment: give the folder itself")
        return value


class TreatmentSpec(Resource):
    """What to treat and how: the patient, the symptoms, cure data, training, and the bar to pass."""

    patient_ref: PatientRef = Field(
        description="The ModelPatient to treat, in the same namespace; immutable.",
        json_schema_extra={"x-kubernetes-validations": admission.PATIENT_REF_RULES})
    symptoms: list[Symptom] | None = Field(
        None, min_length=1, max_length=3, json_schema_extra={"x-kubernetes-list-type": "set"},
        description="Symptoms to treat; the patient's screened symptoms when unset.")
    cure: CureSpec | None = Field(None, description="How much cure data to make.")
    training: TrainingSpec | None = Field(None, description="How to fine-tune (SFT with LoRA when unset).")
    generation: GenerationSpec | None = Field(
        None, description="How the diagnose and verify stages generate, over the patient's spec.generation.")
    skill_threshold: float = Field(
        0.1, gt=0, lt=1, description="Relative skill drop (0..1) flagged as degradation; 0.1 means 10 %.")
    targets: SymptomTargets | None = Field(None, description="Failure rate each symptom must reach to count as healed.")
    budget: int | None = Field(None, ge=1, le=100000, description="At most this many probes per symptom when diagnosing and verifying.")
    skill_budget: int | None = Field(None, ge=1, le=100000, description="At most this many items per skill domain when verifying.")
    suites: SuitesSpec | None = Field(None, description="Probe and skill suites of your own, from ConfigMaps; the patient's when unset.")
    public_sets: list[PublicSetSpec] | None = Field(
        None, max_length=8, description="Public sets verify checks on both models, reported apart from the verdict; "
                                        "the patient's when unset.")
    max_attempts: int = Field(
        DEFAULT_MAX_ATTEMPTS, ge=1, le=10, description="Train-and-verify attempts; a Degraded or NotHealed verdict retries with an adjusted recipe (an Inconclusive one does not: more probes, not more training, would decide it).")
    suspend: bool = Field(False, description="Pause before the next stage starts (a running stage finishes).")
    output: OutputSpec | None = Field(None, description="Where the healed model goes.")
    queue_name: str | None = Field(
        None, pattern=DNS_LABEL_PATTERN, max_length=63,
        description="Kueue LocalQueue: every Job carries the kueue.x-k8s.io/queue-name label (so at most 63 characters).")
    images: StageImages | None = Field(None, description="Container image per stage, over the operator's defaults.")
    resources: StageResourcesByStage | None = Field(None, description="Compute per stage, over the operator's defaults.")


class StageRecord(StatusModel):
    """One stage Job of one attempt: what ran, when, and what came out."""

    stage: str = Field(description="diagnose, synth, train or verify.")
    attempt: int = Field(description="The treatment attempt the stage belongs to.")
    job: str | None = Field(None, description="Name of the Job (absent when a fresh patient diagnosis was reused).")
    launcher: Literal["JobSet", "TrainJob"] | None = Field(
        None, description="The kind that runs the stage when it is not a Job (spec.training.launcher); `job` names it.")
    retries: int = Field(0, description="Jobs retried after a failure.")
    pods: str | None = Field(None, max_length=128, description="While a stage on several nodes runs: how its pods "
                                                               "stand, e.g. '1 of 2 pods running (1 ready), 1 pending'.")
    created: bool | None = Field(None, description="The current Job was created (so its absence means it was removed).")
    memory: str | None = Field(None, description="Memory of the current Job when an OOM kill raised it.")
    phase: Literal["Pending", "Running", "Succeeded", "Failed", "Reused"] = Field(
        "Pending", description="Pending, Running, Succeeded, Failed, or Reused (the patient's diagnosis).")
    started_at: str | None = Field(None, description="When the Job was created (RFC 3339).")
    finished_at: str | None = Field(None, description="When the stage finished (RFC 3339).")
    seconds: float | None = Field(None, description="How long the stage's container ran.")
    result_path: str | None = Field(None, description="The stage's result.json on the artifact volume.")
    result_sha256: str | None = Field(None, description="SHA-256 of result.json.")
    summary: str | None = Field(None, max_length=256, description="The stage's result in one line.")
    verdict: Verdict | None = Field(None, description="For verify records: the verdict of this attempt.")
    message: str | None = Field(None, max_length=MAX_MESSAGE_CHARS, description="Why the stage failed (the end of its log).")


class SkillRow(StatusModel):
    """A skill domain before and after the cure (the same items both times)."""

    domain: str = Field(description="Skill domain: math, reasoning, writing, factual, coding.")
    before: float | None = Field(None, description="Accuracy before treatment, 0..1.")
    after: float | None = Field(None, description="Accuracy after treatment, 0..1.")
    delta: float | None = Field(None, description="after - before.")
    degraded: bool = Field(False, description="The loss is beyond the margin and significant.")
    status: Literal["kept", "degraded", "inconclusive"] | None = Field(
        None, description="kept only when the 95 % bound of the paired change excludes a loss beyond the margin; "
                          "inconclusive when it cannot yet.")


class SymptomOutcome(StatusModel):
    """A treated symptom's failure rate before and after, against its target."""

    symptom: str = Field(description="The symptom.")
    before: float | None = Field(None, description="Failure rate before treatment, 0..1.")
    after: float | None = Field(None, description="Failure rate after treatment on held-out probes, 0..1.")
    target: float | None = Field(None, description="The target failure rate.")
    healed: bool | None = Field(None, description="after is at or below the target and the drop is significant.")
    status: Literal["met", "missed", "inconclusive"] | None = Field(
        None, description="met, missed, or inconclusive (too few scored answers, or a drop not yet significant).")


# The STAGE column: pending, the protocol's stage running or next, done or failed.
TREATMENT_STAGE_COLUMN = ("pending", *STAGE_NAMES, "done", "failed")


class TreatmentStatus(StatusModel):
    """How the treatment goes. Fields other than these (kopf's own) are kept."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-preserve-unknown-fields": True})

    stage: Literal[TREATMENT_STAGE_COLUMN] | None = Field(
        None, description="The stage running or next: pending, diagnose, synth, train, verify; done or failed at the end.")
    attempt: int | None = Field(None, description="The current train-and-verify attempt (1-based).")
    observed_generation: int | None = Field(None, description="The spec generation the status describes.")
    stages: list[StageRecord] | None = Field(
        None, max_length=MAX_STAGE_RECORDS, description="One record per stage and attempt, oldest first.")
    stages_truncated: int | None = Field(None, description="How many of the oldest stage records were dropped to keep status small.")
    severity_before: Severity | None = Field(None, description="Overall severity of the treated symptoms before treatment.")
    severity_after: Severity | None = Field(None, description="Overall severity of the treated symptoms after treatment (held-out probes).")
    symptoms: list[SymptomOutcome] | None = Field(None, max_length=MAX_FINDING_ROWS, description="Each treated symptom before and after.")
    skills: list[SkillRow] | None = Field(None, max_length=MAX_SKILL_ROWS, description="Skill table of the last verification.")
    skills_truncated: int | None = Field(None, description="How many skill rows were left out.")
    skills_summary: str | None = Field(None, description="The skill table in a few words (printer column SKILLS), e.g. '4 kept'.")
    verdict: Verdict | None = Field(None, description="Healed, Degraded (cured but skills lost), NotHealed, Inconclusive (too little evidence to tell; never healthy), or Failed (a stage failed for good).")
    recipe: str | None = Field(None, description="Path of the Oumi recipe (recipe.yaml) of the last training.")
    training: TrainingOutcome | None = Field(None, description="What the last training did: its method, phases and "
                                                               "the watch's chosen step.")
    artifacts: dict[str, str] | None = Field(None, description="Where the outputs lie: diagnosis, cure, model, recipe, verification.")
    conditions: list[Condition] | None = Field(
        None, json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
        description="Diagnosed, CureReady, Trained, Verified, Queued, Suspended, Ready, Failed.")
    progress: Progress | None = Field(None, description="Progress of the running stage.")
    message: str | None = Field(None, max_length=MAX_MESSAGE_CHARS, description="The latest event, for people.")


class Treatment(Resource):
    """A cure for a patient: diagnose, make cure data, fine-tune, verify, until healed or out of attempts."""

    api_version: Literal["modelhospital.io/v1alpha1"] = API_VERSION
    kind: Literal["Treatment"] = "Treatment"
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: TreatmentSpec
    status: TreatmentStatus | None = None
