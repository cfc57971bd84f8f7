"""`hospital diagnose` on the tiny model: reports with denominators, clean errors, pure JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model_hospital.api.stages import Diagnosis, StageResult

REPO = Path(__file__).resolve().parents[1]


def hospital(*args, env=None, cwd=None):
    merged = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "model_hospital.cli", *args], capture_output=True,
                          text=True, env=merged, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def tiny_diagnosis(tmp_path_factory):
    output = tmp_path_factory.mktemp("diagnosis")
    done = hospital("diagnose", "--model", "bundled:tiny-random-llama", "--full-scan", "--budget", "8",
                    "--max-new-tokens", "12", "--output", str(output), "--json")
    assert done.returncode == 0, done.stderr
    return output, done


def test_full_scan_writes_json_markdown_and_chart(tiny_diagnosis):
    output, _ = tiny_diagnosis
    diagnosis = Diagnosis.model_validate_json((output / "diagnosis.json").read_text())
    assert {s.value for s in diagnosis.symptoms} == {"safety", "hallucination", "bias"}
    assert (output / "diagnosis.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (output / "diagnosis.md").read_text()
    assert "## Findings" in report and "## Treatment priority" in report and "## Worst examples" in report
    assert diagnosis.model.kind == "bundled" and diagnosis.provenance["oumi"]


def test_every_answer_is_counted_once_with_its_denominator(tiny_diagnosis):
    output, _ = tiny_diagnosis
    diagnosis = Diagnosis.model_validate_json((output / "diagnosis.json").read_text())
    for finding, result in diagnosis.findings.items():
        mine = [a for a in diagnosis.answers if a.finding == finding]
        assert result.scored + result.unscored == len(mine)
        assert result.failures == sum(a.outcome == "fail" for a in mine)
        if result.scored:
            assert result.failure_rate == pytest.approx(result.failures / result.scored, abs=1e-4)
            assert result.interval[0] <= result.failure_rate <= result.interval[1]
        else:
            assert result.failure_rate is None and result.severity.value == "UNMEASURED"
    # The budget is per symptom: the safety suite's 8 include benign look-alikes.
    assert sum(a.finding.value in ("safety", "over_refusal") for a in diagnosis.answers) == 8


def test_json_mode_prints_only_json(tiny_diagnosis):
    _, done = tiny_diagnosis
    payload = json.loads(done.stdout)  # one document and nothing else: Oumi's logs went to stderr
    assert payload["schema"] == "modelhospital.io/cli/v1" and payload["exit_code"] == 0
    assert set(payload["result"]["findings"]) >= {"safety", "hallucination", "bias"}
    assert payload["artifacts"]["report"].endswith("diagnosis.md")


def test_dry_run_shows_the_plan_and_writes_nothing(tmp_path):
    done = hospital("diagnose", "--model", "bundled:tiny-random-llama", "--symptom", "bias", "--budget", "4",
                    "--output", str(tmp_path / "out"), "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["plan"]["bias"]["probes"] == 4
    assert not (tmp_path / "out").exists()


def one_error_line(done):
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def test_unknown_symptom_is_one_clear_line():
    line = one_error_line(hospital("diagnose", "--model", "bundled:tiny-random-llama", "--symptom", "rabies"))
    assert "rabies" in line and "safety" in line


def test_missing_model_is_one_clear_line(tmp_path):
    line = one_error_line(hospital("diagnose", "--model", str(tmp_path / "nope"), "--symptom", "safety",
                                   "--output", str(tmp_path / "out")))
    assert "does not exist" in line
    assert not (tmp_path / "out").exists()


def _own_suite(tmp_path, safety_text):
    suite = tmp_path / "safety.jsonl"
    suite.write_text(safety_text)
    return str(suite)


def test_empty_suite_is_one_clear_line(tmp_path):
    line = one_error_line(hospital("diagnose", "--model", "bundled:tiny-random-llama", "--symptom", "safety",
                                   "--probes", _own_suite(tmp_path, "")))
    assert "empty" in line and "safety.jsonl" in line


def test_malformed_jsonl_names_file_and_line(tmp_path):
    good = (REPO / "operator" / "model_hospital" / "suites" / "probes" / "safety.jsonl").read_text().splitlines()[0]
    line = one_error_line(hospital("diagnose", "--model", "bundled:tiny-random-llama", "--symptom", "safety",
                                   "--probes", _own_suite(tmp_path, good + "\n{not json\n")))
    assert "safety.jsonl:2" in line


def test_stage_entrypoint_writes_result_and_termination_message(tmp_path):
    stage_input = tmp_path / "input.json"
    stage_input.write_text(json.dumps({"model": "bundled:tiny-random-llama", "symptoms": ["bias"], "budget": 4,
                                       "generation": {"max_new_tokens": 8}}))
    termination = tmp_path / "termination-log"
    done = hospital("stage", "diagnose", "--input", str(stage_input), "--output", str(tmp_path / "out"),
                    env={"HOSPITAL_TERMINATION_LOG": str(termination)})
    assert done.returncode == 0, done.stderr
    result = StageResult.model_validate_json((tmp_path / "out" / "result.json").read_text())
    assert result.ok and result.summary["findings"]["bias"]["scored"] + result.summary["findings"]["bias"]["unscored"] == 4
    message = json.loads(termination.read_text())
    assert message["stage"] == "diagnose" and message["ok"] is True
    assert len(termination.read_bytes()) < 4096
    assert "artifacts" not in message


def test_stage_input_errors_name_the_field(tmp_path):
    stage_input = tmp_path / "input.json"
    stage_input.write_text(json.dumps({"model": "bundled:tiny-random-llama", "budget": -3}))
    line = one_error_line(hospital("stage", "diagnose", "--input", str(stage_input), "--output", str(tmp_path)))
    assert "budget" in line
