"""Exit codes a pipeline gates on, and `--json` that prints one JSON document and nothing else."""

import json
import logging
import sys

import pytest

from model_hospital.api.common import Severity, Symptom
from model_hospital.api.stages import StageResult
from model_hospital.cli import exit_codes, main
from model_hospital.cli.console import JSON_SCHEMA
from tests.test_treat import FakeClinic, clinic  # noqa: F401 - the fixture is used by name


def only_document(text: str) -> dict:
    """The single JSON document stdout holds; fails on anything else there."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"stdout holds more than one line: {lines[:3]}"
    document = json.loads(lines[0])
    assert document["schema"] == JSON_SCHEMA
    return document


def fake_verify(monkeypatch, verdict: str | None = None, crash: Exception | None = None, chatter: bool = False):
    """Replaces the verify stage run by the CLI with one that gives `verdict` (or crashes)."""
    def run_stage(stage, stage_input, output_dir, console):
        if chatter:  # what Oumi does: INFO lines through a handler bound to stdout, and plain prints
            logger = logging.getLogger("fake_oumi")
            logger.setLevel(logging.INFO)
            logger.info("[rank-0] building the inference engine")
            print("a library's print on stdout")
        if crash is not None:
            raise crash
        return StageResult(stage="verify", ok=True, message=verdict, summary={"verdict": verdict},
                           artifacts={"report": str(output_dir / "verification.md"), "chart": "c",
                                      "verification": str(output_dir / "verification.json")})

    monkeypatch.setattr("model_hospital.stages.runner.run_stage", run_stage)
    monkeypatch.setattr("model_hospital.cli.verify.quiet_libraries", lambda args: None)


VERIFY = ["verify", "--before", "bundled:tiny-random-llama", "--after", "bundled:tiny-random-llama",
          "--symptom", "safety"]


@pytest.mark.parametrize("verdict, code", [("Healed", 0), ("NotHealed", 3), ("Degraded", 4), ("Inconclusive", 5)])
def test_verify_exits_0_only_on_healed_and_a_distinct_code_for_each_other_verdict(monkeypatch, tmp_path, capsys,
                                                                                  verdict, code):
    fake_verify(monkeypatch, verdict)
    assert main(VERIFY + ["--output", str(tmp_path)]) == code
    capsys.readouterr()
    assert main(VERIFY + ["--output", str(tmp_path), "--json"]) == code
    document = only_document(capsys.readouterr().out)
    assert document["command"] == "verify" and document["exit_code"] == code
    assert document["result"]["verdict"] == verdict and "verification" in document["artifacts"]


def test_verify_without_a_verdict_or_with_a_crashed_stage_is_failed(monkeypatch, tmp_path, capsys):
    fake_verify(monkeypatch, None)
    assert main(VERIFY + ["--output", str(tmp_path)]) == exit_codes.FAILED
    capsys.readouterr()
    fake_verify(monkeypatch, crash=RuntimeError("the engine died"))
    assert main(VERIFY + ["--output", str(tmp_path), "--json"]) == exit_codes.FAILED
    document = only_document(capsys.readouterr().out)
    assert document["exit_code"] == 6 and "the engine died" in document["error"]


def test_json_stdout_holds_the_document_only_whatever_the_libraries_print(monkeypatch, tmp_path, capsys):
    # A handler bound to stdout before the command runs, as Oumi's logger is.
    handler = logging.StreamHandler(sys.stdout)
    logging.getLogger("fake_oumi").addHandler(handler)
    try:
        fake_verify(monkeypatch, "Healed", chatter=True)
        assert main(VERIFY + ["--output", str(tmp_path), "--json"]) == 0
    finally:
        logging.getLogger("fake_oumi").removeHandler(handler)
    captured = capsys.readouterr()
    assert only_document(captured.out)["result"]["verdict"] == "Healed"
    assert "building the inference engine" in captured.err and "a library's print" in captured.err


def test_a_judge_that_left_most_answers_unscored_fails_verify_with_exit_6(monkeypatch, tmp_path, capsys):
    from model_hospital.clinic.verdict import JudgeFailed

    fake_verify(monkeypatch, crash=JudgeFailed("the judge left 99 of 100 held-out safety answers unscored"))
    assert main(VERIFY + ["--output", str(tmp_path), "--json"]) == exit_codes.FAILED
    assert "99 of 100" in only_document(capsys.readouterr().out)["error"]


def test_a_user_error_with_json_is_one_error_document_and_exit_2(tmp_path, capsys):
    code = main(["verify", "--before", "bundled:no-such-model", "--after", "bundled:tiny-random-llama",
                 "--symptom", "safety", "--output", str(tmp_path), "--json"])
    assert code == 2
    captured = capsys.readouterr()
    document = only_document(captured.out)
    assert document["exit_code"] == 2 and "unknown bundled model" in document["error"]
    assert "unknown bundled model" in captured.err
    assert main(["verify", "--threshold", "10", "--json"]) == 2
    assert only_document(capsys.readouterr().out)["exit_code"] == 2


@pytest.mark.parametrize("verdicts, code", [(["Healed"], 0), (["NotHealed"], 3), (["Degraded"], 4),
                                            (["Inconclusive"], 5)])
def test_treat_exits_with_the_code_of_its_final_verdict(clinic, tmp_path, capsys, monkeypatch,  # noqa: F811
                                                        verdicts, code):
    clinic.verdicts = verdicts
    monkeypatch.setattr("model_hospital.cli.verify.quiet_libraries", lambda args: None)
    argv = ["treat", "--model", "bundled:tiny-random-llama", "--symptom", "safety", "--max-attempts", "1",
            "--output", str(tmp_path), "--json"]
    assert main(argv) == code
    document = only_document(capsys.readouterr().out)
    assert document["command"] == "treat" and document["result"]["verdict"] == verdicts[0]


def test_treat_with_a_crashed_stage_exits_failed(clinic, tmp_path, capsys, monkeypatch):  # noqa: F811
    clinic.broken = {"train"}
    monkeypatch.setattr("model_hospital.cli.verify.quiet_libraries", lambda args: None)
    assert main(["treat", "--model", "bundled:tiny-random-llama", "--symptom", "safety",
                 "--output", str(tmp_path)]) == exit_codes.FAILED
    assert json.loads((tmp_path / "treatment.json").read_text())["verdict"] == "Failed"


def fake_diagnosis(monkeypatch, severity: Severity, unmeasured: bool = False):
    from model_hospital.clinic.stats import wilson_interval
    from model_hospital.stages import diagnose as stage
    from tests.cure_fixtures import make_diagnosis

    diagnosis = make_diagnosis(symptoms=(Symptom.safety,), per_category=1, severity=severity)
    for result in diagnosis.findings.values():
        result.interval = wilson_interval(result.failures, result.scored)
    if unmeasured:
        for result in diagnosis.findings.values():
            result.severity, result.failure_rate, result.scored, result.failures = Severity.UNMEASURED, None, 0, 0
            result.interval = None
    monkeypatch.setattr(stage, "diagnose", lambda stage_input, console=None: diagnosis)
    monkeypatch.setattr(stage, "quiet_libraries", lambda verbose: None)


@pytest.mark.parametrize("severity, fail_on, code", [
    (Severity.CRITICAL, "CRITICAL", 7), (Severity.HIGH, "moderate", 7), (Severity.MODERATE, "HIGH", 0),
    (Severity.LOW, None, 0), (Severity.CRITICAL, None, 0)])
def test_diagnose_fails_on_a_severity_at_or_over_the_gate(monkeypatch, tmp_path, capsys, severity, fail_on, code):
    fake_diagnosis(monkeypatch, severity)
    argv = ["diagnose", "--model", "bundled:tiny-random-llama", "--symptom", "safety", "--output", str(tmp_path),
            "--json"] + (["--fail-on", fail_on] if fail_on else [])
    assert main(argv) == code
    document = only_document(capsys.readouterr().out)
    assert document["command"] == "diagnose" and document["exit_code"] == code
    assert "diagnosis" in document["artifacts"]


def test_diagnose_gate_never_passes_a_finding_it_could_not_measure(monkeypatch, tmp_path):
    fake_diagnosis(monkeypatch, Severity.UNMEASURED, unmeasured=True)
    assert main(["diagnose", "--model", "bundled:tiny-random-llama", "--symptom", "safety", "--output",
                 str(tmp_path), "--fail-on", "CRITICAL"]) == exit_codes.INCONCLUSIVE


def test_diagnose_refuses_a_gate_that_is_not_a_severity(capsys):
    assert main(["diagnose", "--model", "m", "--symptom", "safety", "--fail-on", "UNMEASURED"]) == 2
    assert "choose from LOW, MODERATE, HIGH, CRITICAL" in capsys.readouterr().err


def test_recipes_list_and_validate_print_one_document(capsys):
    from model_hospital.cli.recipes import recipe_files
    from model_hospital.packaged import recipes_dir

    assert main(["recipes", "list", "--json"]) == 0
    listed = only_document(capsys.readouterr().out)
    assert listed["command"] == "recipes list" and listed["result"]["recipes"]
    assert all(row["valid"] for row in listed["result"]["recipes"])
    first = recipe_files(recipes_dir())[0]
    assert main(["recipes", "validate", str(first), "--json"]) == 0
    assert only_document(capsys.readouterr().out)["result"]["recipes"][0]["valid"] is True


def test_verify_takes_the_llm_judge_options_and_refuses_an_llm_judge_without_a_model(capsys):
    """The second opinion is reachable from the command line: --judge llm needs an engine and a model."""
    assert main(["verify", "--before", "bundled:tiny-random-llama", "--after", "bundled:tiny-random-llama",
                 "--symptom", "safety", "--judge", "llm", "--judge-engine", "OPENAI"]) == 2
    assert "--judge llm needs --judge-engine and --judge-model" in capsys.readouterr().err
