"""Reading JSONL suites into pydantic models, with errors that name the file and line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from model_hospital.errors import HospitalError

Item = TypeVar("Item", bound=BaseModel)
# Bad lines named in one error; the rest are counted.
LISTED = 5


def read_items(path: Path, model: type[Item], what: str,
               check: Callable[[Item, str], None] | None = None) -> list[Item]:
    """Every line of `path` as a `model`, ids unique; `check(item, where)` may reject an item.

    `what` names the file in messages ("probe suite", "skill suite"). A missing or
    empty file is a HospitalError; so are bad lines (bad JSON, a bad field, a duplicate
    id, an item `check` rejects): one error names every bad line as `file:line: field:
    what to fix` (the first LISTED of them, and how many more), so a user fixes a file
    in one pass.
    """
    if not path.is_file():
        raise HospitalError(f"{what} {path} does not exist")
    items: list[Item] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = _item(line, model, where)
            if item.id in seen:
                raise HospitalError(f"{where}: field id: {item.id!r} is used by an earlier line; give each item its own id")
            if check:
                check(item, where)
        except HospitalError as problem:
            problems.append(str(problem))
            continue
        seen.add(item.id)
        items.append(item)
    if problems:
        more = f"; and {len(problems) - LISTED} more bad lines" if len(problems) > LISTED else ""
        raise HospitalError("; ".join(problems[:LISTED]) + more)
    if not items:
        raise HospitalError(f"{what} {path} is empty: it needs at least one item")
    return items


def _item(line: str, model: type[Item], where: str) -> Item:
    """One line as a `model`; a HospitalError naming the line and the first bad field."""
    try:
        return model.model_validate(json.loads(line))
    except json.JSONDecodeError as error:
        raise HospitalError(f"{where}: not valid JSON ({error.msg})") from None
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(the line)"
        raise HospitalError(f"{where}: field {field}: {first['msg']}") from None
