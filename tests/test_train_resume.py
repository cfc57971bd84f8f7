"""Checkpoints and resume: a training run killed half-way resumes from its newest checkpoint when run again."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from cure_fixtures import make_diagnosis, write_diagnosis
from model_hospital.api.common import Symptom
from model_hospital.api.stages import TrainInput
from model_hospital.clinic import recipes
from model_hospital.clinic.cure import CureSettings, make_cure
from model_hospital.stages import train

os.environ.setdefault("DO_NOT_TRACK", "1")
MAX_STEPS = 16
EVERY = 2


@pytest.fixture(scope="module")
def stage_input(tmp_path_factory) -> tuple[TrainInput, Path]:
    folder = tmp_path_factory.mktemp("resume")
    diagnosis = make_diagnosis(symptoms=(Symptom.safety,), per_category=1)
    diagnosis_path = write_diagnosis(diagnosis, folder)
    make_cure(diagnosis, folder / "cure", CureSettings(min_examples=20, max_examples=30))
    return TrainInput(diagnosis=str(diagnosis_path), cure=str(folder / "cure"), max_steps=MAX_STEPS,
                      checkpoint_steps=EVERY), folder


def kill_after_first_checkpoint(stage_input: TrainInput, output: Path) -> None:
    """Runs the train stage as a Job runs it, and SIGKILLs it (and oumi) once a whole checkpoint exists."""
    input_file = output.parent / "train-input.json"
    input_file.write_text(stage_input.model_dump_json(), encoding="utf-8")
    log = open(output.parent / "killed-run.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "model_hospital.cli", "stage", "train", "--input",
                                str(input_file), "--output", str(output)],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 600
    try:
        while not list((output / "adapter").glob("checkpoint-*/trainer_state.json")):
            assert process.poll() is None, f"the training ended before its first checkpoint: see {log.name}"
            assert time.monotonic() < deadline, "no checkpoint within 10 minutes"
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()


def test_a_killed_training_resumes_from_its_checkpoint_and_ends_clean(stage_input):
    train_input, folder = stage_input
    output = folder / "train-1"
    kill_after_first_checkpoint(train_input, output)
    adapter = output / "adapter"
    assert not (adapter / "adapter_config.json").is_file(), "killed before the end: no final adapter yet"
    steps_done = max(int(p.name.rpartition("-")[2]) for p in adapter.glob("checkpoint-*"))
    assert steps_done < MAX_STEPS

    printed = io.StringIO()
    result = train.run(train_input, output, Console(file=printed, width=200))

    assert result.summary["resumed_from_step"] >= EVERY
    assert "Resuming training from checkpoint" in printed.getvalue()
    assert (adapter / "adapter_config.json").is_file()
    assert not list(adapter.glob("checkpoint-*")), "checkpoints are removed once the adapter is saved"
    assert not list(adapter.glob("checkpoint-*")), "checkpoints are removed once the adapter is saved"


def test_checkpoints_of_another_training_or_half_written_are_not_resumed(tmp_path):
    adapter = tmp_path / "adapter"
    for step in (4, 8):
        (adapter / f"checkpoint-{step}").mkdir(parents=True)
        (adapter / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    (adapter / "checkpoint-12").mkdir()  # killed while saving: no trainer state
    (adapter / "checkpoint-notes").mkdir()  # not the trainer's: neither resumed nor removed
    quiet = Console(file=io.StringIO())

    assert train.usable_checkpoint(adapter, "recipe-a", quiet) is None, "no stamp: not known to be this training"
    assert [p.name for p in adapter.glob("checkpoint-*")] == ["checkpoint-notes"]
    (adapter / "checkpoint-notes").rmdir()

    for step in (4, 8):
        (adapter / f"checkpoint-{step}").mkdir()
        (adapter / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    (adapter / "checkpoint-12").mkdir()
    assert train.usable_checkpoint(adapter, "recipe-a", quiet) == 8
    assert not (adapter / "checkpoint-12").exists(), "a half-written checkpoint is removed, not resumed"
    assert train.usable_checkpoint(adapter, "recipe-b", quiet) is None, "another recipe or data: start over"
    assert not list(adapter.glob("checkpoint-*"))


def test_the_recipe_saves_and_resumes_checkpoints_only_when_asked(tmp_path):
    plan = recipes.plan_treatment(make_diagnosis(symptoms=(Symptom.safety,), per_category=1))

    def loaded(**extra):
        config = recipes.training_config(plan, model_path="m", cure_dir="c", output_dir="o", **extra)
        path = recipes.write_recipe(tmp_path / "recipe.yaml", recipes.generated_header(plan, "x"), config)
        return recipes.load_recipe(path)[1].training

    kept = loaded(checkpoint_steps=25)
    assert kept.save_steps == 25 and kept.try_resume_from_last_checkpoint
    assert kept.trainer_kwargs["save_total_limit"] == 1
    plain = loaded()
    assert plain.save_steps == 0 and not plain.try_resume_from_last_checkpoint
