"""The judges as Oumi evaluation functions, and running them through Oumi's `Evaluator`.

Each finding's judge is registered with `@register_evaluation_function` under
`model_hospital_<finding>` (offline) and `model_hospital_llm_<finding>` (the LLM
judge, which receives the inference engine Oumi's Evaluator builds from the
EvaluationConfig): every finding known on import, and a plug-in symptom's when
an evaluation first asks for it (`registered_task`). Every function takes
`conversations`: the probes as Oumi `Conversation`s with the model's answer
appended as the last assistant message and the probe's metadata kept; each
function scores only the conversations of its own finding and returns their
verdicts.

`evaluate_with_oumi` builds an `EvaluationConfig` with one custom-backend task
per finding present, calls `Evaluator.evaluate`, and returns one verdict per
item in order. An exception inside an evaluation propagates; a missing or extra
verdict is an error. Neither is ever turned into failures.

Importing this module imports Oumi (and torch): only the worker side does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oumi.core.configs import EvaluationConfig, EvaluationTaskParams
from oumi.core.evaluation import Evaluator
from oumi.core.registry import REGISTRY, register_evaluation_function
from oumi.core.types.conversation import Conversation, Message, Role

from model_hospital.api.common import Finding, Outcome
from model_hospital.clinic.judges import OFFLINE_JUDGES, finding_for, judge_with
from model_hospital.clinic.judges.base import JudgedItem, Verdict
from model_hospital.clinic.probes import Probe

TASK_PREFIX = "model_hospital_"
# Where a conversation carries its item's position, so that verdicts map back even when
# the same probe is judged with several answers.
ITEM_INDEX = "hospital_item_index"
LLM_TASK_PREFIX = "model_hospital_llm_"


def task_name(finding: Finding, llm: bool = False) -> str:
    """The Oumi registry name of a finding's evaluation function."""
    return f"{LLM_TASK_PREFIX if llm else TASK_PREFIX}{finding.value}"


def conversation_for(item: JudgedItem, index: int | None = None) -> Conversation:
    """The probe as an Oumi Conversation with the model's answer as the last assistant message."""
    conversation = item.probe.to_conversation()
    conversation.messages.append(Message(role=Role.ASSISTANT, content=item.answer))
    if index is not None:
        conversation.metadata[ITEM_INDEX] = index
    return conversation


def item_from(conversation: Conversation) -> JudgedItem:
    """The judged item a conversation carries: its probe and the last assistant message as the answer."""
    messages = list(conversation.messages)
    if not messages or messages[-1].role != Role.ASSISTANT:
        raise ValueError(f"conversation {conversation.conversation_id} has no assistant answer to judge")
    answer = messages.pop()
    probe = Probe.model_validate({
        "conversation_id": conversation.conversation_id,
        "messages": [{"role": str(m.role.value), "content": m.content if isinstance(m.content, str) else ""}
                     for m in messages],
        "metadata": {k: v for k, v in conversation.metadata.items() if k != ITEM_INDEX},
    })
    return JudgedItem(probe=probe, answer=answer.content if isinstance(answer.content, str) else "")


def _evaluate(finding: Finding, conversations: list[Conversation], judge: Any) -> dict:
    """The verdicts of one finding's judge on its conversations, as Oumi's task result."""
    indexed = [(c.metadata.get(ITEM_INDEX), item_from(c)) for c in conversations]
    indexed = [(index, item) for index, item in indexed if finding_for(item.probe) is finding]
    mine = [item for _, item in indexed]
    verdicts = judge_with(mine, {finding: judge})
    failures = sum(v.outcome is Outcome.failed for v in verdicts)
    unscored = sum(v.outcome is Outcome.unscored for v in verdicts)
    return {
        "finding": finding.value,
        "failures": failures,
        "scored": len(verdicts) - unscored,
        "unscored": unscored,
        "verdicts": [
            {"item_index": index, "probe_id": item.probe.id, "outcome": v.outcome.value, "reason": v.reason,
             "judge": v.judge, "evidence": v.evidence}
            for (index, item), v in zip(indexed, verdicts)
        ],
    }


def _offline_task(finding: Finding):
    def evaluate(conversations: list[Conversation]) -> dict:
        return _evaluate(finding, conversations, OFFLINE_JUDGES[finding])

    evaluate.__name__ = f"evaluate_{finding.value}"
    evaluate.__doc__ = f"{finding.value} verdicts from its offline judge, for the conversations of that finding."
    return evaluate


def _llm_task(finding: Finding):
    def evaluate(conversations: list[Conversation], inference_engine, rubric: str | None = None,
                 style: str = "rubric") -> dict:
        from model_hospital.clinic.judges.llm import LLMJudge

        model = getattr(getattr(inference_engine, "_model_params", None), "model_name", "") or ""
        judge = LLMJudge(finding, inference_engine, model=model, rubric=rubric, style=style)
        return _evaluate(finding, conversations, judge)

    evaluate.__name__ = f"evaluate_llm_{finding.value}"
    evaluate.__doc__ = f"{finding.value} verdicts from the LLM judge on the engine Oumi's Evaluator built."
    return evaluate


def registered_task(finding: Finding, llm: bool = False) -> str:
    """The Oumi registry name of a finding's evaluation function, registered with Oumi on first use.

    Registered by finding as they are asked for, so that a symptom registered after this
    module was imported (a plug-in) is evaluated the same way.
    """
    name = task_name(finding, llm)
    if REGISTRY.get_evaluation_function(name) is None:
        register_evaluation_function(name)((_llm_task if llm else _offline_task)(finding))
    return name


# Every finding known now is registered on import, so that an EvaluationConfig of one's own can name them.
REGISTERED_TASKS = [registered_task(finding, llm) for finding in Finding for llm in (False, True)]


def evaluation_config(findings: Sequence[Finding], settings: Any = None, output_dir: str = "") -> EvaluationConfig:
    """The EvaluationConfig with one custom-backend task per finding (LLM tasks carry the judge engine)."""
    llm = settings is not None and getattr(settings, "backend", "offline") == "llm"
    by_llm: list[Finding] = []
    if llm:
        from model_hospital.clinic.judges.llm import engine_params, llm_findings, load_rubric

        by_llm = llm_findings(settings)
        if settings.rubric:
            load_rubric(settings.rubric)  # a bad rubric file is one clear error before Oumi starts
    options = {"rubric": settings.rubric, "style": settings.style} if llm else {}
    tasks = [EvaluationTaskParams(evaluation_backend="custom", task_name=registered_task(f, llm=f in by_llm),
                                  eval_kwargs=options if f in by_llm else {}) for f in findings]
    config = EvaluationConfig(tasks=tasks, output_dir=output_dir)
    if llm:

        params = engine_params(settings)
        config.model = params["model_params"]
        config.inference_engine = params["engine_type"]
        config.inference_remote_params = params["remote_params"]
        config.generation = params["generation_params"]
    return config


def evaluate_with_oumi(items: Sequence[JudgedItem], settings: Any = None, *, output_dir: str = "") -> list[Verdict]:
    """One verdict per item, in order, from the registered judges run by Oumi's `Evaluator.evaluate`.

    `settings` is an `api.stages.JudgeSettings` (offline when None). `output_dir`
    makes Oumi save its task results there; empty saves nothing.
    """
    if not items:
        return []
    findings = list(dict.fromkeys(finding_for(item.probe) for item in items))
    config = evaluation_config(findings, settings, output_dir)
    conversations = [conversation_for(item, index) for index, item in enumerate(items)]
    results = Evaluator().evaluate(config, conversations=conversations)
    verdicts: list[Verdict | None] = [None] * len(items)
    for task, result in zip(config.tasks, results):
        output = result.task_result["results"][task.task_name]
        for row in output["verdicts"]:
            index = row["item_index"]
            if not isinstance(index, int) or not 0 <= index < len(items) or verdicts[index] is not None:
                raise RuntimeError(
                    f"Oumi task {task.task_name} returned a verdict for an unknown or already judged item {index!r}"
                )
            verdicts[index] = Verdict(Outcome(row["outcome"]), row["reason"], row["judge"], row["evidence"])
    missing = [items[i].probe.id for i, v in enumerate(verdicts) if v is None]
    if missing:
        raise RuntimeError(f"Oumi evaluation returned no verdict for {len(missing)} answers, e.g. {missing[:3]}")
    return [v for v in verdicts if v is not None]
