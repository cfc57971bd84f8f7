"""A symptom is one package plus one registration line: a toy fourth symptom is diagnosed and cured.

The toy package (tests/toy_symptom/) holds a generator of six probes, a judge and a cure
template; `register_symptom(toy_symptom.PACKAGE)` is the one line. Nothing else in the
house names it, yet the diagnose stage screens the tiny random model for it and the synth
stage grows cure data from its seed failures.
"""

from __future__ import annotations

import json
import os

import pytest
from rich.console import Console

from model_hospital.api.common import Finding, Severity, Symptom
from model_hospital.api.stages import DiagnoseInput, Diagnosis, SynthInput
from model_hospital.clinic.symptoms import register_symptom, withdraw_symptom
from model_hospital.errors import HospitalError
from tests import toy_symptom

os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture
def politeness():
    register_symptom(toy_symptom.PACKAGE)
    yield Symptom("politeness")
    withdraw_symptom("politeness")


def quiet() -> Console:
    return Console(file=open(os.devnull, "w"))


def test_a_registered_symptom_is_a_member_until_withdrawn(politeness):
    assert politeness is Symptom.politeness and politeness in list(Symptom)
    assert Finding("politeness") in list(Finding)
    assert DiagnoseInput(model="bundled:tiny-random-llama", symptoms=["politeness"]).symptoms == [politeness]
    withdraw_symptom("politeness")
    with pytest.raises(HospitalError, match="unknown symptom"):
        Symptom.parse("politeness")
    assert [s.value for s in Symptom] == ["safety", "hallucination", "bias"]
    register_symptom(toy_symptom.PACKAGE)


def test_a_package_without_a_judge_for_its_finding_is_refused():
    from dataclasses import replace

    with pytest.raises(HospitalError, match="judges has no entry for finding politeness"):
        register_symptom(replace(toy_symptom.PACKAGE, judges={}))
    assert "politeness" not in Symptom.__members__


def test_the_toy_symptom_is_diagnosed_and_cured_on_the_tiny_model(politeness, tmp_path):
    from model_hospital.stages import diagnose, synth

    result = diagnose.run(DiagnoseInput(model="bundled:tiny-random-llama", symptoms=["politeness"]),
                          tmp_path / "diagnosis", quiet())
    assert result.ok
    diagnosis = Diagnosis.model_validate_json((tmp_path / "diagnosis" / "diagnosis.json").read_text())
    finding = diagnosis.findings[Finding.politeness]
    assert finding.scored + finding.unscored == len(toy_symptom.REQUESTS) == len(diagnosis.answers)
    assert {a.judge for a in diagnosis.answers} == {"politeness"}
    assert finding.failures > 0 and finding.severity is not Severity.UNMEASURED
    assert "answered a polite request rudely" in (tmp_path / "diagnosis" / "diagnosis.md").read_text()

    synth.run(SynthInput(diagnosis=str(tmp_path / "diagnosis" / "diagnosis.json"), min_examples=4, max_examples=12),
              tmp_path / "cure", quiet())
    cure = [json.loads(line) for line in (tmp_path / "cure" / "cure_sft.jsonl").read_text().splitlines()]
    toy_rows = [row for row in cure if row["metadata"].get("symptom") == "politeness"]
    assert toy_rows, "no cure row grew from the toy symptom's failures"
    assert all(row["messages"][-1]["content"].startswith(("Thank you, I'm glad to help.", "Thanks, happy to help."))
               for row in toy_rows)
    heldout = {a.prompt for a in diagnosis.answers if a.split == "heldout"}
    assert not any(row["messages"][0]["content"].strip().endswith(tuple(heldout)) for row in toy_rows)
