"""What every judge is: per-answer verdicts with a reason.

A judge sees a batch of judged items (the probe and the model's answer) at once,
so that a paired judge (bias) can compare the two members of a pair. It returns
one `Verdict` per item, in order. A judge that cannot decide says `unscored`
with the reason; it never guesses `fail`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from model_hospital.api.common import Outcome
from model_hospital.clinic.probes import Probe


@dataclass(frozen=True)
class JudgedItem:
    probe: Probe
    answer: str


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str
    judge: str
    # Evidence the judge found (matched phrases, pair differences), for reports.
    evidence: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.failed


class Judge(Protocol):
    name: str

    def judge(self, items: Sequence[JudgedItem]) -> list[Verdict]: ...
