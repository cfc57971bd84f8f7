"""Idle costs nothing (issue 18): the reconcilers and the resync read from the watches' state.

Requests are counted on the in-memory cluster (what an API server would serve),
never timed: a resync of idle objects, a Job with no pod yet, objects kept for hours
cost no request; one list per kind every `relist_seconds` catches a deletion a watch
missed.
"""

from __future__ import annotations

import datetime
import gc
import pathlib
import threading

import pytest

from model_hospital.controller import results
from model_hospital.controller.kube import PATIENTS, TREATMENTS
from model_hospital.controller.metrics import Metrics
from model_hospital.controller.patients import PatientReconciler
from model_hospital.controller.runtime import Runtime
from model_hospital.controller.settings import OperatorSettings
from model_hospital.controller.status import find_condition
from model_hospital.controller.watched import LAST_APPLIED, WatchedCluster, slim
from test_controller_units import NOW, MemoryCluster, patient_body, running, treatment_body


@pytest.fixture
def settings() -> OperatorSettings:
    return OperatorSettings(stage_retries=1)


class CountingCluster(MemoryCluster):
    """The in-memory cluster counting the reads the operator makes of it (what an API server would serve)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def get(self, plural, namespace, name):
        self.reads.append(f"GET {plural}/{name}")
        return super().get(plural, namespace, name)

    def list(self, plural, namespace):
        self.reads.append(f"LIST {plural}")
        return super().list(plural, namespace)

    def get_job(self, namespace, name):
        self.reads.append(f"GET jobs/{name}")
        return super().get_job(namespace, name)

    def stage_jobs(self, namespace):
        self.reads.append("LIST jobs")
        return super().stage_jobs(namespace)

    def pods(self, namespace, selector):
        self.reads.append(f"LIST pods of {selector.removeprefix('job-name=')}")
        return super().pods(namespace, selector)


def watched(inner, clock) -> WatchedCluster:
    return WatchedCluster(inner, relist_seconds=300, clock=lambda: clock[0])


def watched_runtime(settings, patients: int = 3):
    """(counting cluster, clock, watched cluster, runtime) with `patients` patients p0, p1, ... the watch delivered."""
    inner = CountingCluster()
    clock = [0.0]
    cluster = watched(inner, clock)
    runtime = Runtime(settings, cluster, Metrics(), clock=lambda: clock[0])
    for index in range(patients):
        cluster.observe_object(PATIENTS, "ADDED", inner.add(PATIENTS, patient_body(name=f"p{index}")))
    return inner, clock, cluster, runtime


def recorded_reconciles(runtime: Runtime) -> list[str]:
    """The names of the patients the runtime reconciles from now on."""
    names: list[str] = []
    real = runtime.patients.reconcile
    runtime.patients.reconcile = lambda namespace, name: names.append(name) or real(namespace, name)
    return names


def test_a_resync_of_idle_objects_reads_nothing_from_the_api(settings):
    inner, clock, cluster, runtime = watched_runtime(settings)
    cluster.observe_object(TREATMENTS, "ADDED", inner.add(TREATMENTS, treatment_body(patient="p0")))
    runtime.resync_once()  # starts the checkups and the treatment; our own patches keep the cache current
    for name in list(inner.created_jobs):
        cluster.observe("ADDED", inner.jobs[("default", name)])
    inner.reads.clear()
    reconciles = recorded_reconciles(runtime)
    for _ in range(3):
        clock[0] += settings.resync_seconds
        runtime.resync_once()
    assert len(reconciles) == 9 and inner.reads == []  # the Jobs come from the watch, and none has a pod to read


def test_no_kind_is_listed_again_before_its_relist_period_even_when_it_has_no_object(settings):
    inner, clock, _, runtime = watched_runtime(settings, patients=0)
    for _ in range(5):
        runtime.resync_once()
    assert sorted(inner.reads) == ["LIST jobs", "LIST modelpatients", "LIST treatments"]
    runtime.wake_treatments("default", "llama")  # a list of every namespace counts for each one
    assert len(inner.reads) == 3
    clock[0] = 301.0
    runtime.resync_once()  # one list per kind per period, whatever the number of objects
    assert len(inner.reads) == 6


def test_kept_objects_are_never_read_one_by_one_however_old():
    inner = CountingCluster()
    clock = [0.0]
    cluster = watched(inner, clock)
    body = inner.add(PATIENTS, patient_body())
    cluster.observe_object(PATIENTS, "ADDED", body)
    cluster.observe("ADDED", {"kind": "Job", "metadata": {"name": "j", "namespace": "default"}, "status": {}})
    clock[0] = 86400.0 * 30
    assert cluster.get(PATIENTS, "default", "llama")["metadata"]["name"] == "llama"
    assert cluster.get_job("default", "j")["metadata"]["name"] == "j"
    assert inner.reads == []


def test_a_relist_forgets_what_a_watch_missed_and_keeps_what_an_event_brought_during_it():
    inner = CountingCluster()
    clock = [0.0]
    cluster = watched(inner, clock)
    assert cluster.list(PATIENTS, "default") == []
    gone = patient_body(name="gone")
    gone["metadata"].update(namespace="default", resourceVersion="3")
    cluster.observe_object(PATIENTS, "ADDED", gone)  # deleted later while the watch was away: no DELETED came
    cluster.observe("ADDED", {"kind": "Job", "metadata": {"name": "gone-checkup-1", "namespace": "default"}})
    clock[0] = 400.0
    arrived = patient_body(name="new")
    arrived["metadata"].update(namespace="default", resourceVersion="9")

    def list_while_an_event_arrives(plural, namespace):
        cluster.observe_object(PATIENTS, "ADDED", arrived)  # created after the list's snapshot was taken
        clock[0] = 401.0
        return MemoryCluster.list(inner, plural, namespace)

    inner.list = list_while_an_event_arrives
    assert [body["metadata"]["name"] for body in cluster.list(PATIENTS, "default")] == ["new"]
    assert cluster.get_job("default", "gone-checkup-1") is None  # the Jobs were listed with the patients


def test_an_event_that_arrives_during_a_read_is_kept():
    inner = CountingCluster()
    cluster = WatchedCluster(inner)
    job = {"kind": "Job", "metadata": {"name": "j", "namespace": "default", "resourceVersion": "2"}, "status": {}}

    def get_job_while_the_watch_delivers(namespace, name):
        cluster.observe("ADDED", job)  # the Job was created just after the API answered 404
        return None

    inner.get_job = get_job_while_the_watch_delivers
    assert cluster.get_job("default", "j") is None  # what the API said then
    inner.get_job = lambda namespace, name: pytest.fail("the watch's body was dropped: the API was asked again")
    assert cluster.get_job("default", "j")["metadata"]["resourceVersion"] == "2"


def test_a_read_that_races_a_deletion_does_not_bring_the_object_back():
    inner = CountingCluster()
    cluster = WatchedCluster(inner)
    body = inner.add(PATIENTS, patient_body())

    def get_while_the_watch_says_deleted(plural, namespace, name):
        cluster.observe_object(PATIENTS, "DELETED", body)  # the API answered, then the patient was deleted
        return body

    inner.get = get_while_the_watch_says_deleted
    assert cluster.get(PATIENTS, "default", "llama") is body  # what the API said then
    inner.get = lambda plural, namespace, name: None
    assert cluster.get(PATIENTS, "default", "llama") is None  # not a ghost kept until the next relist


def test_concurrent_reads_of_an_object_keep_the_newest_body():
    inner = CountingCluster()
    cluster = WatchedCluster(inner)
    older = {"kind": "Job", "metadata": {"name": "j", "namespace": "default", "resourceVersion": "1"}, "status": {}}
    newer = {**older, "metadata": {**older["metadata"], "resourceVersion": "2"}, "status": {"active": 1}}
    inside, release = threading.Event(), threading.Event()

    def slow_get_job(namespace, name):
        inside.set()
        release.wait(5)
        return older

    inner.get_job = slow_get_job
    reader = threading.Thread(target=cluster.get_job, args=("default", "j"))
    reader.start()
    assert inside.wait(5)
    cluster.observe("MODIFIED", newer)  # the watch is ahead of the slow read
    release.set()
    reader.join(5)
    assert cluster.get_job("default", "j")["status"] == {"active": 1}


def test_the_object_cache_keeps_the_newest_version_and_forgets_deleted_objects():
    inner = CountingCluster()
    cluster = WatchedCluster(inner)
    body = inner.add(PATIENTS, patient_body())
    newer = {**body, "metadata": {**body["metadata"], "resourceVersion": "7"}, "status": {"phase": "Diagnosed"}}
    older = {**body, "metadata": {**body["metadata"], "resourceVersion": "5"}, "status": {"phase": "Pending"}}
    cluster.observe_object(PATIENTS, "MODIFIED", newer)
    cluster.observe_object(PATIENTS, "MODIFIED", older)  # a late event never undoes a newer body
    assert cluster.get(PATIENTS, "default", "llama")["status"]["phase"] == "Diagnosed" and inner.reads == []
    cluster.observe_object(PATIENTS, "DELETED", newer)
    del inner.objects[(PATIENTS, "default", "llama")]
    assert cluster.get(PATIENTS, "default", "llama") is None and inner.reads == ["GET modelpatients/llama"]
    assert cluster.list(PATIENTS, None) == []


def test_a_job_whose_status_counts_no_pod_is_followed_without_reading_pods(settings):
    inner = CountingCluster()
    inner.add(PATIENTS, patient_body())
    for minutes in range(0, 60, 5):  # resyncs over an hour, far past progress_seconds
        clock = NOW + datetime.timedelta(minutes=minutes)
        PatientReconciler(inner, settings, clock=lambda: clock).reconcile("default", "llama")
    assert [read for read in inner.reads if read.startswith("LIST pods")] == []
    diagnosed = find_condition(inner.obj(PATIENTS, "llama")["status"]["conditions"], "Diagnosed")
    assert diagnosed["message"] == "checkup 1 (Created) started: Job llama-checkup-1"  # nothing new to say, no patch
    running(inner, "llama-checkup-1")  # the Job controller counts a pod: it is read
    PatientReconciler(inner, settings, clock=lambda: NOW).reconcile("default", "llama")
    assert [read for read in inner.reads if read.startswith("LIST pods")] == ["LIST pods of llama-checkup-1"]


def test_a_job_whose_pod_waits_is_looked_at_less_and_less_until_its_pod_counts_move_or_it_runs(settings):
    inner = CountingCluster()
    inner.add(PATIENTS, patient_body())
    job = "llama-checkup-1"

    moment = [NOW]
    reconciler = PatientReconciler(inner, settings, clock=lambda: moment[0])

    def reconcile_at(seconds: int) -> None:
        moment[0] = NOW + datetime.timedelta(seconds=seconds)
        reconciler.reconcile("default", "llama")

    def pod_reads() -> int:
        return sum(1 for read in inner.reads if read.startswith("LIST pods"))

    reconciler.reconcile("default", "llama")
    inner.jobs[("default", job)]["status"] = {"active": 1, "ready": 0}  # its pod waits for a node
    inner.job_pods[("default", job)] = [{"metadata": {"name": "p"}, "status": {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes have a GPU"}]}}]
    looks = []
    for seconds in range(0, 601, 15):  # a resync every 15 s for 10 minutes
        before = pod_reads()
        reconcile_at(seconds)
        looks += [seconds] if pod_reads() > before else []
    assert looks == [0, 15, 45, 105, 225, 465]  # every 15 s before: 41 reads
    assert find_condition(inner.obj(PATIENTS, "llama")["status"]["conditions"], "Queued")["reason"] == "Unschedulable"
    running(inner, job)
    inner.jobs[("default", job)]["status"]["ready"] = 1  # the pod got ready: the counts moved, it is read at once
    before = pod_reads()
    for seconds in (610, 625, 640, 655):  # and then every progress period while it runs, for its progress
        reconcile_at(seconds)
    assert pod_reads() == before + 4


def test_a_job_just_created_is_followed_without_reading_it_back(settings):
    inner = CountingCluster()
    cluster = WatchedCluster(inner)
    cluster.observe_object(PATIENTS, "ADDED", inner.add(PATIENTS, patient_body()))
    reconciler = PatientReconciler(cluster, settings, clock=lambda: NOW)
    reconciler.reconcile("default", "llama")  # creates the Job
    reconciler.reconcile("default", "llama")  # prompted by its own status patch, before the Job's watch event
    assert inner.created_jobs == ["llama-checkup-1"] and inner.reads == []
    stored = {**inner.jobs[("default", "llama-checkup-1")], "status": {"active": 1}}
    stored["metadata"] = {**stored["metadata"], "resourceVersion": "12"}
    cluster.observe("ADDED", stored)  # the watch's body replaces what we sent
    assert cluster.get_job("default", "llama-checkup-1")["status"] == {"active": 1}


def test_a_slim_body_keeps_what_the_reconcilers_read_and_drops_the_rest():
    patient = patient_body()
    patient["metadata"].update(managedFields=[{"manager": "kubectl"}],
                               annotations={LAST_APPLIED: "{...}", "modelhospital.io/checkup": "2"})
    kept = slim(patient)
    assert kept["metadata"]["annotations"] == {"modelhospital.io/checkup": "2"} and "managedFields" not in kept["metadata"]
    assert kept["spec"] == patient["spec"] and patient["metadata"]["annotations"][LAST_APPLIED] == "{...}"
    job = {"kind": "Job", "metadata": {"name": "j", "namespace": "default"},
           "spec": {"backoffLimit": 0, "completionMode": "Indexed", "completions": 2, "selector": {"matchLabels": {}},
                    "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
                        "volumes": [{"name": "v"}], "containers": [{"name": "stage", "image": "worker", "env": [{"name": "X"}],
                                                                    "resources": {"limits": {"memory": "8Gi"}}}]}}},
           "status": {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "PodFailurePolicy"}]}}
    oom = {"metadata": {"name": "p"}, "status": {"containerStatuses": [
        {"name": "stage", "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}}
    small = slim(job)
    assert "volumes" not in str(small) and "env" not in str(small) and small["spec"]["completions"] == 2
    outcome = results.job_outcome(small, [oom])
    assert outcome == results.job_outcome(job, [oom]) and outcome.oom_killed and "8Gi" in outcome.message


CONNECTIONS_SCRIPT = """
import urllib3.connection
from model_hospital.controller.kube import KubernetesCluster, event_manifest

opened = []
connect = urllib3.connection.HTTPConnection.connect
urllib3.connection.HTTPConnection.connect = lambda self: opened.append(1) or connect(self)
kube = KubernetesCluster.connect()
owner = {"kind": "ModelPatient", "metadata": {"name": "p", "namespace": "default", "uid": "u"}}
for index in range(10):
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"idle-{index}", "namespace": "default"}})
    kube.event(owner, "Normal", "Counted", "one more")
    kube.delete_job("default", f"idle-{index}")
    kube.delete_pods("default", f"job-name=idle-{index}")
print(len(opened))
"""


def test_requests_whose_answer_is_not_read_reuse_the_pooled_connection(loopback):
    """A create, event or delete whose answer was left unread kept its connection out of the pool: 40 requests
    opened 40 connections (a new one costs the API and the operator far more than the request)."""
    import os
    import subprocess

    from test_first_run import OPERATOR_PYTHON, ROOT, operator_environment

    operator_environment()
    done = subprocess.run([OPERATOR_PYTHON, "-c", CONNECTIONS_SCRIPT], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KUBECONFIG": str(loopback.kubeconfig), "DO_NOT_TRACK": "1",
                               "PYTHONPATH": os.pathsep.join([str(ROOT / "operator"), os.environ.get("PYTHONPATH", "")])})
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) <= 2


def test_gauges_moved_one_status_at_a_time_equal_a_count_from_scratch():
    import random
    from collections import Counter

    metrics = Metrics()
    rng = random.Random(7)
    statuses = [None, {}, {"phase": "Diagnosing"}, {"phase": "Diagnosed", "overallSeverity": "LOW",
                                                     "findings": [{"symptom": "bias", "severity": "LOW"}]},
                {"phase": "Diagnosed", "overallSeverity": "CRITICAL", "findings": [
                    {"symptom": "safety", "severity": "CRITICAL"}, {"symptom": "bias", "severity": "LOW"}]}]
    latest = {}
    for _ in range(400):
        name, status = f"p{rng.randrange(12)}", rng.choice(statuses)
        metrics.observe_patient("default", name, status)
        metrics.observe_treatment("default", name, None if status is None else {"stage": status.get("phase")})
        latest[name] = status
    alive = [status for status in latest.values() if status is not None]
    expected = Counter((status.get("overallSeverity") or "UNMEASURED", status.get("phase") or "Pending")
                       for status in alive)
    samples = {(sample.labels["severity"], sample.labels["phase"]): sample.value
               for sample in metrics.patients.collect()[0].samples}
    assert samples == {labels: float(count) for labels, count in expected.items()}  # no zero left behind
    findings = Counter((row["symptom"], row["severity"]) for status in alive for row in status.get("findings") or [])
    assert {(sample.labels["symptom"], sample.labels["severity"]): sample.value
            for sample in metrics.findings.collect()[0].samples} == {key: float(n) for key, n in findings.items()}
    stages = Counter((status.get("phase") or "pending", "") for status in alive)
    assert {(sample.labels["stage"], sample.labels["verdict"]): sample.value
            for sample in metrics.treatments.collect()[0].samples} == {key: float(n) for key, n in stages.items()}


def test_the_resync_skips_objects_an_event_reconciled_within_its_period(settings):
    _, clock, _, runtime = watched_runtime(settings)
    runtime.reconcile(PATIENTS, "default", "p0")  # a watch event
    reconciled = recorded_reconciles(runtime)
    runtime.resync_once()
    assert reconciled == ["p1", "p2"]
    clock[0] = settings.resync_seconds
    runtime.resync_once()  # a period later every object is reconciled again
    assert reconciled == ["p1", "p2", "p0", "p1", "p2"]


def test_objects_that_come_and_go_leave_nothing_behind_in_the_operator(settings):
    """Months of patients made and deleted: no lock, reconcile time or look time is kept for one that is gone."""
    inner, clock, cluster, runtime = watched_runtime(settings, patients=50)
    runtime.resync_once()
    for index in range(50):  # every checkup Job's pods wait, so each Job has a look time
        job = f"p{index}-checkup-1"
        inner.jobs[("default", job)]["status"] = {"active": 1, "ready": 0}
        cluster.observe("MODIFIED", inner.jobs[("default", job)])
    clock[0] += settings.resync_seconds
    runtime.resync_once()
    assert len(runtime.patients.follower._looked) == 50 and len(runtime._reconciled) == 50
    for index in range(50):
        name = f"p{index}"
        body = inner.obj(PATIENTS, name)
        del inner.objects[(PATIENTS, "default", name)]
        inner.jobs.pop(("default", f"{name}-checkup-1"))
        cluster.observe("DELETED", {**body, "kind": "Job", "metadata": {**body["metadata"], "name": f"{name}-checkup-1"}})
        cluster.observe_object(PATIENTS, "DELETED", body)
        runtime.reconcile(PATIENTS, "default", name)  # the deletion's event
        if index % 2:
            runtime.forget(PATIENTS, "default", name)  # half are forgotten by their event, half by the next resync
    clock[0] += settings.resync_seconds
    runtime.resync_once()
    gc.collect()
    assert (len(runtime._locks), len(runtime._reconciled)) == (0, 0)
    follower = runtime.patients.follower  # a Job whose owner went is never looked at again: its look time goes
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)  # the reconcilers' clock
    follower._due("default", "other-job", later, {"status": {"active": 1}})
    assert list(follower._looked) == [("default", "other-job")]


def test_the_real_operator_sends_no_request_once_its_patients_have_their_jobs(tmp_path):
    """benchmarks/perf/operator_scale.py at 5 patients, resync 1 s: once every diagnose Job exists, the operator
    reads nothing from the loopback API over 5 resync periods (counted by the API, by user agent; watches
    included); what it may still write is the tail of the Jobs' creation, one status patch per patient."""
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "perf"))
    import operator_scale

    if not operator_scale.OPERATOR.exists():
        pytest.skip(".venv-operator is not installed")
    figures = operator_scale.run(5, "idle", "1", timeout=120, settle=5, workdir=tmp_path)
    assert figures["served"] == 5, figures
    tail = figures["idle"].pop("PATCH modelpatients/status", 0)
    assert figures["idle"] == {} and tail <= 5, figures
