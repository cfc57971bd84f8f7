"""Discovery of the loopback API: API groups and resources, OpenAPI v3, and CRD registration.

A mixin of ``LoopbackKubeAPI`` (tests/harness/kubeapi.py): the ``/api``,
``/apis`` and ``/openapi`` documents built from the served resources, with
correct subresource entries, and the apiextensions server's part: a CRD's
resources served once it is created, marked Established, and gone with it.
"""

import copy
import hashlib
from typing import Any

from kmock._internal import references

from tests.harness.kubeapi_store import ApiError, now_rfc3339

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

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def _version_priority(version: str) -> tuple[int, int, int]:
    """Return a sort key that ranks Kubernetes versions as discovery does (v1 > v1beta1 > v1alpha1)."""
    head, _, tail = version[1:].partition("alpha") if "alpha" in version else version[1:].partition("beta")
    stability = 2 if not tail else (1 if "beta" in version else 0)
    try:
        return (stability, int(head or 0), int(tail or 0))
    except ValueError:
        return (-1, 0, 0)


class Discovery:
    """Discovery documents and CRD registration, as a mixin of ``LoopbackKubeAPI``."""

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
