"""How fast the operator gives N patients applied at once their diagnose Jobs, and what that costs it.

    .venv/bin/python benchmarks/perf/operator_scale.py [--patients 200] [--namespace scale]

Starts the loopback Kubernetes API (tests/harness), applies crds/, starts the real
operator (`hospital operator run --standalone -n NS` from .venv-operator), then
applies N ModelPatients (examples/patient.yaml, renamed) with the real kubectl in
one multi-document apply. A tap on the emulator's event bus stamps the moment each
patient is stored and each diagnose Job is created, so the benchmark itself sends
no API requests. No Job runs: only Job creation is measured.

Prints the apply time; the Job creation latency (p50, p90, p99, max) from the
apply's return and from each patient's creation; how many patients got their Job
within 10 s (the goal: all of them); the operator's API requests per patient,
told apart from kubectl's by user agent; its requests per second once every Job
exists (idle: the goal is under 1 in all); and its peak memory (VmHWM).
Not run by the tests.
"""

from __future__ import annotations

import argparse
import collections
import copy
import math
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.harness.cluster import LoopbackCluster  # noqa: E402

OPERATOR = ROOT / ".venv-operator" / "bin" / "hospital"
GOAL_SECONDS = 10.0
STAGE_LABEL = "modelhospital.io/stage"
PATIENT_LABEL = "modelhospital.io/patient"


class EventTap:
    """A subscriber on the emulator's event bus that stamps every event with the moment it was emitted.

    The emulator calls ``put_nowait`` on its server thread for every stored change
    (the same call that feeds watch streams), so the stamp is the store's time, not
    the time some client happened to notice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[tuple[float, str, str, dict[str, Any]]] = []

    def put_nowait(self, event: tuple[int, Any, str, dict[str, Any]] | None) -> None:
        if event is None:  # the server closing its watches
            return
        _, resource, event_type, obj = event
        with self._lock:
            self._events.append((time.monotonic(), resource.plural or "", event_type, obj))

    def first_added(self, plural: str, namespace: str,
                    key: Callable[[dict[str, Any]], str | None] = lambda obj: obj["metadata"]["name"]) -> dict[str, float]:
        """Return key -> first ADDED time of the objects of one resource in a namespace (key None: skipped)."""
        with self._lock:
            events = list(self._events)
        seen: dict[str, float] = {}
        for stamp, event_plural, event_type, obj in events:
            if event_plural != plural or event_type != "ADDED" or obj.get("metadata", {}).get("namespace") != namespace:
                continue
            name = key(obj)
            if name is not None and name not in seen:
                seen[name] = stamp
        return seen


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of the values (fraction in 0..1)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def patient_documents(count: int) -> list[dict[str, Any]]:
    """Return N copies of examples/patient.yaml named patient-000, patient-001, ..."""
    template = yaml.safe_load((ROOT / "examples" / "patient.yaml").read_text())
    documents = []
    for index in range(count):
        document = copy.deepcopy(template)
        document["metadata"] = {"name": f"patient-{index:03d}"}
        documents.append(document)
    return documents


def diagnosed_patient(job: dict[str, Any]) -> str | None:
    """Return the patient a diagnose Job is for, or None for any other Job."""
    labels = job["metadata"].get("labels") or {}
    return labels.get(PATIENT_LABEL) if labels.get(STAGE_LABEL) == "diagnose" else None


def client_of(request: Any) -> str:
    """Return who sent a request: 'kubectl', 'operator' (kopf or the kubernetes client) or the raw user agent."""
    agent = request.headers.get("User-Agent", "")
    if agent.startswith("kubectl"):
        return "kubectl"
    if agent.startswith(("kopf/", "OpenAPI-Generator/")):
        return "operator"
    return agent or "unknown"


def request_kind(request: Any) -> str:
    """Return 'VERB plural[/subresource]' for a request, e.g. 'PATCH modelpatients/status'."""
    verb = str(getattr(request.method, "value", request.method)).upper()
    if request.params.get("watch") in ("true", "1"):
        verb = "WATCH"
    plural = request.resource.plural if request.resource is not None else request.url.path
    return f"{verb} {plural}{'/' + request.subresource if request.subresource else ''}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_memory_mib(pid: int) -> float | None:
    """Return a process's peak resident memory (VmHWM) in MiB, or None when it cannot be read."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Bench:
    """The loopback API, the operator subprocess and the request log between them."""

    def __init__(self, namespace: str, resync_seconds: str, workdir: pathlib.Path) -> None:
        self.namespace, self.workdir = namespace, workdir
        self.cluster = LoopbackCluster(workdir / "kube")
        self.tap = EventTap()
        self.cluster.call(self.cluster.api._watchers.add, self.tap)
        self.health_port = free_port()
        self.log_path = workdir / "operator.log"
        self.resync_seconds = resync_seconds
        self.process: subprocess.Popen | None = None

    def requests(self) -> list[Any]:
        """Return a snapshot of every request the API has served so far."""
        return self.cluster.call(lambda: list(self.cluster.api._requests))

    def start_operator(self) -> None:
        env = dict(os.environ, KUBECONFIG=str(self.cluster.kubeconfig), HOSPITAL_METRICS_PORT="0",
                   HOSPITAL_HEALTH_PORT=str(self.health_port), HOSPITAL_RESYNC_SECONDS=self.resync_seconds,
                   HOSPITAL_STAGE_RETRIES="1", HOSPITAL_ARTIFACT_CLAIM="artifacts", DO_NOT_TRACK="1")
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen([str(OPERATOR), "operator", "run", "--standalone", "-n", self.namespace],
                                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def operator_watching(self) -> bool:
        """Return whether the operator has opened its watches on patients and Jobs and answers its health probe."""
        watched = {request.resource.plural for request in self.requests()
                   if client_of(request) == "operator" and request_kind(request).startswith("WATCH ")}
        if not {"modelpatients", "jobs"} <= watched:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def check_operator(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise SystemExit(f"the operator exited ({self.process.returncode}); log:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Return whether the predicate came true within the timeout (an exited operator ends the run)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            self.check_operator()
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def stop(self) -> None:
        """Kill the operator's process group and stop the API."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.cluster.stop()


def summarize(latencies: list[float]) -> str:
    return ", ".join(f"{label} {percentile(latencies, fraction):.2f} s"
                     for label, fraction in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))) + f", max {max(latencies):.2f} s"


def report(bench: Bench, count: int, times: tuple[float, float, float], marks: tuple[int, int, int],
           settle: float, requests: list[Any], peak_mib: float | None) -> dict[str, Any]:
    """Print the figures and return them: ``served`` (patients whose diagnose Job came before the wait ended),
    ``within_goal`` and ``idle`` (the operator's requests by kind once every Job existed).

    ``times``: monotonic apply start, apply return, end of the wait for Jobs;
    ``marks``: request-log lengths before the apply, at the end of that wait, after the settle time.
    """
    apply_started, apply_returned, waited_until = times
    names = [document["metadata"]["name"] for document in patient_documents(count)]
    created = bench.tap.first_added("modelpatients", bench.namespace)
    jobs_by_patient = {patient: stamp for patient, stamp in bench.tap.first_added("jobs", bench.namespace, diagnosed_patient).items()
                       if stamp <= waited_until}
    served = [name for name in names if name in jobs_by_patient]
    # A Job the operator made while kubectl was still applying counts as 0 from the apply's return.
    from_apply = [max(0.0, jobs_by_patient[name] - apply_returned) for name in served]
    from_creation = [jobs_by_patient[name] - created[name] for name in served if name in created]
    within_goal = sum(1 for latency in from_creation if latency <= GOAL_SECONDS)

    print(f"patients applied:            {count} in namespace {bench.namespace} (operator resync {bench.resync_seconds} s)")
    spread = max(created.values()) - min(created.values()) if created else 0.0
    print(f"kubectl apply:               {apply_returned - apply_started:.2f} s "
          f"({len(created)} patients stored over {spread:.2f} s)")
    print(f"diagnose Jobs created:       {len(served)} of {count}")
    if served:
        print(f"latency from apply's return: {summarize(from_apply)} (0: made before kubectl returned)")
        print(f"latency from creation:       {summarize(from_creation)}")
        print(f"last Job after apply start:  {max(jobs_by_patient[name] for name in served) - apply_started:.2f} s")
    print(f"Job within {GOAL_SECONDS:.0f} s of creation:  {within_goal} of {count}")

    before_apply, all_created, window_end = marks
    window = requests[before_apply:all_created]
    by_client = collections.Counter(client_of(request) for request in window)
    operator_kinds = collections.Counter(request_kind(request) for request in window if client_of(request) == "operator")
    startup = sum(1 for request in requests[:before_apply] if client_of(request) == "operator")
    after = sum(1 for request in requests[all_created:window_end] if client_of(request) == "operator")
    operator_total = by_client.get("operator", 0)
    print(f"API requests, apply to last Job:  {dict(sorted(by_client.items()))}")
    print(f"operator requests per patient: {operator_total / count:.2f} "
          f"({operator_total} in all; {startup} before the apply, at start-up)")
    for kind, number in operator_kinds.most_common():
        print(f"    {number:6d}  {kind}  ({number / count:.2f} per patient)")
    print(f"then, every Job there:       {after} operator requests in {settle:.0f} s "
          f"({after / count / settle:.2f} per patient per second)")
    print(f"idle API requests:           {after / settle:.2f} per second in all (goal: under 1)")
    settled = collections.Counter(request_kind(request) for request in requests[all_created:window_end]
                                  if client_of(request) == "operator")
    for kind, number in settled.most_common():
        print(f"    {number:6d}  {kind}")
    idle_paths = collections.Counter(f"{request_kind(request).split()[0]} {request.url.path_qs}"
                                     for request in requests[all_created:window_end] if client_of(request) == "operator")
    if idle_paths:
        repeated = sum(1 for number in idle_paths.values() if number > 1)
        print(f"    {len(idle_paths)} distinct paths, {repeated} asked more than once; the most asked:")
        for path, number in idle_paths.most_common(5):
            print(f"    {number:6d}  {path}")
    print(f"operator peak memory (VmHWM): {peak_mib:.1f} MiB" if peak_mib is not None else
          "operator peak memory (VmHWM): unreadable")
    return {"served": len(served), "within_goal": within_goal, "idle": dict(settled), "peak_mib": peak_mib}


def run(count: int, namespace: str, resync_seconds: str, timeout: float, settle: float,
        workdir: pathlib.Path) -> dict[str, Any]:
    """Run the benchmark once and return its figures (`report`)."""
    bench = Bench(namespace, resync_seconds, workdir)
    try:
        bench.cluster.kubectl("apply", "-f", str(ROOT / "crds"))
        bench.cluster.kubectl("wait", "--for=condition=Established", "crd/modelpatients.modelhospital.io",
                              "crd/treatments.modelhospital.io", "--timeout=30s")
        bench.cluster.kubectl("create", "namespace", namespace)
        bench.start_operator()
        if not bench.wait_until(bench.operator_watching, 60):
            raise SystemExit(f"the operator did not watch patients and Jobs within 60 s; log:\n{bench.log_tail()}")
        time.sleep(1.0)  # let the operator's start-up listing finish before the window opens
        before_apply = len(bench.requests())

        manifest = yaml.safe_dump_all(patient_documents(count))
        apply_started = time.monotonic()
        bench.cluster.kubectl("apply", "-n", namespace, "-f", "-", input=manifest, timeout=max(120.0, timeout))
        apply_returned = time.monotonic()

        def all_jobs() -> bool:
            return len(bench.tap.first_added("jobs", namespace, diagnosed_patient)) >= count
        if not bench.wait_until(all_jobs, timeout):
            print(f"gave up waiting for {count} diagnose Jobs after {timeout:g} s", file=sys.stderr)
        waited_until = time.monotonic()
        all_created = len(bench.requests())
        time.sleep(settle)  # what the operator keeps asking once every Job exists (resyncs, Job events)
        requests = bench.requests()
        bench.check_operator()
        peak = peak_memory_mib(bench.process.pid)
        return report(bench, count, (apply_started, apply_returned, waited_until),
                      (before_apply, all_created, len(requests)), settle, requests, peak)
    finally:
        bench.stop()


def main(argv: list[str] | None = None) -> int:
    os.environ["DO_NOT_TRACK"] = "1"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--namespace", default="scale")
    parser.add_argument("--resync-seconds", default="2",
                        help="HOSPITAL_RESYNC_SECONDS of the operator (default 2, as the end-to-end tests)")
    parser.add_argument("--timeout", type=float, default=120, help="most seconds to wait for every Job")
    parser.add_argument("--settle", type=float, default=5, help="seconds to keep counting requests after the last Job")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (operator log, kubeconfig)")
    args = parser.parse_args(argv)
    if args.patients < 1:
        parser.error("--patients must be at least 1")
    if not OPERATOR.exists():
        parser.error(f"{OPERATOR} is missing: install the operator's environment first")
    workdir = pathlib.Path(__import__("tempfile").mkdtemp(prefix="operator-scale-"))
    ok = False
    try:
        figures = run(args.patients, args.namespace, args.resync_seconds, args.timeout, args.settle, workdir)
        ok = figures["served"] == args.patients
    finally:
        if args.keep or not ok:
            print(f"work folder kept: {workdir} (operator.log)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
