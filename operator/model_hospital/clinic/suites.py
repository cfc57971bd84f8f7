"""The suites a stage reads: the packaged ones, or a user's own files in the same JSONL format.

A user's probe file replaces the packaged suite of every symptom it holds, and a
skill file the packaged suite of every domain it holds; the rest stay packaged
(docs/suites.md). Their probes are not held to the packaged suites' split hash:
a user may put a probe on either side, but a template family on one side only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from model_hospital.api.common import Symptom
from model_hospital.clinic.jsonl import read_items
from model_hospital.clinic.probes import Probe, check_families, load_suite
from model_hospital.clinic.skills import DOMAINS, SkillItem, check_replay_families, load_domain
from model_hospital.errors import HospitalError


def own_probes(files: Sequence[str]) -> list[Probe]:
    """Every probe of a user's probe files, validated line by line; ids unique, no family on both sides of a file."""
    return _read_checked(files, Probe, "probe suite", check_families)


def own_skill_items(files: Sequence[str]) -> list[SkillItem]:
    """Every item of a user's skill files, validated line by line; ids unique, no family both replayed and scored."""
    return _read_checked(files, SkillItem, "skill suite", check_replay_families)


def _read_checked(files: Sequence[str], model, kind: str, check) -> list:
    """Every item of the files, each line validated and each file checked whole by `check`; ids unique across them."""
    items = []
    for path in files:
        of_file = read_items(Path(path), model, kind)
        check(of_file, Path(path))
        items += of_file
    return _unique(items, files)


def probe_suite(symptom: Symptom, files: Sequence[str] = ()) -> list[Probe]:
    """The probes of one symptom: the user's that screen for it, else the packaged suite."""
    own = [probe for probe in own_probes(files) if probe.symptom is symptom]
    return own or load_suite(symptom)


def skill_suite(domain: str, files: Sequence[str] = ()) -> list[SkillItem]:
    """The items of one skill domain: the user's of that domain, else the packaged suite."""
    own = [item for item in own_skill_items(files) if item.domain == domain]
    return own or load_domain(domain)


def skill_suites(files: Sequence[str] = ()) -> dict[str, list[SkillItem]]:
    """Every skill domain's items, the user's replacing the packaged ones domain by domain."""
    return {domain: skill_suite(domain, files) for domain in DOMAINS}


def digest(files: Sequence[str]) -> str:
    """A digest of the files' contents (empty when none): what a cached examination of them is keyed by."""
    if not files:
        return ""
    found = hashlib.sha256()
    for path in files:
        try:
            found.update(Path(path).read_bytes())
        except OSError as error:
            raise HospitalError(f"cannot read suite {path}: {error.strerror}") from None
    return found.hexdigest()[:24]


def _unique(items: list, files: Sequence[str]) -> list:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise HospitalError(f"id {item.id!r} appears in more than one of {', '.join(files)}: "
                                "give each item its own id")
        seen.add(item.id)
    return items
