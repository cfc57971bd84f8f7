"""Following a stage Job cheaply: the Job from the watch, its pods and log only now and then.

The Job itself comes from `WatchedCluster`'s cache, which kopf's Job watch keeps
current, so a reconcile of a waiting owner costs no request for it. Its pods are
read when the Job has ended (the termination message holds the result) and, while
it has not, never while its status counts no pod (there is none to read: the Job
event that counts one brings the owner back), else at most once per
`progress_seconds`, less often while none runs (`JobFollower._due`): then the
pod tells whether the Job waits for a queue or a node, why it is stuck, and the
tail of its log gives the stage's newest progress line (`api.stages.progress_line`).
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass
from typing import Any

from model_hospital.api.stages import parse_progress
from model_hospital.controller import launchers, results
from model_hospital.controller.status import cut_message, find_condition, now_iso, parse_time, set_condition

LOG_TAIL_LINES = 20
WAITING_LOOKS_LIMIT = 16  # a Job whose pods wait is looked at after 1, 2, 4, 8, then every 16 periods


@dataclass
class Observation:
    """What one look at a stage Job found."""

    outcome: results.JobOutcome
    looked: bool = False  # its pods were read this time (else `waiting`, `queued` and `progress` are unknown)
    queued: tuple[str, str] | None = None  # (reason, message) while it waits for a queue or a node
    progress: dict[str, Any] | None = None  # the newest progress line of its running pod
    pods: str | None = None  # how the pods of a stage on several nodes stand (`results.pod_counts`)


class JobFollower:
    """Looks at stage Jobs for one reconciler; remembers when it last read each Job's pods."""

    def __init__(self, cluster, progress_seconds: float) -> None:
        self.cluster = cluster
        self.progress_seconds = progress_seconds
        self._looked: dict[tuple[str, str], tuple[datetime.datetime, tuple[int, ...], float]] = {}  # when, counts, wait
        self._pruned: datetime.datetime | None = None
        self._guard = threading.Lock()

    def observe(self, namespace: str, name: str, moment: datetime.datetime, owner_uid: str | None = None,
                launcher: str | None = None) -> Observation:
        """Where the Job (or the `launcher` object: JobSet, TrainJob) stands; `foreign` when another object than
        `owner_uid` controls it (never adopted)."""
        if launcher:
            kind = launchers.LAUNCHERS[launcher]
            job = launchers.as_job(self.cluster.get_custom(kind.group, kind.version, kind.plural, namespace, name))
        else:
            job = self.cluster.get_job(namespace, name)
        return self._observe(namespace, name, moment, owner_uid, job,
                             lambda: self.cluster.pods(namespace, launchers.pod_selector(name, launcher)))

    def _observe(self, namespace: str, name: str, moment: datetime.datetime, owner_uid: str | None,
                 job: dict[str, Any] | None, read_pods) -> Observation:
        if job is None:  # removed (by its TTL, by hand, or with its owner): nothing to look at again
            self._forget(namespace, name)
            return Observation(results.job_outcome(None, []))
        foreign = results.foreign_outcome(job, owner_uid)
        if foreign:
            return Observation(foreign)
        if results.job_ended(job):
            self._forget(namespace, name)
            pods = results.reporting_pods(job, read_pods())
            return Observation(results.job_outcome(job, pods), looked=True)
        if (job.get("spec") or {}).get("suspend"):  # queued: no pod exists to read
            return Observation(results.job_outcome(job, []), looked=True, queued=results.queue_state(job, []))
        if not results.counts_pods(job) or not self._due(namespace, name, moment, job):  # no pod yet, or looked lately
            return Observation(results.job_outcome(job, []))
        pods = read_pods()
        if any((pod.get("status") or {}).get("phase") == "Running" for pod in pods):
            self._found_running(namespace, name)
        outcome = results.job_outcome(job, pods)
        return Observation(outcome, looked=True, queued=results.queue_state(job, pods),
                           progress=self._progress(namespace, results.reporting_pods(job, pods)),
                           pods=results.pod_counts(job, pods))

    def _due(self, namespace: str, name: str, moment: datetime.datetime, job: dict[str, Any]) -> bool:
        """Whether to read the Job's pods now: at once when its pod counts moved since the last look (a pod was
        made, got ready, ended); else after the wait since the last look, which doubles at each look up to
        WAITING_LOOKS_LIMIT periods and goes back to `progress_seconds` when a look finds a pod running (its
        progress): a pod waiting for a node or an image seldom changes."""
        status = job.get("status") or {}
        counts = tuple(int(status.get(count) or 0) for count in results.POD_COUNTS)
        with self._guard:
            last = self._looked.get((namespace, name))
            interval = self.progress_seconds
            if last is not None:
                when, seen, previous = last
                if seen == counts and (moment - when).total_seconds() < previous:
                    return False
                if seen == counts:
                    interval = min(previous * 2, self.progress_seconds * WAITING_LOOKS_LIMIT)
            self._looked[(namespace, name)] = (moment, counts, interval)
            self._prune(moment)
            return True

    def _prune(self, moment: datetime.datetime) -> None:
        """Forgets Jobs not looked at for twice the longest wait (their owner went, and nobody asks of them any
        more: a live Job is looked at within that wait); at most once per longest wait. Under the guard."""
        longest = datetime.timedelta(seconds=self.progress_seconds * WAITING_LOOKS_LIMIT)
        if self._pruned is not None and moment - self._pruned < longest:
            return
        self._pruned = moment
        for key in [key for key, (when, _, _) in self._looked.items() if moment - when > 2 * longest]:
            del self._looked[key]

    def _found_running(self, namespace: str, name: str) -> None:
        """A look found a pod running: its progress is read every `progress_seconds` again."""
        with self._guard:
            when, counts, _ = self._looked[(namespace, name)]
            self._looked[(namespace, name)] = (when, counts, self.progress_seconds)

    def _forget(self, namespace: str, name: str) -> None:
        with self._guard:
            self._looked.pop((namespace, name), None)

    def _progress(self, namespace: str, pods: list[dict[str, Any]]) -> dict[str, Any] | None:
        running = [pod for pod in pods if (pod.get("status") or {}).get("phase") == "Running"]
        if not running:
            return None
        newest = max(running, key=lambda pod: pod.get("metadata", {}).get("creationTimestamp") or "")
        try:
            log = self.cluster.pod_log(namespace, newest["metadata"]["name"], LOG_TAIL_LINES)
        except Exception:  # noqa: BLE001 - progress is a nicety: a log that cannot be read is no progress
            return None
        return parse_progress(log or "")


def progress_status(stage: str, found: dict[str, Any] | None, previous: dict[str, Any] | None,
                    moment: datetime.datetime) -> dict[str, Any] | None:
    """status.progress from the newest progress line, with an ETA at the pace seen since this part was first read.

    `since` and `sinceDone` carry over while the same part (stage, unit, total, message)
    is counted; the ETA is None until the count has moved since then.
    """
    if found is None:
        return None
    previous = previous or {}
    same_part = all(previous.get(key) == value for key, value in
                    (("stage", stage), ("unit", found["unit"]), ("total", found["total"]),
                     ("message", found["what"] or None)))
    since = parse_time(previous.get("since")) if same_part else None
    since_done = int(previous.get("sinceDone") or 0) if since else found["done"]
    since = since or moment
    done, total = found["done"], found["total"]
    progress = {"stage": stage, "done": done, "total": total, "unit": found["unit"],
                "percent": int(100 * done / total), "message": found["what"] or None, "since": now_iso(since),
                "sinceDone": since_done, "updatedAt": now_iso(moment), "eta": None}
    elapsed = (moment - since).total_seconds()
    if done < total and done > since_done and elapsed > 0:
        rate = (done - since_done) / elapsed
        progress["eta"] = now_iso(moment + datetime.timedelta(seconds=(total - done) / rate))
    return progress


def progress_changed(new: dict[str, Any] | None, old: dict[str, Any] | None) -> bool:
    """Whether status.progress needs a patch (not for a new `updatedAt` alone)."""
    keys = ("stage", "done", "total", "unit", "message")
    return (new is None) != (old is None) or bool(new and old and any(new.get(k) != old.get(k) for k in keys))


def status_while_waiting(status: dict[str, Any], seen: Observation, stage: str, generation: int | None,
                         moment: datetime.datetime) -> dict[str, Any]:
    """The status fields to patch for a Job that has not ended: the Queued condition and progress; {} when unchanged."""
    patch: dict[str, Any] = {}
    conditions = status.get("conditions")
    current = find_condition(conditions, "Queued")
    if seen.queued:
        reason, message = seen.queued
        if not current or (current.get("status"), current.get("reason"), current.get("message")) != (
                "True", reason, cut_message(message)):
            patch["conditions"] = set_condition(conditions, "Queued", "True", reason, message, generation, now_iso(moment))
    elif seen.looked and current and current.get("status") == "True":
        patch["conditions"] = set_condition(conditions, "Queued", "False", "Admitted",
                                            f"the {stage} Job left the queue", generation, now_iso(moment))
    if seen.looked and seen.outcome.state == "running":
        progress = progress_status(stage, seen.progress, status.get("progress"), moment)
        if progress is not None and progress_changed(progress, status.get("progress")):
            patch["progress"] = progress
    return patch


def admitted(status: dict[str, Any], stage: str, generation: int | None, moment: datetime.datetime):
    """The conditions with Queued turned False (the Job ran); None when it was not queued."""
    current = find_condition(status.get("conditions"), "Queued")
    if not current or current.get("status") != "True":
        return None
    return set_condition(status.get("conditions"), "Queued", "False", "Admitted", f"the {stage} Job ran",
                         generation, now_iso(moment))


def queue_event(before: dict[str, Any], patch: dict[str, Any]) -> tuple[str, str] | None:
    """(reason, message) of the event to post when a patch moves the Queued condition; None when it does not."""
    old = find_condition(before.get("conditions"), "Queued") or {}
    new = find_condition(patch.get("conditions"), "Queued") if "conditions" in patch else None
    if not new or new.get("status") == old.get("status"):
        return None
    return ("Queued" if new["status"] == "True" else "Admitted"), new.get("message", "")
