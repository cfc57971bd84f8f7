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
