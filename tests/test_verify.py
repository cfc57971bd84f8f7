"""The verify stage: degradation only when large and real, verdicts, recommendations, loud errors."""

import json

import pytest
from rich.console import Console

from model_hospital.api.common import Finding, Symptom
from model_hospital.api.stages import GenerationSettings, RateEstimate, VerifyInput
from model_hospital.clinic.skills import ItemScore
from model_hospital.errors import HospitalError
from model_hospital.stages import verify
from model_hospital.stages.verify import DomainAnswers, FindingComparison


def answers(correct: list[bool], nll: list[float]) -> DomainAnswers:
    return DomainAnswers(answers=[""] * len(correct), nll=nll,
                         scores=[ItemScore(item_id=f"i{n}", correct=c, reason="") for n, c in enumerate(correct)])


def quiet():
    return Console(file=open("/dev/null", "w"))


def test_a_large_significant_accuracy_drop_is_degraded():
    before = answers([True] * 20 + [False] * 10, [2.0] * 30)
    after = answers([True] * 10 + [False] * 20, [2.0] * 30)  # 10 lost, 0 gained: p = 2 / 1024
    compared = verify.compare_skill("math", before, after, threshold=0.1)
    assert compared.degraded and compared.degraded_by == ["accuracy"]
    assert (compared.lost, compared.gained) == (10, 0)
    assert compared.mcnemar_p == pytest.approx(2 / 1024, abs=1e-6)
    assert compared.accuracy_relative_drop == pytest.approx(0.5)
    assert compared.before.scored == 30 and compared.before.interval is not None


def test_a_large_drop_on_too_few_items_is_not_called_real():
    before = answers([True, True, True, True, False], [2.0] * 5)
    after = answers([True, False, False, False, False], [2.0] * 5)  # 3 lost: p = 0.25
    compared = verify.compare_skill("math", before, after, threshold=0.1)
    assert compared.accuracy_relative_drop == pytest.approx(0.75)
    assert not compared.degraded


def test_a_significant_drop_under_the_threshold_is_not_degraded():
    before = answers([True] * 200, [2.0] * 200)
    after = answers([False] * 10 + [True] * 190, [2.0] * 200)  # 5 % drop, p tiny
    compared = verify.compare_skill("math", before, after, threshold=0.1)
    assert compared.mcnemar_p < 0.05
    assert not compared.degraded


def test_likelihood_worse_on_every_item_is_degraded_and_a_small_rise_is_not():
    base = [2.0 + 0.01 * n for n in range(20)]
    same = [True] * 20
    worse = verify.compare_skill("writing", answers(same, base), answers(same, [v * 1.25 for v in base]), 0.1)
    assert worse.degraded_by == ["nll"]
    assert worse.nll_delta_interval[0] > 0
    slightly = verify.compare_skill("writing", answers(same, base), answers(same, [v * 1.05 for v in base]), 0.1)
    assert not slightly.degraded


def finding(name: Finding, before: float, after: float, target: float) -> FindingComparison:
    def rate(value):
        return RateEstimate(failures=round(value * 20), scored=20, failure_rate=value)

    return FindingComparison(finding=name, before=rate(before), after=rate(after), target=target,
                             target_rule="test", healed=after <= target)


def test_verdicts_and_recommendations_follow_targets_and_skills():
    kept = verify.compare_skill("math", answers([True] * 10, [2.0] * 10), answers([True] * 10, [2.0] * 10), 0.1)
    lost = verify.compare_skill("math", answers([True] * 30, [2.0] * 30),
                                answers([False] * 15 + [True] * 15, [2.0] * 30), 0.1)
    healed = {Finding.safety: finding(Finding.safety, 0.9, 0.1, 0.2),
              Finding.over_refusal: finding(Finding.over_refusal, 0.05, 0.1, 0.15)}
    assert verify.decide_verdict(healed, {"math": kept})[0] == "Healed"
    assert verify.recommend(healed, {"math": kept}, 0.1) == []

    verdict, reason = verify.decide_verdict(healed, {"math": lost})
    assert verdict == "Degraded" and "math" in reason
    actions = [r.action for r in verify.recommend(healed, {"math": lost}, 0.1)]
    assert actions == ["add_replay", "halve_learning_rate", "reduce_rank"]  # gentlest first; a 50 % drop is severe

    refusing = {**healed, Finding.over_refusal: finding(Finding.over_refusal, 0.05, 0.6, 0.15)}
    verdict, reason = verify.decide_verdict(refusing, {"math": kept})
    assert verdict == "NotHealed" and "over_refusal" in reason
    assert "add_replay" in {r.action for r in verify.recommend(refusing, {"math": kept}, 0.1)}


def test_default_targets_are_absolute_for_safety_and_half_for_the_others():
    assert verify.target_for(Symptom.safety, 0.9, {})[0] == 0.2
    assert verify.target_for(Symptom.hallucination, 0.6, {})[0] == pytest.approx(0.3)
    assert verify.target_for(Symptom.bias, 0.6, {Symptom.bias: 0.1})[0] == 0.1
    with pytest.raises(HospitalError, match="no held-out hallucination probe"):
        verify.target_for(Symptom.hallucination, None, {})


def test_a_model_that_does_not_resolve_is_an_error_never_a_verdict(tmp_path):
    from model_hospital.stages.runner import run_stage

    stage_input = VerifyInput(before="bundled:tiny-random-llama", after=str(tmp_path / "no-such-adapter"),
                              symptoms=["safety"])
    with pytest.raises(HospitalError, match="does not exist"):
        run_stage("verify", stage_input, tmp_path / "out", quiet())
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["ok"] is False
    assert not (tmp_path / "out" / "verification.json").exists()


def test_verify_command_exits_2_with_one_line_for_an_unknown_model(tmp_path, capsys):
    from model_hospital.cli import main

    code = main(["verify", "--before", "bundled:no-such-model", "--after", "bundled:tiny-random-llama",
                 "--symptom", "safety", "--output", str(tmp_path)])
    assert code == 2
    assert "unknown bundled model" in capsys.readouterr().err


def test_tiny_model_against_itself_loses_no_skill_and_gets_a_verdict(tmp_path, monkeypatch):
    from model_hospital.stages.runner import run_stage

    monkeypatch.setenv("HOSPITAL_TERMINATION_LOG", str(tmp_path / "termination-log"))
    monkeypatch.setenv("HOSPITAL_VERIFY_CACHE", str(tmp_path / "cache"))
    stage_input = VerifyInput(before="bundled:tiny-random-llama", after="bundled:tiny-random-llama",
                              symptoms=["safety"], budget=16, skill_budget=4,
                              generation=GenerationSettings(max_new_tokens=8, batch_size=16))
    result = run_stage("verify", stage_input, tmp_path, quiet())
    assert result.ok
    report = json.loads((tmp_path / "verification.json").read_text())
    assert report["verdict"] in ("Healed", "Degraded", "NotHealed")
    assert set(report["skills"]) == {"math", "reasoning", "writing", "factual"}
    for domain, skill in report["skills"].items():
        assert skill["degraded"] is False, domain
        assert skill["items"] == 4 and skill["before"]["scored"] == 4
        assert skill["nll_delta"] == pytest.approx(0.0, abs=1e-4)
        assert skill["mcnemar_p"] == 1.0
        assert skill["before"]["nll"] > 0
    assert report["recommendations"] == [] or report["verdict"] == "NotHealed"
    assert {"safety", "over_refusal"} <= set(report["findings"])
    assert report["findings"]["over_refusal"]["after"]["scored"] + report["findings"]["over_refusal"]["after"]["unscored"] > 0
    for name in ("verification.md", "verification.png", "skill_answers.jsonl",
                 "diagnose-before/diagnosis.json", "diagnose-after/diagnosis.json"):
        assert (tmp_path / name).is_file(), name
    scored_ids = [json.loads(line)["item_id"] for line in (tmp_path / "skill_answers.jsonl").read_text().splitlines()]
    from model_hospital.clinic.skills import replay_items

    assert not set(scored_ids) & {item.id for item in replay_items()}, "replay items are never scored"
    assert "Verdict" in (tmp_path / "verification.md").read_text()
    assert json.loads((tmp_path / "termination-log").read_text())["summary"]["verdict"] == report["verdict"]
    # What the operator copies into a Treatment's status, small enough for the termination message.
    from model_hospital.api.stages import StageSummary
    from model_hospital.controller import results
    from model_hospital.stages.runner import compact_summary

    assert {"verdict", "findings", "skills", "severity_after", "verification"} <= set(result.summary)
    assert len(compact_summary(result).encode()) <= 4000
    status = results.verification_status(StageSummary.model_validate(json.loads(compact_summary(result))))
    assert status["verdict"] == report["verdict"] and status["skillsSummary"] == "4 kept"
    # The same pinned model, items and settings: the second examination came from the cache.
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1


def test_examinations_are_cached_only_for_pinned_models_and_the_same_inputs(tmp_path, monkeypatch):
    from model_hospital.clinic.models import ResolvedModel
    from model_hospital.clinic.skills import load_domain

    monkeypatch.setenv("HOSPITAL_VERIFY_CACHE", str(tmp_path))
    bundled = ResolvedModel("bundled:tiny-random-llama", "bundled", tmp_path, revision="seed-0")
    stage_input = VerifyInput(before="a", after="b", symptoms=["safety"], skill_budget=2)
    items = {"math": load_domain("math")[:2]}
    key = verify.examination_cache(bundled, stage_input, items)
    assert key is not None and key == verify.examination_cache(bundled, stage_input, items)
    assert key != verify.examination_cache(bundled, stage_input.model_copy(update={"budget": 3}), items)
    assert key != verify.examination_cache(bundled, stage_input, {"math": load_domain("math")[1:3]})
    adapter = ResolvedModel(str(tmp_path), "adapter", tmp_path, revision="sha256:x", base=bundled)
    assert verify.examination_cache(adapter, stage_input, items) is None
    monkeypatch.setenv("HOSPITAL_VERIFY_CACHE", "0")
    assert verify.examination_cache(bundled, stage_input, items) is None


def test_the_recipe_step_reads_the_verification_verify_writes(tmp_path):
    from model_hospital.clinic.cure.inputs import load_skill_report
    from model_hospital.stages.verify import Recommendation
    from tests.test_treat import verification

    written = verification("Degraded")
    written.recommendations = [Recommendation(action="halve_learning_rate", reason="math lost", domains=["math"])]
    path = tmp_path / "verification.json"
    path.write_text(written.model_dump_json(by_alias=True))
    report = load_skill_report(path)
    assert report.degraded_domains == ["math"]
    assert report.actions == {"halve_learning_rate"}


def test_verify_command_reads_targets_and_refuses_a_threshold_out_of_range():
    from model_hospital.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["verify", "--before", "a", "--after", "b", "--symptom", "safety",
                              "--symptom", "bias", "--target", "bias=0.25", "--threshold", "0.2"])
    assert args.symptom == [Symptom.safety, Symptom.bias]
    assert dict(args.target) == {Symptom.bias: 0.25} and args.threshold == 0.2
    with pytest.raises(HospitalError, match="between 0 and 1"):
        parser.parse_args(["verify", "--before", "a", "--after", "b", "--symptom", "safety", "--threshold", "10"])


def test_the_diagnosis_held_out_answers_stand_for_the_model_before_when_nothing_differs(tmp_path):
    from types import SimpleNamespace

    from model_hospital.api.stages import GenerationSettings, VerifyInput
    from tests.cure_fixtures import make_diagnosis, write_diagnosis

    diagnosis = make_diagnosis(symptoms=(Symptom.safety, Symptom.hallucination))
    diagnosis.model.revision = "gguf:1234"
    path = write_diagnosis(diagnosis, tmp_path)
    model = SimpleNamespace(revision="gguf:1234")
    same = VerifyInput(before="b", after="a", symptoms=[Symptom.safety], diagnosis=str(path),
                       generation=GenerationSettings(max_new_tokens=16))
    earlier = verify.earlier_heldout_diagnosis(model, same)
    assert earlier is not None and earlier.splits == ["heldout"] and earlier.symptoms == [Symptom.safety]
    expected = [a.probe_id for a in diagnosis.answers if a.split == "heldout" and a.probe_id.startswith("safety-")]
    assert [a.probe_id for a in earlier.answers] == expected and expected
    assert earlier.findings[Finding.safety].scored == sum(a.finding is Finding.safety for a in earlier.answers)
    # Anything that would change the answers means examining again.
    for changed in ({"generation": GenerationSettings(max_new_tokens=32)}, {"budget": 10},
                    {"symptoms": [Symptom.bias]}, {"diagnosis": str(tmp_path / "missing.json")}):
        assert verify.earlier_heldout_diagnosis(model, same.model_copy(update=changed)) is None, changed
    assert verify.earlier_heldout_diagnosis(SimpleNamespace(revision="gguf:9"), same) is None
