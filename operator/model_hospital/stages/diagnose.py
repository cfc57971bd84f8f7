"""The Diagnostician: probes a model for each symptom, judges every answer, grades the findings."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from model_hospital import __version__
from model_hospital.api.common import Symptom
from model_hospital.api.stages import Diagnosis, DiagnoseInput, JudgedAnswer, StageResult, progress_line
from model_hospital.clinic import findings as grading
from model_hospital.clinic import public_checks
from model_hospital.clinic.inference import quiet_libraries  # noqa: F401  (the CLI's name for it)
from model_hospital.clinic.probes import Probe, select
from model_hospital.clinic.suites import probe_suite
from model_hospital.clinic.symptoms import package_of
from model_hospital.errors import HospitalError


def suite_max_new_tokens(symptom: Symptom) -> int:
    """The new-token budget of a suite's answers (its symptom package's): enough to see compliance or a refusal."""
    return package_of(symptom).max_new_tokens  # the cost of a probe is mostly its new tokens


def plan(stage_input: DiagnoseInput) -> dict[Symptom, list[Probe]]:
    """The probes a diagnosis will send, per symptom; an error when a selection is empty."""
    chosen: dict[Symptom, list[Probe]] = {}
    for symptom in dict.fromkeys(stage_input.symptoms):
        probes = select(probe_suite(symptom, stage_input.suites.probes), splits=stage_input.splits,
                        budget=stage_input.budget)
        if not probes:
            raise HospitalError(f"the {symptom.value} suite has no probes in splits {stage_input.splits}")
        chosen[symptom] = probes
    return chosen


def diagnose(stage_input: DiagnoseInput, console=None, *, generator=None) -> Diagnosis:
    """The diagnosis of a model: every selected probe answered, judged and graded."""
    from model_hospital.clinic.judges import JudgedItem, degenerate_of, evaluate_with_oumi, finding_for
    from model_hospital.clinic.models import resolve

    started_at = datetime.now(timezone.utc)
    started = time.monotonic()
    probes_by_symptom = plan(stage_input)
    public_checks.load_all(stage_input.public, stage_input.budget)  # a wrong copy fails before the model loads
    if stage_input.endpoint is not None:
        from model_hospital.clinic.served import ServedGenerator, served_info

        model_info = served_info(stage_input.endpoint)
        generator = generator or ServedGenerator(stage_input.endpoint, stage_input.generation)
    else:
        model = resolve(stage_input.model)
        model_info = model.info()
        if generator is None:
            from model_hospital.clinic.inference import Generator

            with _status(console, f"Loading {model.reference}"):
                generator = Generator(model, stage_input.generation)
    answers_by_symptom = {}
    total = sum(len(p) for p in probes_by_symptom.values())
    with _progress(console, total) as advance:
        done = 0
        for symptom, probes in probes_by_symptom.items():
            conversations = [probe.to_conversation() for probe in probes]
            answers_by_symptom[symptom] = generator.generate(
                conversations, progress=lambda n, _total, base=done: advance(base + n, symptom),
                max_new_tokens=suite_max_new_tokens(symptom), batch_size=stage_input.generation.probe_batch())
            done += len(probes)
    probes = [p for group in probes_by_symptom.values() for p in group]
    answers = [a for group in answers_by_symptom.values() for a in group]
    items = [JudgedItem(probe=p, answer=a) for p, a in zip(probes, answers)]
    with _status(console, "Judging answers through Oumi's Evaluator"):
        verdicts = evaluate_with_oumi(items, stage_input.judge)
    if len(verdicts) != len(items):
        raise RuntimeError(f"the judges returned {len(verdicts)} verdicts for {len(items)} answers")
    judged = [
        JudgedAnswer(probe_id=p.id, finding=finding_for(p), category=p.category, split=p.split,
                     expected=p.expected.value, prompt=p.prompt, answer=a, outcome=v.outcome.value,
                     reason=v.reason, judge=v.judge, pair_id=p.metadata.pair_id, attribute=p.metadata.attribute,
                     degenerate=degenerate_of(v, a, p.prompt))
        for p, a, v in zip(probes, answers, verdicts)
    ]
    findings = grading.summarize(judged)
    with _status(console, "Checking the public sets"):
        public = public_checks.examine(stage_input.public, generator, stage_input.judge, stage_input.budget)
    judge_name = "offline" if stage_input.judge.backend == "offline" else f"llm:{stage_input.judge.model}"
    return Diagnosis(
        model=model_info, symptoms=list(probes_by_symptom), splits=stage_input.splits,
        budget=stage_input.budget, generation=stage_input.generation, judge=judge_name,
        findings=findings, overall_severity=grading.overall_severity(findings),
        worst_finding=grading.worst_finding(findings), treatment_priority=grading.treatment_priority(findings),
        answers=judged, public=public, started_at=started_at.isoformat(timespec="seconds"),
        finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        seconds=round(time.monotonic() - started, 1), provenance=_provenance())


def heldout_part(diagnosis: Diagnosis, symptoms: list[Symptom], probe_files: Sequence[str] = ()) -> Diagnosis:
    """The diagnosis as if only the held-out probes of `symptoms` had been sent (verify's view of it)."""
    wanted = {p.id for symptom in symptoms for p in probe_suite(symptom, probe_files) if p.split == "heldout"}
    answers = [a for a in diagnosis.answers if a.split == "heldout" and a.probe_id in wanted]
    findings = grading.summarize(answers)
    return diagnosis.model_copy(update={
        "symptoms": [s for s in diagnosis.symptoms if s in symptoms], "splits": ["heldout"], "answers": answers,
        "findings": findings, "overall_severity": grading.overall_severity(findings),
        "worst_finding": grading.worst_finding(findings), "treatment_priority": grading.treatment_priority(findings)})


def write_reports(diagnosis: Diagnosis, output_dir: Path) -> dict[str, str]:
    """diagnosis.json, diagnosis.md and diagnosis.png in `output_dir`; their paths by name."""
    from model_hospital.clinic import report

    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {"diagnosis": output_dir / "diagnosis.json", "report": output_dir / "diagnosis.md",
             "chart": output_dir / "diagnosis.png"}
    paths["diagnosis"].write_text(diagnosis.model_dump_json(indent=2, by_alias=True), encoding="utf-8")
    report.chart(diagnosis.findings, paths["chart"], f"{diagnosis.model.reference}: failure rate per finding")
    paths["report"].write_text(report.markdown(diagnosis, paths["chart"].name), encoding="utf-8")
    return {name: str(path) for name, path in paths.items()}


def summary(diagnosis: Diagnosis) -> dict:
    """The figures the operator copies into a patient's status (small: fits a termination message)."""
    return {
        "model": diagnosis.model.reference,
        "revision": diagnosis.model.revision,
        "overall_severity": diagnosis.overall_severity.value,
        "worst_finding": diagnosis.worst_finding.value if diagnosis.worst_finding else None,
        "treatment_priority": [s.value for s in diagnosis.treatment_priority],
        "findings": {
            finding.value: {"failure_rate": r.failure_rate, "failures": r.failures, "scored": r.scored,
                            "unscored": r.unscored, "interval": r.interval, "severity": r.severity.value}
            for finding, r in diagnosis.findings.items()
        },
    }


def run(stage_input: DiagnoseInput, output_dir: Path, console) -> StageResult:
    diagnosis = diagnose(stage_input, console)
    artifacts = write_reports(diagnosis, output_dir)
    worst = diagnosis.worst_finding.value if diagnosis.worst_finding else "none"
    return StageResult(stage="diagnose", ok=True, summary=summary(diagnosis), artifacts=artifacts,
                       message=f"overall severity {diagnosis.overall_severity.value} (worst: {worst})",
                       provenance=diagnosis.provenance)


def _provenance() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"model-hospital": __version__}
    for package in ("oumi", "torch", "transformers"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found


class _NullContext:
    def __enter__(self):
        return lambda *args: None

    def __exit__(self, *exc):
        return False


def _status(console, text: str):
    return console.status(text) if console is not None and console.is_terminal else _NullContext()


def _progress(console, total: int):
    """A context giving advance(done, symptom): a Rich progress bar on a terminal, log lines otherwise."""
    if console is None:
        return _NullContext()
    if not console.is_terminal:
        return _LogProgress(console, total)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=console, transient=False)
    task = progress.add_task("Examining", total=total)

    class _Bar:
        def __enter__(self):
            progress.start()
            return lambda done, symptom: progress.update(task, completed=done,
                                                         description=f"Examining ({symptom.value})")

        def __exit__(self, *exc):
            progress.stop()
            return False

    return _Bar()


class _LogProgress:
    def __init__(self, console, total: int):
        self.console, self.total, self.last = console, total, -1

    def __enter__(self):
        def advance(done: int, symptom: Symptom) -> None:
            step = max(self.total // 20, 1)
            if done // step != self.last or done == self.total:
                self.last = done // step
                # Not markup: the operator reads this line from the pod's log into status.progress.
                self.console.print(progress_line(done, self.total, "probes", symptom.value), markup=False,
                                   highlight=False)
        return advance

    def __exit__(self, *exc):
        return False


