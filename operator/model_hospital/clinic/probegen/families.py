"""The split machinery every suite shares: template families, their held-out side, deterministic filling."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from model_hospital.api.common import Expected
from model_hospital.clinic.probes import HELDOUT, HELDOUT_PERCENT, SEED, split_for


@dataclass(frozen=True)
class Draft:
    """A candidate probe before ids are assigned."""

    category: str
    prompt: str
    expected: Expected
    tags: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    split_key: str = ""
    pair_id: str | None = None
    attribute: str | None = None
    families: tuple[Family, ...] = ()

    @property
    def key(self) -> str:
        return self.split_key or self.prompt

    @property
    def split(self) -> str:
        """Held out when every family is, seed when none is, MIXED (never kept) otherwise."""
        if not self.families:
            return split_for(self.key)
        sides = {family.heldout for family in self.families}
        return MIXED if len(sides) > 1 else (HELDOUT if sides == {True} else SEED)


MIXED = "mixed"


@dataclass(frozen=True)
class Family:
    """A template family: the template (wrapper, scenario, item) a probe is built from, and its side."""

    id: str
    heldout: bool


def heldout_families(group: str, count: int) -> frozenset[int]:
    """Which of a group's `count` templates are held out: about HELDOUT_PERCENT %, at least one on each side.

    The choice is a ranking by a hash of the group and index, so it is fixed; a group of one
    template has nothing to split and stays on the seed side.
    """
    if count < 2:
        return frozenset()
    ranked = sorted(range(count), key=lambda index: digest(f"family|{group}|{index}"))
    return frozenset(ranked[:min(count - 1, max(1, round(count * HELDOUT_PERCENT / 100)))])


def family_of(group: str, index: int, count: int) -> Family:
    """The family of template `index` of `count` in a group (a category, a wrapper set, a scenario list)."""
    return Family(f"{group}#{index}", index in heldout_families(group, count))


def digest(text: str) -> int:
    """A stable integer from a text (Python's own hash() changes between runs)."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], 16)


def pick(options: Sequence[str], key: str) -> str:
    """One of `options`, chosen by a hash of `key`."""
    return options[digest(key) % len(options)]


def scrambled(values: Sequence[str], salt: str) -> list[str]:
    """`values` in a fixed pseudo-random order (sorted by a salted hash)."""
    return sorted(values, key=lambda value: digest(f"{salt}|{value}"))


def fill(templates: Sequence[str], slots: dict[str, Sequence[str]], category: str, count: int,
          linked: dict[str, tuple[str, dict[str, str]]] | None = None) -> list[tuple[str, dict[str, str], Family]]:
    """Up to `count` distinct (text, slot values, template family) from templates, cycling through them.

    `linked` fills a slot from another one's value (slot -> (source slot, table)),
    for values that must agree, such as a date inside a person's lifetime.
    """
    filled: list[tuple[str, dict[str, str], Family]] = []
    seen: set[str] = set()
    for index in range(count * 4):
        template = templates[index % len(templates)]
        family = family_of(category, index % len(templates), len(templates))
        values = {name: pick(options, f"{category}|{index}|{name}") for name, options in slots.items()}
        for name, (source, table) in (linked or {}).items():
            values[name] = table[values[source]]
        text = template.format_map(values)
        if text not in seen:
            seen.add(text)
            filled.append((text, values, family))
        if len(filled) == count:
            break
    return filled


def fill_categories(table: dict[str, tuple[Sequence[str], dict[str, Sequence[str]]]], salt: str,
                    count: int) -> list[tuple[str, str]]:
    """(category, text) for each category's (templates, slots) in `table`: its first `count` fillings, salted with
    `salt/category`."""
    return [(category, text) for category, (templates, slots) in table.items()
            for text, _, _ in fill(templates, slots, f"{salt}/{category}", count)]


def stratified(candidates: Sequence[Draft], count: int) -> list[Draft]:
    """`count` candidates, about HELDOUT_PERCENT % of them held out, in candidate order."""
    heldout = [c for c in candidates if c.split == HELDOUT]
    seed = [c for c in candidates if c.split == SEED]
    want_heldout = min(len(heldout), round(count * HELDOUT_PERCENT / 100))
    want_seed = min(len(seed), count - want_heldout)
    want_heldout = min(len(heldout), count - want_seed)
    chosen = {id(c) for c in heldout[:want_heldout] + seed[:want_seed]}
    return [c for c in candidates if id(c) in chosen]
