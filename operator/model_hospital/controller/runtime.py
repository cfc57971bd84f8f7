"""The operator's wiring without kopf: the reconcilers, the per-object locks and the resync.

Calls for one object are serialised by a lock, as events for an owner and for its
Jobs arrive on different kopf workers. A lock lives while a call holds or waits for it
(a weak map), and the time of an object's last reconcile is forgotten when the object
goes, so an operator that sees objects come and go for months keeps nothing of them.
The resync reads the objects from the cluster it is given: with
`watched.WatchedCluster`, from the watches' state, so idle objects cost no API request.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from model_hospital.controller.kube import PATIENTS, TREATMENTS
from model_hospital.controller.metrics import Metrics
from model_hospital.controller.patients import PatientReconciler
from model_hospital.controller.settings import OperatorSettings
from model_hospital.controller.treatments import TreatmentReconciler

log = logging.getLogger("model_hospital.controller")


class Runtime:
    """The operator's wiring: one cluster client, the reconcilers, the metrics and the per-object locks."""

    def __init__(self, settings: OperatorSettings, cluster, metrics: Metrics, clock=time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.cluster = cluster
        self.metrics = metrics
        self.patients = PatientReconciler(cluster, settings, metrics)
        self.treatments = TreatmentReconciler(cluster, settings, metrics)
        self._locks: weakref.WeakValueDictionary[tuple[str, str, str], threading.Lock] = weakref.WeakValueDictionary()
        self._guard = threading.Lock()
        self._reconciled: dict[tuple[str, str, str], float] = {}  # when each object was last reconciled without error
        self.stopping = threading.Event()

    def reconcile(self, plural: str, namespace: str, name: str) -> None:
        """Reconciles one object under its lock; errors are logged and counted, never raised."""
        key = (plural, namespace, name)
        with self._guard:  # the same lock for every call that holds or waits for one: a live lock stays in the map
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
        reconciler = self.patients if plural == PATIENTS else self.treatments
        with lock:
            try:
                checkup_ended = reconciler.reconcile(namespace, name)
            except Exception:  # noqa: BLE001 - the next event or resync tries again
                self.metrics.reconcile_errors.labels(kind=plural).inc()
                log.exception("reconciling %s %s/%s failed", plural, namespace, name)
                return
            self._reconciled[(plural, namespace, name)] = self.clock()
        if plural == PATIENTS and checkup_ended:
            self.wake_treatments(namespace, name)

    def forget(self, plural: str, namespace: str, name: str) -> None:
        """Forgets a deleted object (its watch said so): its next reconcile, if it comes back, is not skipped."""
        self._reconciled.pop((plural, namespace, name), None)

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
            self.resync_once()

    def resync_once(self) -> None:
        """One pass over every patient and treatment not reconciled within the resync period (a burst of events
        has done their work); with a watched cluster, idle objects cost no request. What no list holds any more
        is forgotten (a deletion whose event was missed)."""
        listed: set[tuple[str, str, str]] = set()
        complete = True
        for plural in (PATIENTS, TREATMENTS):
            for namespace in self.settings.namespaces or [None]:
                try:
                    items = self.cluster.list(plural, namespace)
                except Exception:  # noqa: BLE001
                    self.metrics.reconcile_errors.labels(kind=plural).inc()
                    log.exception("listing %s failed", plural)
                    complete = False
                    continue
                for item in items:
                    if self.stopping.is_set():
                        return
                    key = (plural, item["metadata"]["namespace"], item["metadata"]["name"])
                    listed.add(key)
                    if self.clock() - self._reconciled.get(key, float("-inf")) >= self.settings.resync_seconds:
                        self.reconcile(*key)  # else an event reconciled it within the period: nothing is missed
        if complete:
            for key in set(self._reconciled) - listed:
                self._reconciled.pop(key, None)
