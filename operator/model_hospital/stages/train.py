"""The train stage (the Surgeon's hands): write the recipe, run `oumi train`, leave an adapter the clinic resolves.

`oumi train -c recipe.yaml` runs as a subprocess (an argument list, never a shell),
with Oumi's telemetry and hub access off; its output is streamed line by line. The
adapter folder gets `hospital_base.json` naming the base model's reference, so that
`--model ADAPTER_DIR` works everywhere (`clinic.models.resolve`). `merge` also writes
a merged full model next to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

from rich.console import Console

from model_hospital.api.stages import DistributedTraining, StageResult, TrainInput, progress_line
from model_hospital.clinic import recipes
from model_hospital.clinic.cure import training_data
from model_hospital.clinic.cure.inputs import load_diagnosis, load_skill_report, patient_weights
from model_hospital.clinic.models import BASE_MARKER
from model_hospital.errors import HospitalError

RECIPE_FILE = "recipe.yaml"
ADAPTER_DIR = "adapter"
MERGED_DIR = "merged"
START_DIR = "start"
WATCH_SETTINGS_FILE = "watch_settings.json"
DATA_DIR = "data"
LOG_TAIL_LINES = 30
CHECKPOINT_PREFIX = "checkpoint-"  # the trainer's own folder names (transformers' PREFIX_CHECKPOINT_DIR)
CHECKPOINT_STAMP = "checkpoints.sha256"  # which recipe and data the checkpoints beside it belong to
DEFAULT_MASTER_PORT = 29500  # torchrun's own default
NODE_DIR = "node-{rank}"  # a worker node's own recipe and data, beside node 0's (the adapter folder is shared)


def run(stage_input: TrainInput, output_dir, console: Console | None = None) -> StageResult | None:
    """Writes the recipe for a diagnosis and cure, trains it, and returns where the adapter lies; None on a
    worker node of a distributed training (node 0 reports for all)."""
    from model_hospital.clinic.models import resolve

    output_dir = Path(output_dir)
    console = console or Console(stderr=True)
    if stage_input.method == "sft_dpo":
        from model_hospital.stages import sft_dpo

        return sft_dpo.run(stage_input, output_dir, console)
    rank = node_rank(stage_input.distributed)
    if stage_input.distributed is not None and stage_input.distributed.world_size > 1 and stage_input.watch:
        raise HospitalError("train.watch: the training watch runs in one process only; train without "
                            "distributed, or without the watch")
    # Every node writes a recipe (and data) of its own, so that none reads a file another is writing.
    work_dir = output_dir if rank == 0 else output_dir / NODE_DIR.format(rank=rank)
    diagnosis = load_diagnosis(stage_input.diagnosis)
    report = load_skill_report(stage_input.skill_report) if stage_input.skill_report else None
    patient = resolve(patient_weights(diagnosis, stage_input.diagnosis))
    base_reference = patient.base.reference if patient.base else patient.reference
    plan = recipes.plan_treatment(diagnosis, report, stage_input.method, stage_input.overrides)
    model_path, start = str(patient.weights_path), None
    if stage_input.start_from:
        start = starting_model(stage_input.start_from, base_reference, work_dir / START_DIR)
        model_path = str(start)
        plan.reasons.append(f"starts from the adapter {stage_input.start_from}, merged into the base: "
                            + ("DPO's starting point and its reference model" if plan.method == "dpo"
                               else "the starting point"))
    watch, data_dir, prepared = stage_input.watch, Path(stage_input.cure), None
    replay_pairs_needed = plan.replay_boost and plan.method == "dpo"
    prefer_help = plan.method == "dpo" and start is not None  # DPO continuing a cure (training_data's docstring)
    if watch is not None or replay_pairs_needed or prefer_help:
        prepared = training_data.prepare(
            Path(stage_input.cure), work_dir / DATA_DIR,
            render=prompt_renderer(model_path) if replay_pairs_needed or prefer_help else None,
            watch_share=watch.validation_share if watch else None, watch_limit=watch.max_prompts if watch else 0,
            replay_pairs_needed=replay_pairs_needed, prefer_help=prefer_help)
        data_dir = prepared.folder
        if watch is not None and prepared.unwatchable:
            console.print(f"[yellow]training is not watched[/]: {prepared.unwatchable}")
            watch = None
        elif watch is not None:
            watch = watch.model_copy(update={"prompts": str(data_dir / training_data.VALIDATION_PROMPTS_FILE)})
            plan.reasons.append(f"watched: {prepared.validation_prompts} validation prompts held out "
                                f"({', '.join(f'{n} {k}' for k, n in prepared.by_kind.items())}), judged every "
                                f"{watch.every_steps} steps; stops on over-refusal or wrong answers to look-alikes "
                                f"up more than {watch.over_refusal_margin:.0%} or no gain in {watch.patience} "
                                f"evaluations, not before {watch.min_steps_share:.0%} of the steps")
        if prepared.help_pairs:
            plan.reasons.append(f"DPO continues the cure of {stage_input.start_from}: replay pairs beside the "
                                f"cure's, {prepared.help_pairs} pairs that prefer help (contrast and replay) in all")
        if prepared.replay_pairs:
            plan.reasons.append(f"replay for {plan.method.upper()}: {prepared.replay_pairs} replay pairs "
                                "(the good answer preferred to one of the cure's refusals)")
    config = recipes.training_config(plan, model_path=model_path, cure_dir=str(data_dir),
                                     output_dir=str(output_dir / ADAPTER_DIR), dtype=default_dtype(),
                                     max_steps=stage_input.max_steps, watch=watch,
                                     q_lora=stage_input.q_lora, checkpoint_steps=stage_input.checkpoint_steps)
    header = recipes.generated_header(plan, base_reference).model_copy(update={"watch": watch})
    recipe_path = recipes.write_recipe(work_dir / RECIPE_FILE, header, config, plan.reasons)
    explain(plan, console)
    outcome = train_recipe(recipe_path, console, merge=stage_input.merge,
                           base_reference=str(start) if start else base_reference,
                           plan=plan.model_dump(mode="json", exclude={"reasons"}),
                           lineage={"patient": base_reference, "started_from": stage_input.start_from}
                           if start else None, distributed=stage_input.distributed)
    if rank > 0:
        console.print(f"node {rank} done: node 0 saves the adapter and reports")
        return None
    artifacts = {"recipe": str(recipe_path), **{k: v for k, v in outcome.items() if k in ("adapter", "merged")}}
    summary = {"method": plan.method, "severity": plan.severity.value, "learning_rate": plan.learning_rate,
               "lora_r": plan.lora_r, "epochs": plan.epochs, "replay_boost": plan.replay_boost,
               "adjustments": plan.adjustments,
               "train_seconds": outcome["seconds"], "adapter": outcome["adapter"]}
    if start:
        summary["started_from"] = stage_input.start_from
    if stage_input.watch is not None:
        summary["watch"] = outcome.get("watch") or {"watched": False, "reason": prepared.unwatchable}
    if outcome.get("resumed_from_step"):
        summary["resumed_from_step"] = outcome["resumed_from_step"]
    if "merged" in outcome:
        summary["merged"] = outcome["merged"]
    if stage_input.distributed is not None and stage_input.distributed.world_size > 1:
        summary["distributed"] = {"nodes": stage_input.distributed.nodes,
                                  "processes_per_node": stage_input.distributed.processes_per_node}
    return StageResult(stage="train", ok=True, message=f"adapter at {outcome['adapter']}", summary=summary,
                       artifacts=artifacts, provenance={"base_model": base_reference,
                                                        "oumi": recipes.oumi_version(),
                                                        "diagnosis": stage_input.diagnosis,
                                                        "cure": stage_input.cure,
                                                        **({"started_from": stage_input.start_from} if start else {})})


def starting_model(adapter_reference: str, base_reference: str, target: Path) -> Path:
    """A full model folder: an adapter of the patient merged into its base, for training to start from.

    Merged rather than loaded as a trainable adapter: a second LoRA on top of a PEFT model is
    not what Oumi builds, and the merged SFT model is what DPO's loss should compare against
    (its reference model is the policy it starts from, with the new adapter switched off).
    """
    from model_hospital.clinic.models import resolve

    start = resolve(adapter_reference)
    if start.kind != "adapter" or start.base is None:
        raise HospitalError(f"train.startFrom: {adapter_reference} is not a LoRA adapter folder (a train stage's "
                            "adapter); give the adapter of the SFT attempt")
    if start.base.reference != base_reference:
        raise HospitalError(f"train.startFrom: {adapter_reference} is an adapter of {start.base.reference}, not of "
                            f"the patient {base_reference}")
    if not (target / "config.json").is_file():
        merge_adapter(start.path, target)
    return target


def prompt_renderer(model_path: str):
    """A function rendering a user prompt through the model's chat template (for preference pairs)."""
    from transformers import AutoTokenizer

    from model_hospital.clinic.cure.writers import prompt_renderer as render_with

    return render_with(AutoTokenizer.from_pretrained(model_path))


def require_q_lora(asked_by: str) -> None:
    """Nothing where QLoRA can train (a CUDA GPU and bitsandbytes); else one HospitalError, before training starts."""
    import torch

    if not torch.cuda.is_available():
        raise HospitalError(f"{asked_by} needs a CUDA GPU and none is present here: run it on a GPU node "
                            "(spec.training.qLora asks the operator for one), or train plain LoRA")
    from model_hospital.extras import require_extra

    require_extra("gpu", "bitsandbytes")


def default_dtype() -> str:
    """float32 on CPU (several times faster than bf16 there), bfloat16 on a GPU."""
    import torch

    return "bfloat16" if torch.cuda.is_available() else "float32"


def explain(plan: recipes.TreatmentPlan, console: Console) -> None:
    """Prints each choice of the plan and why it was made."""
    console.print(f"[bold]recipe[/] for {plan.symptom.value} ({plan.severity.value}): {plan.method.upper()}, "
                  f"lr {plan.learning_rate:g}, LoRA r {plan.lora_r} / alpha {plan.lora_alpha}, {plan.epochs} epoch(s)")
    for reason in plan.reasons:
        console.print(f"  - {reason}")


def train_command(recipe_path: Path, watch_path: Path | None = None) -> list[str]:
    """The `oumi train` command line for a recipe (Oumi's own entry point in this interpreter); a watched
    recipe runs Oumi's same train function through `stages.watched_train`, which adds the watch's callback."""
    if watch_path is not None:
        return [sys.executable, "-m", "model_hospital.stages.watched_train", "-c", str(recipe_path),
                "--watch", str(watch_path)]
    return [sys.executable, "-m", "oumi", "train", "-c", str(recipe_path)]


def node_rank(distributed: DistributedTraining | None) -> int:
    """This node's rank in a distributed training: the input's, else the Indexed Job's pod index, else 0."""
    if distributed is None:
        return 0
    if distributed.node_rank is not None:
        rank = distributed.node_rank
    else:
        index = os.environ.get("JOB_COMPLETION_INDEX", "0")
        if not index.isdigit():
            raise HospitalError(f"JOB_COMPLETION_INDEX is {index!r}, not a pod index: run the train stage in an "
                                "Indexed Job, or set train.distributed.node_rank")
        rank = int(index)
    if rank >= distributed.nodes:
        raise HospitalError(f"train.distributed: node rank {rank} is not below nodes ({distributed.nodes}): "
                            "the Job's completions must equal the nodes")
    return rank


def launch_command(recipe_path: Path, watch_path: Path | None, distributed: DistributedTraining | None,
                   cuda: bool) -> list[str]:
    """The training command: `oumi train` (or the watched train) in one process, else Oumi's torchrun
    launcher around it. On CPU the launched module is `stages.watched_train`, which joins the gloo
    backend where Oumi 0.9's own train would ask for NCCL and a CUDA device."""
    command = train_command(recipe_path, watch_path)
    if distributed is None or distributed.world_size == 1:
        return command
    if not cuda:
        command = [sys.executable, "-m", "model_hospital.stages.watched_train", "-c", str(recipe_path)]
    return [sys.executable, "-m", "oumi", "distributed", "torchrun", *command[1:]]


def rendezvous(distributed: DistributedTraining) -> tuple[str, int]:
    """Node 0's host and port: the input's, else $MASTER_ADDR and $MASTER_PORT (the operator's Indexed Job
    sets them), else this machine and torchrun's usual port."""
    host = distributed.master_addr or os.environ.get("MASTER_ADDR") or "127.0.0.1"
    port = distributed.master_port or os.environ.get("MASTER_PORT") or DEFAULT_MASTER_PORT
    if not str(port).isdigit() or not 1024 <= int(port) <= 65535:
        raise HospitalError(f"MASTER_PORT is {port!r}: give a port from 1024 to 65535 (train.distributed.master_port)")
    return host, int(port)


def launcher_environment(distributed: DistributedTraining, rank: int) -> dict[str, str]:
    """What Oumi's torchrun launcher reads to place this node: it knows SkyPilot's variables (its local
    detection needs CUDA), so the node speaks those. The launcher dials only the first host of
    SKYPILOT_NODE_IPS and counts the list for the number of nodes."""
    host, port = rendezvous(distributed)
    return {"SKYPILOT_NODE_RANK": str(rank), "SKYPILOT_NODE_IPS": "\n".join([host] * distributed.nodes),
            "SKYPILOT_NUM_GPUS_PER_NODE": str(distributed.processes_per_node), "MASTER_PORT": str(port)}


def train_environment(config) -> dict[str, str]:
    """The environment of `oumi train`: no telemetry, no hub, and our reward functions for GRPO."""
    env = dict(os.environ)
    env.update({"DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "PYTHONUNBUFFERED": "1"})
    # The launcher starts `torchrun` from PATH: this interpreter's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if str(config.training.trainer_type.name).endswith("GRPO") or any(
            d.dataset_name == "hospital_grpo_jsonl" for d in config.data.train.datasets):
        deps = Path(config.training.output_dir) / "oumi_extra_deps.txt"
        deps.parent.mkdir(parents=True, exist_ok=True)
        deps.write_text(str(recipes.REWARDS_MODULE) + "\n", encoding="utf-8")
        env["OUMI_EXTRA_DEPS_FILE"] = str(deps)
    return env


def train_recipe(recipe_path: Path, console: Console, *, merge: bool = False,
                 base_reference: str | None = None, plan: dict | None = None, lineage: dict | None = None,
                 distributed: DistributedTraining | None = None) -> dict:
    """Runs `oumi train` on a recipe; returns the adapter (and merged model) folders, the seconds it took
    and, for a watched recipe, what the watch chose. Distributed, this node runs Oumi's torchrun launcher;
    a worker node (rank > 0) returns once its processes end, leaving the adapter to node 0.

    The adapter's hospital_base.json names its base, its recipe and, from the train stage,
    the plan (a retry reads the adjustments already made from it) and, when it started from
    another adapter, its lineage (the patient and that adapter).
    """
    _, declared = recipes.load_recipe(recipe_path)
    recipe_path, resolved_base = recipes.runnable_recipe(Path(recipe_path),
                                                         Path(declared.training.output_dir).parent)
    base_reference = base_reference or resolved_base
    header, config = recipes.load_recipe(recipe_path)
    recipes.check_datasets(config, recipe_path)
    if not config.training.use_peft:
        raise HospitalError(f"{recipe_path}: field training.use_peft: must be true (the train stage leaves a LoRA adapter)")
    if config.peft.q_lora:
        require_q_lora(f"{recipe_path}: peft.q_lora")
    adapter = Path(config.training.output_dir)
    watch_path = None
    if header.watch is not None:
        watch_path = adapter.parent / WATCH_SETTINGS_FILE
        watch_path.parent.mkdir(parents=True, exist_ok=True)
        watch_path.write_text(header.watch.model_dump_json(indent=1), encoding="utf-8")
    rank = node_rank(distributed)
    # Node 0 alone sorts the checkpoints: the others cannot start training before it joins the rendezvous.
    resumed_from = usable_checkpoint(adapter, training_fingerprint(recipe_path, config), console) if rank == 0 else None
    import torch

    command = launch_command(recipe_path, watch_path, distributed, torch.cuda.is_available())
    env = train_environment(config)
    if command[1:5] == ["-m", "oumi", "distributed", "torchrun"]:
        env.update(launcher_environment(distributed, rank))
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
    console.print(f"running: {' '.join(command)}")
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env, bufsize=1) as process:
        steps = StepProgress(config.training.num_train_epochs, config.training.max_steps)
        for line in process.stdout:
            tail.append(line.rstrip())
            console.print(line.rstrip(), markup=False, highlight=False, soft_wrap=True)
            if (report := steps.update(line)) is not None:
                console.print(report, markup=False, highlight=False)
        code = process.wait()
    seconds = round(time.monotonic() - started, 1)
    if code != 0:
        raise RuntimeError(f"oumi train failed (exit {code}) on {recipe_path}; last lines:\n" + "\n".join(tail))
    if rank > 0:
        return {"adapter": str(adapter), "seconds": seconds, "resumed_from_step": None}
    if not (adapter / "adapter_config.json").is_file():
        raise RuntimeError(f"oumi train finished but left no adapter_config.json in {adapter}")
    watched = watch_outcome(adapter) if watch_path is not None else None
    base = base_reference or config.model.model_name
    marker = {"reference": base, "recipe": str(recipe_path), "recipe_id": header.recipe_id}
    if plan is not None:
        marker["plan"] = plan
    if lineage is not None:
        marker["lineage"] = lineage
    (adapter / BASE_MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
    clear_checkpoints(adapter)
    outcome = {"adapter": str(adapter), "seconds": seconds, "resumed_from_step": resumed_from}
    if watched is not None:
        outcome["watch"] = watched
    if merge:
        outcome["merged"] = str(merge_adapter(adapter, adapter.parent / MERGED_DIR))
    return outcome


def watch_outcome(adapter: Path) -> dict:
    """What the training watch chose (`training_watch.read_record`); an error when it kept no trained step, for
    the weights before training are the patient, not a cure."""
    from model_hospital.clinic.training_watch import read_record

    watched = read_record(adapter)
    if watched["watched"] and watched["chosen_step"] is None:
        raise HospitalError(
            f"the training watch kept no trained step: {watched['chosen_because']}. The weights before training are "
            f"no cure; see {watched['record']}, then lower the learning rate, widen the watch's overRefusalMargin or "
            "train unwatched")
    return watched


def training_fingerprint(recipe_path: Path, config) -> str:
    """sha256 of the recipe and of every training file it reads: a checkpoint resumes only the same training."""
    digest = hashlib.sha256(Path(recipe_path).read_bytes())
    for dataset in config.data.train.datasets:
        if dataset.dataset_path and Path(dataset.dataset_path).is_file():
            digest.update(Path(dataset.dataset_path).read_bytes())
    return digest.hexdigest()


def checkpoint_step(folder: Path) -> int | None:
    """The step a trainer checkpoint folder (checkpoint-N) was saved at; None for any other name."""
    step = folder.name.removeprefix(CHECKPOINT_PREFIX)
    return int(step) if folder.name.startswith(CHECKPOINT_PREFIX) and step.isdigit() else None


def usable_checkpoint(adapter: Path, fingerprint: str, console: Console) -> int | None:
    """The step of the newest whole checkpoint of this same training in the adapter folder (Oumi resumes
    from it), None when there is none; removes half-written checkpoints and those of another training."""
    checkpoints = sorted((p for p in adapter.glob(f"{CHECKPOINT_PREFIX}*") if checkpoint_step(p) is not None),
                         key=checkpoint_step)
    stamp = adapter / CHECKPOINT_STAMP
    same = stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == fingerprint
    kept = []
    for checkpoint in checkpoints:
        if same and (checkpoint / "trainer_state.json").is_file():
            kept.append(checkpoint)
        else:
            shutil.rmtree(checkpoint, ignore_errors=True)
    if checkpoints and not kept:
        console.print("[yellow]checkpoints removed[/]: they were half-written or of another recipe or cure data")
    adapter.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint + "\n", encoding="utf-8")
    if not kept:
        return None
    step = checkpoint_step(kept[-1])
    console.print(f"resuming from {kept[-1]} (step {step}): this attempt ran before and was stopped")
    return step


def clear_checkpoints(adapter: Path) -> None:
    """Removes the checkpoints once the adapter is saved: they hold optimizer state nobody needs after."""
    for checkpoint in adapter.glob(f"{CHECKPOINT_PREFIX}*"):
        if checkpoint_step(checkpoint) is not None:
            shutil.rmtree(checkpoint, ignore_errors=True)
    (adapter / CHECKPOINT_STAMP).unlink(missing_ok=True)


class StepProgress:
    """Training steps done / in all, read from the trainer's output (tqdm bars or its logged step and epoch)."""

    BAR = re.compile(r"^\s*\d+%\|[^|]*\| (\d+)/(\d+) \[")  # the trainer's bar has no label ("Map: ..." has)
    STEP = re.compile(r"'step': '?(\d+)")
    EPOCH = re.compile(r"'epoch': '?([0-9.]+)")

    def __init__(self, epochs: float, max_steps: int | None) -> None:
        self.epochs = float(epochs or 1)
        self.max_steps = max_steps if max_steps and max_steps > 0 else None
        self.last: tuple[int, int] | None = None

    def update(self, line: str) -> str | None:
        """A progress line when `line` moves the count on, else None."""
        found = self.BAR.search(line)
        if found:
            done, total = int(found.group(1)), int(found.group(2))
        else:
            step, epoch = self.STEP.search(line), self.EPOCH.search(line)
            if not step or not epoch or float(epoch.group(1)) <= 0:
                return None
            done = int(step.group(1))
            total = self.max_steps or max(done, round(done / float(epoch.group(1)) * self.epochs))
        if total <= 0 or (done, total) == self.last:
            return None
        self.last = (done, total)
        return progress_line(done, total, "steps", "training")


def merge_adapter(adapter: Path, target: Path) -> Path:
    """A full model folder with the LoRA adapter merged into its base (loadable without PEFT)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from model_hospital.clinic.models import resolve

    resolved = resolve(str(adapter))
    base = AutoModelForCausalLM.from_pretrained(str(resolved.weights_path), dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    target.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(target, safe_serialization=True)
    AutoTokenizer.from_pretrained(str(resolved.weights_path)).save_pretrained(target)
    return target
