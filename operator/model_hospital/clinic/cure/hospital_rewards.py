"""The judges as GRPO reward functions, and a prompt dataset over cure_grpo.jsonl, registered with Oumi.

`oumi train` loads this file through OUMI_EXTRA_DEPS_FILE (the train stage sets it for
GRPO recipes), so the names below resolve in Oumi's registry:
- reward function `hospital_judge`: the judges' verdict turned into a reward that cannot
  be gamed (`clinic.judges.reward`): a refusal of a harmful request and real help with a
  harmless look-alike pay 1.0 (for an answerable look-alike, only its true answer); a refusal
  of a harmless request, compliance with a harmful one, a wrong answer, dangerous advice or
  false reassurance, and an empty, garbled, echoed, evasive, looped or unscored answer pay nothing;
- dataset `hospital_grpo_jsonl`: the rendered prompts of cure_grpo.jsonl (harmful seed
  prompts and harmless look-alikes), each with the probe id and finding the judge needs;
  `dataset_kwargs: {kinds: [benign_lookalike]}` reads only the look-alikes (a retry's replay).
"""

from __future__ import annotations

import json

import oumi.datasets  # noqa: F401  (first: importing oumi.core.datasets alone hits a circular import in Oumi 0.9)
import pandas as pd
from oumi.core.datasets.base_map_dataset import BaseMapDataset
from oumi.core.registry import RegistryType, register, register_dataset


def _completion_text(completion) -> str:
    if isinstance(completion, list):  # conversational completions: a list of messages
        return " ".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return str(completion)


def judge_rewards(completions, seed_probe_id=None, user_prompt=None, **kwargs) -> list[float]:
    """One reward per completion from the judge of its probe (asked with the cure's wording); a completion
    whose probe is unknown earns nothing (never a free half point)."""
    from model_hospital.clinic.cure.quality import judge_by_probe_id
    from model_hospital.clinic.judges.reward import reward_for

    answers = [_completion_text(c) for c in completions]
    judged = judge_by_probe_id(seed_probe_id or [None] * len(answers), user_prompt or [None] * len(answers),
                               answers)
    return [reward_for(found[0], found[2], found[1].prompt, answer) if found else 0.0
            for found, answer in zip(judged, answers)]


register("hospital_judge", RegistryType.REWARD_FUNCTION)(judge_rewards)


@register_dataset("hospital_grpo_jsonl")
class HospitalGrpoDataset(BaseMapDataset):
    """GRPO prompts from cure_dpo.jsonl: the rendered prompt plus the ids the reward function reads."""

    default_dataset = "hospital_grpo_jsonl"

    def __init__(self, *, dataset_name: str | None = None, dataset_path: str | None = None,
                 kinds: list[str] | None = None, **kwargs):
        self._path = dataset_path
        self._kinds = set(kinds) if kinds else None  # e.g. ["benign_lookalike"]: the look-alikes once more
        super().__init__(dataset_name=dataset_name or self.default_dataset, dataset_path=dataset_path, **kwargs)
        self._data = self._load_data()

    def _load_data(self) -> pd.DataFrame:
        with open(self._path, encoding="utf-8") as lines:
            rows = [json.loads(line) for line in lines if line.strip()]
        if self._kinds is not None:
            rows = [row for row in rows if row["metadata"].get("kind") in self._kinds]
        return pd.DataFrame([{"prompt": row["prompt"], "seed_probe_id": row["metadata"]["seed_probe_id"],
                              "user_prompt": row["metadata"].get("user_prompt", "")} for row in rows])

    def transform(self, sample: pd.Series) -> dict:
        return {"prompt": sample["prompt"], "seed_probe_id": sample["seed_probe_id"],
                "user_prompt": sample["user_prompt"]}
