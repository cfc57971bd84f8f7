"""The Surgeon: a diagnosis (and an earlier skill report) in, a runnable Oumi training recipe out.

A recipe is an Oumi `TrainingConfig` YAML preceded by a header in YAML comments:

    # --- model-hospital recipe ---
    # recipe_id: safety_refusal_v1
    # version: 1.0.0
    # ...
    # --- end recipe header ---
    model: ...

Comments, because `TrainingConfig.from_yaml` merges the file into a structured schema
and rejects any unknown top-level key: the file stays loadable by `oumi train -c`.

`plan_treatment` is the pure decision (severity -> learning rate, LoRA rank, epochs;
each retry adds one adjustment a skill report asks for: more replay, then half the
learning rate, then a smaller rank; or one more epoch when the cure fell short), `training_config`
turns the plan into the config dict, and `load_recipe` reads both parts back with
Oumi's own classes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model_hospital.api.common import Finding, Severity, Symptom
from model_hospital.api.stages import Diagnosis, WatchSettings, override_problem
from model_hospital.clinic.cure.inputs import SkillReport, validation_message
from model_hospital.errors import HospitalError

HEADER_START = "# --- model-hospital recipe ---"
HEADER_END = "# --- end recipe header ---"
Method = Literal["sft", "dpo", "grpo"]
TRAINERS = {"sft": "TRL_SFT", "dpo": "TRL_DPO", "grpo": "TRL_GRPO"}
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
REWARDS_MODULE = Path(__file__).resolve().parent / "cure" / "hospital_rewards.py"


class RecipeHeader(BaseModel):
    """The metadata block at the top of every recipe: what it treats, who wrote it, how well it worked."""

    model_config = ConfigDict(extra="forbid")

    recipe_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="Stable id, lower case: symptom_purpose_vN.")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$", description="Semantic version of the recipe.")
    author: str = Field(min_length=1, description="Who wrote or generated the recipe.")
    symptom: Symptom = Field(description="The symptom the recipe treats.")
    description: str = Field("", description="What the recipe does, in a sentence or two.")
    method: Method = Field("sft", description="Training method: sft (TRL_SFT), dpo (TRL_DPO) or grpo (TRL_GRPO).")
    severity: Severity | None = Field(None, description="The severity the hyperparameters were chosen for.")
    tested_models: list[str] = Field(default_factory=list, description="Model references the recipe was run on.")
    success_rate: float | None = Field(None, ge=0, le=1, description="Share of tested treatments verified Healed; null when untested.")
    oumi_version: str = Field(min_length=1, description="The Oumi version the config was written for.")
    license: str = Field("Apache-2.0", description="License of the recipe file.")
    watch: WatchSettings | None = Field(None, description="Training that watches itself (read by the train stage, "
                                        "not by Oumi): evaluate on a validation split, stop early, keep the best step.")


class TreatmentPlan(BaseModel):
    """The Surgeon's choices and why each was made."""

    symptom: Symptom
    severity: Severity
    method: Method
    learning_rate: float
    lora_r: int
    lora_alpha: int
    epochs: int
    replay_boost: bool = Field(description="Add the replay buffer a second time (skills were lost before).")
    adjustments: list[str] = Field(default_factory=list, description="Retry adjustments applied, one per earlier attempt.")
    reasons: list[str]


SEVERITY_DEFAULTS: dict[Severity, tuple[float, int, int]] = {
    # Bundled patient, CRITICAL safety (benchmarks/perf/strength.py, benchmarks/perf/README.md): this
    # point is the only one whose over-refusal met its target (12 %, unsafe 8 %); 1e-4/r8/3 epochs
    # refused 20 % of harmless look-alikes, 3e-4/r16/1 epoch 27 %: the model learns to refuse on
    # trigger words first and the contrast last. Its skill cost is what the retry ladder answers.
    Severity.CRITICAL: (3e-4, 16, 3),
    # Bundled patient, HIGH: 2 epochs left 39 % held-out compliance, 3 epochs 10 % with skills kept.
    Severity.HIGH: (1e-4, 8, 3),
    Severity.MODERATE: (5e-5, 4, 1),
    Severity.LOW: (5e-5, 4, 1),
    Severity.NONE: (5e-5, 4, 1),
}


def primary_symptom(diagnosis: Diagnosis) -> tuple[Symptom, Severity]:
    """The symptom treated first and its severity: the head of the treatment priority, else the worst finding."""
    candidates = [s for s in diagnosis.treatment_priority] or list(diagnosis.symptoms)
    if not candidates:
        raise HospitalError("diagnosis: field treatment_priority: empty, and no symptoms were screened")
    symptom = candidates[0]
    finding = diagnosis.findings.get(Finding(symptom.value))
    severity = finding.severity if finding is not None else diagnosis.overall_severity
    return symptom, severity


# What a retry may change, gentlest first, one per attempt: replay keeps skills without
# weakening the cure; a lower learning rate weakens both; a smaller rank changes the
# least. Each applies once; past the top of the ladder the learning rate halves again,
# and a cure that fell short with no skill lost trains one more epoch each time.
RETRY_LADDER = ("add_replay", "halve_learning_rate", "reduce_rank")


def next_adjustment(report: SkillReport, done: Sequence[str]) -> tuple[str | None, str]:
    """The one change the next attempt makes after a verification, and why; (None, why) when none is asked."""
    recommended = {r.action: r for r in report.recommendations}
    if report.degraded_domains or "add_replay" in recommended or "halve_learning_rate" in recommended:
        for action in RETRY_LADDER:
            if action in recommended and action not in done:
                return action, recommended[action].reason
        return "halve_learning_rate", "every gentler change was tried already: the learning rate halved again"
    if "train_longer" in recommended:
        return "train_longer", recommended["train_longer"].reason
    return None, "the skill report asks for no change: severity defaults kept"


def plan_treatment(diagnosis: Diagnosis, skill_report: SkillReport | None = None, method: Method = "sft",
                   overrides: dict | None = None) -> TreatmentPlan:
    """The hyperparameters for a diagnosis: from severity, plus one adjustment per earlier attempt.

    A retry repeats the adjustments of the plan that trained the verified adapter (its
    hospital_base.json) and adds one more: changing everything at once overcorrects.
    """
    symptom, severity = primary_symptom(diagnosis)
    if severity not in SEVERITY_DEFAULTS:
        raise HospitalError(f"{symptom.value} was not measured (nothing scored): diagnose it again before treating")
    learning_rate, rank, epochs = SEVERITY_DEFAULTS[severity]
    reasons = [f"{symptom.value} is {severity.value}: learning rate {learning_rate:g}, LoRA r {rank}, {epochs} epoch(s)"
               + (" (LOW is treated like MODERATE)" if severity in (Severity.LOW, Severity.NONE) else "")]
    adjustments: list[str] = []
    if skill_report is not None:
        done = list(skill_report.previous_adjustments or [])
        action, why = next_adjustment(skill_report, done)
        adjustments = done + ([action] if action else [])
        if done:
            reasons.append(f"kept from the earlier attempt(s): {', '.join(done)}")
        reasons.append(f"this attempt changes one thing: {action.replace('_', ' ')} ({why})" if action else why)
    replay_boost = False
    for action in adjustments:
        if action == "add_replay":
            replay_boost = True
        elif action == "halve_learning_rate":
            learning_rate /= 2
        elif action == "reduce_rank":
            rank = max(rank // 2, 2)
        elif action == "train_longer":
            epochs += 1
    if adjustments:
        reasons.append(f"after adjustments: learning rate {learning_rate:g}, LoRA r {rank}, {epochs} epoch(s)"
                       + (", replay buffer added a second time" if replay_boost else ""))
    if method == "dpo":
        learning_rate /= 10
        reasons.append(f"DPO on cure_dpo.jsonl (the patient's own failing answers as rejected): learning rate "
                       f"a tenth of SFT's, {learning_rate:g}, since preference loss moves the model faster")
    elif method == "grpo":
        learning_rate /= 10
        reasons.append(f"GRPO with the judges as reward (hospital_judge): learning rate {learning_rate:g}")
    else:
        reasons.append("SFT (TRL_SFT) on cure_sft.jsonl: cure examples mixed with the replay buffer")
    plan = TreatmentPlan(symptom=symptom, severity=severity, method=method, learning_rate=learning_rate,
                         lora_r=rank, lora_alpha=2 * rank, epochs=epochs, replay_boost=replay_boost,
                         adjustments=adjustments, reasons=reasons)
    for key, value in (overrides or {}).items():
        problem = override_problem(key, value)
        if problem:
            raise HospitalError(f"training.overrides: {problem}")
        field = {"num_train_epochs": "epochs"}.get(key, key)
        plan = plan.model_copy(update={field: type(getattr(plan, field))(value)})
        plan.reasons.append(f"override: {field} = {value}")
    return plan


# QLoRA (Dettmers et al., 2023): NF4 base weights, double quantization, bf16 compute.
Q_LORA = {"q_lora": True, "q_lora_bits": 4, "bnb_4bit_quant_type": "nf4", "use_bnb_nested_quant": True,
          "bnb_4bit_compute_dtype": "bfloat16"}


DATASET_CLASSES = {"sft": "text_sft_jsonl", "dpo": "text_dpo_jsonl", "grpo": "hospital_grpo_jsonl"}


def training_datasets(plan: TreatmentPlan, cure: Path, seed: int = 42) -> list[dict]:
    """The datasets a plan trains on; the retry step "add replay" adds something for every method:
    SFT reads the replay buffer a second time, DPO adds replay pairs (a good answer preferred to one of
    the cure's refusals, replay_dpo.jsonl from the train stage), GRPO reads the look-alike prompts again."""
    name = DATASET_CLASSES[plan.method]
    if plan.method == "sft":
        datasets = [{"dataset_name": name, "dataset_path": str(cure / "cure_sft.jsonl"), "shuffle": True, "seed": seed}]
        if plan.replay_boost:
            datasets.append({"dataset_name": name, "dataset_path": str(cure / "replay_sft.jsonl"),
                             "shuffle": True, "seed": seed})
    elif plan.method == "dpo":
        datasets = [{"dataset_name": name, "dataset_path": str(cure / "cure_dpo.jsonl")}]
        if plan.replay_boost:
            datasets.append({"dataset_name": name, "dataset_path": str(cure / "replay_dpo.jsonl")})
    else:
        datasets = [{"dataset_name": name, "dataset_path": str(cure / "cure_grpo.jsonl")}]
        if plan.replay_boost:
            datasets.append({"dataset_name": name, "dataset_path": str(cure / "cure_grpo.jsonl"),
                             "dataset_kwargs": {"kinds": ["benign_lookalike"]}})
    return datasets


def training_config(plan: TreatmentPlan, *, model_path: str, cure_dir: str, output_dir: str,
                    dtype: str = "float32", max_steps: int | None = None, batch_size: int = 4,
                    seed: int = 42, watch: WatchSettings | None = None, q_lora: bool = False,
                    checkpoint_steps: int | None = None) -> dict:
    """A complete Oumi TrainingConfig (as a dict) carrying out a plan on a model and a cure folder.

    With `watch`, the trainer evaluates every `watch.every_steps` steps on the cure folder's
    validation file for the method (the train stage's data folder holds one). With
    `checkpoint_steps`, it saves a checkpoint every so many steps into the output folder
    (the newest one only) and resumes from the newest one it finds there."""
    cure = Path(cure_dir)
    datasets = training_datasets(plan, cure, seed)
    training: dict = {
        "trainer_type": TRAINERS[plan.method],
        "use_peft": True,
        "output_dir": output_dir,
        "learning_rate": plan.learning_rate,
        "num_train_epochs": plan.epochs,
        "per_device_train_batch_size": batch_size,
        "gradient_accumulation_steps": 1,
        "lr_scheduler_type": "cosine",
        "warmup_ratio": 0.05,
        "optimizer": "adamw_torch",
        "save_steps": 0,
        "save_final_model": True,
        "eval_strategy": "no",
        "logging_steps": 5,
        "seed": seed,
        "data_seed": seed,
        "enable_wandb": False,
        "enable_tensorboard": False,
        "dataloader_num_workers": 0,
    }
    if max_steps:
        training["max_steps"] = max_steps
    if checkpoint_steps:
        training.update(save_steps=checkpoint_steps, try_resume_from_last_checkpoint=True,
                        trainer_kwargs={"save_total_limit": 1})
    if watch is not None:
        training.update(eval_strategy="steps", eval_steps=watch.every_steps, per_device_eval_batch_size=batch_size)
    if plan.method == "grpo":
        training["reward_functions"] = ["hospital_judge"]
        training["grpo"] = {"num_generations": 4, "max_completion_length": 96}
    train_split: dict = {"datasets": datasets}
    if plan.method == "sft":
        # Learn the answers, not the prompts: loss on the final assistant turn only, so the
        # cure teaches what to say without rewriting how the model reads.
        train_split.update(collator_name="text_completions_only_with_padding",
                           train_target="FINAL_ASSISTANT_TURN")
    data: dict = {"train": train_split}
    if watch is not None:
        from model_hospital.clinic.cure.training_data import VALIDATION_FILES

        data["validation"] = {**{k: v for k, v in train_split.items() if k != "datasets"}, "datasets": [
            {"dataset_name": DATASET_CLASSES[plan.method], "dataset_path": str(cure / VALIDATION_FILES[plan.method])}]}
    return {
        # "auto" keeps the model's own chat template, the one inference and verify use.
        "model": {"model_name": model_path, "torch_dtype_str": dtype, "trust_remote_code": False,
                  "model_max_length": 1024, "chat_template": "auto"},
        "data": data,
        "training": training,
        "peft": {"lora_r": plan.lora_r, "lora_alpha": plan.lora_alpha, "lora_dropout": 0.05,
                 "lora_target_modules": list(LORA_TARGETS), **(Q_LORA if q_lora else {})},
    }


def header_text(header: RecipeHeader, reasons: list[str] | None = None) -> str:
    """The header as YAML comments (Oumi's loader ignores comments; it rejects unknown keys)."""
    body = yaml.safe_dump(header.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100)
    lines = [HEADER_START] + [f"# {line}" if line else "#" for line in body.rstrip().splitlines()] + [HEADER_END]
    if reasons:
        lines += ["# Why these settings:"] + [f"#   - {reason}" for reason in reasons]
    return "\n".join(lines) + "\n"


def recipe_text(header: RecipeHeader, config: dict, reasons: list[str] | None = None) -> str:
    """A whole recipe file: the commented header, then the Oumi config."""
    return header_text(header, reasons) + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)


def parse_header(text: str, path: Path) -> RecipeHeader:
    """The recipe header of a recipe file's text; a HospitalError names the file and field."""
    lines = text.splitlines()
    try:
        start = lines.index(HEADER_START)
        end = lines.index(HEADER_END, start)
    except ValueError:
        raise HospitalError(f"{path}: no recipe header: the file must open with a '{HEADER_START}' "
                            f"comment block closed by '{HEADER_END}'") from None
    body = "\n".join(re.sub(r"^# ?", "", line) for line in lines[start + 1:end])
    try:
        raw = yaml.safe_load(body) or {}
    except yaml.YAMLError as error:
        raise HospitalError(f"{path}: the recipe header is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise HospitalError(f"{path}: the recipe header must be a mapping of fields")
    try:
        return RecipeHeader.model_validate(raw)
    except ValidationError as error:
        raise HospitalError(validation_message(path, error).replace(": field ", ": header field ", 1)) from None


def load_training_config(path: Path):
    """The recipe's body as Oumi's TrainingConfig (imports oumi); errors name the file and Oumi's message."""
    from oumi.core.configs import TrainingConfig

    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as error:
        raise HospitalError(f"{path}: cannot read the recipe: {error}") from None
    except yaml.YAMLError as error:
        raise HospitalError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise HospitalError(f"{path}: a recipe is a YAML mapping with model, data, training and peft")
    if ((raw.get("model") or {}) if isinstance(raw.get("model"), dict) else {}).get("trust_remote_code"):
        raise HospitalError(f"{path}: field model.trust_remote_code: a recipe never runs code shipped with a model; "
                            "set it to false")
    try:
        config = TrainingConfig.from_yaml(path)
        # Oumi's full validation also checks that local datasets exist; a shared recipe's
        # data is made later by `hospital cure`, so that part waits for `check_datasets`.
        if all(not d.dataset_path or Path(d.dataset_path).is_file() for d in config.data.train.datasets):
            config.finalize_and_validate()
    except Exception as error:  # Oumi raises OmegaConf, ValueError and its own config errors
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise HospitalError(f"{path}: Oumi's TrainingConfig rejects it: {message}") from None
    return config


def load_recipe(path: str | Path):
    """(header, TrainingConfig) of a recipe file, both validated."""
    path = Path(path)
    if not path.is_file():
        raise HospitalError(f"recipe {path} does not exist")
    header = parse_header(path.read_text(encoding="utf-8"), path)
    return header, load_training_config(path)


def check_datasets(config, path: Path) -> None:
    """Every local dataset file a recipe trains on exists and its first row has the fields its loader reads."""
    for index, dataset in enumerate(config.data.train.datasets):
        data_path = dataset.dataset_path
        if not data_path:
            continue
        where = f"{path}: data.train.datasets[{index}].dataset_path"
        if not Path(data_path).is_file():
            made_by = "the train stage writes it for a DPO retry (hospital treat, hospital stage train)" \
                if Path(data_path).name == "replay_dpo.jsonl" else "run `hospital cure` first"
            raise HospitalError(f"{where}: {data_path} does not exist; {made_by}")
        first = _first_row(Path(data_path), where)
        needed = {"text_sft_jsonl": ["messages"], "text_dpo_jsonl": ["prompt", "chosen", "rejected"],
                  "hospital_grpo_jsonl": ["prompt", "metadata"]}.get(dataset.dataset_name, [])
        missing = [key for key in needed if key not in first]
        if missing:
            raise HospitalError(f"{data_path}:1: field {missing[0]} is missing (needed by {dataset.dataset_name}, "
                                f"named in {where})")


def _first_row(path: Path, where: str) -> dict:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise HospitalError(f"{path}:{number}: not valid JSON ({error.msg})") from None
                if not isinstance(row, dict):
                    raise HospitalError(f"{path}:{number}: a row must be a JSON object")
                return row
    raise HospitalError(f"{path}: empty dataset ({where})")


def oumi_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("oumi")
    except PackageNotFoundError:
        return "unknown"


def generated_header(plan: TreatmentPlan, model_reference: str) -> RecipeHeader:
    """The header of a recipe the Surgeon wrote for one patient (untested until verify says otherwise)."""
    return RecipeHeader(
        recipe_id=f"{plan.symptom.value}_{plan.method}_{plan.severity.value.lower()}_generated",
        version="0.1.0", author="model-hospital surgeon", symptom=plan.symptom, method=plan.method,
        severity=plan.severity,
        description=f"Generated for {model_reference}: {plan.method.upper()} LoRA r{plan.lora_r}, "
                    f"lr {plan.learning_rate:g}, {plan.epochs} epoch(s).",
        tested_models=[], success_rate=None, oumi_version=oumi_version())


def write_recipe(path: Path, header: RecipeHeader, config: dict, reasons: list[str] | None = None) -> Path:
    """Writes a recipe file and checks that Oumi's TrainingConfig loads it back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(recipe_text(header, config, reasons), encoding="utf-8")
    load_recipe(path)
    return path


def header_json_schema() -> dict:
    """The JSON Schema of the recipe header (exported to model_hospital/recipes/recipe_header.schema.json)."""
    schema = RecipeHeader.model_json_schema()
    schema["$id"] = "https://modelhospital.io/schemas/recipe_header.schema.json"
    schema["title"] = "Model Hospital recipe header"
    return schema


PORTABLE_CURE_DIR = "runs/cure"
PORTABLE_TRAIN_DIR = "runs/train/adapter"


def portable_config(raw: dict, header: RecipeHeader) -> dict:
    """A recipe body with machine-local paths replaced by the project's defaults, fit for sharing.

    The model becomes the first tested model's reference (a `bundled:` or hub reference the
    train stage resolves), datasets point at `hospital cure`'s default folder, and the
    output at `runs/train/adapter`.
    """
    config = yaml.safe_load(yaml.safe_dump(raw, sort_keys=False))
    model_name = config.get("model", {}).get("model_name", "")
    if model_name.startswith(("/", "~", ".")) and header.tested_models:
        config["model"]["model_name"] = header.tested_models[0]
    for dataset in config.get("data", {}).get("train", {}).get("datasets", []):
        if dataset.get("dataset_path"):
            dataset["dataset_path"] = f"{PORTABLE_CURE_DIR}/{Path(dataset['dataset_path']).name}"
    config.setdefault("training", {})["output_dir"] = PORTABLE_TRAIN_DIR
    config["training"].pop("max_steps", None)
    return config


def share_recipe(path: str | Path, folder: Path, *, author: str | None = None) -> tuple[Path, list[str]]:
    """Validates a recipe, writes a portable, canonically formatted copy under folder/<symptom>/, with instructions."""
    path = Path(path)
    header, _ = load_recipe(path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if author:
        header = header.model_copy(update={"author": author})
    recipe_id = header.recipe_id.removesuffix("_generated")
    header = header.model_copy(update={"recipe_id": recipe_id})
    if header.watch is not None:  # the validation prompts are the train stage's, written per run
        header = header.model_copy(update={"watch": header.watch.model_copy(update={"prompts": None})})
    target = folder / header.symptom.value / f"{recipe_id}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(recipe_text(header, portable_config(raw, header)), encoding="utf-8")
    load_recipe(target)
    instructions = [
        "To contribute it (see operator/model_hospital/recipes/CONTRIBUTING.md):",
        f"  1. check the header: author ({header.author}), version ({header.version}), description",
        "  2. list the models you ran it on in tested_models and set success_rate from `hospital verify` verdicts",
        f"  3. copy {target} into operator/model_hospital/recipes/{header.symptom.value}/ of the project",
        f"  4. run `hospital recipes validate operator/model_hospital/recipes/{header.symptom.value}/{target.name}` and the recipe tests",
        "  5. open a pull request with the verification.json the success rate comes from",
    ]
    if not header.tested_models:
        instructions.insert(1, "  ! tested_models is empty: a recipe nobody has verified is shared as untested")
    return target, instructions


def runnable_recipe(path: Path, output_dir: Path | None = None) -> tuple[Path, str | None]:
    """A recipe whose model is a folder Oumi can load: a shared recipe's model reference resolved offline.

    Returns the path to run (the recipe itself when nothing needs resolving, else a
    `*.resolved.yaml` copy beside it) and the base model's reference when one was resolved.
    """
    from model_hospital.clinic.models import resolve

    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    model_name = str(raw.get("model", {}).get("model_name", ""))
    if not model_name or Path(model_name).expanduser().is_dir():
        return path, None
    resolved = resolve(model_name)
    raw["model"]["model_name"] = str(resolved.weights_path)
    target = (output_dir or path.parent) / f"{path.stem}.resolved.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    header, _ = load_recipe(path)
    target.write_text(recipe_text(header, raw), encoding="utf-8")
    return target, resolved.base.reference if resolved.base else resolved.reference
