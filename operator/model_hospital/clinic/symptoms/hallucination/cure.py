"""The hallucination symptom's cure wording: abstentions, and a core that names the entity or corrects the premise.

The first cure taught the bundled patient one template ("I don't know. I have no record of
this, and I can't find anything that confirms it exists. ... I can help you look for
reliable sources on the topic.") which it then said to almost everything. So every part
here has several wordings in several voices, there is no bridge sentence, and no closing
pointer is shared by many answers: most answers end after the abstention or the
correction, the others with one of several short next steps that fit the kind of question.

Every wording holds a phrase both judges read as an abstention or a correction
(clinic/judges/text.py `ABSTAIN`, clinic/judges/hallucination.py): the hallucination judge
passes it, and the over-refusal judge reads it as no help when it is said to a harmless
question. A wording a judge reads the other way is a wording bug (tests/test_judges_treated_rules.py).
"""

from __future__ import annotations

from model_hospital.clinic.cure.templates import Variant, stable_index

OPENINGS: tuple[Variant, ...] = (
    Variant("dont_know", "I don't know."),
    Variant("not_aware", "I'm not aware of that, and I would rather not guess."),
    Variant("cannot_verify", "I can't verify that, so I won't make up an answer."),
    Variant("honest", "To be honest, I don't have reliable information on this."),
    Variant("no_reliable", "I don't have any reliable information about that."),
    Variant("honestly_dont_know", "Honestly, I don't know."),
    Variant("not_sure_about", "I'm not sure about that, and I'd rather not guess."),
    Variant("cannot_confirm", "I can't confirm that."),
    Variant("not_certain", "I'm not certain of that, so I won't make up an answer."),
    Variant("dont_know_that_one", "I don't know that one."),
    Variant("no_information", "I don't have information I can trust on this."),
    Variant("hold_on", "Hold on: I can't verify that."),
)

HALLUCINATION_CORES: dict[str, tuple[str, ...]] = {
    "fabricated": (
        "I have no record of {entity}, and I can't find anything that confirms it exists.",
        "There is no record of {entity} that I know of; it may not exist, or the name may be wrong.",
        "I'm not aware of {entity}; as far as I can tell, it does not exist.",
        "I can't verify that {entity} exists, and I won't make up an answer about it.",
        "I can't confirm that {entity} is real.",
        "No reliable source I know mentions {entity}.",
    ),
    "false_premise": (
        "The question rests on a false premise: {correction}",
        "Actually, that premise is not correct: {correction}",
        "That premise is not true: {correction}",
        "The question is based on a false premise: {correction}",
        "This premise is not correct: {correction}",
    ),
    "unanswerable": (
        "Nobody could know that exactly: no record of this exists.",
        "That was never recorded, so it is impossible to know the exact answer.",
        "Details like that were never recorded.",
        "It is impossible to know that now.",
        "No record of that detail exists.",
    ),
}

# Short next steps, each specific to the kind of question; most answers have none (see `seed_parts`).
# None offers help in the cure's old words ("I can help you ..."), and none starts with a pronoun that
# the judge would read as the fabricated entity ("It ...", "They ...").
NEXT_STEPS: dict[str, tuple[str, ...]] = {
    "fabricated": (
        "Check the spelling of the name.",
        "Where did you come across the name?",
        "A library catalogue would list it if it were real.",
        "Perhaps you mean a similar name?",
    ),
    "false_premise": (
        "Shall I explain the correct version?",
        "An encyclopedia gives the full account.",
        "Want more on the real facts?",
    ),
    "unanswerable": (
        "A good biography says what is on record.",
        "Ask me about what was recorded instead.",
        "Estimates exist, but no exact figure.",
    ),
}
# Of every NO_STEP_WEIGHT + len(steps) answers, NO_STEP_WEIGHT end without a next step.
NO_STEP_WEIGHT = 4
# The generic core of a needless abstention in a contrast pair: the cure's own words, for any question.
CONTRAST_CORES = (
    "There is no record of that I know of; it may not exist, or the name may be wrong.",
    "I have no record of that, and I can't find anything that confirms it exists.",
    "Details like that were never recorded.",
)


def hallucination_kind(category: str, metadata: dict) -> str:
    """The hallucination kind of a probe: fabricated, false_premise or unanswerable."""
    kind = metadata.get("kind") or category.split("/")[0]
    return kind if kind in HALLUCINATION_CORES else "unanswerable"


def next_step(kind: str, key: str) -> str:
    """The next step that closes an answer, or "" (most often) for an answer that ends after its core."""
    steps = NEXT_STEPS[kind]
    index = stable_index(key, NO_STEP_WEIGHT + len(steps))
    return steps[index - NO_STEP_WEIGHT] if index >= NO_STEP_WEIGHT else ""


def seed_parts(category: str, prompt: str, metadata: dict) -> list[tuple[str, str]]:
    """(core, next step) pairs for one failed probe: no record of the entity, or the premise corrected,
    then a short next step or nothing."""
    kind = hallucination_kind(category, metadata)
    entity = metadata.get("fabricated_entity") or "what you describe"
    correction = metadata.get("correction") or "the claim in the question does not match the record."
    cores = [core.format(entity=entity, correction=correction) for core in HALLUCINATION_CORES[kind]]
    return [(core, next_step(kind, f"{prompt}|{core}")) for core in cores]


def needless_abstention(prompt: str) -> str:
    """An abstention in the cure's own words, for a question with a real answer: what DPO teaches the model
    not to say to it."""
    from model_hospital.api.common import Symptom
    from model_hospital.clinic.cure.templates import compose

    opening = OPENINGS[stable_index(prompt, len(OPENINGS))].text
    core = CONTRAST_CORES[stable_index("core|" + prompt, len(CONTRAST_CORES))]
    return compose(Symptom.hallucination, opening, core, "", next_step("fabricated", "step|" + prompt))
