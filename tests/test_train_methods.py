"""SFT then DPO from the SFT adapter, and the retry step "add replay" for DPO and GRPO, on the tiny model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from cure_fixtures import make_diagnosis, write_diagnosis
from model_hospital.api.common import Symptom
from model_hospital.api.stages import TrainInput
from model_hospital.clinic import recipes
from model_hospital.clinic.cure import CureSettings, make_cure
from model_hospital.clinic.models import resolve
from model_hospital.errors import HospitalError
from model_hospital.stages import train

os.environ.setdefault("DO_NOT_TRACK", "1")
QUIET = Console(file=open(os.devnull, "w"))
ADD_REPLAY = {"skills": {"math": {"degraded": True}}, "recommendations": [{"action": "add_replay", "reason": "math"}]}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("methods")
    diagnosis = make_diagnosis(symptoms=(Symptom.safety,), per_category=1)
    make_cure(diagnosis, folder / "cure", CureSettings(min_examples=30, max_examples=40))
    (folder / "verification.json").write_text(json.dumps(ADD_REPLAY))
    return write_diagnosis(diagnosis, folder), folder


@pytest.fixture(scope="module")
def chain(prepared):
    diagnosis_path, folder = prepared
    sft = train.run(TrainInput(diagnosis=str(diagnosis_path), cure=str(folder / "cure"), max_steps=3),
                    folder / "sft", QUIET)
    dpo = train.run(TrainInput(diagnosis=str(diagnosis_path), cure=str(folder / "cure"), method="dpo", max_steps=2,
                               start_from=sft.artifacts["adapter"]), folder / "sft_dpo", QUIET)
    return sft, dpo


def _logits(model_folder: Path, adapter: Path | None = None):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(model_folder), dtype=torch.float32)
    if adapter is not None:
        model = PeftModel.from_pretrained(model, str(adapter))
    with torch.no_grad():
        return model(torch.tensor([[1, 5, 9, 13, 2]])).logits


def test_dpo_after_sft_starts_from_the_sft_adapter_not_the_base(chain):
    import torch

    sft, dpo = chain
    header, config = recipes.load_recipe(dpo.artifacts["recipe"])
    start = Path(config.model.model_name)
    base = resolve("bundled:tiny-random-llama").path
    assert config.training.trainer_type.name == "TRL_DPO" and start != base
    # The weights DPO starts from (and compares against) are the SFT model's, not the base's.
    sft_logits = _logits(base, Path(sft.artifacts["adapter"]))
    assert torch.allclose(_logits(start), sft_logits, atol=1e-4)
    assert not torch.allclose(_logits(base), sft_logits, atol=1e-4)
    assert dpo.summary["started_from"] == sft.artifacts["adapter"]


def test_the_chained_adapter_resolves_on_the_sft_weights_and_names_its_lineage(chain):
    sft, dpo = chain
    adapter = resolve(dpo.artifacts["adapter"])
    assert adapter.kind == "adapter" and adapter.base.path == Path(recipes.load_recipe(
        dpo.artifacts["recipe"])[1].model.model_name).resolve()
    marker = json.loads((Path(dpo.artifacts["adapter"]) / "hospital_base.json").read_text())
    assert marker["lineage"] == {"patient": "bundled:tiny-random-llama", "started_from": sft.artifacts["adapter"]}


def test_starting_from_something_that_is_not_an_adapter_of_the_patient_is_refused(prepared, tmp_path):
    diagnosis_path, folder = prepared
    with pytest.raises(HospitalError, match="is not a LoRA adapter folder"):
        train.run(TrainInput(diagnosis=str(diagnosis_path), cure=str(folder / "cure"), method="dpo", max_steps=1,
                             start_from=str(resolve("bundled:tiny-random-llama").path)), tmp_path / "x", QUIET)


def test_the_add_replay_step_gives_dpo_replay_pairs_that_prefer_help_to_a_refusal(prepared):
    diagnosis_path, folder = prepared
    result = train.run(TrainInput(diagnosis=str(diagnosis_path), cure=str(folder / "cure"), method="dpo",
                                  max_steps=1, skill_report=str(folder / "verification.json")),
                       folder / "dpo_retry", QUIET)
    assert result.summary["replay_boost"] and result.summary["adjustments"] == ["add_replay"]
    _, config = recipes.load_recipe(result.artifacts["recipe"])
    paths = [Path(d.dataset_path).name for d in config.data.train.datasets]
    assert paths == ["cure_dpo.jsonl", "replay_dpo.jsonl"]
    pairs = [json.loads(line) for line in Path(config.data.train.datasets[1].dataset_path).open()]
    replay = [json.loads(line) for line in (folder / "cure" / "replay_sft.jsonl").open()]
    refusals = {json.loads(line)["chosen"] for line in (folder / "cure" / "cure_dpo.jsonl").open()}
    assert len(pairs) == len(replay) > 0
    for pair, row in zip(pairs, replay):
        assert pair["chosen"] == row["messages"][-1]["content"] and pair["rejected"] in refusals
        assert row["messages"][0]["content"] in pair["prompt"] and pair["prompt"] != row["messages"][0]["content"]


def test_the_add_replay_step_gives_grpo_the_look_alike_prompts_again(prepared, tmp_path):
    from model_hospital.clinic.cure.hospital_rewards import HospitalGrpoDataset
    from model_hospital.clinic.cure.inputs import load_skill_report

    diagnosis_path, folder = prepared
    plan = recipes.plan_treatment(make_diagnosis(symptoms=(Symptom.safety,), per_category=1),
                                  load_skill_report(folder / "verification.json"), "grpo")
    config = recipes.training_config(plan, model_path=str(resolve("bundled:tiny-random-llama").path),
                                     cure_dir=str(folder / "cure"), output_dir=str(tmp_path / "out"))
    path = recipes.write_recipe(tmp_path / "grpo.yaml", recipes.generated_header(plan, "x"), config)
    _, loaded = recipes.load_recipe(path)
    extra = loaded.data.train.datasets[1]
    assert extra.dataset_kwargs == {"kinds": ["benign_lookalike"]}
    everything = HospitalGrpoDataset(dataset_path=extra.dataset_path)
    lookalikes = HospitalGrpoDataset(dataset_path=extra.dataset_path, **extra.dataset_kwargs)
    kinds = [json.loads(line)["metadata"]["kind"] for line in Path(extra.dataset_path).open()]
    assert 0 < len(lookalikes) == kinds.count("benign_lookalike") < len(everything)


@pytest.fixture(scope="module")
def sft_dpo_stage(prepared):
    diagnosis_path, folder = prepared
    stage_input = TrainInput(diagnosis=str(diagnosis_path), cure=str(folder / "cure"), method="sft_dpo", max_steps=2)
    return stage_input, train.run(stage_input, folder / "sft_dpo_stage", QUIET)


def test_the_sft_dpo_method_trains_dpo_from_its_own_sft_adapter_in_one_stage(prepared, sft_dpo_stage):
    import torch

    _, folder = prepared
    _, result = sft_dpo_stage
    sft_adapter = Path(result.artifacts["sft_adapter"])
    assert recipes.load_recipe(result.artifacts["sft_recipe"])[1].training.trainer_type.name == "TRL_SFT"
    _, config = recipes.load_recipe(result.artifacts["recipe"])
    assert config.training.trainer_type.name == "TRL_DPO"
    base = resolve("bundled:tiny-random-llama").path
    sft_logits = _logits(base, sft_adapter)
    assert not torch.allclose(_logits(base), sft_logits, atol=1e-4)
    # DPO's starting weights (and reference model) are the SFT phase's, not the base's.
    assert torch.allclose(_logits(Path(config.model.model_name)), sft_logits, atol=1e-4)
    # One adapter out, where a train stage leaves it; its lineage names the SFT phase's adapter.
    assert Path(result.artifacts["adapter"]) == folder / "sft_dpo_stage" / "adapter"
    marker = json.loads((Path(result.artifacts["adapter"]) / "hospital_base.json").read_text())
    assert marker["lineage"]["started_from"] == str(sft_adapter)
    summary = result.summary
    assert summary["method"] == "sft_dpo" and summary["started_from"] == str(sft_adapter)
    assert summary["phases"]["sft"]["adapter"] == str(sft_adapter) and "started_from" not in summary["phases"]["sft"]
    assert summary["phases"]["dpo"]["started_from"] == str(sft_adapter)
    assert summary["phases"]["dpo"]["learning_rate"] == pytest.approx(summary["phases"]["sft"]["learning_rate"] / 10)


def test_a_finished_sft_phase_is_reused_only_for_the_same_input(prepared, sft_dpo_stage):
    from model_hospital.stages import sft_dpo

    _, folder = prepared
    stage_input, result = sft_dpo_stage
    phase = folder / "sft_dpo_stage" / sft_dpo.SFT_PHASE_DIR
    sft_input = stage_input.model_copy(update={"method": "sft"})
    assert sft_dpo.finished_phase(phase, sft_input).artifacts["adapter"] == result.artifacts["sft_adapter"]
    assert sft_dpo.finished_phase(phase, sft_input.model_copy(update={"max_steps": 3})) is None


def test_sft_dpo_refuses_a_starting_adapter_of_its_own(prepared, tmp_path):
    diagnosis_path, folder = prepared
    with pytest.raises(HospitalError, match="starts its DPO phase from its own SFT phase"):
        train.run(TrainInput(diagnosis=str(diagnosis_path), cure=str(folder / "cure"), method="sft_dpo",
                             start_from=str(folder / "sft" / "adapter")), tmp_path, QUIET)
    assert not any(tmp_path.iterdir())


def test_hospital_treat_takes_sft_dpo_as_a_method(monkeypatch, tmp_path):
    import model_hospital.treat as treat_module
    from model_hospital.cli import main

    planned = []

    def stop_after_planning(plan, output_dir, console, runner):
        planned.append(plan)
        raise HospitalError("planned only")

    monkeypatch.setattr(treat_module, "treat", stop_after_planning)
    code = main(["treat", "--model", "bundled:tiny-random-llama", "--symptom", "safety", "--method", "sft_dpo",
                 "--output", str(tmp_path)])
    assert code == 2 and planned[0].method == "sft_dpo"
    assert TrainInput(diagnosis="d", cure="c", method=planned[0].method).method == "sft_dpo"


def test_dpo_that_continues_a_cure_trains_on_its_pairs_with_replay_pairs_beside_them(prepared, chain):
    # The SFT adapter refuses already: the cure's refusal pairs alone pushed it further (55 % of look-alikes refused
    # on the bundled patient), the pairs that prefer help alone undid it (81 % unsafe); both together.
    _, folder = prepared
    _, dpo = chain
    _, config = recipes.load_recipe(dpo.artifacts["recipe"])
    [dataset] = config.data.train.datasets
    pairs = [json.loads(line) for line in Path(dataset.dataset_path).open()]
    cure_pairs = [json.loads(line) for line in (folder / "cure" / "cure_dpo.jsonl").open()]
    refusals = {p["chosen"] for p in cure_pairs if p["metadata"].get("kind", "cure") == "cure"}
    replay = [json.loads(line) for line in (folder / "cure" / "replay_sft.jsonl").open()]
    assert refusals and replay and Path(dataset.dataset_path).parent != folder / "cure"
    assert pairs[:len(cure_pairs)] == cure_pairs and len(pairs) == len(cure_pairs) + len(replay)
    added = pairs[len(cure_pairs):]
    assert all(p["metadata"]["kind"] == "replay_pair" and p["rejected"] in refusals for p in added)
    assert any("replay pairs beside the cure's" in line for line in open(dpo.artifacts["recipe"]).read().splitlines())


def test_dpo_from_the_base_still_trains_on_the_cure_pairs(prepared, tmp_path):
    diagnosis_path, folder = prepared
    result = train.run(TrainInput(diagnosis=str(diagnosis_path), cure=str(folder / "cure"), method="dpo",
                                  max_steps=1), tmp_path / "dpo", QUIET)
    _, config = recipes.load_recipe(result.artifacts["recipe"])
    assert [d.dataset_path for d in config.data.train.datasets] == [str(folder / "cure" / "cure_dpo.jsonl")]


def test_an_overridden_learning_rate_is_the_sft_phases_and_the_dpo_phase_takes_a_tenth_in_one_pass():
    from model_hospital.stages import sft_dpo

    overrides = {"learning_rate": 2e-4, "epochs": 3, "lora_r": 8}
    phase = sft_dpo.dpo_overrides(overrides)
    assert phase["learning_rate"] == pytest.approx(2e-5) and phase["lora_r"] == 8
    assert phase["epochs"] == sft_dpo.DPO_PHASE_EPOCHS == 1
    assert overrides == {"learning_rate": 2e-4, "epochs": 3, "lora_r": 8}  # the SFT phase's own are left as they were
    assert sft_dpo.dpo_overrides({"epochs": 2}) == {"epochs": 1} and sft_dpo.dpo_overrides(None) == {"epochs": 1}
