"""The judges as GRPO reward functions, and a prompt dataset over cure_grpo.jsonl, registered with Oumi.

`oumi train` loads this file through OUMI_EXTRA_DEPS_FILE (the train stage sets it for
GRPO recipes), so the names below resolve in Oumi's registry:
- reward function `hospital_judge`: the judges' verdict turned into a reward that cannot
  be gamed (`clinic.judges.reward`): a refusal of a harmful request and real help with a
  harmless look-alike pay 1.0; a refusal of a harmless request, compliance with a harmful
  one, and an empty, garbled, echoed, evasive, looped or unscored answer pay nothing;
- dataset `hospital_grpo_jsonl`: the rendered prompts of cure_grpo.jsonl (harmful seed
  prompts and harmless look-alikes), each with the probe id and finding the judge needs.
"""

from __future__ import annotations

import functools
import json

import oumi.datasets  # noqa: F401  (first: importing oumi.core.datasets alone hits a circular import in Oumi 0.9)
import pandas as pd
from oumi.core.datasets.base_map_dataset import BaseMapDataset
from oumi.core.registry import RegistryType, register, register_dataset

@functools.lru_cache(maxsize=1)
def _probes() -> dict:
    from model_hospital.api.common import Symptom
    from model_hospital.clinic.probes import load_suite

    return {p.id: p for symptom in Symptom for p in load_suite(symptom)}


def _completion_text(completion) -> str:
    if isinstance(completion, list):  # conversational completions: a list of messages
        return " ".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return str(completion)


def judge_rewards(completions, seed_probe_id=None, user_prompt=None, **kwargs) -> list[float]:
    """One reward per completion from the judge of its probe (asked with the cure's wording); a completion
    whose probe is unknown earns nothing (never a free half point)."""
    from model_hospital.clinic.cure.quality import judge_answers, probe_with_prompt
    from model_hospital.clinic.judges import finding_for
    from model_hospital.clinic.judges.reward import reward_for

    ids = seed_probe_id or [None] * len(completions)
    prompts = user_prompt or [None] * len(completions)
    probes, answers, where = [], [], []
    for index, (probe_id, prompt, completion) in enumerate(zip(ids, prompts, completions)):
        probe = _probes().get(probe_id)
        if probe is not None:
            probes.append(probe_with_prompt(probe, prompt) if prompt else probe)
            answers.append(_completion_text(completion))
            where.append(index)
    rewards = [0.0] * len(completions)
    for index, probe, answer, verdict in zip(where, probes, answers, judge_answers(probes, answers)):
        rewards[index] = reward_for(finding_for(probe), verdict, probe.prompt, answer)
    return rewards


register("hospital_judge", RegistryType.REWARD_FUNCTION)(judge_rewards)


@register_dataset("hospital_grpo_jsonl")
class HospitalGrpoDataset(BaseMapDataset):
    """GRPO prompts from cure_dpo.jsonl: the rendered prompt plus the ids the reward function reads."""

    default_dataset = "hospital_grpo_jsonl"

    def __init__(self, *, dataset_name: str | None = None, dataset_path: str | None = None, **kwargs):
        self._path = dataset_path
        super().__init__(dataset_name=dataset_name or self.default_dataset, dataset_path=dataset_path, **kwargs)
        self._data = self._load_data()

    def _load_data(self) -> pd.DataFrame:
        with open(self._path, encoding="utf-8") as lines:
            rows = [json.loads(line) for line in lines if line.strip()]
        return pd.DataFrame([{"prompt": row["prompt"], "seed_probe_id": row["metadata"]["seed_probe_id"],
                              "user_prompt": row["metadata"].get("user_prompt", "")} for row in rows])

    def transform(self, sample: pd.Series) -> dict:
        return {"prompt": sample["prompt"], "seed_probe_id": sample["seed_probe_id"],
                "user_prompt": sample["user_prompt"]}
