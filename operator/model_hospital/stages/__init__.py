"""The stages of the clinical loop: the same code in a Kubernetes Job and on a laptop.

Each stage module has `run(stage_input, output_dir, console) -> StageResult`. The stages
are declared once, in the protocol (`api/protocol.py`); `STAGE_MODULES` is the runner's
view of it (stage name -> module and input model, by name only, so that importing it
loads no ML library; tests put stand-in modules in it).
"""

from __future__ import annotations

from model_hospital.api.protocol import PROTOCOL

STAGE_MODULES = {declared.name: (declared.module, declared.input_model.__name__) for declared in PROTOCOL}
