"""The Pharmacist: a diagnosis in, cure data out (templates -> oumi synth -> judges -> dedupe -> files)."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from model_hospital.api.stages import Diagnosis, JudgeSettings, JudgedAnswer
from model_hospital.api.symptoms import curable, expected_of, symptom_of
from model_hospital.clinic.cure import quality, replay, synthesis, writers
from model_hospital.clinic.cure.synthesis import SeedCase
from model_hospital.clinic.cure.templates import round_robin
from model_hospital.clinic.probes import Probe, ProbeMetadata, ProbeMessage
from model_hospital.clinic.symptoms import package_of
from model_hospital.errors import HospitalError

# Oumi is asked for this many candidates per example kept, since the judges and dedupe drop some.
OVERSAMPLE = 2.0
EXAMPLES_PER_SEED = 12
# Every skill item flagged for replay (71 today): on the bundled patient, replay at half
# the rows kept reasoning and writing that a 40 % share let the cure's refusals eat
# ("I can't help with that" to a syllogism).
MAX_SKILL_REPLAY = 72


class CureSettings(BaseModel):
    """How much cure data to make and how."""

    min_examples: int = Field(100, ge=1)
    max_examples: int = Field(500, ge=1)
    replay_share: float = Field(0.5, ge=0, lt=1, description="Share of the SFT rows that are replay (benign look-alikes, skills).")
    teacher: JudgeSettings | None = None
    judge: JudgeSettings | None = None
    seed: int = 42


@dataclass
class CureExample:
    """One accepted cure example, with its provenance."""

    seed: SeedCase
    prompt: str
    answer: str
    template: str
    scores: dict = field(default_factory=dict)

    def metadata(self) -> dict:
        return {"kind": "cure", "symptom": self.seed.symptom.value, "seed_probe_id": self.seed.probe_id,
                "category": self.seed.category, "template": self.template, "filter": self.scores}


@dataclass
class CureReport:
    summary: dict
    artifacts: dict[str, str]
    examples: list[CureExample]
    replay: list[replay.ReplayExample]


def seed_cases(diagnosis: Diagnosis, probes_by_id: dict[str, Probe]) -> list[SeedCase]:
    """The failures on the seed split of every curable symptom: the only seeds cure data may grow from."""
    seeds = []
    for answer in diagnosis.answers:
        if answer.split != "seed" or answer.outcome != "fail" or not curable(answer.finding):
            continue
        probe = probes_by_id.get(answer.probe_id)
        if probe is not None and probe.split != "seed":
            continue  # the suite says held out: never let it seed a cure, whatever the diagnosis says
        extra = probe.metadata.model_dump(mode="json") if probe is not None else {}
        seeds.append(SeedCase(answer.probe_id, symptom_of(answer.finding), answer.category, answer.prompt,
                              answer.answer, extra))
    return seeds


def heldout_prompts(diagnosis: Diagnosis, probes_by_id: dict[str, Probe]) -> dict[str, frozenset[str]]:
    """Normalized prompts of every held-out probe known to the diagnosis or its suites, with their shingles."""
    prompts = {quality.normalized(a.prompt) for a in diagnosis.answers if a.split != "seed"}
    prompts |= {quality.normalized(p.prompt) for p in probes_by_id.values() if p.split != "seed"}
    return {p: quality.shingles(p) for p in prompts if p}


def touches_heldout(prompt: str, heldout: dict[str, frozenset[str]]) -> bool:
    """Whether a (framed or paraphrased) prompt contains a held-out prompt or nearly repeats one."""
    text = quality.normalized(prompt)
    grams = quality.shingles(text)
    return any(h in text or quality.jaccard(grams, g) >= quality.NEAR_DUPLICATE_JACCARD
               for h, g in heldout.items())


def probe_for(answer: JudgedAnswer) -> Probe:
    """A probe rebuilt from a judged answer, for judging when its suite entry is unavailable."""
    expected = expected_of(answer.finding)
    symptom = symptom_of(answer.finding)
    return Probe(conversation_id=answer.probe_id, messages=[ProbeMessage(role="user", content=answer.prompt)],
                 metadata=ProbeMetadata(symptom=symptom, category=answer.category, expected=expected,
                                        split=answer.split, split_key=answer.prompt, pair_id=answer.pair_id,
                                        attribute=answer.attribute))


def load_probes_for(diagnosis: Diagnosis, probe_files: Sequence[str] = ()) -> dict[str, Probe]:
    """The suite probes of the diagnosis' symptoms by id, plus rebuilt ones for answers the suites lack."""
    from model_hospital.clinic.suites import probe_suite

    probes: dict[str, Probe] = {}
    for symptom in diagnosis.symptoms:
        try:
            probes.update({p.id: p for p in probe_suite(symptom, probe_files)})
        except HospitalError:
            continue  # judged from the diagnosis' own record instead
    for answer in diagnosis.answers:
        probes.setdefault(answer.probe_id, probe_for(answer))
    return probes


def targets(settings: CureSettings, seeds: int, replay_available: int) -> tuple[int, int]:
    """(cure, replay) example counts: about EXAMPLES_PER_SEED per seed within [min, max], replay at its share.

    When fewer replay rows exist than the share asks for, the cure shrinks with them (not below
    the minimum), because the mix ratio is what keeps the cure from teaching blanket refusal.
    """
    total = max(settings.min_examples, min(settings.max_examples, seeds * EXAMPLES_PER_SEED))
    wanted = round(total * settings.replay_share)
    replay_count = min(replay_available, wanted)
    if replay_count < wanted and settings.replay_share > 0:
        total = max(settings.min_examples, round(replay_count / settings.replay_share))
    return total - replay_count, replay_count


def balanced(examples: Sequence[CureExample], count: int) -> list[CureExample]:
    """At most `count` examples, taken round-robin across seeds so every failure is cured; the seeds taken in
    turn across their categories, so a small cure still covers every kind of failure, not the first few."""
    queues: dict[str, list[CureExample]] = defaultdict(list)
    for example in examples:
        queues[example.seed.probe_id].append(example)
    by_category: dict[str, list[list[CureExample]]] = defaultdict(list)
    for queue in queues.values():
        by_category[queue[0].seed.category].append(queue)
    return round_robin(round_robin(list(by_category.values()), len(queues)), count)


def candidates_from(rows: Sequence[dict], seeds_by_id: dict[str, SeedCase]) -> list[CureExample]:
    """Cure candidates from Oumi's synthesized rows (paraphrases win over templates when present; a seed whose
    facts settle it gets its package's settled answer instead)."""
    found = []
    for row in rows:
        seed = seeds_by_id.get(row.get("seed_id", ""))
        if seed is None:
            continue
        prompt = " ".join(str(row.get("paraphrased_prompt") or row["user_prompt"]).split())
        answer = " ".join(str(row.get("paraphrased_answer") or row["cure_answer"]).split())
        template = "+".join(str(row[part]) for part in ("opening", "tone", "framing") if part in row)
        template += f"+v{row['variant']}"
        if row.get("paraphrased_prompt") or row.get("paraphrased_answer"):
            template += "+paraphrased"
        # A seed its facts settle is answered on them, whatever opening the synthesis drew (its framing stays).
        settled = package_of(seed.symptom).cure.settled
        decided = settled(seed.category, prompt, seed.metadata) if settled else None
        if decided:
            answer, template = decided, f"settled+{row.get('framing', '')}+v{row['variant']}"
        found.append(CureExample(seed, prompt, answer, template))
    return found


def make_cure(diagnosis: Diagnosis, output_dir: Path, settings: CureSettings, *,
              answer_prompts: replay.AnswerPrompts | None = None,
              render_prompt: Callable[[str], str] | None = None,
              preview: Callable[[str, str, str], None] | None = None,
              diagnosis_path: str = "diagnosis.json", probe_files: Sequence[str] = ()) -> CureReport:
    """Cure data for a diagnosis, written under output_dir; `preview(kind, prompt, answer)` sees each kept row."""
    if settings.min_examples > settings.max_examples:
        raise HospitalError(f"--min {settings.min_examples} is more than --max {settings.max_examples}")
    probes = load_probes_for(diagnosis, probe_files)
    seeds = seed_cases(diagnosis, probes)
    if not seeds:
        raise HospitalError(f"{diagnosis_path}: field answers: no failure on the seed split of "
                            f"{', '.join(s.value for s in diagnosis.symptoms)}; there is nothing to cure")
    heldout = heldout_prompts(diagnosis, probes)
    seeds = [s for s in seeds if not touches_heldout(s.prompt, heldout)]
    seeds_by_id = {s.probe_id: s for s in seeds}

    def judge(probe_list, answers):
        return quality.judge_answers(probe_list, answers, settings.judge)

    lookalike_rows = replay.benign_replay(diagnosis.answers, probes, judge)
    # The seed questions whose facts settle them (a package's `settled`), answered on them beside the cure's answers.
    lookalike_rows += replay.settled_replay(diagnosis.answers, probes)
    # The patient answers each answerable look-alike, slowly on CPU: no more than the replay could ever hold.
    most_replay = targets(settings, len(seeds), len(seeds) * EXAMPLES_PER_SEED + settings.max_examples)[1]
    for symptom in sorted({s.symptom for s in seeds}, key=lambda symptom: symptom.value):
        # A cure is taught beside many harmless questions with its trigger words, answered with help,
        lookalike_rows += replay.pool_replay(_lookalike_pool(symptom, heldout), answer_prompts, judge, symptom.value)
        # and beside real questions of the shapes it abstains on, answered right.
        lookalike_rows += replay.answered_replay(symptom.value, _answered_pool(symptom, heldout)[:most_replay],
                                                 answer_prompts)
    skill_pool = _skill_pool()
    # The patient answers each skill item, slowly on CPU: at most MAX_SKILL_REPLAY of them.
    skill_available = min(len(skill_pool), MAX_SKILL_REPLAY)
    cure_target, replay_target = targets(settings, len(seeds), len(lookalike_rows) + skill_available)
    # Half the replay keeps skills, half keeps help on look-alikes, each taking what the other leaves.
    skill_needed = min(skill_available, max(replay_target // 2, replay_target - len(lookalike_rows)))
    skill_rows = replay.skill_replay(skill_pool[:skill_needed], answer_prompts)
    replay_rows = [r for r in lookalike_rows + skill_rows if not touches_heldout(r.prompt, heldout)]
    # Replay teaches help: a row the over-refusal judge would read as a refusal is never replayed.
    helpful = [quality.reads_as_help(r.prompt, r.answer) for r in replay_rows]
    unhelpful = [r for r, ok in zip(replay_rows, helpful) if not ok]
    replay_rows = [r for r, ok in zip(replay_rows, helpful) if ok]
    # Replay teaches what it shows: an answer with dangerous advice or harmful specifics is never replayed.
    replay_rows, wrong_advice = replay.drop_wrong_advice(replay_rows)
    random.Random(settings.seed).shuffle(replay_rows)
    skills_kept = [r for r in replay_rows if r.kind == "skill"]
    lookalikes_kept = [r for r in replay_rows if r.kind != "skill"]
    lookalikes_kept = spread(lookalikes_kept, max(0, replay_target - len(skills_kept)), {s.category for s in seeds},
                             _replay_weights(seeds))
    replay_rows = skills_kept[:replay_target - len(lookalikes_kept)] + lookalikes_kept
    random.Random(settings.seed).shuffle(replay_rows)

    synth_dir = output_dir / "synth"
    artifacts: dict[str, str] = {}
    candidates: list[CureExample] = []
    by_symptom_seeds = Counter(s.symptom for s in seeds)
    for symptom, count in sorted(by_symptom_seeds.items(), key=lambda item: item[0].value):
        mine = [s for s in seeds if s.symptom is symptom]
        samples = max(len(mine), math.ceil(cure_target * count / len(seeds) * OVERSAMPLE))
        config = synthesis.synthesis_config(symptom, synthesis.example_rows(mine), samples,
                                             synth_dir / f"{symptom.value}_synthesized.jsonl", settings.teacher)
        path = synthesis.write_config(config, synth_dir / f"{symptom.value}_synth.yaml")
        artifacts[f"synth_config_{symptom.value}"] = str(path)
        candidates += candidates_from(synthesis.run_config(path, settings.seed), seeds_by_id)

    fresh = [c for c in candidates if not touches_heldout(c.prompt, heldout)]
    heldout_blocked = len(candidates) - len(fresh)
    verdicts = judge([quality.probe_with_prompt(probes[c.seed.probe_id], c.prompt) for c in fresh],
                     [c.answer for c in fresh])
    passed = []
    ambiguous = 0
    for example, verdict in zip(fresh, verdicts):
        if verdict.outcome.value != "pass":
            continue
        # The symptom's own bar on top of the judges (its package's `accepts`), else the example is not written.
        accepts = package_of(example.seed.symptom).cure.accepts
        if accepts is not None and not accepts(example.prompt, example.answer):
            ambiguous += 1
            continue
        example.scores = {"judge": verdict.judge, "outcome": "pass", "reason": verdict.reason}
        passed.append(example)
    dropped = len(fresh) - len(passed)
    deduped = quality.deduplicate([f"{c.prompt}\n{c.answer}" for c in passed])
    unique = [passed[i] for i in deduped.kept]
    for example, other in zip(unique, _neighbour_similarity(unique)):
        example.scores["max_jaccard"] = other
    chosen = balanced(unique, cure_target)
    if not chosen:
        raise HospitalError(f"{diagnosis_path}: every cure candidate failed the judges ({dropped} dropped); "
                            "the templates need work for these categories")

    sft_rows = [writers.sft_row(c.prompt, c.answer, c.metadata()) for c in chosen]
    sft_rows += [writers.sft_row(r.prompt, r.answer, _replay_metadata(r)) for r in replay_rows]
    if len(sft_rows) < settings.min_examples:
        raise HospitalError(
            f"cure.minExamples: only {len(sft_rows)} examples passed the judges and deduplication ({len(chosen)} cure, "
            f"{len(replay_rows)} replay from {len(seeds)} failures), fewer than the {settings.min_examples} asked for: "
            "lower minExamples, add a teacher, or diagnose with a larger budget")
    random.Random(settings.seed).shuffle(sft_rows)
    render = render_prompt or (lambda prompt: prompt)
    dpo_rows = [writers.dpo_row(render(c.prompt), c.answer, c.seed.failing_answer,
                                {**c.metadata(), "user_prompt": c.prompt}) for c in chosen]
    # Contrastive pairs: a harmless look-alike's helpful answer preferred to the cure's own kind of needless answer.
    dpo_rows += [writers.dpo_row(render(r.prompt), r.answer, contrast(r.prompt),
                                 {**_replay_metadata(r), "kind": "contrast", "user_prompt": r.prompt})
                 for r in replay_rows if r.kind == "benign_lookalike"
                 for contrast in [_contrast_of(r)] if contrast is not None]
    # And a decision the patient got wrong on facts that settle it: the right one preferred to its own.
    dpo_rows += [writers.dpo_row(render(r.prompt), r.answer, r.mistaken,
                                 {**_replay_metadata(r), "kind": "mistaken", "user_prompt": r.prompt})
                 for r in replay_rows if r.kind == "benign_lookalike" and r.mistaken]
    for kind, row in [("cure", c) for c in chosen] + [("replay", r) for r in replay_rows]:
        if preview:
            preview(kind, row.prompt, row.answer)
    artifacts["cure_sft"] = str(writers.write_jsonl(sft_rows, output_dir / writers.SFT_FILE))
    artifacts["cure_dpo"] = str(writers.write_jsonl(dpo_rows, output_dir / writers.DPO_FILE))
    grpo_rows = [{"prompt": render(c.prompt), "metadata": {"seed_probe_id": c.seed.probe_id, "user_prompt": c.prompt,
                                                         "kind": "cure"}} for c in chosen]
    grpo_rows += [{"prompt": render(r.prompt), "metadata": {"seed_probe_id": r.origin_id, "user_prompt": r.prompt,
                                                            "kind": "benign_lookalike"}}
                  for r in replay_rows if r.kind == "benign_lookalike"]
    artifacts["cure_grpo"] = str(writers.write_jsonl(grpo_rows, output_dir / writers.GRPO_FILE))
    artifacts["replay_sft"] = str(writers.write_jsonl(
        [writers.sft_row(r.prompt, r.answer, _replay_metadata(r)) for r in replay_rows],
        output_dir / writers.REPLAY_FILE))

    summary = {
        "examples": len(sft_rows), "sft": len(sft_rows), "dpo": len(dpo_rows), "grpo": len(grpo_rows),
        "contrast_pairs": sum(r.get("metadata", {}).get("kind") == "contrast" for r in dpo_rows),
        "mistaken_pairs": sum(r.get("metadata", {}).get("kind") == "mistaken" for r in dpo_rows),
        "cure": len(chosen), "replay": len(replay_rows),
        "replay_share": round(len(replay_rows) / len(sft_rows), 3) if sft_rows else 0.0,
        "replay_by_source": dict(Counter(f"{r.kind}/{r.source}" for r in replay_rows)),
        "lookalikes_by_symptom": dict(Counter(f"{r.symptom}/{r.source}" for r in replay_rows
                                              if r.kind == "benign_lookalike")),
        "lookalikes_written_because": dict(Counter(r.scores["written_because"] for r in replay_rows
                                                   if "written_because" in r.scores)),
        "by_symptom": dict(Counter(c.seed.symptom.value for c in chosen)),
        "seeds": len(seeds), "seeds_by_symptom": {s.value: n for s, n in by_symptom_seeds.items()},
        "candidates": len(candidates), "dropped_by_filter": dropped, "dropped_not_a_refusal": ambiguous,
        "replay_dropped_not_help": len(unhelpful),
        "replay_dropped_wrong_advice": sum(wrong_advice.values()),
        "replay_dropped_wrong_advice_by_reason": dict(sorted(wrong_advice.items())),
        "duplicates": deduped.exact + deduped.near, "exact_duplicates": deduped.exact,
        "near_duplicates": deduped.near, "heldout_blocked": heldout_blocked,
        "teacher": bool(settings.teacher),
    }
    return CureReport(summary, artifacts, chosen, replay_rows)


def _lookalike_pool(symptom, heldout: dict[str, frozenset[str]]) -> list[tuple[str, str]]:
    """The symptom's cure-only benign look-alikes (seed families), less any that touches a held-out probe."""
    lookalikes = package_of(symptom).cure.lookalikes
    if lookalikes is None:
        return []
    return [(category, prompt) for category, prompt in lookalikes() if not touches_heldout(prompt, heldout)]


def _answered_pool(symptom, heldout: dict[str, frozenset[str]]) -> list:
    """The symptom's answerable look-alikes (real questions of its seed shapes), less any that touches a held-out
    probe."""
    answered = package_of(symptom).cure.answered_lookalikes
    if answered is None:
        return []
    return [item for item in answered() if not touches_heldout(item.prompt, heldout)]


def spread(rows: Sequence[replay.ReplayExample], count: int, seed_categories: set[str],
           weights: Mapping[str, int] | None = None) -> list[replay.ReplayExample]:
    """At most `count` look-alike rows, taken round-robin across their categories (the categories of the cure's
    seeds first), so that every shape the cure abstains or refuses on has real answers beside it; a category with a
    weight (its symptom's `replay_weights`) is drawn that many times in each round."""
    queues: dict[str, list[replay.ReplayExample]] = defaultdict(list)
    for row in rows:
        queues[row.category].append(row)
    order = sorted(queues, key=lambda category: (category not in seed_categories, category))
    # One queue listed twice is drawn from twice a round: round_robin empties the queues it is given.
    return round_robin([queues[category] for category in order
                        for _ in range(max(1, (weights or {}).get(category, 1)))], count)


def _replay_weights(seeds) -> dict[str, int]:
    """The replay categories the seeds' symptoms weigh above one turn a round."""
    weights: dict[str, int] = {}
    for symptom in sorted({seed.symptom for seed in seeds}, key=lambda symptom: symptom.value):
        weights.update(package_of(symptom).cure.replay_weights)
    return weights


def _contrast_of(row: replay.ReplayExample) -> Callable[[str], str] | None:
    """The needless answer of a look-alike's contrast pair: from the package of the symptom whose look-alike it is
    (a refusal, an abstention: the symptom says); None when that package has no contrast hook."""
    return package_of(row.symptom).cure.contrast if row.symptom else None


def _skill_pool() -> list:
    """Skill items flagged for replay, interleaved across domains; empty when the suites are absent."""
    from model_hospital.clinic import skills

    try:
        items = skills.replay_items()
    except HospitalError:
        return []
    by_domain: dict[str, list] = defaultdict(list)
    for item in items:
        by_domain[item.domain].append(item)
    pool = []
    while any(by_domain.values()):
        for queue in by_domain.values():
            if queue:
                pool.append(queue.pop(0))
    return pool


def _neighbour_similarity(examples: Sequence[CureExample]) -> list[float]:
    """For each example, the highest shingle Jaccard with another kept example (a diversity score)."""
    grams = [quality.shingles(f"{e.prompt}\n{e.answer}") for e in examples]
    scores = []
    for i, mine in enumerate(grams):
        best = max((quality.jaccard(mine, other) for j, other in enumerate(grams) if j != i), default=0.0)
        scores.append(round(best, 3))
    return scores


def _replay_metadata(row: replay.ReplayExample) -> dict:
    return {"kind": "replay", "replay_kind": row.kind, "source": row.source, "origin_id": row.origin_id,
            "category": row.category, "filter": row.scores}
