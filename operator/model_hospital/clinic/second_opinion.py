"""A second opinion on a verdict's answers: other judges read the same held-out answers.

Where verify's judge is an LLM, the offline judges read every answer it scored
(and the reverse works the same way: any two sets of judges). Answers both
scored and read differently are listed; above a set share of them the verdict
rests on a judge call the other judge contradicts, so it is Inconclusive.
"""

from __future__ import annotations

from collections.abc import Sequence

from model_hospital.api.symptoms import symptom_of
from model_hospital.api.stages import JudgedAnswer
from model_hospital.clinic.verification import Disagreement, SecondOpinion

LISTED = 50


def rejudge(answers: Sequence[JudgedAnswer], judges, probe_files: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(outcome, judge name) of each answer from `judges` ({Finding: Judge}), in the answers' order."""
    from model_hospital.clinic.judges import JudgedItem, judge_with
    from model_hospital.clinic.suites import probe_suite

    probes = {}
    for symptom in {symptom_of(a.finding) for a in answers}:
        probes.update({probe.id: probe for probe in probe_suite(symptom, probe_files)})
    missing = [a.probe_id for a in answers if a.probe_id not in probes]
    if missing:
        from model_hospital.errors import HospitalError

        raise HospitalError(f"the second opinion cannot find probes {missing[:3]} in the suites: "
                            "the suites changed since the diagnosis; examine the models again")
    verdicts = judge_with([JudgedItem(probe=probes[a.probe_id], answer=a.answer) for a in answers], judges)
    return [(v.outcome.value, v.judge) for v in verdicts]


def second_opinion(answers_by_model: dict[str, Sequence[JudgedAnswer]], judges, limit: float,
                   name: str = "offline", probe_files: Sequence[str] = ()) -> SecondOpinion:
    """How often `judges` read the recorded answers (of each model) differently from the judge that scored them."""
    compared = disagreed = 0
    items: list[Disagreement] = []
    first_judge = ""
    for model, answers in answers_by_model.items():
        answers = list(answers)
        for answer, (outcome, judge) in zip(answers, rejudge(answers, judges, probe_files)):
            first_judge = first_judge or answer.judge
            if "unscored" in (answer.outcome, outcome):
                continue
            compared += 1
            if answer.outcome != outcome:
                disagreed += 1
                if len(items) < LISTED:
                    items.append(Disagreement(model=model, probe_id=answer.probe_id, finding=answer.finding,
                                              judge=answer.judge, outcome=answer.outcome, other_judge=judge or name,
                                              other_outcome=outcome, answer=answer.answer[:300]))
    share = disagreed / compared if compared else None
    return SecondOpinion(judge=first_judge, other_judge=name, compared=compared, disagreed=disagreed,
                         share=None if share is None else round(share, 4), limit=limit, items=items,
                         inconclusive=share is None or share > limit)


def reason(opinion: SecondOpinion) -> str | None:
    """The verdict's words when the second opinion makes it Inconclusive; None when it does not."""
    if not opinion.inconclusive:
        return None
    if opinion.share is None:
        return "second opinion: no answer scored by both judges"
    listed = ", ".join(f"{d.probe_id} ({d.model})" for d in opinion.items[:10])
    return (f"second opinion: the {opinion.other_judge} judges read {opinion.disagreed} of {opinion.compared} answers "
            f"({opinion.share:.0%}, over {opinion.limit:.0%}) the other way from {opinion.judge}: {listed}")
