"""A local runner that plays the Job controller and the kubelet against a Kubernetes API.

It watches Jobs; for each one it creates Pods (owned by the Job, labelled
``job-name``/``controller-uid``) and runs the first container's command as a
local process with the container's env and with every volume mapped to a folder
under ``root``. It writes Pod and Job status the way the real controllers do:
phase, ``containerStatuses[0].state.terminated`` with the termination message,
``active``/``succeeded``/``failed`` counts and ``Complete``/``Failed``
conditions. It honours backoffLimit, activeDeadlineSeconds, suspend and
ttlSecondsAfterFinished; a process killed by SIGKILL (not by the runner) ends as
``OOMKilled``, as the kubelet reports a container the kernel's OOM killer stopped.

Usage in tests::

    runner = LocalRunner(cluster.kubeconfig, root=tmp_path)
    runner.start()
    ...
    runner.stop()

An Indexed Job runs all its indexes at once (tests/harness/indexed.py says how its
pods find each other on one machine, as processes here and as containers in
tests/harness/containers.py). Not emulated: completions/parallelism of a
NonIndexed Job (one pod at a time), init containers and sidecars (only the first container runs), images (the
command runs from PATH on this machine), restartPolicy OnFailure (a failure
always makes a new pod), podFailurePolicy, the exponential back-off delay.

This module holds the Job controller's bookkeeping; the pod-to-process part is
tests/harness/kubelet.py and the HTTP client tests/harness/kubeclient.py.
"""

import contextlib
import datetime
import logging
import os
import pathlib
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

from tests.harness import indexed
from tests.harness.kubeclient import KubeClient, KubeError, job_finished, job_path, now_rfc3339
from tests.harness.kubelet import Kubelet

logger = logging.getLogger(__name__)


class LocalRunner(Kubelet):
    """Runs the Jobs of a Kubernetes API as local processes, in a background thread."""

    def __init__(self, api: str | os.PathLike[str], root: os.PathLike[str], parallelism: int = 2,
                 namespace: str | None = None, retry_delay: float = 0.0, path_dirs: list[str] | None = None) -> None:
        self.client = KubeClient(api)
        self.root = pathlib.Path(root)
        self.namespace = namespace  # None: Jobs of every namespace
        self.retry_delay = retry_delay
        self.path_dirs = path_dirs if path_dirs is not None else [str(pathlib.Path(sys.executable).parent)]
        self._pool = ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="local-kubelet")
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, Any]] = {}
        self._active: set[str] = set()
        self._expiring: set[str] = set()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []  # failures of the runner itself (not of the Jobs), for assertions
        self.rendezvous_ports: dict[str, int] = {}  # Job uid -> this machine's port for an Indexed Job's MASTER_PORT
        self.halted: set[str] = set()  # uids of Indexed Jobs that failed: their running pods are stopped
        self.ended: set[str] = set()  # uids of Jobs run to the end: a late event or listing of their run starts none

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> "LocalRunner":
        """Start watching Jobs in a daemon thread and return the runner."""
        self._thread = threading.Thread(target=self._watch_jobs, name="local-job-controller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching, kill running processes and wait for the workers."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    def __enter__(self) -> "LocalRunner":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the Job controller -------------------------------------------------------------------

    def _collection(self) -> str:
        return job_path(self.namespace) if self.namespace else "/apis/batch/v1/jobs"

    def _watch_jobs(self) -> None:
        while not self._stopped.is_set():
            try:
                listing = self.client.get(self._collection())
                seen = set()
                for job in listing.get("items", []):
                    seen.add(job["metadata"]["uid"])
                    self._reconcile(job)
                with self._lock:
                    for uid in list(self._jobs):
                        if uid not in seen:
                            del self._jobs[uid]
                since = listing["metadata"].get("resourceVersion", "")
                for event in self.client.watch(self._collection(), timeout_seconds=1, resourceVersion=since):
                    if self._stopped.is_set():
                        break
                    if event["type"] == "DELETED":
                        with self._lock:
                            self._jobs.pop(event["object"]["metadata"]["uid"], None)
                    elif event["type"] in ("ADDED", "MODIFIED"):
                        self._reconcile(event["object"])
                    elif event["type"] == "ERROR":
                        break  # e.g. 410 Expired: list again
            except Exception as error:  # the API may be restarting; keep the controller alive
                if not self._stopped.is_set():
                    self.errors.append(repr(error))
                    logger.warning("local runner: %r", error)
                    self._stopped.wait(0.2)

    def _reconcile(self, job: dict[str, Any]) -> None:
        uid = job["metadata"]["uid"]
        with self._lock:
            self._jobs[uid] = job
            if job["metadata"].get("deletionTimestamp"):
                return
            if job_finished(job):
                ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
                if ttl is not None and uid not in self._expiring:
                    self._expiring.add(uid)
                    timer = threading.Timer(float(ttl), self._expire, (job,))
                    timer.daemon = True
                    timer.start()
                return
            if uid in self._active or uid in self.ended or (job.get("spec") or {}).get("suspend"):
                return
            self._active.add(uid)
        self._pool.submit(self._run_job, uid)

    def _expire(self, job: dict[str, Any]) -> None:
        if self._stopped.is_set():
            return
        try:
            self.client.delete(job_path(job["metadata"]["namespace"], job["metadata"]["name"]))
        except KubeError as error:
            if error.status != 404:
                self.errors.append(repr(error))

    def _latest(self, uid: str) -> dict[str, Any] | None:
        with self._lock:
            return self._jobs.get(uid)

    def _patch_job_status(self, job: dict[str, Any], status: dict[str, Any]) -> None:
        self.client.patch(job_path(job["metadata"]["namespace"], job["metadata"]["name"], "status"), {"status": status})

    def _run_job(self, uid: str) -> None:
        try:
            self._run_job_attempts(uid)
        except Exception as error:
            if not self._stopped.is_set():
                self.errors.append(repr(error))
                logger.exception("local runner: job %s", uid)
        finally:
            with self._lock:
                self._active.discard(uid)

    def _run_job_attempts(self, uid: str) -> None:
        job = self._latest(uid)
        if job is None:
            return
        spec, status = job.get("spec") or {}, dict(job.get("status") or {})
        backoff_limit = spec.get("backoffLimit", 6)
        start_time = status.get("startTime") or now_rfc3339()
        failed = int(status.get("failed") or 0)
        if not status.get("startTime"):
            self._patch_job_status(job, {"startTime": start_time, "active": 0, "ready": 0})
        started = datetime.datetime.fromisoformat(start_time.replace("Z", "+00:00")).timestamp()
        deadline = started + spec["activeDeadlineSeconds"] if spec.get("activeDeadlineSeconds") else None
        if indexed.is_indexed(job):
            indexed.run_indexed_job(self, uid, job, deadline)
            return
        while not self._stopped.is_set():
            pod = self._create_pod(job)
            self._patch_job_status(job, {"active": 1, "ready": 0})
            outcome = self._run_pod(uid, job, pod, deadline)
            if outcome == "gone" or self._stopped.is_set():
                return
            if outcome == "suspended":
                self._patch_job_status(job, {"active": 0, "conditions": [self._condition(
                    "Suspended", "JobSuspended", "Job suspended")]})
                return
            if outcome == "succeeded":
                self._patch_job_status(job, {"active": 0, "ready": 0, "succeeded": 1, "completionTime": now_rfc3339(), "conditions": [
                    self._condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"),
                    self._condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods"),
                ]})
                self._ended(uid)
                return
            failed += 1
            if outcome == "deadline":
                reason, message = "DeadlineExceeded", "Job was active longer than specified deadline"
            elif failed > backoff_limit:
                reason, message = "BackoffLimitExceeded", "Job has reached the specified backoff limit"
            else:
                self._patch_job_status(job, {"active": 0, "ready": 0, "failed": failed})
                self._stopped.wait(self.retry_delay)
                continue
            self._patch_job_status(job, {"active": 0, "ready": 0, "failed": failed, "conditions": [
                self._condition("FailureTarget", reason, message), self._condition("Failed", reason, message)]})
            self._ended(uid)
            return

    @contextlib.contextmanager
    def _indexed_network(self, uid: str, job: dict[str, Any]) -> Iterator[None]:
        """Where the pods of an Indexed Job meet while it runs: this machine, at a free port for its MASTER_PORT."""
        self.rendezvous_ports[uid] = indexed.free_port()
        try:
            yield
        finally:
            self.rendezvous_ports.pop(uid, None)

    def _ended(self, uid: str) -> None:
        """A Job run to its end: a listing read before its last status patch must not start it again."""
        with self._lock:
            self.ended.add(uid)

    @staticmethod
    def _condition(kind: str, reason: str, message: str) -> dict[str, str]:
        now = now_rfc3339()
        return {"type": kind, "status": "True", "reason": reason, "message": message,
                "lastProbeTime": now, "lastTransitionTime": now}
