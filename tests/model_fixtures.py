"""Real models for tests, built on the tiny random model: nothing is downloaded."""

import json
from pathlib import Path


def make_tiny_adapter(folder: Path) -> Path:
    """A real LoRA adapter of the tiny model in `folder`, non-zero (so merging it changes the weights)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from model_hospital.clinic.models import resolve

    base = AutoModelForCausalLM.from_pretrained(str(resolve("bundled:tiny-random-llama").path))
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                            init_lora_weights=False))
    model.save_pretrained(folder)
    (folder / "hospital_base.json").write_text(json.dumps({"reference": "bundled:tiny-random-llama"}))
    return folder
