"""SFT, then DPO from the SFT adapter, as one train stage (`TrainInput.method` sft_dpo).

The SFT phase is a train stage of its own under <output>/sft (recipe, data, adapter,
input.json and result.json). The DPO phase starts from that adapter merged into the
base (`TrainInput.start_from`: DPO's starting point and its reference model) and leaves
the stage's one adapter where any train stage leaves it, so that the treatment's stage
order and the verify stage see one train stage and one adapter. The result is the DPO
phase's, with the method sft_dpo and both phases in the summary. Run again (a restarted
pod, `hospital treat` again), a finished SFT phase with the same input is reused, not
trained twice.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from model_hospital.api.stages import StageResult, TrainInput
from model_hospital.errors import HospitalError

SFT_PHASE_DIR = "sft"
# What each phase shows in the stage's summary: the termination message holds both within 4 KB.
PHASE_FIGURES = ("learning_rate", "lora_r", "epochs", "train_seconds", "adapter", "started_from")
PHASE_WATCH_FIGURES = ("watched", "evaluations", "chosen_step", "stopped_early", "target_rate", "over_refusal",
                       "lookalike_wrong")


def run(stage_input: TrainInput, output_dir, console: Console) -> StageResult:
    """The DPO phase's result, trained from the SFT phase's adapter; both phases in its summary."""
    from model_hospital.stages import train

    if stage_input.start_from:
        raise HospitalError("train.startFrom: method sft_dpo starts its DPO phase from its own SFT phase; give "
                            "startFrom with method dpo (or sft) instead")
    if stage_input.distributed is not None and stage_input.distributed.world_size > 1:
        raise HospitalError("train.method: sft_dpo trains in one process; train it without distributed, or train "
                            "sft and dpo as two treatments")
    output_dir = Path(output_dir)
    sft_input = stage_input.model_copy(update={"method": "sft", "merge": False})
    sft_folder = output_dir / SFT_PHASE_DIR
    sft = finished_phase(sft_folder, sft_input)
    if sft is None:
        console.print("[bold]sft_dpo[/]: phase 1 of 2, SFT")
        sft = train.run(sft_input, sft_folder, console)
        write_phase(sft_folder, sft_input, sft)
    else:
        console.print(f"[dim]sft_dpo: the SFT phase finished before, reusing {sft.artifacts['adapter']}[/]")
    console.print("[bold]sft_dpo[/]: phase 2 of 2, DPO from the SFT adapter")
    dpo = train.run(stage_input.model_copy(update={"method": "dpo", "start_from": sft.artifacts["adapter"],
                                                   "overrides": dpo_overrides(stage_input.overrides)}),
                    output_dir, console)
    summary = {**dpo.summary, "method": "sft_dpo",
               "train_seconds": round(sft.summary["train_seconds"] + dpo.summary["train_seconds"], 1),
               "phases": {"sft": phase_figures(sft.summary), "dpo": phase_figures(dpo.summary)}}
    artifacts = {**dpo.artifacts, "sft_adapter": sft.artifacts["adapter"], "sft_recipe": sft.artifacts["recipe"]}
    return dpo.model_copy(update={"summary": summary, "artifacts": artifacts,
                                  "message": f"adapter at {dpo.artifacts['adapter']} (SFT, then DPO from "
                                             f"{sft.artifacts['adapter']})"})


# The DPO phase refines the SFT phase's adapter: one pass over the pairs. Three passes (the bias cure's SFT epochs)
# were 153 steps at about 12 s a step on 2 cores, 30 minutes for that phase alone, past the treatment's budget (r27,
# benchmarks/perf/README.md).
DPO_PHASE_EPOCHS = 1


def dpo_overrides(overrides: dict | None) -> dict:
    """The DPO phase's overrides: a learning rate given is the SFT phase's, and DPO takes a tenth of it, as the
    recipe's own DPO does (preference loss moves the model faster: DPO at SFT's rate lost four skills by their
    likelihood, benchmarks/perf/README.md); the phase trains DPO_PHASE_EPOCHS whatever the SFT phase's; every other
    override is both phases'."""
    phase = {**(overrides or {}), "epochs": DPO_PHASE_EPOCHS}
    if "learning_rate" in phase:
        phase["learning_rate"] = phase["learning_rate"] / 10
    return phase


def phase_figures(summary: dict) -> dict:
    """A phase's summary cut to what the stage's summary shows of it."""
    figures = {key: summary[key] for key in PHASE_FIGURES if key in summary}
    if isinstance(summary.get("watch"), dict):
        figures["watch"] = {key: summary["watch"][key] for key in PHASE_WATCH_FIGURES if key in summary["watch"]}
    return figures


def finished_phase(folder: Path, phase_input: TrainInput) -> StageResult | None:
    """The phase's earlier result when it finished with exactly this input and its adapter is there; else None."""
    input_path, result_path = folder / "input.json", folder / "result.json"
    if not (input_path.is_file() and result_path.is_file()):
        return None
    if input_path.read_text(encoding="utf-8") != phase_input.model_dump_json(indent=1):
        return None
    try:
        result = StageResult.model_validate_json(result_path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    adapter = result.artifacts.get("adapter")
    if not (result.ok and adapter and (Path(adapter) / "adapter_config.json").is_file()):
        return None
    return result


def write_phase(folder: Path, phase_input: TrainInput, result: StageResult) -> None:
    """Keeps a finished phase's input and result, so that running the stage again reuses it."""
    (folder / "input.json").write_text(phase_input.model_dump_json(indent=1), encoding="utf-8")
    (folder / "result.json").write_text(result.model_dump_json(indent=1), encoding="utf-8")
