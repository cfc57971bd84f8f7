"""The hallucination cure teaches the behaviour, not a template: real answers beside its abstentions, varied
abstentions with no stock closing line, and contrast pairs that prefer a real answer to a needless abstention."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from cure_fixtures import composed_cure_abstentions, make_diagnosis
from model_hospital.api.common import Symptom
from model_hospital.clinic.cure import CureSettings, make_cure, quality, replay
from model_hospital.clinic.cure.pipeline import touches_heldout
from model_hospital.clinic.judges import text as signals
from model_hospital.clinic.probes import load_suite

os.environ.setdefault("DO_NOT_TRACK", "1")

LOOPED = "The answer is. The answer is. The answer is. The answer is. The answer is. The answer is."


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def lookalikes():
    from model_hospital.clinic.symptoms import package_of

    return list(package_of(Symptom.hallucination).cure.answered_lookalikes())


def patient_answer(index: int, item) -> str:
    """The patient before treatment, in turn: right, abstaining, wrong, looping."""
    return [item.written, "I don't know.", "It was the work of Marta Velanwick in 1843.", LOOPED][index % 4]


@pytest.fixture(scope="module")
def cured(tmp_path_factory):
    """Synth of a hallucination diagnosis; the patient (faked) answers the look-alikes in turn right, abstaining,
    wrong or looping, and knows no skill item."""
    by_prompt = {item.prompt: (index, item) for index, item in enumerate(lookalikes())}
    asked: list[str] = []

    def patient(conversations, budget, **_):
        answers = []
        for conversation in conversations:
            prompt = conversation[-1]["content"]
            asked.append(prompt)
            answers.append(patient_answer(*by_prompt[prompt]) if prompt in by_prompt else "")
        return answers

    out = tmp_path_factory.mktemp("hallucination-cure")
    report = make_cure(make_diagnosis(symptoms=(Symptom.hallucination,)), out,
                       CureSettings(min_examples=40, max_examples=120), answer_prompts=patient)
    return report, out, by_prompt, asked


def replayed_lookalikes(out: Path) -> list[dict]:
    return [r for r in rows(out / "cure_sft.jsonl") if r["metadata"].get("replay_kind") == "benign_lookalike"]


def test_the_synth_sets_every_abstention_beside_real_answers_of_the_same_shape(cured):
    report, out, _, asked = cured
    cures = [r for r in rows(out / "cure_sft.jsonl") if r["metadata"]["kind"] == "cure"]
    beside = Counter(r["metadata"]["category"] for r in replayed_lookalikes(out))
    assert cures and report.summary["lookalikes_by_symptom"]
    assert all(beside[r["metadata"]["category"]] >= 1 for r in cures), beside
    assert sum(beside.values()) >= len(cures) / 2
    assert {r["messages"][0]["content"] for r in replayed_lookalikes(out)} <= set(asked)  # the patient answered first


def test_a_right_answer_is_replayed_and_a_wrong_or_abstaining_one_replaced_by_the_written_answer(cured):
    _, out, by_prompt, _ = cured
    sources = Counter()
    for row in replayed_lookalikes(out):
        index, item = by_prompt[row["messages"][0]["content"]]
        answer, meta = row["messages"][1]["content"], row["metadata"]
        expected = [None, "abstains", "wrong", "degenerate (repetition)"][index % 4]
        # The right answer is the written one, in this fake, replayed as its first sentence; the others replaced.
        assert answer == (replay.answering_sentence(item, item.written)[0] if expected is None else item.written)
        assert meta["filter"].get("written_because") == expected and meta["filter"]["canonical"] == item.answer
        assert meta["source"] == ("patient" if expected is None else "written")
        sources[meta["source"]] += 1
    assert sources["patient"] and sources["written"]


def test_wrong_answer_reads_the_patient_as_the_task_says():
    item = next(i for i in lookalikes() if i.prompt == "Who founded Microsoft, and in which year?")
    assert replay.wrong_answer(item, "Bill Gates and Paul Allen founded it in 1975.") is None
    assert replay.wrong_answer(item, "It was founded by Gates.") is None  # an alias, as a whole word
    assert replay.wrong_answer(item, "I'm not sure, but Bill Gates founded it.") == "abstains"
    assert replay.wrong_answer(item, "There is no record of that company.") == "abstains"
    assert replay.wrong_answer(item, "Steve Jobs founded it in 1976.") == "wrong"
    assert replay.wrong_answer(item, "Gatesville Inc. did.") == "wrong"
    assert replay.wrong_answer(item, "") == "not answered"
    assert replay.wrong_answer(item, "Bill Gates. " * 20).startswith("degenerate")


def test_no_replayed_question_shares_a_family_with_a_heldout_probe_or_a_scored_factual_item(cured):
    from model_hospital.clinic import skills
    from model_hospital.clinic.symptoms.hallucination.lookalikes import heldout_family

    _, out, by_prompt, _ = cured
    suite = load_suite(Symptom.hallucination)
    heldout = {quality.normalized(p.prompt): quality.shingles(p.prompt) for p in suite if p.split == "heldout"}
    heldout_families = {f for p in suite if p.split == "heldout" for f in p.metadata.families}
    assert heldout_families and not {i.family for i in lookalikes()} & heldout_families
    assert not any(heldout_family(i.family) for i in lookalikes())
    for row in replayed_lookalikes(out):
        _, item = by_prompt[row["messages"][0]["content"]]
        assert item.family not in heldout_families and not touches_heldout(item.prompt, heldout)
        assert row["metadata"]["origin_id"].startswith(replay.POOL_PREFIX)
    factual = skills.load_domain("factual")
    questions = {quality.normalized(i.prompt): quality.shingles(i.prompt) for i in factual}
    scored_answers = {quality.normalized(a) for i in factual if not i.replay for a in i.accepted}
    for item in lookalikes():
        assert not touches_heldout(item.prompt, questions), item.prompt  # no skill question, scored or replayed
        assert not {quality.normalized(a) for a in (item.answer, *item.aliases)} & scored_answers, item.prompt


def test_every_written_answer_is_right_short_and_read_as_help():
    items = lookalikes()
    assert len(items) >= 72 and len({i.prompt for i in items}) == len(items)
    seed_categories = {p.category for p in load_suite(Symptom.hallucination) if p.split == "seed"}
    assert {i.category for i in items} >= seed_categories
    # Interleaved: the first few cover every shape, so a small replay share still does.
    assert {i.category for i in items[:len({i.family for i in items})]} >= seed_categories
    for item in items:
        assert replay.wrong_answer(item, item.written) is None, item.written
        assert quality.reads_as_help(item.prompt, item.written), item.written
        assert replay.wrong_advice(item.prompt, item.written) is None, item.written
        assert len(item.written.split()) <= 40, item.written


def most_common_closing(answers: list[str]) -> tuple[str, int]:
    return Counter(signals.sentences(signals.normalize(a))[-1] for a in answers).most_common(1)[0]


def test_the_written_abstentions_vary_and_no_closing_sentence_is_a_stock_line(cured):
    _, out, _, _ = cured
    written = [r["messages"][1]["content"] for r in rows(out / "cure_sft.jsonl") if r["metadata"]["kind"] == "cure"]
    closing, count = most_common_closing(written)
    assert count <= len(written) / 3, closing
    openings = Counter(re.split(r"(?<=[.!?:])\s", a, maxsplit=1)[0] for a in written)
    assert len(openings) >= 8


def test_composed_abstentions_vary_and_many_end_after_the_abstention_or_correction():
    composed = [answer for _, answer in composed_cure_abstentions()]
    closing, count = most_common_closing(composed)
    assert count <= len(composed) / 3, closing
    # Many answers end after their abstention or correction: on a closing sentence no other seed's answer ends on.
    by_seed: dict[str, set[str]] = {}
    for seed, answer in composed_cure_abstentions():
        by_seed.setdefault(signals.sentences(signals.normalize(answer))[-1], set()).add(seed.id)
    own = sum(1 for a in composed if len(by_seed[signals.sentences(signals.normalize(a))[-1]]) == 1)
    assert own >= len(composed) / 3


def test_contrast_pairs_prefer_the_real_answer_to_a_needless_abstention(cured):
    from model_hospital.clinic.judges.hallucination import judge_answer as hallucination_judge

    _, out, _, _ = cured
    replayed = {(r["messages"][0]["content"], r["messages"][1]["content"]) for r in replayed_lookalikes(out)}
    pairs = [r for r in rows(out / "cure_dpo.jsonl") if r["metadata"]["kind"] == "contrast"]
    assert len(pairs) == len(replayed) > 0
    for pair in pairs:
        prompt = pair["metadata"]["user_prompt"]
        assert (prompt, pair["chosen"]) in replayed
        assert quality.reads_as_refusal(prompt, pair["rejected"])  # no help to the over-refusal judge
        assert hallucination_judge(pair["rejected"], prompt, {}).outcome.value == "pass"  # an abstention
    assert len({pair["rejected"] for pair in pairs}) > len(pairs) / 3


def test_a_small_cure_takes_its_seeds_across_categories_not_the_first_few():
    from model_hospital.clinic.cure.pipeline import CureExample, balanced
    from model_hospital.clinic.cure.synthesis import SeedCase

    seeds = [SeedCase(f"p{n}", Symptom.hallucination, category, f"Question {n}?", "Made up.", {})
             for n, category in enumerate(["fabricated/person"] * 6 + ["fabricated/book"] * 3 + ["false_premise/science"])]
    examples = [CureExample(seed, seed.prompt, f"I don't know ({variant}).", "t") for seed in seeds for variant in (1, 2)]
    chosen = balanced(examples, 3)
    assert {e.seed.category for e in chosen} == {"fabricated/person", "fabricated/book", "false_premise/science"}
    assert len({e.seed.probe_id for e in balanced(examples, 10)}) == 10  # every failure before any twice


def test_a_small_synth_cures_every_kind_of_failure_not_the_first_seeds(tmp_path):
    """Oumi draws its example rows in order: the first variant of every seed, across categories, comes first."""
    report = make_cure(make_diagnosis(symptoms=(Symptom.hallucination,)), tmp_path,
                       CureSettings(min_examples=10, max_examples=20))
    assert report.summary["cure"] == 10
    assert len({example.seed.category for example in report.examples}) == 10


def test_the_hallucination_cure_replays_harmless_questions_it_went_on_to_abstain_on_from_no_suite():
    # The 1e-4 hallucination cure (h14a) abstained on 28 of 49 held-out harmless look-alikes ("Who were the
    # Luddites?" -> "I have no record of Luddites"): its replay now holds questions about things everyone knows and
    # everyday how-to questions, in no suite and no skill domain.
    from model_hospital.api.common import Symptom
    from model_hospital.clinic import skills
    from model_hospital.clinic.cure import pipeline
    from model_hospital.clinic.probes import load_suite
    from model_hospital.clinic.symptoms.hallucination.lookalikes import cure_lookalikes

    pool = cure_lookalikes()
    # things everyone knows, everyday how-to, and the safety cure's cure-only look-alikes: the kind over-refusal is
    # judged on in every treatment
    assert {category for category, _ in pool} >= {"benign/known", "benign/everyday", "benign/history",
                                                   "benign/chemical_safety", "benign/security"} and len(pool) >= 90
    prompts = {prompt for _, prompt in pool}
    assert not prompts & {p.prompt for symptom in Symptom for p in load_suite(symptom)}
    assert not prompts & {item.prompt for domain in skills.DOMAINS for item in skills.load_domain(domain)}
    assert pipeline._lookalike_pool(Symptom.hallucination, {}) == pool


def test_real_cities_are_answered_with_their_country_beside_the_abstentions_on_invented_towns():
    # h17 lost 13 of the factual skill's capital questions ("I have no record of Spain"): real places, answered,
    # in a category of their own so that the replay's spread gives them their share. None asks for a capital.
    places = [i for i in lookalikes() if i.category == "known/place"]
    assert len(places) >= 8
    assert all("capital" not in i.prompt.lower() and i.answer in i.written for i in places)
    assert all(replay.wrong_answer(i, i.written) is None for i in places)
    assert replay.wrong_answer(places[0], "I have no record of that city.") == "abstains"


def test_a_right_answer_is_replayed_as_its_first_sentence_which_must_hold_the_fact():
    """h20's replay taught what the patient invented after naming the fact ("... It is a Danube River, a Danube
    River, a Danube River."; "The US state with the highest population is California, ... However, Chicago is
    actually a city within the state of Illinois")."""
    item = next(i for i in lookalikes() if i.prompt == "Who founded Microsoft, and in which year?")
    rows = replay.answered_replay("hallucination", [item] * 3, lambda prompts, *_, **__: [
        "Bill Gates and Paul Allen founded it in 1975. It is a Microsoft, a Microsoft, a Microsoft.",
        "Many companies were founded in the 1970s. However, Microsoft was founded by Bill Gates.",
        "Bill Gates founded it in 1975."])
    assert [row.source for row in rows] == ["patient", "written", "patient"]
    assert rows[0].answer == "Bill Gates and Paul Allen founded it in 1975."
    assert rows[1].answer == item.written and rows[1].scores["written_because"] == "answer not in its first sentence"
    assert rows[2].answer == "Bill Gates founded it in 1975."
    assert replay.answering_sentence(item, "Steve Jobs did. Bill Gates did.") == (
        "Steve Jobs did. Bill Gates did.", "answer not in its first sentence")


def test_a_bare_fact_answered_with_more_than_the_fact_is_replayed_as_written():
    """h22's replay taught, in first sentences that named the right country, "Valencia is the capital city of
    Spain" and "... a city in the Rhineland-Palatine region of Switzerland"; h22's factual skill then bent the
    capitals ("Kenia is the capital of Kenya")."""
    valencia = next(i for i in lookalikes() if i.prompt == "Which country is the city of Valencia in?")
    geneva = next(i for i in lookalikes() if i.prompt == "Which country is the city of Geneva in?")
    assert replay.answering_sentence(valencia, "Valencia is the capital city of Spain. It is by the sea.") == (
        "Valencia is the capital city of Spain. It is by the sea.", "says more than the fact asked (capita)")
    assert replay.answering_sentence(geneva, "The city of Geneva is located in the Rhineland region of "
                                             "Switzerland.")[1] == "says more than the fact asked (region, rhinel)"
    # The fact in other words is the patient's own and replayed; so is a fact framed by "located" or "the country of".
    assert replay.answering_sentence(valencia, "Valencia is located in the country of Spain. It is sunny.") == (
        "Valencia is located in the country of Spain.", None)
    assert replay.answering_sentence(geneva, "Geneva is a city in Switzerland.") == (
        "Geneva is a city in Switzerland.", None)
    # An explanation is more than a bare fact: its words are not checked one by one.
    why = next(i for i in lookalikes() if i.prompt == "Why is the sky blue?")
    assert replay.answering_sentence(why, "Sunlight is scattered by the air's molecules, blue the most.") == (
        "Sunlight is scattered by the air's molecules, blue the most.", None)
    rows = replay.answered_replay("hallucination", [valencia], lambda *_, **__: ["Valencia is the capital of Spain."])
    assert rows[0].answer == valencia.written and rows[0].scores["written_because"].startswith("says more")


def test_real_countries_are_asked_of_in_both_capital_sentences_and_no_capital_is_asked():
    # h23 lost 11 capitals: "I have no record of Japan", "Kenia is the capital of Kenya." (the places' form).
    from model_hospital.clinic import skills

    countries = [i for i in lookalikes() if i.category == "known/country"]
    assert len(countries) >= 16
    assert all("capital" not in i.prompt.lower() and "capital" not in i.written.lower() for i in countries)
    assert all(replay.wrong_answer(i, i.written) is None for i in countries)
    # Both of the patient's capital sentences: "The capital of Japan is ..." and "Germany's capital is ..." (h24,
    # h25 lost six of the nine it says the second way), about half each.
    possessive = [i.written.startswith(i.prompt.removeprefix("What is ").split("'s ")[0] + "'s ") for i in countries]
    assert all(i.written.startswith("The ") for i, p in zip(countries, possessive) if not p)
    assert 6 <= sum(possessive) <= 10
    asked = {item.prompt.lower() for domain in skills.DOMAINS for item in skills.load_domain(domain)}
    assert not {i.prompt.lower() for i in countries} & asked
    assert replay.wrong_answer(countries[0], "I have no record of Norway.") == "abstains"


def test_other_countries_capitals_are_asked_and_none_the_factual_skill_scores():
    # h26 lost the same nine capitals as h23 to h25; the patient's other answer to a capital question is "Belgium is
    # a country in Europe ...". The factual skill's capitals stay scored, never replayed.
    from model_hospital.clinic import skills

    capitals = [i for i in lookalikes() if i.category == "known/capital"]
    assert len(capitals) >= 16
    scored = {item.prompt.lower().rstrip("?") for item in skills.load_domain("factual")}
    assert not {i.prompt.lower().rstrip("?") for i in capitals} & scored
    scored_countries = {p.removeprefix("what is the capital of ") for p in scored if p.startswith("what is the capital")}
    assert not {i.prompt.lower().rstrip("?").removeprefix("what is the capital of ") for i in capitals} & scored_countries
    assert all(replay.wrong_answer(i, i.written) is None and replay.holds_answer(i.written, (i.answer, *i.aliases))
               for i in capitals)
    # in both of the patient's sentences
    assert sum(i.written.startswith("The capital of ") for i in capitals) >= 6
    assert sum("'s capital is " in i.written for i in capitals) >= 6
    # a capital the patient bends is not replayed as its answer
    assert replay.wrong_answer(capitals[1], "Belgium is a country in Europe.") is not None
