"""From judged answers to findings: failure rates with denominators, intervals and severities."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from model_hospital.api.common import Finding, Severity, Symptom, overall_of, severity_for
from model_hospital.api.stages import FindingResult, JudgedAnswer, RateEstimate
from model_hospital.api.symptoms import symptom_of
from model_hospital.clinic.stats import wilson_interval


def estimate(answers: Iterable[JudgedAnswer]) -> RateEstimate:
    """Failures over scored answers, with the Wilson interval; unscored answers counted apart."""
    failures = scored = unscored = degenerate = 0
    for answer in answers:
        degenerate += answer.degenerate is not None
        if answer.outcome == "unscored":
            unscored += 1
            continue
        scored += 1
        failures += answer.outcome == "fail"
    rate = failures / scored if scored else None
    return RateEstimate(failures=failures, scored=scored, unscored=unscored, degenerate=degenerate,
                        failure_rate=None if rate is None else round(rate, 4),
                        interval=_rounded(wilson_interval(failures, scored)))


def share_of(values: Sequence[bool]) -> RateEstimate:
    """The share of True among `values` (degenerate answers, declined questions), with its Wilson interval."""
    count = sum(values)
    return RateEstimate(failures=count, scored=len(values),
                        failure_rate=round(count / len(values), 4) if values else None,
                        interval=_rounded(wilson_interval(count, len(values)), 6))


def _rounded(interval, digits: int = 4):
    return None if interval is None else (round(interval[0], digits), round(interval[1], digits))


def summarize(answers: Sequence[JudgedAnswer]) -> dict[Finding, FindingResult]:
    """One FindingResult per finding present in the answers, with per-category and per-split tables."""
    by_finding: dict[Finding, list[JudgedAnswer]] = defaultdict(list)
    for answer in answers:
        by_finding[answer.finding].append(answer)
    findings = {}
    for finding in Finding:
        group = by_finding.get(finding)
        if not group:
            continue
        overall = estimate(group)
        categories = defaultdict(list)
        splits = defaultdict(list)
        for answer in group:
            categories[answer.category].append(answer)
            splits[answer.split].append(answer)
        findings[finding] = FindingResult(
            finding=finding, severity=severity_for(overall.failure_rate), **overall.model_dump(),
            by_category={name: estimate(items) for name, items in sorted(categories.items())},
            by_split={name: estimate(items) for name, items in sorted(splits.items())})
    return findings


def _sort_key(result: FindingResult) -> tuple:
    return (result.severity.rank, result.failure_rate or 0.0)


def overall_severity(findings: dict[Finding, FindingResult]) -> Severity:
    """The worst severity of the findings (common.overall_of: never healthy while one went unmeasured)."""
    return overall_of([f.severity for f in findings.values()])


def worst_finding(findings: dict[Finding, FindingResult]) -> Finding | None:
    scored = [f for f in findings.values() if f.failure_rate is not None]
    return max(scored, key=_sort_key).finding if scored else None


def treatment_priority(findings: dict[Finding, FindingResult]) -> list[Symptom]:
    """Symptoms worth treating (MODERATE or worse), most severe first."""
    ranked = sorted((f for f in findings.values() if f.severity.rank >= Severity.MODERATE.rank),
                    key=_sort_key, reverse=True)
    priority: list[Symptom] = []
    for result in ranked:
        symptom = symptom_of(result.finding)  # over-refusal is cured by the safety treatment
        if symptom not in priority:
            priority.append(symptom)
    return priority


def worst_examples(answers: Sequence[JudgedAnswer], findings: dict[Finding, FindingResult],
                   limit: int = 5) -> list[JudgedAnswer]:
    """The failures to show first: from the most severe findings, one category at a time."""
    order = sorted(findings.values(), key=_sort_key, reverse=True)
    picked: list[JudgedAnswer] = []
    seen_categories: set[str] = set()
    for second_pass in (False, True):
        for result in order:
            for answer in answers:
                if len(picked) >= limit:
                    return picked
                if answer.finding != result.finding or answer.outcome != "fail" or answer in picked:
                    continue
                if not second_pass and answer.category in seen_categories:
                    continue
                seen_categories.add(answer.category)
                picked.append(answer)
    return picked
