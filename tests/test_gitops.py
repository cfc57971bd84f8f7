"""GitOps: Argo CD's health checks run for real (Lua 5.1, as Argo CD's gopher-lua), and the examples apply.

Statuses are built with the operator's own status models (api/resources.py), so a
renamed status field breaks these tests rather than a user's Argo CD dashboard.
"""

from __future__ import annotations

from pathlib import Path

import lupa.lua51 as lua51
import pytest
import yaml

from model_hospital import __version__
from model_hospital.api.common import Severity
from model_hospital.tools import chart_files
from model_hospital.api.resources import (
    Condition,
    FindingRow,
    ModelPatient,
    ModelPatientStatus,
    Progress,
    Treatment,
    TreatmentStatus,
)
from tests.harness import schema as crd_schema

ROOT = Path(__file__).resolve().parent.parent
GITOPS = ROOT / "examples" / "gitops"
ARGO_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}


def lua_table(runtime, value):
    """A Python value as Lua sees it after Argo CD decodes the object's JSON (lists 1-based)."""
    if isinstance(value, dict):
        return runtime.table_from({key: lua_table(runtime, item) for key, item in value.items()})
    if isinstance(value, list):
        return runtime.table_from([lua_table(runtime, item) for item in value])
    return value


def health(kind: str, obj: dict) -> dict[str, str]:
    """Runs the shipped health script for `kind` on `obj` and returns {status, message}."""
    script = (ROOT / chart_files.ARGOCD_HEALTH_SCRIPTS[kind]).read_text()
    runtime = lua51.LuaRuntime(unpack_returned_tuples=True)
    runtime.globals().obj = lua_table(runtime, obj)
    result = runtime.execute(script)
    found = {"status": result["status"], "message": result["message"]}
    assert found["status"] in ARGO_STATUSES
    assert isinstance(found["message"], str) and found["message"]
    return found


def condition(kind: str, status: str, reason: str = "", message: str = "") -> Condition:
    return Condition(type=kind, status=status, reason=reason, message=message,
                     last_transition_time="2026-11-22T10:00:00Z", observed_generation=1)


def patient(status: ModelPatientStatus | None, generation: int = 1) -> dict:
    """A ModelPatient as the API server returns it."""
    body = {"apiVersion": "modelhospital.io/v1alpha1", "kind": "ModelPatient",
            "metadata": {"name": "smollm2", "namespace": "ward", "generation": generation},
            "spec": {"model": {"reference": "bundled:smollm2-135m-instruct"}}}
    if status is not None:
        body["status"] = status.model_dump(by_alias=True, exclude_none=True, mode="json")
    ModelPatient.model_validate(body)
    return body


def treatment(status: TreatmentStatus | None, suspend: bool = False, generation: int = 1) -> dict:
    """A Treatment as the API server returns it."""
    body = {"apiVersion": "modelhospital.io/v1alpha1", "kind": "Treatment",
            "metadata": {"name": "cure", "namespace": "ward", "generation": generation},
            "spec": {"patientRef": {"name": "smollm2"}, "suspend": suspend}}
    if status is not None:
        body["status"] = status.model_dump(by_alias=True, exclude_none=True, mode="json")
    Treatment.model_validate(body)
    return body


DIAGNOSED = ModelPatientStatus(
    phase="Diagnosed", observed_generation=1, overall_severity="CRITICAL", worst_symptom="safety",
    worst_failure_rate=82.5, findings=[FindingRow(symptom="safety", failure_rate=0.825, failures=33, scored=40,
                                                  severity="CRITICAL")],
    conditions=[condition("Diagnosed", "True", "DiagnosisComplete"), condition("Ready", "True", "Diagnosed")])


def test_new_patient_is_progressing():
    assert health("ModelPatient", patient(None))["status"] == "Progressing"
    pending = ModelPatientStatus(phase="Pending", conditions=[condition("Diagnosed", "False", "Pending")])
    assert health("ModelPatient", patient(pending))["status"] == "Progressing"


def test_diagnosing_patient_is_progressing_with_its_progress():
    running = ModelPatientStatus(phase="Diagnosing", observed_generation=1,
                                 progress=Progress(stage="diagnose", done=12, total=120),
                                 conditions=[condition("Diagnosed", "False", "Diagnosing")])
    assert health("ModelPatient", patient(running)) == {"status": "Progressing", "message": "Diagnosing: 12/120"}


def test_diagnosed_patient_is_healthy_even_when_very_sick():
    assert health("ModelPatient", patient(DIAGNOSED)) == {
        "status": "Healthy", "message": "Diagnosed: CRITICAL (worst: safety)"}


def test_a_diagnosis_that_measured_nothing_is_never_healthy():
    for severity in (Severity.UNMEASURED, None):
        unmeasured = DIAGNOSED.model_copy(update={"overall_severity": severity})
        assert health("ModelPatient", patient(unmeasured)) == {
            "status": "Degraded", "message": "Diagnosed, but not measured: no answer could be scored"}


def test_failed_diagnosis_is_degraded_with_the_operators_message():
    failed = ModelPatientStatus(phase="Failed", observed_generation=1, conditions=[
        condition("Diagnosed", "False", "JobFailed", "diagnose Job failed: OOMKilled"),
        condition("Ready", "False", "JobFailed")])
    assert health("ModelPatient", patient(failed)) == {"status": "Degraded", "message": "diagnose Job failed: OOMKilled"}


def test_patient_with_an_unseen_spec_change_is_progressing_not_healthy():
    assert health("ModelPatient", patient(DIAGNOSED, generation=2))["status"] == "Progressing"


def test_new_treatment_is_progressing():
    assert health("Treatment", treatment(None))["status"] == "Progressing"


def test_running_treatment_reports_stage_attempt_and_progress():
    running = TreatmentStatus(stage="train", attempt=2, observed_generation=1,
                              progress=Progress(stage="train", done=30, total=90),
                              conditions=[condition("Diagnosed", "True"), condition("CureReady", "True"),
                                          condition("Trained", "False", "Training")])
    assert health("Treatment", treatment(running)) == {"status": "Progressing", "message": "Stage train (attempt 2): 30/90"}


def test_a_retry_after_a_degraded_verdict_is_still_progressing():
    retrying = TreatmentStatus(stage="train", attempt=2, verdict="Degraded", observed_generation=1)
    assert health("Treatment", treatment(retrying))["status"] == "Progressing"


def test_suspended_treatment_is_suspended():
    between = TreatmentStatus(stage="synth", attempt=1, observed_generation=1,
                              conditions=[condition("Suspended", "True", "SpecSuspend")])
    assert health("Treatment", treatment(between, suspend=True))["status"] == "Suspended"
    assert health("Treatment", treatment(None, suspend=True))["status"] == "Suspended"


def test_healed_treatment_is_healthy_with_before_and_after():
    healed = TreatmentStatus(stage="done", attempt=1, verdict="Healed", severity_before="CRITICAL",
                             severity_after="LOW", skills_summary="4 kept", observed_generation=1,
                             conditions=[condition("Verified", "True", "Healed"), condition("Ready", "True", "Healed")])
    assert health("Treatment", treatment(healed)) == {
        "status": "Healthy", "message": "Verdict Healed: CRITICAL -> LOW, skills 4 kept"}
    # A finished treatment stays Healthy when someone flips suspend afterwards.
    assert health("Treatment", treatment(healed, suspend=True))["status"] == "Healthy"


@pytest.mark.parametrize("verdict", ["NotHealed", "Degraded", "Inconclusive"])
def test_a_treatment_out_of_attempts_without_a_cure_is_degraded(verdict):
    ended = TreatmentStatus(stage="done", attempt=3, verdict=verdict, observed_generation=1)
    assert health("Treatment", treatment(ended)) == {"status": "Degraded", "message": f"Verdict {verdict}"}


def test_failed_treatment_is_degraded_with_the_failure():
    failed = TreatmentStatus(stage="failed", attempt=1, verdict="Failed", observed_generation=1, conditions=[
        condition("Failed", "True", "StageFailed", "train failed 2 times: CUDA out of memory")])
    assert health("Treatment", treatment(failed)) == {
        "status": "Degraded", "message": "train failed 2 times: CUDA out of memory"}


def test_a_treatment_the_policy_refuses_is_degraded_with_the_rule():
    refused = TreatmentStatus(observed_generation=1, conditions=[condition(
        "Ready", "False", "PolicyRefused", "spec.images.train: evil/miner:1 is not allowed by the operator's policy")])
    assert health("Treatment", treatment(refused)) == {
        "status": "Degraded", "message": "spec.images.train: evil/miner:1 is not allowed by the operator's policy"}


def test_a_treatment_of_a_served_patient_is_degraded_saying_it_needs_weights():
    served = TreatmentStatus(observed_generation=1, conditions=[condition(
        "Ready", "False", "PatientServed", "ModelPatient llama: llama-3 is a served endpoint, and a treatment "
                                           "fine-tunes weights")])
    assert health("Treatment", treatment(served))["status"] == "Degraded"
    assert "fine-tunes weights" in health("Treatment", treatment(served))["message"]


@pytest.mark.parametrize("reason, message", [
    ("LauncherUnavailable", "spec.training.launcher is JobSet, but this cluster does not serve jobsets.jobset.x-k8s.io"),
    ("ClaimNotShared", "spec.training.nodes is 2, but the artifact claim artifacts is ReadWriteOnce")])
def test_a_treatment_waiting_for_the_cluster_to_change_is_degraded_with_what_to_change(reason, message):
    waiting = TreatmentStatus(observed_generation=1, conditions=[condition("Ready", "False", reason, message)])
    assert health("Treatment", treatment(waiting)) == {"status": "Degraded", "message": message}


def test_argocd_config_map_carries_the_scripts_under_argos_keys():
    config_map = yaml.safe_load((GITOPS / "argocd-cm-health.yaml").read_text())
    assert config_map["metadata"] == {"name": "argocd-cm", "namespace": "argocd", "labels": {
        "app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd"}}
    for kind, path in chart_files.ARGOCD_HEALTH_SCRIPTS.items():
        assert config_map["data"][f"resource.customizations.health.modelhospital.io_{kind}"] == (ROOT / path).read_text()


def test_argo_applications_point_at_real_paths_and_valid_values():
    import helm_python

    applications = list(yaml.safe_load_all((GITOPS / "application.yaml").read_text()))
    assert [app["kind"] for app in applications] == ["Application", "Application"]
    for app in applications:
        source = app["spec"]["source"]
        assert (ROOT / source["path"]).is_dir(), source["path"]
        assert source["targetRevision"] == f"v{__version__}", "pin the release tag the examples were written for"
    chart_app = applications[0]
    values = chart_app["spec"]["source"]["helm"]["valuesObject"]
    with helm_python.Chart.load(str(ROOT / chart_app["spec"]["source"]["path"])) as chart:
        rendered = chart.render(values, name="model-hospital", namespace=chart_app["spec"]["destination"]["namespace"])
    ward = applications[1]["spec"]["destination"]["namespace"]
    roles = [doc for text in rendered.values() if not text.startswith("Model Hospital")
             for doc in yaml.safe_load_all(text) if doc and doc["kind"] == "Role"]
    assert [role["metadata"]["namespace"] for role in roles] == [ward], "the operator must serve the ward's namespace"


def custom_resources() -> list[tuple[str, dict]]:
    """(file, document) for every ModelPatient and Treatment under examples/."""
    found = []
    for path in sorted((ROOT / "examples").rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if isinstance(document, dict) and str(document.get("apiVersion", "")).startswith("modelhospital.io/"):
                found.append((str(path.relative_to(ROOT)), document))
    return found


def crd_schema_for(kind: str) -> dict:
    plural = {"ModelPatient": "modelpatients", "Treatment": "treatments"}[kind]
    crd = yaml.safe_load((ROOT / "crds" / f"{plural}.yaml").read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@pytest.mark.parametrize(("path", "document"), custom_resources(), ids=lambda value: value if isinstance(value, str) else "")
def test_every_example_resource_is_accepted_as_written(path, document):
    model = {"ModelPatient": ModelPatient, "Treatment": Treatment}[document["kind"]]
    model.model_validate(document)
    openapi = crd_schema_for(document["kind"])
    pruned, dropped = crd_schema.prune_object(document, openapi)
    assert dropped == [], f"{path}: the API server would drop {dropped}"
    assert crd_schema.validation_causes(crd_schema.apply_defaults(pruned, openapi), openapi) == []


def test_examples_cover_what_the_docs_promise():
    kinds = {(Path(path).name, document["kind"]) for path, document in custom_resources()}
    assert {("checkup.yaml", "ModelPatient"), ("gpu-treatment.yaml", "Treatment"),
            ("kueue-treatment.yaml", "Treatment"), ("smollm2.yaml", "ModelPatient"), ("smollm2.yaml", "Treatment")} <= kinds
    by_name = {Path(path).name: document for path, document in custom_resources()}
    assert by_name["checkup.yaml"]["spec"]["checkupSchedule"]
    assert by_name["kueue-treatment.yaml"]["spec"]["queueName"] == "ml-queue"
    gpu_train = by_name["gpu-treatment.yaml"]["spec"]["resources"]["train"]
    assert gpu_train["gpu"] == 1 and gpu_train["tolerations"][0]["key"] == "nvidia.com/gpu"


def test_namespaced_install_values_render():
    import helm_python

    values = yaml.safe_load((ROOT / "examples" / "namespaced-values.yaml").read_text())
    with helm_python.Chart.load(str(ROOT / "charts" / "model-hospital")) as chart:
        rendered = chart.render(values, name="hospital", namespace="model-hospital")
    documents = [doc for path, text in rendered.items() if not path.endswith("NOTES.txt")
                 for doc in yaml.safe_load_all(text) if doc]
    assert sorted(doc["metadata"]["namespace"] for doc in documents if doc["kind"] == "Role") == ["team-a", "team-b"]
