"""The loopback API's object store: resourceVersions, the watch event log, lists, errors and deletion.

A mixin of ``LoopbackKubeAPI`` (tests/harness/kubeapi.py) over kmock's object
store with per-object history: stamping and storing objects, emitting their
watch events, listing them through label and field selectors, the ``Status``
errors the API server answers with, and deletion with finalizers and the
garbage collector's cascade through ``ownerReferences``.
"""

import copy
import datetime
import uuid
from collections.abc import Callable
from typing import Any

from kmock._internal import references

from tests.harness import selectors


class ApiError(Exception):
    """A failure the API server reports as a ``Status`` object."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict[str, Any]:
        """Return the ``Status`` body the API server sends for this failure."""
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def now_rfc3339() -> str:
    """Return the current time as the API server writes timestamps (RFC 3339, seconds, ``Z``)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ObjectStore:
    """The object store, its event log and deletion, as a mixin of ``LoopbackKubeAPI``."""

    @staticmethod
    def _qualified(res: references.resource) -> str:
        return f"{res.plural}.{res.group}" if res.group else str(res.plural)

    def _qualified_kind(self, res: references.resource) -> str:
        kind = self._resources[res].kind or str(res.plural)
        return f"{kind}.{res.group}" if res.group else kind

    def _not_found(self, res: references.resource, name: str) -> ApiError:
        return ApiError(404, "NotFound", f'{self._qualified(res)} "{name}" not found',
                        {"name": name, "group": res.group, "kind": res.plural})

    def _conflict(self, res: references.resource, name: str) -> ApiError:
        return ApiError(409, "Conflict",
                        f'Operation cannot be fulfilled on {self._qualified(res)} "{name}": the object has been '
                        "modified; please apply your changes to the latest version and try again",
                        {"name": name, "group": res.group, "kind": res.plural})

    def _invalid(self, res: references.resource, name: str, causes: list[dict[str, str]]) -> ApiError:
        texts = [f"{cause['field']}: {cause['message']}" if cause.get("field") else cause["message"] for cause in causes]
        summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
        kind = self._resources[res].kind or str(res.plural)
        return ApiError(422, "Invalid", f'{self._qualified_kind(res)} "{name}" is invalid: {summary}',
                        {"name": name, "group": res.group, "kind": kind, "causes": causes})

    # ---- the store -------------------------------------------------------------------------

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _current(self, res: references.resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        key = (res, namespace, name)
        if key not in self._objects or self._objects[key].deleted:
            return None
        return self._objects[key].raw

    def _require(self, res: references.resource, info: references.ResourceInfo, namespace: str | None, name: str) -> dict[str, Any]:
        obj = self._current(res, namespace if info.namespaced else None, name)
        if obj is None:
            raise self._not_found(res, name)
        return copy.deepcopy(obj)

    def _emit(self, res: references.resource, event_type: str, obj: dict[str, Any]) -> None:
        rv = int(obj["metadata"]["resourceVersion"])
        event = (rv, res, event_type, copy.deepcopy(obj))
        self._event_log.append(event)
        while len(self._event_log) > self.event_log_size:
            self._log_floor = self._event_log.popleft()[0]
        for queue in list(self._watchers):
            queue.put_nowait(event)

    def _store_new(self, res: references.resource, namespace: str | None, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.update(resourceVersion=self._next_rv(), creationTimestamp=now_rfc3339())
        meta.setdefault("generation", 1)
        key = (res, namespace, meta["name"])
        if key in self._objects:
            self._objects[key].create(copy.deepcopy(obj))
        else:
            self._objects[key] = copy.deepcopy(obj)
        self._emit(res, "ADDED", obj)
        return obj

    def _store_update(self, res: references.resource, namespace: str | None, obj: dict[str, Any]) -> dict[str, Any]:
        obj["metadata"]["resourceVersion"] = self._next_rv()
        self._objects[res, namespace, obj["metadata"]["name"]].history.append(copy.deepcopy(obj))
        self._emit(res, "MODIFIED", obj)
        return obj

    def _matching(self, res: references.resource, namespace: str | None, params: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
        try:
            labels = selectors.label_selector(params.get("labelSelector"))
            fields = selectors.field_selector(params.get("fieldSelector"))
        except selectors.SelectorError as error:
            raise ApiError(400, "BadRequest", str(error)) from None
        return lambda obj: (namespace is None or obj["metadata"].get("namespace") == namespace) and labels(obj) and fields(obj)

    def _objects_of(self, res: references.resource) -> list[dict[str, Any]]:
        return [obj.raw for (key_res, _, _), obj in self._objects.items() if key_res == res and not obj.deleted]

    def _list(self, res: references.resource, info: references.ResourceInfo, namespace: str | None, params: dict[str, str]) -> dict[str, Any]:
        matches = self._matching(res, namespace, params)
        items = sorted((copy.deepcopy(obj) for obj in self._objects_of(res) if matches(obj)),
                       key=lambda obj: (obj["metadata"].get("namespace") or "", obj["metadata"]["name"]))
        kind = info.kind or (res.plural or "").capitalize()
        return {"kind": f"{kind}List", "apiVersion": f"{res.group}/{res.version}" if res.group else res.version,
                "metadata": {"resourceVersion": str(self._rv)}, "items": items}

    # ---- deletion and garbage collection -------------------------------------------------

    def _delete(self, res: references.resource, info: references.ResourceInfo, namespace: str | None, name: str,
                options: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        obj = self._require(res, info, namespace, name)
        policy = options.get("propagationPolicy") or params.get("propagationPolicy") or "Background"
        if params.get("dryRun") or options.get("dryRun"):
            return obj
        if obj["metadata"].get("finalizers"):
            if not obj["metadata"].get("deletionTimestamp"):
                obj["metadata"]["deletionTimestamp"] = now_rfc3339()
                obj["metadata"]["deletionGracePeriodSeconds"] = 0
                self._normalize_builtin(res, obj)
                obj = self._store_update(res, namespace, obj)
            return copy.deepcopy(obj)
        self._remove(res, namespace, obj, {"propagationPolicy": policy})
        return obj

    def _remove(self, res: references.resource, namespace: str | None, obj: dict[str, Any], options: dict[str, Any]) -> None:
        """Remove an object for good, then its dependents, the CRs of a CRD, or a namespace's content."""
        gone = copy.deepcopy(obj)
        gone["metadata"]["resourceVersion"] = self._next_rv()
        self._objects[res, namespace, obj["metadata"]["name"]].delete()
        self._emit(res, "DELETED", gone)
        if res == references.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions"):
            self._unregister_crd(obj["metadata"]["name"], delete_objects=True)
        if res == references.resource("", "v1", "namespaces"):
            for (key_res, key_ns, key_name), item in list(self._objects.items()):
                if key_ns == obj["metadata"]["name"] and not item.deleted:
                    self._remove(key_res, key_ns, item.raw, {})
        self._collect_dependents(obj["metadata"]["uid"], orphan=options.get("propagationPolicy") == "Orphan")

    def _live_uids(self) -> set[str]:
        return {item.raw["metadata"].get("uid") for item in self._objects.values() if not item.deleted}

    def _collect_dependents(self, owner_uid: str, orphan: bool) -> None:
        """Delete (or orphan) every object whose ownerReferences name a removed owner, as the GC does."""
        live = self._live_uids()
        for (key_res, key_ns, key_name), item in list(self._objects.items()):
            if item.deleted:
                continue
            dependent = item.raw
            refs = dependent["metadata"].get("ownerReferences") or []
            if not any(ref.get("uid") == owner_uid for ref in refs):
                continue
            if orphan:
                kept = [ref for ref in refs if ref.get("uid") != owner_uid]
                updated = copy.deepcopy(dependent)
                updated["metadata"]["ownerReferences"] = kept
                if not kept:
                    del updated["metadata"]["ownerReferences"]
                self._store_update(key_res, key_ns, updated)
            elif not any(ref.get("uid") in live for ref in refs):
                if key_res in self._resources:
                    self._delete(key_res, self._resources[key_res], key_ns, key_name, {}, {})
                else:
                    self._remove(key_res, key_ns, dependent, {})
