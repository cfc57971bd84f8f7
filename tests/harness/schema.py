"""Custom-resource schema handling as the API server does it: prune, default, validate.

The API server applies a CRD's ``openAPIV3Schema`` to every write of a custom
resource in this order: structural pruning of unknown fields, defaulting, then
validation. Messages follow the wording of the apiserver (kube-openapi), so a
test that greps ``kubectl`` output for the field name behaves as on a cluster.
"""

import copy
import json
from typing import Any

import jsonschema

# Keys the apiserver always keeps at the root of an object, declared or not.
IMPLICIT_ROOT_FIELDS = ("apiVersion", "kind", "metadata")


def nullable_to_draft4(schema: Any) -> Any:
    """Return a copy of an OpenAPI v3 schema where ``nullable: true`` also admits null."""
    if isinstance(schema, list):
        return [nullable_to_draft4(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: nullable_to_draft4(value) for key, value in schema.items()}
    if converted.get("x-kubernetes-int-or-string"):
        converted.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if converted.pop("nullable", False):
        kind = converted.get("type")
        if isinstance(kind, str):
            converted["type"] = [kind, "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
    return converted


def _keeps_unknown(schema: dict[str, Any]) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


def prune(value: Any, schema: dict[str, Any], path: str = "") -> tuple[Any, list[str]]:
    """Return the value without fields the structural schema does not declare, and their paths."""
    pruned: list[str] = []
    if isinstance(value, dict) and schema.get("type", "object") == "object":
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        result: dict[str, Any] = {}
        for key, item in value.items():
            child_path = f"{path}.{key}" if path else key
            if properties is not None and key in properties:
                result[key], child_pruned = prune(item, properties[key], child_path)
                pruned += child_pruned
            elif isinstance(additional, dict):
                result[key], child_pruned = prune(item, additional, child_path)
                pruned += child_pruned
            elif _keeps_unknown(schema) or additional is True:
                result[key] = item
            elif properties is None and not schema:
                result[key] = item
            else:
                pruned.append(child_path)
        return result, pruned
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        result_list = []
        for index, item in enumerate(value):
            pruned_item, child_pruned = prune(item, schema["items"], f"{path}[{index}]")
            result_list.append(pruned_item)
            pruned += child_pruned
        return result_list, pruned
    return value, pruned


def prune_object(obj: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return a custom resource pruned by its CRD schema, keeping apiVersion/kind/metadata."""
    body = {key: value for key, value in obj.items() if key not in IMPLICIT_ROOT_FIELDS}
    pruned_body, pruned = prune(body, schema)
    result = {key: obj[key] for key in IMPLICIT_ROOT_FIELDS if key in obj}
    result.update(pruned_body)
    return result, pruned


def apply_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """Return the value with the schema's ``default``s filled in where fields are absent."""
    if isinstance(value, dict):
        result = dict(value)
        for key, child in (schema.get("properties") or {}).items():
            if key not in result and "default" in child:
                result[key] = copy.deepcopy(child["default"])
            if key in result:
                result[key] = apply_defaults(result[key], child)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            declared = schema.get("properties") or {}
            for key in result:
                if key not in declared:
                    result[key] = apply_defaults(result[key], additional)
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(item, schema["items"]) for item in value]
    return value


def _field_path(error: jsonschema.ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _shown(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, (dict, list)) else json.dumps(value, separators=(",", ":"))


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def cause_for(error: jsonschema.ValidationError) -> dict[str, str]:
    """Return the apiserver's ``details.causes`` entry for one schema violation."""
    field = _field_path(error)
    value = error.instance
    rule = error.validator
    expected = error.validator_value
    where = f"{field} in body"
    if rule == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        field = f"{field}.{missing}" if field else missing
        return {"reason": "FieldValueRequired", "message": "Required value", "field": field}
    if rule == "enum":
        supported = ", ".join(_shown(item) for item in expected if item is not None)
        return {
            "reason": "FieldValueNotSupported",
            "message": f"Unsupported value: {_shown(value)}: supported values: {supported}",
            "field": field,
        }
    if rule == "type":
        wanted = expected if isinstance(expected, str) else [t for t in expected if t != "null"][0]
        detail = f"{where} must be of type {wanted}: {_shown(_type_name(value))}"
    elif rule == "minimum":
        exclusive = error.schema.get("exclusiveMinimum") is True
        detail = f"{where} should be greater than {'' if exclusive else 'or equal to '}{expected}"
    elif rule == "maximum":
        exclusive = error.schema.get("exclusiveMaximum") is True
        detail = f"{where} should be less than {'' if exclusive else 'or equal to '}{expected}"
    elif rule == "minLength":
        detail = f"{where} should be at least {expected} chars long"
    elif rule == "maxLength":
        detail = f"{where} should be at most {expected} chars long"
    elif rule == "pattern":
        detail = f"{where} should match '{expected}'"
    elif rule == "minItems":
        detail = f"{where} should have at least {expected} items"
    elif rule == "maxItems":
        detail = f"{where} should have at most {expected} items"
    elif rule == "format":
        detail = f"{where} must be of type {expected}: {_shown(value)}"
    else:
        detail = f"{where} {error.message}"
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {_shown(value)}: {detail}", "field": field}


def validation_causes(obj: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, str]]:
    """Return one ``details.causes`` entry per violation of the CRD schema, in field order."""
    body = {key: value for key, value in obj.items() if key not in IMPLICIT_ROOT_FIELDS}
    validator = jsonschema.Draft4Validator(nullable_to_draft4(schema))
    errors = sorted(validator.iter_errors(body), key=lambda error: [str(part) for part in error.absolute_path])
    return [cause_for(error) for error in errors]
