"""The tenancy policy: what a spec may ask of the operator, checked before any Job is made.

Whoever may create a ModelPatient or Treatment makes the operator run an image with
the namespace's Secrets and claims, so every image, URL, Secret and claim a spec
names must be allowed by the chart (`policy` in values.yaml, `TenancyPolicy`). A
refusal is one line naming the field and the rule, written into a condition.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator

from model_hospital.api.resources import JudgeSpec, ModelPatientSpec, SecretKeyRef, TreatmentSpec
from model_hospital.api.serving import EndpointSpec
from model_hospital.controller.jobs import claim_path
from model_hospital.controller.settings import OperatorSettings


def _allowed(value: str, patterns: list[str]) -> bool:
    """Whether `value` matches a glob, or starts with an entry that ends in '/' (a URL prefix)."""
    return any(fnmatch.fnmatchcase(value, pattern) or (pattern.endswith("/") and value.startswith(pattern))
               for pattern in patterns)


def _rule(field: str, value: str, rule: str, patterns: list[str]) -> str:
    listed = ", ".join(patterns) if patterns else "none"
    return (f"{field}: {value} is not allowed by the operator's policy.{rule} ({listed}); "
            f"use an allowed one or ask the cluster's admin to add it")


def _image(settings: OperatorSettings, field: str, image: str | None) -> Iterator[str]:
    if image and image not in settings.images.values() and not _allowed(image, settings.policy.allowed_images):
        yield _rule(field, image, "allowedImages", settings.policy.allowed_images)


def _secret(settings: OperatorSettings, field: str, ref: SecretKeyRef | None) -> Iterator[str]:
    if ref and not _allowed(ref.name, settings.policy.allowed_secrets):
        yield _rule(field, f"Secret {ref.name}", "allowedSecrets", settings.policy.allowed_secrets)


def _claim(settings: OperatorSettings, field: str, reference: str | None) -> Iterator[str]:
    mounted = claim_path(reference or "", "/")
    if mounted and not _allowed(mounted[0], settings.policy.allowed_claims):
        yield _rule(field, f"claim {mounted[0]}", "allowedClaims", settings.policy.allowed_claims)


def _remote(settings: OperatorSettings, field: str, judge: JudgeSpec | None) -> Iterator[str]:
    if judge is None:
        return
    if judge.api_url and not _allowed(judge.api_url, settings.policy.allowed_urls):
        yield _rule(f"{field}.apiUrl", judge.api_url, "allowedUrls", settings.policy.allowed_urls)
    yield from _secret(settings, f"{field}.apiKeySecretRef", judge.api_key_secret_ref)


def _endpoint(settings: OperatorSettings, endpoint: EndpointSpec | None) -> Iterator[str]:
    if endpoint is None:
        return
    if not _allowed(endpoint.url, settings.policy.allowed_urls):
        yield _rule("spec.model.endpoint.url", endpoint.url, "allowedUrls", settings.policy.allowed_urls)
    yield from _secret(settings, "spec.model.endpoint.apiKeySecretRef", endpoint.api_key_secret_ref)


def patient_refusals(settings: OperatorSettings, spec: ModelPatientSpec) -> list[str]:
    """What the policy refuses in a patient's spec, one line each naming the field; empty when it may run."""
    return [*_image(settings, "spec.image", spec.image),
            *_claim(settings, "spec.model.reference", spec.model.reference),
            *_endpoint(settings, spec.model.endpoint),
            *_remote(settings, "spec.judge", spec.judge),
            *_secret(settings, "spec.hfTokenSecretRef", spec.hf_token_secret_ref),
            *_public_claims(settings, spec.public_sets)]


def _public_claims(settings: OperatorSettings, public_sets) -> Iterator[str]:
    for index, public in enumerate(public_sets or []):
        yield from _claim(settings, f"spec.publicSets[{index}].path", public.path)


def treatment_refusals(settings: OperatorSettings, spec: TreatmentSpec, patient_name: str,
                       patient: ModelPatientSpec) -> list[str]:
    """What the policy refuses in a treatment's spec and in the patient spec its Jobs use; empty when it may run."""
    found = [f"ModelPatient {patient_name}: {line}" for line in patient_refusals(settings, patient)]
    for stage, image in (spec.images.model_dump() if spec.images else {}).items():
        found.extend(_image(settings, f"spec.images.{stage}", image))
    found.extend(_remote(settings, "spec.cure.teacher", spec.cure.teacher if spec.cure else None))
    registry = spec.output.registry if spec.output else None
    if registry and registry.credentials_secret:
        found.extend(_secret(settings, "spec.output.registry.credentialsSecret",
                             SecretKeyRef(name=registry.credentials_secret, key=".dockerconfigjson")))
    found.extend(_public_claims(settings, spec.public_sets))
    path = spec.output.path if spec.output else None
    if path and path.startswith("pvc://"):
        found.extend(_claim(settings, "spec.output.path", path))
    elif path:
        root = settings.artifact_root.rstrip("/") + "/"
        if not posixpath.normpath(path).startswith(root):
            found.append(f"spec.output.path: {path} is outside the artifact volume ({root}); a folder elsewhere in "
                         "the pod is lost with it: give a path under it or pvc://CLAIM/path")
    return found
