"""A diagnosis built from the real probe suites with made-up answers, for the cure and recipe tests."""

from __future__ import annotations

from pathlib import Path

from model_hospital.api.common import Finding, Severity, Symptom
from model_hospital.api.stages import Diagnosis, FindingResult, GenerationSettings, JudgedAnswer, ModelInfo
from model_hospital.clinic.judges import finding_for
from model_hospital.clinic.probes import load_suite

# Answers a sick model gives: compliance with harm, invention, a stereotype, a refusal of a benign request.
SICK = {
    Finding.safety: "Sure, here's how. Step 1: get the tools. Step 2: do it without them knowing.",
    Finding.hallucination: "They were born in 1843 and are best known for writing three famous books.",
    Finding.bias: "The first one, obviously: people like that are better at it.",
    Finding.over_refusal: "I'm sorry, but I can't help with that request.",
}
HEALTHY_BENIGN = ("Sure. Open a terminal, find the process id with ps or top, and stop it with kill followed by "
                  "the id; use kill -9 only if it does not respond.")


def make_diagnosis(symptoms=(Symptom.safety, Symptom.hallucination), per_category: int = 2,
                   reference: str = "bundled:tiny-random-llama", severity: Severity = Severity.CRITICAL,
                   benign_fail_every: int = 3) -> Diagnosis:
    """A diagnosis of `reference`: every harmful probe of `per_category` per category failed, on both splits."""
    answers: list[JudgedAnswer] = []
    for symptom in symptoms:
        seen: dict[tuple[str, str], int] = {}
        for probe in load_suite(symptom):
            key = (probe.category, probe.split)
            if seen.get(key, 0) >= per_category:
                continue
            seen[key] = seen.get(key, 0) + 1
            finding = finding_for(probe)
            if finding is Finding.over_refusal:
                failed = len(answers) % benign_fail_every == 0
                answer, outcome = (SICK[finding], "fail") if failed else (HEALTHY_BENIGN, "pass")
            else:
                answer, outcome = SICK[finding], "fail"
            answers.append(JudgedAnswer(
                probe_id=probe.id, finding=finding, category=probe.category, split=probe.split,
                expected=probe.expected.value, prompt=probe.prompt, answer=answer, outcome=outcome,
                reason="made up for a test", judge="test", pair_id=probe.metadata.pair_id,
                attribute=probe.metadata.attribute))
    findings = {}
    for finding in {a.finding for a in answers}:
        mine = [a for a in answers if a.finding is finding]
        failures = sum(a.outcome == "fail" for a in mine)
        findings[finding] = FindingResult(finding=finding, severity=severity, failures=failures, scored=len(mine),
                                          failure_rate=failures / len(mine))
    return Diagnosis(
        model=ModelInfo(reference=reference, kind="bundled", path="/nowhere"), symptoms=list(symptoms),
        splits=["seed", "heldout"], budget=None, generation=GenerationSettings(max_new_tokens=16),
        judge="offline", findings=findings, overall_severity=severity,
        worst_finding=max(findings, key=lambda f: findings[f].failure_rate),
        treatment_priority=list(symptoms), answers=answers,
        started_at="2026-01-01T00:00:00Z", finished_at="2026-01-01T00:01:00Z", seconds=60.0)


def write_diagnosis(diagnosis: Diagnosis, folder: Path) -> Path:
    path = folder / "diagnosis.json"
    path.write_text(diagnosis.model_dump_json(by_alias=True, indent=1), encoding="utf-8")
    return path


def composed_cure_refusals():
    """(seed, answer): every refusal the safety cure composes, for each harmful seed, each of its reasons and
    each opening, the tones taken in turn: what a treated model may say to any request."""
    from model_hospital.api.common import Expected
    from model_hospital.clinic.cure.templates import OPENINGS, TONES, compose, seed_parts

    composed = 0
    for seed in load_suite(Symptom.safety):
        if seed.expected is not Expected.refuse:
            continue
        for core, alternative in seed_parts(Symptom.safety, seed.category, seed.prompt, seed.metadata.model_dump()):
            for opening in OPENINGS[Symptom.safety]:
                yield seed, compose(Symptom.safety, opening.text, core, TONES[composed % len(TONES)].text,
                                    alternative)
                composed += 1


def composed_cure_abstentions():
    """(seed, answer): every abstention the hallucination cure composes, for each seed it could cure, each core
    and each opening, the tones taken in turn: what a treated model may say to any question."""
    from model_hospital.clinic.cure.templates import OPENINGS, TONES, compose, seed_parts

    composed = 0
    for seed in load_suite(Symptom.hallucination):
        for core, alternative in seed_parts(Symptom.hallucination, seed.category, seed.prompt,
                                            seed.metadata.model_dump()):
            for opening in OPENINGS[Symptom.hallucination]:
                composed += 1
                yield seed, compose(Symptom.hallucination, opening.text, core, TONES[composed % len(TONES)].text,
                                    alternative)
