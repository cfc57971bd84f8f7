"""Label selectors, field selectors and printer-column JSONPath, as the API server reads them."""

import datetime
import json
import re
from collections.abc import Callable
from typing import Any

Selector = Callable[[dict[str, Any]], bool]


def _split_terms(text: str) -> list[str]:
    """Return the comma-separated terms of a selector, keeping commas inside parentheses."""
    terms, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        terms.append(current.strip())
    return terms


_SET_TERM = re.compile(r"^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$")


class SelectorError(ValueError):
    """A selector the API server would reject with 400 BadRequest."""


def _label_term(term: str) -> Selector:
    if match := _SET_TERM.match(term):
        key, operator, values_text = match.groups()
        values = {value.strip() for value in values_text.split(",") if value.strip()}
        if operator == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    for operator in ("!=", "==", "="):
        if operator in term:
            key, value = (part.strip() for part in term.split(operator, 1))
            if operator == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    if term.startswith("!"):
        key = term[1:].strip()
        return lambda labels: key not in labels
    if re.fullmatch(r"[A-Za-z0-9./_-]+", term):
        return lambda labels: term in labels
    raise SelectorError(f"unable to parse requirement: {term!r}")


def label_selector(text: str | None) -> Selector:
    """Return a predicate on an object that says whether its labels match the selector."""
    checks = [_label_term(term) for term in _split_terms(text or "")]

    def matches(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(check(labels) for check in checks)

    return matches


def dotted(obj: Any, path: str) -> Any:
    """Return the value at a dotted path (``involvedObject.name``), or None when absent."""
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _as_field_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def field_selector(text: str | None) -> Selector:
    """Return a predicate for a field selector (``=``, ``==``, ``!=`` on dotted paths)."""
    checks: list[Selector] = []
    for term in _split_terms(text or ""):
        operator = "!=" if "!=" in term else "==" if "==" in term else "="
        if operator not in term:
            raise SelectorError(f"invalid selector: {term!r}; can't understand {term!r}")
        path, value = (part.strip() for part in term.split(operator, 1))
        if operator == "!=":
            checks.append(lambda obj, path=path, value=value: _as_field_text(dotted(obj, path)) != value)
        else:
            checks.append(lambda obj, path=path, value=value: _as_field_text(dotted(obj, path)) == value)
    return lambda obj: all(check(obj) for check in checks)


_JSONPATH_TOKEN = re.compile(
    r"""\.(?P<field>[A-Za-z0-9_-]+)"""
    r"""|\[(?P<index>-?\d+)\]"""
    r"""|\[\?\(@\.(?P<fpath>[A-Za-z0-9_.-]+)\s*==\s*(?P<quote>["'])(?P<fvalue>.*?)(?P=quote)\)\]"""
    r"""|\[(?P<kq>["'])(?P<key>[^"']+)(?P=kq)\]"""
    r"""|\[\*\]"""
)


def jsonpath(obj: Any, expression: str) -> list[Any]:
    """Return every value a printer-column JSONPath selects (dotted, ``[n]``, ``[*]``, ``[?(@.k=="v")]``)."""
    expression = expression.strip()
    if expression.startswith("{") and expression.endswith("}"):
        expression = expression[1:-1]
    expression = expression.lstrip("$")
    if not expression.startswith((".", "[")):
        expression = "." + expression
    current = [obj]
    position = 0
    while position < len(expression):
        match = _JSONPATH_TOKEN.match(expression, position)
        if match is None:
            raise SelectorError(f"unsupported JSONPath {expression!r}")
        position = match.end()
        selected: list[Any] = []
        for value in current:
            if match.group("field") is not None or match.group("key") is not None:
                key = match.group("field") or match.group("key")
                if isinstance(value, dict) and key in value:
                    selected.append(value[key])
            elif match.group("index") is not None:
                index = int(match.group("index"))
                if isinstance(value, list) and -len(value) <= index < len(value):
                    selected.append(value[index])
            elif match.group("fpath") is not None:
                if isinstance(value, list):
                    selected += [
                        item for item in value
                        if _as_field_text(dotted(item, match.group("fpath"))) == match.group("fvalue")
                    ]
            elif isinstance(value, list):
                selected += value
        current = selected
    return current


def age(timestamp: str | None, now: datetime.datetime | None = None) -> str:
    """Return a duration in kubectl's short form (``4s``, ``3m12s``, ``5h``, ``2d``) since a timestamp."""
    if not timestamp:
        return "<unknown>"
    then = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    seconds = max(0, int(((now or datetime.datetime.now(datetime.UTC)) - then).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def cell(values: list[Any], column_type: str) -> Any:
    """Return the Table cell for a printer column's selected values, typed as the API server does."""
    if not values:
        return None
    if column_type == "date":
        return age(str(values[0]))
    if len(values) == 1:
        value = values[0]
        if column_type in ("integer", "number", "boolean") and not isinstance(value, (dict, list)):
            return value
        return value if isinstance(value, str) else json.dumps(value)
    return ",".join(value if isinstance(value, str) else json.dumps(value) for value in values)
