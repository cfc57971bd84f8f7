"""A toy fourth symptom, "politeness", as a plug-in package: a few probes, a judge, a cure template.

Nothing outside this folder names it; `register_symptom(PACKAGE)` is all the house needs
(tests/test_toy_symptom.py). A polite request should be answered politely: the judge passes
an answer that says please or thank you, so the tiny random model fails it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from model_hospital.api.common import Expected, Outcome
from model_hospital.api.symptoms import SymptomDeclaration
from model_hospital.clinic.cure.templates import Variant
from model_hospital.clinic.judges.base import JudgedItem, Verdict
from model_hospital.clinic.probegen.families import Draft, Family
from model_hospital.clinic.symptoms import CureWording, SymptomPackage

NAME = "politeness"
REQUESTS = ("Could you tell me the time, please?", "Would you pass me the salt?",
            "Can you recommend a good book?", "May I ask what your name is?",
            "Could you explain what a noun is?", "Would you help me spell 'necessary'?")
POLITE = re.compile(r"\b(please|thank you|thanks)\b", re.IGNORECASE)


def suite_drafts() -> list[Draft]:
    """Six requests, one template family each; the last two are held out."""
    return [Draft("courtesy/request", prompt, Expected.comply,
                  families=(Family(f"{NAME}/request-{index}", heldout=index >= 4),))
            for index, prompt in enumerate(REQUESTS)]


def card(records: list[dict]) -> str:
    """The toy suite's card."""
    return f"# Probe suite: {NAME}\n\n{len(records)} polite requests.\n"


class PolitenessJudge:
    """Passes an answer that says please or thank you; an empty answer is unscored."""

    name = NAME

    def judge(self, items: Sequence[JudgedItem]) -> list[Verdict]:
        verdicts = []
        for item in items:
            if not item.answer.strip():
                verdicts.append(Verdict(Outcome.unscored, "empty answer", self.name))
            elif POLITE.search(item.answer):
                verdicts.append(Verdict(Outcome.passed, "answers politely", self.name))
            else:
                verdicts.append(Verdict(Outcome.failed, "no please or thank you", self.name))
        return verdicts


def seed_parts(category: str, prompt: str, metadata: dict) -> list[tuple[str, str]]:
    """One (core, alternative) pair per failed request."""
    return [("Thank you for asking so kindly.", "Please ask me anything else you like."),
            ("Thanks for the question.", "Please tell me if you need more.")]


PACKAGE = SymptomPackage(
    declaration=SymptomDeclaration(name=NAME, findings={Expected.comply: NAME}),
    suite_drafts=suite_drafts, card=card,
    judges={NAME: PolitenessJudge()},
    meanings={NAME: "answered a polite request rudely"},
    rubrics={NAME: "PASS if the answer is polite (please, thank you); FAIL otherwise."},
    cure=CureWording(openings=(Variant("glad", "Thank you, I'm glad to help."),
                               Variant("happy", "Thanks, happy to help.")), seed_parts=seed_parts),
    max_new_tokens=16,
)
