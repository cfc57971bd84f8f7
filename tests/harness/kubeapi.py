"""A loopback Kubernetes API faithful enough for kubectl, kopf and the operator's tests.

Built on kmock's ``KubernetesEmulator``: its aiohttp server, the reaction DSL
for fault injection (user reactions such as ``api['get /version'] << {...}`` win
over everything here), the object store with per-object history
(``api.objects[resource, namespace, name].history``), the request log and the
bundled list of built-in resources. Everything kmock serves as a fallback is
replaced by ``_serve``, which behaves like a real API server where the project
depends on it (see ../shared/notes/kubernetes-test-harness.md, "What the
loopback API must add to kmock").

This module holds the class, its state and the conveniences for tests; its
behaviour lives in mixins: kubeapi_serving.py (HTTP, tables, pod logs, watch),
kubeapi_admission.py (writes and their checks), kubeapi_discovery.py (discovery,
OpenAPI, CRD registration) and kubeapi_store.py (objects, events, deletion).

Not emulated: server-side-apply field ownership and managedFields, pagination,
admission, CEL rules, the scale subresource, aggregated discovery, conversion
between CRD versions (each served version keeps its own objects).
"""

import copy
import warnings
from collections import deque
from typing import Any

import attrs
import kmock
from kmock._internal import references, rendering

from tests.harness.kubeapi_admission import Admission
from tests.harness.kubeapi_discovery import Discovery
from tests.harness.kubeapi_serving import Serving
from tests.harness.kubeapi_store import ApiError, ObjectStore

# How many past watch events a watch can resume from; older resourceVersions get 410 Expired.
EVENT_LOG_SIZE = 20000


FAULT_REASONS = {409: "AlreadyExists", 500: "InternalError", 503: "ServiceUnavailable"}  # of fail_next's answers


@attrs.define(kw_only=True)
class LoopbackKubeAPI(Serving, Admission, Discovery, ObjectStore, kmock.KubernetesEmulator):
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
