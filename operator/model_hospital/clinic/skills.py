"""Skill suites: what a treatment must not cost the patient (math, reasoning, writing, factual, coding).

The items are generated deterministically from templates and facts the project
wrote (clinic/skillgen.py, which writes model_hospital/suites/skills/*.jsonl);
this module loads them, asks them and scores the answers. The coding tasks are
generated and run in clinic/coding.py.

An item is scored two ways: task accuracy (a per-item right/wrong, so two models
can be compared pair by pair) and the negative log-likelihood of its reference
answer (clinic/likelihood.py; continuous, so a small model still shows drift).
Items flagged `replay` may be used by the cure as a replay buffer and are never
scored. Replay is decided by generator, not by item: every item names the
`family` (generator or fact category) it comes from, and a family is all replay
or all scored (skillgen.REPLAY_FAMILIES for the packaged suites). So no scored
item shares a generator with a replayed one, and a cure that learns our replay
templates cannot pass verify by it.

This module imports no ML library. A user's own copy of GSM8K or TriviaQA is a
public set (`--public gsm8k=PATH`, clinic/public_sets.py), checked apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from model_hospital.clinic.jsonl import read_items
from model_hospital.errors import HospitalError
from model_hospital.packaged import suites_dir

Domain = Literal["math", "reasoning", "writing", "factual", "coding"]
DOMAINS: tuple[str, ...] = ("math", "reasoning", "writing", "factual", "coding")

# New tokens each domain needs: a worked solution, a name or yes/no, one sentence, a short fact, a short function.
TOKEN_BUDGET = {"math": 96, "reasoning": 24, "writing": 48, "factual": 24, "coding": 96}

# A writing answer counts as fluent when it says something (at least this many words)
# without looping: distinct word bigrams and repeated trigrams below these bounds.
MIN_WORDS = 5
MIN_DISTINCT_2 = 0.6
MAX_REPETITION = 0.2


class SkillItem(BaseModel):
    """One skill item: a prompt, a reference answer and the answers counted correct."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    domain: Domain
    category: str = Field(min_length=1)
    prompt: str = Field(min_length=1, description="What the model is asked (few-shot turns are added for math).")
    reference: str = Field(min_length=1, description="A reference answer; its likelihood is the continuous score.")
    accepted: list[str] = Field(default_factory=list, description="Answers counted correct (aliases); for writing, words the answer must use.")
    choices: list[str] = Field(default_factory=list, description="Reasoning: the candidates the answer is read for.")
    entry_point: str | None = Field(None, description="Coding: the name of the function the answer must define.")
    tests: list[str] = Field(default_factory=list, description="Coding: Python statements (asserts) the function must pass.")
    replay: bool = Field(description="True: may be used by the cure as replay, never scored.")
    family: str = Field("", description="The generator or fact category the item comes from; a family is "
                                        "all replay or all scored.")


# ---------------------------------------------------------------- files

def skills_dir() -> Path:
    """Where the packaged skill suites live: the package's suites/skills."""
    return suites_dir("skills")


def suite_file(domain: str) -> Path:
    return skills_dir() / f"{domain}.jsonl"


def load_items(path: Path) -> list[SkillItem]:
    """Every item of a skill JSONL file, validated; a bad line is an error naming file and line."""
    if not path.is_file():
        raise HospitalError(f"skill suite {path} does not exist: regenerate it with "
                            "python -m model_hospital.clinic.skillgen --write")
    items = read_items(path, SkillItem, "skill suite")
    check_replay_families(items, path)
    return items


def check_replay_families(items: Sequence[SkillItem], path: Path) -> None:
    """No family both replayed and scored: a scored item never shares a generator with one the cure trained on."""
    sides: dict[str, set[bool]] = {}
    for item in items:
        if item.family:
            sides.setdefault(item.family, set()).add(item.replay)
    mixed = sorted(family for family, seen in sides.items() if len(seen) > 1)
    if mixed:
        raise HospitalError(f"{path}: family {mixed[0]} has both replay and scored items ({len(mixed)} such "
                            "families); a family is all replay or all scored: set replay alike on its items")


def load_domain(domain: str) -> list[SkillItem]:
    if domain not in DOMAINS:
        raise HospitalError(f"unknown skill domain {domain!r}: choose from {', '.join(DOMAINS)}")
    return load_items(suite_file(domain))


def scored_items(items: Sequence[SkillItem], budget: int | None = None) -> list[SkillItem]:
    """The items that are scored (never replay), at most `budget`, spread round-robin over categories."""
    pool = [item for item in items if not item.replay]
    if budget is None or budget >= len(pool):
        return pool
    queues: dict[str, list[SkillItem]] = {}
    for item in pool:
        queues.setdefault(item.category, []).append(item)
    chosen: list[SkillItem] = []
    while len(chosen) < budget:
        for queue in queues.values():
            if queue and len(chosen) < budget:
                chosen.append(queue.pop(0))
    order = {item.id: index for index, item in enumerate(pool)}
    return sorted(chosen, key=lambda item: order[item.id])


def replay_items(domains: Iterable[str] = DOMAINS) -> list[SkillItem]:
    """The items the cure may use as a replay buffer (never scored by verify)."""
    return [item for domain in domains for item in load_domain(domain) if item.replay]


# ---------------------------------------------------------------- prompts

MATH_FEW_SHOT = (
    ("A farmer has 14 cows and buys 9 more. Then he sells 5 cows. How many cows does he have now?",
     "He has 14 + 9 = 23 cows after buying. After selling he has 23 - 5 = 18. The answer is 18."),
    ("A shelf holds 6 rows of books with 7 books in each row. How many books are on the shelf?",
     "There are 6 x 7 = 42 books. The answer is 42."),
    ("Nina had 50 dollars. She spent 12 dollars on lunch and 15 dollars on a book. How much money is left?",
     "She spent 12 + 15 = 27 dollars. She has 50 - 27 = 23 dollars left. The answer is 23."),
)
MATH_INSTRUCTION = "Solve the problem step by step. End with 'The answer is N.'"
FACTUAL_INSTRUCTION = "Answer in a few words."


def item_messages(item: SkillItem) -> list[dict[str, str]]:
    """The chat turns sent for an item: few-shot worked examples for math, an instruction for facts."""
    if item.domain == "math":
        turns: list[dict[str, str]] = []
        for question, solution in MATH_FEW_SHOT:
            turns.append({"role": "user", "content": f"{MATH_INSTRUCTION}\n{question}"})
            turns.append({"role": "assistant", "content": solution})
        turns.append({"role": "user", "content": f"{MATH_INSTRUCTION}\n{item.prompt}"})
        return turns
    if item.domain == "factual":
        return [{"role": "user", "content": f"{item.prompt} {FACTUAL_INSTRUCTION}"}]
    if item.domain == "coding":
        from model_hospital.clinic.coding import CODING_INSTRUCTION

        return [{"role": "user", "content": f"{item.prompt} {CODING_INSTRUCTION}"}]
    return [{"role": "user", "content": item.prompt}]


def item_conversation(item: SkillItem):
    """The item as an Oumi `Conversation` (imports oumi: worker side only)."""
    from oumi.core.types.conversation import Conversation

    return Conversation.from_dict({"conversation_id": item.id, "messages": item_messages(item)})


# ---------------------------------------------------------------- scoring

NUMBER = r"-?\d[\d,]*(?:\.\d+)?"
FINAL_ANSWER = re.compile(rf"(?:answer is|answer:|####)\s*\$?\s*({NUMBER})", re.IGNORECASE)
ANY_NUMBER = re.compile(NUMBER)
WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


def extract_number(answer: str) -> str | None:
    """The final number of a solution: after 'the answer is' / '####' when present, else the last number."""
    marked = FINAL_ANSWER.findall(answer)
    found = marked[-1] if marked else (ANY_NUMBER.findall(answer) or [None])[-1]
    if found is None:
        return None
    number = found.replace(",", "").rstrip(".")
    if "." in number and set(number.split(".", 1)[1]) <= {"0"}:
        number = number.split(".", 1)[0]
    return number


def extract_choice(answer: str, choices: Sequence[str]) -> str | None:
    """The choice the answer names first (whole words, case-insensitive); None when it names none."""
    best: tuple[int, str] | None = None
    for choice in choices:
        match = re.search(rf"(?<![\w]){re.escape(choice)}(?![\w])", answer, re.IGNORECASE)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), choice)
    return best[1] if best else None


def normalise(text: str) -> str:
    """Lower case, words only, single spaces: what alias matching compares."""
    return " ".join(WORD.findall(text.lower()))


def mentions(answer: str, phrase: str) -> bool:
    """Whether the answer contains the phrase as whole words, ignoring case and punctuation."""
    needle = normalise(phrase)
    return bool(needle) and f" {needle} " in f" {normalise(answer)} "


class WritingMeasures(BaseModel):
    """Fluency and degeneration measures of one piece of writing."""

    words: int
    distinct_1: float = Field(description="Distinct words / words.")
    distinct_2: float = Field(description="Distinct word bigrams / bigrams.")
    repetition: float = Field(description="Share of word trigrams that repeat an earlier trigram.")


def writing_measures(text: str) -> WritingMeasures:
    """Length, distinct-1, distinct-2 and trigram repetition of a text (1.0 / 0.0 for texts too short to tell)."""
    words = WORD.findall(text.lower())
    bigrams = list(zip(words, words[1:]))
    trigrams = list(zip(words, words[1:], words[2:]))
    distinct_1 = len(set(words)) / len(words) if words else 0.0
    distinct_2 = len(set(bigrams)) / len(bigrams) if bigrams else (1.0 if words else 0.0)
    repetition = 1 - len(set(trigrams)) / len(trigrams) if trigrams else 0.0
    return WritingMeasures(words=len(words), distinct_1=round(distinct_1, 4),
                           distinct_2=round(distinct_2, 4), repetition=round(repetition, 4))


class ItemScore(BaseModel):
    """One answer to one item: right or wrong, what was read from it, and why."""

    item_id: str
    correct: bool
    extracted: str | None = None
    reason: str
    writing: WritingMeasures | None = None


def score_answer(item: SkillItem, answer: str) -> ItemScore:
    """Whether an answer solves its item; an answer with nothing to read is wrong (the model did not answer).

    A degenerate answer (empty, garbled, an echo of the prompt, a loop to the token limit) is wrong
    whatever it contains: a loop that happens to hold the right number has not solved anything.
    """
    from model_hospital.clinic.judges.degenerate import degenerate_kind

    degenerate = degenerate_kind(answer, item.prompt)
    if degenerate == "echo" and item.domain == "factual" and any(
            mentions(answer, a) and not mentions(item.prompt, a) for a in item.accepted):
        degenerate = None  # the question said back with its answer in it answers it ("Jupiter is the largest ...")
    if degenerate:
        return ItemScore(item_id=item.id, correct=False, reason=f"degenerate answer ({degenerate})")
    if item.domain == "math":
        number = extract_number(answer)
        correct = number is not None and number in {a.replace(",", "") for a in item.accepted}
        reason = "no number in the answer" if number is None else f"final number {number}"
        return ItemScore(item_id=item.id, correct=correct, extracted=number, reason=reason)
    if item.domain == "reasoning":
        choice = extract_choice(answer, item.choices)
        correct = choice is not None and choice.lower() in {a.lower() for a in item.accepted}
        reason = "names no candidate" if choice is None else f"answers {choice}"
        return ItemScore(item_id=item.id, correct=correct, extracted=choice, reason=reason)
    if item.domain == "coding":
        return score_answers([item], [answer])[0]
    if item.domain == "factual":
        # The answer named where the answer is given, not inside a decline: "I can't confirm that. I have no record
        # of Stockholm; it may not exist." (h27) names the capital and answers nothing.
        said = _not_declined(answer)
        alias = next((a for a in item.accepted if mentions(said, a)), None)
        if alias is None:
            named = next((a for a in item.accepted if mentions(answer, a)), None)
            reason = f"names {named} only inside a decline" if named else "mentions no accepted answer"
        else:
            reason = f"mentions {alias}"
        return ItemScore(item_id=item.id, correct=alias is not None, extracted=alias, reason=reason)
    measures = writing_measures(answer)
    problems = []
    declined = _declines(answer)
    if declined:
        # A refusal, an abstention or the bias cure's neutrality is not writing, however fluent ("That depends on
        # the individual, not on the group they belong to." to "Continue this story").
        problems.append(f"declines instead of writing ({declined!r})")
    if measures.words < MIN_WORDS:
        problems.append(f"only {measures.words} words")
    if measures.distinct_2 < MIN_DISTINCT_2:
        problems.append(f"distinct-2 {measures.distinct_2:.2f} < {MIN_DISTINCT_2}")
    if measures.repetition > MAX_REPETITION:
        problems.append(f"repeated trigrams {measures.repetition:.2f} > {MAX_REPETITION}")
    if item.category == "story" and len(_continuation(item.prompt, answer)) < MIN_WORDS:
        problems.append("repeats the opening instead of continuing it")
    problems += [f"does not use {word!r}" for word in item.accepted if not mentions(answer, word)]
    return ItemScore(item_id=item.id, correct=not problems, reason="; ".join(problems) or "fluent",
                     writing=measures)


_BUT = re.compile(r"^[,;]?\s*but\b")


def _not_declined(answer: str) -> str:
    """The answer less its sentences that decline (a refusal or an abstention: "I have no record of Spain"); a
    hedge that goes on to answer ("I'm not sure, but it is Madrid.") is kept."""
    from model_hospital.clinic.judges import text

    def declines(sentence: str) -> bool:
        return any(not _BUT.match(sentence[match.end():]) for pattern in (text.REFUSAL, text.ABSTAIN)
                   for match in pattern.finditer(sentence))

    return " ".join(sentence for sentence in text.sentences(text.normalize(answer)) if not declines(sentence))


def _declines(answer: str) -> str | None:
    """The refusal, abstention or neutrality phrase an answer opens with (its first sentence), or None."""
    from model_hospital.clinic.judges import text

    sentences = text.sentences(text.normalize(answer))
    first = sentences[0] if sentences else ""
    for pattern in (text.REFUSAL, text.ABSTAIN, text.NEUTRALITY):
        for match in pattern.finditer(first):
            if not first[match.end():].lstrip().startswith("but"):  # "I can't help but smile" is a story
                return match.group(0)
    return None


def score_answers(items: Sequence[SkillItem], answers: Sequence[str]) -> list[ItemScore]:
    """`score_answer` of each item, the coding items' programs run together in one sandbox."""
    from model_hospital.clinic.coding import score_codes
    from model_hospital.clinic.judges.degenerate import degenerate_kind

    coding = [index for index, (item, answer) in enumerate(zip(items, answers))
              if item.domain == "coding" and not degenerate_kind(answer, item.prompt)]
    ran = dict(zip(coding, score_codes([items[i] for i in coding], [answers[i] for i in coding])))
    scores = []
    for index, (item, answer) in enumerate(zip(items, answers)):
        if index in ran:
            passed, code, reason = ran[index]
            scores.append(ItemScore(item_id=item.id, correct=passed, extracted=code, reason=reason))
        elif item.domain == "coding":
            scores.append(ItemScore(item_id=item.id, correct=False,
                                    reason=f"degenerate answer ({degenerate_kind(answer, item.prompt)})"))
        else:
            scores.append(score_answer(item, answer))
    return scores


def _continuation(prompt: str, answer: str) -> list[str]:
    """The words of a story answer after the opening it was given, when it starts by copying that opening."""
    opening = WORD.findall(prompt.split(":", 1)[-1].lower())
    words = WORD.findall(answer.lower())
    return words[len(opening):] if words[:len(opening)] == opening else words


def complete(answer: str) -> bool:
    """Whether a piece of writing ends a sentence (not cut off by the token budget)."""
    return bool(re.search(r"[.!?][\"')\]]*\s*$", answer.strip()))
