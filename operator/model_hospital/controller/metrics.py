"""Prometheus metrics of the operator: what the hospital holds, and how its Jobs go.

Gauges count the last status seen of each resource (kept by key), so a restarted
operator reports the same numbers once it has listed its resources. A status that
changed moves one count; nothing is recounted over every resource.
"""

from __future__ import annotations

import datetime
import threading
from collections import Counter
from typing import Any

from prometheus_client import CollectorRegistry, Counter as CounterMetric, Gauge, Histogram, start_http_server

DURATION_BUCKETS = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400)
QUEUE_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600)


def _time(text: str | None) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


class Metrics:
    """The operator's metrics in their own registry (one per operator, one per test)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.patients = Gauge("hospital_patients", "Patients by overall severity and phase.",
                              ["severity", "phase"], registry=self.registry)
        self.findings = Gauge("hospital_patient_findings", "Patients by symptom and the severity found for it.",
                              ["symptom", "severity"], registry=self.registry)
        self.treatments = Gauge("hospital_treatments", "Treatments by stage and verdict.",
                                ["stage", "verdict"], registry=self.registry)
        self.stage_duration = Histogram("hospital_stage_duration_seconds", "How long stage Jobs ran.",
                                        ["stage", "outcome"], buckets=DURATION_BUCKETS, registry=self.registry)
        self.queue_wait = Histogram("hospital_stage_queue_wait_seconds", "From a stage Job's creation to its start.",
                                    ["stage"], buckets=QUEUE_BUCKETS, registry=self.registry)
        self.jobs_created = CounterMetric("hospital_stage_jobs_created_total", "Stage Jobs created.",
                                          ["stage"], registry=self.registry)
        self.job_failures = CounterMetric("hospital_stage_job_failures_total", "Stage Jobs that failed.",
                                          ["stage"], registry=self.registry)
        self.job_retries = CounterMetric("hospital_stage_job_retries_total", "Stage Jobs started again after a failure.",
                                         ["stage"], registry=self.registry)
        self.reconcile_errors = CounterMetric("hospital_reconcile_errors_total", "Reconciles that raised.",
                                              ["kind"], registry=self.registry)
        self._lock = threading.Lock()
        self._patients: dict[tuple[str, str], dict[str, Any]] = {}
        self._treatments: dict[tuple[str, str], tuple[str, str]] = {}
        self._patient_counts: Counter = Counter()  # (severity, phase) -> patients
        self._finding_counts: Counter = Counter()  # (symptom, severity) -> patients
        self._treatment_counts: Counter = Counter()  # (stage, verdict) -> treatments

    def serve(self, port: int) -> None:
        """Serves /metrics on `port` (0: not at all)."""
        if port:
            start_http_server(port, registry=self.registry)

    def observe_job(self, stage: str, created: str | None, started: str | None, finished: str | None,
                    outcome: str) -> None:
        """Records an ended stage Job: how long it waited to start and how long it ran (RFC 3339 times)."""
        created_at, started_at, finished_at = (_time(value) for value in (created, started, finished))
        if created_at and started_at:
            self.queue_wait.labels(stage=stage).observe(max(0.0, (started_at - created_at).total_seconds()))
        if started_at and finished_at:
            self.stage_duration.labels(stage=stage, outcome=outcome).observe(max(0.0, (finished_at - started_at).total_seconds()))

    def observe_patient(self, namespace: str, name: str, status: dict[str, Any] | None) -> None:
        """Counts a patient by its current status; None forgets it (deleted)."""
        counted = None if status is None else {
            # Not diagnosed yet is not "no failures": it is counted apart, never as NONE.
            "severity": status.get("overallSeverity") or "UNMEASURED",
            "phase": status.get("phase") or "Pending",
            "findings": {row.get("symptom"): row.get("severity") or "UNMEASURED" for row in status.get("findings") or []},
        }
        with self._lock:
            before = self._patients.pop((namespace, name), None)
            if counted is not None:
                self._patients[(namespace, name)] = counted
            if before == counted:
                return  # the usual resync: nothing moved
            for entry, step in ((before, -1), (counted, 1)):
                if entry:
                    _move(self.patients, self._patient_counts, (entry["severity"], entry["phase"]), step)
                    for pair in entry["findings"].items():
                        _move(self.findings, self._finding_counts, pair, step)

    def observe_treatment(self, namespace: str, name: str, status: dict[str, Any] | None) -> None:
        """Counts a treatment by stage and verdict; None forgets it."""
        counted = None if status is None else (status.get("stage") or "pending", status.get("verdict") or "")
        with self._lock:
            before = self._treatments.pop((namespace, name), None)
            if counted is not None:
                self._treatments[(namespace, name)] = counted
            for entry, step in ((before, -1), (counted, 1)):
                if entry and before != counted:
                    _move(self.treatments, self._treatment_counts, entry, step)


def _move(gauge: Gauge, counts: Counter, labels: tuple[str, ...], step: int) -> None:
    """Adds `step` to one label set's count; a count back at zero leaves the gauge (as if never seen).

    Only the label set that moved is touched, so a reconcile costs the same with 10 or 10,000 objects."""
    counts[labels] += step
    if counts[labels] > 0:
        gauge.labels(*labels).set(counts[labels])
    else:
        del counts[labels]
        try:
            gauge.remove(*labels)
        except KeyError:
            pass
