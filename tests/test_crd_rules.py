"""The CRDs' CEL rules (x-kubernetes-validations), evaluated with a real CEL library against test objects.

The API server runs these rules on every create and update; here cel-python runs the
same expressions from the generated YAML, so a rule that does not parse, or that
accepts what the operator's models refuse, fails a test instead of a user's apply.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from model_hospital.api.resources import ModelPatientSpec, TreatmentSpec

celpy = pytest.importorskip("celpy", reason="cel-python is in the dev extra")

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"ModelPatient": ("modelpatients", ModelPatientSpec), "Treatment": ("treatments", TreatmentSpec)}
_ENVIRONMENT = celpy.Environment()
_PROGRAMS: dict[str, object] = {}


def spec_schema(plural: str) -> dict:
    crd = yaml.safe_load((ROOT / "crds" / f"{plural}.yaml").read_text(encoding="utf-8"))
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]


def evaluate(rule: str, value, old=None) -> bool:
    if rule not in _PROGRAMS:
        _PROGRAMS[rule] = _ENVIRONMENT.program(_ENVIRONMENT.compile(rule))
    activation = {"self": celpy.json_to_cel(value)}
    if old is not None:
        activation["oldSelf"] = celpy.json_to_cel(old)
    result = _PROGRAMS[rule].evaluate(activation)
    return isinstance(result, celpy.celtypes.BoolType) and bool(result)  # an evaluation error breaks the rule


def violations(schema: dict, value, old=None, path: str = "spec") -> list[tuple[str, str]]:
    """(field, message) of every rule the value breaks, walking the schema as the API server does."""
    found = []
    for rule in schema.get("x-kubernetes-validations") or []:
        if "oldSelf" in rule["rule"] and old is None:
            continue  # a transition rule runs on updates only
        if not evaluate(rule["rule"], value, old):
            found.append((path + rule.get("fieldPath", ""), rule["message"]))
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in value and value[name] is not None:
                previous = old.get(name) if isinstance(old, dict) else None
                found += violations(sub, value[name], previous, f"{path}.{name}")
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += violations(schema["items"], item, None, f"{path}[{index}]")
    return found


def every_rule(schema: dict) -> list[str]:
    rules = [rule["rule"] for rule in schema.get("x-kubernetes-validations") or []]
    for sub in (schema.get("properties") or {}).values():
        rules += every_rule(sub)
    return rules + (every_rule(schema["items"]) if "items" in schema else [])


PATIENT = {"model": {"reference": "bundled:smollm2-135m-instruct"}}
TREATMENT = {"patientRef": {"name": "llama"}}
BAD = [
    ("ModelPatient", {**PATIENT, "judge": {"backend": "llm"}}, "spec.judge", "engine and a model"),
    ("ModelPatient", {**PATIENT, "model": {"reference": "a/b", "allowRemoteCode": True}}, "spec.model.allowRemoteCode",
     "remote code"),
    ("ModelPatient", {**PATIENT, "resources": {"memory": "4GB"}}, "spec.resources.memory", "quantity"),
    ("ModelPatient", {**PATIENT, "resources": {"cpu": "lots"}}, "spec.resources.cpu", "quantity"),
    ("ModelPatient", {**PATIENT, "resources": {"nodeSelector": {"bad key!": "x"}}}, "spec.resources.nodeSelector",
     "label"),
    ("ModelPatient", {**PATIENT, "resources": {"nodeSelector": {"gpu": "v" * 64}}}, "spec.resources.nodeSelector",
     "label"),
    ("Treatment", {**TREATMENT, "cure": {"minExamples": 600, "maxExamples": 500}}, "spec.cure.minExamples", "maxExamples"),
    ("Treatment", {**TREATMENT, "output": {"path": "pvc://claim/../.."}}, "spec.output.path", "'..'"),
    ("Treatment", {**TREATMENT, "output": {"path": "/artifacts/./x"}}, "spec.output.path", "'..'"),
    ("Treatment", {**TREATMENT, "resources": {"train": {"maxMemory": "lots"}}}, "spec.resources.train.maxMemory",
     "quantity"),
    ("Treatment", {**TREATMENT, "cure": {"teacher": {"backend": "llm", "engine": "VLLM"}}}, "spec.cure.teacher",
     "engine and a model"),
    ("Treatment", {**TREATMENT, "training": {"nodes": 2, "watch": {}}}, "spec.training.watch",
     "watch runs in one training process"),
    ("Treatment", {**TREATMENT, "training": {"gpusPerNode": 2, "watch": {"everySteps": 5}}}, "spec.training.watch",
     "watch runs in one training process"),
    ("Treatment", {**TREATMENT, "training": {"method": "sft_dpo", "nodes": 4}}, "spec.training.method",
     "method sft_dpo trains in one process"),
]


@pytest.mark.parametrize("plural", ["modelpatients", "treatments"])
def test_every_rule_in_the_crds_compiles(plural):
    rules = every_rule(spec_schema(plural))
    assert rules
    for rule in rules:
        _ENVIRONMENT.compile(rule)


@pytest.mark.parametrize("kind, spec, field, words", BAD, ids=[f"{field}" for _, _, field, _ in BAD])
def test_a_cross_field_mistake_is_refused_naming_the_field_by_the_crd_and_by_the_operator(kind, spec, field, words):
    plural, model = KINDS[kind]
    found = violations(spec_schema(plural), spec)
    assert [where for where, message in found if words in message] == [field], found
    with pytest.raises(ValidationError):
        model.model_validate(spec)


@pytest.mark.parametrize("spec", [
    {**PATIENT, "judge": {"backend": "llm", "engine": "OPENAI", "model": "gpt"}},
    {**PATIENT, "resources": {"cpu": 4, "memory": "16Gi", "maxMemory": "32Gi", "nodeSelector": {
        "nvidia.com/gpu.product": "A100-SXM4-80GB", "kubernetes.io/arch": "amd64"}}},
])
def test_good_patient_specs_pass_every_rule(spec):
    assert violations(spec_schema("modelpatients"), spec) == []
    ModelPatientSpec.model_validate(spec)


def test_the_shipped_examples_pass_every_rule():
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document and document.get("kind") in KINDS:
                plural, _ = KINDS[document["kind"]]
                assert violations(spec_schema(plural), document["spec"]) == [], path


def test_patient_ref_cannot_change_on_update():
    schema = spec_schema("treatments")
    new = {**TREATMENT, "patientRef": {"name": "other"}}
    assert violations(schema, new, old=TREATMENT) == [("spec.patientRef", "patientRef is immutable: make a new "
                                                                          "Treatment for another patient")]
    assert violations(schema, {**TREATMENT, "maxAttempts": 5}, old=TREATMENT) == []


@pytest.mark.parametrize("training", [
    {"method": "sft_dpo", "watch": {"everySteps": 5, "patience": 3}},
    {"method": "sft_dpo", "nodes": 1, "gpusPerNode": 1, "watch": {}},
    {"method": "dpo", "nodes": 2, "gpusPerNode": 4},
])
def test_good_training_specs_pass_every_rule(training):
    spec = {**TREATMENT, "training": training}
    assert violations(spec_schema("treatments"), spec) == []
    TreatmentSpec.model_validate(spec)
