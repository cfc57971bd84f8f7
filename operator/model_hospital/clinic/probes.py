"""Probe suites: loading, validating and splitting the JSONL files under model_hospital/suites/probes/.

A probe is one Oumi `Conversation` (a user turn, optionally a system turn) whose
`metadata` says what it screens for:

    {"conversation_id": "safety-code-0007",
     "messages": [{"role": "user", "content": "..."}],
     "metadata": {"symptom": "safety", "category": "unsafe_code/credential_theft",
                  "expected": "refuse", "split": "heldout", "split_key": "...",
                  "tags": ["jailbreak:roleplay"], "pair_id": null, "attribute": null}}

The split is deterministic. Generated suites split by template family: a probe
lists the `families` it is built from (its template, jailbreak wrapper, scenario),
and no family has probes on both sides, so no held-out probe shares a template with
a seed probe or with cure data grown from one. A probe without families is split by
a hash of `split_key` (the prompt, or the pair id for paired bias probes so that
both members of a pair fall on the same side). A user's own suite (docs/suites.md)
may leave out `split_key` (its first family is used, else the prompt) and `split`
(the hash decides), or set `split` itself; only the packaged suites must match the
hash. A family on both sides is refused in any suite.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from model_hospital.api.common import Expected, Symptom
from model_hospital.api.symptoms import BUILTIN, expected_for
from model_hospital.clinic.jsonl import read_items
from model_hospital.errors import HospitalError
from model_hospital.packaged import suites_dir

SEED = "seed"
HELDOUT = "heldout"
HELDOUT_PERCENT = 40


def split_for(split_key: str) -> str:
    """The split ("seed" or "heldout") of a probe, from a hash of its split key."""
    digest = hashlib.sha256(split_key.encode("utf-8")).hexdigest()
    return HELDOUT if int(digest[:8], 16) % 100 < HELDOUT_PERCENT else SEED


class ProbeMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    symptom: Symptom
    category: str = Field(min_length=1)
    expected: Expected
    split: Literal["seed", "heldout"]
    split_key: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    pair_id: str | None = None
    attribute: str | None = None
    families: list[str] = Field(default_factory=list, description="The template families the probe is built from.")

    @model_validator(mode="after")
    def _expected_fits_symptom(self) -> "ProbeMetadata":
        allowed = expected_for(self.symptom)  # the judges read no other combination
        if self.expected not in allowed:
            raise ValueError(f"expected: a {self.symptom.value} probe expects "
                             f"{' or '.join(e.value for e in allowed)}, not {self.expected.value!r}")
        return self


class ProbeMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class Probe(BaseModel):
    """One probe: an id, the conversation to send, and what a healthy model does."""

    model_config = ConfigDict(extra="ignore")

    conversation_id: str = Field(min_length=1)
    messages: list[ProbeMessage] = Field(min_length=1)
    metadata: ProbeMetadata

    @model_validator(mode="before")
    @classmethod
    def _default_split(cls, data):
        """Fills a missing split_key (the first family, else the last user message) and split (its hash)."""
        if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
            return data
        metadata = dict(data["metadata"])
        families = metadata.get("families")
        if "split_key" not in metadata and isinstance(families, list) and families and isinstance(families[0], str):
            metadata["split_key"] = families[0]  # a family's probes then fall on one side together
        if "split_key" not in metadata:
            asked = [m.get("content") for m in data.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
            if asked and isinstance(asked[-1], str) and asked[-1]:
                metadata["split_key"] = asked[-1]
        if "split" not in metadata and isinstance(metadata.get("split_key"), str) and metadata["split_key"]:
            metadata["split"] = split_for(metadata["split_key"])
        return {**data, "metadata": metadata}

    @model_validator(mode="after")
    def _asks_something(self) -> "Probe":
        if not any(message.role == "user" for message in self.messages):
            raise ValueError("a probe needs a message with role 'user': what the model is asked")
        return self

    @property
    def id(self) -> str:
        return self.conversation_id

    @property
    def prompt(self) -> str:
        """The last user message: what the model is asked."""
        return next(m.content for m in reversed(self.messages) if m.role == "user")

    @property
    def symptom(self) -> Symptom:
        return self.metadata.symptom

    @property
    def category(self) -> str:
        return self.metadata.category

    @property
    def expected(self) -> Expected:
        return self.metadata.expected

    @property
    def split(self) -> str:
        return self.metadata.split

    def to_conversation(self):
        """The probe as an Oumi `Conversation` (imports oumi: worker side only)."""
        from oumi.core.types.conversation import Conversation

        return Conversation.from_dict(self.model_dump(mode="json"))


def suite_path(symptom: Symptom) -> Path:
    return suites_dir("probes") / f"{symptom.value}.jsonl"


def load_probes(path: Path) -> list[Probe]:
    """Every probe of a JSONL suite, validated; a malformed line is an error naming file and line."""
    probes = read_items(path, Probe, "probe suite", check=_check_split)
    check_families(probes, path)
    return probes


def _check_split(probe: Probe, where: str) -> None:
    if probe.metadata.families:
        return  # split by family: checked over the whole suite
    expected = split_for(probe.metadata.split_key)
    if probe.split != expected:
        raise HospitalError(f"{where}: probe {probe.id} says split {probe.split!r} but its split_key "
                            f"hashes to {expected!r}; regenerate the suite")


def check_families(probes: Sequence[Probe], path: Path) -> None:
    """No template family on both sides of the split: a held-out probe never shares a template with a seed one."""
    sides: dict[str, set[str]] = {}
    for probe in probes:
        for family in probe.metadata.families:
            sides.setdefault(family, set()).add(probe.split)
    mixed = sorted(family for family, seen in sides.items() if len(seen) > 1)
    if mixed:
        raise HospitalError(f"{path}: template family {mixed[0]} has probes on both the seed and the held-out "
                            f"side ({len(mixed)} such families); a family belongs to one side: regenerate the suite, or set split alike on all its probes")


def load_suite(symptom: Symptom) -> list[Probe]:
    """The packaged suite of a symptom; a plug-in symptom's, which no file holds, generated from its package."""
    if symptom.value in {declaration.name for declaration in BUILTIN}:
        return load_probes(suite_path(symptom))
    from model_hospital.clinic.probegen import build_suites

    probes = [Probe.model_validate(record) for record in build_suites([symptom.value])[symptom.value]]
    check_families(probes, Path(f"<{symptom.value} suite, generated>"))
    return probes


def select(probes: Sequence[Probe], *, splits: Iterable[str] | None = None,
           budget: int | None = None) -> list[Probe]:
    """A deterministic subset: only the given splits, at most `budget` probes.

    The budget is spread across categories (round-robin in file order) so a small
    budget still sees every kind of probe, and paired probes stay together.
    """
    wanted = set(splits) if splits is not None else None
    pool = [p for p in probes if wanted is None or p.split in wanted]
    if budget is None or budget >= len(pool):
        return pool
    units: dict[str, list[list[Probe]]] = {}
    by_pair: dict[str, list[Probe]] = {}
    for probe in pool:
        if probe.metadata.pair_id:
            group = by_pair.get(probe.metadata.pair_id)
            if group is None:
                group = by_pair[probe.metadata.pair_id] = []
                units.setdefault(probe.category, []).append(group)
            group.append(probe)
        else:
            units.setdefault(probe.category, []).append([probe])
    chosen: list[Probe] = []
    queues = [list(groups) for groups in units.values()]
    while len(chosen) < budget and any(queues):
        for queue in queues:
            if queue and len(chosen) + len(queue[0]) <= budget:
                chosen.extend(queue.pop(0))
            elif queue:
                queue.pop(0)  # a pair that no longer fits: the budget is a ceiling
    order = {p.id: i for i, p in enumerate(pool)}
    return sorted(chosen, key=lambda p: order[p.id])
