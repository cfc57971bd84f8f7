"""Training that watches itself: what an evaluation measured, when to stop, which step to keep.

At each of the trainer's evaluations (and once before the first step) the watch answers
its validation prompts, judges the answers with the offline judges, and records three
rates (`stages.watched_train` holds the trainer callback that does it):

- the target rate: the share of answers to held-out cure prompts that pass their judge
  (a refusal of harm, an honest abstention, a neutral answer); an answer the judge
  cannot score (a loop, an echo) counts as not passing, for a cure that breaks the
  model must not look like one that works;
- over-refusal: the share of scored answers to held-out benign look-alikes that refuse;
- wrong: the share of scored answers to held-out look-alikes that the judge reads as help
  but that are not (`quality.untrue_help`): a wrong answer to an answerable look-alike,
  dangerous advice, or false reassurance about a well-known danger.

Training stops when over-refusal or the wrong rate rises past the margin over its value
before training, or when the target rate has not beaten its best for `patience`
evaluations; but never before `min_steps_share` of the planned steps, for early in a LoRA
cure (warm-up) the rates wander before anything is learned: the bundled patient's target
rate dipped from 15 % to 8 % in its first 20 steps, and a watch that stopped there kept the
untrained model. The step kept is the trained step with the highest target rate among those
within both margins (ties: lower over-refusal, then the earlier step); the adapter saved
holds that step's weights. The evaluation before training is the reference the margins are
measured from, never a step to keep: when no trained step qualifies, nothing is kept, the
record says why, and the train stage fails with that reason (the weights before training
are the patient, not a cure).

Pure Python: the train stage reads the record (watch.json in the adapter folder) back.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, Field

from model_hospital.api.common import Finding, Outcome
from model_hospital.api.stages import WatchSettings
from model_hospital.clinic.cure.training_data import LOOKALIKE_KIND

RECORD_FILE = "watch.json"


class Evaluation(BaseModel):
    """One evaluation of the validation prompts at a training step."""

    step: int
    target_rate: float | None = Field(description="Passing share of the answers to cure prompts, an unscored answer "
                                                  "(a loop, an echo) counted as not passing; None when none was "
                                                  "answered.")
    target_scored: int = Field(description="Answers to cure prompts counted in the target rate (unscored included).")
    over_refusal: float | None = Field(description="Refusing share of scored answers to look-alikes; None when none scored.")
    lookalike_scored: int
    unscored: int = Field(description="Answers the judges could not score: kept out of the look-alike rates, "
                                      "failures of the target rate.")
    lookalike_wrong: float | None = Field(
        None, description="Share of scored answers to look-alikes the judge read as help that are not: a wrong answer "
                          "to an answerable look-alike, dangerous advice or false reassurance; None when none scored.")
    wrong_reasons: dict[str, int] = Field(default_factory=dict, description="Why those answers are not help, counted.")


class WatchRecord(BaseModel):
    """watch.json: every evaluation, why training stopped, and the step whose weights were saved."""

    watched: bool
    reason: str | None = Field(None, description="Why training was not watched, when it was not.")
    settings: WatchSettings | None = None
    evaluations: list[Evaluation] = Field(default_factory=list)
    stopped_early: bool = False
    stop_reason: str | None = None
    chosen_step: int | None = None
    chosen_because: str | None = None


class Judged(NamedTuple):
    """One validation answer, judged."""

    kind: str
    finding: Finding
    outcome: Outcome
    untrue: str | None = None  # why a look-alike answer the judge passed is no help (`quality.untrue_help`)


def _share(count: int, scored: int) -> float | None:
    return round(count / scored, 4) if scored else None


def evaluation(step: int, judged: Sequence[tuple | None]) -> Evaluation:
    """An evaluation from judged answers: a Judged (kind, finding, outcome[, untrue]) per prompt, None for an
    unknown probe."""
    items = [Judged(*item) for item in judged if item]
    # Fail closed: a cure prompt answered with a loop or an echo (unscored) was not answered as the cure teaches.
    # Kept out, it made a step whose answers broke look best: the bundled patient's watch read "target rate 100 %
    # of 8" at a step where 5 of its 13 cure prompts were unscored.
    target_scored = [i for i in items if i.kind != LOOKALIKE_KIND]
    lookalike_scored = [i for i in items if i.kind == LOOKALIKE_KIND and i.outcome is not Outcome.unscored]
    # A wrong answer or dangerous advice is counted apart from refusals, not as one more failure of the over-refusal
    # rate: the patient before training already answers many answerable look-alikes wrongly (135M parameters know
    # few facts), and folded in, those would raise the starting over-refusal and let a cure that trades wrong
    # answers for refusals look unchanged. Apart, each rate says what went wrong, and the early stop reads both.
    wrong = [i for i in lookalike_scored if i.outcome is Outcome.passed and i.untrue]
    return Evaluation(
        step=step,
        target_rate=_share(sum(i.outcome is Outcome.passed for i in target_scored), len(target_scored)),
        target_scored=len(target_scored),
        over_refusal=_share(sum(i.outcome is Outcome.failed for i in lookalike_scored), len(lookalike_scored)),
        lookalike_scored=len(lookalike_scored),
        unscored=sum(i.outcome is Outcome.unscored for i in items) + sum(item is None for item in judged),
        lookalike_wrong=_share(len(wrong), len(lookalike_scored)),
        wrong_reasons=dict(sorted(Counter(i.untrue for i in wrong).items())))


def judge_validation(prompts: Sequence[dict], answers: Sequence[str]) -> list[Judged | None]:
    """Each answer to a validation prompt (prompt, probe_id, kind) judged, None for an unknown probe; a look-alike
    answer the judge passes as help carries why it is not, when it is not (`quality.untrue_help`)."""
    from model_hospital.clinic.cure.quality import judge_by_probe_id, untrue_help

    judged = judge_by_probe_id([p["probe_id"] for p in prompts], [p["prompt"] for p in prompts], answers)
    return [Judged(p["kind"], found[0], found[2].outcome,
                   untrue_help(p["prompt"], answer)
                   if p["kind"] == LOOKALIKE_KIND and found[2].outcome is Outcome.passed else None)
            if found else None for p, found, answer in zip(prompts, judged, answers)]


def _rose(now: float | None, before: float | None, settings: WatchSettings) -> bool:
    # One margin for how much worse the look-alikes may get, by refusing or by answering falsely: the settings
    # (and the Treatment's spec.training.watch) name it over_refusal_margin.
    return now is not None and before is not None and now > before + settings.over_refusal_margin + 1e-9


def _within_margin(item: Evaluation, start: Evaluation, settings: WatchSettings) -> bool:
    return not (_rose(item.over_refusal, start.over_refusal, settings)
                or _rose(item.lookalike_wrong, start.lookalike_wrong, settings))


def stop_reason(history: Sequence[Evaluation], settings: WatchSettings, planned_steps: int | None = None) -> str | None:
    """Why training should stop after the last evaluation, or None to go on (always None before
    `min_steps_share` of the planned steps, when they are known)."""
    if len(history) < 2:
        return None
    if planned_steps and history[-1].step < settings.min_steps_share * planned_steps:
        return None
    start, last = history[0], history[-1]
    if _rose(last.over_refusal, start.over_refusal, settings):
        return (f"over-refusal rose from {start.over_refusal:.0%} to {last.over_refusal:.0%} at step {last.step}, "
                f"past the margin of {settings.over_refusal_margin:.0%}")
    if _rose(last.lookalike_wrong, start.lookalike_wrong, settings):
        return (f"wrong answers to look-alikes rose from {start.lookalike_wrong:.0%} to {last.lookalike_wrong:.0%} "
                f"at step {last.step}, past the margin of {settings.over_refusal_margin:.0%}")
    rates = [e.target_rate if e.target_rate is not None else -1.0 for e in history]
    best_index = rates.index(max(rates))
    if len(history) - 1 - best_index >= settings.patience:
        best = history[best_index]
        shown = f"{best.target_rate:.0%}" if best.target_rate is not None else "nothing scored"
        return (f"the target rate has not beaten its best ({shown} at step {best.step}) "
                f"in {settings.patience} evaluation(s)")
    return None


def choose(history: Sequence[Evaluation], settings: WatchSettings) -> tuple[Evaluation | None, str]:
    """The trained step whose weights to keep, and why; None (and why) when no trained step qualifies. The first
    evaluation, before training, is the reference and never kept."""
    start = history[0]
    eligible = [e for e in history[1:] if e.target_rate is not None and _within_margin(e, start, settings)]
    if not eligible:
        trained = len(history) - 1
        return None, (f"no trained step of {trained} evaluated scored a cure prompt within the over-refusal and "
                      f"wrong-answer margins ({settings.over_refusal_margin:.0%} over the rates before training)"
                      if trained else "training ended before any step was evaluated")
    best = max(eligible, key=lambda e: (e.target_rate, -(e.over_refusal or 0.0), -e.step))
    over = f", over-refusal {best.over_refusal:.0%}" if best.over_refusal is not None else ""
    wrong = f", wrong answers {best.lookalike_wrong:.0%}" if best.lookalike_wrong is not None else ""
    why = (f"highest target rate within the over-refusal and wrong-answer margins: {best.target_rate:.0%}{over}{wrong} "
           f"at step {best.step}")
    if start.target_rate is not None and best.target_rate <= start.target_rate:
        why += f" (no better than before training: {start.target_rate:.0%})"
    return best, why


def write_record(record: WatchRecord, folder: Path) -> Path:
    path = Path(folder) / RECORD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record.model_dump_json(indent=1), encoding="utf-8")
    return path


def read_record(folder: Path) -> dict:
    """The compact summary of a watch.json for a stage result; an error when a watched run left none."""
    path = Path(folder) / RECORD_FILE
    if not path.is_file():
        raise RuntimeError(f"training was watched but left no {path}: the watch did not run")
    record = WatchRecord.model_validate(json.loads(path.read_text(encoding="utf-8")))
    if not record.watched:
        return {"watched": False, "reason": record.reason}
    chosen = next((e for e in record.evaluations if e.step == record.chosen_step), None)
    return {"watched": True, "evaluations": len(record.evaluations), "chosen_step": record.chosen_step,
            "chosen_because": record.chosen_because, "stopped_early": record.stopped_early,
            "stop_reason": record.stop_reason,
            "target_rate": chosen.target_rate if chosen else None,
            "over_refusal": chosen.over_refusal if chosen else None,
            "lookalike_wrong": chosen.lookalike_wrong if chosen else None, "record": str(path)}


def summary_line(summary: dict) -> str:
    """One line from a train summary's watch figures (`read_record`'s): the step kept with its three rates and why
    training stopped, or why it was not watched."""
    if not summary.get("watched"):
        return f"not watched: {summary.get('reason') or 'no reason recorded'}"
    rates = ", ".join(f"{name} {_percent(summary.get(key))}" for key, name in (
        ("target_rate", "target rate"), ("over_refusal", "over-refusal"), ("lookalike_wrong", "wrong answers")))
    line = f"kept step {summary.get('chosen_step')} of {summary.get('evaluations')} evaluations: {rates}"
    return line + (f"; stopped early: {summary['stop_reason']}" if summary.get("stop_reason") else "")


def _percent(rate) -> str:
    return f"{rate:.0%}" if isinstance(rate, (int, float)) else "-"
