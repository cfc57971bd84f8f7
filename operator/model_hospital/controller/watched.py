"""The watches' state: patients, treatments and stage Jobs as kopf's watches last delivered them.

`WatchedCluster` wraps a `kube.Cluster`. kopf's watches feed it every event
(`observe`, `observe_object`), our own status patches count as events too (their
answer is the newest body), and the reconcilers and the resync read from it, so an
idle object costs no request. A newer resourceVersion always wins, and a body read
from the API never replaces one an event brought meanwhile.

A watch can miss a deletion: kopf lists again after a lost stream (410 Gone), and a
list says nothing about what went away. So every `relist_seconds` the resync's
`list` asks the API for the whole kind (patients with their stage Jobs, treatments),
one request per kind whatever the number of objects, and forgets what the list no
longer holds. Reading every object again on its own would cost a request per object.

Only what the reconcilers read is kept (`slim`): no managedFields, no copy of the
applied manifest, and of a Job's pod template only the containers' resources.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any, Callable

from model_hospital.controller.kube import PATIENTS

JOBS = "jobs"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

Key = tuple[str, str, str]  # (plural, namespace, name)


def slim(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of an object with what the reconcilers read: without managedFields and kubectl's copy of the
    applied manifest, and for a Job without its pod template but the containers' names and resources."""
    metadata = {key: value for key, value in body.get("metadata", {}).items() if key != "managedFields"}
    annotations = metadata.get("annotations")
    if annotations and LAST_APPLIED in annotations:
        metadata["annotations"] = {key: value for key, value in annotations.items() if key != LAST_APPLIED}
    kept = {**body, "metadata": metadata}
    if body.get("kind") == "Job" and isinstance(body.get("spec"), dict) and "template" in body["spec"]:
        containers = (((body["spec"].get("template") or {}).get("spec") or {}).get("containers")) or []
        kept["spec"] = {**{key: value for key, value in body["spec"].items() if key not in ("template", "selector")},
                        "template": {"spec": {"containers": [{"name": container.get("name"),
                                                              "resources": container.get("resources") or {}}
                                                             for container in containers]}}}
    return copy.deepcopy(kept)


class WatchedCluster:
    """A `Cluster` answering `get`, `get_job` and `list` from the watches' state; the rest goes to `inner`."""

    def __init__(self, inner, relist_seconds: float = 300.0, clock: Callable[[], float] | None = None) -> None:
        self.inner = inner
        self.relist_seconds = relist_seconds
        self.clock = clock or time.monotonic
        self._bodies: dict[Key, tuple[float, dict[str, Any]]] = {}  # key -> (when stored, slim body)
        self._listed: dict[tuple[str, str | None], float] = {}  # (plural, namespace) -> when last listed
        self._deleted: dict[Key, float] = {}  # key -> when a DELETED event came (a read racing it must not revive it)
        self._guard = threading.Lock()
        self._relisting = threading.Lock()

    # --- what the watches deliver ---------------------------------------------------------------

    def observe(self, event_type: str | None, body: dict[str, Any]) -> None:
        """A stage Job event from the watch: the newest body, or DELETED."""
        self.observe_object(JOBS, event_type, body)

    def observe_object(self, plural: str, event_type: str | None, body: dict[str, Any]) -> None:
        """A patient, treatment or Job event from the watch: the newest body, or DELETED."""
        metadata = body["metadata"]
        key = (plural, metadata["namespace"], metadata["name"])
        with self._guard:
            if event_type == "DELETED":
                self._bodies.pop(key, None)
                self._deleted[key] = self.clock()
            elif not _older(body, (self._bodies.get(key) or (0.0, None))[1]):
                self._bodies[key] = (self.clock(), slim(body))

    # --- reads --------------------------------------------------------------------------------

    def _read_through(self, key: Key, read: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
        """The kept body, else the API's answer (kept unless an event brought the object meanwhile)."""
        with self._guard:
            kept = self._bodies.get(key)
            if kept is not None:
                return copy.deepcopy(kept[1])
            asked = self.clock()
        found = read()
        if found is not None:
            self._keep_if_absent(key, found, asked)
        return found

    def _keep_if_absent(self, key: Key, body: dict[str, Any], since: float) -> None:
        """Keeps a body from the API or our own manifest, unless a watch event brought the object, or said it was
        deleted, since `since` (the event is newer than the body)."""
        with self._guard:
            if self._deleted.get(key, float("-inf")) < since:
                self._bodies.setdefault(key, (self.clock(), slim(body)))

    def get(self, plural, namespace, name):
        return self._read_through((plural, namespace, name), lambda: self.inner.get(plural, namespace, name))

    def get_job(self, namespace, name):
        return self._read_through((JOBS, namespace, name), lambda: self.inner.get_job(namespace, name))

    def list(self, plural, namespace):
        """The objects of a kind, from the watches' state (listed from the API at first and every relist_seconds)."""
        self._relist_if_due(plural, namespace)
        with self._guard:
            return [copy.deepcopy(body) for (kind, ns, _), (_, body) in sorted(self._bodies.items())
                    if kind == plural and namespace in (None, ns)]

    def _relist_if_due(self, plural: str, namespace: str | None) -> None:
        with self._relisting:
            last = max(self._listed.get((plural, namespace), float("-inf")), self._listed.get((plural, None), float("-inf")))
            if self.clock() - last < self.relist_seconds:  # a list of every namespace counts for each one
                return
            started = self.clock()
            self._replace(plural, namespace, self.inner.list(plural, namespace), started)
            if plural == PATIENTS:  # the stage Jobs go with the patients (the resync lists those first)
                self._replace(JOBS, namespace, self.inner.stage_jobs(namespace), started)
            with self._guard:
                self._listed[(plural, namespace)] = started
                for key, when in list(self._deleted.items()):  # reads that began before the list are long done
                    if when < started - self.relist_seconds:
                        del self._deleted[key]

    def _replace(self, plural: str, namespace: str | None, items: list[dict[str, Any]], started: float) -> None:
        """Keeps a fresh list of a kind: what it holds (unless an event brought newer), and forgets what it does
        not hold and was stored before the list began (an event after that is newer than the list)."""
        listed = {(plural, item["metadata"]["namespace"], item["metadata"]["name"]): item for item in items}
        with self._guard:
            for key, (stored, _) in list(self._bodies.items()):
                if key[0] == plural and namespace in (None, key[1]) and key not in listed and stored < started:
                    del self._bodies[key]
            for key, item in listed.items():
                if not _older(item, (self._bodies.get(key) or (0.0, None))[1]):
                    self._bodies[key] = (started, slim(item))

    # --- writes that change what is kept ---------------------------------------------------------

    def patch_status(self, plural, namespace, name, patch):
        body = self.inner.patch_status(plural, namespace, name, patch)
        if body:
            self.observe_object(plural, "MODIFIED", body)
        return body

    def create(self, manifest):
        """Creates an object; a Job we made is kept as we sent it until its watch event brings the stored one (the
        owner's next reconcile, prompted by its own status patch, often comes first)."""
        asked = self.clock()
        created = self.inner.create(manifest)
        if created and manifest.get("kind") == "Job":
            metadata = manifest["metadata"]
            self._keep_if_absent((JOBS, metadata["namespace"], metadata["name"]), manifest, asked)
        return created

    def delete_job(self, namespace, name):
        with self._guard:
            self._bodies.pop((JOBS, namespace, name), None)
        self.inner.delete_job(namespace, name)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _older(body: dict[str, Any], than: dict[str, Any] | None) -> bool:
    """Whether `body` is an older version of the object than `than` (by numeric resourceVersion)."""
    if than is None:
        return False
    new, old = body["metadata"].get("resourceVersion"), than["metadata"].get("resourceVersion")
    return bool(new and old and new.isdigit() and old.isdigit() and int(new) < int(old))
