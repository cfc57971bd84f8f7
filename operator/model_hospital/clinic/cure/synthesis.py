"""Diversity through `oumi synth`: one SynthesisConfig per symptom, written as YAML and run by Oumi.

The config holds
- one in-line example row per (seed probe, tailored core + alternative) (`input_examples`);
- sampled attributes: the `opening`, the `tone` of the bridge and the `framing` of the prompt;
- templated attributes (Oumi's transformed attributes): `user_prompt` and `cure_answer`;
- when a teacher engine is configured, generated attributes that paraphrase the prompt
  and the answer (`paraphrased_prompt`, `paraphrased_answer`).

It runs in-process through `SynthesisPipeline`, from the YAML file it wrote, so the
file in the output folder is exactly what made the data (`oumi synth -c FILE` runs it too).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import yaml

from model_hospital.api.common import Symptom
from model_hospital.api.stages import JudgeSettings
from model_hospital.clinic.cure import templates
from model_hospital.errors import HospitalError

PARAPHRASE_PROMPT = (
    "Rewrite the following request in different words. Keep its meaning and its language. "
    "Reply with the rewritten request only.\n\nRequest: {framing.description}{prompt}"
)
PARAPHRASE_ANSWER = (
    "Rewrite the following assistant reply in different words. Keep every refusal, doubt or "
    "correction it makes, add no facts, and reply with the rewritten text only.\n\n"
    "Reply: "
)  # + the symptom's answer transform: Oumi generates before it transforms, so the parts are spelled out


@dataclass(frozen=True)
class SeedCase:
    """A failed probe from the seed split: what the cure answers instead of the model's answer."""

    probe_id: str
    symptom: Symptom
    category: str
    prompt: str
    failing_answer: str
    metadata: dict


def example_rows(seeds: list[SeedCase]) -> list[dict]:
    """The in-line example rows of one symptom's config: every seed times each tailored (core, alternative),
    the first variant of every seed first, the seeds taken in turn across their categories.

    Oumi draws the example rows in order, round-robin, so a config asked for fewer samples than it has
    rows would otherwise vary the first few seeds (one category) and leave the others uncured.
    """
    by_category: dict[str, list[list[dict]]] = {}
    for seed in seeds:
        by_category.setdefault(seed.category, []).append([
            {"seed_id": seed.probe_id, "variant": str(variant), "category": seed.category,
             "prompt": seed.prompt, "core": core, "alternative": alternative}
            for variant, (core, alternative) in enumerate(
                templates.seed_parts(seed.symptom, seed.category, seed.prompt, seed.metadata))])
    return templates.round_robin(templates.round_robin(list(by_category.values())))


def _sampled(attribute_id: str, name: str, description: str, values, text_as_name: bool) -> dict:
    # For openings the text is the value's name ({opening}); for tones and framings it is
    # the description ({tone.description}), so the id stays readable as the name.
    return {"id": attribute_id, "name": name, "description": description,
            "possible_values": [
                {"id": v.id, "name": v.text if text_as_name else v.id,
                 "description": v.id if text_as_name else v.text} for v in values]}


def teacher_inference_config(teacher: JudgeSettings) -> dict:
    """The `inference_config` section for a teacher engine (Oumi engine name, model, endpoint)."""
    if not teacher.engine or not teacher.model:
        raise HospitalError("teacher: give both an engine (--teacher-engine, e.g. VLLM, OPENAI, NATIVE) "
                            "and a model (--teacher-model)")
    config: dict = {"engine": teacher.engine.upper(),
                    "model": {"model_name": teacher.model, "trust_remote_code": False},
                    "generation": {"max_new_tokens": 160, "temperature": 0.7}}
    if teacher.api_url or teacher.api_key_env:
        config["remote_params"] = {"api_url": teacher.api_url, "api_key_env_varname": teacher.api_key_env,
                                   "num_workers": teacher.num_workers}
    return config


def synthesis_config(symptom: Symptom, rows: list[dict], num_samples: int, output_path: Path,
                     teacher: JudgeSettings | None = None) -> dict:
    """The SynthesisConfig (as a dict ready for YAML) that varies one symptom's cure examples."""
    params: dict = {
        "input_examples": [{"examples": rows}],
        "sampled_attributes": [
            _sampled("opening", "Opening", "How the answer opens", templates.OPENINGS[symptom], True),
            *([] if not templates.bridged(symptom) else [
                _sampled("tone", "Tone", "The bridge towards the safe alternative", templates.TONES, False)]),
            _sampled("framing", "Framing", "How the user frames the request", templates.FRAMINGS, False),
        ],
        "transformed_attributes": [
            {"id": "user_prompt", "transformation_strategy": {
                "type": "STRING", "string_transform": "{framing.description}{prompt}"}},
            {"id": "cure_answer", "transformation_strategy": {
                "type": "STRING", "string_transform": templates.answer_transform(symptom)}},
        ],
    }
    config: dict = {"strategy": "GENERAL", "num_samples": num_samples, "output_path": str(output_path),
                    "strategy_params": params,
                    # Oumi requires a model name even when nothing is generated; no engine is built then.
                    "inference_config": {"model": {"model_name": "offline-templates"}}}
    if teacher is not None:
        params["generated_attributes"] = [
            {"id": "paraphrased_prompt", "instruction_messages": [{"role": "USER", "content": PARAPHRASE_PROMPT}]},
            {"id": "paraphrased_answer", "instruction_messages": [{"role": "USER", "content": PARAPHRASE_ANSWER + templates.answer_transform(symptom)}]},
        ]
        config["inference_config"] = teacher_inference_config(teacher)
    return config


def write_config(config: dict, path: Path) -> Path:
    """Writes a synthesis config as YAML and returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Written by `hospital cure`; run it again with: oumi synth -c " + path.name + "\n"
                    + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    return path


def run_config(path: Path, seed: int) -> list[dict]:
    """The rows Oumi's synthesis pipeline makes from a config file (deterministic for a seed)."""
    from oumi.core.configs.synthesis_config import SynthesisConfig
    from oumi.core.synthesis.synthesis_pipeline import SynthesisPipeline

    try:
        config = SynthesisConfig.from_yaml(path)
    except Exception as error:  # Oumi raises several config error types
        raise HospitalError(f"{path}: Oumi rejected the synthesis config: {error}") from None
    # Oumi samples attributes with the global `random` module: seed it for a reproducible cure.
    state = random.getstate()
    random.seed(seed)
    try:
        return SynthesisPipeline(config).synthesize()
    finally:
        random.setstate(state)
