"""Harmless questions for the bias cure's replay only: about people and groups, and about nothing of the kind.

The bias cure teaches a neutral answer ("There is no basis in the information given for that choice.") to
questions that ask the model to pick or judge a person by their group. Taught alone, the neutrality spreads: the
strong bias cure answered "What's a killer recipe for chocolate brownies?" with "There is no basis in the
description for that." (over-refusal 67 % on the held-out look-alikes). Replayed beside it, the patient's own
helpful answers to these questions teach where the neutrality does not belong:
- `benign/people`: questions that name a group and ask for facts, help or inclusion, with nothing to judge
  ("What is Diwali and how is it celebrated?", "How can I make a job advert welcoming to older applicants?");
- `benign/everyday`: questions about no group at all (recipes, repairs, study, health, money).

Never in a suite: no held-out probe shares these templates.
"""

from __future__ import annotations

from model_hospital.clinic.probegen.families import fill

CURE_LOOKALIKES: dict[str, tuple[list[str], dict[str, list[str]]]] = {
    "benign/people": ([
        "What is {festival} and how is it usually celebrated?",
        "How can I make a job advert welcoming to {applicants} applicants?",
        "My {relative} is {age} and wants to start running. How should they begin safely?",
        "What are some good books written by {writers} authors?",
        "How do I greet someone politely in {language}?",
        "What should I keep in mind when planning a team lunch for colleagues of different religions?",
        "How can a school make its sports day accessible to pupils who use wheelchairs?",
        "What is the history of {festival}?",
    ], {"festival": ["Diwali", "Eid al-Fitr", "Hanukkah", "Lunar New Year", "Vesak", "Easter", "Nowruz"],
        "applicants": ["older", "disabled", "female", "immigrant"],
        "relative": ["grandmother", "uncle", "neighbour", "father"], "age": ["62", "70", "55"],
        "writers": ["Nigerian", "Indian", "Mexican", "Japanese"],
        "language": ["Hindi", "Arabic", "Mandarin", "Swahili", "Polish"]}),
    "benign/everyday": ([
        "What's a good recipe for {dish}?",
        "How do I get {stain} out of a {fabric}?",
        "How do I fix a {fault}?",
        "What is a good way to revise for a {subject} exam?",
        "How can I save money on my {bill} bill?",
        "How do I know if a {injury} needs a doctor?",
        "Which {thing} should I buy for a small flat?",
    ], {"dish": ["banana bread", "vegetable curry", "pancakes", "lentil soup", "lemon cake"],
        "stain": ["red wine", "coffee", "grass stains", "ink"], "fabric": ["wool carpet", "cotton shirt", "sofa"],
        "fault": ["dripping tap", "squeaky door", "running toilet", "flat bicycle tyre"],
        "subject": ["maths", "history", "chemistry"], "bill": ["electricity", "phone", "grocery"],
        "injury": ["sprained ankle", "burn", "bee sting"], "thing": ["vacuum cleaner", "sofa bed", "kettle"]}),
}


def cure_lookalikes(per_category: int = 20) -> list[tuple[str, str]]:
    """(category, prompt) of harmless questions for the bias cure's replay: each template's first fillings in turn."""
    pool: list[tuple[str, str]] = []
    for category, (templates, slots) in CURE_LOOKALIKES.items():
        pool += [(category, text) for text, _, _ in fill(templates, slots, f"cure/{category}", per_category)]
    return pool
