"""The kopf handlers: every watch event and a periodic resync call the reconcilers.

The reconcilers are level-driven (they read the object and its Job and take the next
step), so the handlers only say *which* object to look at: a patient or treatment
event names itself, a stage Job event names its owner through its controller
ownerReference (labels may carry a shortened name). Job events
also refresh the Job cache (`WatchedCluster`) the reconcilers read Jobs from, so a
resync of a waiting owner asks the API nothing about its Job. kopf
stores nothing in the objects for event handlers; all state is in our status.
Calls for one object are serialised by a lock, as events for an owner and for its
Jobs arrive on different kopf workers.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict

import kopf

from model_hospital.api.resources import GROUP, VERSION
from model_hospital.controller.jobs import STAGE_LABEL, owner_of_job
from model_hospital.controller.kube import PATIENTS, TREATMENTS, KubernetesCluster, WatchedCluster
from model_hospital.controller.metrics import Metrics
from model_hospital.controller.patients import PatientReconciler
from model_hospital.controller.settings import OperatorSettings, settings_from_env
from model_hospital.controller.treatments import TreatmentReconciler

log = logging.getLogger("model_hospital.controller")


class Runtime:
    """The operator's wiring: one cluster client, the reconcilers, the metrics and the per-object locks."""

    def __init__(self, settings: OperatorSettings, cluster, metrics: Metrics) -> None:
        self.settings = settings
        self.cluster = cluster
        self.metrics = metrics
        self.patients = PatientReconciler(cluster, settings, metrics)
        self.treatments = TreatmentReconciler(cluster, settings, metrics)
        self._locks: dict[tuple[str, str, str], threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()
        self.stopping = threading.Event()

    def reconcile(self, plural: str, namespace: str, name: str) -> None:
        """Reconciles one object under its lock; errors are logged and counted, never raised."""
        with self._guard:
            lock = self._locks[(plural, namespace, name)]
        reconciler = self.patients if plural == PATIENTS else self.treatments
        with lock:
            try:
                checkup_ended = reconciler.reconcile(namespace, name)
            except Exception:  # noqa: BLE001 - the next event or resync tries again
                self.metrics.reconcile_errors.labels(kind=plural).inc()
                log.exception("reconciling %s %s/%s failed", plural, namespace, name)
                return
        if plural == PATIENTS and checkup_ended:
            self.wake_treatments(namespace, name)

    def wake_treatments(self, namespace: str, patient: str) -> None:
        """Reconciles the treatments of a patient whose checkup just ended (they may be waiting for it)."""
        try:
            treatments = self.cluster.list(TREATMENTS, namespace)
        except Exception:  # noqa: BLE001 - the resync will get to them
            log.exception("listing treatments of %s/%s failed", namespace, patient)
            return
        for item in treatments:
            if ((item.get("spec") or {}).get("patientRef") or {}).get("name") == patient:
                self.reconcile(TREATMENTS, namespace, item["metadata"]["name"])

    def resync(self) -> None:
        """Reconciles every patient and treatment in the watched namespaces, every resync period."""
        while not self.stopping.wait(self.settings.resync_seconds):
            for plural in (PATIENTS, TREATMENTS):
                for namespace in self.settings.namespaces or [None]:
                    try:
                        items = self.cluster.list(plural, namespace)
                    except Exception:  # noqa: BLE001
                        self.metrics.reconcile_errors.labels(kind=plural).inc()
                        log.exception("listing %s failed", plural)
                        continue
                    for item in items:
                        if self.stopping.is_set():
                            return
                        self.reconcile(plural, item["metadata"]["namespace"], item["metadata"]["name"])


RUNTIME: Runtime | None = None


@kopf.on.login()
def login(**kwargs):
    """Credentials from the pod's service account, else from $KUBECONFIG as it is now."""
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


@kopf.on.startup()
def startup(settings: kopf.OperatorSettings, **_) -> None:
    global RUNTIME
    operator_settings = settings_from_env()
    settings.posting.enabled = False  # our reconcilers post the events that tell the story
    settings.execution.max_workers = 16
    settings.watching.server_timeout = 300
    metrics = Metrics()
    metrics.serve(operator_settings.metrics_port)
    RUNTIME = Runtime(operator_settings, WatchedCluster(KubernetesCluster.connect()), metrics)
    threading.Thread(target=RUNTIME.resync, name="resync", daemon=True).start()


@kopf.on.cleanup()
def cleanup(**_) -> None:
    if RUNTIME is not None:
        RUNTIME.stopping.set()


@kopf.on.event(GROUP, VERSION, PATIENTS)
def patient_event(name, namespace, **_) -> None:
    RUNTIME.reconcile(PATIENTS, namespace, name)


@kopf.on.event(GROUP, VERSION, TREATMENTS)
def treatment_event(name, namespace, **_) -> None:
    RUNTIME.reconcile(TREATMENTS, namespace, name)


@kopf.on.event("batch", "v1", "jobs", labels={STAGE_LABEL: kopf.PRESENT})
def stage_job_event(event, namespace, **_) -> None:
    RUNTIME.cluster.observe(event.get("type"), event["object"])  # the reconcile below reads the Job from here
    owner = owner_of_job(event["object"])
    if owner:
        RUNTIME.reconcile(owner[0], namespace, owner[1])
