"""What the patient and treatment reconcilers share: their wiring and how they read their object."""

from __future__ import annotations

import datetime
from typing import Any

from model_hospital.controller import follow
from model_hospital.controller.kube import PATIENTS, Cluster
from model_hospital.controller.settings import OperatorSettings


class Reconciler:
    """The cluster, settings, metrics, a clock and a Job follower; `plural` names the kind reconciled."""

    plural: str

    def __init__(self, cluster: Cluster, settings: OperatorSettings, metrics=None, clock=None) -> None:
        self.cluster = cluster
        self.settings = settings
        self.metrics = metrics
        self.clock = clock or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self.follower = follow.JobFollower(cluster, settings.progress_seconds)

    def read(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None when it is gone or being deleted (its gauges are dropped then)."""
        body = self.cluster.get(self.plural, namespace, name)
        if body is None or body["metadata"].get("deletionTimestamp"):
            self.observe(namespace, name, None)
            return None
        return body

    def observe(self, namespace: str, name: str, status: dict[str, Any] | None) -> None:
        """Updates the object's gauges from its status (None: it is gone)."""
        if self.metrics:
            observe = self.metrics.observe_patient if self.plural == PATIENTS else self.metrics.observe_treatment
            observe(namespace, name, status)
