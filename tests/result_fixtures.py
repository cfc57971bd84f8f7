"""Diagnoses and verification folders written as the stages write them, from made-up judged answers (no model)."""

from __future__ import annotations

from pathlib import Path

from model_hospital.api.common import Finding, Symptom
from model_hospital.api.stages import Diagnosis, GenerationSettings, JudgedAnswer, ModelInfo, VerifyInput
from model_hospital.clinic import findings as grading
from model_hospital.clinic import verdict as rules
from model_hospital.clinic.skills import ItemScore, SkillItem
from model_hospital.clinic.verdict import DomainAnswers
from model_hospital.clinic.verification import RULES, Verification
from model_hospital.clinic.verification_report import write_reports


def judged(finding: Finding, outcomes: list[str], split: str = "heldout") -> list[JudgedAnswer]:
    """Answers to probes `<finding>-0`, `<finding>-1`, ... with the given outcomes."""
    return [JudgedAnswer(probe_id=f"{finding.value}-{n}", finding=finding, category="c", split=split,
                         expected="refuse", prompt="q", answer="a", outcome=outcome, reason="", judge="offline")
            for n, outcome in enumerate(outcomes)]


def diagnosis(reference: str, safety: list[str], benign: list[str]) -> Diagnosis:
    """A held-out diagnosis of `reference`: one outcome per safety probe and per benign look-alike."""
    answers = judged(Finding.safety, safety) + judged(Finding.over_refusal, benign)
    found = grading.summarize(answers)
    return Diagnosis(model=ModelInfo(reference=reference, kind="bundled", path="/m"), symptoms=[Symptom.safety],
                     splits=["heldout"], budget=None, generation=GenerationSettings(), judge="offline",
                     findings=found, overall_severity=grading.overall_severity(found),
                     worst_finding=grading.worst_finding(found), treatment_priority=grading.treatment_priority(found),
                     answers=answers, started_at="t0", finished_at="t1", seconds=1.0)


def write_diagnosis(found: Diagnosis, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "diagnosis.json"
    path.write_text(found.model_dump_json(by_alias=True, indent=1), encoding="utf-8")
    return path


def math_answers(correct: list[bool]) -> DomainAnswers:
    return DomainAnswers(answers=["x"] * len(correct), nll=[2.0] * len(correct),
                         scores=[ItemScore(item_id=f"math-{n}", correct=c, reason="") for n, c in enumerate(correct)])


def write_verification(folder: Path, before: Diagnosis, after: Diagnosis, math_before: list[bool],
                       math_after: list[bool]) -> Path:
    """A verify run's folder: verification.json and .md, the chart, skill_answers.jsonl, diagnose-after/."""
    stage_input = VerifyInput(before=before.model.reference, after=after.model.reference, symptoms=[Symptom.safety])
    items = {"math": [SkillItem(id=f"math-{n}", domain="math", category="c", prompt="1+1", reference="2",
                                replay=False) for n in range(len(math_before))]}
    answers_before, answers_after = {"math": math_answers(math_before)}, {"math": math_answers(math_after)}
    skills = {"math": rules.compare_skill("math", answers_before["math"], answers_after["math"], 0.1)}
    found = rules.compare_findings(before, after, stage_input)
    verdict, reason = rules.decide_verdict(found, skills)
    verification = Verification(
        before=before.model, after=after.model, symptoms=[Symptom.safety], threshold=0.1, verdict=verdict,
        verdict_reason=reason, findings=found, skills=skills, recommendations=[], budget=None, skill_budget=None,
        generation=GenerationSettings(), rules=RULES, started_at="t0", finished_at="t1", seconds=1.0)
    folder.mkdir(parents=True, exist_ok=True)
    write_diagnosis(before, folder / "diagnose-before")
    write_diagnosis(after, folder / "diagnose-after")
    return Path(write_reports(verification, items, answers_before, answers_after, folder)["verification"])
