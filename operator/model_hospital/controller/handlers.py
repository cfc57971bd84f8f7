"""The kopf handlers: every watch event and a periodic resync call the reconcilers.

The reconcilers are level-driven (they read the object and its Job and take the next
step), so the handlers only say *which* object to look at: a patient or treatment
event names itself, a stage Job event names its owner through its controller
ownerReference (labels may carry a shortened name). Job events
and patient and treatment events also refresh the cache (`WatchedCluster`) the
reconcilers read from, so a resync of idle objects asks the API nothing. kopf
stores nothing in the objects for event handlers; all state is in our status.
The wiring and the per-object locks are `runtime.Runtime` (no kopf there, so it is
tested without it).
"""

from __future__ import annotations

import threading

import kopf

from model_hospital.api.resources import GROUP, VERSION
from model_hospital.controller.jobs import STAGE_LABEL, owner_of_job
from model_hospital.controller.kube import PATIENTS, TREATMENTS, KubernetesCluster
from model_hospital.controller.metrics import Metrics
from model_hospital.controller.runtime import Runtime
from model_hospital.controller.settings import settings_from_env
from model_hospital.controller.watched import WatchedCluster

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
    # A stream silent past the server's timeout is a dead connection: reconnect, or the watches' state goes stale.
    settings.watching.client_timeout = 330
    metrics = Metrics()
    metrics.serve(operator_settings.metrics_port)
    RUNTIME = Runtime(operator_settings, WatchedCluster(KubernetesCluster.connect()), metrics)
    threading.Thread(target=RUNTIME.resync, name="resync", daemon=True).start()


@kopf.on.cleanup()
def cleanup(**_) -> None:
    if RUNTIME is not None:
        RUNTIME.stopping.set()


@kopf.on.event(GROUP, VERSION, PATIENTS)
def patient_event(event, name, namespace, **_) -> None:
    RUNTIME.cluster.observe_object(PATIENTS, event.get("type"), event["object"])  # the reconcile reads it from here
    RUNTIME.reconcile(PATIENTS, namespace, name)
    if event.get("type") == "DELETED":
        RUNTIME.forget(PATIENTS, namespace, name)


@kopf.on.event(GROUP, VERSION, TREATMENTS)
def treatment_event(event, name, namespace, **_) -> None:
    RUNTIME.cluster.observe_object(TREATMENTS, event.get("type"), event["object"])
    RUNTIME.reconcile(TREATMENTS, namespace, name)
    if event.get("type") == "DELETED":
        RUNTIME.forget(TREATMENTS, namespace, name)


@kopf.on.event("batch", "v1", "jobs", labels={STAGE_LABEL: kopf.PRESENT})
def stage_job_event(event, namespace, **_) -> None:
    RUNTIME.cluster.observe(event.get("type"), event["object"])  # the reconcile below reads the Job from here
    owner = owner_of_job(event["object"])
    if owner:
        RUNTIME.reconcile(owner[0], namespace, owner[1])
