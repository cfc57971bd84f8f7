"""Reconciling a Treatment: the protocol's stages (diagnose -> synth -> train -> verify) as Jobs, one at a time.

Each stage run is a record in `status.stages` (stage, attempt, Job, phase, times,
result). A record is written before its Job is created, so a restarted operator
adopts the Job; a finished record never makes another Job. The diagnose stage is
skipped (record phase Reused) when the patient's diagnosis is fresh: same spec
generation, younger than the operator's limit, covering the treated symptoms. A
Degraded or NotHealed verification starts the next attempt at train, with the last
verification as the train input's skill report, while `spec.maxAttempts` allows;
an Inconclusive one ends the treatment (Ready False, reason Inconclusive), and so does
one that gave no verdict. The order, the retry rule and each stage's input are the
protocol's (`api/protocol.py` `next_step`, `api/inputs.py` `stage_input`), the same that
`hospital treat` follows; this module runs each step as a Job.
`spec.suspend` holds the treatment before its next stage starts.
"""

from __future__ import annotations

import datetime
from typing import Any

from pydantic import ValidationError

from model_hospital.api.common import Symptom
from model_hospital.api.protocol import (
    ACTIVE_PHASES, DEFAULT_MAX_ATTEMPTS, PROTOCOL, AttemptRules, adjustment_for, declaration, figures_of, next_step,
    runs_from_status,
)
from model_hospital.api.resources import ModelPatientSpec, TreatmentSpec
from model_hospital.api.serving import needs_weights
from model_hospital.api.figures import DiagnoseFigures
from model_hospital.controller import follow, jobs, launchers, policy, results, stage_inputs
from model_hospital.controller.kube import PATIENTS, TREATMENTS, Refused
from model_hospital.controller.patients import spec_error
from model_hospital.controller.reconciler import Reconciler
from model_hospital.controller.status import (
    capped_records, cut_message, find_condition, fitted_records, is_true, now_iso, parse_time, set_condition,
    treatment_stage,
)
from model_hospital.errors import HospitalError


def fresh_patient_diagnosis(patient: dict[str, Any], symptoms: list[str], moment: datetime.datetime,
                            max_age_seconds: int) -> bool:
    """True when the patient's last diagnosis can stand for this treatment's diagnose stage."""
    status = patient.get("status") or {}
    if not is_true(status.get("conditions"), "Diagnosed"):
        return False
    if (status.get("checkup") or {}).get("generation") != patient["metadata"].get("generation"):
        return False
    finished = parse_time(status.get("lastCheckup"))
    if finished is None or (moment - finished).total_seconds() > max_age_seconds:
        return False
    if not (status.get("report") or {}).get("path"):
        return False
    screened = {row.get("symptom") for row in status.get("findings") or []}
    return set(symptoms) <= screened


def patient_checkup_running(patient: dict[str, Any], symptoms: list[str]) -> bool:
    """True when the patient is being diagnosed for its current spec, covering the treated symptoms."""
    checkup = (patient.get("status") or {}).get("checkup") or {}
    if not checkup.get("number") or checkup.get("finishedAt"):
        return False
    if checkup.get("generation") != patient["metadata"].get("generation"):
        return False
    screened = (patient.get("spec") or {}).get("symptoms") or [symptom.value for symptom in Symptom]
    return set(symptoms) <= set(screened)


class TreatmentReconciler(Reconciler):
    """Moves one treatment forward as far as it can go now; safe to call any number of times."""

    plural = TREATMENTS

    def reconcile(self, namespace: str, name: str) -> None:
        body = self.read(namespace, name)
        if body is None:
            return
        try:
            self._reconcile(body)
        finally:
            self.observe(namespace, name, body.get("status") or {})

    def _reconcile(self, body: dict[str, Any]) -> None:
        status = body.get("status") or {}
        if status.get("verdict") or is_true(status.get("conditions"), "Failed"):
            return  # finished for good: never makes another Job
        moment = self.clock()
        try:
            spec = TreatmentSpec.model_validate(body.get("spec") or {})
        except ValidationError as error:
            self._give_up(body, None, spec_error(error), moment)
            return
        name = spec.patient_ref.name
        patient = self.cluster.get(PATIENTS, body["metadata"]["namespace"], name)
        patient_spec, problem = None, ("PatientNotFound", f"ModelPatient {name} does not exist in this namespace")
        if patient is not None:
            try:
                patient_spec, problem = ModelPatientSpec.model_validate(patient.get("spec") or {}), None
            except ValidationError as error:
                problem = ("PatientInvalid", f"ModelPatient {name}: {spec_error(error)}")
        records = status.get("stages") or []
        active = bool(records) and records[-1].get("phase") in ACTIVE_PHASES
        if problem is None and patient_spec.model.served:
            problem = ("PatientServed", f"ModelPatient {name}: {needs_weights(patient_spec.model.endpoint.model)}")
        if problem is None and not active:
            refusals = policy.treatment_refusals(self.settings, spec, name, patient_spec)
            problem = ("PolicyRefused", "; ".join(refusals)) if refusals else None
        if problem is not None:
            if active:  # a running Job is followed to its end whatever became of the patient
                self._follow(body, spec, patient_spec, records, moment)
            self._waiting(body, *problem, moment)
            return
        for _ in range(2 * len(PROTOCOL)):
            if not self._step(body, spec, patient, patient_spec, moment):
                return

    # --- one step ------------------------------------------------------------------------

    def _step(self, body, spec: TreatmentSpec, patient, patient_spec: ModelPatientSpec, moment) -> bool:
        """Does one thing; True when the treatment may go on at once (a stage finished or was reused)."""
        status = body.get("status") or {}
        records = list(status.get("stages") or [])
        if records and records[-1].get("phase") in ACTIVE_PHASES:
            return self._follow(body, spec, patient_spec, records, moment)
        if records and records[-1].get("phase") == "Failed":
            return False
        step = next_step(spec, runs_from_status(records))
        if step.ended:
            self._finish(body, step.verdict, moment, step.reason)
            return False
        stage, attempt = step.stage, step.attempt
        if spec.suspend:
            self._suspend(body, stage, moment)
            return False
        symptoms = stage_inputs.treated_symptoms(spec, patient_spec)
        if stage == "diagnose" and fresh_patient_diagnosis(patient, symptoms, moment, self.settings.diagnosis_max_age_seconds):
            self._reuse_diagnosis(body, patient, symptoms, moment)
            return True
        if stage == "diagnose" and patient_checkup_running(patient, symptoms):
            self._wait_for_checkup(body, patient, moment)  # one diagnosis serves both: no second Job
            return False
        if stage == "train" and self._train_waits(body, spec, moment):
            return False
        self._start(body, spec, patient_spec, stage, attempt, moment)
        return False

    def _train_waits(self, body, spec: TreatmentSpec, moment) -> bool:
        """True when the train stage cannot start yet (checked again at every reconcile): its JobSet or TrainJob kind
        is not served (LauncherUnavailable), or its nodes cannot share the artifact claim (ClaimNotShared)."""
        missing = launchers.unavailable(self.cluster, launchers.train_launcher(spec))
        if missing:
            self._waiting(body, "LauncherUnavailable", missing, moment)
            return True
        nodes = spec.training.nodes if spec.training else 1
        unshared = nodes > 1 and launchers.shared_claim_problem(
            self.cluster.get_claim(body["metadata"]["namespace"], self.settings.artifact_claim), nodes)
        if unshared:
            self._waiting(body, "ClaimNotShared", unshared, moment)
            return True
        return False

    def _patch(self, body: dict[str, Any], patch: dict[str, Any]) -> None:
        status = dict(body.get("status") or {})
        for key, value in patch.items():
            if value is None:
                status.pop(key, None)
            else:
                status[key] = value
        fitted = fitted_records(status)
        if fitted:
            patch.update(fitted)
            status.update({key: value for key, value in fitted.items() if value is not None})
        rules = AttemptRules(max_attempts=max(1, int((body.get("spec") or {}).get("maxAttempts") or DEFAULT_MAX_ATTEMPTS)))
        stage = treatment_stage(status, rules)
        if stage != status.get("stage"):
            status["stage"] = patch["stage"] = stage
        generation = body["metadata"].get("generation")
        if status.get("observedGeneration") != generation:
            status["observedGeneration"] = patch["observedGeneration"] = generation
        body["status"] = status
        self.cluster.patch_status(TREATMENTS, body["metadata"]["namespace"], body["metadata"]["name"], patch)

    def _conditions(self, body) -> list[dict[str, Any]]:
        return list((body.get("status") or {}).get("conditions") or [])

    def _set(self, body, conditions, kind, state, reason, message, moment):
        return set_condition(conditions, kind, state, reason, message, body["metadata"].get("generation"), now_iso(moment))

    def _records_patch(self, body, records) -> dict[str, Any]:
        kept, dropped = capped_records(records, (body.get("status") or {}).get("stagesTruncated"))
        return {"stages": kept, "stagesTruncated": dropped}

    def _start(self, body, spec, patient_spec, stage: str, attempt: int, moment) -> None:
        """Records the stage, then creates its ConfigMap and Job (creating an existing one is adopting it)."""
        status = body.get("status") or {}
        name = launchers.stage_job_name(spec, body["metadata"]["name"], stage, attempt)
        record = {"stage": stage, "attempt": attempt, "job": name, "retries": 0, "phase": "Pending",
                  "startedAt": now_iso(moment)}
        if stage == "train" and launchers.train_launcher(spec):
            record["launcher"] = launchers.train_launcher(spec)
        records = [*(status.get("stages") or []), record]
        conditions = self._conditions(body)
        if is_true(conditions, "Suspended"):
            conditions = self._set(body, conditions, "Suspended", "False", "Resumed", f"{stage} starts", moment)
        declared = declaration(stage)
        if adjustment_for(stage, attempt) is not None:  # a retry: this attempt's stages have not run yet
            for later in (each.condition for each in PROTOCOL if each.per_attempt):
                conditions = self._set(body, conditions, later, "False", "Waiting", f"attempt {attempt} started", moment)
        conditions = self._set(body, conditions, declared.condition, "False", declared.running_reason, f"Job {name}",
                               moment)
        conditions = self._set(body, conditions, "Ready", "False", "InProgress", f"{stage} (attempt {attempt})", moment)
        self._patch(body, {**self._records_patch(body, records), "attempt": attempt, "conditions": conditions,
                           "message": f"{stage} started: Job {name}", "progress": None})
        self.cluster.event(body, "Normal", "StageStarted", f"{stage} (attempt {attempt}) started: Job {name}")
        self._create_job(body, spec, patient_spec, record, moment)

    def _create_job(self, body, spec, patient_spec, record: dict[str, Any], moment) -> None:
        """Creates the record's ConfigMap and Job (an existing one is followed, not made twice); a Job the API
        server refuses fails the treatment with the server's words. Waits while the patient is gone."""
        if patient_spec is None:
            return
        stage, attempt, retry = record["stage"], int(record["attempt"]), int(record.get("retries") or 0)
        owner = jobs.owner_from(body, patient=spec.patient_ref.name)
        artifacts = (body.get("status") or {}).get("artifacts") or {}
        records = list((body.get("status") or {}).get("stages") or [])
        try:
            stage_input = stage_inputs.treatment_input(stage, attempt, spec, patient_spec, artifacts,
                                                       body["metadata"]["name"])
        except HospitalError as error:  # an earlier stage left no path this one needs: no Job can run it
            self._give_up(body, {**record, "phase": "Failed", "finishedAt": now_iso(moment)}, f"{stage} failed: {error}",
                          moment, records)
            return
        distributed = getattr(stage_input, "distributed", None)
        output_dir = stage_inputs.train_output_dir(spec, attempt) if stage == "train" else None
        options = stage_inputs.treatment_job_options(stage, spec, patient_spec)
        options.memory = record.get("memory")
        job = jobs.stage_job(owner, stage, attempt, stage_input, self.settings, options, retry=retry,
                             output_dir=output_dir, name=record.get("job"))
        config_map = jobs.stage_config_map(owner, job["metadata"]["name"], stage_input, job["metadata"]["labels"])
        try:
            if record.get("launcher"):
                job = launchers.launcher_object(record["launcher"], job, spec.training.nodes,
                                                spec.training.training_runtime)
            elif distributed is not None and distributed.nodes > 1:
                job = jobs.distributed_job(job, distributed.nodes)
                self.cluster.create(jobs.rendezvous_service(job))
            self.cluster.create(config_map)
            created = self.cluster.create(job)
        except Refused as error:
            failed = {**record, "phase": "Failed", "finishedAt": now_iso(moment)}
            self._give_up(body, failed, f"{stage} failed: the API server refused Job {job['metadata']['name']}: "
                                        f"{error}", moment, records)
            return
        if created:
            self._patch(body, self._records_patch(body, [*records[:-1], {**record, "created": True}]))
            if self.metrics:
                self.metrics.jobs_created.labels(stage=stage).inc()

    def _follow(self, body, spec, patient_spec, records, moment) -> bool:
        record = dict(records[-1])
        seen = self.follower.observe(body["metadata"]["namespace"], record["job"], moment, body["metadata"].get("uid"),
                                     record.get("launcher"))
        outcome = seen.outcome
        if outcome.state == "foreign":
            message = self.stale_or_foreign(body, record["job"], outcome.owner)
            if message:
                self._give_up(body, {**record, "phase": "Failed"}, f"{record['stage']} failed: {message}", moment,
                              records)
            return False
        if outcome.state == "missing" and record.get("created"):
            self._give_up(body, {**record, "phase": "Failed", "finishedAt": now_iso(moment)},
                          f"{record['stage']} failed: Job {record['job']} was removed before its result was read "
                          "(by hand, or its TTL); the stage is not run again", moment, records)
            return False
        if outcome.state == "missing":
            self._create_job(body, spec, patient_spec, record, moment)  # recorded, then the operator stopped
            return False
        if outcome.state in ("pending", "running"):
            before = dict(record)
            record["created"] = True
            if outcome.state == "running":
                record["phase"] = "Running"
            if seen.pods:
                record["pods"] = seen.pods
            if seen.queued:
                record["message"] = f"queued: {seen.queued[1]}"
            elif outcome.waiting:
                record["message"] = f"stuck: {outcome.waiting}"
            elif seen.looked and str(record.get("message", "")).startswith(("stuck: ", "queued: ")):
                record.pop("message")
            patch = follow.status_while_waiting(body.get("status") or {}, seen, record["stage"],
                                                body["metadata"].get("generation"), moment)
            if record != before:
                patch.update(self._records_patch(body, [*records[:-1], record]),
                             message=f"{record['stage']} Job {record['job']}: " + (record.get("message") or outcome.state))
            queue_change = follow.queue_event(body.get("status") or {}, patch)
            if patch:
                self._patch(body, patch)
            if queue_change:
                self.cluster.event(body, "Normal", *queue_change)
            return False
        if outcome.state == "succeeded":
            self._succeeded(body, records, record, outcome, moment)
            return True
        if outcome.state == "failed":
            self._failed(body, spec, patient_spec, records, record, outcome, moment)
        return False

    def _observe(self, stage: str, outcome: results.JobOutcome, result: str) -> float | None:
        """The seconds the stage ran (None when unknown), recorded in the metrics with its queue wait."""
        if self.metrics:
            self.metrics.observe_job(stage, outcome.created_at, outcome.started_at, outcome.finished_at, result)
        started, finished = parse_time(outcome.started_at), parse_time(outcome.finished_at)
        return (finished - started).total_seconds() if started and finished else None

    def _succeeded(self, body, records, record, outcome: results.JobOutcome, moment) -> None:
        stage, summary = record["stage"], outcome.summary
        status = body.get("status") or {}
        record.pop("message", None)  # a retry's failure is history once the stage succeeded; status stays small
        figures = figures_of(summary)
        record.pop("pods", None)
        record.update(phase="Succeeded", finishedAt=outcome.finished_at or now_iso(moment),
                      seconds=self._observe(stage, outcome, "succeeded"), resultPath=summary.result_path,
                      resultSha256=summary.result_sha256, summary=figures.one_line(summary.message))
        artifacts = {**(status.get("artifacts") or {}),
                     **{key: value for key, value in figures.artifacts(summary.result_path).items() if value}}
        patch: dict[str, Any] = {"artifacts": artifacts, "message": f"{stage} succeeded: {record['summary']}"}
        if stage == "diagnose":
            spec_symptoms = (body.get("spec") or {}).get("symptoms")
            patch["severityBefore"] = results.severity_of(figures_of(summary), spec_symptoms).value
        if stage == "train":
            patch["training"] = results.training_status(summary, int(record["attempt"]))
            if artifacts.get("recipe"):
                patch["recipe"] = artifacts["recipe"]
        if stage == "verify":
            verification = results.verification_status(summary)
            verdict = verification.pop("verdict")
            if verdict is not None:  # none: `next_step` ends the treatment Inconclusive, as `hospital treat` does
                record["verdict"] = verdict
            patch.update(verification)
        conditions = (follow.admitted(status, stage, body["metadata"].get("generation"), moment)
                      or self._conditions(body))
        declared = declaration(stage)
        conditions = self._set(body, conditions, declared.condition, "True", declared.done_reason, record["summary"],
                               moment)
        patch.update(conditions=conditions, progress=None)
        patch.update(self._records_patch(body, [*records[:-1], record]))
        self._patch(body, patch)
        self.remove_pods(body["metadata"]["namespace"], record["job"], record.get("launcher"))
        self.cluster.event(body, "Normal", "StageSucceeded", f"{stage} (attempt {record['attempt']}): {record['summary']}")

    def _failed(self, body, spec, patient_spec, records, record, outcome: results.JobOutcome, moment) -> None:
        stage = record["stage"]
        retries = int(record.get("retries") or 0)
        self._observe(stage, outcome, "failed")
        if self.metrics:
            self.metrics.job_failures.labels(stage=stage).inc()
        memory = None
        if outcome.oom_killed:
            resources = getattr(spec.resources, stage) if spec.resources else None
            if resources is None and stage == "diagnose" and patient_spec is not None:
                resources = patient_spec.resources
            memory = self.memory_after_oom(stage, resources, record.get("memory"))
        if (outcome.retryable or memory) and retries < self.settings.stage_retries:
            record.update(retries=retries + 1, phase="Pending", message=cut_message(outcome.message), created=None,
                          job=launchers.stage_job_name(spec, body["metadata"]["name"], stage, int(record["attempt"]),
                                                       retries + 1),
                          memory=memory or record.get("memory"))
            record = {key: value for key, value in record.items() if value is not None}
            self._patch(body, {**self._records_patch(body, [*records[:-1], record]), "progress": None,
                               "message": f"{stage} failed, retrying as Job {record['job']}"})
            self._create_job(body, spec, patient_spec, record, moment)
            if self.metrics:
                self.metrics.job_retries.labels(stage=stage).inc()
            self.cluster.event(body, "Warning", "StageRetried",
                               f"{stage} Job failed ({outcome.message}); retry {retries + 1} as Job {record['job']}")
            return
        record.update(phase="Failed", finishedAt=outcome.finished_at or now_iso(moment),
                      message=cut_message(outcome.message))
        self._give_up(body, record, f"{stage} failed: {outcome.message}", moment, records)

    def _give_up(self, body, record, message: str, moment, records=None) -> None:
        conditions = self._conditions(body)
        if record is not None:
            declared = declaration(record["stage"])
            conditions = self._set(body, conditions, declared.condition, "False", declared.failed_reason, message,
                                   moment)
        conditions = self._set(body, conditions, "Failed", "True", "StageFailed", message, moment)
        conditions = self._set(body, conditions, "Ready", "False", "StageFailed", message, moment)
        patch: dict[str, Any] = {"conditions": conditions, "verdict": "Failed", "message": cut_message(message),
                                 "progress": None}
        if record is not None:
            patch.update(self._records_patch(body, [*records[:-1], record]))
        self._patch(body, patch)
        self.cluster.event(body, "Warning", "StageFailed", message)

    def _reuse_diagnosis(self, body, patient, symptoms: list[str], moment) -> None:
        patient_status = patient.get("status") or {}
        report = patient_status["report"]
        record = {"stage": "diagnose", "attempt": 1, "phase": "Reused", "startedAt": now_iso(moment),
                  "finishedAt": now_iso(moment), "resultPath": report.get("path"), "resultSha256": report.get("sha256"),
                  "summary": f"reused the diagnosis of {patient['metadata']['name']} ({patient_status.get('lastCheckup')})"}
        rows = [row for row in patient_status.get("findings") or [] if row.get("symptom") in symptoms]
        before = results.severity_of(DiagnoseFigures.model_validate({"findings": rows}), symptoms)
        conditions = self._set(body, self._conditions(body), "Diagnosed", "True", "Reused", record["summary"], moment)
        artifacts = {**((body.get("status") or {}).get("artifacts") or {}), "diagnosis": report.get("path")}
        self._patch(body, {**self._records_patch(body, [record]), "attempt": 1, "artifacts": artifacts,
                           "severityBefore": before.value, "conditions": conditions, "message": record["summary"]})
        self.cluster.event(body, "Normal", "DiagnosisReused", record["summary"])

    def _wait_for_checkup(self, body, patient, moment) -> None:
        conditions = self._conditions(body)
        message = f"waiting for the running checkup of {patient['metadata']['name']}"
        current = find_condition(conditions, "Diagnosed")
        if current and current.get("message") == message:
            return
        conditions = self._set(body, conditions, "Diagnosed", "False", "Diagnosing", message, moment)
        conditions = self._set(body, conditions, "Ready", "False", "InProgress", message, moment)
        self._patch(body, {"conditions": conditions, "message": message})

    def _suspend(self, body, stage: str, moment) -> None:
        conditions = self._conditions(body)
        if is_true(conditions, "Suspended"):
            return
        message = f"spec.suspend is true: {stage} waits"
        conditions = self._set(body, conditions, "Suspended", "True", "Suspended", message, moment)
        conditions = self._set(body, conditions, "Ready", "False", "Suspended", message, moment)
        self._patch(body, {"conditions": conditions, "message": message})
        self.cluster.event(body, "Normal", "Suspended", message)

    def _waiting(self, body, reason: str, message: str, moment) -> None:
        """Ready=False with why no stage can start, said once.

        Reasons: PatientNotFound, PatientInvalid, PatientServed (no weights to train), PolicyRefused,
        LauncherUnavailable (the train stage's JobSet or TrainJob kind is not served), ClaimNotShared (nodes > 1 on
        an artifact claim that is not ReadWriteMany).
        """
        if (body.get("status") or {}).get("verdict"):
            return
        conditions = self._conditions(body)
        current = find_condition(conditions, "Ready")
        if current and current.get("reason") == reason and current.get("message") == cut_message(message):
            return
        conditions = self._set(body, conditions, "Ready", "False", reason, message, moment)
        self._patch(body, {"conditions": conditions, "message": message})
        self.cluster.event(body, "Warning", reason, message)

    def _finish(self, body, verdict: str, moment, reason: str = "") -> None:
        records = (body.get("status") or {}).get("stages") or []
        attempts = int(records[-1].get("attempt") or 1) if records else 0
        message = f"{verdict} after {attempts} attempt{'s' if attempts != 1 else ''}" + (f": {reason}" if reason else "")
        conditions = self._set(body, self._conditions(body), "Ready", "True" if verdict == "Healed" else "False",
                               verdict, message, moment)
        self._patch(body, {"verdict": verdict, "conditions": conditions, "message": message})
        self.cluster.event(body, "Normal" if verdict == "Healed" else "Warning", "TreatmentFinished", message)
