"""The loopback API's HTTP side: routing, request bodies, Table rendering, pod logs and watch streams.

A mixin of ``LoopbackKubeAPI`` (tests/harness/kubeapi.py): ``_handle`` replaces
everything kmock serves as a fallback (user reactions still come first), routes
each request to discovery or to a resource verb, renders lists and objects as
the ``Table`` kubectl asks for, keeps pod logs, and streams watches (replay from
the event log, bookmarks, 410 Expired, ``timeoutSeconds``). Importing it fixes
kmock's parsing of ``/api/v1/namespaces`` paths.
"""

import asyncio
import copy
import datetime
import json
from collections.abc import Callable
from typing import Any

import aiohttp.web
import yaml
from kmock._internal import apps, parsing, references, rendering

from tests.harness import protobuf
from tests.harness import selectors
from tests.harness.kubeapi_discovery import SERVER_VERSION
from tests.harness.kubeapi_store import ApiError

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


class Serving:
    """The HTTP request handling and watch streams, as a mixin of ``LoopbackKubeAPI``."""

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
