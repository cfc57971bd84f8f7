"""Judges: which judge scores a probe, and scoring a batch of answers with the right judges.

A probe's symptom and expected behaviour give its finding (api/symptoms.py), and the
finding's judge comes from its symptom's package (clinic/symptoms/):

    safety        + expected refuse  -> safety judge
    safety        + expected comply  -> over-refusal judge
    hallucination                     -> hallucination judge
    bias                              -> bias judge (pairs compared)

The offline judges here are pure Python. `evaluate_with_oumi` (in
`clinic.judges.oumi_tasks`) runs the same judges as functions registered with
Oumi's `@register_evaluation_function`; the LLM judge lives in `clinic.judges.llm`.
Neither is imported here, so importing the judges does not load torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from model_hospital.api.common import Finding
from model_hospital.api.symptoms import expected_for, finding_of
from model_hospital.clinic.judges.base import Judge, JudgedItem, Verdict
from model_hospital.clinic.judges.bias import BiasJudge
from model_hospital.clinic.judges.hallucination import HallucinationJudge
from model_hospital.clinic.judges.over_refusal import OverRefusalJudge
from model_hospital.clinic.judges.safety import SafetyJudge
from model_hospital.clinic.judges.degenerate import degenerate_kind
from model_hospital.clinic.probes import Probe
from model_hospital.errors import HospitalError

__all__ = [
    "Judge", "JudgedItem", "Verdict", "OFFLINE_JUDGES", "finding_for", "judge_for", "judge_all", "judge_with",
    "evaluate_with_oumi", "degenerate_of",
    "SafetyJudge", "OverRefusalJudge", "HallucinationJudge", "BiasJudge",
]


class _OfflineJudges(dict):
    """The offline judge of each finding, from its symptom's package; an entry set here overrides it."""

    def __missing__(self, finding: Finding) -> Judge:
        from model_hospital.clinic.symptoms import offline_judge

        return offline_judge(Finding(finding))


OFFLINE_JUDGES: dict[Finding, Judge] = _OfflineJudges()


def finding_for(probe: Probe) -> Finding:
    """The finding a probe's answer counts toward (over-refusal for benign safety look-alikes)."""
    if probe.expected not in expected_for(probe.symptom):
        allowed = " or ".join(repr(e.value) for e in expected_for(probe.symptom))
        raise HospitalError(
            f"probe {probe.id}: a {probe.symptom.value} probe expects {allowed}, not {probe.expected.value!r}"
        )
    return finding_of(probe.symptom, probe.expected)


def judge_for(probe: Probe) -> Judge:
    """The offline judge that scores a probe's answers."""
    return OFFLINE_JUDGES[finding_for(probe)]


def judge_all(items: Sequence[JudgedItem], settings: Any = None) -> list[Verdict]:
    """One verdict per item, in the items' order, each from its finding's judge.

    Items are grouped by finding so that a judge sees its whole batch at once
    (the bias judge compares pair members). `settings` is an
    `api.stages.JudgeSettings`; backend "llm" scores with the LLM judge through
    an Oumi engine, the default "offline" with the deterministic judges.
    """
    judges: dict[Finding, Judge] = {finding: OFFLINE_JUDGES[finding] for finding in Finding}
    if settings is not None and getattr(settings, "backend", "offline") == "llm":
        from model_hospital.clinic.judges.llm import llm_judges

        judges.update(llm_judges(settings))  # a guard model scores safety alone: the rest stay offline
    return judge_with(items, judges)


def judge_with(items: Sequence[JudgedItem], judges: dict[Finding, Judge]) -> list[Verdict]:
    """One verdict per item from the given judge per finding; bias pairs are always compared."""
    from model_hospital.clinic.symptoms import package_of_finding

    groups: dict[Finding, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(finding_for(item.probe), []).append(index)
    verdicts: list[Verdict | None] = [None] * len(items)
    for finding, indices in groups.items():
        batch = [items[i] for i in indices]
        judged = judges[finding].judge(batch)
        if len(judged) != len(batch):
            raise RuntimeError(
                f"the {finding.value} judge returned {len(judged)} verdicts for {len(batch)} answers"
            )
        package = package_of_finding(finding)
        if package.pair_verdicts is not None and not isinstance(judges[finding], type(package.judges[finding.value])):
            judged = package.pair_verdicts(batch, judged)  # another judge read the answers one by one
        for index, verdict in zip(indices, judged):
            verdicts[index] = verdict
    return [v for v in verdicts if v is not None]


def evaluate_with_oumi(items: Sequence[JudgedItem], settings: Any = None, *, output_dir: str = "") -> list[Verdict]:
    """One verdict per item from the judges registered with Oumi, run by `Evaluator.evaluate` (imports Oumi)."""
    from model_hospital.clinic.judges.oumi_tasks import evaluate_with_oumi as run

    return run(items, settings, output_dir=output_dir)


def degenerate_of(verdict: Verdict, answer: str, prompt: str) -> str | None:
    """Why an answer is degenerate, as every report counts it: its shape (empty, garbled, an echo, a loop:
    `degenerate.degenerate_kind`), else what its judge found degenerate in it (a bias completion that only restates
    its prompt); None for a real answer."""
    return degenerate_kind(answer, prompt) or (verdict.evidence or {}).get("degenerate")
