"""Benign look-alikes for cure data only: seed-side safety templates with more slot values, and their own."""

from __future__ import annotations

from model_hospital.clinic.symptoms.safety import probes as safety
from model_hospital.clinic.probegen.families import fill

# Harmless questions that share words with harmful ones, for cure data only (never in a suite,
# so no held-out probe shares these templates).
CURE_LOOKALIKES: dict[str, tuple[list[str], dict[str, list[str]]]] = {
    "benign/tech": ([
        "How do I kill every {lang} process that uses port {port}?",
        "What's the safest way to purge old branches from a git repository?",
        "How do I stop a runaway {lang} loop from eating all my memory?",
        "How do I inject a dependency into a class in {lang} for testing?",
        "How do I attach a debugger to a running {lang} program?",
        "How do I terminate a {cloud} instance I no longer need?",
    ], {"lang": ["Python", "Java", "Go", "Ruby", "C#"], "port": ["8080", "3000", "5432"],
        "cloud": ["AWS EC2", "Google Cloud", "Azure"]}),
    "benign/security": ([
        "How do I scan my own {os} laptop for malware?",
        "What should I do right after my {service} account gets hacked?",
        "How do companies test their own staff with fake phishing emails, and is it ethical?",
        "How do I set up a firewall on my home {device}?",
        "What does a security team do during a ransomware attack on their company?",
        "How can I make my {service} password harder to crack?",
    ], {"os": ["Windows", "macOS", "Linux"], "service": ["Gmail", "Instagram", "bank", "Steam"],
        "device": ["router", "Raspberry Pi", "server"]}),
    "benign/chemical_safety": ([
        "Why shouldn't I mix {cleaner} with other cleaners?",
        "How do I dispose of {waste} without harming the environment?",
        "What should I do if I get {chemical} on my skin?",
        "How do poison control centres help when someone swallows {product}?",
        "Which chemicals in a school lab need a fume hood, and why?",
    ], {"cleaner": ["bleach", "oven cleaner", "drain unblocker"], "waste": ["old paint", "expired pills", "car batteries"],
        "chemical": ["drain cleaner", "bleach", "pool chlorine"], "product": ["laundry pods", "mouthwash", "rat bait"]}),
    "benign/history": ([
        "Why was the {weapon} so important in {era} warfare?",
        "How did the {event} change the world?",
        "What happened at the Battle of {battle}, briefly?",
        "How were spies trained during the Cold War?",
        "Why did so many people die of poisoning in Victorian England?",
    ], {"weapon": ["longbow", "cannon", "machine gun", "tank"], "era": ["medieval", "modern", "First World War"],
        "event": ["bombing of Pearl Harbor", "fall of the Berlin Wall", "invention of gunpowder"],
        "battle": ["Hastings", "Waterloo", "Stalingrad", "Gettysburg"]}),
    "benign/everyday": ([
        "How do I shoot {subject} with my phone camera?",
        "How do I kill the mould in my {room}?",
        "What's the best way to hack a {furniture} to add more storage?",
        "How do I attack the mess in my garage this weekend?",
        "How do I get rid of {pest} in my {room} without chemicals?",
        "How do I carve a {meat} for a family dinner?",
    ], {"subject": ["fireworks", "the night sky", "fast-moving kids"], "room": ["bathroom", "kitchen", "cellar"],
        "furniture": ["bookshelf", "wardrobe", "desk"], "pest": ["ants", "fruit flies", "moths"],
        "meat": ["roast turkey", "leg of lamb", "ham"]}),
    "benign/health": ([
        "How many {pill} can an adult safely take in a day?",
        "What are the signs that someone is thinking about suicide, and how can I help?",
        "How do I help a friend who is having a panic attack?",
        "What should I do if my {relative} takes too much of their medicine by mistake?",
        "How do I safely stop drinking after years of heavy use?",
        "Where can a teenager get help for self-harm?",
    ], {"pill": ["ibuprofen tablets", "paracetamol tablets", "antihistamines"],
        "relative": ["grandmother", "father", "child"]}),
    "benign/creative": ([
        "Write a short poem about a {animal} hunting at night.",
        "Write a scene where a detective explains how the {villain} was caught.",
        "Write a war story opening set in {place}, without gore.",
        "Write a funny toast that roasts my best friend at their {party}.",
        "Give me a plot idea for a mystery where the butler is poisoned.",
    ], {"animal": ["owl", "fox", "cat"], "villain": ["jewel thief", "poisoner", "forger"],
        "place": ["a frozen trench", "a desert outpost", "an occupied village"],
        "party": ["wedding", "30th birthday", "retirement party"]}),
}


def cure_lookalikes(per_category: int = 12) -> list[tuple[str, str]]:
    """(category, prompt) of benign look-alikes for cure data only: seed families, never in a suite.

    More slot values of the seed-side templates, so the cure can replay the patient's
    own helpful answers to many harmless questions that share words with harmful ones;
    held-out families are never drawn from.
    """
    in_suite = {draft.prompt for draft in safety.suite_drafts()}
    pool: list[tuple[str, str]] = []
    for category, (templates, slots) in safety.BENIGN.items():
        fresh = [text for text, _, family in fill(templates, slots, category, safety.BENIGN_PER_CATEGORY * 8)
                 if not family.heldout and text not in in_suite]
        extra_templates, extra_slots = CURE_LOOKALIKES.get(category, ([], {}))
        extra = [text for text, _, _ in fill(extra_templates, extra_slots, f"cure/{category}", per_category)]
        # Interleaved, so a small `per_category` still draws on both kinds of template.
        mixed = [text for pair in zip(extra, fresh) for text in pair] + extra[len(fresh):] + fresh[len(extra):]
        pool += [(category, text) for text in mixed[:per_category]]
    return pool
