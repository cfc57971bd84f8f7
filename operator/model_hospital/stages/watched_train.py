"""`oumi train` with what Oumi 0.9 lacks: `python -m model_hospital.stages.watched_train -c RECIPE [--watch SETTINGS]`.

This runs the same steps as the `oumi train` command (load and validate the config,
seed, `oumi.train.train`), with two additions. Under a distributed launcher on a machine
without CUDA, the processes join a gloo process group and keep the model on the CPU
(Oumi's own `init_distributed` asks for NCCL and a CUDA device). With `--watch`, Oumi's
callback builder (it takes no trainer callback from a config) is wrapped to add one more: `WatchCallback`. At the start and at
each of the trainer's evaluations (eval_strategy steps) it answers the validation
prompts greedily with the model being trained, judges the answers with the offline
judges, and stops training as `clinic.training_watch` decides. At the end it puts the
chosen step's adapter weights back into the model, so the adapter Oumi then saves is
that step, and writes watch.json beside it; when no trained step qualifies, watch.json
says so (no chosen step) and the train stage fails with its reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from transformers import TrainerCallback

from model_hospital.api.stages import WatchSettings
from model_hospital.clinic import training_watch
from model_hospital.clinic.training_watch import Evaluation, WatchRecord

GENERATION_BATCH = 8


def generate_answers(model, tokenizer, prompts: list[str], max_new_tokens: int) -> list[str]:
    """Greedy answers of the model in training to user prompts, through its chat template."""
    import torch

    was_training, padding_side = model.training, tokenizer.padding_side
    tokenizer.padding_side = "left"  # decoder-only batching
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    answers: list[str] = []
    model.eval()
    try:
        for start in range(0, len(prompts), GENERATION_BATCH):
            rendered = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                                      add_generation_prompt=True)
                        for p in prompts[start:start + GENERATION_BATCH]]
            batch = tokenizer(rendered, return_tensors="pt", padding=True, add_special_tokens=False)
            batch = {k: v.to(model.device) for k, v in batch.items()}
            with torch.no_grad():
                output = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                        pad_token_id=pad_id, use_cache=True)
            answers += tokenizer.batch_decode(output[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    finally:
        tokenizer.padding_side = padding_side
        model.train(was_training)
    return [answer.strip() for answer in answers]


class WatchCallback(TrainerCallback):
    """Judges answers to the validation prompts at each evaluation; stops early; keeps the best step."""

    def __init__(self, settings: WatchSettings, prompts: list[dict], record_dir: Path, reason: str | None = None):
        self.settings, self.prompts, self.record_dir = settings, prompts, Path(record_dir)
        self.unwatched_reason = reason if reason else (None if prompts else "no validation prompts")
        self.history: list[Evaluation] = []
        self.kept: dict | None = None  # the chosen step's trainable weights, on the CPU
        self.kept_step: int | None = None
        self.stop: str | None = None
        self.planned_steps: int | None = None  # the trainer's max_steps: no early stop before a share of them

    def judged_answers(self, model, tokenizer) -> list:
        """A Judged for the model's answer to each validation prompt; None for an unknown probe."""
        answers = generate_answers(model, tokenizer, [p["prompt"] for p in self.prompts],
                                   self.settings.max_new_tokens)
        return training_watch.judge_validation(self.prompts, answers)

    def evaluate(self, step: int, model, tokenizer) -> Evaluation:
        result = training_watch.evaluation(step, self.judged_answers(model, tokenizer))
        self.history.append(result)
        chosen, _ = training_watch.choose(self.history, self.settings)
        if chosen is result:
            self.kept = {name: value.detach().to("cpu", copy=True) for name, value in model.named_parameters()
                         if value.requires_grad}
            self.kept_step = step
        print(f"[watch] step {step}: target rate {_rate(result.target_rate)} of {result.target_scored}, "
              f"over-refusal {_rate(result.over_refusal)} and wrong {_rate(result.lookalike_wrong)} of "
              f"{result.lookalike_scored}, "
              f"{result.unscored} unscored; kept step {self.kept_step}", flush=True)
        return result

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        if self.unwatched_reason:
            print(f"[watch] training is not watched: {self.unwatched_reason}", flush=True)
            return
        self.planned_steps = state.max_steps or None
        self.evaluate(state.global_step, model, processing_class)

    def on_evaluate(self, args, state, control, model=None, processing_class=None, metrics=None, **kwargs):
        if self.unwatched_reason or (self.history and self.history[-1].step == state.global_step):
            return
        result = self.evaluate(state.global_step, model, processing_class)
        if metrics is not None:
            metrics.update({"eval_target_rate": result.target_rate, "eval_over_refusal": result.over_refusal,
                            "eval_lookalike_wrong": result.lookalike_wrong})
        self.stop = training_watch.stop_reason(self.history, self.settings, self.planned_steps)
        if self.stop:
            print(f"[watch] stopping: {self.stop}", flush=True)
            control.should_training_stop = True

    def on_train_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if self.unwatched_reason:
            training_watch.write_record(WatchRecord(watched=False, reason=self.unwatched_reason,
                                                    settings=self.settings), self.record_dir)
            return
        if self.history[-1].step != state.global_step:  # the last steps compete too
            self.evaluate(state.global_step, model, processing_class)
        chosen, why = training_watch.choose(self.history, self.settings)
        if chosen is None:
            print(f"[watch] no trained step kept: {why}", flush=True)
        elif self.kept is not None and self.kept_step == chosen.step and chosen.step != state.global_step:
            parameters = dict(model.named_parameters())
            for name, value in self.kept.items():
                parameters[name].data.copy_(value.to(parameters[name].device))
        if chosen is not None:
            print(f"[watch] saving the weights of step {chosen.step}: {why}", flush=True)
        training_watch.write_record(WatchRecord(
            watched=True, settings=self.settings, evaluations=self.history, stopped_early=self.stop is not None,
            stop_reason=self.stop, chosen_step=chosen.step if chosen else None, chosen_because=why),
            self.record_dir)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def read_prompts(settings: WatchSettings) -> tuple[list[dict], str | None]:
    """The validation prompts the watch answers, or none and why."""
    if not settings.prompts:
        return [], "the recipe's watch names no validation prompts file"
    path = Path(settings.prompts)
    if not path.is_file():
        return [], f"{path} does not exist"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows, None if rows else f"{path} holds no validation prompts"


def gloo_on_cpu(oumi_train) -> bool:
    """True when this is one process of several on a machine without CUDA: Oumi's train then joins a gloo
    process group instead of its NCCL one."""
    import torch
    from oumi.core.distributed import get_device_rank_info

    if torch.cuda.is_available() or get_device_rank_info().world_size <= 1:
        return False

    def init_gloo(backend: str = "gloo", timeout_minutes: float | None = None) -> None:
        from datetime import timedelta

        ranks = get_device_rank_info()
        torch.distributed.init_process_group(
            backend="gloo", rank=ranks.rank, world_size=ranks.world_size,
            timeout=timedelta(minutes=timeout_minutes) if timeout_minutes is not None else None)

    oumi_train.init_distributed = init_gloo
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_hospital.stages.watched_train")
    parser.add_argument("-c", "--config", required=True, help="the recipe (an Oumi training config)")
    parser.add_argument("--watch", help="the watch settings (JSON of api.stages.WatchSettings)")
    args = parser.parse_args(argv)
    import importlib

    from oumi.core.configs import TrainingConfig
    from oumi.core.distributed import set_random_seeds
    from oumi.utils.torch_utils import device_cleanup, limit_per_process_memory

    config = TrainingConfig.from_yaml(args.config)
    config.finalize_and_validate()
    oumi_train = importlib.import_module("oumi.train")
    if gloo_on_cpu(oumi_train):
        config.model.device_map = "cpu"  # Oumi maps a distributed model to cuda:LOCAL_RANK otherwise
    if args.watch:
        settings = WatchSettings.model_validate_json(Path(args.watch).read_text(encoding="utf-8"))
        prompts, reason = read_prompts(settings)
        callback = WatchCallback(settings, prompts[:settings.max_prompts], Path(config.training.output_dir), reason)
        build_callbacks = oumi_train.build_training_callbacks

        def with_watch(*call_args, **call_kwargs):
            return [*build_callbacks(*call_args, **call_kwargs), callback]

        oumi_train.build_training_callbacks = with_watch
    limit_per_process_memory()  # as `oumi train` does before and after training
    device_cleanup()
    set_random_seeds(config.training.seed, config.training.use_deterministic)
    oumi_train.train(config)
    device_cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
