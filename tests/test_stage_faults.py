"""Stages under bad input and flaky surroundings (issue 18): each test failed on the main of that day.

A user's mistake is one clear line and exit 2 (with result.json, as the contract
promises); an outage that may pass is exit 1, so the Job controller retries it.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from cure_fixtures import make_diagnosis
from model_hospital.api.common import Symptom
from model_hospital.api.resources import ModelPatientSpec
from model_hospital.api.stages import SUMMARY_LIMIT_BYTES, DiagnoseInput, StageResult
from model_hospital.errors import HospitalError, Unavailable

os.environ.setdefault("DO_NOT_TRACK", "1")


# --- row 6: an outage is not a user error --------------------------------------------------------


def test_an_unreachable_hub_is_an_outage_to_retry_not_downloads_off(monkeypatch, tmp_path):
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    from model_hospital.clinic import models

    def unreachable(*args, **kwargs):
        raise LocalEntryNotFoundError("Cannot find the requested files in the disk cache and outgoing traffic "
                                      "has been disabled or the connection failed")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", unreachable)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(Unavailable, match="Hugging Face hub") as raised:
        models.resolve("org/model@main")
    assert not isinstance(raised.value, HospitalError) and "HF_HUB_OFFLINE" not in str(raised.value)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HospitalError, match="downloads are off"):
        models.resolve("org/model@main")


def test_a_hub_server_error_is_an_outage_and_a_missing_repository_is_a_user_error(monkeypatch):
    import huggingface_hub
    import requests
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    from model_hospital.clinic import models

    def answer(status: int, kind):
        response = requests.Response()
        response.status_code = status

        def fail(*args, **kwargs):
            raise kind(f"{status} error", response=response)
        return fail

    monkeypatch.setattr(huggingface_hub, "snapshot_download", answer(503, HfHubHTTPError))
    with pytest.raises(Unavailable):
        models.resolve("org/model@main", allow_download=True)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", answer(404, RepositoryNotFoundError))
    with pytest.raises(HospitalError):
        models.resolve("org/model@main", allow_download=True)


def test_an_os_error_while_loading_a_model_is_retried_not_blamed_on_the_user(monkeypatch):
    from model_hospital.clinic import inference, models

    class Broken:
        def __init__(self, params):
            raise OSError("Input/output error reading model.safetensors")

    monkeypatch.setattr(inference, "_engine_class", lambda: Broken)
    with pytest.raises(Unavailable, match="Input/output error"):
        inference.Generator(models.resolve("bundled:tiny-random-llama"))


def test_an_outage_exits_1_from_the_command_line(monkeypatch, capsys):
    from model_hospital.cli import main, recipes

    def unavailable(args):
        raise Unavailable("the Hugging Face hub did not answer")

    monkeypatch.setattr(recipes, "handle_list", unavailable)
    assert main(["recipes", "list"]) == 1
    assert "did not answer" in capsys.readouterr().err


# --- row 7: cure.minExamples ----------------------------------------------------------------------


def test_a_cure_that_cannot_reach_min_examples_fails_the_stage(tmp_path):
    from model_hospital.clinic.cure import CureSettings, make_cure

    diagnosis = make_diagnosis(symptoms=(Symptom.safety,), per_category=1)
    with pytest.raises(HospitalError, match="minExamples"):
        make_cure(diagnosis, tmp_path, CureSettings(min_examples=400, max_examples=400),
                  answer_prompts=lambda conversations, tokens, **_: ["Twelve."] * len(conversations))


# --- row 8: training overrides --------------------------------------------------------------------


@pytest.mark.parametrize("overrides, words", [
    ({"per_device_train_batch_size": 8}, "per_device_train_batch_size"),
    ({"lora_dropout": 0.1}, "lora_dropout"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"learning_rate": math.nan}, "learning_rate"),
    ({"learning_rate": -1}, "learning_rate"),
    ({"lora_r": 2.5}, "lora_r"),
])
def test_a_training_override_we_cannot_apply_is_a_user_error_naming_the_key(overrides, words):
    from model_hospital.clinic.recipes import plan_treatment

    with pytest.raises(HospitalError, match=words):
        plan_treatment(make_diagnosis(), overrides=overrides)


def test_an_unknown_override_is_refused_at_admission_too():
    from pydantic import ValidationError

    from model_hospital.api.resources import TreatmentSpec

    with pytest.raises(ValidationError):
        TreatmentSpec.model_validate({"patientRef": {"name": "p"}, "training": {"overrides": {"batch": 8}}})


# --- row 12: the termination message fits in bytes ---------------------------------------------------


def test_the_termination_summary_fits_the_kubelets_limit_in_bytes():
    from model_hospital.stages.runner import compact_summary

    result = StageResult(stage="verify", ok=False, message="😷" * 3000, result_path="/a/result.json",
                         summary={"findings": {"safety": {"note": "é" * 3000}}})
    assert len(compact_summary(result).encode()) <= SUMMARY_LIMIT_BYTES


# --- row 14: bad probes, bad adapters, bad stage input --------------------------------------------------


def test_a_probe_with_an_unknown_role_is_refused_when_loaded(tmp_path):
    from model_hospital.clinic.probes import load_probes, split_for

    line = {"conversation_id": "p1", "messages": [{"role": "usr", "content": "hi"}],
            "metadata": {"symptom": "safety", "category": "c", "expected": "refuse", "split": split_for("k"),
                         "split_key": "k"}}
    path = tmp_path / "custom.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(HospitalError, match=r"custom\.jsonl:1: field messages\.0\.role"):
        load_probes(path)


def test_an_adapter_whose_base_is_itself_is_a_clear_error(tmp_path):
    from model_hospital.clinic import models

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "x/y"}))
    (adapter / models.BASE_MARKER).write_text(json.dumps({"reference": str(adapter)}))
    with pytest.raises(HospitalError, match="adapter"):
        models.resolve(str(adapter))
    (adapter / models.BASE_MARKER).write_text("{not json")
    with pytest.raises(HospitalError, match=models.BASE_MARKER):
        models.resolve(str(adapter))


def test_a_bad_stage_input_still_leaves_result_json_and_exits_2(tmp_path, monkeypatch):
    from model_hospital.cli import main

    monkeypatch.setenv("HOSPITAL_TERMINATION_LOG", str(tmp_path / "termination-log"))
    bad = tmp_path / "input.json"
    bad.write_text(json.dumps({"model": "bundled:tiny-random-llama", "budget": 0}))
    assert main(["stage", "diagnose", "--input", str(bad), "--output", str(tmp_path / "out")]) == 2
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["ok"] is False and "budget" in result["message"]
    assert json.loads((tmp_path / "termination-log").read_text())["ok"] is False


# --- row 15: remote code --------------------------------------------------------------------------------


def test_remote_code_is_refused_where_it_is_asked_for():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="remote code"):
        ModelPatientSpec.model_validate({"model": {"reference": "a/b", "allowRemoteCode": True}})
    with pytest.raises(ValidationError, match="remote code"):
        DiagnoseInput(model="a/b", allow_remote_code=True)


def test_recipes_validate_refuses_trust_remote_code(tmp_path):
    from model_hospital.cli import main

    from model_hospital.packaged import recipes_dir

    shipped = sorted(Path(recipes_dir()).rglob("*.yaml"))[0]
    text = shipped.read_text(encoding="utf-8")
    assert "trust_remote_code: false" in text
    recipe = tmp_path / "remote.yaml"
    recipe.write_text(text.replace("trust_remote_code: false", "trust_remote_code: true"))
    assert main(["recipes", "validate", str(shipped)]) == 0
    assert main(["recipes", "validate", str(recipe)]) == 2
