"""`hospital compare`: rates with intervals side by side, paired tests only where item ids match."""

import json

import pytest

from model_hospital.cli import main
from model_hospital.clinic.compare import compare
from model_hospital.clinic.compare_report import markdown
from model_hospital.errors import HospitalError
from tests.result_fixtures import diagnosis, write_diagnosis, write_verification

SICK_SAFETY = ["fail"] * 24 + ["pass"] * 6
BENIGN = ["pass"] * 27 + ["fail"] * 3
# The first 20 harmful probes the sick model failed now pass; nothing passing before fails now.
HEALED_SAFETY = ["pass"] * 20 + ["fail"] * 4 + ["pass"] * 6


@pytest.fixture
def sick(tmp_path):
    return write_diagnosis(diagnosis("sick-model", SICK_SAFETY, BENIGN), tmp_path / "sick")


@pytest.fixture
def healed(tmp_path):
    return write_diagnosis(diagnosis("healed-model", HEALED_SAFETY, BENIGN), tmp_path / "healed")


def test_two_diagnoses_show_rates_with_denominators_and_a_paired_mcnemar_test(sick, healed):
    comparison = compare([sick, healed])
    assert comparison.baseline == "sick-model"
    sick_rate, healed_rate = (m.findings["safety"] for m in comparison.models)
    assert (sick_rate.events, sick_rate.scored) == (24, 30) and (healed_rate.events, healed_rate.scored) == (4, 30)
    assert sick_rate.interval[0] < 0.8 < sick_rate.interval[1]
    change = comparison.change("finding", "safety", "healed-model")
    assert (change.paired, change.better, change.worse) == (30, 20, 0)
    assert change.mcnemar_p < 1e-5
    assert change.change_interval[1] < 0  # the failure rate fell, and the whole interval says so
    same = comparison.change("finding", "over_refusal", "healed-model")
    assert (same.better, same.worse, same.mcnemar_p) == (0, 0, 1.0)
    assert comparison.change("finding", "safety", "sick-model") is None  # the baseline is not compared with itself


def test_probes_that_do_not_match_by_id_are_not_paired_and_the_comparison_says_so(sick, tmp_path):
    other = diagnosis("other-model", HEALED_SAFETY, BENIGN)
    for answer in other.answers:
        answer.probe_id = "renamed-" + answer.probe_id
    change = compare([sick, write_diagnosis(other, tmp_path / "other")]).change("finding", "safety", "other-model")
    assert (change.paired, change.mcnemar_p, change.change_interval) == (0, None, None)
    assert any("No item ids match" in note for note in compare([sick, tmp_path / "other"]).notes)


def test_unscored_answers_stay_out_of_the_denominator_and_out_of_the_pairs(sick, tmp_path):
    partly = write_diagnosis(diagnosis("partly", ["unscored"] * 10 + HEALED_SAFETY[10:], BENIGN), tmp_path / "p")
    comparison = compare([sick, partly])
    rate = comparison.models[1].findings["safety"]
    assert (rate.events, rate.scored, rate.unscored) == (4, 20, 10)
    assert comparison.change("finding", "safety", "partly").paired == 20


def test_a_verification_stands_for_its_treated_model_with_skills_paired_by_item_id(sick, tmp_path):
    before = diagnosis("sick-model", SICK_SAFETY, BENIGN)
    first = write_verification(tmp_path / "v1", before, diagnosis("lora-a", HEALED_SAFETY, BENIGN),
                               [True] * 30, [True] * 30)
    second = write_verification(tmp_path / "v2", before, diagnosis("lora-b", SICK_SAFETY, BENIGN),
                                [True] * 30, [True] * 18 + [False] * 12)
    comparison = compare([tmp_path / "v1", second])
    assert [m.label for m in comparison.models] == ["lora-a", "lora-b"]
    assert comparison.models[0].source == str(first) and comparison.models[0].scope == "heldout probes"
    skill = comparison.change("skill", "math", "lora-b")
    assert (skill.paired, skill.better, skill.worse) == (30, 0, 12) and skill.mcnemar_p < 0.001
    safety = comparison.change("finding", "safety", "lora-b")
    assert (safety.better, safety.worse) == (0, 20)
    # Beside a diagnosis of both splits, the probes still pair by id, and the differing scopes are called out.
    both_splits = diagnosis("sick-model", SICK_SAFETY, BENIGN).model_copy(update={"splits": ["seed", "heldout"]})
    mixed = compare([write_diagnosis(both_splits, tmp_path / "both"), first])
    assert mixed.change("finding", "safety", "lora-a").better == 20
    assert any("different probes" in note for note in mixed.notes)


def test_the_same_model_twice_is_told_apart_by_its_file(sick, tmp_path):
    again = write_diagnosis(diagnosis("sick-model", SICK_SAFETY, BENIGN), tmp_path / "again")
    labels = [m.label for m in compare([sick, again]).models]
    assert labels == [str(sick), str(again)]


@pytest.mark.parametrize("inputs, message", [
    (["sick"], "at least two"),
    (["sick", "nothing-here"], "does not exist"),
    (["sick", "sick"], "named twice"),
])
def test_bad_inputs_are_one_clear_error(sick, tmp_path, inputs, message):
    paths = [tmp_path / name for name in inputs]
    with pytest.raises(HospitalError, match=message):
        compare(paths)


def test_a_file_of_another_kind_is_refused_with_its_schema(sick, tmp_path):
    stranger = tmp_path / "result.json"
    stranger.write_text(json.dumps({"stage": "train", "ok": True}))
    with pytest.raises(HospitalError, match="not a diagnosis or verification"):
        compare([sick, stranger])


def test_cli_json_is_one_enveloped_document(sick, healed, capsys):
    assert main(["compare", str(sick), str(healed), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schema"] == "modelhospital.io/cli/v1" and document["command"] == "compare"
    result = document["result"]
    assert result["schema"] == "modelhospital.io/comparison/v1"
    assert [m["label"] for m in result["models"]] == ["sick-model", "healed-model"]


def test_cli_markdown_and_console_show_every_model_and_the_paired_test(sick, healed, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # a wide terminal: no cell is folded
    assert main(["compare", str(sick), str(healed), "--markdown"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Model comparison")
    assert "80% (24/30)" in text and "13% (4/30)" in text and "20 better / 0 worse of 30" in text
    assert text == markdown(compare([sick, healed]))
    assert main(["compare", str(sick), str(healed)]) == 0
    console = capsys.readouterr().out
    assert "healed-model" in console and "20 better / 0 worse" in console


def test_cli_chart_writes_a_png(sick, healed, tmp_path, capsys):
    chart = tmp_path / "charts" / "comparison.png"
    assert main(["compare", str(sick), str(healed), "--chart", str(chart), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["artifacts"]["chart"] == str(chart)
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_cli_bad_input_exits_2_with_one_line(sick, capsys):
    assert main(["compare", str(sick)]) == 2
    assert "at least two" in capsys.readouterr().err
