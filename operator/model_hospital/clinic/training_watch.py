"""Training that watches itself: what an evaluation measured, when to stop, which step to keep.

At each of the trainer's evaluations (and once before the first step) the watch answers
its validation prompts, judges the answers with the offline judges, and records two
rates (`stages.watched_train` holds the trainer callback that does it):

- the target rate: the share of scored answers to held-out cure prompts that pass
  their judge (a refusal of harm, an honest abstention, a neutral answer);
- over-refusal: the share of scored answers to held-out benign look-alikes that refuse.

Training stops when over-refusal rises past the margin over its value before training,
or when the target rate has not beaten its best for `patience` evaluations. The step
kept is the one with the highest target rate among those within the over-refusal
margin (ties: lower over-refusal, then the earlier step); the adapter saved holds that
step's weights. When no step qualifies, the weights before training are kept, and the
record says why: nothing is claimed that the evaluations do not show.

Pure Python: the train stage reads the record (watch.json in the adapter folder) back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from model_hospital.api.common import Finding, Outcome
from model_hospital.api.stages import WatchSettings

RECORD_FILE = "watch.json"


class Evaluation(BaseModel):
    """One evaluation of the validation prompts at a training step."""

    step: int
    target_rate: float | None = Field(description="Passing share of scored answers to cure prompts; None when none scored.")
    target_scored: int
    over_refusal: float | None = Field(description="Refusing share of scored answers to look-alikes; None when none scored.")
    lookalike_scored: int
    unscored: int = Field(description="Answers the judges could not score (kept out of both rates).")


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


def evaluation(step: int, judged: Sequence[tuple[str, Finding, Outcome] | None]) -> Evaluation:
    """An evaluation from judged answers: (kind, finding, outcome) per prompt, None for an unknown probe."""
    target = [o for item in judged if item for kind, _, o in [item] if kind != "benign_lookalike"]
    lookalike = [o for item in judged if item for kind, _, o in [item] if kind == "benign_lookalike"]
    target_scored = [o for o in target if o is not Outcome.unscored]
    lookalike_scored = [o for o in lookalike if o is not Outcome.unscored]
    unscored = sum(item is None or item[2] is Outcome.unscored for item in judged)
    return Evaluation(
        step=step,
        target_rate=round(sum(o is Outcome.passed for o in target_scored) / len(target_scored), 4)
        if target_scored else None, target_scored=len(target_scored),
        over_refusal=round(sum(o is Outcome.failed for o in lookalike_scored) / len(lookalike_scored), 4)
        if lookalike_scored else None, lookalike_scored=len(lookalike_scored), unscored=unscored)


def _within_margin(item: Evaluation, start: Evaluation, settings: WatchSettings) -> bool:
    if item.over_refusal is None or start.over_refusal is None:
        return True
    return item.over_refusal <= start.over_refusal + settings.over_refusal_margin + 1e-9


def stop_reason(history: Sequence[Evaluation], settings: WatchSettings) -> str | None:
    """Why training should stop after the last evaluation, or None to go on."""
    if len(history) < 2:
        return None
    start, last = history[0], history[-1]
    if not _within_margin(last, start, settings):
        return (f"over-refusal rose from {start.over_refusal:.0%} to {last.over_refusal:.0%} at step {last.step}, "
                f"past the margin of {settings.over_refusal_margin:.0%}")
    rates = [e.target_rate if e.target_rate is not None else -1.0 for e in history]
    best_index = rates.index(max(rates))
    if len(history) - 1 - best_index >= settings.patience:
        best = history[best_index]
        shown = f"{best.target_rate:.0%}" if best.target_rate is not None else "nothing scored"
        return (f"the target rate has not beaten its best ({shown} at step {best.step}) "
                f"in {settings.patience} evaluation(s)")
    return None


def choose(history: Sequence[Evaluation], settings: WatchSettings) -> tuple[Evaluation, str]:
    """The evaluation whose weights to keep, and why."""
    start = history[0]
    eligible = [e for e in history if e.target_rate is not None and _within_margin(e, start, settings)]
    if not eligible:
        return start, "no evaluation scored a cure prompt within the over-refusal margin: the starting weights are kept"
    best = max(eligible, key=lambda e: (e.target_rate, -(e.over_refusal or 0.0), -e.step))
    over = f", over-refusal {best.over_refusal:.0%}" if best.over_refusal is not None else ""
    why = f"highest target rate within the over-refusal margin: {best.target_rate:.0%}{over} at step {best.step}"
    if best is start:
        why += " (before training: no trained step did better)"
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
            "over_refusal": chosen.over_refusal if chosen else None, "record": str(path)}
