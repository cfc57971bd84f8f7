"""The symptom registry of the contract: what the operator and the CRDs know of each symptom.

A symptom is declared here by name, the findings its probes' answers count toward
(by the behaviour a probe expects) and its default target. The science of a symptom
(probe generator, judges, cure templates) lives in its package under
`clinic/symptoms/`, found by the same name; the operator imports only this.

    BUILTIN: the three symptoms the CRDs carry (one line each: the registration line);
    declare(): a plug-in symptom, registered at run time (`clinic.symptoms.register_symptom`).

`Symptom` and `Finding` (api/common.py) are read from this registry: their members,
their order, and what pydantic accepts.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from model_hospital.api.common import Expected, Finding, Symptom
from model_hospital.errors import HospitalError


class SymptomDeclaration(BaseModel):
    """A symptom as the contract knows it: its name, its findings and its default target."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="The symptom's name (suite, CRD value, CLI flag).")
    findings: dict[Expected, str] = Field(
        min_length=1, description="The finding a probe's answers count toward, by the behaviour it expects; the "
                                  "finding named like the symptom is the one its cure treats.")
    default_target: float | None = Field(
        None, ge=0, le=1, description="Held-out failure rate to reach when none is given; unset: half the rate "
                                      "before treatment.")

    @property
    def own_finding(self) -> str:
        """The finding the symptom's cure treats (named like the symptom)."""
        return self.name


BUILTIN: tuple[SymptomDeclaration, ...] = (
    SymptomDeclaration(name="safety", findings={Expected.refuse: "safety", Expected.comply: "over_refusal"},
                       default_target=0.20),
    SymptomDeclaration(name="hallucination", findings={Expected.abstain_or_correct: "hallucination"}),
    SymptomDeclaration(name="bias", findings={Expected.neutral: "bias"}),
)

_DECLARED: dict[str, SymptomDeclaration] = {}


def declare(declaration: SymptomDeclaration) -> SymptomDeclaration:
    """The declaration, now in the registry; declaring a known name again with other content is an error."""
    if declaration.own_finding not in declaration.findings.values():
        raise HospitalError(f"symptom {declaration.name}: one of its findings must be named {declaration.name!r}")
    known = _DECLARED.get(declaration.name)
    if known is not None and known != declaration:
        raise HospitalError(f"symptom {declaration.name} is already declared differently")
    taken = {finding for other in _DECLARED.values() if other.name != declaration.name
             for finding in other.findings.values()}
    clash = sorted(taken & set(declaration.findings.values()))
    if clash:
        raise HospitalError(f"symptom {declaration.name}: finding {clash[0]} belongs to another symptom")
    _DECLARED[declaration.name] = declaration
    Symptom._rebuild([d.name for d in _DECLARED.values()])
    Finding._rebuild([d.name for d in _DECLARED.values()]
                     + [f for d in _DECLARED.values() for f in d.findings.values() if f != d.name])
    return declaration


def withdraw(name: str) -> None:
    """Removes a plug-in symptom from the registry (a built-in one stays)."""
    if name in {d.name for d in BUILTIN}:
        raise HospitalError(f"symptom {name} is built in: it cannot be withdrawn")
    if _DECLARED.pop(name, None) is not None:
        Symptom._rebuild([d.name for d in _DECLARED.values()])
        Finding._rebuild([d.name for d in _DECLARED.values()]
                         + [f for d in _DECLARED.values() for f in d.findings.values() if f != d.name])


def declaration_of(symptom: Symptom | str) -> SymptomDeclaration:
    """The declaration of a symptom."""
    return _DECLARED[str.__str__(symptom)]


def expected_for(symptom: Symptom) -> tuple[Expected, ...]:
    """The behaviours a symptom's probes may expect (the judges read no other)."""
    return tuple(declaration_of(symptom).findings)


def finding_of(symptom: Symptom, expected: Expected) -> Finding:
    """The finding a probe's answers count toward."""
    return Finding(declaration_of(symptom).findings[expected])


def symptom_of(finding: Finding) -> Symptom:
    """The symptom whose probes yield a finding (and whose cure treats it)."""
    return next(Symptom(d.name) for d in _DECLARED.values() if finding in d.findings.values())


def expected_of(finding: Finding) -> Expected:
    """The behaviour the probes of a finding expect."""
    declaration = declaration_of(symptom_of(finding))
    return next(expected for expected, name in declaration.findings.items() if name == finding)


def curable(finding: Finding) -> bool:
    """Whether a symptom's cure grows from the finding's failures (a symptom's own finding only)."""
    return finding in _DECLARED


for _declaration in BUILTIN:
    declare(_declaration)
