"""The CRDs in crds/ are the pydantic models, structurally valid, and reject bad patients by field."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pydantic import BaseModel, Field

from model_hospital.tools import crdgen
from model_hospital.api.resources import ModelPatient, Treatment
from model_hospital.cli import main as hospital

ROOT = Path(__file__).resolve().parents[1]
CRDS = ROOT / "crds"
EXAMPLES = ROOT / "examples"


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def open_api(plural: str) -> dict:
    return load(CRDS / f"{plural}.yaml")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def draft4(schema):
    """The OpenAPI schema as Draft 4 JSON Schema: `nullable` becomes a null type."""
    if isinstance(schema, list):
        return [draft4(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: draft4(value) for key, value in schema.items()
                 if key not in ("properties", "nullable") or key == "properties"}
    if "properties" in schema:
        converted["properties"] = {name: draft4(sub) for name, sub in schema["properties"].items()}
    if schema.get("nullable") and "type" in schema:
        converted["type"] = [schema["type"], "null"]
    if schema.get("nullable") and "enum" in schema:
        converted["enum"] = [*schema["enum"], None]
    return converted


def field_errors(plural: str, document: dict) -> list[str]:
    """Dotted paths of the fields the CRD's schema rejects in `document` (empty when valid)."""
    body = {key: value for key, value in document.items() if key not in ("apiVersion", "kind", "metadata")}
    validator = jsonschema.Draft4Validator(draft4(open_api(plural)))
    return [".".join(str(part) for part in error.absolute_path) for error in validator.iter_errors(body)]


def test_crd_files_match_the_models(tmp_path):
    assert hospital(["crds", "generate", "--output", str(tmp_path)]) == 0
    for name in ("modelpatients.yaml", "treatments.yaml"):
        assert (CRDS / name).read_text() == (tmp_path / name).read_text(), \
            f"crds/{name} drifted from api/resources.py: run `hospital crds generate`"
    assert hospital(["crds", "generate", "--check", "--output", str(CRDS)]) == 0


def test_check_fails_when_a_file_drifted(tmp_path):
    hospital(["crds", "generate", "--output", str(tmp_path)])
    path = tmp_path / "treatments.yaml"
    path.write_text(path.read_text().replace("maxAttempts", "maxTries"))
    assert hospital(["crds", "generate", "--check", "--output", str(tmp_path)]) == 1


@pytest.mark.parametrize("plural", ["modelpatients", "treatments"])
def test_crds_pass_kubernetes_strict_validation(plural):
    assert kubernetes_validate.validate(load(CRDS / f"{plural}.yaml"), "1.32", strict=True) == "1.32"


@pytest.mark.parametrize("plural", ["modelpatients", "treatments"])
def test_crds_are_structural(plural):
    assert crdgen.structural_violations(open_api(plural)) == []


def test_status_keeps_fields_the_schema_does_not_name():
    for plural in ("modelpatients", "treatments"):
        assert open_api(plural)["properties"]["status"]["x-kubernetes-preserve-unknown-fields"] is True


def test_names_columns_and_category_are_what_kubectl_users_type():
    patients = load(CRDS / "modelpatients.yaml")["spec"]
    treatments = load(CRDS / "treatments.yaml")["spec"]
    assert patients["names"]["shortNames"] == ["patient", "patients", "mp"]
    assert treatments["names"]["shortNames"] == ["tx"]
    assert patients["names"]["categories"] == treatments["names"]["categories"] == ["hospital"]
    columns = [column["name"].upper() for column in patients["versions"][0]["additionalPrinterColumns"]]
    assert columns == ["MODEL", "PHASE", "PROGRESS", "SEVERITY", "WORST SYMPTOM", "FAILURE %", "LAST CHECKUP", "AGE"]
    columns = [column["name"].upper() for column in treatments["versions"][0]["additionalPrinterColumns"]]
    assert columns == ["PATIENT", "STAGE", "PROGRESS", "BEFORE", "AFTER", "SKILLS", "VERDICT", "AGE"]
    for spec in (patients, treatments):
        assert spec["versions"][0]["subresources"] == {"status": {}}


def test_every_spec_field_is_documented_for_kubectl_explain():
    def undocumented(node, path):
        for name, sub in node.get("properties", {}).items():
            if not sub.get("description"):
                yield f"{path}.{name}"
            yield from undocumented(sub, f"{path}.{name}")
        if isinstance(node.get("items"), dict):
            yield from undocumented(node["items"], f"{path}[]")

    for plural in ("modelpatients", "treatments"):
        assert list(undocumented(open_api(plural), plural)) == []


@pytest.mark.parametrize("plural,example", [("modelpatients", "patient.yaml"), ("treatments", "treatment.yaml"),
                                            ("treatments", "distributed-treatment.yaml")])
def test_examples_are_valid(plural, example):
    document = load(EXAMPLES / example)
    assert field_errors(plural, document) == []
    model = ModelPatient if plural == "modelpatients" else Treatment
    model.model_validate(document)


@pytest.mark.parametrize("change,field", [
    (lambda spec: spec.update(symptoms=["safety", "toxicity"]), "spec.symptoms.1"),
    (lambda spec: spec.update(budget=-5), "spec.budget"),
    (lambda spec: spec["model"].update(reference="not a model!"), "spec.model.reference"),
    (lambda spec: spec["model"].update(reference="../relative/path"), "spec.model.reference"),
    (lambda spec: spec.update(checkupSchedule="every day"), "spec.checkupSchedule"),
    (lambda spec: spec.update(judge={"backend": "oracle"}), "spec.judge.backend"),
    (lambda spec: spec.update(symptoms=[]), "spec.symptoms"),
])
def test_invalid_patient_is_rejected_naming_the_field(change, field):
    document = load(EXAMPLES / "patient.yaml")
    change(document["spec"])
    assert field_errors("modelpatients", document) == [field]


@pytest.mark.parametrize("reference", [
    "bundled:smollm2-135m-instruct", "HuggingFaceTB/SmolLM2-135M-Instruct", "/models/tiny",
    "pvc://model-store/llama/v2",
])
def test_model_reference_forms_are_accepted(reference):
    document = load(EXAMPLES / "patient.yaml")
    document["spec"]["model"]["reference"] = reference
    assert field_errors("modelpatients", document) == []
    ModelPatient.model_validate(document)


@pytest.mark.parametrize("change,field", [
    (lambda spec: spec.update(maxAttempts=0), "spec.maxAttempts"),
    (lambda spec: spec.update(maxAttempts=11), "spec.maxAttempts"),
    (lambda spec: spec.update(skillThreshold=1.5), "spec.skillThreshold"),
    (lambda spec: spec.update(skillThreshold=0), "spec.skillThreshold"),
    (lambda spec: spec["training"].update(method="rlhf"), "spec.training.method"),
    (lambda spec: spec.pop("patientRef"), "spec"),
    (lambda spec: spec.setdefault("cure", {}).update(replayShare=1), "spec.cure.replayShare"),
    (lambda spec: spec.setdefault("cure", {}).update(replayShare=-0.1), "spec.cure.replayShare"),
])
def test_invalid_treatment_is_rejected_naming_the_field(change, field):
    document = load(EXAMPLES / "treatment.yaml")
    change(document["spec"])
    assert field_errors("treatments", document) == [field]


def test_pydantic_and_crd_agree_on_what_is_invalid():
    document = load(EXAMPLES / "patient.yaml")
    document["spec"]["budget"] = 0
    with pytest.raises(ValueError, match="budget"):
        ModelPatient.model_validate(document)


class Target(BaseModel):
    url: str | None = None
    bucket: str | None = None


class Tricky(BaseModel):
    """Constructs pydantic writes that the API server rejects as they are."""

    model_config = {"extra": "forbid"}
    port: int | str = 80
    tags: set[str] = set()
    ratio: float = Field(0.5, gt=0, lt=1)
    mode: str = Field("a", json_schema_extra={"const": "a"})
    labels: dict[str, str] = {}
    anything: dict = {}
    nested: Target | None = None
    pair: tuple[float, float] | None = None
    children: list["Tricky"] = []


def test_converter_removes_every_construct_the_api_server_rejects():
    raw = Tricky.model_json_schema()
    assert crdgen.structural_violations(raw), "the raw pydantic schema must be caught by the checker"
    schema = crdgen.structural_schema(Tricky)
    assert crdgen.structural_violations(schema) == []
    properties = schema["properties"]
    assert properties["port"]["x-kubernetes-int-or-string"] is True
    assert properties["tags"]["x-kubernetes-list-type"] == "set"
    assert properties["ratio"]["minimum"] == 0 and properties["ratio"]["exclusiveMinimum"] is True
    assert properties["mode"]["enum"] == ["a"]
    assert properties["anything"]["x-kubernetes-preserve-unknown-fields"] is True
    assert properties["nested"]["nullable"] is True and "url" in properties["nested"]["properties"]
    assert properties["pair"]["items"]["type"] == "number" and properties["pair"]["maxItems"] == 2
    # A recursive model cannot be inlined: the recursion is cut to a free-form object.
    assert properties["children"]["items"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


class ByUrl(BaseModel):
    kind: Literal["url"]
    url: str


class ByBucket(BaseModel):
    kind: Literal["bucket"]
    bucket: str
    region: str = "eu"


class Source(BaseModel):
    source: Annotated[ByUrl | ByBucket, Field(discriminator="kind")]


def test_discriminated_union_becomes_one_object_that_still_rejects_a_bad_mix():
    schema = crdgen.structural_schema(Source)
    assert crdgen.structural_violations(schema) == []
    source = schema["properties"]["source"]
    assert source["properties"]["kind"] == {"type": "string", "enum": ["url", "bucket"]}
    assert set(source["properties"]) == {"kind", "url", "bucket", "region"}
    assert "default" not in source["properties"]["region"]  # a branch's default cannot hold for the others
    validator = jsonschema.Draft4Validator(draft4(schema))
    assert not list(validator.iter_errors({"source": {"kind": "url", "url": "s3://x"}}))
    assert list(validator.iter_errors({"source": {"kind": "url"}}))
    assert list(validator.iter_errors({"source": {"kind": "ftp", "url": "x"}}))


def test_checker_names_the_offending_field():
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "ratio": {"type": "number", "exclusiveMaximum": 1},
        "mode": {"anyOf": [{"type": "string", "description": "x"}, {"type": "null"}]},
    }}}}
    problems = crdgen.structural_violations(schema)
    assert any(problem.startswith("spec.ratio:") for problem in problems)
    assert any(problem.startswith("spec.mode") and "type" in problem for problem in problems)
