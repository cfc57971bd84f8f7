"""Stage inputs and Job options from a resource's spec: pure functions, no server.

A treatment's stage inputs are the protocol's (`api/inputs.py`, the same `hospital treat`
builds); this module places the patient for them on the cluster (`placement`) and says
what each Job mounts.

The model reference of a spec becomes what the worker can open: a `pvc://CLAIM/path`
is mounted read-only under /models/CLAIM, a Hugging Face id carries its revision as
`id@revision`, and the rest passes as is.
"""

from __future__ import annotations

import posixpath

from pydantic import BaseModel

from model_hospital.api import inputs
from model_hospital.api.inputs import Artifacts, Placement
from model_hospital.api.own_data import PublicSetSpec, SuitesSpec
from model_hospital.api.resources import JudgeSpec, ModelPatientSpec, PatientModel, TreatmentSpec
from model_hospital.api.protocol import PROTOCOL, Step, adjustment_for
from model_hospital.api.serving import GenerationSpec
from model_hospital.api.stages import DiagnoseInput, GenerationSettings, JudgeSettings, PublicSet, ServedEndpoint, SuiteFiles
from model_hospital.controller.jobs import (
    ENDPOINT_KEY_ENV, JUDGE_KEY_ENV, MODEL_VOLUME_ROOT, OUTPUT_VOLUME_ROOT, PUBLIC_VOLUME_ROOT, SUITE_VOLUME_ROOT,
    JobOptions, claim_path,
)

# Stages that read a user's suites (their Jobs mount the suites' ConfigMaps), and stages that generate with the
# patient (their Jobs need the inference engine's GPUs): read from their input models.
SUITE_STAGES = tuple(declared.name for declared in PROTOCOL if "suites" in declared.input_model.model_fields)
GENERATING_STAGES = tuple(declared.name for declared in PROTOCOL if "generation" in declared.input_model.model_fields)


def model_reference(model: PatientModel) -> tuple[str | None, dict[str, tuple[str, bool]]]:
    """The reference a stage opens, and the claims to mount for it (mount path -> (claim, read only)).

    None for a served model: there are no weights to open.
    """
    if model.served:
        return None, {}
    mounted = claim_path(model.reference, MODEL_VOLUME_ROOT)
    if mounted:
        claim, mount, inside = mounted
        return inside, {mount: (claim, True)}
    if model.revision and not model.reference.startswith(("bundled:", "/")):
        return f"{model.reference}@{model.revision}", {}
    return model.reference, {}


def judge_settings(judge: JudgeSpec | None) -> JudgeSettings:
    """The stage's judge settings; an API key travels as an environment variable name, never a value."""
    if judge is None:
        return JudgeSettings()
    return JudgeSettings(backend=judge.backend, engine=judge.engine, model=judge.model, api_url=judge.api_url,
                         api_key_env=JUDGE_KEY_ENV if judge.api_key_secret_ref else None,
                         num_workers=judge.num_workers or 1)


def served_endpoint(model: PatientModel) -> ServedEndpoint | None:
    """The stage's endpoint for a served model (its key travels as an environment variable name); None for weights."""
    endpoint = model.endpoint
    if endpoint is None:
        return None
    return ServedEndpoint(url=endpoint.url, model=endpoint.model, num_workers=endpoint.num_workers,
                          api_key_env=ENDPOINT_KEY_ENV if endpoint.api_key_secret_ref else None)


def generation(spec: GenerationSpec | None) -> GenerationSettings:
    """The stage's generation settings: the spec's, else the defaults (native, float32)."""
    return spec.settings() if spec else GenerationSettings()


def _engine_gpus(spec: GenerationSpec | None, model: PatientModel) -> int:
    return spec.gpus if spec and not model.served else 0


def _stage_gpus(stage: str, treatment: TreatmentSpec, patient: ModelPatientSpec) -> int:
    """GPUs a treatment's stage cannot run without: vLLM's for diagnose and verify; for train, each training
    pod's (spec.training.gpusPerNode), else one for QLoRA's CUDA kernels."""
    if stage == "train":
        training = treatment.training
        return (training.gpus_per_node or (1 if training.q_lora else 0)) if training else 0
    if stage in GENERATING_STAGES:
        return _engine_gpus(treatment.generation or patient.generation, patient.model)
    return 0


def own_suites(suites: SuitesSpec | None) -> tuple[SuiteFiles, dict[str, str]]:
    """The suite files a stage reads, and the ConfigMaps to mount for them (mount path -> ConfigMap)."""
    mounts: dict[str, str] = {}

    def mounted(refs) -> list[str]:
        paths = []
        for ref in refs:
            mount = posixpath.join(SUITE_VOLUME_ROOT, ref.config_map)
            mounts[mount] = ref.config_map
            paths.append(posixpath.join(mount, ref.key))
        return paths

    if suites is None:
        return SuiteFiles(), {}
    return SuiteFiles(probes=mounted(suites.probes), skills=mounted(suites.skills)), mounts


def public_sets(specs: list[PublicSetSpec] | None) -> tuple[list[PublicSet], dict[str, tuple[str, bool]]]:
    """The public sets a stage checks, as paths inside the pod, and the claims to mount (read only) for them."""
    sets, claims = [], {}
    for spec in specs or []:
        found = claim_path(spec.path, PUBLIC_VOLUME_ROOT)
        if found:
            claim, mount, inside = found
            claims[mount] = (claim, True)
        sets.append(PublicSet(name=spec.name, path=found[2] if found else spec.path))
    return sets, claims


def patient_job_options(spec: ModelPatientSpec) -> JobOptions:
    """Image, compute, queue, secrets, claims and suite ConfigMaps of a patient's diagnose Job."""
    _, claims = model_reference(spec.model)
    return JobOptions(image=spec.image, resources=spec.resources, queue_name=spec.queue_name,
                      hf_token=spec.hf_token_secret_ref,
                      judge_api_key=spec.judge.api_key_secret_ref if spec.judge else None,
                      endpoint_api_key=spec.model.endpoint.api_key_secret_ref if spec.model.served else None,
                      engine_gpus=_engine_gpus(spec.generation, spec.model),
                      claims={**claims, **public_sets(spec.public_sets)[1]}, config_maps=own_suites(spec.suites)[1])


def patient_diagnose_input(spec: ModelPatientSpec) -> DiagnoseInput:
    """The diagnose input of a patient's checkup: the weights it names, or the endpoint that serves it."""
    reference, _ = model_reference(spec.model)
    return DiagnoseInput(model=reference, endpoint=served_endpoint(spec.model), symptoms=list(spec.symptoms),
                         budget=spec.budget, generation=generation(None if spec.model.served else spec.generation),
                         judge=judge_settings(spec.judge), allow_remote_code=spec.model.allow_remote_code,
                         suites=own_suites(spec.suites)[0], public=public_sets(spec.public_sets)[0])


def treatment_suites(treatment: TreatmentSpec, patient: ModelPatientSpec) -> SuitesSpec | None:
    """The treatment's own suites, else the patient's."""
    return treatment.suites or patient.suites


def treatment_public_sets(treatment: TreatmentSpec, patient: ModelPatientSpec) -> list[PublicSetSpec] | None:
    """The public sets a treatment's verify checks: its own, else the patient's."""
    return treatment.public_sets or patient.public_sets


def treated_symptoms(treatment: TreatmentSpec, patient: ModelPatientSpec) -> list[str]:
    """The names of the symptoms a treatment treats (`api/inputs.py` `treated_symptoms`)."""
    return [symptom.value for symptom in inputs.treated_symptoms(treatment, patient.symptoms)]


def output_folder(treatment: TreatmentSpec) -> tuple[str | None, dict[str, tuple[str, bool]]]:
    """Where the healed model goes inside the pod (None: the stage folder), and the claim to mount."""
    path = treatment.output.path if treatment.output else None
    if not path:
        return None, {}
    mounted = claim_path(path, OUTPUT_VOLUME_ROOT)
    if mounted:
        claim, mount, inside = mounted
        return inside, {mount: (claim, False)}
    return path, {}


def treatment_job_options(stage: str, treatment: TreatmentSpec, patient: ModelPatientSpec) -> JobOptions:
    """Image, compute, queue, secrets and claims of one stage Job of a treatment."""
    _, claims = model_reference(patient.model)
    if stage == "train":
        claims = {**claims, **output_folder(treatment)[1]}
    if stage == "verify":
        claims = {**claims, **public_sets(treatment_public_sets(treatment, patient))[1]}
    config_maps = own_suites(treatment_suites(treatment, patient))[1] if stage in SUITE_STAGES else {}
    images = treatment.images
    per_stage = treatment.resources
    resources = getattr(per_stage, stage) if per_stage else None
    if resources is None and stage == "diagnose":
        resources = patient.resources
    judge = patient.judge
    registry = treatment.output.registry if treatment.output else None
    teacher = treatment.cure.teacher if treatment.cure else None
    secret = (teacher if stage == "synth" and teacher else judge)
    return JobOptions(
        image=(getattr(images, stage) if images else None) or patient.image,
        resources=resources,
        engine_gpus=_stage_gpus(stage, treatment, patient),
        queue_name=treatment.queue_name or patient.queue_name,
        hf_token=patient.hf_token_secret_ref,
        judge_api_key=secret.api_key_secret_ref if secret else None,
        claims=claims,
        registry_secret=registry.credentials_secret if stage == "verify" and registry else None,
        config_maps=config_maps,
    )


def placement(treatment: TreatmentSpec, patient: ModelPatientSpec, treatment_name: str = "healed") -> Placement:
    """The patient of a treatment placed in its Jobs: weights on a mounted claim, suites from mounted ConfigMaps,
    public sets on claims, API keys as environment variable names."""
    reference, _ = model_reference(patient.model)
    teacher = treatment.cure.teacher if treatment.cure else None
    return Placement(model=reference, symptoms=patient.symptoms, budget=patient.budget,
                     generation=generation(patient.generation), judge=judge_settings(patient.judge),
                     teacher=judge_settings(teacher) if teacher else None,
                     suites=own_suites(treatment_suites(treatment, patient))[0],
                     public=public_sets(treatment_public_sets(treatment, patient))[0], treatment=treatment_name)


def treatment_input(stage: str, attempt: int, treatment: TreatmentSpec, patient: ModelPatientSpec,
                    artifacts: Artifacts, treatment_name: str = "healed") -> BaseModel:
    """The input of one stage Job of a treatment: the protocol's (`api/inputs.py`), with the patient placed on the
    cluster and the artifacts recorded in status."""
    step = Step(stage=stage, attempt=attempt, adjusted_by=adjustment_for(stage, attempt))
    return inputs.stage_input(step, treatment, placement(treatment, patient, treatment_name), artifacts)


def train_output_dir(treatment: TreatmentSpec, attempt: int) -> str | None:
    """The train stage's folder when spec.output names one (one subfolder per attempt)."""
    folder, _ = output_folder(treatment)
    return posixpath.join(folder, f"attempt-{attempt}") if folder else None
