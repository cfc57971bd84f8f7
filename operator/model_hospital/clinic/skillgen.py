"""The packaged skill suites' generators: every item made deterministically from templates the project wrote.

`python -m model_hospital.clinic.skillgen --write` regenerates
model_hospital/suites/skills/*.jsonl (`--check` says whether the committed files
match, as a test does). Each generator (and fact category) is a family, and the
families in REPLAY_FAMILIES give only replay items (clinic/skills.py says why).
The facts are in clinic/skill_facts.py, the coding tasks in clinic/coding.py.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterable
from pathlib import Path

from model_hospital import packaged
from model_hospital.clinic.skill_facts import FACTS, reference_sentence
from model_hospital.clinic.skill_facts_more import MORE_FACTS
from model_hospital.clinic.skills import DOMAINS, SkillItem, skills_dir
from model_hospital.errors import HospitalError

# The generators (and fact categories) whose items are replay only: about a quarter of each domain.
REPLAY_FAMILIES = frozenset({"math/one_step", "math/bags", "math/distance", "reasoning/quantity_comparison",
                             "writing/describe", "factual/geography", "factual/numbers",
                             "coding/times", "coding/last_items"})
ITEMS_PER_DOMAIN = 90
# Writing's scored items decide a cure's verdict with its paired bound; at 60 scored (90 made), h28's +3 points
# [-12, +19] could not exclude a 10-point loss ("about 22 more items would decide it"): half as many again.
WRITING_ITEMS = 135
GENERATOR_SEED = "model-hospital-skills-v1"


def family_name(domain: str, generator) -> str:
    """'math/bags' for the generator `_math_bags`: the family of the items it makes."""
    return f"{domain}/{generator.__name__.split('_', 2)[-1]}"


# ---------------------------------------------------------------- math

NAMES = ("Maya", "Omar", "Lena", "Tariq", "Sofia", "Kenji", "Amara", "Diego", "Ingrid", "Ravi",
         "Chloe", "Mateo", "Nadia", "Felix", "Priya", "Jonas")
THINGS = ("apples", "stickers", "marbles", "pencils", "stamps", "shells", "cookies", "cards")


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
    # Yes and no in about equal numbers: drawn from four forms, three of them "no", the suite's 23 syllogisms were
    # all "no", and a patient that says "No." to any question (the bundled one's habit) scored every one; a cure
    # that broke the habit (r25: "The answer is yes.") lost reasoning without losing any reasoning.
    form = rng.choice((0, 4)) if rng.random() < 0.5 else rng.choice((1, 2, 3))
    if form == 0:
        question, answer, why = (f"All {a} are {b}. All {b} are {c}. Are all {a} {c}?", "yes",
                                 f"every one of the {a} is one of the {b}, and every one of those is one of the {c}")
    elif form == 1:
        question, answer, why = (f"All {a} are {b}. Some {b} are {c}. Must some {a} be {c}?", "no",
                                 f"the {b} that are {c} need not include any of the {a}")
    elif form == 2:
        question, answer, why = (f"No {a} are {b}. All {c} are {a}. Can any of the {c} be {b}?", "no",
                                 f"every one of the {c} is one of the {a}, and none of those is one of the {b}")
    elif form == 3:
        question, answer, why = (f"All {a} are {b}. No {b} are {c}. Are any {a} {c}?", "no",
                                 f"the {a} are {b}, and none of the {b} are {c}")
    else:
        question, answer, why = (f"All {a} are {b}. Some {c} are {a}. Must some {c} be {b}?", "yes",
                                 f"the {c} that are {a} are {b}, since every one of the {a} is")
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


def generate_writing(count: int = WRITING_ITEMS, seed: str = GENERATOR_SEED) -> list[SkillItem]:
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


def generate_factual(seed: str = GENERATOR_SEED) -> list[SkillItem]:
    """Well-known facts with their accepted aliases, in a seeded order that mixes categories; each item's reference
    is the fact in a short sentence. The first 79 (`FACTS`) keep their ids; `MORE_FACTS` follow in an order of
    their own, so a run's item ids mean the same facts before and after the suite grew."""
    facts = [(category, question, answer, aliases, reference_sentence(question, answer))
             for category, question, answer, aliases in FACTS]
    order = list(range(len(facts)))
    random.Random(f"{seed}/factual").shuffle(order)
    more = list(range(len(MORE_FACTS)))
    random.Random(f"{seed}/factual-more").shuffle(more)
    ordered = [facts[index] for index in order] + [MORE_FACTS[index] for index in more]
    items: list[SkillItem] = []
    for position, (category, question, answer, aliases, sentence) in enumerate(ordered, start=1):
        item_id = f"factual-{position:04d}"
        family = f"factual/{category}"
        items.append(SkillItem(id=item_id, domain="factual", category=category, prompt=question,
                               reference=sentence, accepted=[answer, *aliases], replay=family in REPLAY_FAMILIES,
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
        sys.exit(f"stale skill suites: {', '.join(stale)}; run python -m model_hospital.clinic.skillgen --write"
                 if stale else 0)
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m model_hospital.clinic.skillgen --write | --check")
    for written_path in write_suites(default):
        print(written_path)
