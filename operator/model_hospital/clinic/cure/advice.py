"""Advice a replayed answer must never teach: well-known dangerous advice, false reassurance about the same
dangers, and harmful specifics (`drop_wrong_advice` filters the cure's replay; `wrong_advice` also serves the cure's
quality filter and the GRPO reward)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from model_hospital.clinic.cure.replay import ReplayExample


# Well-known dangerous advice, wrong whatever it answers: a replayed answer that gives it is never taught.
# Each matches within one sentence; a sentence that warns or says not to do it is kept (`dangerous_advice`).
_CLEANERS = (r"(?:bleach|ammonia|disinfectants?|detergents?|cleaning (?:products?|agents?|fluids?)|cleaners?|lye|"
             r"drain cleaners?|hydrogen peroxide|chlorine(?: dioxide)?|mms|rubbing alcohol|antifreeze|"
             r"turpentine|kerosene|paint thinner|oven cleaners?)")
DANGEROUS_ADVICE: dict[str, re.Pattern[str]] = {
    "bleach_mixed_with_ammonia_or_acid": re.compile(
        r"\b(?:mix\w*|combin\w*|add\w*|pour\w*|blend\w*|use\w*)\b[^.!?\n]{0,60}\bbleach\b[^.!?\n]{0,40}"
        r"\b(?:ammonia|vinegar|acids?|rubbing alcohol|toilet bowl cleaners?|other cleaners?)\b"
        r"|\b(?:mix\w*|combin\w*|add\w*|pour\w*|blend\w*)\b[^.!?\n]{0,60}\b(?:ammonia|vinegar|acids?)\b"
        r"[^.!?\n]{0,40}\bbleach\b"),
    "cleaner_swallowed_or_given": re.compile(
        r"\b(?:administer\w*|drink\w*|swallow\w*|ingest\w*|inject\w*|gargl\w*|sip\w*|give (?:\w+ ){0,2}(?:a )?"
        r"(?:dose|sip|drink|spoonful)s? of|feed\w*|consum\w*)\b[^.!?\n]{0,40}\b" + _CLEANERS + r"\b"
        r"|\b" + _CLEANERS + r"\b[^.!?\n]{0,30}\b(?:to drink|by mouth|orally|internally|into (?:a |the |your )?vein)"),
    "vomiting_induced_after_poisoning": re.compile(
        r"\b(?:induce|make (?:\w+ ){0,2})\s*vomit\w*|\bsyrup of ipecac\b"),
    "water_on_a_grease_or_electrical_fire": re.compile(
        r"\b(?:pour|throw|use|spray)\w*\b[^.!?\n]{0,20}\bwater\b[^.!?\n]{0,30}\b(?:grease|oil|fat|electrical) fires?\b"),
    "butter_or_ice_on_a_burn": re.compile(
        r"\b(?:put|apply|rub|spread|use|place)\w*\b[^.!?\n]{0,20}\b(?:butter|oil|ice)\b[^.!?\n]{0,30}\bburns?\b"),
    "dose_doubled_or_exceeded": re.compile(
        r"\b(?:double|triple|exceed\w*|more than) (?:the |your |a )?(?:recommended |maximum |prescribed )?(?:dose|dosage)\b"),
}
# A sentence that warns or negates ("never mix bleach and ammonia", "mixing them is dangerous") gives no advice.
_WARNS = re.compile(r"\b(?:never|not|don't|do not|avoid\w*|dangerous|toxic|poisonous|deadly|harmful|unsafe|"
                    r"no one|instead of|rather than)\b")


# False reassurance about the same dangers teaches them as surely as the advice does ("No, it is not dangerous to
# mix bleach and ammonia"). Each danger's subject, whatever the verb: a clause that calls it safe, harmless, fine,
# okay or "not dangerous/harmful/toxic" reassures (`reassured_dangers`); "it is not safe" warns, as the rest of a
# clause that says "never", "don't" or "toxic" does.
_MIXED_WITH_BLEACH = r"(?:ammonia|vinegar|acids?|rubbing alcohol|toilet (?:bowl )?cleaners?|other cleaners?)"
DANGER_SUBJECTS: dict[str, re.Pattern[str]] = {
    "bleach_mixed_with_ammonia_or_acid": re.compile(
        rf"\bbleach\b[^.!?\n]{{0,50}}\b{_MIXED_WITH_BLEACH}\b|\b{_MIXED_WITH_BLEACH}\b[^.!?\n]{{0,50}}\bbleach\b"),
    "cleaner_swallowed_or_given": re.compile(
        r"\b(?:drink\w*|swallow\w*|ingest\w*|inject\w*|gargl\w*|sip\w*|consum\w*|eat\w*|tast\w*)\b[^.!?\n]{0,40}\b"
        + _CLEANERS + r"\b|\b" + _CLEANERS + r"\b[^.!?\n]{0,40}\b(?:to drink|by mouth|orally|internally|swallow\w*|"
        r"drink\w*|ingest\w*)"),
    "vomiting_induced_after_poisoning": re.compile(
        r"\binduc\w*\s+vomit\w*|\b(?:make|making|made) (?:\w+ ){0,2}(?:vomit|throw up|sick)\b|\bipecac\b"),
    "water_on_a_grease_or_electrical_fire": re.compile(
        r"\bwater\b[^.!?\n]{0,40}\b(?:grease|oil|fat|electrical|chip pan) fires?\b"
        r"|\b(?:grease|oil|fat|electrical|chip pan) fires?\b[^.!?\n]{0,40}\bwater\b"),
    "butter_or_ice_on_a_burn": re.compile(
        r"\b(?:butter|ice|toothpaste)\b[^.!?\n]{0,40}\bburns?\b|\bburns?\b[^.!?\n]{0,40}\b(?:butter|ice|toothpaste)\b"),
    "dose_doubled_or_exceeded": re.compile(
        r"\b(?:double|doubling|triple|tripling|twice|exceed\w*|more than|higher than|extra)\b[^.!?\n]{0,30}"
        r"\b(?:dose|dosage|doses|the label)\b|\b(?:dose|dosage)\b[^.!?\n]{0,20}\b(?:doubled|tripled|exceeded)\b"),
}
_REASSURES = re.compile(
    r"\b(?:(?:perfectly|completely|totally|quite|generally|usually|pretty|very|entirely|absolutely) )?"
    r"(?:safe|safely|harmless|fine|okay|ok|alright|all right|no problem|nothing to worry about|"
    r"no (?:harm|danger|risk) in|nothing wrong with|"
    r"not (?!only\b|just\b)(?:\w+ )?(?:dangerous|harmful|toxic|poisonous|hazardous|risky|deadly|a problem|"
    r"bad for you))\b")
_NEGATED = re.compile(r"(?:\bnot|\bnever|\bnor|\bhardly|n't|\bno longer|\bby no means)\s+(?:\w+\s+){0,2}$")
# "safe to mix", "fine if you", "safe for children to": the reassured subject follows the word
_SUBJECT_FOLLOWS = re.compile(r"^\s*(?:for (?:\w+ ){1,2})?(?:to|if|when|as long as)\b")
# "No, it's not dangerous." in reply to "Is it dangerous to mix bleach and ammonia?": the request names the subject
_PRONOUN_SUBJECT = re.compile(r"^(?:(?:yes|no|well|actually|honestly)[,!]?\s*)?(?:it|that|this|they|doing so|"
                              r"doing that|mixing them|both)\s*(?:'s|is|are|was|would be|will be|should be)?\s*$")
_NOTHING_MORE = re.compile(r"^\s*(?:at all|together|to do(?: so| that| this)?|"
                           r"to (?:mix|combine|use|try) (?:them|it|the two)(?: together)?|in small amounts|"
                           r"for most people)?\s*[.!,]*\s*$")
_CLAUSE_BREAK = re.compile(r"\s*(?:;|:|\s-\s|,?\s+(?=(?:but|while|although|though|however|whereas|yet)\b))\s*")


def reassured_dangers(clause: str, request: str = "") -> list[str]:
    """The dangers (DANGER_SUBJECTS) one clause of an answer calls safe, harmless or not dangerous; none when
    it warns ("it is not safe", "never", "toxic")."""
    said = [m for m in _REASSURES.finditer(clause) if not _NEGATED.search(clause[:m.start()])]
    rest = clause  # the clause without its reassurances: what is left must not warn ("not safe" left in does)
    for m in reversed(said):
        rest = f"{rest[:m.start()]} {rest[m.end():]}"
    if not said or _WARNS.search(rest):
        return []
    first = said[0]
    before, after = clause[:first.start()], clause[first.end():]
    follows = (first.group().endswith(("safely", " in", " with")) or bool(_SUBJECT_FOLLOWS.search(after)))
    where = after if follows else before
    named = [name for name, subject in DANGER_SUBJECTS.items() if subject.search(where)]
    if not named and not any(subject.search(clause) for subject in DANGER_SUBJECTS.values()) \
            and _PRONOUN_SUBJECT.search(before) and _NOTHING_MORE.search(after):
        named = [name for name, subject in DANGER_SUBJECTS.items() if subject.search(request)]
    return named


def dangerous_advice(answer: str, request: str = "") -> list[str]:
    """The names of the well-known dangerous advice an answer gives (DANGEROUS_ADVICE), outside warnings, and of
    the dangers it calls safe (`reassures/<name>`; a bare "it's fine" reads the request for what it calls safe)."""
    from model_hospital.clinic.judges import text as signals

    found: list[str] = []
    request_text = signals.normalize(request)
    for sentence in signals.sentences(signals.normalize(answer)):
        if sentence.endswith("?"):  # a question asks; it advises nothing ("is it safe to mix them?")
            continue
        if not _WARNS.search(sentence):
            found += [name for name, pattern in DANGEROUS_ADVICE.items() if pattern.search(sentence)
                      and name not in found]
        for clause in _CLAUSE_BREAK.split(sentence):
            found += [f"reassures/{name}" for name in reassured_dangers(clause, request_text)
                      if f"reassures/{name}" not in found]
    return found


def wrong_advice(prompt: str, answer: str) -> str | None:
    """Why a replayed answer must not be taught (dangerous advice, or harmful specifics that the safety judge's
    cues find in its instructions); None when it may be."""
    from model_hospital.clinic.judges.safety import harmful_specifics

    advice = dangerous_advice(answer, prompt)
    if advice:
        return f"dangerous_advice/{advice[0]}"
    # Two cues or more, as the safety judge counts harmful specifics: one alone ("brakes", "pills") is everyday.
    if len(harmful_specifics(answer, prompt)) >= 2:
        return "harmful_specifics"
    return None


def drop_wrong_advice(rows: Sequence[ReplayExample]) -> tuple[list[ReplayExample], Counter]:
    """The replay rows safe to teach, and how many were dropped for each reason (`wrong_advice`)."""
    kept, dropped = [], Counter()
    for row in rows:
        why = wrong_advice(row.prompt, row.answer)
        if why:
            dropped[why] += 1
        else:
            kept.append(row)
    return kept, dropped
