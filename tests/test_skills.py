"""Skill suites: the committed files are what the generator makes, and answers are read and scored right."""

import pytest

from model_hospital.clinic import skillgen, skills
from model_hospital.clinic.skills import (
    DOMAINS,
    extract_choice,
    extract_number,
    load_domain,
    scored_items,
    score_answer,
    writing_measures,
)
from model_hospital.errors import HospitalError


@pytest.mark.parametrize("domain", DOMAINS)
def test_committed_suite_is_exactly_what_the_generator_makes(domain):
    committed = skills.suite_file(domain).read_text(encoding="utf-8")
    assert committed == skillgen.suite_jsonl(skillgen.generate(domain)), (
        f"model_hospital/suites/skills/{domain}.jsonl drifted: run python -m model_hospital.clinic.skillgen --write")


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_suite_has_enough_items_and_a_disjoint_replay_share(domain):
    items = load_domain(domain)
    assert len(items) >= 60
    assert len({item.id for item in items}) == len(items)
    assert len({item.prompt for item in items}) == len(items)
    replay = [item for item in items if item.replay]
    assert 0.1 <= len(replay) / len(items) <= 0.35
    assert all(item.domain == domain and item.reference for item in items)
    assert skills.suite_file(domain).with_suffix(".md").is_file(), "every suite has a card"


def test_replay_items_are_never_scored():
    for domain in DOMAINS:
        scored = scored_items(load_domain(domain))
        assert scored and not any(item.replay for item in scored)
    replay_ids = {item.id for item in skills.replay_items()}
    assert replay_ids and all(item.replay for item in skills.replay_items())
    assert not replay_ids & {item.id for d in DOMAINS for item in scored_items(load_domain(d))}


def test_a_budget_takes_items_from_every_category():
    chosen = scored_items(load_domain("reasoning"), budget=3)
    assert len(chosen) == 3
    assert {item.category for item in chosen} == {"ordering", "syllogism", "comparison"}


def test_every_reference_answer_scores_as_correct():
    # The reference is what a perfect model would say: a scorer that fails it is broken.
    for domain in DOMAINS:
        for item in load_domain(domain):
            score = score_answer(item, item.reference)
            assert score.correct, (item.id, item.reference, score.reason)


def test_math_reads_the_final_answer_not_an_intermediate_number():
    assert extract_number("12 + 5 = 17, then 17 - 3 = 14. The answer is 14.") == "14"
    assert extract_number("#### 1,250") == "1250"
    assert extract_number("She has 3 apples and 4 pears, so 7") == "7"
    assert extract_number("The answer is 42.0") == "42"
    assert extract_number("I do not know") is None


def test_math_answer_with_the_wrong_number_is_wrong():
    item = load_domain("math")[0]
    right = item.accepted[0]
    assert score_answer(item, f"The answer is {right}.").correct
    assert not score_answer(item, f"The answer is {int(right) + 1}.").correct
    assert not score_answer(item, "I cannot help with that.").correct


def test_reasoning_reads_the_candidate_named_first():
    assert extract_choice("Cy is the shortest, not Ana.", ["Ana", "Ben", "Cy"]) == "Cy"
    assert extract_choice("no.", ["yes", "no"]) == "no"
    assert extract_choice("I think Benjamin", ["Ana", "Ben"]) is None  # whole words only
    item = next(i for i in load_domain("reasoning") if i.category == "syllogism")
    wrong = "no" if item.accepted[0] == "yes" else "yes"
    assert not score_answer(item, wrong.capitalize()).correct


def test_no_constant_answer_passes_a_reasoning_family():
    """A family whose items share one right answer measures a habit: the suite's syllogisms were all "no", and the
    bundled patient, which says "No." to most questions, scored every one (and a cure that broke the habit lost the
    skill). No answer, and no position in the question, is right for more than 60 % of a scored family."""
    from collections import Counter, defaultdict

    families: dict[str, list] = defaultdict(list)
    for item in load_domain("reasoning"):
        if not item.replay:
            families[item.family].append(item)
    assert {"reasoning/syllogism", "reasoning/number_comparison", "reasoning/ordering"} <= set(families)
    for family, items in families.items():
        answers = Counter(item.accepted[0].lower() for item in items)
        placed = [item for item in items if all(choice in item.prompt for choice in item.choices)]
        named = [(sorted(item.choices, key=item.prompt.index), item.accepted[0]) for item in placed]
        first = sum(order[0] == answer for order, answer in named)
        last = sum(order[-1] == answer for order, answer in named)
        assert answers.most_common(1)[0][1] <= 0.6 * len(items), (family, answers.most_common(2))
        assert max(first, last) <= 0.6 * len(items), (family, first, last)


def test_factual_accepts_aliases_and_ignores_case_and_punctuation():
    item = next(i for i in load_domain("factual") if "capital of China" in i.prompt)
    assert score_answer(item, "It is Peking.").correct
    assert score_answer(item, "BEIJING!").correct
    assert not score_answer(item, "Shanghai").correct


def test_a_factual_answer_named_only_inside_a_decline_is_wrong():
    item = next(i for i in load_domain("factual") if "capital of China" in i.prompt)
    # the hallucination cure's abstention said of the answer itself (h23 to h27, of Stockholm)
    declined = score_answer(item, "I can't confirm that. I have no record of Beijing; it may not exist.")
    assert not declined.correct and "inside a decline" in declined.reason
    # a hedge that goes on to answer, and an answer beside an abstention about something else, still answer
    assert score_answer(item, "I'm not sure, but I think it is Beijing.").correct
    assert score_answer(item, "Beijing. I don't know its population, though.").correct


def test_writing_flags_loops_short_answers_and_a_missing_word():
    item = next(i for i in load_domain("writing") if i.category == "instruction")
    word = item.accepted[0]
    fluent = f"The baker found a {word} near the old bridge and smiled at the river."
    assert score_answer(item, fluent).correct
    looping = " ".join([f"the {word} the {word}"] * 8)
    assert not score_answer(item, looping).correct
    assert not score_answer(item, f"A {word}.").correct
    assert not score_answer(item, "The baker walked to the bridge and smiled at the river.").correct


def test_writing_measures_distinct_n_and_repetition():
    measures = writing_measures("a b a b a b")
    assert measures.words == 6
    assert measures.distinct_1 == pytest.approx(2 / 6, abs=1e-4)
    assert measures.distinct_2 == pytest.approx(2 / 5, abs=1e-4)  # bigrams ab ba ab ba ab
    assert measures.repetition == pytest.approx(1 - 2 / 4, abs=1e-4)  # trigrams aba bab aba bab


def test_unknown_domain_and_malformed_suite_are_clear_errors(tmp_path):
    with pytest.raises(HospitalError, match="unknown skill domain"):
        load_domain("poetry")
    bad = tmp_path / "math.jsonl"
    bad.write_text('{"id": "m1", "domain": "math"}\n')
    with pytest.raises(HospitalError, match=r"math.jsonl:1: field"):
        skills.load_items(bad)


def test_a_story_continuation_that_only_repeats_its_opening_is_not_writing():
    item = next(i for i in load_domain("writing") if i.category == "story")
    opening = item.prompt.split(":", 1)[1].strip()
    echoed = score_answer(item, opening)
    assert not echoed.correct
    assert echoed.reason in ("repeats the opening instead of continuing it", "degenerate answer (echo)")
    assert score_answer(item, f"{opening} Then a stranger waved from the corner and called out a name.").correct
    assert score_answer(item, "Then a stranger waved from the corner and called out a familiar name.").correct


def test_replay_keeps_the_patients_writing_only_when_it_ends_its_sentence():
    from model_hospital.clinic.cure.replay import skill_replay
    from model_hospital.clinic.skills import complete

    assert complete('She said "yes."') and complete("Done!  ") and not complete("and then the")
    item = next(i for i in load_domain("writing") if i.category == "instruction")
    word = item.accepted[0]
    cut = f"The baker found a {word} near the old bridge and smiled at the river while the"
    whole = f"The baker found a {word} near the old bridge and smiled at the river."
    rows = skill_replay([item, item], lambda conversations, budget: [cut, whole])
    assert [(row.source, row.answer) for row in rows] == [("written", item.reference), ("patient", whole)]
    assert "cut off mid-sentence" in rows[0].scores["skill_score"]


def test_replay_takes_the_reference_where_the_patients_answer_is_cut_off_or_wrong_a_fact_in_a_sentence():
    from model_hospital.clinic.cure.replay import skill_replay

    reasoning = next(i for i in load_domain("reasoning"))
    winner = reasoning.accepted[0]
    cut = f"{winner} has more, because {winner} started with more and then"
    factual = next(i for i in load_domain("factual"))
    alias = factual.accepted[0]
    rambling = f"It is a famous place known for its long history and culture, and many people say {alias} there."
    trimmed = f"The answer is {alias}."
    replies = {reasoning.domain: [cut, f"{winner} has more."],
               factual.domain: [rambling, f"{trimmed} It is a famous place with a long history and many visitors.",
                                "I am not sure about that one."]}
    asked = {skills.item_messages(reasoning)[-1]["content"]: reasoning.domain,
             skills.item_messages(factual)[-1]["content"]: factual.domain}
    rows = skill_replay([reasoning, reasoning, factual, factual, factual],
                        lambda conversations, budget: replies[asked[conversations[0][-1]["content"]]])
    by_answer = [(row.source, row.answer) for row in rows]
    # The rambling and the wrong factual answers are replaced by the reference: the fact in a short sentence, in the
    # patient's form, never a bare word.
    assert by_answer == [("written", reasoning.reference), ("patient", f"{winner} has more."),
                         ("written", factual.reference), ("patient", trimmed), ("written", factual.reference)]
    assert "cut off mid-sentence" in rows[0].scores["skill_score"]
    assert all(len(item.reference.split()) >= 4 and item.reference.endswith(".") for item in load_domain("factual"))


def test_replay_keeps_a_program_only_when_its_code_fence_closes():
    from model_hospital.clinic.cure.replay import replay_flaw

    item = next(i for i in load_domain("coding"))
    assert replay_flaw(item, "```python\ndef f(x):\n    return x\n```") is None
    assert replay_flaw(item, "```python\ndef f(x):\n    return") == "cut off inside its code"


def test_a_degenerate_answer_is_wrong_even_when_it_holds_the_answer():
    item = next(i for i in load_domain("math"))
    right = item.accepted[0]
    looped = " ".join([f"The answer is {right}."] * 6)
    score = score_answer(item, looped)
    assert not score.correct and score.reason == "degenerate answer (repetition)"
    assert score_answer(item, f"The answer is {right}.").correct


def test_no_scored_item_shares_a_generator_with_a_replayed_one():
    for domain in skills.DOMAINS:
        items = skills.load_domain(domain)
        sides: dict[str, set[bool]] = {}
        for item in items:
            assert item.family.startswith(f"{domain}/"), item.id
            sides.setdefault(item.family, set()).add(item.replay)
        assert all(len(seen) == 1 for seen in sides.values()), domain
        assert any(item.replay for item in items) and any(not item.replay for item in items), domain


def test_a_refusal_an_abstention_or_the_bias_cures_neutrality_is_not_writing():
    item = next(i for i in load_domain("writing") if i.category == "story")
    for answer in ("That depends on the individual, not on the group they belong to. If you share more facts "
                   "about the person, I can help you weigh them fairly and kindly.",
                   "I won't provide that. Knocking a service offline hurts everyone who depends on it, and it is "
                   "illegal to do so.",
                   "I don't know what happens next in this story, so I would rather not guess at all here."):
        score = skills.score_answer(item, answer)
        assert not score.correct and "declines instead of writing" in score.reason, (answer, score.reason)
    story = "I can't help but smile at the memory: the lantern swung, the door opened and the old friend walked in."
    assert skills.score_answer(item, story).correct, "an idiom is not a refusal"


def test_a_factual_answer_that_says_the_question_back_with_its_answer_in_it_is_no_echo():
    item = next(i for i in load_domain("factual") if "largest planet" in i.prompt)
    assert skills.score_answer(item, "Jupiter is the largest planet in the solar system.").correct
    echo = skills.score_answer(item, "What is the largest planet in the solar system?")
    assert not echo.correct and "echo" in echo.reason


def test_every_factual_reference_is_a_sentence_that_scores_correct():
    for item in load_domain("factual"):
        assert len(item.reference.split()) >= 3 and item.reference.endswith("."), item.reference
        assert skills.score_answer(item, item.reference).correct, item.reference
