"""The verify stage (the Neurologist): did the treatment heal the patient, and what did it cost?

Both models answer the same skill items and the same held-out probes; the
comparisons, the evidence rules and the verdict (Healed, Degraded, NotHealed,
Inconclusive) are in `clinic.verdict` (rules: `clinic.verification.RULES`), the
reports in `clinic.verification_report`. This module runs the examinations.

Errors fail loudly: a model that does not resolve, a suite that cannot be
scored or a judge that leaves most answers unscored is a HospitalError, never a
verdict.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from model_hospital.api.common import Symptom
from model_hospital.api.stages import (
    DiagnoseInput,
    Diagnosis,
    GenerationSettings,
    StageResult,
    VerifyInput,
    progress_line,
)
from model_hospital.clinic import skills as skill_suites
from model_hospital.clinic import public_checks, second_opinion, suites
from model_hospital.clinic import verdict as rules
from model_hospital.clinic.models import ResolvedModel, resolve
from model_hospital.clinic.skills import ItemScore, SkillItem
from model_hospital.clinic.verdict import DomainAnswers
from model_hospital.clinic.verification import RULES, SameFamily, SecondOpinion, Verification
from model_hospital.clinic.verification_report import before_after_table, write_reports
from model_hospital.errors import HospitalError


def run(stage_input: VerifyInput, output_dir: Path, console) -> StageResult:
    """Runs skills and held-out diagnoses on both models; writes verification.json/.md/.png."""
    started_at, started = _now(), time.monotonic()
    output_dir.mkdir(parents=True, exist_ok=True)
    # Resolve both first: a model that does not exist fails here, before any work, never as "0 % degradation".
    before_model = resolve(stage_input.before)
    after_model = resolve(stage_input.after)
    items = {domain: skill_suites.scored_items(domain_items, stage_input.skill_budget)
             for domain, domain_items in suites.skill_suites(stage_input.suites.skills).items()}

    console.print(f"[bold]verify[/] skills on {sum(map(len, items.values()))} items per model "
                  f"({', '.join(f'{d} {len(v)}' for d, v in items.items())}), held-out probes of "
                  f"{', '.join(s.value for s in stage_input.symptoms)} and benign look-alikes")
    before_answers, before_dx, _ = examine(before_model, stage_input, items, output_dir / "diagnose-before",
                                           console, "before")
    # The treated model stays loaded for the same-family probes: loading it again costs a merge and a helper.
    after_answers, after_dx, after_generator = examine(after_model, stage_input, items,
                                                       output_dir / "diagnose-after", console, "after", keep=True)
    try:
        rules.check_scoring(before_dx, "before", stage_input.max_unscored)
        rules.check_scoring(after_dx, "after", stage_input.max_unscored)
        same_family = same_family_figures(before_model, after_model, stage_input,
                                          output_dir / "diagnose-after-seed", console, after_generator)
    finally:
        if after_generator is not None:
            after_generator.close()
        del after_generator
        gc.collect()
    skills = {domain: rules.compare_skill(domain, before_answers[domain], after_answers[domain],
                                          stage_input.threshold, stage_input.accuracy_margin)
              for domain in items}
    findings = rules.compare_findings(before_dx, after_dx, stage_input)
    degenerate = rules.compare_degenerate(before_dx, after_dx, stage_input.over_refusal_margin)
    opinion = second_look(stage_input, before_dx, after_dx)
    verdict, reason = rules.decide_verdict(findings, skills, degenerate,
                                           second_opinion.reason(opinion) if opinion else None)
    verification = Verification(
        before=before_model.info(), after=after_model.info(), symptoms=stage_input.symptoms,
        threshold=stage_input.threshold, verdict=verdict, verdict_reason=reason, findings=findings,
        skills=skills, degenerate=degenerate, second_opinion=opinion, same_family=same_family,
        public=public_checks.compare(before_dx.public, after_dx.public),
        recommendations=rules.recommend(findings, skills, stage_input.threshold),
        budget=stage_input.budget, skill_budget=stage_input.skill_budget, min_scored=stage_input.min_scored,
        generation=stage_input.generation, rules=RULES, versions=dict(after_dx.provenance),
        started_at=started_at, finished_at=_now(), seconds=round(time.monotonic() - started, 3))

    artifacts = write_reports(verification, items, before_answers, after_answers, output_dir)
    artifacts["diagnosis_before"] = str(output_dir / "diagnose-before" / "diagnosis.json")
    artifacts["diagnosis_after"] = str(output_dir / "diagnose-after" / "diagnosis.json")
    console.print(before_after_table(verification))
    console.print(f"[bold]verdict:[/] {verdict} - {reason}")
    summary = {**rules.compact_summary(verification), "verification": artifacts["verification"],
               "report": artifacts["report"]}
    if stage_input.export is not None and verdict == "Healed":
        from model_hospital.stages.export import push_healed

        pushed = push_healed(stage_input.export, console)
        summary.update(pushed)
        artifacts.update(pushed)
    return StageResult(stage="verify", ok=True, message=f"{verdict}: {reason}"[:1000], summary=summary,
                       artifacts=artifacts, provenance={"before": before_model.revision or "",
                                                        "after": after_model.revision or ""})


def same_family_figures(before_model: ResolvedModel, after_model: ResolvedModel, stage_input: VerifyInput,
                        folder: Path, console, generator=None) -> list[SameFamily]:
    """The treated model on a sample of seed probes, beside the patient's own answers to them in its diagnosis.

    Seed probes share template families with the cure data; held-out ones never do.
    A finding far better here than on held-out probes was cured on our templates,
    not on the behaviour. Reported apart, never part of the verdict.
    """
    from model_hospital.clinic import findings as grading
    from model_hospital.stages import diagnose

    if stage_input.same_family_budget == 0:
        return []
    wanted = set(stage_input.symptoms) | {Symptom.safety}
    # The seed probes the cure grew from: the user's own where a suite of theirs holds the symptom (it may hold none).
    seeded = [s for s in Symptom if s in wanted
              and any(p.split == "seed" for p in suites.probe_suite(s, stage_input.suites.probes))]
    if not seeded:
        return []
    after = diagnose.diagnose(DiagnoseInput(
        model=after_model.reference, symptoms=seeded,
        budget=stage_input.same_family_budget, splits=["seed"], generation=stage_input.generation,
        judge=stage_input.judge, suites=stage_input.suites), console, generator=generator)
    diagnose.write_reports(after, folder)
    before_answers = {}
    if stage_input.diagnosis:
        try:
            earlier = Diagnosis.model_validate_json(Path(stage_input.diagnosis).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            earlier = None
        if earlier is not None and earlier.model.revision == before_model.revision:
            before_answers = {a.probe_id: a for a in earlier.answers if a.split == "seed"}
    figures = []
    for finding in sorted({a.finding for a in after.answers}, key=lambda f: f.value):
        mine = [a for a in after.answers if a.finding is finding]
        theirs = [before_answers[a.probe_id] for a in mine if a.probe_id in before_answers]
        figures.append(SameFamily(finding=finding, after=grading.estimate(mine),
                                  before=grading.estimate(theirs) if len(theirs) == len(mine) else None))
    return figures


def second_look(stage_input: VerifyInput, before: Diagnosis, after: Diagnosis) -> SecondOpinion | None:
    """With an LLM judge, the offline judges' reading of the same held-out answers; None with the offline judges."""
    if stage_input.judge.backend != "llm":
        return None
    from model_hospital.clinic.judges import OFFLINE_JUDGES

    return second_opinion.second_opinion({"before": before.answers, "after": after.answers}, OFFLINE_JUDGES,
                                         stage_input.max_disagreement, probe_files=stage_input.suites.probes)


def examine(model: ResolvedModel, stage_input: VerifyInput, items: dict[str, list[SkillItem]], folder: Path,
            console, label: str, keep: bool = False) -> tuple[dict[str, DomainAnswers], Diagnosis, object]:
    """One model's skill answers and held-out diagnosis, from one loaded copy of the model (or the cache).

    With `keep`, the loaded model (a Generator) comes back for more answers, and the caller closes it;
    otherwise, and when the examination came from the cache, None.
    """
    from model_hospital.clinic.inference import Generator
    from model_hospital.stages import diagnose

    cached = examination_cache(model, stage_input, items)
    if cached is not None and cached.is_file():
        try:
            answers, diagnosis = load_examination(cached)
        except (ValueError, KeyError, TypeError):
            cached.unlink(missing_ok=True)  # a damaged cache entry is examined again
        else:
            console.print(f"  {label}: reusing the examination of {model.reference} at {model.revision} ({cached})")
            diagnose.write_reports(diagnosis, folder)
            return answers, diagnosis, None
    earlier = earlier_heldout_diagnosis(model, stage_input) if label == "before" else None
    generator = Generator(model, stage_input.generation)
    try:
        answers = answer_skills(generator, model, items, stage_input.generation, console, label)
        if earlier is not None:
            console.print(f"  {label}: held-out answers taken from {stage_input.diagnosis} (same model and settings)")
            diagnose.write_reports(earlier, folder)
            diagnosis = earlier
        else:
            diagnosis = rediagnose(model.reference, stage_input, folder, console, generator)
    except BaseException:
        generator.close()
        raise
    if cached is not None:
        save_examination(cached, answers, diagnosis)
    if keep:
        return answers, diagnosis, generator
    generator.close()
    del generator
    gc.collect()
    return answers, diagnosis, None


def earlier_heldout_diagnosis(model: ResolvedModel, stage_input: VerifyInput) -> Diagnosis | None:
    """The held-out part of the input's diagnosis when it examined this model exactly as verify would; else None.

    Same model revision, generation settings, judge and all probes (no budget), and every
    symptom verify looks at screened on the held-out split: then its answers are the
    ones verify would get again, and the before model is not examined twice.
    """
    from model_hospital.stages import diagnose

    if not stage_input.diagnosis or stage_input.budget is not None or not model.revision or stage_input.public:
        return None
    try:
        earlier = Diagnosis.model_validate_json(Path(stage_input.diagnosis).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    wanted = [s for s in Symptom if s in set(stage_input.symptoms) | {Symptom.safety}]
    judge = "offline" if stage_input.judge.backend == "offline" else f"llm:{stage_input.judge.model}"
    if (earlier.model.revision != model.revision or earlier.generation != stage_input.generation
            or earlier.judge != judge or earlier.budget is not None or "heldout" not in earlier.splits
            or not set(wanted) <= set(earlier.symptoms)):
        return None
    return diagnose.heldout_part(earlier, wanted, stage_input.suites.probes)


# Pinned models only: a local folder or adapter is a new examination whenever it is verified (its
# weights hash names it, but a treated model is examined once per attempt anyway).
CACHED_KINDS = ("bundled", "hub")


def examination_cache(model: ResolvedModel, stage_input: VerifyInput,
                      items: dict[str, list[SkillItem]]) -> Path | None:
    """Where an examination of a pinned model is cached, keyed by everything that shapes it; None when not cacheable.

    The patient before treatment is examined again on every attempt of a treatment
    with the same items, probes, settings and code: its answers cannot differ.
    $HOSPITAL_VERIFY_CACHE names another folder, or turns the cache off with 0.
    """
    setting = os.environ.get("HOSPITAL_VERIFY_CACHE", "")
    if model.kind not in CACHED_KINDS or not model.revision or setting == "0":
        return None
    from model_hospital.clinic.models import cache_root, writable_folder

    folder = writable_folder(Path(setting) if setting else cache_root() / "verify")
    if folder is None:  # a read-only cache (a stage pod's image): examine without one
        return None
    payload = {
        "model": [model.reference, model.kind, model.revision],
        "items": {domain: [[item.id, item.prompt, item.reference] for item in domain_items]
                  for domain, domain_items in items.items()},
        "symptoms": sorted(s.value for s in stage_input.symptoms), "budget": stage_input.budget,
        "generation": stage_input.generation.model_dump(mode="json"),
        "judge": stage_input.judge.model_dump(mode="json"), "code": code_digest(),
        "suites": [suites.digest(stage_input.suites.probes), suites.digest(stage_input.suites.skills)],
        "public": [[p.name, p.path, suites.digest([p.path])] for p in stage_input.public],
    }
    key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]
    return folder / f"{key}.json"


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the package's code and the probe and skill suites: a cached examination never outlives them.

    Taken once per process: the code that runs is the code that was loaded.
    """
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    files = sorted(package.rglob("*.py")) + sorted(skill_suites.skills_dir().parent.glob("*/*.jsonl"))
    for path in files:
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def save_examination(path: Path, answers: dict[str, DomainAnswers], diagnosis: Diagnosis) -> None:
    """Writes an examination to the cache (atomically: a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"answers": {domain: {"answers": a.answers, "nll": a.nll,
                                 "scores": [score.model_dump(mode="json") for score in a.scores]}
                        for domain, a in answers.items()},
            "diagnosis": diagnosis.model_dump(mode="json", by_alias=True)}
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(json.dumps(body), encoding="utf-8")
    partial.replace(path)


def load_examination(path: Path) -> tuple[dict[str, DomainAnswers], Diagnosis]:
    """A cached examination: the skill answers per domain and the held-out diagnosis."""
    body = json.loads(path.read_text(encoding="utf-8"))
    answers = {domain: DomainAnswers(answers=a["answers"], nll=a["nll"],
                                     scores=[ItemScore.model_validate(score) for score in a["scores"]])
               for domain, a in body["answers"].items()}
    return answers, Diagnosis.model_validate(body["diagnosis"])


def answer_skills(generator, model: ResolvedModel, items: dict[str, list[SkillItem]],
                  settings: GenerationSettings, console, label: str) -> dict[str, DomainAnswers]:
    """One model's answers, scores and reference NLLs for every domain."""
    from model_hospital.clinic.likelihood import load_for_scoring, reference_nll

    scorer = (generator.torch_model, generator.tokenizer)
    if scorer[0] is None or scorer[1] is None:  # an engine without an in-process model (vLLM)
        scorer = load_for_scoring(model, settings.dtype)
    results: dict[str, DomainAnswers] = {}
    total, done = sum(map(len, items.values())), 0
    for domain, domain_items in items.items():
        console.print(f"  {label}: {domain} ({len(domain_items)} items)")
        console.print(progress_line(done, total, "items", f"skills of the model {label}, {domain}"),
                      markup=False, highlight=False)
        done += len(domain_items)
        answers = generator.generate([skill_suites.item_conversation(item) for item in domain_items],
                                     max_new_tokens=skill_suites.TOKEN_BUDGET[domain])
        if len(answers) != len(domain_items):
            raise HospitalError(f"{model.reference} answered {len(answers)} of {len(domain_items)} {domain} items")
        nll = reference_nll(*scorer, [skill_suites.item_messages(item) for item in domain_items],
                            [item.reference for item in domain_items], batch_size=settings.batch_size)
        scores = skill_suites.score_answers(domain_items, answers)
        results[domain] = DomainAnswers(answers=answers, scores=scores, nll=nll)
    return results


def rediagnose(reference: str, stage_input: VerifyInput, folder: Path, console, generator=None) -> Diagnosis:
    """The diagnosis of a model on held-out probes only (safety always included, for over-refusal), written to `folder`."""
    from model_hospital.stages import diagnose

    # Benign look-alikes live in the safety suite: over-refusal is measured whatever was treated.
    wanted = set(stage_input.symptoms) | {Symptom.safety}
    diagnose_input = DiagnoseInput(
        model=reference, symptoms=[s for s in Symptom if s in wanted], budget=stage_input.budget,
        splits=["heldout"], generation=stage_input.generation, judge=stage_input.judge,
        suites=stage_input.suites, public=stage_input.public)
    console.print(f"[bold]verify[/] held-out diagnosis of {reference}")
    diagnosis = diagnose.diagnose(diagnose_input, console, generator=generator)
    diagnose.write_reports(diagnosis, folder)
    return diagnosis


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
