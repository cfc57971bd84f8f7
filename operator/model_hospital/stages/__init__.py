"""The stages of the clinical loop: the same code in a Kubernetes Job and on a laptop.

Each stage module has `run(stage_input, output_dir, console) -> StageResult`. The
registry maps a stage name to its module and input model by name only, so that
importing it loads no ML library.
"""

from __future__ import annotations

STAGE_MODULES = {
    "diagnose": ("model_hospital.stages.diagnose", "DiagnoseInput"),
    "synth": ("model_hospital.stages.synth", "SynthInput"),
    "train": ("model_hospital.stages.train", "TrainInput"),
    "verify": ("model_hospital.stages.verify", "VerifyInput"),
}
