"""The CRD reference (docs/crd-reference.md), written from the generated CRDs in crds/.

The CRDs are generated from api/resources.py, so every description here is the
model's: the reference, `kubectl explain` and the code cannot disagree. A test
compares docs/crd-reference.md with `crd_reference(repo_root)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import yaml

REFERENCE_PATH = Path("docs") / "crd-reference.md"
HEADER = """\
# CRD reference

Generated from `crds/*.yaml` (themselves generated from
`operator/model_hospital/api/resources.py`) by `model_hospital.tools.crdref`; do not
edit. `kubectl explain modelpatient.spec` shows the same descriptions on a cluster.
"""


def _type_of(schema: dict[str, Any]) -> str:
    """A short type name for a schema node: string, integer, object, []string, map[string]string, ..."""
    if schema.get("x-kubernetes-int-or-string"):
        kind = "int-or-string"
    elif schema.get("type") == "array":
        kind = "[]" + _type_of(schema.get("items") or {})
    elif schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
        kind = "map[string]" + _type_of(schema["additionalProperties"])
    elif schema.get("type"):
        kind = schema["type"]
    elif schema.get("x-kubernetes-preserve-unknown-fields"):
        kind = "any"
    else:
        kind = "object"
    return kind


def _constraints(schema: dict[str, Any]) -> str:
    """Enum, bounds, lengths and default of a node, in a few words."""
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{value}`" for value in schema["enum"]))
    if "enum" in (schema.get("items") or {}):
        parts.append("each one of " + ", ".join(f"`{value}`" for value in schema["items"]["enum"]))
    if "minimum" in schema:
        parts.append(f"{'>' if schema.get('exclusiveMinimum') else '>='} {schema['minimum']}")
    if "maximum" in schema:
        parts.append(f"{'<' if schema.get('exclusiveMaximum') else '<='} {schema['maximum']}")
    if "maxLength" in schema:
        parts.append(f"at most {schema['maxLength']} characters")
    if "maxItems" in schema:
        parts.append(f"at most {schema['maxItems']} items")
    if "default" in schema:
        parts.append(f"default `{yaml.safe_dump(schema['default'], default_flow_style=True).strip().removesuffix('...').strip()}`")
    return "; ".join(parts)


def _rows(schema: dict[str, Any], path: str, required: bool) -> Iterator[tuple[str, str, bool, str, str]]:
    """(path, type, required, constraints, description) for a node and everything below it."""
    yield path, _type_of(schema), required, _constraints(schema), " ".join((schema.get("description") or "").split())
    node = schema
    suffix = ""
    while node.get("type") == "array" and isinstance(node.get("items"), dict):
        node, suffix = node["items"], suffix + "[]"
    if isinstance(node.get("additionalProperties"), dict) and node["additionalProperties"].get("properties"):
        node, suffix = node["additionalProperties"], suffix + ".*"
    needed = set(node.get("required") or [])
    for name, child in (node.get("properties") or {}).items():
        yield from _rows(child, f"{path}{suffix}.{name}", name in needed)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def kind_section(crd: dict[str, Any]) -> str:
    """The Markdown section of one CRD: names, printer columns, and a table of every spec and status field."""
    spec = crd["spec"]
    names = spec["names"]
    version = spec["versions"][0]
    openapi = version["schema"]["openAPIV3Schema"]
    lines = [
        f"## {names['kind']}",
        "",
        " ".join((openapi.get("description") or "").split()),
        "",
        f"- API: `{spec['group']}/{version['name']}`, {spec['scope'].lower()}",
        f"- Names: `{names['plural']}`, `{names['singular']}`"
        + "".join(f", `{short}`" for short in names.get("shortNames", []))
        + (f"; categories: {', '.join(names.get('categories', []))}" if names.get("categories") else ""),
        "",
        "`kubectl get` columns:",
        "",
        "| column | from | meaning |",
        "| --- | --- | --- |",
    ]
    for column in version.get("additionalPrinterColumns", []):
        lines.append(f"| {column['name']} | `{column['jsonPath']}` | {_escape(column.get('description', ''))} |")
    for part in ("spec", "status"):
        schema = openapi["properties"][part]
        lines += ["", f"### {names['kind']}.{part}", "", " ".join((schema.get("description") or "").split()), "",
                  "| field | type | required | constraints | description |", "| --- | --- | --- | --- | --- |"]
        needed = set(schema.get("required") or [])
        for name, child in (schema.get("properties") or {}).items():
            for path, kind, required, constraints, description in _rows(child, name, name in needed):
                lines.append(f"| `{path}` | {_escape(kind)} | {'yes' if required else ''} | {_escape(constraints)} | {_escape(description)} |")
    return "\n".join(lines) + "\n"


def crd_reference(repo_root: Path | str = ".") -> str:
    """docs/crd-reference.md's text, from crds/*.yaml."""
    sections = []
    for path in sorted((Path(repo_root) / "crds").glob("*.yaml")):
        sections.append(kind_section(yaml.safe_load(path.read_text(encoding="utf-8"))))
    # ModelPatient first: it is what a user applies first.
    sections.sort(key=lambda text: not text.startswith("## ModelPatient"))
    return HEADER + "\n" + "\n".join(sections)
