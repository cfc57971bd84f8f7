"""Trained tokens per second: our train stage (`oumi train` on a Surgeon's recipe) vs a plain TRL SFTTrainer.

Both sides train the same model on the same cure_sft.jsonl with the same LoRA and
optimizer settings for the same number of steps; both figures are TRL's own
`num_tokens` over `train_runtime` (the trainer's loop only: model loading and process
start-up are left out on both sides). The goal is a ratio of at least 0.95.

    python benchmarks/perf/train_throughput.py                       # tiny model, 20 steps
    python benchmarks/perf/train_throughput.py --model bundled:smollm2-135m-instruct --steps 10

Not run in the tests (it measures time).
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def cure_folder(model_reference: str, folder: Path) -> Path:
    """(cure folder, diagnosis): every harmful safety probe answered badly; cure data made unless already there."""
    from model_hospital.api.common import Finding, Severity, Symptom
    from model_hospital.api.stages import Diagnosis, FindingResult, GenerationSettings, JudgedAnswer, ModelInfo
    from model_hospital.clinic.cure import CureSettings, make_cure
    from model_hospital.clinic.judges import finding_for
    from model_hospital.clinic.probes import load_suite

    answers = []
    for probe in load_suite(Symptom.safety):
        finding = finding_for(probe)
        failing = finding is Finding.safety
        answers.append(JudgedAnswer(
            probe_id=probe.id, finding=finding, category=probe.category, split=probe.split,
            expected=probe.expected.value, prompt=probe.prompt,
            answer="Sure, here's how, step by step." if failing else "Sure, here is a short, helpful answer to that.",
            outcome="fail" if failing else "pass", reason="benchmark", judge="benchmark"))
    rate = sum(a.outcome == "fail" for a in answers) / len(answers)
    diagnosis = Diagnosis(
        model=ModelInfo(reference=model_reference, kind="bundled", path="-"), symptoms=[Symptom.safety],
        splits=["seed", "heldout"], budget=None, generation=GenerationSettings(), judge="offline",
        findings={Finding.safety: FindingResult(finding=Finding.safety, severity=Severity.CRITICAL,
                                                failures=int(rate * len(answers)), scored=len(answers),
                                                failure_rate=rate)},
        overall_severity=Severity.CRITICAL, worst_finding=Finding.safety, treatment_priority=[Symptom.safety],
        answers=answers, started_at="-", finished_at="-", seconds=0.0)
    if not (folder / "cure_sft.jsonl").is_file():
        make_cure(diagnosis, folder, CureSettings(min_examples=100, max_examples=200))
    return folder, diagnosis


def ours(diagnosis, model_path: str, cure: Path, steps: int, batch: int, work: Path) -> dict:
    """Tokens per second of the train stage: a Surgeon's recipe run by `oumi train`."""
    from rich.console import Console

    from model_hospital.clinic import recipes
    from model_hospital.stages.train import default_dtype, train_recipe

    plan = recipes.plan_treatment(diagnosis)
    config = recipes.training_config(plan, model_path=model_path, cure_dir=str(cure), output_dir=str(work / "ours"),
                                     dtype=default_dtype(), max_steps=steps, batch_size=batch)
    config["training"]["logging_steps"] = steps
    path = recipes.write_recipe(work / "recipe.yaml", recipes.generated_header(plan, model_path), config)
    log = io.StringIO()
    train_recipe(path, Console(file=log, width=400))
    metrics = _final_metrics(log.getvalue())
    return {"tokens": metrics["num_tokens"], "seconds": metrics["train_runtime"], "plan": plan}


def _final_metrics(output: str) -> dict:
    """num_tokens and train_runtime from `oumi train` output (TRL prints its logs as Python dicts)."""
    found: dict[str, float] = {}
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                raw = ast.literal_eval(line)
            except (ValueError, SyntaxError):
                continue
            found.update({key: float(raw[key]) for key in ("num_tokens", "train_runtime") if key in raw})
    if set(found) != {"num_tokens", "train_runtime"}:
        raise RuntimeError("no num_tokens / train_runtime in the oumi train output")
    return found


def plain_trl(plan, model_path: str, cure: Path, steps: int, batch: int, work: Path) -> dict:
    """Tokens per second of a plain TRL SFTTrainer with the same model, data and hyperparameters."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from model_hospital.clinic.recipes import LORA_TARGETS

    rows = [json.loads(line) for line in (cure / "cure_sft.jsonl").read_text().splitlines() if line.strip()]
    dataset = Dataset.from_list([{"messages": row["messages"]} for row in rows]).shuffle(seed=42)
    cuda = torch.cuda.is_available()
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.bfloat16 if cuda else torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    args = SFTConfig(output_dir=str(work / "trl"), max_steps=steps, per_device_train_batch_size=batch,
                     learning_rate=plan.learning_rate, lr_scheduler_type="cosine", warmup_steps=0.05,  # transformers 5: a float is a ratio
                     optim="adamw_torch", logging_steps=steps, save_strategy="no", report_to=[], seed=42,
                     data_seed=42, max_length=1024, dataloader_num_workers=0, use_cpu=not cuda)
    lora = LoraConfig(r=plan.lora_r, lora_alpha=plan.lora_alpha, lora_dropout=0.05, target_modules=LORA_TARGETS,
                      task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=lora)
    result = trainer.train()
    tokens = max(entry.get("num_tokens", 0) for entry in trainer.state.log_history)
    return {"tokens": float(tokens), "seconds": float(result.metrics["train_runtime"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled:tiny-random-llama")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--cure", type=Path, help="an existing cure folder (default: made for the run)")
    args = parser.parse_args(argv)

    from model_hospital.clinic.models import resolve

    model_path = str(resolve(args.model).weights_path)
    with tempfile.TemporaryDirectory(prefix="hospital-throughput-") as tmp:
        work = Path(tmp)
        cure, diagnosis = cure_folder(args.model, args.cure or work / "cure")
        mine = ours(diagnosis, model_path, cure, args.steps, args.batch_size, work)
        theirs = plain_trl(mine["plan"], model_path, cure, args.steps, args.batch_size, work)
    ours_rate = mine["tokens"] / mine["seconds"]
    trl_rate = theirs["tokens"] / theirs["seconds"]
    print(f"model {args.model}, {args.steps} steps at batch {args.batch_size}")
    print(f"train stage (oumi train): {mine['tokens']:.0f} tokens in {mine['seconds']:.2f} s = {ours_rate:.1f} tokens/s")
    print(f"plain TRL SFTTrainer:     {theirs['tokens']:.0f} tokens in {theirs['seconds']:.2f} s = {trl_rate:.1f} tokens/s")
    ratio = ours_rate / trl_rate
    print(f"ratio {ratio:.3f} (goal >= 0.95): {'met' if ratio >= 0.95 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
