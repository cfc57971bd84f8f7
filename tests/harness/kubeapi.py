"""A loopback Kubernetes API faithful enough for kubectl, kopf and the operator's tests.

Built on kmock's ``KubernetesEmulator``: its aiohttp server, the reaction DSL
for fault injection (user reactions such as ``api['get /version'] << {...}`` win
over everything here), the object store with per-object history
(``api.objects[resource, namespace, name].history``), the request log and the
bundled list of built-in resources. Everything kmock serves as a fallback is
replaced by ``_serve``, which behaves like a real API server where the project
depends on it (see ../shared/notes/kubernetes-test-harness.md, "What the
loopback API must add to kmock").

Not emulated: server-side-apply field ownership and managedFields, pagination,
admission, CEL rules, the scale subresource, aggregated discovery, conversion
between CRD versions (each served version keeps its own objects).
"""

import asyncio
import copy
import datetime
import hashlib
import json
import random
import re
import string
import uuid
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp.web
import attrs
import jsonpatch
import kmock
import yaml
from kmock._internal import apps, parsing, references, rendering

from tests.harness import protobuf
from tests.harness import schema as crd_schema
from tests.harness import selectors

SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T00:00:00Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# How many past watch events a watch can resume from; older resourceVersions get 410 Expired.
EVENT_LOG_SIZE = 20000

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

# Columns the API server prints for built-ins the project's tests look at (others: Name, Age).
BUILTIN_COLUMNS: dict[str, list[dict[str, Any]]] = {
    "pods": [
        {"name": "Ready", "type": "string"}, {"name": "Status", "type": "string"},
        {"name": "Restarts", "type": "string"}, {"name": "Age", "type": "string"},
    ],
    "jobs": [
        {"name": "Status", "type": "string"}, {"name": "Completions", "type": "string"},
        {"name": "Duration", "type": "string"}, {"name": "Age", "type": "string"},
    ],
    "namespaces": [
        {"name": "Status", "type": "string", "jsonPath": ".status.phase"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
}
DEFAULT_COLUMNS = [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]


def _job_cells(job: dict[str, Any]) -> list[Any]:
    """Return the STATUS, COMPLETIONS, DURATION and AGE cells kubectl 1.32 shows for a Job."""
    status, spec = job.get("status") or {}, job.get("spec") or {}
    true = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
    state = ("Complete" if "Complete" in true else "Failed" if "Failed" in true else "Suspended" if "Suspended" in true
             else "FailureTarget" if "FailureTarget" in true else "Running")
    completions = f"{status.get('succeeded') or 0}/{spec.get('completions', 1)}"
    duration = ""
    if status.get("startTime"):
        end_text = status.get("completionTime")
        end = datetime.datetime.fromisoformat(end_text.replace("Z", "+00:00")) if end_text else None
        duration = selectors.age(status["startTime"], end)
    return [state, completions, duration, selectors.age(job["metadata"].get("creationTimestamp"))]


def _pod_cells(pod: dict[str, Any]) -> list[Any]:
    """Return the READY, STATUS, RESTARTS and AGE cells kubectl shows for a Pod."""
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or []) or len(containers)
    ready = sum(1 for c in containers if c.get("ready"))
    shown = status.get("reason") or status.get("phase") or "Pending"
    for container in containers:
        state = container.get("state") or {}
        if "terminated" in state and state["terminated"].get("reason"):
            shown = state["terminated"]["reason"]
        elif "waiting" in state and state["waiting"].get("reason"):
            shown = state["waiting"]["reason"]
    if status.get("reason"):
        shown = status["reason"]
    restarts = sum(int(c.get("restartCount") or 0) for c in containers)
    return [f"{ready}/{total}", shown, restarts, selectors.age(pod["metadata"].get("creationTimestamp"))]


COMPUTED_COLUMNS = {"jobs": _job_cells, "pods": _pod_cells}


FAULT_REASONS = {409: "AlreadyExists", 500: "InternalError", 503: "ServiceUnavailable"}  # of fail_next's answers


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


def _fix_namespace_paths(original: Callable[[str], parsing.ParsedPath]) -> Callable[[str], parsing.ParsedPath]:
    """Return kmock's path parser fixed for ``/api/v1/namespaces[/NAME[/SUB]]`` (notes M8)."""

    def parse_path(path: str) -> parsing.ParsedPath:
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "v1"] and len(parts) >= 3 and parts[2] == "namespaces":
            rest = parts[3:]
            if len(rest) <= 1 or rest[1] in ("status", "finalize"):
                return parsing.ParsedPath(
                    "", "v1", "namespaces", None, rest[0] if rest else None, "/".join(rest[1:]) or None
                )
        return original(path)

    parse_path.fixed = True  # type: ignore[attr-defined]
    return parse_path


if not getattr(parsing.parse_path, "fixed", False):
    parsing.parse_path = _fix_namespace_paths(parsing.parse_path)


def now_rfc3339() -> str:
    """Return the current time as the API server writes timestamps (RFC 3339, seconds, ``Z``)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_patch(target: Any, patch: Any) -> Any:
    """Return ``target`` with an RFC 7386 JSON merge patch applied."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Return ``target`` with a strategic merge patch applied, approximated for built-ins.

    Lists of objects that all carry ``name`` are merged by name (containers, env,
    volumes, volumeMounts); other lists are replaced; ``$``-directives are dropped.
    """
    if isinstance(patch, list) and isinstance(target, list):
        if patch and all(isinstance(item, dict) and "name" in item for item in patch) and all(
            isinstance(item, dict) for item in target
        ):
            merged = {item.get("name"): item for item in target}
            order = [item.get("name") for item in target]
            for item in patch:
                if item.get("$patch") == "delete":
                    merged.pop(item["name"], None)
                    continue
                if item["name"] not in merged:
                    order.append(item["name"])
                merged[item["name"]] = strategic_merge_patch(merged.get(item["name"]), item)
            return [merged[name] for name in order if name in merged]
        return [strategic_merge_patch(None, item) for item in patch]
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = strategic_merge_patch(result.get(key), value)
    return result


def _version_priority(version: str) -> tuple[int, int, int]:
    """Return a sort key that ranks Kubernetes versions as discovery does (v1 > v1beta1 > v1alpha1)."""
    head, _, tail = version[1:].partition("alpha") if "alpha" in version else version[1:].partition("beta")
    stability = 2 if not tail else (1 if "beta" in version else 0)
    try:
        return (stability, int(head or 0), int(tail or 0))
    except ValueError:
        return (-1, 0, 0)


@attrs.define(kw_only=True)
class LoopbackKubeAPI(kmock.KubernetesEmulator):
    """A Kubernetes API server emulator, served with ``kmock.Server(api)``."""

    require_namespaces: bool = True  # creating in a missing namespace is 404, as on a cluster
    event_log_size: int = EVENT_LOG_SIZE  # watches may resume this many events back, else 410 Expired

    _rv: int = attrs.field(default=0, init=False)
    _event_log: deque = attrs.field(factory=deque, init=False)
    _log_floor: int = attrs.field(default=0, init=False)
    _watchers: set = attrs.field(factory=set, init=False)
    _crd_versions: dict = attrs.field(factory=dict, init=False)
    _crd_resources: dict = attrs.field(factory=dict, init=False)
    _pod_logs: dict = attrs.field(factory=dict, init=False)
    _discovery_generation: int = attrs.field(default=0, init=False)
    _failures: list = attrs.field(factory=list, init=False)  # [method, path, status, remaining] (fail_next)
    failures_answered: int = attrs.field(default=0, init=False)  # requests answered by a planned failure

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        # kmock's own fallbacks are replaced by _serve; user reactions added later still come first.
        del self._payloads[:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # kmock reads its bundle with a deprecated API
            self._resources.load_bundled()
        for namespace in ("default", "kube-system", "kube-public"):
            self._store_new(references.resource("", "v1", "namespaces"), None, {
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
            })

    # ---- request entry -------------------------------------------------------------------

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        failure = self._planned_failure(request)
        if failure is not None:
            return aiohttp.web.json_response(failure.status(), status=failure.code)
        if self._payloads:
            try:
                return await apps.RawHandler._handle(self, request)
            except NotImplementedError:
                pass
        try:
            return await self._serve(request)
        except ApiError as error:
            return aiohttp.web.json_response(error.status(), status=error.code)

    async def _serve(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        path = request.url.path.rstrip("/") or "/"
        method = str(request._raw_request.method if request._raw_request else request.method).upper()
        parts = path.strip("/").split("/") if path != "/" else []
        if method == "GET" and not parts:
            return self._json({"paths": sorted(self._root_paths())})
        if method == "GET" and path == "/version":
            return self._json(SERVER_VERSION)
        if method == "GET" and path == "/api":
            return self._json({"kind": "APIVersions", "versions": ["v1"],
                               "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        if method == "GET" and path == "/apis":
            return self._json(self._group_list())
        if parts == ["openapi", "v2"]:
            return aiohttp.web.Response(body=protobuf.empty_openapi_v2(SERVER_VERSION["gitVersion"]),
                                        content_type="application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
        if parts[:1] == ["openapi"]:
            return self._json(self._openapi(parts[1:]))
        if method == "GET" and len(parts) == 2 and parts[0] == "apis":
            return self._json(self._group(parts[1]))
        if method == "GET" and (parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis")):
            return self._json(self._resource_list(*(("", "v1") if parts[0] == "api" else parts[1:])))
        if parts[:1] in (["api"], ["apis"]) and len(parts) >= 3:
            return await self._serve_resource(request, method, parts)
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    @staticmethod
    def _json(payload: Any, status: int = 200) -> aiohttp.web.Response:
        return aiohttp.web.json_response(payload, status=status)

    # ---- discovery ---------------------------------------------------------------------

    def _served(self) -> list[tuple[references.resource, references.ResourceInfo]]:
        return [(res, self._resources[res]) for res in list(self._resources)]

    def _root_paths(self) -> set[str]:
        paths = {"/api", "/api/v1", "/apis", "/version", "/openapi/v3"}
        for res, _ in self._served():
            if res.group:
                paths |= {f"/apis/{res.group}", f"/apis/{res.group}/{res.version}"}
        return paths

    def _versions_by_group(self) -> dict[str, list[str]]:
        groups: dict[str, set[str]] = {}
        for res, _ in self._served():
            if res.group:
                groups.setdefault(res.group, set()).add(res.version)
        return {group: sorted(versions, key=_version_priority, reverse=True) for group, versions in groups.items()}

    def _group(self, group: str) -> dict[str, Any]:
        versions = self._versions_by_group().get(group)
        if not versions:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        entries = [{"groupVersion": f"{group}/{version}", "version": version} for version in versions]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": entries,
                "preferredVersion": entries[0]}

    def _group_list(self) -> dict[str, Any]:
        groups = [self._group(group) for group in sorted(self._versions_by_group())]
        for group in groups:
            del group["kind"], group["apiVersion"]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        entries = []
        for res, info in sorted(self._served(), key=lambda item: item[0].plural or ""):
            if res.group != group or res.version != version:
                continue
            kind = info.kind or (res.plural or "").capitalize()
            entry = {"name": res.plural, "singularName": info.singular or kind.lower(),
                     "namespaced": bool(info.namespaced), "kind": kind,
                     "verbs": sorted(info.verbs) or ALL_VERBS}
            if info.shortnames:
                entry["shortNames"] = sorted(info.shortnames)
            if info.categories:
                entry["categories"] = sorted(info.categories)
            entries.append(entry)
            for sub in sorted(info.subresources):
                verbs = ["get"] if sub == "log" else ["get", "patch", "update"] if sub in ("status", "scale") else ["create", "get"]
                entries.append({"name": f"{res.plural}/{sub}", "singularName": "", "namespaced": bool(info.namespaced),
                                "kind": "Scale" if sub == "scale" else kind, "verbs": verbs})
        if not entries and group:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version, "resources": entries}

    def _openapi(self, parts: list[str]) -> dict[str, Any]:
        """Return the minimal OpenAPI v3 that makes kubectl leave validation to the server (notes K5)."""
        if parts[:1] != ["v3"]:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        by_gv: dict[str, list[tuple[references.resource, references.ResourceInfo]]] = {}
        for res, info in self._served():
            key = f"apis/{res.group}/{res.version}" if res.group else f"api/{res.version}"
            by_gv.setdefault(key, []).append((res, info))
        if len(parts) == 1:
            digest = hashlib.sha256(str(self._discovery_generation).encode()).hexdigest()[:16].upper()
            return {"paths": {key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"} for key in by_gv}}
        key = "/".join(parts[1:])
        if key not in by_gv:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        paths, schemas = {}, {}
        for res, info in by_gv[key]:
            scope = "/namespaces/{namespace}" if info.namespaced else ""
            gvk = {"group": res.group, "version": res.version, "kind": info.kind or (res.plural or "").capitalize()}
            openapi = ((self._crd_versions.get(res) or {}).get("schema") or {}).get("openAPIV3Schema")
            if openapi:
                # Served so that `kubectl explain` shows the CRD's descriptions.
                document = copy.deepcopy(openapi)
                document.setdefault("properties", {}).update({
                    "apiVersion": {"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."},
                    "kind": {"type": "string", "description": "Kind is a string value representing the REST resource this object represents."},
                    "metadata": {"type": "object", "description": "Standard object's metadata."},
                })
                document["x-kubernetes-group-version-kind"] = [gvk]
                schemas[".".join(reversed(res.group.split("."))) + f".{res.version}.{gvk['kind']}"] = document
            paths[f"/{key}{scope}/{res.plural}/{{name}}"] = {"patch": {
                "x-kubernetes-group-version-kind": gvk,
                "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}}],
                "responses": {"200": {"description": "OK"}},
            }}
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": SERVER_VERSION["gitVersion"]},
                "paths": paths, "components": {"schemas": schemas}}

    # ---- resource requests ---------------------------------------------------------------

    def _parse_resource_path(self, parts: list[str]) -> tuple[references.resource, str | None, str | None, str | None]:
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            group, version, rest = parts[1], parts[2], parts[3:]
        if not rest:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
            namespace, rest = rest[1], rest[2:]
        plural, name = rest[0], rest[1] if len(rest) > 1 else None
        subresource = "/".join(rest[2:]) or None
        return references.resource(group, version, plural), namespace, name, subresource

    def _info(self, res: references.resource) -> references.ResourceInfo:
        if res not in self._resources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return self._resources[res]

    async def _serve_resource(self, request: rendering.Request, method: str, parts: list[str]) -> aiohttp.web.StreamResponse:
        res, namespace, name, subresource = self._parse_resource_path(parts)
        info = self._info(res)
        params = dict(request.params)
        if not info.namespaced:
            namespace = None
        if subresource is not None and subresource not in info.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        accept = request.headers.get("Accept", "")
        table = "as=Table" in accept
        if method == "GET" and params.get("watch") in ("true", "1"):
            return await self._watch(request, res, info, namespace, name, params, table)
        if subresource == "log":
            return self._pod_log(method, namespace, name, request, params)
        if method == "GET" and name is None:
            listing = self._list(res, info, namespace, params)
            return self._json(self._table(res, listing["items"], listing["metadata"]) if table else listing)
        if method == "GET":
            obj = self._require(res, info, namespace, name)
            return self._json(self._table(res, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]}) if table else obj)
        if method == "POST" and name is None:
            body = self._body(request)
            return self._json(self._create(res, info, namespace, body, params), 201)
        if method == "PUT" and name is not None:
            body = self._body(request)
            return self._json(self._replace(res, info, namespace, name, subresource, body, params))
        if method == "PATCH" and name is not None:
            return await self._patch(request, res, info, namespace, name, subresource, params)
        if method == "DELETE" and name is not None:
            options = self._body(request, optional=True) or {}
            return self._json(self._delete(res, info, namespace, name, options, params))
        if method == "DELETE":
            options = self._body(request, optional=True) or {}
            listing = self._list(res, info, namespace, params)
            for obj in listing["items"]:
                self._delete(res, info, obj["metadata"].get("namespace"), obj["metadata"]["name"], options, {})
            return self._json(listing)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    @staticmethod
    def _body(request: rendering.Request, optional: bool = False) -> Any:
        content_type = request.headers.get("Content-Type") or ""
        if "protobuf" in content_type:
            try:
                return protobuf.decode(request.body)
            except protobuf.ProtobufError as error:
                raise ApiError(415, "UnsupportedMediaType", str(error)) from None
        if not request.body:
            if optional:
                return None
            raise ApiError(400, "BadRequest", "the body of the request was empty")
        try:
            return json.loads(request.body)
        except ValueError:
            try:
                return yaml.safe_load(request.body)
            except yaml.YAMLError as error:
                raise ApiError(400, "BadRequest", f"the object provided is unrecognized: {error}") from None

    # ---- naming and errors -----------------------------------------------------------------

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

    # ---- tables --------------------------------------------------------------------------

    def _columns(self, res: references.resource) -> list[dict[str, Any]]:
        version = self._crd_versions.get(res)
        if version is not None:
            return list(version.get("additionalPrinterColumns") or DEFAULT_COLUMNS)
        return BUILTIN_COLUMNS.get(str(res.plural), DEFAULT_COLUMNS)

    def _table(self, res: references.resource, items: list[dict[str, Any]], metadata: dict[str, Any], with_columns: bool = True) -> dict[str, Any]:
        columns = self._columns(res)
        definitions = [{"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}]
        definitions += [{"name": column["name"], "type": column.get("type", "string"), "format": column.get("format", ""),
                         "description": column.get("description", ""), "priority": column.get("priority", 0)} for column in columns]
        rows = []
        for obj in items:
            cells: list[Any] = [obj["metadata"]["name"]]
            computed = COMPUTED_COLUMNS.get(str(res.plural)) if res not in self._crd_versions else None
            if computed is not None:
                cells += computed(obj)
                rows.append({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                                         "metadata": obj["metadata"]}})
                continue
            for column in columns:
                try:
                    values = selectors.jsonpath(obj, column["jsonPath"])
                except selectors.SelectorError:
                    values = []
                cells.append(selectors.cell(values, column.get("type", "string")))
            rows.append({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                                     "metadata": obj["metadata"]}})
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
                "columnDefinitions": definitions if with_columns else [], "rows": rows}

    # ---- writes --------------------------------------------------------------------------

    def _check_namespace(self, res: references.resource, info: references.ResourceInfo, namespace: str | None) -> None:
        if info.namespaced and namespace is None:
            raise ApiError(400, "BadRequest", "the server could not find the requested resource: a namespace is required")
        if info.namespaced and self.require_namespaces and self._current(references.resource("", "v1", "namespaces"), None, namespace) is None:
            raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found',
                           {"name": namespace, "kind": "namespaces"})

    def _check_owner_references(self, res: references.resource, obj: dict[str, Any]) -> None:
        for index, ref in enumerate(obj["metadata"].get("ownerReferences") or []):
            for field in ("apiVersion", "kind", "name", "uid"):
                if not ref.get(field):
                    raise self._invalid(res, obj["metadata"]["name"], [{
                        "reason": "FieldValueRequired", "message": "Required value",
                        "field": f"metadata.ownerReferences[{index}].{field}"}])

    def _admit_custom(self, res: references.resource, obj: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        """Return a custom resource pruned and defaulted by its CRD schema, or raise as the server does."""
        version = self._crd_versions.get(res)
        openapi = ((version or {}).get("schema") or {}).get("openAPIV3Schema")
        if not openapi:
            return obj
        pruned_obj, pruned = crd_schema.prune_object(obj, openapi)
        if pruned and params.get("fieldValidation") == "Strict":
            kind = self._resources[res].kind
            unknown = ", ".join(f'unknown field "{path}"' for path in pruned)
            raise ApiError(400, "BadRequest",
                           f'{kind} in version "{res.version}" cannot be handled as a {kind}: strict decoding error: {unknown}')
        defaulted = crd_schema.apply_defaults(pruned_obj, openapi)
        causes = crd_schema.validation_causes(defaulted, openapi)
        if causes:
            raise self._invalid(res, obj["metadata"].get("name", ""), causes)
        return defaulted

    def _check_builtin_fields(self, res: references.resource, obj: dict[str, Any], params: dict[str, str]) -> None:
        """Reject unknown fields of a built-in under ``fieldValidation=Strict``, as the API server does."""
        if params.get("fieldValidation") != "Strict":
            return
        try:
            import kubernetes_validate
        except ImportError:  # the check is best effort where the schemas are not installed
            return
        try:
            kubernetes_validate.validate(obj, SERVER_VERSION["major"] + "." + SERVER_VERSION["minor"], strict=True)
        except kubernetes_validate.ValidationError as error:
            unknown = re.search(r"\('(.+)' was unexpected\)", error.message or "")
            if unknown is None:
                return  # kube-apiserver's own validation differs from the schemas; only unknown fields are certain
            path = ".".join([*(str(part) for part in error.path), unknown.group(1)])
            kind = obj.get("kind")
            raise ApiError(400, "BadRequest", f'{kind} in version "{res.version}" cannot be handled as a {kind}: '
                                              f'strict decoding error: unknown field "{path}"') from None
        except Exception:  # unknown kinds and versions: nothing to check against
            return

    @staticmethod
    def _has_status(info: references.ResourceInfo) -> bool:
        return "status" in info.subresources

    @staticmethod
    def _spec_part(obj: dict[str, Any], status_apart: bool) -> dict[str, Any]:
        skipped = {"metadata", "status"} if status_apart else {"metadata"}
        return {key: value for key, value in obj.items() if key not in skipped}

    def _normalize_builtin(self, res: references.resource, obj: dict[str, Any]) -> None:
        if res == references.resource("", "v1", "secrets") and obj.get("stringData"):
            import base64

            data = dict(obj.get("data") or {})
            for key, value in obj.pop("stringData").items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            obj["data"] = data
        if res == references.resource("", "v1", "namespaces"):
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = {"phase": "Terminating" if obj["metadata"].get("deletionTimestamp") else "Active"}

    def _default_job(self, res: references.resource, job: dict[str, Any]) -> None:
        """Apply the API server's Job defaulting and validation that Job controllers and tests rely on."""
        spec = job.setdefault("spec", {})
        template = spec.setdefault("template", {})
        pod_spec = template.setdefault("spec", {})
        name, uid = job["metadata"]["name"], job["metadata"]["uid"]
        if pod_spec.get("restartPolicy") not in ("Never", "OnFailure"):
            raise self._invalid(res, name, [{"reason": "FieldValueRequired", "field": "spec.template.spec.restartPolicy",
                                             "message": 'Required value: valid values: "OnFailure", "Never"'}])
        if not pod_spec.get("containers"):
            raise self._invalid(res, name, [{"reason": "FieldValueRequired", "field": "spec.template.spec.containers",
                                             "message": "Required value"}])
        for field, value in (("backoffLimit", 6), ("completions", 1), ("parallelism", 1), ("suspend", False),
                             ("completionMode", "NonIndexed"), ("manualSelector", None),
                             ("podReplacementPolicy", "TerminatingOrFailed")):
            if value is not None:
                spec.setdefault(field, value)
        identity = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
                    "controller-uid": uid, "job-name": name}
        if not spec.get("manualSelector"):
            spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
            template.setdefault("metadata", {}).setdefault("labels", {}).update(identity)
        pod_spec.setdefault("dnsPolicy", "ClusterFirst")
        pod_spec.setdefault("schedulerName", "default-scheduler")
        pod_spec.setdefault("terminationGracePeriodSeconds", 30)
        pod_spec.setdefault("securityContext", {})
        for container in pod_spec["containers"]:
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            image = container.get("image", "")
            tagged = ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")
            container.setdefault("imagePullPolicy", "IfNotPresent" if tagged or "@" in image else "Always")
            container.setdefault("resources", {})

    def _create(self, res: references.resource, info: references.ResourceInfo, namespace: str | None, body: Any, params: dict[str, str]) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the object provided is unrecognized (must be of type object)")
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        for field in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation"):
            meta.pop(field, None)
        if info.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
            namespace = namespace or meta.get("namespace")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        kind = info.kind or (res.plural or "").capitalize()
        obj["apiVersion"] = f"{res.group}/{res.version}" if res.group else res.version
        if obj.get("kind") not in (None, kind):
            raise ApiError(400, "BadRequest", f"the object kind {obj['kind']!r} does not match the resource {self._qualified(res)}")
        obj["kind"] = kind
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise self._invalid(res, "", [{"reason": "FieldValueRequired", "message": "name or generateName is required", "field": "metadata.name"}])
            meta["name"] = meta["generateName"] + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
        self._check_namespace(res, info, namespace)
        meta["uid"] = str(uuid.uuid4())
        if self._current(res, namespace, meta["name"]) is not None:
            raise ApiError(409, "AlreadyExists", f'{self._qualified(res)} "{meta["name"]}" already exists',
                           {"name": meta["name"], "group": res.group, "kind": res.plural})
        self._check_owner_references(res, obj)
        if self._has_status(info):
            obj.pop("status", None)
        if res in self._crd_versions:
            obj = self._admit_custom(res, obj, params)
        else:
            self._check_builtin_fields(res, obj, params)
        self._normalize_builtin(res, obj)
        if res == references.resource("batch", "v1", "jobs"):
            self._default_job(res, obj)
        if res == references.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions"):
            self._admit_crd(res, obj)
        if params.get("dryRun"):
            return obj
        stored = self._store_new(res, namespace, obj)
        if res == references.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions"):
            stored = self._register_crd(res, stored)
        return copy.deepcopy(stored)

    def _commit_update(self, res: references.resource, info: references.ResourceInfo, namespace: str | None, name: str,
                       old: dict[str, Any], new: Any, subresource: str | None, params: dict[str, str]) -> dict[str, Any]:
        """Store a full new state of an existing object with the API server's rules for updates."""
        if not isinstance(new, dict):
            raise ApiError(400, "BadRequest", "the object provided is unrecognized (must be of type object)")
        new = copy.deepcopy(new)
        new_meta = new.get("metadata") if isinstance(new.get("metadata"), dict) else {}
        sent_rv = new_meta.get("resourceVersion")
        if sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
            raise self._conflict(res, name)
        if new_meta.get("name", name) != name:
            raise ApiError(400, "BadRequest", f"the name of the object ({new_meta.get('name')}) does not match the name on the URL ({name})")
        if subresource == "status":
            updated = copy.deepcopy(old)
            if "status" in new:
                updated["status"] = new["status"]
            else:
                updated.pop("status", None)
        else:
            updated = new
            meta = updated.setdefault("metadata", {})
            for field in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
                if field in old["metadata"]:
                    meta[field] = old["metadata"][field]
                else:
                    meta.pop(field, None)
            meta["name"] = name
            if namespace is not None:
                meta["namespace"] = namespace
            updated["apiVersion"], updated["kind"] = old["apiVersion"], old["kind"]
            if self._has_status(info):
                if "status" in old:
                    updated["status"] = old["status"]
                else:
                    updated.pop("status", None)
            self._check_owner_references(res, updated)
        if res == references.resource("batch", "v1", "jobs") and subresource is None:
            for field in ("template", "selector", "completionMode"):
                if (updated.get("spec") or {}).get(field) != (old.get("spec") or {}).get(field):
                    raise self._invalid(res, name, [{"reason": "FieldValueInvalid", "field": f"spec.{field}",
                                                     "message": "Invalid value: ...: field is immutable"}])
        if res in self._crd_versions:
            updated = self._admit_custom(res, updated, params)
        elif subresource is None:
            self._check_builtin_fields(res, updated, params)
        self._normalize_builtin(res, updated)
        if res == references.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions"):
            self._admit_crd(res, updated)
            updated["status"] = old.get("status", {})
        updated["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if updated == old:
            return copy.deepcopy(old)  # a no-op write changes no resourceVersion, as on a real server
        if self._spec_part(updated, self._has_status(info)) != self._spec_part(old, self._has_status(info)):
            updated["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
        if params.get("dryRun"):
            return updated
        stored = self._store_update(res, namespace, updated)
        if res == references.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions"):
            stored = self._register_crd(res, stored)
        if stored["metadata"].get("deletionTimestamp") and not stored["metadata"].get("finalizers"):
            self._remove(res, namespace, stored, {})
        return copy.deepcopy(stored)

    def _replace(self, res: references.resource, info: references.ResourceInfo, namespace: str | None, name: str,
                 subresource: str | None, body: Any, params: dict[str, str]) -> dict[str, Any]:
        old = self._require(res, info, namespace, name)
        sent = body.get("metadata") if isinstance(body, dict) else None
        if res in self._crd_versions and not (sent or {}).get("resourceVersion"):
            # Custom resources allow no unconditional update (the CR strategy's AllowUnconditionalUpdate is false).
            raise self._invalid(res, name, [{"reason": "FieldValueInvalid", "field": "metadata.resourceVersion",
                                             "message": "Invalid value: 0x0: must be specified for an update"}])
        return self._commit_update(res, info, namespace, name, old, body, subresource, params)

    async def _patch(self, request: rendering.Request, res: references.resource, info: references.ResourceInfo,
                     namespace: str | None, name: str, subresource: str | None, params: dict[str, str]) -> aiohttp.web.Response:
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
        is_custom = res in self._crd_versions
        if content_type == "application/apply-patch+yaml":
            if not params.get("fieldManager"):
                raise ApiError(400, "BadRequest", "PATCH requires fieldManager for apply requests (application/apply-patch+yaml)")
            applied = self._body(request)
            if self._current(res, namespace, name) is None and subresource is None:
                applied.setdefault("metadata", {})["name"] = name
                return self._json(self._create(res, info, namespace, applied, params), 201)
            old = self._require(res, info, namespace, name)
            return self._json(self._commit_update(res, info, namespace, name, old, merge_patch(old, applied), subresource, params))
        old = self._require(res, info, namespace, name)
        if content_type == "application/json-patch+json":
            operations = self._body(request)
            try:
                new = jsonpatch.apply_patch(old, operations)
            except jsonpatch.JsonPatchTestFailed as error:
                raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: {error}") from None
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as error:
                raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: {error}") from None
            # The test op already compared the resourceVersion; what remains must not read as a stale write.
            if isinstance(new, dict) and isinstance(new.get("metadata"), dict):
                new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        elif content_type == "application/merge-patch+json":
            new = merge_patch(old, self._body(request))
        elif content_type == "application/strategic-merge-patch+json":
            if is_custom:
                raise ApiError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted media types include: "
                               "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
            new = strategic_merge_patch(old, self._body(request))
        else:
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
                           "application/strategic-merge-patch+json")
        return self._json(self._commit_update(res, info, namespace, name, old, new, subresource, params))

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

    # ---- CRDs ----------------------------------------------------------------------------

    def _admit_crd(self, res: references.resource, crd: dict[str, Any]) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        expected = f"{names.get('plural')}.{spec.get('group')}"
        if crd["metadata"].get("name") != expected:
            raise self._invalid(res, crd["metadata"].get("name", ""), [{
                "reason": "FieldValueInvalid", "field": "metadata.name",
                "message": f'Invalid value: "{crd["metadata"].get("name")}": must be spec.names.plural+"."+spec.group'}])
        if not names.get("kind") or not spec.get("versions"):
            raise self._invalid(res, expected, [{"reason": "FieldValueRequired", "message": "Required value",
                                                 "field": "spec.names.kind" if not names.get("kind") else "spec.versions"}])

    def _register_crd(self, res: references.resource, crd: dict[str, Any]) -> dict[str, Any]:
        """Serve the CRD's resources in discovery and mark it Established, as the apiextensions server does."""
        name = crd["metadata"]["name"]
        self._unregister_crd(name, delete_objects=False)
        spec = crd["spec"]
        names = spec["names"]
        registered = []
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            cr_res = references.resource(spec["group"], version["name"], names["plural"])
            self._resources[cr_res] = references.ResourceInfo(
                kind=names["kind"], singular=names.get("singular") or names["kind"].lower(),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced", verbs=ALL_VERBS,
                shortnames=names.get("shortNames") or [], categories=names.get("categories") or [],
                subresources=[sub for sub in (version.get("subresources") or {})],
            )
            self._crd_versions[cr_res] = version
            registered.append(cr_res)
        self._crd_resources[name] = registered
        self._discovery_generation += 1
        now = now_rfc3339()
        accepted = {key: value for key, value in names.items()}
        accepted.setdefault("singular", names["kind"].lower())
        accepted.setdefault("listKind", f"{names['kind']}List")
        status = {
            "acceptedNames": accepted,
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                 "message": "no conflicts found", "lastTransitionTime": now},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted", "lastTransitionTime": now},
            ],
            "storedVersions": [version["name"] for version in spec["versions"] if version.get("storage")],
        }
        if crd.get("status") == status or (crd.get("status") or {}).get("acceptedNames") == accepted:
            return crd
        updated = copy.deepcopy(crd)
        updated["status"] = status
        return self._store_update(res, None, updated)

    def _unregister_crd(self, name: str, delete_objects: bool) -> None:
        for cr_res in self._crd_resources.pop(name, []):
            if delete_objects:
                for (key_res, key_ns, key_name), item in list(self._objects.items()):
                    if key_res == cr_res and not item.deleted:
                        self._remove(key_res, key_ns, item.raw, {})
            if cr_res in self._resources:
                del self._resources[cr_res]
            self._crd_versions.pop(cr_res, None)
        self._discovery_generation += 1

    # ---- pod logs ------------------------------------------------------------------------

    def _pod_log(self, method: str, namespace: str | None, name: str | None, request: rendering.Request,
                 params: dict[str, str]) -> aiohttp.web.Response:
        pods = references.resource("", "v1", "pods")
        if name is None or self._current(pods, namespace, name) is None:
            raise self._not_found(pods, str(name))
        if method in ("PUT", "POST"):
            # Not a Kubernetes verb: the local runner (our kubelet) stores the container's output here.
            self._pod_logs[namespace, name] = request.body.decode("utf-8", "replace")
            return self._json({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200})
        text = self._pod_logs.get((namespace, name), "")
        if params.get("tailLines"):
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(params["tailLines"]):]) if int(params["tailLines"]) > 0 else ""
        return aiohttp.web.Response(text=text, content_type="text/plain")

    def set_pod_log(self, namespace: str, name: str, text: str) -> None:
        """Store the log text that ``kubectl logs`` shows for a pod."""
        self._pod_logs[namespace, name] = text

    # ---- watch ---------------------------------------------------------------------------

    def _as_event(self, res: references.resource, event_type: str, obj: dict[str, Any], table: bool, first: bool) -> dict[str, Any]:
        if table and event_type in ("ADDED", "MODIFIED", "DELETED"):
            obj = self._table(res, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]}, with_columns=first)
        return {"type": event_type, "object": obj}

    async def _watch(self, request: rendering.Request, res: references.resource, info: references.ResourceInfo,
                     namespace: str | None, name: str | None, params: dict[str, str], table: bool) -> aiohttp.web.StreamResponse:
        matches = self._matching(res, namespace, params)
        if name is not None:
            by_name = matches
            matches = lambda obj: by_name(obj) and obj["metadata"]["name"] == name  # noqa: E731
        since = params.get("resourceVersion") or ""
        initial_listing = since in ("", "0") or params.get("sendInitialEvents") == "true"
        try:
            since_rv = int(since or 0)
        except ValueError:
            raise ApiError(400, "BadRequest", f"invalid resource version: {since!r}") from None
        queue: asyncio.Queue = asyncio.Queue()
        response: aiohttp.web.StreamResponse | None = None
        # Subscribe and take the snapshot with no await in between, so no event falls through the gap.
        self._watchers.add(queue)
        try:
            if initial_listing:
                replay = [(int(obj["metadata"]["resourceVersion"]), "ADDED", copy.deepcopy(obj))
                          for obj in self._objects_of(res) if matches(obj)]
                replay.sort(key=lambda item: item[0])
            elif since_rv < self._log_floor:
                replay = None
            else:
                replay = [(rv, event_type, obj) for rv, event_res, event_type, obj in self._event_log
                          if rv > since_rv and event_res == res and matches(obj)]
            snapshot_rv = self._rv
            response = aiohttp.web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
            await response.prepare(request._raw_request)
            if replay is None:
                expired = ApiError(410, "Expired", f"too old resource version: {since_rv} ({self._log_floor})")
                await response.write(json.dumps({"type": "ERROR", "object": expired.status()}).encode() + b"\n")
                await response.write_eof()
                return response
            first = True
            for _, event_type, obj in replay:
                await response.write(json.dumps(self._as_event(res, event_type, obj, table, first)).encode() + b"\n")
                first = False
            if params.get("allowWatchBookmarks") == "true":
                kind = info.kind or (res.plural or "").capitalize()
                bookmark = {"kind": kind, "apiVersion": f"{res.group}/{res.version}" if res.group else res.version,
                            "metadata": {"resourceVersion": str(snapshot_rv)}}
                if params.get("sendInitialEvents") == "true":
                    bookmark["metadata"]["annotations"] = {"k8s.io/initial-events-end": "true"}
                await response.write(json.dumps({"type": "BOOKMARK", "object": bookmark}).encode() + b"\n")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + float(params["timeoutSeconds"]) if params.get("timeoutSeconds") else None
            while True:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    break
                try:
                    event = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    break
                if event is None:
                    break
                rv, event_res, event_type, obj = event
                if event_res != res or rv <= snapshot_rv or not matches(obj):
                    continue
                await response.write(json.dumps(self._as_event(res, event_type, obj, table, first)).encode() + b"\n")
                first = False
            await response.write_eof()
            return response
        except (ConnectionError, RuntimeError):  # the client went away
            return response if response is not None else aiohttp.web.Response(status=200)
        finally:
            self._watchers.discard(queue)

    def close_watches(self) -> None:
        """End every open watch stream, as a server does on shutdown."""
        for queue in list(self._watchers):
            queue.put_nowait(None)

    # ---- conveniences for tests --------------------------------------------------------------

    def fail_next(self, method: str, path: str, code: int, count: int = 1) -> None:
        """Answer the next `count` requests `METHOD path` (exact path) with a `code` Status, storing nothing.

        Cheaper than a kmock reaction for a long fault run: a reaction's filter is matched
        against every request ever logged, on every request, so it slows the server down as
        the log grows; and a counting filter is spent on old requests before a new one.
        """
        self._failures.append([method.upper(), path.rstrip("/"), code, count])

    def _planned_failure(self, request: rendering.Request) -> ApiError | None:
        if not self._failures:
            return None
        method = str(request._raw_request.method if request._raw_request else request.method).upper()
        path = request.url.path.rstrip("/")
        for planned in self._failures:
            if planned[0] == method and planned[1] == path and planned[3] > 0:
                planned[3] -= 1
                self.failures_answered += 1
                self._failures = [item for item in self._failures if item[3] > 0]
                reason = FAULT_REASONS.get(planned[2], "Unknown")
                return ApiError(planned[2], reason, f"injected fault: {method} {path} answers {planned[2]}")
        return None

    def resource_version(self) -> int:
        """Return the latest resourceVersion the server handed out."""
        return self._rv

    def get_object(self, path: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """Return the current object (``'batch/v1/jobs'``, namespace, name), or None when absent."""
        return copy.deepcopy(self._current(references.resource(path), namespace, name))
