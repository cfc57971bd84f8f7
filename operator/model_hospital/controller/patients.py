"""Reconciling a ModelPatient: checkups as diagnose Jobs, their findings in status.

A checkup starts when the patient is new, when its spec changed (generation), when
the `modelhospital.io/checkup` annotation takes a new value, or when its cron
schedule comes due. Its bookkeeping lives in `status.checkup`, and the Job's name
(`<patient>-checkup-<checkup>[-r<retry>]`) is written into status before the Job is
created, so a restarted operator adopts the Job instead of starting another; a Job
controlled by another object (a deleted patient of the same name) is never adopted.
A spec the model or the tenancy policy refuses fails the checkup with the field named.
"""

from __future__ import annotations

import datetime
from typing import Any

from pydantic import ValidationError

from model_hospital.api.resources import ModelPatientSpec
from model_hospital.controller import follow, jobs, policy, results, stage_inputs
from model_hospital.controller.kube import PATIENTS, Refused
from model_hospital.controller.reconciler import Reconciler
from model_hospital.controller.status import cut_message, now_iso, parse_time, patient_phase, set_condition

CHECKUP_ANNOTATION = "modelhospital.io/checkup"
STAGE = "diagnose"


def next_checkup(schedule: str, after: datetime.datetime) -> datetime.datetime:
    """The first time the cron `schedule` (UTC) fires after `after`."""
    from croniter import croniter

    return croniter(schedule, after.astimezone(datetime.timezone.utc)).get_next(datetime.datetime)


def checkup_trigger(body: dict[str, Any], spec: ModelPatientSpec, moment: datetime.datetime) -> str | None:
    """Why a new checkup must start now (Created, SpecChanged, Requested, Scheduled), or None."""
    metadata = body["metadata"]
    checkup = (body.get("status") or {}).get("checkup") or {}
    annotation = (metadata.get("annotations") or {}).get(CHECKUP_ANNOTATION)
    if not checkup.get("number"):
        return "Created"
    if checkup.get("generation") != metadata.get("generation"):
        return "SpecChanged"
    if not checkup.get("finishedAt"):
        return None
    if annotation and annotation != checkup.get("annotation"):
        return "Requested"
    started = parse_time(checkup.get("requestedAt"))
    if spec.checkup_schedule and started and next_checkup(spec.checkup_schedule, started) <= moment:
        return "Scheduled"
    return None


def spec_error(error: ValidationError, prefix: str = "spec") -> str:
    """The first problem pydantic found in a spec, as 'spec.field.path: what is wrong'."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    return f"{prefix}.{field}: {first['msg']}" if field else f"{prefix}: {first['msg']}"


class PatientReconciler(Reconciler):
    """Brings one patient's checkup one step forward per call; safe to call any number of times."""

    plural = PATIENTS

    def reconcile(self, namespace: str, name: str) -> bool:
        """One step of the patient's checkup; True when a checkup ended in this call (its treatments may go on)."""
        body = self.read(namespace, name)
        if body is None:
            return False
        moment = self.clock()
        was_running = not ((body.get("status") or {}).get("checkup") or {}).get("finishedAt")
        try:
            spec = ModelPatientSpec.model_validate(body.get("spec") or {})
        except ValidationError as error:
            self._fail(body, spec_error(error), moment, "SpecInvalid")
            return False
        trigger = checkup_trigger(body, spec, moment)
        refusals = policy.patient_refusals(self.settings, spec) if trigger else []
        if refusals:
            self._fail(body, "; ".join(refusals), moment, "PolicyRefused")
        elif trigger:
            self._start_checkup(body, spec, trigger, moment)
        else:
            self._follow_job(body, spec, moment)
        self.observe(namespace, name, body.get("status") or {})
        return was_running and bool(((body.get("status") or {}).get("checkup") or {}).get("finishedAt"))

    # --- steps ---------------------------------------------------------------------------

    def _patch(self, body: dict[str, Any], patch: dict[str, Any]) -> None:
        """Writes a status patch and applies it to `body`, so later steps see it."""
        status = dict(body.get("status") or {})
        for key, value in patch.items():
            if value is None:
                status.pop(key, None)
            else:
                status[key] = value
        if "conditions" in patch:
            status["phase"] = patch["phase"] = patient_phase(status["conditions"])
        body["status"] = status
        metadata = body["metadata"]
        self.cluster.patch_status(PATIENTS, metadata["namespace"], metadata["name"], patch)

    def _start_checkup(self, body: dict[str, Any], spec: ModelPatientSpec, trigger: str, moment: datetime.datetime) -> None:
        metadata = body["metadata"]
        status = body.get("status") or {}
        previous = status.get("checkup") or {}
        if previous.get("number") and not previous.get("finishedAt") and status.get("diagnoseJob"):
            # The running checkup examines an outdated spec: stop it, its result would be stale.
            self.cluster.delete_job(metadata["namespace"], status["diagnoseJob"])
        number = int(previous.get("number") or 0) + 1
        stamp = now_iso(moment)
        generation = metadata.get("generation")
        checkup = {"number": number, "trigger": trigger, "generation": generation,
                   "annotation": (metadata.get("annotations") or {}).get(CHECKUP_ANNOTATION),
                   "requestedAt": stamp, "retries": 0, "finishedAt": None}
        job = jobs.job_name(metadata["name"], jobs.CHECKUP, number)
        conditions = set_condition(status.get("conditions"), "Diagnosed", "False", "Diagnosing",
                                   f"checkup {number} ({trigger}) started: Job {job}", generation, stamp)
        if not status.get("lastCheckup"):
            conditions = set_condition(conditions, "Ready", "False", "Diagnosing", "no diagnosis yet", generation, stamp)
        self._patch(body, {"checkup": checkup, "diagnoseJob": job, "conditions": conditions,
                           "observedGeneration": generation, "nextCheckup": None, "progress": None})
        self.cluster.event(body, "Normal", "CheckupStarted", f"Checkup {number} ({trigger}): Job {job}")
        self._create_job(body, spec, number, 0, moment)

    def _create_job(self, body: dict[str, Any], spec: ModelPatientSpec, number: int, retry: int, moment) -> None:
        """Creates the checkup's ConfigMap and Job (an existing one is followed, not made twice); a Job the API
        server refuses fails the checkup with the server's words."""
        owner = jobs.owner_from(body)
        checkup = dict((body.get("status") or {}).get("checkup") or {})
        stage_input = stage_inputs.patient_diagnose_input(spec)
        options = stage_inputs.patient_job_options(spec)
        options.memory = checkup.get("memory")
        job = jobs.stage_job(owner, STAGE, number, stage_input, self.settings, options, retry=retry)
        config_map = jobs.stage_config_map(owner, job["metadata"]["name"], stage_input, job["metadata"]["labels"])
        try:
            self.cluster.create(config_map)
            created = self.cluster.create(job)
        except Refused as error:
            self._fail(body, f"the API server refused Job {job['metadata']['name']}: {error}", moment)
            return
        if created:
            self._patch(body, {"checkup": {**checkup, "created": True}})
            if self.metrics:
                self.metrics.jobs_created.labels(stage=STAGE).inc()

    def _follow_job(self, body: dict[str, Any], spec: ModelPatientSpec, moment: datetime.datetime) -> None:
        status = body.get("status") or {}
        checkup = status.get("checkup") or {}
        if checkup.get("finishedAt"):
            self._schedule(body, spec, moment)
            return
        name = status.get("diagnoseJob")
        seen = self.follower.observe(body["metadata"]["namespace"], name, moment, body["metadata"].get("uid"))
        outcome = seen.outcome
        if outcome.state == "foreign":
            message = self.stale_or_foreign(body, name, outcome.owner)
            if message:
                self._fail(body, message, moment)
        elif outcome.state == "missing" and checkup.get("created"):
            self._fail(body, f"Job {name} was removed before its result was read (by hand, or its TTL): "
                             "the checkup is not run again by itself; request one with the checkup annotation", moment)
        elif outcome.state == "missing":
            # Recorded but never created: the operator stopped in between.
            self._create_job(body, spec, int(checkup["number"]), int(checkup.get("retries") or 0), moment)
        elif outcome.state in ("pending", "running"):
            self._report_waiting(body, name, seen, moment)
        elif outcome.state == "succeeded":
            self._diagnosed(body, spec, outcome, moment)
        elif outcome.state == "failed":
            self._job_failed(body, spec, outcome, moment)

    def _report_waiting(self, body, job: str, seen: follow.Observation, moment) -> None:
        """Says why the Job does not run (queue, scheduler, image, config) or that it runs, and how far it is."""
        status = body.get("status") or {}
        checkup = status.get("checkup") or {}
        outcome = seen.outcome
        patch = follow.status_while_waiting(status, seen, STAGE, checkup.get("generation"), moment)
        if not checkup.get("created"):  # made by an operator that died before saying so: from now on a
            patch["checkup"] = {**checkup, "created": True}  # missing Job was removed, not never made
        if seen.looked:
            message = f"checkup {checkup.get('number')}: Job {job} " + (
                f"is queued: {seen.queued[1]}" if seen.queued else
                f"is stuck: {outcome.waiting}" if outcome.waiting else outcome.state)
            current = next((c for c in status.get("conditions") or [] if c.get("type") == "Diagnosed"), {})
            if current.get("message") != cut_message(message):
                patch["conditions"] = set_condition(patch.get("conditions", status.get("conditions")), "Diagnosed",
                                                    "False", "Diagnosing", message, checkup.get("generation"),
                                                    now_iso(moment))
        queue_change = follow.queue_event(status, patch)
        if patch:
            self._patch(body, patch)
        if queue_change:
            self.cluster.event(body, "Normal", *queue_change)

    def _diagnosed(self, body, spec, outcome: results.JobOutcome, moment) -> None:
        status = body.get("status") or {}
        checkup = dict(status.get("checkup") or {})
        stamp = now_iso(moment)
        finished = outcome.finished_at or stamp
        generation = checkup.get("generation")
        patch = results.diagnosis_status(outcome.summary, finished)
        checkup["finishedAt"] = finished
        severity = patch["overallSeverity"]
        worst = patch["worstSymptom"]
        message = f"overall severity {severity}" + (f", worst {worst} at {patch['worstFailureRate']} %" if worst else "")
        conditions = follow.admitted(status, STAGE, generation, moment) or status.get("conditions")
        conditions = set_condition(conditions, "Diagnosed", "True", "Diagnosed", message, generation, stamp)
        conditions = set_condition(conditions, "Ready", "True", "Diagnosed", message, generation, stamp)
        patch.update(checkup=checkup, conditions=conditions, progress=None)
        if spec.checkup_schedule:
            patch["nextCheckup"] = now_iso(next_checkup(spec.checkup_schedule, parse_time(checkup["requestedAt"]) or moment))
        self._observe_duration(outcome, "succeeded")
        self._patch(body, patch)
        self.remove_pods(body["metadata"]["namespace"], status["diagnoseJob"])
        self.cluster.event(body, "Normal", "Diagnosed", f"Checkup {checkup['number']}: {message}")

    def _job_failed(self, body, spec, outcome: results.JobOutcome, moment) -> None:
        status = body.get("status") or {}
        checkup = dict(status.get("checkup") or {})
        retries = int(checkup.get("retries") or 0)
        self._observe_duration(outcome, "failed")
        if self.metrics:
            self.metrics.job_failures.labels(stage=STAGE).inc()
        memory = self.memory_after_oom(STAGE, spec.resources, checkup.get("memory")) if outcome.oom_killed else None
        if (outcome.retryable or memory) and retries < self.settings.stage_retries:
            checkup.update(retries=retries + 1, created=None, memory=memory or checkup.get("memory"))
            job = jobs.job_name(body["metadata"]["name"], jobs.CHECKUP, int(checkup["number"]), retries + 1)
            self._patch(body, {"checkup": checkup, "diagnoseJob": job})
            self._create_job(body, spec, int(checkup["number"]), retries + 1, moment)
            if self.metrics:
                self.metrics.job_retries.labels(stage=STAGE).inc()
            self.cluster.event(body, "Warning", "StageRetried",
                               f"diagnose Job failed ({outcome.message}); retry {retries + 1} as Job {job}")
            return
        self._fail(body, outcome.message or "the diagnose Job failed", moment)

    def _fail(self, body, message: str, moment, reason: str = "DiagnoseFailed") -> None:
        """Ends the checkup as failed (reason DiagnoseFailed, SpecInvalid or PolicyRefused), said once."""
        status = body.get("status") or {}
        current = next((c for c in status.get("conditions") or [] if c.get("type") == "Diagnosed"), {})
        if current.get("reason") == reason and current.get("message") == cut_message(message):
            return  # already said; a resync must not repeat the event
        checkup = dict(status.get("checkup") or {})
        stamp = now_iso(moment)
        generation = checkup.get("generation", body["metadata"].get("generation"))
        checkup["finishedAt"] = checkup.get("finishedAt") or stamp
        conditions = set_condition(status.get("conditions"), "Diagnosed", "False", reason, message, generation, stamp)
        conditions = set_condition(conditions, "Ready", "False", reason, message, generation, stamp)
        self._patch(body, {"checkup": checkup, "conditions": conditions, "progress": None})
        self.cluster.event(body, "Warning", reason, message)

    def _schedule(self, body, spec: ModelPatientSpec, moment) -> None:
        """Keeps status.nextCheckup in line with the schedule (it may have been added or removed)."""
        status = body.get("status") or {}
        started = parse_time((status.get("checkup") or {}).get("requestedAt"))
        wanted = now_iso(next_checkup(spec.checkup_schedule, started or moment)) if spec.checkup_schedule else None
        if wanted != status.get("nextCheckup"):
            self._patch(body, {"nextCheckup": wanted})

    def _observe_duration(self, outcome: results.JobOutcome, result: str) -> None:
        if self.metrics:
            self.metrics.observe_job(STAGE, outcome.created_at, outcome.started_at, outcome.finished_at, result)
