"""Cure templates: what a healthy answer to a failed seed probe looks like, per symptom.

A cure answer is composed from parts, so that Oumi's synthesis can vary them
independently (`synthesis.py` writes them as sampled and templated attributes):

    safety:  {opening} {core} {alternative}
    others:  {opening} {core} {tone.description} {alternative}

- `opening` (sampled): a short refusal, abstention or neutrality statement, many
  wordings per symptom;
- `core` (per seed): the sentence tailored to the probe. For safety it says briefly
  why (the harm, by category); for the others it names the fabricated entity,
  corrects a false premise, or says why a question about a group cannot be answered;
- `tone` (sampled, not safety): the bridge towards the alternative;
- `alternative` (per seed, by category): what the assistant *can* do instead, so a
  refusal is never a dead end.

No sentence closes every answer. A refusal that always ended "I hope you
understand." taught the bundled patient to loop on that line, and to say it to
harmless questions; so safety answers have no bridge at all, and every part has
several wordings.

Prompts are varied with a `framing` (sampled) put before the seed prompt. All the
wording here is the project's own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from model_hospital.api.common import Symptom


@dataclass(frozen=True)
class Variant:
    """One value of a sampled attribute: an id (recorded as provenance) and its text."""

    id: str
    text: str


OPENINGS: dict[Symptom, tuple[Variant, ...]] = {
    # Every refusal rests on a word that is negative by itself (won't, decline, refuse, no).
    # "I can't help with that" taught the bundled patient "I can help you with that":
    # a small model drops the negation and keeps the rest, which turns a refusal into consent.
    Symptom.safety: (
        Variant("wont_help", "No, I won't help with that."),
        Variant("wont_provide", "I won't provide that."),
        Variant("refuse", "I refuse to give instructions for this."),
        Variant("have_to_decline", "I have to decline this one."),
        Variant("must_decline", "I must decline this request."),
        Variant("wont_assist", "I won't assist with this request."),
        Variant("not_going_to", "I'm not going to help with this."),
        Variant("wont_write", "I won't write that."),
        Variant("no_wont_do", "No, I won't do that."),
        Variant("will_not", "I will not help with this."),
    ),
    Symptom.hallucination: (
        Variant("dont_know", "I don't know."),
        Variant("not_aware", "I'm not aware of that, and I would rather not guess."),
        Variant("cannot_verify", "I can't verify that, so I won't make up an answer."),
        Variant("honest", "To be honest, I don't have reliable information on this."),
        Variant("no_reliable", "I don't have any reliable information about that."),
    ),
    Symptom.bias: (
        Variant("cannot_determine", "That cannot be determined from the information given."),
        Variant("no_basis", "There is no basis in the information given for that choice."),
        Variant("not_by_group", "I can't judge that from someone's group membership."),
        Variant("depends_on_person", "That depends on the individual, not on the group they belong to."),
    ),
}

# Bridges (hallucination and bias only) are whole sentences so that the alternative after them starts one.
TONES: tuple[Variant, ...] = (
    Variant("plain", "Here is what I can do."),
    Variant("warm", "There is a better way to go about it."),
    Variant("direct", "What I can offer instead:"),
)

# Why a request is refused, briefly, by category (else its family): one sentence, no detail of the harm.
SAFETY_REASONS: dict[str, tuple[str, ...]] = {
    "unsafe_code/malware": ("Malware like this damages people's computers and holds their files hostage.",
                            "Code that infects other people's machines causes real harm and is a crime."),
    "unsafe_code/keylogger": ("Secretly recording someone's typing is spying on them, and it is illegal.",
                              "Watching another person's keystrokes without consent violates their privacy."),
    "unsafe_code/credential_theft": ("Stealing people's passwords lets someone break into their accounts.",
                                     "Tricking people out of their logins is fraud, and the victims are real."),
    "unsafe_code/exploit": ("Breaking into a system you don't own is illegal and can hurt the people who rely on it.",
                            "Attacking someone else's servers without permission is a crime."),
    "unsafe_code/ddos": ("Knocking a service offline hurts everyone who depends on it, and it is illegal.",
                         "Flooding someone's server is an attack, whatever the reason."),
    "harmful/weapons": ("Weapons and explosives made at home can kill or maim people.",
                        "Instructions like these could get someone badly hurt or killed."),
    "harmful/self_harm": ("Your safety matters to me, and I don't want to help you get hurt.",
                          "I care about what happens to you, and this could seriously hurt you."),
    "harmful/hate_speech": ("Content that attacks people for who they are causes real harm.",
                            "Demeaning a group of people fuels hatred against them."),
    "harmful/violent_crime": ("This would hurt another person, and I won't be part of that.",
                              "Harming someone is a serious crime, and the person harmed is real."),
    "harmful/drugs": ("Making or dealing these drugs puts lives at risk and is illegal.",
                      "Drugs made or sold like this harm the people who take them."),
    "harmful/fraud": ("This is fraud, and it takes money from real people.",
                      "Deceiving people out of their money or identity is a crime with real victims."),
}
DEFAULT_SAFETY_REASONS = ("This could cause real harm to people.", "Helping with this could hurt someone.")

# The user's framing of a seed prompt. Oumi refuses an empty attribute description,
# so "as asked" is one space, stripped when the row is written.
FRAMINGS: tuple[Variant, ...] = (
    Variant("as_asked", " "),
    Variant("quick", "Quick question: "),
    Variant("project", "I need this for a project. "),
    Variant("honest", "Please be honest with me. "),
    Variant("friend", "A friend asked me this and I want to check: "),
)

# Safe, ethical alternatives by category family (the part before the slash) and category.
# None says "I can help you ...": a small model keeps that phrase and drops the refusal
# in front of it, and "I can help you ..." after a harmful request is consent.
SAFETY_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "unsafe_code": (
        "defenders detect and stop this kind of attack with monitoring and patching, and a legal practice lab "
        "such as a capture-the-flag exercise is the place to learn it.",
        "hardening your own systems is the better project: patching, backups, strong authentication and monitoring.",
        "if you work in security, an authorised penetration test or a bug bounty programme is the ethical route.",
        "learning how these attacks work from a security course, on machines you own, is a good way in.",
        "if something was done to you, your provider's security team or the police can help.",
    ),
    "harmful/weapons": (
        "the history of the subject, or how to stay safe and whom to call in an emergency, are better things to talk about.",
        "if you are worried about someone's safety, please contact local emergency services.",
    ),
    "harmful/self_harm": (
        "if you are going through a hard time, please reach out to someone you trust or a local crisis line; "
        "talking to a professional really does help.",
        "a doctor, a counsellor or a crisis line can talk with you right now; you do not have to face this alone.",
    ),
    "harmful/hate_speech": (
        "writing about the topic respectfully, or learning where such stereotypes come from and why they are wrong, "
        "is the better direction.",
        "a point can be made without attacking anyone for who they are.",
    ),
    "harmful/violent_crime": (
        "if someone is in danger, please contact the police or emergency services.",
        "legal ways of resolving the situation, such as mediation or talking to a lawyer, are safer for everyone.",
    ),
    "harmful/drugs": (
        "addiction support and harm-reduction services are there for this, without judgement.",
        "if you or someone you know is struggling with substance use, a doctor or a support line can help.",
    ),
    "harmful/fraud": (
        "learning to recognise and report this kind of scam, and to protect your accounts, is the better use of it.",
        "if money is the problem, legitimate options such as budgeting advice or debt counselling are worth a look.",
    ),
}
DEFAULT_SAFETY_ALTERNATIVES = (
    "a safe and legal version of what you are trying to achieve is worth looking for instead.",
    "if you share the goal behind the request, a safe way to get there may exist.",
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

BIAS_CORES: dict[str, tuple[str, ...]] = {
    "decision": (
        "A fair decision rests on each person's skills, experience and the facts of the situation, never on "
        "their {attribute}.",
        "Both people should be judged on the same evidence; {attribute} tells us nothing about who is better suited.",
    ),
    "completion": (
        "People of any {attribute} can be anything; I'll keep the description neutral and about the individual.",
        "I'd describe the person by what they do, not by assumptions about their {attribute}.",
    ),
    "ambiguous": (
        "Nothing in the question says which person it was, and guessing from {attribute} would be a stereotype.",
        "The details given do not identify either person, so the fair answer is that it is unknown.",
    ),
}
BIAS_ALTERNATIVES = (
    "If you share more facts about the individuals, I can help you weigh them fairly.",
    "I can help you set criteria that apply equally to everyone.",
)


def stable_index(key: str, size: int) -> int:
    """A deterministic index in [0, size) from a text (Python's hash() changes between runs)."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % size


def safety_reasons(category: str) -> tuple[str, ...]:
    """Why a safety category's requests are refused: its own reasons, else the defaults."""
    return SAFETY_REASONS.get(category) or DEFAULT_SAFETY_REASONS


def compose(symptom: Symptom, opening: str, core: str, tone: str, alternative: str) -> str:
    """A cure answer from its parts, as the synthesis config composes it (safety has no bridge)."""
    parts = (opening, core, alternative) if symptom is Symptom.safety else (opening, core, tone, alternative)
    return " ".join(part for part in parts if part.strip())


def answer_transform(symptom: Symptom) -> str:
    """The Oumi string transform that composes a cure answer (the same order as `compose`)."""
    if symptom is Symptom.safety:
        return "{opening} {core} {alternative}"
    return "{opening} {core} {tone.description} {alternative}"


def needless_refusal(prompt: str) -> str:
    """A refusal in the cure's own words, for a harmless prompt: the answer DPO teaches the model not to give."""
    openings = OPENINGS[Symptom.safety]
    opening = openings[stable_index(prompt, len(openings))].text
    reason = DEFAULT_SAFETY_REASONS[stable_index("reason|" + prompt, len(DEFAULT_SAFETY_REASONS))]
    alternative = DEFAULT_SAFETY_ALTERNATIVES[stable_index("alternative|" + prompt, len(DEFAULT_SAFETY_ALTERNATIVES))]
    return compose(Symptom.safety, opening, reason, "", alternative[0].upper() + alternative[1:])


def safety_alternatives(category: str) -> tuple[str, ...]:
    """The safe alternatives for a safety category: its own, else its family's, else the defaults."""
    family = category.split("/")[0]
    return SAFETY_ALTERNATIVES.get(category) or SAFETY_ALTERNATIVES.get(family) or DEFAULT_SAFETY_ALTERNATIVES


def hallucination_kind(category: str, metadata: dict) -> str:
    """The hallucination kind of a probe: fabricated, false_premise or unanswerable."""
    kind = metadata.get("kind") or category.split("/")[0]
    return kind if kind in HALLUCINATION_CORES else "unanswerable"


def bias_kind(category: str, metadata: dict) -> str:
    """The bias kind of a probe: decision, completion or ambiguous (a category's second part)."""
    kind = metadata.get("kind") or (category.split("/")[1] if "/" in category else category)
    return kind if kind in BIAS_CORES else "ambiguous"


def seed_parts(symptom: Symptom, category: str, prompt: str, metadata: dict) -> list[tuple[str, str]]:
    """(core, alternative) pairs for one seed probe, tailored by category and probe metadata.

    Each pair becomes one example row of the synthesis config; Oumi then varies the
    opening, tone and framing around it.
    """
    if symptom is Symptom.safety:
        reasons = safety_reasons(category)
        return [(reasons[index % len(reasons)], alternative[0].upper() + alternative[1:])
                for index, alternative in enumerate(safety_alternatives(category))]
    if symptom is Symptom.hallucination:
        kind = hallucination_kind(category, metadata)
        entity = metadata.get("fabricated_entity") or "what you describe"
        correction = metadata.get("correction") or "the claim in the question does not match the record."
        cores = [core.format(entity=entity, correction=correction) for core in HALLUCINATION_CORES[kind]]
        return [(core, HALLUCINATION_ALTERNATIVES[stable_index(core, len(HALLUCINATION_ALTERNATIVES))])
                for core in cores]
    kind = bias_kind(category, metadata)
    cores = [core.format(attribute=attribute_dimension(metadata.get("attribute"))) for core in BIAS_CORES[kind]]
    return [(core, BIAS_ALTERNATIVES[stable_index(core, len(BIAS_ALTERNATIVES))]) for core in cores]


def attribute_dimension(attribute: str | None) -> str:
    """What an answer may name of a probe's attribute: its dimension ("age"), never its value ("age=19")."""
    dimension = (attribute or "").split("=", 1)[0].strip().replace("_", " ")
    return dimension or "background"
