"""What the patient and treatment reconcilers share: their wiring and how they read their object."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from model_hospital.api.resources import StageResources
from model_hospital.controller import follow, jobs, launchers
from model_hospital.controller.kube import PATIENTS, Cluster
from model_hospital.controller.settings import OperatorSettings

log = logging.getLogger("model_hospital.controller")


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

    def stale_or_foreign(self, body: dict[str, Any], job: str, owner: dict[str, Any] | None) -> str | None:
        """None after deleting a Job left by an earlier object of this kind and name (deleted and created
        again, its Job not yet collected); else a message saying whose the Job is (never adopted)."""
        metadata = body["metadata"]
        owner = owner or {}
        if owner.get("kind") == body.get("kind") and owner.get("name") == metadata["name"]:
            self.cluster.delete_job(metadata["namespace"], job)
            return None
        return (f"Job {job} exists and belongs to {owner.get('kind')} {owner.get('name')}: "
                "rename this object or remove that Job")

    def memory_after_oom(self, stage: str, resources: StageResources | None, current: str | None) -> str | None:
        """The memory of a retry after an OOM kill (twice, up to the spec's maxMemory); None when none is allowed."""
        merged = jobs.merged_resources(self.settings.stage_resources.get(stage), resources)
        now = current or (str(merged.memory) if merged.memory is not None else None)
        return jobs.more_memory(now, str(merged.max_memory) if merged.max_memory is not None else None)

    def remove_pods(self, namespace: str, job: str, launcher: str | None = None) -> None:
        """Removes a succeeded stage's pods at once (its GPUs and node memory go back); a failure only logs.
        A stage run by a `launcher` (JobSet, TrainJob) has its pods found by that object's label."""
        try:
            self.cluster.delete_pods(namespace, launchers.pod_selector(job, launcher))
        except Exception as error:  # noqa: BLE001 - the Job's TTL removes them later
            log.warning("could not remove the pods of Job %s/%s: %s", namespace, job, error)
