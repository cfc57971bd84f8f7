"""The methods benchmark (benchmarks/perf/methods.py) end to end on the tiny model: every method trains and
verifies on the same diagnosis and cure, and prints and records its figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cure_fixtures import make_diagnosis, write_diagnosis
from model_hospital.api.common import Symptom

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "perf"))

import methods  # noqa: E402


@pytest.fixture
def diagnosis(tmp_path, monkeypatch):
    monkeypatch.setenv("HOSPITAL_VERIFY_CACHE", str(tmp_path / "verify-cache"))
    monkeypatch.setenv("HOSPITAL_TERMINATION_LOG", str(tmp_path / "termination-log"))
    # Made up: the tiny model's random answers give the judges nothing to cure.
    return write_diagnosis(make_diagnosis(symptoms=(Symptom.safety,), per_category=1), tmp_path)


def run_benchmark(diagnosis: Path, output: Path, capsys, *extra: str) -> list[dict]:
    assert methods.main(["--tiny", "--diagnosis", str(diagnosis), "--output", str(output), *extra]) == 0
    printed = capsys.readouterr().out
    rows = json.loads((output / "methods.json").read_text())
    for row in rows:
        assert row["method"] in printed
        assert row["verdict"] in ("Healed", "Degraded", "NotHealed", "Inconclusive")
        assert row["findings"]["safety"]["scored_after"] > 0 and "over_refusal" in row["findings"]
        assert set(row["skills"]) == {"math", "reasoning", "writing", "factual", "coding"}
        assert row["training_minutes"] > 0
    return rows


def test_sft_then_dpo_is_trained_from_the_sft_runs_adapter_and_both_are_reported(diagnosis, tmp_path, capsys):
    output = tmp_path / "bench"
    rows = run_benchmark(diagnosis, output, capsys, "--methods", "sft,sft_dpo")
    assert [row["method"] for row in rows] == ["sft", "sft_dpo"]
    result = json.loads((output / "train-sft_dpo" / "result.json").read_text())
    assert result["summary"]["method"] == "dpo"
    assert result["summary"]["started_from"] == str(output / "train-sft" / "adapter")
    # The chain's minutes include the SFT run it started from.
    assert rows[1]["training_minutes"] > rows[0]["training_minutes"]


def test_tiny_needs_a_diagnosis_and_methods_are_checked(capsys):
    with pytest.raises(SystemExit):
        methods.main(["--tiny"])
    assert "--tiny needs --diagnosis" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        methods.main(["--methods", "sft,ppo"])
    assert "unknown ppo" in capsys.readouterr().err


@pytest.mark.slow  # about five minutes on two cores: four trainings and four verifications
def test_all_four_methods_train_watched_and_verify_on_the_same_diagnosis(diagnosis, tmp_path, capsys):
    rows = run_benchmark(diagnosis, tmp_path / "bench", capsys, "--watch")
    assert [row["method"] for row in rows] == ["sft", "dpo", "sft_dpo", "grpo"]
    assert all(row["chosen_step"] is not None for row in rows)


def test_max_steps_apply_to_every_method_or_to_one_and_bad_values_are_refused(capsys):
    args = methods.parse_arguments(["--max-steps", "50", "--max-steps", "grpo=20"])
    assert args.max_steps == {"sft": 50, "dpo": 50, "sft_dpo": 50, "grpo": 20}
    assert methods.parse_arguments([]).max_steps == {}
    for bad, says in (("ppo=3", "unknown method ppo"), ("grpo=0", "at least 1"), ("many", "whole number")):
        with pytest.raises(SystemExit):
            methods.parse_arguments(["--max-steps", bad])
        assert says in capsys.readouterr().err


def test_a_second_invocation_on_the_same_folder_reuses_what_finished(diagnosis, tmp_path, capsys):
    output = tmp_path / "bench"
    run_benchmark(diagnosis, output, capsys, "--methods", "sft")
    trained = (output / "train-sft" / "result.json").stat().st_mtime_ns
    rows = run_benchmark(diagnosis, output, capsys, "--methods", "sft,dpo")
    assert [row["method"] for row in rows] == ["sft", "dpo"]
    assert (output / "train-sft" / "result.json").stat().st_mtime_ns == trained
    assert (output / "train-dpo" / "result.json").is_file()
