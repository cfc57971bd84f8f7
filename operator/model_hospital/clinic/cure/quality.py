"""The quality gate of cure data: the judges' verdict, then exact and near-duplicate removal.

The judges know the cure: a refusal the cure teaches must read as a refusal to every
judge (the safety judge passes it, the over-refusal judge reads it as a refusal), and
every replayed helpful answer must read as help. A row that one judge would read the
other way is never written."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from model_hospital.api.common import Finding
from model_hospital.clinic.judges.base import JudgedItem, Verdict
from model_hospital.clinic.probes import Probe, ProbeMessage

NEAR_DUPLICATE_JACCARD = 0.8
SHINGLE_WORDS = 3


def normalized(text: str) -> str:
    """Lower-case words only, single-spaced: two texts that read the same compare equal."""
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[str]:
    """The set of `size`-word shingles of a text (the whole text when it is shorter)."""
    words = normalized(text).split()
    if len(words) <= size:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i:i + size]) for i in range(len(words) - size + 1))


def jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    """Jaccard similarity of two shingle sets (1.0 for two empty sets)."""
    if not left and not right:
        return 1.0
    return len(left & right) / len(left | right)


@dataclass
class Deduplicated:
    kept: list[int]
    exact: int
    near: int


def deduplicate(texts: Sequence[str], threshold: float = NEAR_DUPLICATE_JACCARD) -> Deduplicated:
    """Indices of the texts to keep (first occurrence wins), with counts of exact and near duplicates."""
    seen: set[str] = set()
    kept: list[int] = []
    kept_shingles: list[frozenset[str]] = []
    exact = near = 0
    for index, text in enumerate(texts):
        key = normalized(text)
        if key in seen:
            exact += 1
            continue
        grams = shingles(text)
        if any(jaccard(grams, other) >= threshold for other in kept_shingles):
            near += 1
            continue
        seen.add(key)
        kept.append(index)
        kept_shingles.append(grams)
    return Deduplicated(kept, exact, near)


def probe_with_prompt(probe: Probe, prompt: str) -> Probe:
    """The probe asked with another wording (a framed or paraphrased prompt), for judging."""
    return probe.model_copy(update={"messages": [ProbeMessage(role="user", content=prompt)]})


def lookalike_probe(category: str, prompt: str) -> Probe:
    """A benign look-alike as a probe, for judging an answer to a prompt made for the cure."""
    from model_hospital.clinic.probes import ProbeMetadata

    return Probe(conversation_id=f"cure-lookalike-{normalized(prompt)[:60].replace(' ', '-')}",
                 messages=[ProbeMessage(role="user", content=prompt)],
                 metadata=ProbeMetadata(symptom="safety", category=category, expected="comply", split="seed",
                                        split_key=prompt, tags=["lookalike"]))


def judge_answers(probes: Sequence[Probe], answers: Sequence[str], settings=None) -> list[Verdict]:
    """The judges' verdicts on answers to probes (the same judges the diagnosis used)."""
    from model_hospital.clinic.judges import judge_all

    return judge_all([JudgedItem(probe, answer) for probe, answer in zip(probes, answers)], settings)


@functools.lru_cache(maxsize=1)
def probes_by_id() -> dict[str, Probe]:
    """Every probe of every symptom's suite, by id (the probes cure rows and validation prompts name)."""
    from model_hospital.api.common import Symptom
    from model_hospital.clinic.probes import load_suite

    return {p.id: p for symptom in Symptom for p in load_suite(symptom)}


def judge_by_probe_id(probe_ids: Sequence[str | None], prompts: Sequence[str | None],
                      answers: Sequence[str]) -> list[tuple[Finding, Probe, Verdict] | None]:
    """The judge's verdict on each answer to a probe named by id and asked in the cure's wording (its finding
    and the probe beside it); None where the probe is unknown, which the caller must not score."""
    from model_hospital.clinic.judges import finding_for

    from model_hospital.clinic.cure.replay import POOL_PREFIX

    def probe_for(probe_id: str | None, prompt: str | None) -> Probe | None:
        probe = probes_by_id().get(probe_id or "")
        if probe is None and (probe_id or "").startswith(POOL_PREFIX) and prompt:
            # A look-alike made for the cure only: no suite holds it, its id names its category.
            probe = lookalike_probe(probe_id.removeprefix(POOL_PREFIX), prompt)
        return probe

    known = [(i, probe_for(pid, prompts[i])) for i, pid in enumerate(probe_ids)]
    known = [(i, probe_with_prompt(probe, prompts[i]) if prompts[i] else probe) for i, probe in known if probe]
    judged: list[tuple[Finding, Probe, Verdict] | None] = [None] * len(answers)
    verdicts = judge_answers([probe for _, probe in known], [answers[i] for i, _ in known])
    for (index, probe), verdict in zip(known, verdicts):
        judged[index] = (finding_for(probe), probe, verdict)
    return judged


def reads_as_refusal(prompt: str, answer: str) -> bool:
    """Whether the over-refusal judge reads an answer as a refusal (full or partial) of its request."""
    from model_hospital.clinic.judges.over_refusal import judge_answer

    return judge_answer(answer, prompt).evidence.get("response") in ("full_refusal", "partial_refusal")


def reads_as_help(prompt: str, answer: str) -> bool:
    """Whether the over-refusal judge reads an answer as help: no refusal, no degenerate answer."""
    from model_hospital.clinic.judges.over_refusal import judge_answer

    return judge_answer(answer, prompt).outcome.value == "pass"


def untrue_help(prompt: str, answer: str) -> str | None:
    """Why an answer to a harmless look-alike is no help whatever the judges read in it (None when nothing known
    says so): dangerous advice or false reassurance about a well-known danger (`replay.dangerous_advice`), or an
    answer to an answerable look-alike without its canonical answer or an alias (`replay.wrong_answer`)."""
    from model_hospital.clinic.cure import replay
    from model_hospital.clinic.symptoms.hallucination.lookalikes import answerable_by_prompt

    advice = replay.dangerous_advice(answer, prompt)
    if advice:
        return f"dangerous_advice/{advice[0]}"
    known = answerable_by_prompt(prompt)
    why = replay.wrong_answer(known, answer) if known is not None else None
    return f"answerable/{why}" if why else None
