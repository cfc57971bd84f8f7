"""Admission of the loopback API's writes: create, update, replace and patch with their checks.

A mixin of ``LoopbackKubeAPI`` (tests/harness/kubeapi.py): what the API server
checks, defaults and normalizes before it stores a write (namespaces,
ownerReferences, a custom resource's CRD schema, unknown fields of built-ins,
Job defaulting, CRD names), the status-subresource split, resourceVersion
conflicts, generation bumps, and PATCH by Content-Type (merge, JSON, strategic,
server-side apply).
"""

import copy
import random
import re
import string
import uuid
from typing import Any

import aiohttp.web
import jsonpatch
from kmock._internal import references, rendering

from tests.harness import schema as crd_schema
from tests.harness.kubeapi_discovery import SERVER_VERSION
from tests.harness.kubeapi_store import ApiError


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


class Admission:
    """Writes and their admission checks, as a mixin of ``LoopbackKubeAPI``."""

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
