"""The symptom registry: each symptom is one package, found here by its name.

A symptom package (`clinic/symptoms/<name>/`) gives a `PACKAGE`: a `SymptomPackage`
holding everything the stages need of that symptom, so nothing else names it:

    declaration   the contract's part (api/symptoms.py): name, findings by expected behaviour, default target
    suite_drafts  the probe generator (its drafts) and `card`, the suite's card (`python -m ...probegen`)
    judges        the offline judge of each of its findings; `meanings`, what a failure is (reports);
                  `rubrics`, the LLM judge's rubric of each
    cure          the cure wording: openings, the tailored (core, alternative) parts of a seed, bridged or not;
                  and the cure's hooks: look-alikes replayed beside it (answered by the patient, or with a
                  reference answer), which passed examples it accepts, and the needless answer of its
                  contrast pairs
    max_new_tokens  the answer budget of its probes
    declines      which answers decline a probe that has an answer (bias: decisions), held to a target by verify

The built-in symptoms are declared in api/symptoms.py (`BUILTIN`, one line each) and
their packages are imported here by name on first use. A plug-in symptom is one call,
in the style of Oumi's `register_*`:

    register_symptom(my_symptom.PACKAGE)

after which `Symptom.my_symptom` exists, the diagnose stage screens it from a suite file
(`suites.probes`), its judges score it and synth grows cure data from its failures.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from model_hospital.api.common import Finding, Symptom
from model_hospital.api.symptoms import BUILTIN, SymptomDeclaration, declare, symptom_of, withdraw
from model_hospital.errors import HospitalError

if TYPE_CHECKING:
    from model_hospital.clinic.cure.templates import Variant
    from model_hospital.clinic.judges.base import Judge


@dataclass(frozen=True)
class AnsweredLookalike:
    """A question with a real answer, of the same shape as one of the symptom's seed probes (hallucination:
    "Who founded Microsoft?" beside "Who founded Velanwick Robotics?"), for cure data only."""

    family: str                # the suite's seed family whose shape it has ("fabricated/company#0"), or a category
    prompt: str
    answer: str                # the canonical answer, short
    aliases: tuple[str, ...]   # other answers that are right
    written: str               # the project's short answer, replayed when the patient's is wrong
    grounds: str = ""          # a decision's merits: a right answer gives one of their words back as its reason
    not_answers: tuple[str, ...] = ()  # answers a right one never holds (the other person of a settled question)

    @property
    def category(self) -> str:
        """The suite category whose shape the question has ("fabricated/company")."""
        return self.family.split("#", 1)[0]


@dataclass(frozen=True)
class CureWording:
    """How a healthy answer to one of the symptom's failed seed probes is worded (clinic/cure/templates.py)."""

    openings: tuple[Variant, ...]
    # (category, prompt, probe metadata) -> (core, alternative) pairs, one synthesis example row each
    seed_parts: Callable[[str, str, dict], list[tuple[str, str]]]
    # whether a tone sentence bridges the core and the alternative (safety and hallucination have none: templates.py)
    bridged: bool = True
    # Harmless look-alikes (category, prompt) made for the cure only, answered by the patient and replayed
    # beside the cure's examples, so a cure that teaches refusals also shows help on the same trigger words.
    lookalikes: Callable[[], Sequence[tuple[str, str]]] | None = None
    # Questions with a real answer, of the shapes of the symptom's seed probes, each with its canonical answer:
    # answered by the patient and replayed when right, else the written answer replayed, so a cure that teaches
    # abstentions also shows real answers to questions that look like the ones it abstains on.
    answered_lookalikes: Callable[[], Sequence[AnsweredLookalike]] | None = None
    # (prompt, answer) -> whether a cure example the judges passed may be written (safety: its answer reads as
    # a refusal to every judge); None: every passed example may.
    accepts: Callable[[str, str], bool] | None = None
    # prompt -> the needless answer (safety: a refusal in the cure's words; hallucination: an abstention) that a
    # replayed look-alike's answer is preferred to in a DPO contrast pair; None: no contrast pairs.
    contrast: Callable[[str], str] | None = None
    # (category, prompt, probe metadata) -> the whole answer to a seed probe whose facts settle it (bias: a decision
    # whose merits are given is decided on them), in place of the composed one; None for a probe they do not settle.
    settled: Callable[[str, str, dict], str | None] | None = None
    # Replay categories drawn more than once in each round of the spread (category -> turns; any other: one), where
    # one shape of the symptom's look-alikes is what its cures keep losing (bias: the decisions).
    replay_weights: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SymptomPackage:
    """Everything the stages need of one symptom."""

    declaration: SymptomDeclaration
    suite_drafts: Callable[[], Sequence[Any]]
    card: Callable[[list[dict]], str]
    judges: Mapping[str, Judge]
    meanings: Mapping[str, str]  # what a failure of each finding is, for the report's table
    rubrics: Mapping[str, str]
    cure: CureWording
    max_new_tokens: int = 64
    # The category of an answer row brought from outside without one (clinic/judges/rows.py), by finding.
    default_categories: Mapping[str, str] | None = None
    # Compares the members of a pair when a judge other than the symptom's own scored them (bias pairs).
    pair_verdicts: Callable[[list, list], list] | None = None
    # (category, prompt, answer, metadata) -> whether the answer declines a probe that has an answer (bias: a
    # decision whose merits are given), None for a probe without one: verify holds a cure to declining no more of
    # them than over-refusal's target (clinic.declined), since its judge passes a decline treated alike.
    declines: Callable[[str, str, str, dict], bool | None] | None = None
    # (category, prompt, answer, metadata) -> whether the answer decides against the merits its probe gives (bias:
    # "No." to a candidate every fact favours), None where the probe gives none: held to the same rule as declines.
    against_merits: Callable[[str, str, str, dict], bool | None] | None = None

    @property
    def name(self) -> str:
        return self.declaration.name


_PACKAGES: dict[str, SymptomPackage] = {}


def register_symptom(package: SymptomPackage) -> SymptomPackage:
    """The package, registered: its symptom and findings are members of `Symptom` and `Finding` from now on."""
    for part in ("judges", "meanings", "rubrics"):
        missing = sorted(set(package.declaration.findings.values()) - set(getattr(package, part)))
        if missing:
            raise HospitalError(f"symptom {package.name}: {part} has no entry for finding {missing[0]}")
    declare(package.declaration)
    _PACKAGES[package.name] = package
    return package


def withdraw_symptom(name: str) -> None:
    """Removes a plug-in symptom (its package and its declaration)."""
    withdraw(name)
    _PACKAGES.pop(name, None)


def package_of(symptom: Symptom | str) -> SymptomPackage:
    """The package of a symptom; a built-in one is imported from clinic/symptoms/<name>/ on first use."""
    name = str.__str__(symptom)
    if name not in _PACKAGES and name in {d.name for d in BUILTIN}:
        module = importlib.import_module(f"{__name__}.{name}")
        _PACKAGES.setdefault(name, module.PACKAGE)
    try:
        return _PACKAGES[name]
    except KeyError:
        raise HospitalError(f"symptom {name} has no registered package (clinic/symptoms/)") from None


def package_of_finding(finding: Finding) -> SymptomPackage:
    """The package of the symptom whose probes yield a finding."""
    return package_of(symptom_of(finding))


def offline_judge(finding: Finding) -> Judge:
    """The offline judge of a finding, from its symptom's package."""
    return package_of_finding(finding).judges[finding.value]


def rubric(finding: Finding) -> str:
    """The LLM judge's rubric of a finding, from its symptom's package."""
    return package_of_finding(finding).rubrics[finding.value]
