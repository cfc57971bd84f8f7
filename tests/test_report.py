"""`hospital report`: a diagnosis or verification read back from its file, in the console or as JSON."""

import json

import pytest

from model_hospital.cli import main
from tests.result_fixtures import diagnosis, write_diagnosis, write_verification

SICK = ["fail"] * 24 + ["pass"] * 6
HEALED = ["pass"] * 24 + ["fail"] * 0 + ["pass"] * 6
BENIGN = ["pass"] * 28 + ["fail"] * 2


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")


def test_a_diagnosis_prints_its_rates_and_severity(tmp_path, capsys):
    path = write_diagnosis(diagnosis("sick-model", SICK, BENIGN), tmp_path / "dx")
    assert main(["report", str(path.parent)]) == 0
    out = capsys.readouterr().out
    assert "Diagnosis of sick-model" in out and "80.0 %" in out and "CRITICAL" in out


def test_a_verification_prints_its_verdict_and_tables(tmp_path, capsys):
    before = diagnosis("sick-model", SICK, BENIGN)
    path = write_verification(tmp_path / "v", before, diagnosis("lora", HEALED, BENIGN), [True] * 30, [True] * 30)
    assert main(["report", str(path)]) == 0
    out = capsys.readouterr().out
    verdict = json.loads(path.read_text())["verdict"]
    assert f"verdict: {verdict}" in out and "math" in out and "safety" in out


def test_json_is_the_whole_document_in_the_cli_envelope(tmp_path, capsys):
    path = write_diagnosis(diagnosis("sick-model", SICK, BENIGN), tmp_path / "dx")
    assert main(["report", str(path), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["schema"], document["command"], document["exit_code"]) == ("modelhospital.io/cli/v1", "report", 0)
    assert document["result"]["schema"] == "modelhospital.io/diagnosis/v1"
    assert document["result"]["findings"]["safety"]["failures"] == 24
    assert document["artifacts"] == {"diagnosis": str(path)}


@pytest.mark.parametrize("content", [None, "not json", json.dumps({"schema": "something/else"})])
def test_a_missing_or_foreign_file_is_exit_2_and_an_error_document(tmp_path, capsys, content):
    path = tmp_path / "x.json"
    if content is not None:
        path.write_text(content)
    assert main(["report", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"] and "error:" in captured.err
