"""The coding skill: small function-writing tasks, each with unit tests, scored by running the answer.

Every task is generated here, deterministically, from templates the project wrote
(registered in clinic/skillgen.py, which writes suites/skills/coding.jsonl). The
function is taken from the answer (the first code block that defines it, else the
text from its `def` on), run against the item's tests in a sandbox
(clinic/sandbox.py) and scored pass/fail: an answer passes only when every
assert holds.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

# A task: (category, function name, signature, what it returns, a reference body, test cases (arguments, result)).
Task = tuple[str, str, str, str, str, list[tuple[str, object]]]

CODING_INSTRUCTION = "Reply with the function only, in one Python code block."
LETTERS = "abdeilnorst"
WORDS = ("river", "stone", "apple", "lantern", "echo", "maple", "orbit", "bridge", "candle", "island", "tiger",
         "anchor", "meadow", "silver", "ember", "harbor", "violet", "needle", "oak", "raven")


def _add(rng: random.Random) -> Task:
    n = rng.randint(2, 40)
    cases = [(str(x), x + n) for x in rng.sample(range(-20, 100), 3)]
    return "arithmetic", f"add_{n}", "x", f"x plus {n}", f"return x + {n}", cases


def _times(rng: random.Random) -> Task:
    n = rng.randint(2, 30)
    cases = [(str(x), x * n) for x in rng.sample(range(-10, 50), 3)]
    return "arithmetic", f"times_{n}", "x", f"x multiplied by {n}", f"return x * {n}", cases


def _power(rng: random.Random) -> Task:
    n = rng.randint(2, 12)
    base = rng.randint(0, 4)
    cases = [(str(x), x ** n) for x in sorted({base, base + 1, 2, -1})]
    return "arithmetic", f"power_{n}_of", "x", f"x to the power {n}", f"return x ** {n}", cases


def _is_multiple(rng: random.Random) -> Task:
    k = rng.randint(2, 30)
    picks = [k * rng.randint(1, 9), k * rng.randint(1, 9) + rng.randint(1, k - 1), 0]
    return ("conditions", f"is_multiple_of_{k}", "n", f"True when n is a multiple of {k}, else False",
            f"return n % {k} == 0", [(str(x), x % k == 0) for x in picks])


def _clamp(rng: random.Random) -> Task:
    low = rng.randint(-20, 20)
    high = low + rng.randint(5, 40)
    xs = [low - rng.randint(1, 9), high + rng.randint(1, 9), rng.randint(low, high)]
    return ("conditions", f"clamp_{low}_{high}".replace("-", "minus"), "x",
            f"x limited to the range {low} to {high}: {low} when x is smaller, {high} when x is larger, else x",
            f"return max({low}, min({high}, x))", [(str(x), max(low, min(high, x))) for x in xs])


def _count_letter(rng: random.Random) -> Task:
    letter = rng.choice(LETTERS)
    texts = [" ".join(rng.sample(WORDS, rng.randint(1, 4))) for _ in range(3)] + [""]
    return ("strings", f"count_{letter}", "text", f"how many times the letter '{letter}' appears in text",
            f"return text.count({letter!r})", [(repr(t), t.count(letter)) for t in texts])


def _repeat(rng: random.Random) -> Task:
    k = rng.randint(2, 12)
    words = rng.sample(WORDS, 2)
    return ("strings", f"repeat_{k}_times", "word", f"word written {k} times with a single space between copies",
            f"return ' '.join([word] * {k})", [(repr(w), " ".join([w] * k)) for w in words])


def _starting_with(rng: random.Random) -> Task:
    letter = rng.choice(LETTERS)
    cases = []
    for _ in range(2):
        words = rng.sample(WORDS, 5)
        cases.append((repr(words), [w for w in words if w.startswith(letter)]))
    return ("lists", f"words_starting_with_{letter}", "words",
            f"the words of the list words that start with '{letter}', in their order",
            f"return [w for w in words if w.startswith({letter!r})]", cases + [("[]", [])])


def _sum_above(rng: random.Random) -> Task:
    t = rng.randint(0, 50)
    cases = []
    for _ in range(2):
        values = [rng.randint(-10, 90) for _ in range(rng.randint(3, 6))]
        cases.append((repr(values), sum(v for v in values if v > t)))
    return ("lists", f"sum_above_{t}", "values", f"the sum of the numbers in the list values that are greater than {t}",
            f"return sum(v for v in values if v > {t})", cases + [("[]", 0)])


def _last_items(rng: random.Random) -> Task:
    n = rng.randint(1, 15)
    values = list(range(rng.randint(n + 1, n + 8)))
    rng.shuffle(values)
    return ("lists", f"last_{n}", "items", f"a list of the last {n} elements of the list items",
            f"return items[-{n}:]", [(repr(values), values[-n:]), (repr(values[:n]), values[:n])])


TEMPLATES: tuple[Callable[[random.Random], Task], ...] = (
    _add, _is_multiple, _count_letter, _sum_above, _times, _clamp, _repeat, _starting_with, _power, _last_items)


def generate_coding(count: int, seed: str) -> list[dict]:
    """The coding items as SkillItem fields (id and replay left to the caller), cycling through the templates.

    Each template is a family ('coding/add'): replay is decided by family, like the other domains.
    """
    rng = random.Random(f"{seed}/coding")
    found: list[dict] = []
    seen: set[str] = set()
    attempts = 0
    while len(found) < count:
        attempts += 1
        if attempts > count * 50:
            raise RuntimeError(f"the coding templates give fewer than {count} distinct tasks")
        template = TEMPLATES[len(found) % len(TEMPLATES)]
        category, name, parameters, returns, body, cases = template(rng)
        if name in seen:
            continue
        seen.add(name)
        found.append({
            "category": category, "family": f"coding/{template.__name__.removeprefix('_')}", "entry_point": name,
            "prompt": f"Write a Python function `{name}({parameters})` that returns {returns}.",
            "reference": f"```python\ndef {name}({parameters}):\n    {body}\n```",
            "tests": [f"assert {name}({arguments}) == {expected!r}" for arguments, expected in cases],
        })
    return found


FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)


def extract_function(answer: str, entry_point: str) -> str | None:
    """The code of an answer that defines `entry_point`: its first such code block, else the text from the
    `def` on, cut back to the longest start that compiles; None when the answer defines no such function."""
    defines = re.compile(rf"^\s*def\s+{re.escape(entry_point)}\s*\(", re.MULTILINE)
    for block in FENCE.findall(answer):
        if defines.search(block):
            return _compiling_prefix(block)
    start = defines.search(answer)
    return _compiling_prefix(answer[start.start():]) if start else None


def _compiling_prefix(code: str) -> str | None:
    """The longest run of the code's first lines that compiles (prose after a function is cut off)."""
    lines = code.strip("\n").splitlines()
    for end in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:end])
        try:
            compile(candidate, "<answer>", "exec")
        except (SyntaxError, ValueError):
            continue
        return candidate + "\n"
    return None


def program(code: str, tests: Sequence[str]) -> str:
    """The program the sandbox runs: the answer's function, then every test."""
    return code + "\n\n" + "\n".join(tests) + "\n"


def score_codes(items: Sequence, answers: Sequence[str]) -> list[tuple[bool, str | None, str]]:
    """(passed, the extracted code, why) per coding item, the programs run together in one sandbox."""
    from model_hospital.clinic.sandbox import run_programs

    codes = [extract_function(answer, item.entry_point or "") for item, answer in zip(items, answers)]
    runnable = [(index, program(code, item.tests)) for index, (item, code) in enumerate(zip(items, codes)) if code]
    runs = dict(zip((index for index, _ in runnable), run_programs([text for _, text in runnable]))) if runnable else {}
    scored = []
    for index, (item, code) in enumerate(zip(items, codes)):
        if code is None:
            scored.append((False, None, f"no function {item.entry_point} in the answer"))
            continue
        run = runs[index]
        why = (f"passed {len(item.tests)} tests" if run.status == "passed"
               else f"{run.status}: {run.detail}") + f" ({run.sandbox})"
        scored.append((run.status == "passed", code, why))
    return scored
