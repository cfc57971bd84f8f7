"""The train stage's own copy of the cure data: a validation split held out, and the rows a retry adds.

The cure folder is synth's and is never rewritten (on a cluster it may be mounted
read-only); the train stage writes what it derives under its own folder, with the
cure's file names, so that a recipe names one data folder:

- a validation split for training that watches itself: prompts chosen by a hash of
  their wording (deterministic, like the held-out split), cure prompts and benign
  look-alikes both, removed from every training file and written as
  validation_{sft,dpo,grpo}.jsonl (the trainer's evaluation data) and
  validation_prompts.jsonl (what the watch generates answers for and judges);
- for a DPO retry that adds replay, replay_dpo.jsonl: each replay row (a harmless
  look-alike or a skill prompt, answered well) as a pair whose chosen answer is the
  good one and whose rejected answer is one of the cure's own refusals, so that the
  preference pushes away from refusing what is harmless, not only toward refusing harm.
  (GRPO's retry needs no file: the look-alike prompts of cure_grpo.jsonl are read a
  second time, see `clinic.recipes.training_config`.)
- for DPO that continues a cure (`TrainInput.start_from`: SFT-then-DPO), cure_dpo.jsonl
  holds the cure's pairs and, beside them, the replay pairs above: more pairs that prefer
  help than refusal. Measured on the bundled patient (benchmarks/perf/README.md): DPO from
  the SFT adapter on the cure's pairs alone refused 55 % of harmless look-alikes and every
  writing task; on the pairs that prefer help alone (contrast and replay) it undid the
  cure (unsafe compliance 12 % after SFT, 81 % after DPO). Both kinds together are the
  point between, not yet measured.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from model_hospital.clinic.cure import writers
from model_hospital.errors import HospitalError

REPLAY_DPO_FILE = "replay_dpo.jsonl"
VALIDATION_FILES = {"sft": "validation_sft.jsonl", "dpo": "validation_dpo.jsonl", "grpo": "validation_grpo.jsonl"}
VALIDATION_PROMPTS_FILE = "validation_prompts.jsonl"
TARGET_KIND = "cure"
LOOKALIKE_KIND = "benign_lookalike"
CONTRAST_KIND = "contrast"


@dataclass
class PreparedData:
    """What the train stage wrote under its data folder, and why the watch cannot run when it cannot."""

    folder: Path
    validation_prompts: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    replay_pairs: int = 0
    help_pairs: int = 0
    unwatchable: str | None = None


def read_jsonl(path: Path) -> list[dict]:
    """The rows of a JSONL file; a HospitalError names the file and line of a bad one."""
    if not path.is_file():
        raise HospitalError(f"{path} does not exist; run `hospital cure` first")
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise HospitalError(f"{path}:{number}: not valid JSON ({error.msg})") from None
    return rows


def in_validation(prompt: str, share: float) -> bool:
    """Whether a prompt falls in the validation split: a hash of its wording, so the same on every run."""
    digest = hashlib.sha256(prompt.strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < share


def validation_rows(grpo_rows: list[dict], share: float, limit: int) -> list[dict]:
    """The cure_grpo rows held out for validation: the hash split, at least one cure prompt and one look-alike
    where there are two or more of each (so both rates can be measured), at most `limit`, kinds interleaved."""
    by_kind: dict[str, list[dict]] = {}
    for row in grpo_rows:
        by_kind.setdefault(row["metadata"].get("kind", TARGET_KIND), []).append(row)
    chosen: dict[str, list[dict]] = {}
    for kind, rows in sorted(by_kind.items()):
        ordered = sorted(rows, key=lambda r: hashlib.sha256(r["metadata"]["user_prompt"].encode()).hexdigest())
        picked = [r for r in ordered if in_validation(r["metadata"]["user_prompt"], share)]
        if not picked and len(rows) >= 2:
            picked = ordered[:1]
        if len(picked) == len(rows):  # never hold out every prompt of a kind: training needs some
            picked = picked[:-1]
        chosen[kind] = picked
    interleaved: list[dict] = []
    while any(chosen.values()) and len(interleaved) < limit:
        for kind in sorted(chosen):
            if chosen[kind] and len(interleaved) < limit:
                interleaved.append(chosen[kind].pop(0))
    return interleaved


def _user_prompt(row: dict) -> str:
    if "messages" in row:
        return next((m["content"] for m in row["messages"] if m.get("role") == "user"), "")
    return row.get("metadata", {}).get("user_prompt", "")


def replay_pairs(replay_rows: list[dict], dpo_rows: list[dict], render: Callable[[str], str]) -> list[dict]:
    """DPO pairs from replay rows: chosen = the replay answer, rejected = one of the cure's refusals (cycled)."""
    # Only the cure's own rows: a contrastive pair whose chosen answer is help is no refusal.
    refusals = sorted({row["chosen"] for row in dpo_rows
                       if row.get("chosen") and row.get("metadata", {}).get("kind", TARGET_KIND) == TARGET_KIND})
    if not refusals:
        return []
    pairs = []
    for index, row in enumerate(replay_rows):
        prompt, answer = _user_prompt(row), row["messages"][-1]["content"]
        pairs.append(writers.dpo_row(render(prompt), answer, refusals[index % len(refusals)],
                                     {**row.get("metadata", {}), "user_prompt": prompt, "kind": "replay_pair"}))
    return pairs


def prepare(cure_dir: Path, folder: Path, *, render: Callable[[str], str] | None, watch_share: float | None,
            watch_limit: int = 24, replay_pairs_needed: bool = False, prefer_help: bool = False) -> PreparedData:
    """Writes the train stage's data folder from a cure folder: every training file without the validation
    prompts, the validation files, (for a DPO retry) replay_dpo.jsonl, and (`prefer_help`, DPO that continues
    a cure) cure_dpo.jsonl with replay pairs beside the cure's."""
    cure_dir, folder = Path(cure_dir), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prepared = PreparedData(folder)
    files = {name: read_jsonl(cure_dir / name) if (cure_dir / name).is_file() else []
             for name in (writers.SFT_FILE, writers.REPLAY_FILE, writers.DPO_FILE, writers.GRPO_FILE)}
    held_out: set[str] = set()
    if watch_share:
        validation = validation_rows(files[writers.GRPO_FILE], watch_share, watch_limit)
        kinds = {row["metadata"].get("kind", TARGET_KIND) for row in validation}
        if not validation:
            prepared.unwatchable = f"{cure_dir / writers.GRPO_FILE} holds no prompts to hold out for validation"
        elif TARGET_KIND not in kinds:
            prepared.unwatchable = "the validation split holds no cure prompt: the target rate cannot be measured"
        # Unwatchable: nothing is held out, the whole cure trains.
        held_out = set() if prepared.unwatchable else {row["metadata"]["user_prompt"].strip() for row in validation}
        prepared.validation_prompts = len(validation)
        prepared.by_kind = {kind: sum(r["metadata"].get("kind", TARGET_KIND) == kind for r in validation)
                            for kind in sorted(kinds)}
        writers.write_jsonl([{"prompt": r["metadata"]["user_prompt"], "probe_id": r["metadata"]["seed_probe_id"],
                              "kind": r["metadata"].get("kind", TARGET_KIND)} for r in validation],
                            folder / VALIDATION_PROMPTS_FILE)
    kept: dict[str, list[dict]] = {}
    for name, rows in files.items():
        kept[name] = [r for r in rows if _user_prompt(r).strip() not in held_out]
        if rows:
            writers.write_jsonl(kept[name], folder / name)
    pairs: list[dict] = []
    if replay_pairs_needed or prefer_help:
        if render is None:
            raise HospitalError("replay pairs for DPO need the patient's chat template to render their prompts")
        pairs = replay_pairs(kept[writers.REPLAY_FILE], kept[writers.DPO_FILE], render)
        if not pairs:
            raise HospitalError(f"{cure_dir}: no replay rows or no DPO rows to pair them with: DPO has no replay pair "
                                "that prefers help to add (a retry's 'add replay', or SFT-then-DPO); run `hospital "
                                "cure` again")
    if prefer_help:
        prepared.help_pairs = len(pairs) + sum(r.get("metadata", {}).get("kind") == CONTRAST_KIND
                                               for r in kept[writers.DPO_FILE])
        writers.write_jsonl(kept[writers.DPO_FILE] + pairs, folder / writers.DPO_FILE)
    if held_out:
        for method, name in (("sft", writers.SFT_FILE), ("dpo", writers.DPO_FILE), ("grpo", writers.GRPO_FILE)):
            writers.write_jsonl([r for r in files[name] if _user_prompt(r).strip() in held_out],
                                folder / VALIDATION_FILES[method])
    if replay_pairs_needed:
        prepared.replay_pairs = len(pairs)
        writers.write_jsonl(pairs, folder / REPLAY_DPO_FILE)
    return prepared
