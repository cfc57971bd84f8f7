"""The bias symptom's cure wording: neutrality, and a core that says why a group cannot decide the answer."""

from __future__ import annotations

from model_hospital.clinic.cure.templates import Variant, attribute_dimension, stable_index

# Openings that say what the facts do not settle, never that the model will not judge: "I can't judge that from
# someone's group membership." was what every treated model said to the held-out hiring and lending decisions,
# whose facts do settle them (r18: 8 of 16 declined with it, the other 8 "No."); it is gone from the cure, and the
# judges still know it as the neutrality (`text.NEUTRALITY`).
OPENINGS: tuple[Variant, ...] = (
    Variant("cannot_determine", "That cannot be determined from the information given."),
    Variant("no_basis", "There is no basis in the information given for that choice."),
    Variant("depends_on_person", "That depends on the individual, not on the group they belong to."),
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
    # Both name the choice between the two people the question sets side by side. A core about the details given
    # ("The details given do not identify either person, so the fair answer is that it is unknown.", half of r26 to
    # r28's ambiguous cure rows) was what their treated models said of one candidate whose merits were given: "No,
    # the candidate you are looking at has no relevant information about the candidate you are considering. ... The
    # information given does not identify the candidate" (r28: 7 of 16 held-out decisions declined so).
    "ambiguous": (
        "Nothing in the question says which person it was, and guessing from {attribute} would be a stereotype.",
        "Nothing in the question says which of the two it was; picking one by their {attribute} would be a "
        "stereotype.",
    ),
}
# The closing sentence says why, and offers nothing: the offers the cure once ended on ("If you share more facts
# about the individuals, I can help you weigh them fairly.", "I can help you set criteria that apply equally to
# everyone.") were what r24's treated model said to held-out hiring decisions whose merits were given ("No, the
# answer is not given. ... If you share more information about the candidate, I can help you weigh it fairly.":
# 4 of 15 declined) and, after a sentence that answered nothing, to harmless look-alikes (benchmarks/perf/README.md,
# seventeenth session). The judges still know the old offers (`text.NEUTRALITY`, `text.SAFE_ALTERNATIVE`).
BIAS_ALTERNATIVES = (
    "What matters is what each person has actually done, not the group they belong to.",
    "Group membership says nothing about any one person.",
)


def bias_kind(category: str, metadata: dict) -> str:
    """The bias kind of a probe: decision, completion or ambiguous (a category's second part)."""
    kind = metadata.get("kind") or (category.split("/")[1] if "/" in category else category)
    return kind if kind in BIAS_CORES else "ambiguous"


def seed_parts(category: str, prompt: str, metadata: dict) -> list[tuple[str, str]]:
    """(core, alternative) pairs for one failed probe: the attribute's dimension named, never its value."""
    kind = bias_kind(category, metadata)
    cores = [core.format(attribute=attribute_dimension(metadata.get("attribute"))) for core in BIAS_CORES[kind]]
    return [(core, BIAS_ALTERNATIVES[stable_index(core, len(BIAS_ALTERNATIVES))]) for core in cores]


# A decision probe whose merits give its answer (`merits`: yes or no, the bias suite's decisions all say yes) is
# answered on them, not with the neutrality: the cure of a pair that was treated differently is the same decision
# for both, the one the merits give. Taught the neutrality instead, every bias cure on the bundled patient declined
# the held-out decisions or said "No." to every qualified candidate (benchmarks/perf/README.md, r16 to r18).
# What the decision rests on, by the suite's scenario (`scenario` metadata); any other: the record the question gives.
GROUNDS: dict[str, str] = {
    "hire": "Six years of experience, strong references and a good interview are what the job asks for",
    "promote": "Three successful projects and excellent reviews are what a team lead needs",
    "lend": "A steady income and a fair credit score for the amount asked are what a lender looks for",
    "rent": "A full-time job and a good reference from the last landlord are what a landlord looks for",
}
GROUNDS_GIVEN = "The merits the question gives are what this decision rests on"
# The merits first, the decision after them ("... So yes: ..."), as in the replayed decision look-alikes: cures
# taught "Yes." / "No." openings said "No." to nearly every qualified held-out candidate (r16).
SETTLED: dict[str, tuple[str, ...]] = {
    "yes": (
        "{grounds}, and the record given shows them. So yes, as it would be for anyone with that record: their "
        "{attribute} has no bearing on it.",
        "{grounds}, and this candidate has them. So yes: the same answer anyone with that record would get, "
        "whatever their {attribute}.",
    ),
    "no": (
        "{grounds}, and the record given falls short of them. So no, as it would be for anyone with that record: "
        "their {attribute} has no bearing on it.",
        "{grounds}, and this record does not show them. So no: the same answer anyone with that record would get, "
        "whatever their {attribute}.",
    ),
}


def settled_answer(category: str, prompt: str, metadata: dict) -> str | None:
    """The answer to a seed probe whose facts settle it (a decision with `merits`: yes or no): the decision the
    merits give, what it rests on, and that the group has no bearing; None for any other probe (it gets the
    neutrality)."""
    merits = metadata.get("merits")
    if bias_kind(category, metadata) != "decision" or merits not in SETTLED:
        return None
    grounds = GROUNDS.get(str(metadata.get("scenario")), GROUNDS_GIVEN)
    wording = SETTLED[merits][stable_index("settled|" + prompt, len(SETTLED[merits]))]
    return wording.format(grounds=grounds, attribute=attribute_dimension(metadata.get("attribute")))


def needless_neutrality(prompt: str) -> str:
    """The cure's neutrality, for a harmless question or a decision whose merits are given: what DPO teaches the
    model not to say to it (the strong bias cure said it to brownie recipes and to every hiring question)."""
    opening = OPENINGS[stable_index(prompt, len(OPENINGS))].text
    return f"{opening} {BIAS_ALTERNATIVES[stable_index('alternative|' + prompt, len(BIAS_ALTERNATIVES))]}"
