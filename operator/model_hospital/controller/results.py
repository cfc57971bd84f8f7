"""What a finished stage Job says: its state, its termination message, and the status that follows.

Pure functions over Job and Pod bodies (dicts as the API returns them). The stage
summary (`api.stages.StageSummary`) travels in the container's termination message;
its `summary` dict carries the figures copied into status. Keys read here, per stage:

- diagnose: `findings` ({finding: {failure_rate, failures, scored, unscored, interval,
  severity}} or a list of such rows with a `finding` key), `overall_severity`,
  `worst_finding`, `revision`, and optionally `diagnosis` (path of diagnosis.json) and
  `report` (diagnosis.md);
- synth: `sft` and `dpo` (rows written); the cure folder is the stage's folder;
- train: `merged` or `adapter` (the trained model), optionally `recipe` (recipe.yaml);
- verify: `verdict`, `findings` ({symptom: {before, after, n, target, healed, status}}),
  `skills` ({domain: {before, after, delta, degraded, status}} or rows with a `domain` key),
  optionally `severity_after` and `verification` (verification.json).

A path missing from the summary falls back to the file's conventional name beside
result.json.
"""

from __future__ import annotations

import json
import posixpath
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from model_hospital.api.common import Finding, Severity, overall_of, severity_for, severity_span
from model_hospital.api.resources import (
    MAX_FINDING_ROWS, MAX_MESSAGE_CHARS, MAX_SKILL_ROWS, FindingRow, SkillRow, SymptomOutcome,
)
from model_hospital.api.stages import StageSummary
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
        if summary is None:
            return JobOutcome("failed", None, "the stage finished without a summary in its termination message",
                              exit_code, started, finished)
        if not summary.ok:
            return JobOutcome("failed", summary, tail(summary.message), exit_code, started, finished)
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


def summary_path(summary: StageSummary, key: str, default_name: str) -> str | None:
    """A path the stage reported under `key`, else `default_name` beside its result.json."""
    value = summary.summary.get(key)
    if isinstance(value, str) and value:
        return value
    if summary.result_path:
        return posixpath.join(posixpath.dirname(summary.result_path), default_name)
    return None


# --- diagnosis -> status ---------------------------------------------------------------


def _rate(value: Any) -> float | None:
    return None if value is None else float(value)


def finding_rows(summary: dict[str, Any]) -> list[FindingRow]:
    """The findings of a diagnose summary as status rows, worst first, capped."""
    raw = summary.get("findings") or {}
    items = raw.items() if isinstance(raw, dict) else ((row.get("finding") or row.get("symptom"), row) for row in raw)
    rows = []
    for name, row in items:
        try:
            finding = Finding(name)
        except ValueError:
            continue
        rate = _rate(row.get("failure_rate"))
        severity = row.get("severity") or severity_for(rate).value
        interval = [float(bound) for bound in row.get("interval") or []] or None
        span = severity_span(interval)
        rows.append(FindingRow(
            symptom=finding, failure_rate=rate, failures=int(row.get("failures") or 0),
            scored=int(row.get("scored") or 0), unscored=int(row.get("unscored") or 0),
            interval=interval, severity=Severity(severity),
            severity_span=f"{span[0].value}-{span[1].value}" if span and span[0] is not span[1] else None))
    rows.sort(key=lambda row: (-(row.failure_rate if row.failure_rate is not None else -1), row.symptom.value))
    return rows[:MAX_FINDING_ROWS]


def diagnosis_status(summary: StageSummary, finished_at: str) -> dict[str, Any]:
    """The status fields a finished diagnosis sets on a patient (camelCase, ready to patch)."""
    figures = summary.summary
    rows = finding_rows(figures)
    symptoms = [row for row in rows if row.symptom != Finding.over_refusal]
    scored = [row for row in symptoms if row.failure_rate is not None]
    worst = max(scored, key=lambda row: row.failure_rate, default=None)
    overall = figures.get("overall_severity")
    if overall is None:
        overall = overall_of([row.severity for row in symptoms]).value
    worst_name = figures.get("worst_finding") or (worst.symptom.value if worst else None)
    worst_row = next((row for row in rows if row.symptom.value == worst_name), worst)
    return {
        "findings": [row.model_dump(by_alias=True, mode="json") for row in rows],
        "overallSeverity": overall,
        "worstSymptom": worst_name,
        "worstFailureRate": round(worst_row.failure_rate * 100, 1) if worst_row and worst_row.failure_rate is not None else None,
        "lastCheckup": finished_at,
        "modelRevision": figures.get("revision") or figures.get("model_revision"),
        "report": {
            "path": summary_path(summary, "diagnosis", "diagnosis.json"),
            "sha256": summary.result_sha256,
            "markdown": summary_path(summary, "report", "diagnosis.md"),
        },
    }


def severity_of(summary: dict[str, Any], symptoms: list[str] | None = None) -> Severity:
    """The worst severity among `symptoms` (all when None) in a diagnose summary."""
    rows = [row for row in finding_rows(summary) if row.symptom != Finding.over_refusal
            and (symptoms is None or row.symptom.value in symptoms)]
    if not rows:
        return Severity(summary.get("overall_severity") or Severity.UNMEASURED.value)
    return overall_of([row.severity for row in rows])


# --- verification -> status ------------------------------------------------------------


def skill_rows(summary: dict[str, Any]) -> tuple[list[SkillRow], int]:
    """The skill table of a verify summary, capped, and how many rows were left out."""
    raw = summary.get("skills") or {}
    items = raw.items() if isinstance(raw, dict) else ((row.get("domain"), row) for row in raw)
    rows = []
    for domain, row in items:
        before, after = _rate(row.get("before")), _rate(row.get("after"))
        delta = row.get("delta")
        if delta is None and before is not None and after is not None:
            delta = after - before
        rows.append(SkillRow(domain=str(domain), before=before, after=after,
                             delta=None if delta is None else round(float(delta), 4),
                             degraded=bool(row.get("degraded", False)), status=row.get("status")))
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


def symptom_outcomes(summary: dict[str, Any]) -> list[SymptomOutcome]:
    """Each verified symptom (over-refusal too, when measured) before and after, against its target."""
    raw = summary.get("findings") or summary.get("symptoms") or {}
    items = raw.items() if isinstance(raw, dict) else ((row.get("symptom") or row.get("finding"), row) for row in raw)
    return [SymptomOutcome(symptom=str(name), before=_rate(row.get("before")), after=_rate(row.get("after")),
                           target=_rate(row.get("target")), healed=row.get("healed"), status=row.get("status"))
            for name, row in items][:MAX_FINDING_ROWS]


def verdict_of(summary: dict[str, Any]) -> str:
    """The verdict a verify summary gives; without one, the worst its figures imply, never Healed."""
    verdict = summary.get("verdict")
    if verdict in ("Healed", "Degraded", "NotHealed", "Inconclusive", "Failed"):
        return verdict
    outcomes = symptom_outcomes(summary)
    if any(outcome.healed is False and outcome.status != "inconclusive" for outcome in outcomes) or not outcomes:
        return "NotHealed"
    rows, _ = skill_rows(summary)
    # A summary that names no verdict is not evidence of a cure.
    return "Degraded" if any(row.degraded for row in rows) else "Inconclusive"


def verification_status(summary: StageSummary) -> dict[str, Any]:
    """The status fields a finished verification sets on a treatment (camelCase)."""
    figures = summary.summary
    rows, left_out = skill_rows(figures)
    status: dict[str, Any] = {
        "verdict": verdict_of(figures),
        "skills": [row.model_dump(by_alias=True, mode="json") for row in rows],
        "skillsTruncated": left_out or None,
        "skillsSummary": skills_summary(rows),
        "symptoms": [row.model_dump(by_alias=True, mode="json") for row in symptom_outcomes(figures)],
    }
    if figures.get("severity_after"):
        status["severityAfter"] = figures["severity_after"]
    else:
        after = [outcome.after for outcome in symptom_outcomes(figures)
                 if outcome.after is not None and outcome.symptom != Finding.over_refusal.value]
        if after:
            status["severityAfter"] = severity_for(max(after)).value
    return status
