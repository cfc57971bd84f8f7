"""Reading JSONL suites into pydantic models, with errors that name the file and line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from model_hospital.errors import HospitalError

Item = TypeVar("Item", bound=BaseModel)


def read_items(path: Path, model: type[Item], what: str,
               check: Callable[[Item, str], None] | None = None) -> list[Item]:
    """Every line of `path` as a `model`, ids unique; `check(item, where)` may reject an item.

    `what` names the file in messages ("probe suite", "skill suite"). A missing or
    empty file, bad JSON, a bad field or a duplicate id is a HospitalError naming
    the file and line.
    """
    if not path.is_file():
        raise HospitalError(f"{what} {path} does not exist")
    items: list[Item] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = model.model_validate(json.loads(line))
        except json.JSONDecodeError as error:
            raise HospitalError(f"{where}: not valid JSON ({error.msg})") from None
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise HospitalError(f"{where}: field {field}: {first['msg']}") from None
        if item.id in seen:
            raise HospitalError(f"{where}: duplicate id {item.id!r}")
        if check:
            check(item, where)
        seen.add(item.id)
        items.append(item)
    if not items:
        raise HospitalError(f"{what} {path} is empty: it needs at least one item")
    return items
