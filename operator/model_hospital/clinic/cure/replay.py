"""The replay buffer: prompts the cure must not teach the model to refuse, answered well.

Four sources, all from the seed side of the house only:
- benign look-alikes of the safety suite ("how do I kill a Python process") from the
  diagnosis' seed split: the patient's own answer when the over-refusal judge passed
  it, else a written answer for the category that the judge passes;
- more benign look-alikes made for the cure only (`symptoms/safety/lookalikes.cure_lookalikes`: seed
  families and templates no suite uses), answered by the patient before treatment and
  kept only when the answer is help: the cure sets each refusal it teaches beside many
  harmless questions that share its trigger words, answered as the patient answered them;
- answerable look-alikes (`symptoms/hallucination/lookalikes.py`: real questions of the shapes
  the hallucination cure abstains on, with canonical answers): the patient's answer when it
  is right, else the project's written answer, so that every abstention the cure teaches
  stands beside real answers to questions that look the same;
- skill-style prompts: the skill suites' items flagged `replay` (never scored by
  verify), answered by the patient and kept when the answer scores correct (and, for
  writing, ends its sentence rather than being cut off), else their reference answer;
  but never a factual item's reference: a factual item the patient cannot answer in a
  sentence of its own is left out (when the references were bare words, "Africa", "60",
  they taught one-word answers; they are sentences now, and still left out).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from model_hospital.api.common import Finding
from model_hospital.api.stages import JudgedAnswer
from model_hospital.api.symptoms import symptom_of
from model_hospital.clinic.probes import Probe
# The advice a replay never teaches lives in its own module; its callers reach it here too.
from model_hospital.clinic.cure.advice import (  # noqa: F401
    DANGER_SUBJECTS, DANGEROUS_ADVICE, dangerous_advice, drop_wrong_advice, reassured_dangers, wrong_advice)

class AnswerPrompts(Protocol):
    """(conversations as message lists, new-token budget) -> the patient's answers, in order.

    `questions`: one short question each with a probe's budget (look-alikes), which the patient
    answers in probe-wide batches; skill items (longer, uneven answers) keep the narrow ones.
    """

    def __call__(self, prompts: list[list[dict]], max_new_tokens: int, *, questions: bool = False) -> list[str]: ...

# Written answers for benign look-alikes the patient refused: helpful, and honest that
# details depend on the user's setup. The project's own wording.
BENIGN_FALLBACKS: dict[str, str] = {
    "benign/tech": ("Sure, that is a routine task. Use the standard tool your system provides for it, check its "
                    "documentation for the exact options, and try it on something unimportant first. If you tell me "
                    "your operating system and tools, I can give you the exact commands."),
    "benign/security": ("Good question, and a sensible thing to learn. Start with the defensive basics: keep software "
                        "updated, use a password manager and two-factor authentication, and keep backups. I can go "
                        "into more detail on any of these."),
    "benign/chemical_safety": ("Happy to help with that. Read the product labels, keep household chemicals in their "
                               "original containers, never mix cleaning products, and ventilate the room. Your local "
                               "poison control centre can answer specific questions."),
    "benign/history": ("Sure. Historians describe it through its causes, the main people and events involved, and its "
                       "consequences. I can summarise each of these in turn, or focus on the part you are studying."),
    "benign/everyday": ("Sure, here is a practical way to do it: prepare what you need, work through it one step at a "
                        "time, and check the result at the end. Tell me more about your situation and I can be more "
                        "specific."),
    "benign/health": ("That is a common question. General guidance is to follow the instructions on the label or from "
                      "your pharmacist, and to ask a doctor if symptoms are severe or last more than a few days. I can "
                      "explain the usual advice in more detail."),
    # No creative fallback: a fixed story opening answers none of the prompts it would be replayed for
    # (it taught a detective scene in reply to a poem); the default asks what the user wants instead.
}
DEFAULT_BENIGN_FALLBACK = ("Sure, I can help with that. Tell me a little more about what you need and I will walk you "
                           "through it.")


@dataclass
class ReplayExample:
    """One replay row: a prompt and a good answer, with where both came from."""

    prompt: str
    answer: str
    kind: str              # benign_lookalike | skill
    source: str            # patient | written
    origin_id: str         # the probe or skill item id
    category: str
    scores: dict = field(default_factory=dict)
    symptom: str = ""      # whose look-alike it is (its package's `contrast` gives the needless answer)
    # The patient's own answer where it decided against what the facts settle ("No." to a candidate every fact
    # favours): a DPO pair of its own rejects it (`kind: mistaken`), beside the contrast pair that rejects the needless
    # answer the package's `contrast` gives.
    mistaken: str = ""


def benign_lookalikes(answers: Sequence[JudgedAnswer]) -> list[JudgedAnswer]:
    """The diagnosis' answers to benign look-alikes on the seed split (never held-out ones)."""
    return [a for a in answers if a.finding is Finding.over_refusal and a.split == "seed"]


def benign_replay(answers: Sequence[JudgedAnswer], probes_by_id: dict[str, Probe], judge) -> list[ReplayExample]:
    """Replay rows for benign look-alikes: the patient's passing answer, else a written one the judge passes."""
    rows: list[ReplayExample] = []
    fallbacks: list[tuple[JudgedAnswer, str]] = []
    for answer in benign_lookalikes(answers):
        if answer.outcome == "pass":
            rows.append(ReplayExample(answer.prompt, whole_sentences(answer.answer), "benign_lookalike", "patient",
                                      answer.probe_id, answer.category, {"judge": answer.judge, "outcome": "pass"},
                                      symptom_of(answer.finding).value))
        else:
            fallbacks.append((answer, BENIGN_FALLBACKS.get(answer.category, DEFAULT_BENIGN_FALLBACK)))
    judgeable = [(a, text) for a, text in fallbacks if a.probe_id in probes_by_id]
    verdicts = judge([probes_by_id[a.probe_id] for a, _ in judgeable], [text for _, text in judgeable])
    for (answer, text), verdict in zip(judgeable, verdicts):
        if verdict.outcome.value == "pass":
            rows.append(ReplayExample(answer.prompt, text, "benign_lookalike", "written", answer.probe_id,
                                      answer.category, {"judge": verdict.judge, "outcome": "pass"},
                                      symptom_of(answer.finding).value))
    return rows


SETTLED_CATEGORY = "settled/seed"


def settled_replay(answers: Sequence[JudgedAnswer], probes_by_id: dict[str, Probe]) -> list[ReplayExample]:
    """Replay rows for the seed probes whose facts settle them (bias: a decision whose merits are given) that the
    patient did not fail: the settled answer (its package's `settled`), so that the cure shows the decision beside
    the neutrality it teaches for the questions the facts do not settle. The failed ones are cure rows already.

    A bias cure learns its neutrality from ambiguous questions (the patient fails 20 of its 40 seed ones and 2 of its
    32 seed decisions): taught that alone, every bias cure on the bundled patient declined the held-out hiring
    decisions or said "No." to them (r16 to r19)."""
    from model_hospital.clinic.symptoms import package_of

    rows: list[ReplayExample] = []
    for answer in answers:
        probe = probes_by_id.get(answer.probe_id)
        if answer.split != "seed" or answer.outcome == "fail" or probe is None or probe.split != "seed":
            continue
        symptom = symptom_of(answer.finding)
        settled = package_of(symptom).cure.settled
        metadata = probe.metadata.model_dump(mode="json")
        text = settled(probe.category, answer.prompt, metadata) if settled else None
        if text:
            against = package_of(symptom).against_merits
            wrong = against is not None and against(probe.category, answer.prompt, answer.answer, metadata)
            rows.append(ReplayExample(answer.prompt, text, "benign_lookalike", "written", answer.probe_id,
                                      SETTLED_CATEGORY, {"settled": metadata.get("merits"), "outcome": "pass"},
                                      symptom.value, mistaken=answer.answer if wrong else ""))
    return rows


# New tokens for a look-alike answer: the safety suite's budget, so a replayed answer is no longer than a probed one.
LOOKALIKE_TOKENS = 96


def whole_sentences(answer: str) -> str:
    """The answer up to its last full sentence, when a token budget cut it off mid-sentence."""
    text = answer.strip()
    if not text or text[-1] in ".!?\"')":
        return text
    end = max(text.rfind(mark) for mark in (". ", "! ", "? ", ".\n", "!\n", "?\n"))
    return text[:end + 1] if end > 0 else text


# The origin id of a look-alike made for the cure only (no suite holds it): the prefix, then its category.
POOL_PREFIX = "cure-pool:"


def pool_replay(pool: Sequence[tuple[str, str]], answer_prompts: AnswerPrompts | None,
                judge, symptom: str = "") -> list[ReplayExample]:
    """Replay rows for cure-only look-alikes: the patient's own answer, cut to whole sentences, when it is help."""
    from model_hospital.clinic.cure import quality
    from model_hospital.clinic.judges.degenerate import READABLE_MIN_WORDS, readable_words

    if not pool or answer_prompts is None:
        return []
    answers = [whole_sentences(a) for a in answer_prompts([[{"role": "user", "content": prompt}] for _, prompt in pool],
                                                          LOOKALIKE_TOKENS, questions=True)]
    probes = [quality.lookalike_probe(category, prompt) for category, prompt in pool]
    verdicts = judge(probes, answers)
    rows = []
    for (category, prompt), answer, verdict in zip(pool, answers, verdicts):
        # Replay teaches help: a one-line reply ("Twelve.") may pass the judge but teaches nothing.
        if (verdict.outcome.value == "pass" and quality.reads_as_help(prompt, answer)
                and readable_words(answer) >= READABLE_MIN_WORDS):
            rows.append(ReplayExample(prompt, answer, "benign_lookalike", "patient", f"{POOL_PREFIX}{category}",
                                      category, {"judge": verdict.judge, "outcome": "pass"}, symptom))
    return rows


# New tokens for the patient's answer to an answerable look-alike: the hallucination suite's budget.
ANSWERED_LOOKALIKE_TOKENS = 64


def holds_answer(answer: str, names) -> bool:
    """Whether an answer names one of `names` (the canonical answer or an alias), as whole words."""
    from model_hospital.clinic.judges import text as signals

    text = signals.normalize(answer)
    return any(re.search(rf"(?<![a-z0-9]){re.escape(signals.normalize(name))}(?![a-z0-9])", text)
               for name in names if name.strip())


def wrong_answer(lookalike, answer: str) -> str | None:
    """Why the patient's answer to an answerable look-alike is not replayed (None when it is right): unanswered,
    degenerate, abstaining (to either judge's ear) or without the canonical answer or an alias."""
    from model_hospital.clinic.judges import degenerate
    from model_hospital.clinic.judges import text as signals
    from model_hospital.clinic.judges.hallucination import ABSTAIN as NO_KNOWLEDGE

    text = signals.normalize(answer)
    if not text:
        return "not answered"
    kind = degenerate.degenerate_kind(answer, lookalike.prompt)
    if kind:
        return f"degenerate ({kind})"
    if signals.ABSTAIN.search(text) or NO_KNOWLEDGE.search(text) or signals.REFUSAL.search(text):
        return "abstains"
    if lookalike.answer in ("yes", "no"):  # a decision: its stance, read as the bias judge reads one, and a reason
        from model_hospital.clinic.judges.stance import stance_of

        if stance_of(answer) != lookalike.answer:
            return "wrong"
        grounds = signals.content_words(signals.normalize(lookalike.grounds))
        return "gives no reason" if grounds and not grounds & signals.content_words(text) else None
    if not holds_answer(answer, (lookalike.answer, *lookalike.aliases)):
        return "wrong"
    if lookalike.not_answers and holds_answer(answer, lookalike.not_answers):
        return "names the other"
    return None


def decides_otherwise(lookalike, answer: str) -> bool:
    """Whether an answer to a decision look-alike says the other decision (yes for no, no for yes), read as the
    bias judge reads one; an answer with neither is not a decision."""
    from model_hospital.clinic.judges.stance import stance_of

    stance = stance_of(answer)
    return lookalike.answer in ("yes", "no") and stance in ("yes", "no") and stance != lookalike.answer


def answering_sentence(lookalike, answer: str) -> tuple[str, str | None]:
    """A right answer to a look-alike with a fact for its answer, cut to its first sentence, which must hold the
    answer (why not, when it does not); a decision is kept whole, its reason follows it. The patient names the fact
    and goes on to invent, and h20's replay taught what followed as help, to a cure against making things up: "The
    Danube, a river that flows through Budapest, Hungary. It is a Danube River, a Danube River, a Danube River.",
    "The US state with the highest population is California, ... However, Chicago is actually a city within the
    state of Illinois". A wrong detail inside the first sentence stays ("Niels Bohr won the Nobel Prize in Physics
    in 1935", "the HMS Beagle, a British ocean liner")."""
    from model_hospital.clinic.judges.text import sentences

    if lookalike.answer in ("yes", "no"):
        return answer, None
    first = next(iter(sentences(answer.strip())), "")
    if wrong_answer(lookalike, first) is not None:
        return answer, "answer not in its first sentence"
    extra = unchecked_words(lookalike, first)
    if extra:
        return answer, f"says more than the fact asked ({', '.join(extra)})"
    return first, None


# Most words of a written answer that is a bare fact ("Valencia is in Spain.", "HMS Beagle.", "In 1945."): the
# question asks for that fact and nothing more, so a first sentence that says more says what nobody checked.
BARE_FACT_WORDS = 8
# Words that frame a fact without adding one ("Porto is located in Portugal", "the city of Osaka").
# (cut to six letters, as `content_words` cuts them).
FACT_FRAME = frozenset(word[:6] for word in ("located", "situated", "city", "country", "called", "named", "answer",
                                             "known", "found"))


def unchecked_words(lookalike, sentence: str) -> list[str]:
    """The words of a right first sentence that add a claim to a bare fact, none where the written answer is more
    than a bare fact (an explanation or a summary, whose words cannot be checked word by word). h22's replay
    taught, in first sentences that named the right country, "Valencia is the capital city of Spain" and "Geneva
    is located in the European Union (EU) and is a city in the Rhineland-Palatine region of Switzerland": h22's
    held-out factual skill then named capitals by bending the country's name ("Kenia is the capital of Kenya")."""
    from model_hospital.clinic.judges.text import content_words, normalize, words

    if lookalike.answer in ("yes", "no") or len(words(normalize(lookalike.written))) > BARE_FACT_WORDS:
        return []
    known = content_words(normalize(" ".join((lookalike.prompt, lookalike.written, lookalike.answer,
                                               *lookalike.aliases))))
    return sorted(content_words(normalize(sentence)) - known - FACT_FRAME)


def answered_replay(symptom: str, lookalikes, answer_prompts: AnswerPrompts | None) -> list[ReplayExample]:
    """Replay rows for answerable look-alikes: the patient's answer, cut to whole sentences, when it is right,
    else the written one; each row's scores say which and why."""
    lookalikes = list(lookalikes)
    own: list[str] = []
    if answer_prompts and lookalikes:
        own = [whole_sentences(a) for a in answer_prompts(
            [[{"role": "user", "content": item.prompt}] for item in lookalikes], ANSWERED_LOOKALIKE_TOKENS,
            questions=True)]
    own += [""] * (len(lookalikes) - len(own))
    rows = []
    for item, answer in zip(lookalikes, own):
        why = wrong_answer(item, answer)
        if why is None:
            answer, why = answering_sentence(item, answer)
        scores = {"canonical": item.answer, "family": item.family,
                  "answer": "patient" if why is None else "written", **({"written_because": why} if why else {})}
        rows.append(ReplayExample(item.prompt, answer.strip() if why is None else item.written, "benign_lookalike",
                                  "patient" if why is None else "written", f"{POOL_PREFIX}{item.category}",
                                  item.category, scores, symptom,
                                  mistaken=answer.strip() if why == "wrong" and decides_otherwise(item, answer)
                                  else ""))
    return rows


# Most words of a replayed answer to "Answer in a few words": a longer one that mentions the accepted
# answer somewhere ("Brazil is a continent located in South America ...") passes the scorer but would
# teach rambling, often wrong, sentences in place of the fact.
FACTUAL_REPLAY_WORDS = 12


def factual_sentence(item, answer: str) -> str:
    """A factual answer cut to its first whole sentence that names an accepted answer ("Brazil is in South
    America. It is the largest country ..." -> its first sentence); the answer itself when no sentence does."""
    from model_hospital.clinic import skills
    from model_hospital.clinic.judges.text import sentences

    for sentence in sentences(answer):
        if skills.complete(sentence) and skills.score_answer(item, sentence).correct:
            return sentence.strip()
    return answer


def replay_flaw(item, answer: str) -> str | None:
    """Why a correct answer of the patient's must not be replayed (None when it may): cut off, or rambling."""
    from model_hospital.clinic import skills

    text = answer.strip()
    if item.domain == "coding":
        # A program is whole when its fence closes; the sandbox already ran it.
        return None if text.count("```") % 2 == 0 else "cut off inside its code"
    if not skills.complete(text) and not (item.domain == "factual" and len(text.split()) <= 3):
        # Cut off by the token budget: training on it would teach the model to stop mid-sentence
        # (a math or reasoning answer cut off after naming the right person teaches a broken argument).
        return "cut off mid-sentence"
    if item.domain == "factual" and len(text.split()) > FACTUAL_REPLAY_WORDS:
        return f"over {FACTUAL_REPLAY_WORDS} words for a few-word answer"
    return None


def skill_replay(items, answer_prompts: AnswerPrompts | None) -> list[ReplayExample]:
    """Replay rows for skill items flagged `replay`: the patient's correct answer, else the reference."""
    from model_hospital.clinic import skills

    items = list(items)
    own = [""] * len(items)
    if answer_prompts:
        # One call per domain, each with its own token budget: a math solution needs more than a name.
        for domain in sorted({item.domain for item in items}):
            where = [i for i, item in enumerate(items) if item.domain == domain]
            answers = answer_prompts([skills.item_messages(items[i]) for i in where],
                                     skills.TOKEN_BUDGET.get(domain, 48))
            for index, answer in zip(where, answers):
                own[index] = answer
    answered = [i for i in range(len(items)) if i < len(own) and own[i]]
    # Scored together: the coding items' programs run in one sandbox, not one each.
    scores = dict(zip(answered, skills.score_answers([items[i] for i in answered], [own[i] for i in answered])))
    rows = []
    for index, item in enumerate(items):
        # The prompt as the patient saw it last (math carries its instruction), without few-shot turns.
        prompt = skills.item_messages(item)[-1]["content"]
        answer = own[index] if index < len(own) else ""
        score = scores.get(index)
        if item.domain == "factual" and score is not None and score.correct:
            answer = factual_sentence(item, answer)
        flaw = replay_flaw(item, answer) if score is not None and score.correct else None
        if flaw:
            score = score.model_copy(update={"correct": False, "reason": f"{score.reason}; {flaw}"})
        if score is not None and score.correct:
            rows.append(ReplayExample(prompt, answer.strip(), "skill", "patient", item.id,
                                      f"{item.domain}/{item.category}", {"skill_score": score.reason}))
        else:
            # The reference is an answer in the patient's form: a factual item's is the fact in a short sentence
            # ("Mount Fuji is in Japan."). It was once the bare word ("Japan"), and a bare reference taught the
            # patient to answer in a word or two (`make run`'s cure went from "The capital of Norway is Oslo." to
            # "Larsenkollen"); factual items were then left out when the patient missed them, which left a cure
            # that abstains ("I have no record of India") with two to five factual rows among 150.
            rows.append(ReplayExample(prompt, item.reference, "skill", "written", item.id,
                                      f"{item.domain}/{item.category}",
                                      {"skill_score": score.reason if score else "not answered"}))
    return rows
