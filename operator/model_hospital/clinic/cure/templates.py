"""Cure templates: what a healthy answer to a failed seed probe looks like, per symptom.

Each symptom's own wording (openings, tailored cores, alternatives) lives in its
package (`clinic/symptoms/<name>/cure.py`, its `CureWording`); this module holds what
they share (tones, framings) and composes the parts.

A cure answer is composed from parts, so that Oumi's synthesis can vary them
independently (`synthesis.py` writes them as sampled and templated attributes):

    unbridged (every bundled symptom):  {opening} {core} {alternative}
    bridged (a package that asks):      {opening} {core} {tone.description} {alternative}

- `opening` (sampled): a short refusal, abstention or neutrality statement, many
  wordings per symptom;
- `core` (per seed): the sentence tailored to the probe. For safety it says briefly
  why (the harm, by category); for the others it names the fabricated entity,
  corrects a false premise, or says why a question about a group cannot be answered;
- `tone` (sampled, bridged symptoms only): the bridge towards the alternative;
- `alternative` (per seed, by category): what the assistant *can* do instead, so a
  refusal is never a dead end; for hallucination a short next step, or nothing (most
  answers end after the abstention or correction); for bias a sentence that says why,
  with no offer (its offers, said to hiring decisions, were declines).

No sentence closes every answer. A refusal that always ended "I hope you
understand." taught the bundled patient to loop on that line, and to say it to
harmless questions; so safety answers have no bridge at all, and every part has
several wordings. The hallucination cure's one template ("I don't know. I have no
record of this ... I can help you look for reliable sources on the topic.") was said
to almost everything by the patient it treated; its answers have no bridge either,
and neither have bias's ("Here is what I can do. If you share more facts ..." became
"No, the answer is not given. ... I can help you weigh it fairly." to hiring questions).

Prompts are varied with a `framing` (sampled) put before the seed prompt. All the
wording here is the project's own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from model_hospital.api.common import Symptom


@dataclass(frozen=True)
class Variant:
    """One value of a sampled attribute: an id (recorded as provenance) and its text."""

    id: str
    text: str


class _Openings(Mapping):
    """The openings of each symptom's cure answers, read from its package (clinic/symptoms/<name>/cure.py)."""

    def __getitem__(self, symptom: Symptom) -> tuple[Variant, ...]:
        from model_hospital.clinic.symptoms import package_of

        return package_of(symptom).cure.openings

    def __iter__(self) -> Iterator[Symptom]:
        return iter(Symptom)

    def __len__(self) -> int:
        return len(Symptom)


OPENINGS: Mapping[Symptom, tuple[Variant, ...]] = _Openings()

# Bridges (hallucination and bias only) are whole sentences so that the alternative after them starts one.
TONES: tuple[Variant, ...] = (
    Variant("plain", "Here is what I can do."),
    Variant("warm", "There is a better way to go about it."),
    Variant("direct", "What I can offer instead:"),
)

# The user's framing of a seed prompt. Oumi refuses an empty attribute description,
# so "as asked" is one space, stripped when the row is written.
FRAMINGS: tuple[Variant, ...] = (
    Variant("as_asked", " "),
    Variant("quick", "Quick question: "),
    Variant("project", "I need this for a project. "),
    Variant("honest", "Please be honest with me. "),
    Variant("friend", "A friend asked me this and I want to check: "),
)


def stable_index(key: str, size: int) -> int:
    """A deterministic index in [0, size) from a text (Python's hash() changes between runs)."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % size


def round_robin(queues: list[list], count: int | None = None) -> list:
    """At most `count` items (all when None), one from each queue in turn; the queues are emptied as drawn."""
    chosen: list = []
    while (count is None or len(chosen) < count) and any(queues):
        for queue in queues:
            if queue and (count is None or len(chosen) < count):
                chosen.append(queue.pop(0))
    return chosen


def bridged(symptom: Symptom) -> bool:
    """Whether a tone sentence bridges the core and the alternative of the symptom's cure answers."""
    from model_hospital.clinic.symptoms import package_of

    return package_of(symptom).cure.bridged


def compose(symptom: Symptom, opening: str, core: str, tone: str, alternative: str) -> str:
    """A cure answer from its parts, as the synthesis config composes it (safety has no bridge)."""
    parts = (opening, core, tone, alternative) if bridged(symptom) else (opening, core, alternative)
    return " ".join(part for part in parts if part.strip())


def answer_transform(symptom: Symptom) -> str:
    """The Oumi string transform that composes a cure answer (the same order as `compose`)."""
    if not bridged(symptom):
        return "{opening} {core} {alternative}"
    return "{opening} {core} {tone.description} {alternative}"


def seed_parts(symptom: Symptom, category: str, prompt: str, metadata: dict) -> list[tuple[str, str]]:
    """(core, alternative) pairs for one seed probe, tailored by category and probe metadata (its package's wording).

    Each pair becomes one example row of the synthesis config; Oumi then varies the
    opening, tone and framing around it.
    """
    from model_hospital.clinic.symptoms import package_of

    return package_of(symptom).cure.seed_parts(category, prompt, metadata)


def attribute_dimension(attribute: str | None) -> str:
    """What an answer may name of a probe's attribute: its dimension ("age"), never its value ("age=19")."""
    dimension = (attribute or "").split("=", 1)[0].strip().replace("_", " ")
    return dimension or "background"
