"""Distributed training: the train stage on two nodes through Oumi's torchrun launcher, gloo on CPU."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from cure_fixtures import make_diagnosis, write_diagnosis
from model_hospital.api.common import Symptom
from model_hospital.api.stages import DistributedTraining, TrainInput, WatchSettings
from model_hospital.clinic.cure import CureSettings, make_cure
from model_hospital.errors import HospitalError
from model_hospital.stages import train

os.environ.setdefault("DO_NOT_TRACK", "1")
MAX_STEPS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def logged_losses(adapter: Path) -> list[float]:
    """The training losses the trainer logged (every five steps), in step order."""
    history = json.loads((adapter / "trainer_state.json").read_text())["log_history"]
    return [entry["loss"] for entry in sorted(history, key=lambda e: e["step"]) if "loss" in entry]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[TrainInput, Path]:
    folder = tmp_path_factory.mktemp("distributed")
    diagnosis = make_diagnosis(symptoms=(Symptom.safety,), per_category=1)
    diagnosis_path = write_diagnosis(diagnosis, folder)
    make_cure(diagnosis, folder / "cure", CureSettings(min_examples=30, max_examples=40))
    return TrainInput(diagnosis=str(diagnosis_path), cure=str(folder / "cure"), max_steps=MAX_STEPS), folder


def run_node(stage_input: TrainInput, output: Path, rank: int, folder: Path) -> subprocess.Popen:
    """One node of the Indexed Job: `hospital stage train` with its pod index, as the pod runs it."""
    input_file = folder / "train-input.json"
    input_file.write_text(stage_input.model_dump_json(), encoding="utf-8")
    env = dict(os.environ, JOB_COMPLETION_INDEX=str(rank), OMP_NUM_THREADS="1",
               HOSPITAL_TERMINATION_LOG=str(folder / f"termination-{rank}"))
    (folder / f"termination-{rank}").write_text("")
    log = open(folder / f"node-{rank}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "model_hospital.cli", "stage", "train", "--input",
                             str(input_file), "--output", str(output)], stdout=log, stderr=subprocess.STDOUT, env=env)


def test_two_nodes_train_to_the_end_and_node_zero_alone_saves_and_reports(prepared):
    one_process_input, folder = prepared
    alone = train.run(one_process_input, folder / "alone", Console(file=io.StringIO()))
    two_nodes = one_process_input.model_copy(update={"distributed": DistributedTraining(
        nodes=2, processes_per_node=1, master_addr="127.0.0.1", master_port=free_port())})
    output = folder / "two-nodes"
    nodes = [run_node(two_nodes, output, rank, folder) for rank in (0, 1)]
    codes = [node.wait(timeout=1800) for node in nodes]

    logs = [(folder / f"node-{rank}.log").read_text() for rank in (0, 1)]
    assert codes == [0, 0], logs[codes.index(max(codes))][-3000:]
    result = json.loads((output / "result.json").read_text())
    assert result["ok"] and result["summary"]["distributed"] == {"nodes": 2, "processes_per_node": 1}
    assert json.loads((folder / "termination-0").read_text())["ok"]
    assert (folder / "termination-1").read_text() == "", "node 1 reports nothing: node 0 speaks for the training"
    assert (output / "node-1" / "recipe.yaml").is_file(), "node 1 reads a recipe of its own"
    adapter = output / "adapter"
    assert (adapter / "adapter_model.safetensors").is_file() and (adapter / "hospital_base.json").is_file()
    saved = [line for line in logs[0].splitlines() if "Model has been saved at" in line]
    assert len(saved) == 1, "the adapter is saved once, by global rank 0"
    assert "Model has been saved" not in logs[1]

    both, single = logged_losses(adapter), logged_losses(Path(alone.artifacts["adapter"]))
    assert len(both) >= 2 and len(single) >= 2
    assert both[-1] < both[0] and single[-1] < single[0], (both, single)
    assert abs(both[0] - single[0]) / single[0] < 0.1, "the same model on the same data starts from the same loss"


def test_the_launcher_is_oumis_torchrun_around_oumi_train_on_gpus_and_the_gloo_module_on_cpu():
    recipe = Path("r.yaml")
    two = DistributedTraining(nodes=2, processes_per_node=4, master_addr="tx-train-1-0.tx-train-1", master_port=29500)
    assert train.launch_command(recipe, None, two, cuda=True)[1:] == [
        "-m", "oumi", "distributed", "torchrun", "-m", "oumi", "train", "-c", "r.yaml"]
    assert train.launch_command(recipe, None, two, cuda=False)[1:] == [
        "-m", "oumi", "distributed", "torchrun", "-m", "model_hospital.stages.watched_train", "-c", "r.yaml"]
    assert train.launch_command(recipe, None, DistributedTraining(), cuda=True)[1:] == [
        "-m", "oumi", "train", "-c", "r.yaml"], "one process needs no launcher"
    env = train.launcher_environment(two, 1)
    assert env["SKYPILOT_NODE_RANK"] == "1" and env["SKYPILOT_NUM_GPUS_PER_NODE"] == "4"
    assert env["SKYPILOT_NODE_IPS"].splitlines() == ["tx-train-1-0.tx-train-1"] * 2
    assert env["MASTER_PORT"] == "29500"


def test_the_rendezvous_comes_from_the_jobs_environment_unless_the_input_names_it(monkeypatch):
    monkeypatch.setenv("MASTER_ADDR", "tx-train-1-0.tx-train-1")
    monkeypatch.setenv("MASTER_PORT", "29511")
    assert train.rendezvous(DistributedTraining(nodes=2)) == ("tx-train-1-0.tx-train-1", 29511)
    assert train.rendezvous(DistributedTraining(nodes=2, master_addr="h", master_port=2000)) == ("h", 2000)
    monkeypatch.delenv("MASTER_ADDR")
    monkeypatch.delenv("MASTER_PORT")
    assert train.rendezvous(DistributedTraining(nodes=2)) == ("127.0.0.1", 29500)
    monkeypatch.setenv("MASTER_PORT", "http")
    with pytest.raises(HospitalError, match="MASTER_PORT"):
        train.rendezvous(DistributedTraining(nodes=2))


def test_the_node_rank_comes_from_the_indexed_jobs_pod_index(monkeypatch):
    two = DistributedTraining(nodes=2)
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "1")
    assert train.node_rank(two) == 1
    assert train.node_rank(two.model_copy(update={"node_rank": 0})) == 0
    assert train.node_rank(None) == 0
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "2")
    with pytest.raises(HospitalError, match="not below nodes"):
        train.node_rank(two)
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "x")
    with pytest.raises(HospitalError, match="Indexed Job"):
        train.node_rank(two)


def test_the_training_watch_is_refused_across_processes(prepared):
    stage_input, folder = prepared
    watched = stage_input.model_copy(update={"watch": WatchSettings(),
                                             "distributed": DistributedTraining(processes_per_node=2)})
    with pytest.raises(HospitalError, match="one process only"):
        train.run(watched, folder / "watched", Console(file=io.StringIO()))
