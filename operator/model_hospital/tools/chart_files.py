"""The chart's generated files: values.yaml, values.schema.json and the chart's CRD copies, and two beside the chart.

`write_chart_files(repo_root)` regenerates, inside charts/model-hospital/:
- values.yaml: the defaults of `ChartValues`, every key preceded by its field's description;
- values.schema.json: the JSON Schema of `ChartValues`, so a wrong value fails at
  `helm install` with the field named;
- files/crds/*.yaml: byte copies of the top-level crds/, which the chart renders as
  templates (Helm never upgrades a chart's crds/ folder; templates it does upgrade);
and, outside the chart: examples/gitops/argocd-cm-health.yaml (the Lua health checks
wrapped for argocd-cm), docs/chart-values.md and docs/crd-reference.md.

Tests compare each file with what these functions produce, so none of them can drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from model_hospital.tools import crdref
from model_hospital.tools.chart_values import ChartValues

CHART_DIR = Path("charts") / "model-hospital"
CRD_SOURCE_DIR = Path("crds")
CHART_CRD_DIR = CHART_DIR / "files" / "crds"


def _inline_refs(node: Any, definitions: dict[str, Any]) -> Any:
    """The schema node with every $ref replaced by its definition, titles dropped."""
    if isinstance(node, list):
        return [_inline_refs(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = definitions[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _inline_refs(merged, definitions)
    return {key: _inline_refs(value, definitions) for key, value in node.items() if key not in ("title", "$defs")}


def values_schema() -> dict[str, Any]:
    """The JSON Schema Helm checks the merged values against (values.schema.json)."""
    raw = ChartValues.model_json_schema(by_alias=True, mode="validation")
    definitions = raw.get("$defs", {})
    schema = _inline_refs(raw, definitions)
    # Defaults live in values.yaml; in the schema they would only repeat it.
    schema = _drop_defaults(schema)
    return {"$schema": "https://json-schema.org/draft-07/schema#", "title": "model-hospital chart values", **schema}


def _drop_defaults(node: Any) -> Any:
    if isinstance(node, list):
        return [_drop_defaults(item) for item in node]
    if isinstance(node, dict):
        return {key: _drop_defaults(value) for key, value in node.items() if key != "default"}
    return node


def values_schema_json() -> str:
    """values.schema.json's text."""
    return json.dumps(values_schema(), indent=2, sort_keys=False) + "\n"


VALUES_HEADER = """\
# Values of the model-hospital chart.
#
# Generated from operator/model_hospital/tools/chart_values.py (ChartValues): every key
# is documented by its field's description, and values.schema.json (from the same
# model) rejects unknown keys and wrong types at install. Do not edit by hand:
# change the model and run `hospital chart generate` (or
# `python -c 'from model_hospital.tools.chart_files import write_chart_files; write_chart_files()'`).
"""


def _scalar_text(value: Any) -> str:
    """A YAML scalar or empty collection on one line."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _block_lines(model: BaseModel, indent: int) -> list[str]:
    """Lines of `model`'s defaults as YAML, each key preceded by its description as a comment."""
    pad = " " * indent
    lines: list[str] = []
    for name, field in type(model).model_fields.items():
        key = field.alias or name
        value = getattr(model, name)
        if lines and indent == 0:
            lines.append("")
        for comment_line in (field.description or "").splitlines():
            lines.append(f"{pad}# {comment_line}")
        if value is None:
            # Unset by default: shown commented out, so the key is still documented.
            lines.append(f"{pad}# {key}:")
            continue
        if isinstance(value, BaseModel):
            lines.append(f"{pad}{key}:")
            lines.extend(_block_lines(value, indent + 2))
            continue
        plain = _plain(value)
        if isinstance(plain, (dict, list)) and plain:
            lines.append(f"{pad}{key}:")
            dumped = yaml.safe_dump(plain, default_flow_style=False, sort_keys=False)
            lines.extend(f"{pad}  {line}" for line in dumped.splitlines())
        else:
            lines.append(f"{pad}{key}: {_scalar_text(plain)}")
    return lines


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def values_yaml() -> str:
    """values.yaml's text: ChartValues' defaults with every key documented."""
    return VALUES_HEADER + "\n" + "\n".join(_block_lines(ChartValues(), 0)) + "\n"


VALUES_REFERENCE_PATH = Path("docs") / "chart-values.md"


def _value_rows(instance: BaseModel, prefix: str) -> list[tuple[str, str, str]]:
    """(key path, default as YAML, description) for every field of `instance`, nested blocks expanded."""
    rows = []
    for name, field in type(instance).model_fields.items():
        key = f"{prefix}{field.alias or name}"
        value = getattr(instance, name)
        if isinstance(value, BaseModel):
            rows.append((key, "", field.description or ""))
            rows.extend(_value_rows(value, f"{key}."))
            continue
        plain = _plain(value)
        if value is None:
            shown = "unset"
        elif isinstance(plain, (dict, list)) and plain:
            shown = json.dumps(plain)
        else:
            shown = _scalar_text(plain)
        rows.append((key, shown, field.description or ""))
    return rows


def values_reference() -> str:
    """docs/chart-values.md: every chart value with its default and description."""
    lines = [
        "# Chart values",
        "",
        "Generated from `ChartValues` in `operator/model_hospital/tools/chart_values.py`; do not edit.",
        "`values.schema.json` comes from the same model, so `helm install` rejects unknown keys and",
        "wrong types with the field named.",
        "",
        "| value | default | description |",
        "| --- | --- | --- |",
    ]
    for key, default, description in _value_rows(ChartValues(), ""):
        lines.append(f"| `{key}` | {f'`{default}`' if default else ''} | {description.replace('|', chr(92) + '|')} |")
    return "\n".join(lines) + "\n"


def chart_crd_files(repo_root: Path) -> dict[Path, str]:
    """The chart's CRD copies (relative path -> text): byte copies of crds/*.yaml."""
    source = repo_root / CRD_SOURCE_DIR
    return {CHART_CRD_DIR / path.name: path.read_text(encoding="utf-8") for path in sorted(source.glob("*.yaml"))}


GITOPS_DIR = Path("examples") / "gitops"
ARGOCD_HEALTH_SCRIPTS = {
    "ModelPatient": GITOPS_DIR / "health" / "modelpatient.lua",
    "Treatment": GITOPS_DIR / "health" / "treatment.lua",
}


def argocd_health_patch(repo_root: Path) -> str:
    """examples/gitops/argocd-cm-health.yaml: the Lua health checks as Argo CD's argocd-cm wants them."""
    data = {f"resource.customizations.health.modelhospital.io_{kind}": (repo_root / path).read_text(encoding="utf-8")
            for kind, path in ARGOCD_HEALTH_SCRIPTS.items()}
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm", "namespace": "argocd",
                     "labels": {"app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd"}},
        "data": data,
    }
    header = ("# Generated from examples/gitops/health/*.lua by model_hospital.tools.chart_files.write_chart_files.\n"
              "# Merge into Argo CD's argocd-cm:\n"
              "#   kubectl -n argocd patch configmap argocd-cm --type merge --patch-file examples/gitops/argocd-cm-health.yaml\n")
    return header + yaml.dump(config_map, Dumper=_LiteralDumper, sort_keys=False, width=120)


class _LiteralDumper(yaml.SafeDumper):
    """A safe dumper that writes multi-line strings as literal blocks (|), so scripts stay readable."""


def _literal_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_LiteralDumper.add_representer(str, _literal_text)


def chart_files(repo_root: Path) -> dict[Path, str]:
    """Every generated packaging file: the chart's values, schema and CRD copies, Argo CD's health patch, the references."""
    files = {
        CHART_DIR / "values.yaml": values_yaml(),
        CHART_DIR / "values.schema.json": values_schema_json(),
        GITOPS_DIR / "argocd-cm-health.yaml": argocd_health_patch(repo_root),
        VALUES_REFERENCE_PATH: values_reference(),
        crdref.REFERENCE_PATH: crdref.crd_reference(repo_root),
    }
    files.update(chart_crd_files(repo_root))
    return files


def stale_chart_files(repo_root: Path) -> list[Path]:
    """Generated chart files that differ from what the models produce (or whose source is gone)."""
    expected = chart_files(repo_root)
    stale = [path for path, text in expected.items()
             if not (repo_root / path).is_file() or (repo_root / path).read_text(encoding="utf-8") != text]
    extra = [path.relative_to(repo_root) for path in (repo_root / CHART_CRD_DIR).glob("*.yaml")
             if path.relative_to(repo_root) not in expected]
    return sorted(stale + extra)


def write_chart_files(repo_root: Path | str = ".") -> list[Path]:
    """Writes values.yaml, values.schema.json and the CRD copies; returns the paths that changed."""
    root = Path(repo_root)
    changed = []
    for path in (root / CHART_CRD_DIR).glob("*.yaml"):
        if path.relative_to(root) not in chart_crd_files(root):
            path.unlink()
            changed.append(path.relative_to(root))
    for relative, text in chart_files(root).items():
        target = root / relative
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        changed.append(relative)
    return changed
