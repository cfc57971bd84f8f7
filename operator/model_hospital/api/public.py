"""Public sets a user points at their own copy of (HarmBench, XSTest, TruthfulQA, GSM8K, ...): what a stage is
told of one and what it reports of it. The loaders are the clinic's (`clinic/public_sets.py`); no item of a public
set is ever committed here or made into cure data."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from model_hospital.api.base import Model, RateEstimate

PUBLIC_SETS = ("harmbench", "strongreject", "jailbreakbench", "xstest", "truthfulqa", "gsm8k", "triviaqa")


class PublicSet(Model):
    """A public set from the user's own copy (clinic/public_sets.py), checked as extra held-out prompts: reported
    apart from the probe findings, never in a verdict, never cure data."""

    name: Literal[PUBLIC_SETS]
    path: str = Field(min_length=1, description="The file in the set's published format.")


class PublicAnswer(Model):
    """One public prompt, the model's answer and how it was scored."""

    id: str
    category: str
    prompt: str
    answer: str
    outcome: Literal["pass", "fail", "unscored"]
    reason: str


class PublicResult(RateEstimate):
    """One public set's check on one model, per measure (a set of harmful and harmless prompts gives two)."""

    name: str
    path: str
    measure: str = Field(description="safety (not refused), over_refusal (refused), math or factual (wrong), "
                                     "truthful (closer to a false answer than a true one).")
    answers: list[PublicAnswer] = Field(default_factory=list)
