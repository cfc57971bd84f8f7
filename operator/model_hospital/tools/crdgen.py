"""CustomResourceDefinitions generated from the pydantic models, and a structural-schema checker.

pydantic writes JSON Schema 2020-12; the API server wants a *structural* OpenAPI v3
subset. `structural_schema` converts one into the other (the rules are numbered as in
notes/kubernetes-test-harness.md, section 6), and `structural_violations` checks the
result against the same rules, so that a model change that cannot be expressed fails
a test instead of a `kubectl apply`.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from model_hospital.api import resources as api

JUNCTORS = ("anyOf", "allOf", "oneOf", "not")
# Keys JSONSchemaProps knows (apiextensions.k8s.io/v1), besides x-kubernetes-*.
KNOWN_KEYS = {
    "id", "$schema", "$ref", "description", "type", "format", "title", "default", "maximum",
    "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern",
    "maxItems", "minItems", "uniqueItems", "multipleOf", "enum", "maxProperties", "minProperties",
    "required", "items", "allOf", "oneOf", "anyOf", "not", "properties", "additionalProperties",
    "patternProperties", "dependencies", "additionalItems", "definitions", "externalDocs", "example",
    "nullable",
}
# Known to JSONSchemaProps but forbidden in a structural schema, or noise (rule 11).
DROPPED_KEYS = {
    "title", "examples", "deprecated", "readOnly", "writeOnly", "$schema", "$id", "id",
    "patternProperties", "dependencies", "additionalItems", "discriminator", "$comment",
}
FORBIDDEN_IN_JUNCTORS = {"type", "description", "title", "default", "nullable", "additionalProperties", "metadata"}
PRESERVE = "x-kubernetes-preserve-unknown-fields"
INT_OR_STRING = "x-kubernetes-int-or-string"


class SchemaConversionError(ValueError):
    """A model uses a JSON Schema construct that has no structural equivalent."""


# --- conversion ----------------------------------------------------------------------


def structural_schema(model: type[BaseModel], *, keep_defaults: bool = True) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of a pydantic model (camelCase property names)."""
    raw = model.model_json_schema(by_alias=True)
    definitions = raw.pop("$defs", {})
    converted = _convert(raw, definitions, ())
    if not keep_defaults:
        converted = _without_defaults(converted)
    return converted


def _resolve(node: dict, definitions: dict, seen: tuple[str, ...]) -> tuple[dict, tuple[str, ...]]:
    """Inlines a `$ref` (rule 1); a recursive reference becomes a free-form object."""
    ref = node["$ref"]
    name = ref.rsplit("/", 1)[-1]
    if name in seen:
        return {"type": "object", PRESERVE: True}, seen
    target = copy.deepcopy(definitions[name])
    siblings = {key: value for key, value in node.items() if key != "$ref"}
    target.update(siblings)  # a ref's own description/default win over the model's
    return target, seen + (name,)


def _convert(node: Any, definitions: dict, seen: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise SchemaConversionError(f"unexpected schema node {node!r}")
    node = dict(node)
    if "$ref" in node:
        node, seen = _resolve(node, definitions, seen)
        if node.get(PRESERVE) and "type" in node and len(node) == 2:
            return node
        return _convert(node, definitions, seen)

    # allOf: [{$ref}] wrappers pydantic writes when a ref has siblings (rule 1).
    if "allOf" in node and len(node["allOf"]) == 1:
        inner = node.pop("allOf")[0]
        merged = dict(inner)
        merged.update(node)
        return _convert(merged, definitions, seen)

    if "anyOf" in node:
        return _convert_any_of(node, definitions, seen)
    if "oneOf" in node:
        return _convert_one_of(node, definitions, seen)

    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED_KEYS:
            continue
        if key == "const":  # rule 7
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):  # rule 8
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            out[bound] = value
            out[key] = True
        elif key == "uniqueItems":  # rule 9
            if value:
                out.setdefault("x-kubernetes-list-type", "set")
        elif key == "properties":
            out["properties"] = {name: _convert(sub, definitions, seen) for name, sub in value.items()}
        elif key == "items":
            if isinstance(value, list):
                raise SchemaConversionError("tuple items are not structural")
            out["items"] = _convert(value, definitions, seen)
        elif key == "prefixItems":  # rule 3: a homogeneous tuple becomes a bounded list
            out["items"] = _tuple_items(value, definitions, seen)
            out["minItems"] = out["maxItems"] = len(value)
        elif key == "additionalProperties":  # rule 10
            continue
        elif key == "default" and value is None:  # rule 2
            continue
        else:
            out[key] = value

    if "additionalProperties" in node:
        extra = node["additionalProperties"]
        if "properties" in node:
            if extra is True or isinstance(extra, dict):
                out[PRESERVE] = True
        elif extra is True or extra == {}:
            out[PRESERVE] = True
        elif isinstance(extra, dict):
            out["additionalProperties"] = _convert(extra, definitions, seen)

    if "type" not in out:
        out.update(_inferred_type(out))
    if isinstance(out.get("type"), list):
        raise SchemaConversionError(f"multi-type node {out['type']} is not structural")
    if out.get("type") == "object" and "properties" not in out and "additionalProperties" not in out:
        out[PRESERVE] = True
    if out.get("type") == "array" and "items" not in out:
        out["items"] = {PRESERVE: True, "type": "object"}
    if out.get("type") == "array" and out.get("x-kubernetes-list-type") == "set" and out["items"].get("type") == "object":
        del out["x-kubernetes-list-type"]  # sets are only for scalars
    return out


def _tuple_items(prefix: list, definitions: dict, seen: tuple[str, ...]) -> dict[str, Any]:
    converted = [_convert(item, definitions, seen) for item in prefix]
    if any(item != converted[0] for item in converted[1:]):
        raise SchemaConversionError("a tuple with different item types is not structural")
    return converted[0]


def _inferred_type(node: dict) -> dict[str, Any]:
    """A type for a node that has none (rule 3), from its enum or its shape."""
    if "enum" in node:
        kinds = {type(value) for value in node["enum"]}
        if kinds <= {str}:
            return {"type": "string"}
        if kinds <= {bool}:
            return {"type": "boolean"}
        if kinds <= {int}:
            return {"type": "integer"}
        if kinds <= {int, float}:
            return {"type": "number"}
    if INT_OR_STRING in node or PRESERVE in node:
        return {}
    if "properties" in node:
        return {"type": "object"}
    return {"type": "object", PRESERVE: True}


def _convert_any_of(node: dict, definitions: dict, seen: tuple[str, ...]) -> dict[str, Any]:
    """`Optional[X]` -> X + nullable (rule 2); `int | str` -> int-or-string (rule 5)."""
    branches = list(node.pop("anyOf"))
    nullable = any(branch == {"type": "null"} for branch in branches)
    branches = [branch for branch in branches if branch != {"type": "null"}]
    outer = {key: value for key, value in node.items() if key not in DROPPED_KEYS and not (key == "default" and value is None)}
    if len(branches) == 1:
        merged = dict(branches[0])
        if "$ref" in merged:
            resolved, seen = _resolve(merged, definitions, seen)
            merged = resolved
        merged.update(outer)
        result = _convert(merged, definitions, seen)
    elif sorted(branch.get("type", "") for branch in branches) == ["integer", "string"] and all(len(b) == 1 for b in branches):
        result = {INT_OR_STRING: True, "anyOf": [{"type": "integer"}, {"type": "string"}]}
        for key, value in outer.items():
            result[key] = value
    else:
        raise SchemaConversionError(f"union of {branches} has no structural form")
    if nullable:
        result["nullable"] = True
    return result


def _convert_one_of(node: dict, definitions: dict, seen: tuple[str, ...]) -> dict[str, Any]:
    """A discriminated union -> one object with every branch's properties (rule 6)."""
    branches = []
    for branch in node.pop("oneOf"):
        if "$ref" in branch:
            branch, _ = _resolve(branch, definitions, seen)
        branches.append(_convert(branch, definitions, seen))
    if not all(branch.get("type") == "object" and "properties" in branch for branch in branches):
        raise SchemaConversionError("oneOf is only supported between object models")
    discriminator = (node.get("discriminator") or {}).get("propertyName")
    properties: dict[str, Any] = {}
    for branch in branches:
        for name, schema in branch["properties"].items():
            schema = dict(schema)
            schema.pop("default", None)  # per-branch defaults cannot all hold
            if name == discriminator:
                tags = properties.get(name, {}).get("enum", []) + schema.get("enum", [])
                schema = {"type": "string", "enum": sorted(set(tags), key=tags.index)}
            properties.setdefault(name, schema)
            if name == discriminator:
                properties[name] = schema
    merged: dict[str, Any] = {"type": "object", "properties": properties}
    requirements = [{"required": sorted(branch.get("required", []))} for branch in branches]
    if discriminator:
        merged["required"] = [discriminator]
        requirements = [{"required": sorted(set(req["required"]) - {discriminator})} for req in requirements]
    if any(req["required"] for req in requirements):
        merged["oneOf"] = [req for req in requirements if req["required"]]
    for key, value in node.items():
        if key not in DROPPED_KEYS and key not in ("discriminator",) and not (key == "default" and value is None):
            merged[key] = value
    return merged


def _without_defaults(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _without_defaults(value) for key, value in node.items() if key != "default"}
    if isinstance(node, list):
        return [_without_defaults(item) for item in node]
    return node


# --- the structural checker ----------------------------------------------------------


def structural_violations(schema: dict[str, Any]) -> list[str]:
    """Every way `schema` breaks the API server's structural-schema rules, as 'path: problem' lines."""
    problems: list[str] = []
    if schema.get("type") != "object":
        problems.append("(root): the root must be type: object")
    if "additionalProperties" in schema:
        problems.append("(root): additionalProperties is forbidden at the root")
    _check(schema, "", problems, in_junctor=False, root=True)
    return problems


def _check(node: Any, path: str, problems: list[str], *, in_junctor: bool, root: bool = False) -> None:
    where = path or "(root)"
    if not isinstance(node, dict):
        problems.append(f"{where}: schema must be an object")
        return
    for key in node:
        if key.startswith("x-kubernetes-"):
            if in_junctor:
                problems.append(f"{where}: {key} is forbidden inside anyOf/allOf/oneOf/not")
            continue
        if key not in KNOWN_KEYS:
            problems.append(f"{where}: unknown key {key}")
        elif key in ("$ref", "definitions", "patternProperties", "dependencies", "additionalItems", "id", "$schema"):
            problems.append(f"{where}: {key} is not supported")
        if in_junctor and key in FORBIDDEN_IN_JUNCTORS:
            problems.append(f"{where}: {key} is forbidden inside anyOf/allOf/oneOf/not")
    if node.get("uniqueItems") is True:
        problems.append(f"{where}: uniqueItems cannot be true")
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        if key in node and not isinstance(node[key], bool):
            problems.append(f"{where}: {key} must be a boolean")
    if "type" in node and (not isinstance(node["type"], str) or node["type"] == "null"):
        problems.append(f"{where}: type must be one of object, array, string, integer, number, boolean")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{where}: additionalProperties and properties are mutually exclusive")
    if isinstance(node.get("additionalProperties"), bool):
        problems.append(f"{where}: additionalProperties must be a schema (use x-kubernetes-preserve-unknown-fields)")

    if not in_junctor and not root:
        typeless_ok = node.get(INT_OR_STRING) is True or node.get(PRESERVE) is True
        if not node.get("type") and not typeless_ok:
            problems.append(f"{where}: type is required")
    if node.get(INT_OR_STRING):
        branches = node.get("anyOf") or node.get("allOf", [{}])[0].get("anyOf")
        if branches and branches != [{"type": "integer"}, {"type": "string"}]:
            problems.append(f"{where}: x-kubernetes-int-or-string allows only anyOf [integer, string]")
    if node.get("type") == "array" and not in_junctor:
        if "items" not in node:
            problems.append(f"{where}: an array needs items")
    if isinstance(node.get("items"), list):
        problems.append(f"{where}: items must be one schema, not a tuple")

    declared = set(node.get("properties", {}))
    for name, sub in node.get("properties", {}).items():
        _check(sub, f"{path}.{name}" if path else name, problems, in_junctor=in_junctor)
    if isinstance(node.get("items"), dict):
        _check(node["items"], f"{path}[]", problems, in_junctor=in_junctor)
    if isinstance(node.get("additionalProperties"), dict):
        _check(node["additionalProperties"], f"{path}{{}}", problems, in_junctor=in_junctor)
    for junctor in JUNCTORS:
        if junctor not in node:
            continue
        branches = node[junctor] if isinstance(node[junctor], list) else [node[junctor]]
        for index, branch in enumerate(branches):
            if node.get(INT_OR_STRING) and branch in ({"type": "integer"}, {"type": "string"}):
                continue
            _check(branch, f"{path}.{junctor}[{index}]", problems, in_junctor=True)
            for name in (branch.get("properties") or {}) if isinstance(branch, dict) else ():
                if name not in declared:
                    problems.append(f"{where}: {name} is named in {junctor} but not declared outside it")


# --- the CRDs --------------------------------------------------------------------------


PATIENT_COLUMNS = [
    {"name": "Model", "type": "string", "jsonPath": ".spec.model.reference", "description": "The model under examination."},
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase", "description": "Pending, Diagnosing, Diagnosed or Failed."},
    {"name": "Progress", "type": "integer", "jsonPath": ".status.progress.percent", "description": "Percent of the running diagnosis done."},
    {"name": "Severity", "type": "string", "jsonPath": ".status.overallSeverity", "description": "The worst severity found."},
    {"name": "Worst Symptom", "type": "string", "jsonPath": ".status.worstSymptom", "description": "The symptom with the highest failure rate."},
    {"name": "Failure %", "type": "number", "jsonPath": ".status.worstFailureRate", "description": "Failure rate of the worst symptom, in percent."},
    {"name": "Last Checkup", "type": "date", "jsonPath": ".status.lastCheckup", "description": "When the last diagnosis finished."},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]
TREATMENT_COLUMNS = [
    {"name": "Patient", "type": "string", "jsonPath": ".spec.patientRef.name", "description": "The ModelPatient treated."},
    {"name": "Stage", "type": "string", "jsonPath": ".status.stage", "description": "The stage running or next."},
    {"name": "Progress", "type": "integer", "jsonPath": ".status.progress.percent", "description": "Percent of the running stage's current part done."},
    {"name": "Before", "type": "string", "jsonPath": ".status.severityBefore", "description": "Severity before treatment."},
    {"name": "After", "type": "string", "jsonPath": ".status.severityAfter", "description": "Severity after treatment."},
    {"name": "Skills", "type": "string", "jsonPath": ".status.skillsSummary", "description": "Skills kept or lost."},
    {"name": "Verdict", "type": "string", "jsonPath": ".status.verdict", "description": "Healed, Degraded, NotHealed, Inconclusive or Failed."},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]

KINDS = {
    "modelpatients": dict(kind="ModelPatient", singular="modelpatient", short_names=["patient", "patients", "mp"],
                          spec=api.ModelPatientSpec, status=api.ModelPatientStatus, columns=PATIENT_COLUMNS,
                          description=api.ModelPatient.__doc__),
    "treatments": dict(kind="Treatment", singular="treatment", short_names=["tx"],
                       spec=api.TreatmentSpec, status=api.TreatmentStatus, columns=TREATMENT_COLUMNS,
                       description=api.Treatment.__doc__),
}


def open_api_schema(spec_model: type[BaseModel], status_model: type[BaseModel], description: str) -> dict[str, Any]:
    """The CRD's openAPIV3Schema: spec (with defaults the server applies) and status (rule 13)."""
    spec = structural_schema(spec_model)
    status = structural_schema(status_model, keep_defaults=False)
    status[PRESERVE] = True  # kopf keeps its own keys in status
    return {
        "type": "object",
        "description": " ".join(description.split()),
        "properties": {"spec": spec, "status": status},
        "required": ["spec"],
    }


def custom_resource_definition(plural: str) -> dict[str, Any]:
    """The CustomResourceDefinition of one of our kinds ('modelpatients' or 'treatments')."""
    kind = KINDS[plural]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{api.GROUP}"},
        "spec": {
            "group": api.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind["kind"],
                "listKind": f"{kind['kind']}List",
                "plural": plural,
                "singular": kind["singular"],
                "shortNames": kind["short_names"],
                "categories": ["hospital"],
            },
            "versions": [{
                "name": api.VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": kind["columns"],
                "schema": {"openAPIV3Schema": open_api_schema(kind["spec"], kind["status"], kind["description"])},
            }],
        },
    }


def crd_documents() -> dict[str, dict[str, Any]]:
    """File name under crds/ -> CRD document, for every kind."""
    return {f"{plural}.yaml": custom_resource_definition(plural) for plural in KINDS}


def render_yaml(document: dict[str, Any]) -> str:
    """The YAML text of a CRD as crds/ holds it (stable key order, a generated-file header)."""
    import yaml

    header = "# Generated by `hospital crds generate` from model_hospital/api/resources.py; do not edit.\n"
    return header + yaml.safe_dump(document, sort_keys=False, width=100, allow_unicode=True)
