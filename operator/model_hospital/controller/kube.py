"""The few Kubernetes calls the reconcilers make, behind one small interface.

`Cluster` is what patients.py and treatments.py need; `KubernetesCluster` does it with
the official client (imported here only, at call time of `connect`), and the unit
tests give an in-memory one. Bodies are plain dicts, as the API returns them.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Protocol

from model_hospital.api.resources import GROUP, VERSION
from model_hospital.controller.jobs import STAGE_LABEL
from model_hospital.controller.launchers import LAUNCHERS
from model_hospital.controller.status import now_iso

PATIENTS = "modelpatients"
TREATMENTS = "treatments"
log = logging.getLogger("model_hospital.controller")
REFUSED_STATUSES = (400, 422)  # the API server's "this object is invalid": retrying the same object cannot help


class Refused(Exception):
    """The API server refused to create an object as it is; the message is the server's."""


class Cluster(Protocol):
    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None: ...
    def list(self, plural: str, namespace: str | None) -> list[dict[str, Any]]: ...
    def patch_status(self, plural: str, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any] | None:
        """Merge-patches the object's status with `patch` (the status fields, not wrapped)."""
    def get_job(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    def stage_jobs(self, namespace: str | None) -> list[dict[str, Any]]:
        """Every stage Job (labelled with the stage) in the namespace, or in all of them for None."""
    def pod_log(self, namespace: str, pod: str, tail_lines: int) -> str: ...
    def create(self, manifest: dict[str, Any]) -> bool: ...
    def delete_job(self, namespace: str, name: str) -> None: ...
    def delete_pods(self, namespace: str, selector: str) -> None:
        """Removes the pods a label selector finds: a finished stage's (`launchers.pod_selector`); its Job stays."""
    def event(self, owner: dict[str, Any], kind: str, reason: str, message: str) -> None: ...
    def serves(self, group: str, version: str, plural: str) -> bool:
        """Whether the API serves `plural` in `group/version` (discovery: its CRD is installed)."""
    def get_custom(self, group: str, version: str, plural: str, namespace: str, name: str) -> dict[str, Any] | None: ...
    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        """The pods a label selector finds: a stage's are `launchers.pod_selector(name, launcher)`."""
    def get_claim(self, namespace: str, name: str) -> dict[str, Any] | None: ...


def event_manifest(owner: dict[str, Any], kind: str, reason: str, message: str, now: str | None = None) -> dict[str, Any]:
    """A core/v1 Event about `owner`, as `kubectl describe` lists them."""
    metadata = owner["metadata"]
    now = now or now_iso()
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{metadata['name']}.", "namespace": metadata["namespace"]},
        "involvedObject": {"apiVersion": owner.get("apiVersion", f"{GROUP}/{VERSION}"), "kind": owner.get("kind"),
                           "name": metadata["name"], "namespace": metadata["namespace"], "uid": metadata.get("uid")},
        "reason": reason,
        "message": message[:1024],
        "type": kind,
        "source": {"component": "model-hospital-operator"},
        "reportingComponent": "model-hospital-operator",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }


class KubernetesCluster:
    """`Cluster` over the official kubernetes client; 404 is None, 409 on create is 'already there'."""

    def __init__(self, api_client) -> None:
        from kubernetes import client

        self._client = client
        self.custom = client.CustomObjectsApi(api_client)
        self.batch = client.BatchV1Api(api_client)
        self.core = client.CoreV1Api(api_client)

    @classmethod
    def connect(cls) -> "KubernetesCluster":
        """A cluster client from the service account in a pod, else from $KUBECONFIG read now (not at import)."""
        from kubernetes import client, config

        configuration = client.Configuration()
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=configuration)
        else:
            config.load_kube_config(config_file=os.environ.get("KUBECONFIG"), client_configuration=configuration)
        configuration.connection_pool_maxsize = 32
        return cls(client.ApiClient(configuration))

    def _call(self, method, *args, **kwargs) -> dict[str, Any] | None:
        try:
            response = method(*args, _preload_content=False, **kwargs)
        except self._client.ApiException as error:
            if error.status == 404:
                return None
            raise
        return json.loads(response.data or b"null")

    def get(self, plural, namespace, name):
        return self._call(self.custom.get_namespaced_custom_object, GROUP, VERSION, namespace, plural, name)

    def list(self, plural, namespace):
        if namespace:
            found = self._call(self.custom.list_namespaced_custom_object, GROUP, VERSION, namespace, plural)
        else:
            found = self._call(self.custom.list_cluster_custom_object, GROUP, VERSION, plural)
        return (found or {}).get("items", [])

    def patch_status(self, plural, namespace, name, patch):
        """Merge-patches status (RFC 7386: null removes a key, lists are replaced)."""
        return self._call(self.custom.patch_namespaced_custom_object_status, GROUP, VERSION, namespace, plural, name,
                          {"status": patch}, _content_type="application/merge-patch+json")

    def get_job(self, namespace, name):
        return self._call(self.batch.read_namespaced_job, name, namespace)

    def stage_jobs(self, namespace):
        if namespace:
            found = self._call(self.batch.list_namespaced_job, namespace, label_selector=STAGE_LABEL)
        else:
            found = self._call(self.batch.list_job_for_all_namespaces, label_selector=STAGE_LABEL)
        return (found or {}).get("items", [])

    def pods(self, namespace, selector):
        found = self._call(self.core.list_namespaced_pod, namespace, label_selector=selector)
        return (found or {}).get("items", [])

    def serves(self, group, version, plural):
        found = self._call(self.custom.get_api_resources, group, version)
        return any(resource.get("name") == plural for resource in (found or {}).get("resources") or [])

    def get_claim(self, namespace, name):
        return self._call(self.core.read_namespaced_persistent_volume_claim, name, namespace)

    def get_custom(self, group, version, plural, namespace, name):
        return self._call(self.custom.get_namespaced_custom_object, group, version, namespace, plural, name)

    def pod_log(self, namespace, pod, tail_lines):
        response = self.core.read_namespaced_pod_log(pod, namespace, container="stage", tail_lines=tail_lines,
                                                     limit_bytes=16384, _preload_content=False)
        return response.data.decode("utf-8", "replace")

    def create(self, manifest):
        namespace = manifest["metadata"]["namespace"]
        create = {"Job": self.batch.create_namespaced_job, "ConfigMap": self.core.create_namespaced_config_map,
                  "Service": self.core.create_namespaced_service,
                  "Event": self.core.create_namespaced_event}.get(manifest["kind"])
        try:
            if create is None:  # a custom resource (a JobSet, a TrainJob): its group and version are in apiVersion
                group, version = manifest["apiVersion"].split("/")
                plural = LAUNCHERS[manifest["kind"]].plural
                _release(self.custom.create_namespaced_custom_object(group, version, namespace, plural, manifest,
                                                                     _preload_content=False))
            else:
                _release(create(namespace, manifest, _preload_content=False))
        except self._client.ApiException as error:
            if error.status == 409:
                return False
            if error.status in REFUSED_STATUSES:
                raise Refused(_server_message(error)) from None
            raise
        return True

    def delete_pods(self, namespace, selector):
        _release(self.core.delete_collection_namespaced_pod(namespace, label_selector=selector,
                                                            _preload_content=False))

    def delete_job(self, namespace, name):
        try:
            _release(self.batch.delete_namespaced_job(name, namespace, propagation_policy="Background",
                                                      _preload_content=False))
        except self._client.ApiException as error:
            if error.status != 404:
                raise

    def event(self, owner, kind, reason, message):
        try:
            self.create(event_manifest(owner, kind, reason, message))
        except Exception as error:  # noqa: BLE001 - an event that cannot be posted must not stop a reconcile
            log.warning("could not post event %s on %s: %s", reason, owner["metadata"]["name"], error)


def _release(response) -> None:
    """Reads an answer we do not need to its end, so its connection goes back to the pool (an unread answer
    costs a new connection on the next request: 12 times the time of a request that reuses one)."""
    response.read()
    response.release_conn()


def _server_message(error) -> str:
    """The `message` of the Status an API error carries, else its reason."""
    try:
        return json.loads(error.body or "{}").get("message") or str(error.reason)
    except (TypeError, ValueError):
        return str(error.reason)
