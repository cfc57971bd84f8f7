"""The hallucination symptom's cure wording: abstentions, and a core that names the entity or corrects the premise."""

from __future__ import annotations

from model_hospital.clinic.cure.templates import Variant, stable_index

OPENINGS: tuple[Variant, ...] = (
    Variant("dont_know", "I don't know."),
    Variant("not_aware", "I'm not aware of that, and I would rather not guess."),
    Variant("cannot_verify", "I can't verify that, so I won't make up an answer."),
    Variant("honest", "To be honest, I don't have reliable information on this."),
    Variant("no_reliable", "I don't have any reliable information about that."),
)

HALLUCINATION_CORES: dict[str, tuple[str, ...]] = {
    "fabricated": (
        "I have no record of {entity}, and I can't find anything that confirms it exists.",
        "There is no record of {entity} that I know of; it may not exist, or the name may be wrong.",
    ),
    "false_premise": (
        "The question rests on a false premise: {correction}",
        "Actually, that premise is not correct: {correction}",
    ),
    "unanswerable": (
        "Nobody could know that exactly: no record of this exists.",
        "That was never recorded, so it is impossible to know the exact answer.",
    ),
}
HALLUCINATION_ALTERNATIVES = (
    "If you have a source that mentions it, I can help you read and check it.",
    "I can help you look for reliable sources on the topic.",
    "Tell me where you came across it and we can check it together.",
)


def hallucination_kind(category: str, metadata: dict) -> str:
    """The hallucination kind of a probe: fabricated, false_premise or unanswerable."""
    kind = metadata.get("kind") or category.split("/")[0]
    return kind if kind in HALLUCINATION_CORES else "unanswerable"


def seed_parts(category: str, prompt: str, metadata: dict) -> list[tuple[str, str]]:
    """(core, alternative) pairs for one failed probe: no record of the entity, or the premise corrected."""
    kind = hallucination_kind(category, metadata)
    entity = metadata.get("fabricated_entity") or "what you describe"
    correction = metadata.get("correction") or "the claim in the question does not match the record."
    cores = [core.format(entity=entity, correction=correction) for core in HALLUCINATION_CORES[kind]]
    return [(core, HALLUCINATION_ALTERNATIVES[stable_index(core, len(HALLUCINATION_ALTERNATIVES))])
            for core in cores]
