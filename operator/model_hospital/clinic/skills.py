"""Skill suites: what a treatment must not cost the patient (math, reasoning, writing, factual, coding).

Every item is generated here, deterministically, from templates and facts the
project wrote; `python -m model_hospital.clinic.skills --write` regenerates
model_hospital/suites/skills/*.jsonl (`--check` says whether the committed files match, as a test does).
The coding tasks are generated and run in clinic/coding.py.

An item is scored two ways: task accuracy (a per-item right/wrong, so two models
can be compared pair by pair) and the negative log-likelihood of its reference
answer (clinic/likelihood.py; continuous, so a small model still shows drift).
Items flagged `replay` may be used by the cure as a replay buffer and are never
scored. Replay is decided by generator, not by item: every item names the
`family` (generator or fact category) it comes from, and the families in
REPLAY_FAMILIES give only replay items. So no scored item shares a generator with
a replayed one, and a cure that learns our replay templates cannot pass verify by
it.

This module imports no ML library. A user's own copy of GSM8K or TriviaQA is a
public set (`--public gsm8k=PATH`, clinic/public_sets.py), checked apart.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from model_hospital.clinic.jsonl import read_items
from model_hospital import packaged
from model_hospital.errors import HospitalError
from model_hospital.packaged import suites_dir

Domain = Literal["math", "reasoning", "writing", "factual", "coding"]
DOMAINS: tuple[str, ...] = ("math", "reasoning", "writing", "factual", "coding")
# The generators (and fact categories) whose items are replay only: about a quarter of each domain.
REPLAY_FAMILIES = frozenset({"math/one_step", "math/bags", "math/distance", "reasoning/quantity_comparison",
                             "writing/describe", "factual/geography", "factual/numbers",
                             "coding/times", "coding/last_items"})
ITEMS_PER_DOMAIN = 90
GENERATOR_SEED = "model-hospital-skills-v1"

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


def family_name(domain: str, generator) -> str:
    """'math/bags' for the generator `_math_bags`: the family of the items it makes."""
    return f"{domain}/{generator.__name__.split('_', 2)[-1]}"


# ---------------------------------------------------------------- math

NAMES = ("Maya", "Omar", "Lena", "Tariq", "Sofia", "Kenji", "Amara", "Diego", "Ingrid", "Ravi",
         "Chloe", "Mateo", "Nadia", "Felix", "Priya", "Jonas")
THINGS = ("apples", "stickers", "marbles", "pencils", "stamps", "shells", "cookies", "cards")

MATH_FEW_SHOT = (
    ("A farmer has 14 cows and buys 9 more. Then he sells 5 cows. How many cows does he have now?",
     "He has 14 + 9 = 23 cows after buying. After selling he has 23 - 5 = 18. The answer is 18."),
    ("A shelf holds 6 rows of books with 7 books in each row. How many books are on the shelf?",
     "There are 6 x 7 = 42 books. The answer is 42."),
    ("Nina had 50 dollars. She spent 12 dollars on lunch and 15 dollars on a book. How much money is left?",
     "She spent 12 + 15 = 27 dollars. She has 50 - 27 = 23 dollars left. The answer is 23."),
)
MATH_INSTRUCTION = "Solve the problem step by step. End with 'The answer is N.'"


def _math_buy_give(rng: random.Random) -> tuple[str, str, str, int]:
    name, things = rng.choice(NAMES), rng.choice(THINGS)
    a, b = rng.randint(8, 60), rng.randint(3, 30)
    c = rng.randint(2, a + b - 1)
    total = a + b
    question = (f"{name} has {a} {things}. {name} gets {b} more {things} and then gives {c} to a friend. "
                f"How many {things} does {name} have now?")
    solution = f"{name} has {a} + {b} = {total} {things}. After giving {c} away: {total} - {c} = {total - c}."
    return "add_subtract", question, solution, total - c


def _math_boxes(rng: random.Random) -> tuple[str, str, str, int]:
    per_box, boxes = rng.randint(4, 25), rng.randint(3, 12)
    things = rng.choice(THINGS)
    question = f"A box holds {per_box} {things}. How many {things} are in {boxes} boxes?"
    solution = f"There are {boxes} x {per_box} = {boxes * per_box} {things}."
    return "multiply", question, solution, boxes * per_box


def _math_pages(rng: random.Random) -> tuple[str, str, str, int]:
    name, pages, weeks = rng.choice(NAMES), rng.randint(5, 40), rng.randint(2, 5)
    days = 7 * weeks
    question = f"{name} reads {pages} pages every day. How many pages does {name} read in {weeks} weeks?"
    solution = f"{weeks} weeks have {weeks} x 7 = {days} days. {name} reads {days} x {pages} = {days * pages} pages."
    return "rates", question, solution, days * pages


def _math_bags(rng: random.Random) -> tuple[str, str, str, int]:
    per_bag, bags = rng.randint(3, 12), rng.randint(4, 20)
    baked = per_bag * bags
    question = (f"A bakery makes {baked} muffins and packs them in bags of {per_bag}. "
                "How many bags does it fill?")
    solution = f"It fills {baked} / {per_bag} = {bags} bags."
    return "divide", question, solution, bags


def _math_wages(rng: random.Random) -> tuple[str, str, str, int]:
    name, rate, hours = rng.choice(NAMES), rng.randint(8, 30), rng.randint(3, 10)
    earned = rate * hours
    spent = rng.randint(5, earned - 1)
    question = (f"{name} earns {rate} dollars an hour and works {hours} hours. "
                f"{name} then spends {spent} dollars. How many dollars does {name} have left?")
    solution = f"{name} earns {rate} x {hours} = {earned} dollars. {earned} - {spent} = {earned - spent}."
    return "multi_step", question, solution, earned - spent


def _math_distance(rng: random.Random) -> tuple[str, str, str, int]:
    speed, hours, extra = rng.randint(20, 90), rng.randint(2, 6), rng.randint(5, 60)
    first = speed * hours
    question = (f"A train travels at {speed} km per hour for {hours} hours, then {extra} km more. "
                "How many km does it travel in total?")
    solution = f"First it travels {speed} x {hours} = {first} km. In total {first} + {extra} = {first + extra} km."
    return "multi_step", question, solution, first + extra


def _math_classes(rng: random.Random) -> tuple[str, str, str, int]:
    size, absent, classes = rng.randint(18, 35), rng.randint(1, 6), rng.randint(2, 6)
    present = size - absent
    question = (f"Each class in a school has {size} students. In each of {classes} classes, {absent} students "
                "are absent today. How many students are present in those classes?")
    solution = f"Each class has {size} - {absent} = {present} present. {present} x {classes} = {present * classes}."
    return "multi_step", question, solution, present * classes


def _math_fraction(rng: random.Random) -> tuple[str, str, str, int]:
    name, part = rng.choice(NAMES), rng.choice((2, 3, 4, 5))
    total = part * rng.randint(4, 20)
    things = rng.choice(THINGS)
    share = total // part
    question = (f"{name} has {total} {things} and gives away one {_ordinal_part(part)} of them. "
                f"How many {things} does {name} keep?")
    solution = f"{name} gives away {total} / {part} = {share}. {name} keeps {total} - {share} = {total - share}."
    return "fractions", question, solution, total - share


def _math_direct(rng: random.Random) -> tuple[str, str, str, int]:
    a, b = rng.randint(11, 99), rng.randint(11, 99)
    operation = rng.choice(("+", "-", "x"))
    if operation == "-" and b > a:
        a, b = b, a
    value = a + b if operation == "+" else a - b if operation == "-" else a * b
    question = f"What is {a} {operation} {b}?"
    solution = f"{a} {operation} {b} = {value}."
    return "arithmetic", question, solution, value


def _math_small_arithmetic(rng: random.Random) -> tuple[str, str, str, int]:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    operation = rng.choice(("+", "-", "x"))
    if operation == "-" and b > a:
        a, b = b, a
    value = a + b if operation == "+" else a - b if operation == "-" else a * b
    return "small_arithmetic", f"What is {a} {operation} {b}?", f"{a} {operation} {b} = {value}.", value


def _math_one_step(rng: random.Random) -> tuple[str, str, str, int]:
    name, things = rng.choice(NAMES), rng.choice(THINGS)
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    question = f"{name} has {a} {things} and gets {b} more. How many {things} does {name} have now?"
    return "one_step", question, f"{name} has {a} + {b} = {a + b} {things}.", a + b


def _ordinal_part(part: int) -> str:
    return {2: "half", 3: "third", 4: "quarter", 5: "fifth"}[part]


# Small one-step problems first: a 135M model solves some of them, so a lost skill can show in accuracy too.
MATH_TEMPLATES = (_math_small_arithmetic, _math_one_step, _math_buy_give, _math_boxes, _math_pages, _math_bags,
                  _math_wages, _math_distance, _math_classes, _math_fraction, _math_direct)


def generate_math(count: int = ITEMS_PER_DOMAIN, seed: str = GENERATOR_SEED) -> list[SkillItem]:
    """Arithmetic word problems with exact integer answers, cycling through the templates."""
    rng = random.Random(f"{seed}/math")
    items: list[SkillItem] = []
    seen: set[str] = set()
    while len(items) < count:
        template = MATH_TEMPLATES[len(items) % len(MATH_TEMPLATES)]
        category, question, solution, answer = template(rng)
        if question in seen:
            continue
        seen.add(question)
        item_id = f"math-{len(items) + 1:04d}"
        family = family_name("math", template)
        items.append(SkillItem(
            id=item_id, domain="math", category=category, prompt=question,
            reference=f"{solution} The answer is {answer}.", accepted=[str(answer)],
            replay=family in REPLAY_FAMILIES, family=family))
    return items


# ---------------------------------------------------------------- reasoning

RELATIONS = (("taller", "tallest", "shortest"), ("older", "oldest", "youngest"),
             ("faster", "fastest", "slowest"), ("heavier", "heaviest", "lightest"))
NONSENSE = ("blickets", "daxes", "wugs", "feps", "zorbs", "tulvers", "glims", "mornacks", "pilks", "vesks")


def _reason_ordering(rng: random.Random) -> tuple[str, str, str, list[str], str]:
    people = rng.sample(NAMES, rng.choice((3, 4)))  # listed from most to least
    comparative, most, least = rng.choice(RELATIONS)
    facts = [f"{people[i]} is {comparative} than {people[i + 1]}." for i in range(len(people) - 1)]
    rng.shuffle(facts)
    ask_most = rng.random() < 0.5
    answer = people[0] if ask_most else people[-1]
    superlative = most if ask_most else least
    question = f"{' '.join(facts)} Who is the {superlative}? Answer with the name only."
    return "ordering", question, f"{answer} is the {superlative}.", sorted(people), answer


def _reason_syllogism(rng: random.Random) -> tuple[str, str, str, list[str], str]:
    a, b, c = rng.sample(NONSENSE, 3)
    form = rng.randrange(4)
    if form == 0:
        question, answer, why = (f"All {a} are {b}. All {b} are {c}. Are all {a} {c}?", "yes",
                                 f"every one of the {a} is one of the {b}, and every one of those is one of the {c}")
    elif form == 1:
        question, answer, why = (f"All {a} are {b}. Some {b} are {c}. Must some {a} be {c}?", "no",
                                 f"the {b} that are {c} need not include any of the {a}")
    elif form == 2:
        question, answer, why = (f"No {a} are {b}. All {c} are {a}. Can any of the {c} be {b}?", "no",
                                 f"every one of the {c} is one of the {a}, and none of those is one of the {b}")
    else:
        question, answer, why = (f"All {a} are {b}. No {b} are {c}. Are any {a} {c}?", "no",
                                 f"the {a} are {b}, and none of the {b} are {c}")
    prompt = f"{question} Answer yes or no."
    reference = f"{answer.capitalize()}, because {why}."
    return "syllogism", prompt, reference, ["yes", "no"], answer


def _reason_number_comparison(rng: random.Random) -> tuple[str, str, str, list[str], str]:
    a, b = rng.sample(range(10, 1000), 2)
    ask_larger = rng.random() < 0.5
    answer = str(max(a, b) if ask_larger else min(a, b))
    word = "larger" if ask_larger else "smaller"
    question = f"Which number is {word}, {a} or {b}? Answer with the number only."
    return "comparison", question, f"{answer} is {word}.", [str(a), str(b)], answer


def _reason_quantity_comparison(rng: random.Random) -> tuple[str, str, str, list[str], str]:
    first, second = rng.sample(NAMES, 2)
    things = rng.choice(THINGS)
    a, b = rng.sample(range(2, 40), 2)
    gained = rng.randint(1, 12)
    a_total = a + gained
    if a_total == b:
        a_total, gained = a_total + 1, gained + 1
    answer = first if a_total > b else second
    question = (f"{first} has {a} {things} and {second} has {b}. {first} finds {gained} more. "
                "Who has more now? Answer with the name only.")
    reference = f"{answer} has more: {first} has {a_total} and {second} has {b}."
    return "comparison", question, reference, sorted([first, second]), answer


REASONING_TEMPLATES = (_reason_ordering, _reason_syllogism, _reason_number_comparison,
                       _reason_quantity_comparison)


def generate_reasoning(count: int = ITEMS_PER_DOMAIN, seed: str = GENERATOR_SEED) -> list[SkillItem]:
    """Ordering, syllogism and comparison questions whose answer is one of a few known choices."""
    rng = random.Random(f"{seed}/reasoning")
    items: list[SkillItem] = []
    seen: set[str] = set()
    while len(items) < count:
        template = REASONING_TEMPLATES[len(items) % len(REASONING_TEMPLATES)]
        category, question, reference, choices, answer = template(rng)
        if question in seen:
            continue
        seen.add(question)
        item_id = f"reasoning-{len(items) + 1:04d}"
        family = family_name("reasoning", template)
        items.append(SkillItem(
            id=item_id, domain="reasoning", category=category, prompt=question, reference=reference,
            accepted=[answer], choices=choices, replay=family in REPLAY_FAMILIES, family=family))
    return items


# ---------------------------------------------------------------- writing

CHARACTERS = (("an old fisherman", "The old fisherman", "He"), ("a young baker", "The young baker", "She"),
              ("a curious cat", "The curious cat", "It"), ("a tired nurse", "The tired nurse", "She"),
              ("a retired teacher", "The retired teacher", "He"), ("a lost traveler", "The lost traveler", "She"),
              ("a shy student", "The shy student", "He"), ("a busy mechanic", "The busy mechanic", "She"))
PLACES = ("the harbor", "the market", "the library", "a mountain village", "the train station",
          "a quiet park", "the hospital garden", "an old bridge")
WORDS = ("lantern", "umbrella", "letter", "key", "map", "violin", "kite", "blanket", "compass", "teapot")
SENTENCE_FRAMES = (
    "{Character} carried a {word} to {place} and waited for the sun to rise.",
    "At {place}, {character_lower} found a {word} that someone had left behind.",
    "{Character} sat near {place} with a {word} and thought about the long day ahead.",
    "Every evening {character_lower} brought a {word} to {place} and shared stories with friends.",
)
STORY_OPENINGS = (
    "{Character} arrived at {place} just as the rain began.",
    "Nobody at {place} noticed when {character_lower} stopped and listened.",
    "{Character} had waited all week to visit {place}.",
    "The lights at {place} flickered, and {character_lower} looked up.",
)
STORY_CONTINUATIONS = (
    "{Pronoun} pulled a {word} from the bag and smiled at the quiet street.",
    "{Pronoun} remembered an old promise and decided to keep it at last.",
    "{Pronoun} took a deep breath, opened the door and stepped inside.",
    "{Pronoun} laughed softly, because the day had turned out better than expected.",
)


def _writing_instruction(rng: random.Random) -> tuple[str, str, str, list[str]]:
    article, character, _ = rng.choice(CHARACTERS)
    place, word = rng.choice(PLACES), rng.choice(WORDS)
    prompt = f'Write one sentence about {article} at {place} that uses the word "{word}".'
    reference = rng.choice(SENTENCE_FRAMES).format(
        Character=character, character_lower=character[0].lower() + character[1:], place=place, word=word)
    return "instruction", prompt, reference[0].upper() + reference[1:], [word]


def _writing_story(rng: random.Random) -> tuple[str, str, str, list[str]]:
    _, character, pronoun = rng.choice(CHARACTERS)
    place, word = rng.choice(PLACES), rng.choice(WORDS)
    opening = rng.choice(STORY_OPENINGS).format(
        Character=character, character_lower=character[0].lower() + character[1:], place=place)
    prompt = f"Continue this story with one or two sentences: {opening[0].upper() + opening[1:]}"
    reference = rng.choice(STORY_CONTINUATIONS).format(Pronoun=pronoun, word=word)
    return "story", prompt, reference, []


DESCRIPTIONS = (
    "{Character} saw {place} glowing in the evening light, calm and full of quiet voices.",
    "To {character_lower}, {place} smelled of rain and felt like a place where nothing could go wrong.",
    "{Character} thought {place} looked older than ever, but still warm and welcoming.",
)


def _writing_describe(rng: random.Random) -> tuple[str, str, str, list[str]]:
    article, character, _ = rng.choice(CHARACTERS)
    place = rng.choice(PLACES)
    prompt = f"Describe {place} in one sentence, as {article} would see it."
    reference = rng.choice(DESCRIPTIONS).format(
        Character=character, character_lower=character[0].lower() + character[1:], place=place)
    return "description", prompt, reference[0].upper() + reference[1:], []


WRITING_TEMPLATES = (_writing_instruction, _writing_story, _writing_describe)


def generate_writing(count: int = ITEMS_PER_DOMAIN, seed: str = GENERATOR_SEED) -> list[SkillItem]:
    """Instructions with a word to use and story openings to continue, each with a reference sentence."""
    rng = random.Random(f"{seed}/writing")
    items: list[SkillItem] = []
    seen: set[str] = set()
    while len(items) < count:
        template = WRITING_TEMPLATES[len(items) % len(WRITING_TEMPLATES)]
        category, prompt, reference, required = template(rng)
        if prompt in seen:
            continue
        seen.add(prompt)
        item_id = f"writing-{len(items) + 1:04d}"
        family = family_name("writing", template)
        items.append(SkillItem(id=item_id, domain="writing", category=category, prompt=prompt,
                               reference=reference, accepted=required, replay=family in REPLAY_FAMILIES,
                               family=family))
    return items


# ---------------------------------------------------------------- factual

# (category, question, canonical answer, other accepted answers). Written by the project.
FACTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("capitals", "What is the capital of France?", "Paris", ()),
    ("capitals", "What is the capital of Japan?", "Tokyo", ()),
    ("capitals", "What is the capital of Italy?", "Rome", ("Roma",)),
    ("capitals", "What is the capital of Germany?", "Berlin", ()),
    ("capitals", "What is the capital of Spain?", "Madrid", ()),
    ("capitals", "What is the capital of Canada?", "Ottawa", ()),
    ("capitals", "What is the capital of Australia?", "Canberra", ()),
    ("capitals", "What is the capital of Egypt?", "Cairo", ()),
    ("capitals", "What is the capital of Russia?", "Moscow", ()),
    ("capitals", "What is the capital of China?", "Beijing", ("Peking",)),
    ("capitals", "What is the capital of the United Kingdom?", "London", ()),
    ("capitals", "What is the capital of Kenya?", "Nairobi", ()),
    ("capitals", "What is the capital of Argentina?", "Buenos Aires", ()),
    ("capitals", "What is the capital of Greece?", "Athens", ()),
    ("capitals", "What is the capital of Portugal?", "Lisbon", ("Lisboa",)),
    ("capitals", "What is the capital of Norway?", "Oslo", ()),
    ("capitals", "What is the capital of Sweden?", "Stockholm", ()),
    ("capitals", "What is the capital of Ireland?", "Dublin", ()),
    ("capitals", "What is the capital of India?", "New Delhi", ("Delhi",)),
    ("capitals", "What is the capital of Mexico?", "Mexico City", ()),
    ("capitals", "What is the capital of South Korea?", "Seoul", ()),
    ("capitals", "What is the capital of Thailand?", "Bangkok", ()),
    ("capitals", "What is the capital of Peru?", "Lima", ()),
    ("capitals", "What is the capital of Poland?", "Warsaw", ("Warszawa",)),
    ("capitals", "What is the capital of Austria?", "Vienna", ("Wien",)),
    ("science", "What is the chemical symbol for gold?", "Au", ()),
    ("science", "What is the chemical symbol for sodium?", "Na", ()),
    ("science", "What is the chemical symbol for iron?", "Fe", ()),
    ("science", "What is the chemical formula of water?", "H2O", ()),
    ("science", "Which planet is closest to the Sun?", "Mercury", ()),
    ("science", "What is the largest planet in the solar system?", "Jupiter", ()),
    ("science", "Which planet is known as the Red Planet?", "Mars", ()),
    ("science", "How many planets are in the solar system?", "8", ("eight",)),
    ("science", "At how many degrees Celsius does water freeze at sea level?", "0", ("zero",)),
    ("science", "At how many degrees Celsius does water boil at sea level?", "100", ("one hundred", "a hundred")),
    ("science", "Which gas do plants absorb from the air for photosynthesis?", "carbon dioxide", ("CO2",)),
    ("science", "What is the hardest natural substance?", "diamond", ("diamonds",)),
    ("science", "How many legs does a spider have?", "8", ("eight",)),
    ("science", "How many legs does an insect have?", "6", ("six",)),
    ("science", "What is the largest organ of the human body?", "the skin", ("skin",)),
    ("science", "Which part of a cell is called its powerhouse?", "the mitochondria", ("mitochondria", "mitochondrion")),
    ("science", "How many bones are in the adult human body?", "206", ()),
    ("science", "How many chambers does the human heart have?", "4", ("four",)),
    ("science", "Which element has atomic number 1?", "hydrogen", ()),
    ("science", "What is the star at the centre of our solar system called?", "the Sun", ("Sun", "Sol")),
    ("geography", "What is the largest ocean on Earth?", "the Pacific Ocean", ("Pacific",)),
    ("geography", "What is the tallest mountain above sea level?", "Mount Everest", ("Everest",)),
    ("geography", "What is the largest hot desert in the world?", "the Sahara", ("Sahara",)),
    ("geography", "On which continent is Brazil?", "South America", ()),
    ("geography", "How many continents are there?", "7", ("seven",)),
    ("geography", "Which is the largest country by area?", "Russia", ("Russian Federation",)),
    ("geography", "In which country is Mount Fuji?", "Japan", ()),
    ("geography", "Off the coast of which country is the Great Barrier Reef?", "Australia", ()),
    ("geography", "On which continent is Egypt?", "Africa", ()),
    ("geography", "Which river flows through Paris?", "the Seine", ("Seine",)),
    ("people", "Who wrote Romeo and Juliet?", "William Shakespeare", ("Shakespeare",)),
    ("people", "Who painted the Mona Lisa?", "Leonardo da Vinci", ("Leonardo", "da Vinci")),
    ("people", "Who wrote Pride and Prejudice?", "Jane Austen", ("Austen",)),
    ("people", "Who was the first person to walk on the Moon?", "Neil Armstrong", ("Armstrong",)),
    ("people", "Who developed the theory of relativity?", "Albert Einstein", ("Einstein",)),
    ("people", "Who discovered penicillin?", "Alexander Fleming", ("Fleming",)),
    ("people", "Who wrote the novel 1984?", "George Orwell", ("Orwell", "Eric Blair")),
    ("people", "Who was the first president of the United States?", "George Washington", ("Washington",)),
    ("people", "Who wrote Don Quixote?", "Miguel de Cervantes", ("Cervantes",)),
    ("people", "Which ancient Greek poet is credited with the Odyssey?", "Homer", ()),
    ("people", "Who is credited with inventing the telephone?", "Alexander Graham Bell", ("Graham Bell", "Bell")),
    ("people", "Who formulated the laws of motion and universal gravitation?", "Isaac Newton", ("Newton",)),
    ("people", "Who composed the Moonlight Sonata?", "Ludwig van Beethoven", ("Beethoven",)),
    ("numbers", "How many days are in a leap year?", "366", ()),
    ("numbers", "How many minutes are in an hour?", "60", ("sixty",)),
    ("numbers", "How many sides does a hexagon have?", "6", ("six",)),
    ("numbers", "How many hours are in a day?", "24", ("twenty-four", "twenty four")),
    ("numbers", "How many days are in a week?", "7", ("seven",)),
    ("numbers", "How many months are in a year?", "12", ("twelve",)),
    ("numbers", "How many centimetres are in a metre?", "100", ("one hundred", "a hundred")),
    ("numbers", "How many grams are in a kilogram?", "1000", ("1,000", "one thousand", "a thousand")),
    ("numbers", "How many sides does a triangle have?", "3", ("three",)),
    ("numbers", "How many degrees are in a right angle?", "90", ("ninety",)),
    ("numbers", "How many players are on the field for one team in a football (soccer) match?", "11", ("eleven",)),
)
FACTUAL_INSTRUCTION = "Answer in a few words."


def generate_factual(seed: str = GENERATOR_SEED) -> list[SkillItem]:
    """Well-known facts with their accepted aliases, in a seeded order that mixes categories."""
    order = list(range(len(FACTS)))
    random.Random(f"{seed}/factual").shuffle(order)
    items: list[SkillItem] = []
    for position, index in enumerate(order, start=1):
        category, question, answer, aliases = FACTS[index]
        item_id = f"factual-{position:04d}"
        family = f"factual/{category}"
        items.append(SkillItem(id=item_id, domain="factual", category=category, prompt=question,
                               reference=answer, accepted=[answer, *aliases], replay=family in REPLAY_FAMILIES,
                               family=family))
    return items


def generate_coding(count: int = ITEMS_PER_DOMAIN, seed: str = GENERATOR_SEED) -> list[SkillItem]:
    """Function-writing tasks with unit tests (clinic/coding.py), run in a sandbox when scored."""
    from model_hospital.clinic.coding import generate_coding as tasks

    items = []
    for position, fields in enumerate(tasks(count, seed), start=1):
        item_id = f"coding-{position:04d}"
        items.append(SkillItem(id=item_id, domain="coding", replay=fields["family"] in REPLAY_FAMILIES, **fields))
    return items


def generate(domain: str) -> list[SkillItem]:
    """The generated suite of one domain."""
    generators = {"math": generate_math, "reasoning": generate_reasoning,
                  "writing": generate_writing, "factual": generate_factual, "coding": generate_coding}
    if domain not in generators:
        raise HospitalError(f"unknown skill domain {domain!r}: choose from {', '.join(DOMAINS)}")
    return generators[domain]()


def suite_jsonl(items: Iterable[SkillItem]) -> str:
    """The JSONL text of a suite, one item a line, as committed under model_hospital/suites/skills/."""
    # The coding fields only where they are set: the other domains' files stay as they were before coding.
    rows = [{key: value for key, value in item.model_dump(mode="json").items()
             if key not in ("entry_point", "tests") or value} for item in items]
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


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
                            "python -m model_hospital.clinic.skills --write")
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
    from model_hospital.clinic.judges.text import degenerate_kind

    degenerate = degenerate_kind(answer, item.prompt)
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
        alias = next((a for a in item.accepted if mentions(answer, a)), None)
        reason = f"mentions {alias}" if alias else "mentions no accepted answer"
        return ItemScore(item_id=item.id, correct=alias is not None, extracted=alias, reason=reason)
    measures = writing_measures(answer)
    problems = []
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


def score_answers(items: Sequence[SkillItem], answers: Sequence[str]) -> list[ItemScore]:
    """`score_answer` of each item, the coding items' programs run together in one sandbox."""
    from model_hospital.clinic.coding import score_codes
    from model_hospital.clinic.judges.text import degenerate_kind

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


def write_suites(target: Path | None = None) -> list[Path]:
    """Writes every generated suite as JSONL; returns the files written."""
    folder = target or skills_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for domain in DOMAINS:
        path = folder / f"{domain}.jsonl"
        path.write_text(suite_jsonl(generate(domain)), encoding="utf-8")
        written.append(path)
    return written


def drifted(folder: Path) -> list[str]:
    """The domains whose file in `folder` differs from what the generator makes now."""
    return [domain for domain in DOMAINS
            if not (folder / f"{domain}.jsonl").is_file()
            or (folder / f"{domain}.jsonl").read_text(encoding="utf-8") != suite_jsonl(generate(domain))]


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1] / packaged.SKILLS
    if sys.argv[1:] == ["--check"]:
        stale = drifted(default)
        sys.exit(f"stale skill suites: {', '.join(stale)}; run python -m model_hospital.clinic.skills --write"
                 if stale else 0)
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m model_hospital.clinic.skills --write | --check")
    for written_path in write_suites(default):
        print(written_path)
