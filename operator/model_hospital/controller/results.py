"""What a finished stage Job says: its state, its termination message, and the status that follows.

Pure functions over Job and Pod bodies (dicts as the API returns them). The stage
summary (`api.stages.StageSummary`) travels in the container's termination message;
its figures are the stage's `*Figures` model (`api/stages.py`, read through
`protocol.figures_of`): a summary whose figures do not validate is a failed stage with
the reason, never an exception in the reconcile loop. A path missing from the figures
falls back to the file's conventional name beside result.json.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from model_hospital.api.common import Finding, Severity, overall_of, severity_for, severity_span
from model_hospital.api.resources import (
    MAX_FINDING_ROWS, MAX_MESSAGE_CHARS, MAX_SKILL_ROWS, FindingRow, SkillRow, SymptomOutcome, TrainingOutcome,
)
from model_hospital.api.protocol import figures_of
from model_hospital.api.figures import DiagnoseFigures, VerifyFigures, beside
from model_hospital.api.stages import StageSummary
from model_hospital.api.training import MAX_TRAINING_MESSAGE
from model_hospital.controller.jobs import (
    COMPLETION_INDEX, CONTAINER, QUEUE_LABEL, USER_ERROR_EXIT, controller_of,
)
from model_hospital.controller.launchers import TRAINER_CONTAINER

JobState = Literal["missing", "foreign", "pending", "running", "succeeded", "failed"]
OOM_REASON = "OOMKilled"


@dataclass
class JobOutcome:
    """Where a stage Job stands and, once it ended, what it reported."""

    state: JobState
    summary: StageSummary | None = None
    message: str = ""
    exit_code: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    waiting: str | None = None  # why a Job that has not ended does not run: the scheduler's or kubelet's words
    created_at: str | None = None
    oom_killed: bool = False  # the kubelet killed the stage for going over its memory limit
    final: bool = False  # the same Job again would fail the same way (its summary did not fit)
    owner: dict[str, Any] | None = None  # for a foreign Job: the ownerReference of whoever owns it

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed")

    @property
    def retryable(self) -> bool:
        """A crash or a timeout may pass on a second try; a user error (exit 2), an OOM kill at the same
        memory, or a summary too large to read will not."""
        return (self.state == "failed" and self.exit_code != USER_ERROR_EXIT and not self.oom_killed
                and not self.final)


def tail(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """The end of a message, cut at `limit` characters (the end of a log says what broke)."""
    text = (text or "").strip()
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def parse_termination_message(text: str | None) -> StageSummary | None:
    """The stage summary in a termination message; None when it is absent or not a summary (a log tail)."""
    if not text or not text.strip().startswith("{"):
        return None
    try:
        return StageSummary.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError):
        return None


def _condition(job: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return condition
    return None


def _terminated(pod: dict[str, Any]) -> dict[str, Any] | None:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") not in (CONTAINER, TRAINER_CONTAINER):
            continue
        state = status.get("state") or {}
        return state.get("terminated") or (status.get("lastState") or {}).get("terminated")
    return None


def last_termination(pods: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The terminated state of the stage container of the newest pod that has one."""
    ordered = sorted(pods, key=lambda pod: pod.get("metadata", {}).get("creationTimestamp") or "")
    for pod in reversed(ordered):
        terminated = _terminated(pod)
        if terminated:
            return terminated
    return None


NOT_STUCK = ("ContainerCreating", "PodInitializing")


def waiting_reason(job: dict[str, Any], pods: list[dict[str, Any]]) -> str | None:
    """Why a Job that has not ended is not running: queued (suspended), unschedulable, image, config; else None."""
    if (job.get("spec") or {}).get("suspend"):
        return "the Job is suspended: waiting for its queue (Kueue) to admit it"
    unscheduled = _unscheduled(pods)
    if unscheduled:
        return tail(f"{unscheduled.get('reason') or 'Unschedulable'}: {unscheduled.get('message') or ''}")
    for pod in _newest(pods):
        for container in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (container.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") and waiting["reason"] not in NOT_STUCK:
                return tail(f"{waiting['reason']}: {waiting.get('message') or ''}".rstrip(": "))
    return None


def queue_state(job: dict[str, Any], pods: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(reason, message) of a Job waiting for a queue (Kueue keeps it suspended) or for a node; None otherwise."""
    if (job.get("spec") or {}).get("suspend"):
        queue = ((job.get("metadata") or {}).get("labels") or {}).get(QUEUE_LABEL)
        return "WaitingForQueue", (f"waiting for queue {queue} to admit Job {job['metadata'].get('name')}" if queue
                                   else f"Job {job['metadata'].get('name')} is suspended")
    unscheduled = _unscheduled(pods)
    if unscheduled:
        return "Unschedulable", tail(f"waiting for a node: {unscheduled.get('message') or unscheduled.get('reason')}")
    return None


def _newest(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest pod of a Job, as a list of at most one."""
    return sorted(pods, key=lambda pod: pod.get("metadata", {}).get("creationTimestamp") or "", reverse=True)[:1]


def _unscheduled(pods: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The PodScheduled=False condition of the newest pod, when the scheduler has not placed it."""
    for pod in _newest(pods):
        for condition in (pod.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
                return condition
    return None


def reporting_pods(job: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pods whose termination speaks for a Job: all of them, but of an Indexed Job (a distributed stage)
    node 0 alone while it runs or once it succeeded (the other nodes write no summary), and once it failed the
    nodes that failed by themselves rather than being stopped when another one failed (SIGKILL, SIGTERM)."""
    if (job.get("spec") or {}).get("completionMode") != "Indexed":
        return pods
    if _condition(job, "Failed") or _condition(job, "FailureTarget"):
        failed = [pod for pod in pods if ((_terminated(pod) or {}).get("exitCode") or 0) != 0]
        by_themselves = [pod for pod in failed if (_terminated(pod) or {}).get("exitCode") not in (137, 143)]
        return by_themselves or failed or pods
    return [pod for pod in pods if ((pod.get("metadata") or {}).get("annotations") or {}).get(COMPLETION_INDEX) == "0"]


def pod_counts(job: dict[str, Any], pods: list[dict[str, Any]]) -> str | None:
    """How the pods of a stage on several nodes stand, e.g. '1 of 2 pods running (1 ready), 1 pending'; None for a
    stage of one pod."""
    spec = job.get("spec") or {}
    if spec.get("completionMode") != "Indexed":
        return None
    phases = Counter((pod.get("status") or {}).get("phase") or "Pending" for pod in pods)
    ready = sum(1 for pod in pods if _ready(pod))
    counts = [f"{phases['Running']} of {int(spec.get('completions') or 0) or len(pods)} pods running ({ready} ready)"]
    counts += [f"{phases[phase]} {phase.lower()}" for phase in ("Pending", "Succeeded", "Failed") if phases[phase]]
    return ", ".join(counts)


def _ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    condition = next((item for item in status.get("conditions") or [] if item.get("type") == "Ready"), None)
    if condition is not None:
        return condition.get("status") == "True"
    containers = status.get("containerStatuses") or []
    return status.get("phase") == "Running" and bool(containers) and all(item.get("ready") for item in containers)


POD_COUNTS = ("active", "ready", "succeeded", "failed", "terminating")


def counts_pods(job: dict[str, Any]) -> bool:
    """Whether the Job's status counts any pod (the Job controller counts every pod it made, pending ones
    included): False means there is no pod to read yet, and the Job's next status change will say when there is."""
    status = job.get("status") or {}
    uncounted = status.get("uncountedTerminatedPods") or {}
    return any(int(status.get(count) or 0) for count in POD_COUNTS) or any(uncounted.get(kind) for kind in uncounted)


def job_ended(job: dict[str, Any]) -> bool:
    """Whether the Job controller has finished the Job (complete or failed)."""
    return any(_condition(job, kind) for kind in ("Complete", "SuccessCriteriaMet", "Failed", "FailureTarget"))


def foreign_outcome(job: dict[str, Any], owner_uid: str | None) -> JobOutcome | None:
    """A `foreign` outcome when the Job is controlled by another object than `owner_uid`; None when it is ours."""
    owner = controller_of(job)
    if not owner_uid or not owner or owner.get("uid") == owner_uid:
        return None
    return JobOutcome("foreign", message=f"Job {job['metadata'].get('name')} belongs to {owner.get('kind')} "
                                         f"{owner.get('name')} (uid {owner.get('uid')})", owner=owner)


def job_outcome(job: dict[str, Any] | None, pods: list[dict[str, Any]]) -> JobOutcome:
    """The state of a stage Job from the Job and its pods, with the stage's summary once it ended."""
    if job is None:
        return JobOutcome("missing")
    outcome = _job_outcome(job, pods)
    outcome.created_at = (job.get("metadata") or {}).get("creationTimestamp")
    return outcome


def _job_outcome(job: dict[str, Any], pods: list[dict[str, Any]]) -> JobOutcome:
    status = job.get("status") or {}
    terminated = last_termination(pods)
    text = (terminated or {}).get("message") or ""
    summary = parse_termination_message(text)
    exit_code = (terminated or {}).get("exitCode")
    started = status.get("startTime")
    finished = status.get("completionTime") or (terminated or {}).get("finishedAt")
    complete = _condition(job, "Complete") or _condition(job, "SuccessCriteriaMet")
    failed = _condition(job, "Failed") or _condition(job, "FailureTarget")
    if (complete or failed) and summary is not None and summary.summary.get("truncated"):
        where = f": read {summary.result_path}" if summary.result_path else ""
        return JobOutcome("failed", None, tail(f"the stage's summary did not fit in its termination message{where}"),
                          exit_code, started, finished, final=True)
    if failed and (terminated or {}).get("reason") == OOM_REASON:
        limit = _memory_limit(job)
        message = f"OOMKilled: the stage went over its memory limit ({limit or 'none set'})" + (
            f"; log: {text}" if text.strip() and summary is None else "")
        return JobOutcome("failed", summary, tail(message), exit_code, started,
                          finished or failed.get("lastTransitionTime"), oom_killed=True)
    if complete and not failed:
        if not pods:  # collected with a Job deleted as it succeeded (the watch still had it): running it again
            return JobOutcome("failed", None, tail(  # would run a finished stage twice
                f"Job {job['metadata'].get('name')} succeeded but its pods were removed before its result was read "
                "(by hand, or its TTL); the stage is not run again"), exit_code, started, finished, final=True)
        if summary is None:
            return JobOutcome("failed", None, "the stage finished without a summary in its termination message",
                              exit_code, started, finished)
        if not summary.ok:
            return JobOutcome("failed", summary, tail(summary.message), exit_code, started, finished)
        problem = figures_problem(summary)
        if problem:
            return JobOutcome("failed", None, tail(f"the {summary.stage} stage's summary is not readable: {problem}"),
                              exit_code, started, finished, final=True)
        return JobOutcome("succeeded", summary, summary.message, exit_code, started, finished)
    if failed:
        reason = failed.get("reason") or "Failed"
        detail = (summary.message if summary else text) or failed.get("message") or ""
        message = f"{reason}: {detail}" if detail else reason
        finished = finished or failed.get("lastTransitionTime")
        return JobOutcome("failed", summary, tail(message), exit_code, started, finished)
    if status.get("active"):
        return JobOutcome("running", started_at=started, waiting=waiting_reason(job, pods))
    return JobOutcome("pending", waiting=waiting_reason(job, pods))


def _memory_limit(job: dict[str, Any]) -> str | None:
    containers = (((job.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    stage = next((container for container in containers if container.get("name") == CONTAINER), {})
    return ((stage.get("resources") or {}).get("limits") or {}).get("memory")


def figures_problem(summary: StageSummary) -> str | None:
    """What makes a summary's figures unreadable for its stage, in one line; None when they read."""
    try:
        figures_of(summary)
    except ValidationError as error:
        first = error.errors()[0]
        return f"{'.'.join(str(part) for part in first['loc']) or 'summary'}: {first['msg']}"
    except ValueError as error:
        return str(error)
    return None


# --- training -> status ---------------------------------------------------------------

def training_status(summary: StageSummary, attempt: int) -> dict[str, Any]:
    """status.training (camelCase) from a finished train stage's summary: its method, phases and, when it
    was watched, the step kept, its rates (target, over-refusal, wrong answers to look-alikes) and why; a figure
    of the wrong type is left out, never guessed."""
    figures = summary.summary
    watch = figures.get("watch") if isinstance(figures.get("watch"), dict) else {}
    phases = figures.get("phases")
    values = {"attempt": attempt, "method": figures.get("method"),
              "phases": list(phases) if isinstance(phases, dict) else None}
    if watch:
        said = [str(watch.get("chosen_because") or watch.get("reason") or ""),
                f"stopped early: {watch['stop_reason']}" if watch.get("stop_reason") else ""]
        values.update({key: watch.get(key) for key in ("watched", "evaluations", "chosen_step", "stopped_early",
                                                       "target_rate", "over_refusal", "lookalike_wrong")},
                      message="; ".join(part for part in said if part)[:MAX_TRAINING_MESSAGE] or None)
    try:
        outcome = TrainingOutcome.model_validate(values)
    except ValidationError as error:
        wrong = {str(problem["loc"][0]) for problem in error.errors() if problem["loc"]}
        outcome = TrainingOutcome.model_validate({key: value for key, value in values.items() if key not in wrong})
    return outcome.model_dump(by_alias=True, mode="json", exclude_none=True)


# --- diagnosis -> status ---------------------------------------------------------------


def finding_rows(figures: DiagnoseFigures) -> list[FindingRow]:
    """The findings of a diagnose summary as status rows, worst first, capped."""
    rows = []
    for name, row in figures.findings.items():
        try:
            finding = Finding(name)
        except ValueError:
            continue
        interval = [float(bound) for bound in row.interval or []] or None
        span = severity_span(interval)
        rows.append(FindingRow(
            symptom=finding, failure_rate=row.failure_rate, failures=row.failures, scored=row.scored,
            unscored=row.unscored, interval=interval, severity=row.severity or severity_for(row.failure_rate),
            severity_span=f"{span[0].value}-{span[1].value}" if span and span[0] is not span[1] else None))
    rows.sort(key=lambda row: (-(row.failure_rate if row.failure_rate is not None else -1), row.symptom.value))
    return rows[:MAX_FINDING_ROWS]


def diagnosis_status(summary: StageSummary, finished_at: str) -> dict[str, Any]:
    """The status fields a finished diagnosis sets on a patient (camelCase, ready to patch)."""
    figures: DiagnoseFigures = figures_of(summary)
    rows = finding_rows(figures)
    symptoms = [row for row in rows if row.symptom != Finding.over_refusal]
    scored = [row for row in symptoms if row.failure_rate is not None]
    worst = max(scored, key=lambda row: row.failure_rate, default=None)
    overall = (figures.overall_severity or overall_of([row.severity for row in symptoms])).value
    worst_name = figures.worst_finding or (worst.symptom.value if worst else None)
    worst_row = next((row for row in rows if row.symptom.value == worst_name), worst)
    return {
        "findings": [row.model_dump(by_alias=True, mode="json") for row in rows],
        "overallSeverity": overall,
        "worstSymptom": worst_name,
        "worstFailureRate": round(worst_row.failure_rate * 100, 1) if worst_row and worst_row.failure_rate is not None else None,
        "lastCheckup": finished_at,
        "modelRevision": figures.revision or figures.model_revision,
        "report": {
            "path": figures.artifacts(summary.result_path)["diagnosis"],
            "sha256": summary.result_sha256,
            "markdown": figures.report or beside(summary.result_path, "diagnosis.md"),
        },
    }


def severity_of(figures: DiagnoseFigures, symptoms: list[str] | None = None) -> Severity:
    """The worst severity among `symptoms` (all when None) in a diagnose summary."""
    rows = [row for row in finding_rows(figures) if row.symptom != Finding.over_refusal
            and (symptoms is None or row.symptom.value in symptoms)]
    if not rows:
        return figures.overall_severity or Severity.UNMEASURED
    return overall_of([row.severity for row in rows])


# --- verification -> status ------------------------------------------------------------


def skill_rows(figures: VerifyFigures) -> tuple[list[SkillRow], int]:
    """The skill table of a verify summary, capped, and how many rows were left out."""
    rows = []
    for domain, row in figures.skills.items():
        delta = row.delta
        if delta is None and row.before is not None and row.after is not None:
            delta = row.after - row.before
        rows.append(SkillRow(domain=domain, before=row.before, after=row.after,
                             delta=None if delta is None else round(float(delta), 4),
                             degraded=row.degraded, status=row.status))
    rows.sort(key=lambda row: (not row.degraded, row.domain))
    return rows[:MAX_SKILL_ROWS], max(0, len(rows) - MAX_SKILL_ROWS)


def skills_summary(rows: list[SkillRow]) -> str:
    """The skill table in a few words: '4 kept', '1 of 4 degraded (math)' or '1 of 4 inconclusive (math)'."""
    if not rows:
        return "none measured"
    lost = [row.domain for row in rows if row.degraded]
    undecided = [row.domain for row in rows if not row.degraded and row.status == "inconclusive"]
    parts = []
    if lost:
        parts.append(f"{len(lost)} of {len(rows)} degraded ({', '.join(lost)})")
    if undecided:
        parts.append(f"{len(undecided)} of {len(rows)} inconclusive ({', '.join(undecided)})")
    return "; ".join(parts) or f"{len(rows)} kept"


def symptom_outcomes(figures: VerifyFigures) -> list[SymptomOutcome]:
    """Each verified symptom (over-refusal too, when measured) before and after, against its target."""
    return [SymptomOutcome(symptom=name, before=row.before, after=row.after, target=row.target, healed=row.healed,
                           status=row.status)
            for name, row in figures.outcomes.items()][:MAX_FINDING_ROWS]


def verification_status(summary: StageSummary) -> dict[str, Any]:
    """The status fields a finished verification sets on a treatment (camelCase)."""
    figures: VerifyFigures = figures_of(summary)
    rows, left_out = skill_rows(figures)
    status: dict[str, Any] = {
        "verdict": figures.verdict,
        "skills": [row.model_dump(by_alias=True, mode="json") for row in rows],
        "skillsTruncated": left_out or None,
        "skillsSummary": skills_summary(rows),
        "symptoms": [row.model_dump(by_alias=True, mode="json") for row in symptom_outcomes(figures)],
    }
    if figures.severity_after:
        status["severityAfter"] = figures.severity_after.value
    else:
        after = [outcome.after for outcome in symptom_outcomes(figures)
                 if outcome.after is not None and outcome.symptom != Finding.over_refusal.value]
        if after:
            status["severityAfter"] = severity_for(max(after)).value
    return status
