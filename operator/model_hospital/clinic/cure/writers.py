"""Writes cure data in the formats Oumi's dataset classes read.

- cure_sft.jsonl: Oumi's conversation format, `{"messages": [...], "metadata": {...}}`
  (read by `text_sft_jsonl`); cure and replay rows together, shuffled.
- replay_sft.jsonl: the replay rows alone, so a recipe can weigh them up.
- cure_dpo.jsonl: `{"prompt", "chosen", "rejected", "metadata"}` with the prompt already
  rendered through the patient's chat template (read by `text_dpo_jsonl`, which does not
  apply the template again); chosen is the cure, rejected the patient's failing answer.
- cure_grpo.jsonl: `{"prompt", "metadata"}`, rendered prompts for GRPO: the cure's harmful
  prompts and the replayed harmless look-alikes, so that the reward pays for telling them
  apart (read by `hospital_grpo_jsonl`; `metadata.seed_probe_id` names the judged probe).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

SFT_FILE = "cure_sft.jsonl"
DPO_FILE = "cure_dpo.jsonl"
REPLAY_FILE = "replay_sft.jsonl"
GRPO_FILE = "cure_grpo.jsonl"


def sft_row(prompt: str, answer: str, metadata: dict) -> dict:
    """One SFT row in Oumi's conversation format."""
    return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
            "metadata": metadata}


def dpo_row(rendered_prompt: str, chosen: str, rejected: str, metadata: dict) -> dict:
    """One preference row: the rendered prompt, the cure as chosen, the failing answer as rejected."""
    return {"prompt": rendered_prompt, "chosen": chosen, "rejected": rejected, "metadata": metadata}


def write_jsonl(rows: Iterable[dict], path: Path) -> Path:
    """Writes rows as JSON lines (UTF-8, one object a line) and returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def prompt_renderer(tokenizer):
    """A function rendering a user prompt through the chat template, up to the assistant's turn."""
    def render(prompt: str) -> str:
        return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                             add_generation_prompt=True)
    return render
