"""Plain HTTP access to a Kubernetes API for the test harness, and the paths and Job facts it uses.

``KubeClient`` reads a kubeconfig (token, CA, client certificate) or takes a
URL, and speaks JSON to the loopback API or a real cluster; ``KubeError`` is an
error answer. The local runner (tests/harness/runner.py) and the tests use it.
"""

import base64
import datetime
import json
import os
import pathlib
import tempfile
from typing import Any, Iterator

import requests
import yaml


class KubeError(Exception):
    """A request the API answered with an error status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:500]}")
        self.status, self.body = status, body



def now_rfc3339() -> str:
    """Return the current time as the API server writes timestamps (RFC 3339, seconds, ``Z``)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubeClient:
    """Plain HTTP access to a Kubernetes API, configured from a kubeconfig file or a URL."""

    def __init__(self, api: str | os.PathLike[str], timeout: float = 10) -> None:
        self.session = requests.Session()
        self.timeout = timeout
        self._files: list[str] = []
        text = str(api)
        if text.startswith(("http://", "https://")):
            self.server, self.namespace = text.rstrip("/"), "default"
            return
        config = yaml.safe_load(pathlib.Path(api).read_text())
        context_name = config.get("current-context")
        context = next(item["context"] for item in config["contexts"] if item["name"] == context_name)
        cluster = next(item["cluster"] for item in config["clusters"] if item["name"] == context["cluster"])
        user = next((item["user"] for item in config.get("users", []) if item["name"] == context.get("user")), {})
        self.server = cluster["server"].rstrip("/")
        self.namespace = context.get("namespace", "default")
        if user.get("token"):
            self.session.headers["Authorization"] = f"Bearer {user['token']}"
        if cluster.get("insecure-skip-tls-verify"):
            self.session.verify = False
        elif cluster.get("certificate-authority-data"):
            self.session.verify = self._data_file(cluster["certificate-authority-data"])
        elif cluster.get("certificate-authority"):
            self.session.verify = cluster["certificate-authority"]
        if user.get("client-certificate-data") and user.get("client-key-data"):
            self.session.cert = (self._data_file(user["client-certificate-data"]), self._data_file(user["client-key-data"]))
        elif user.get("client-certificate") and user.get("client-key"):
            self.session.cert = (user["client-certificate"], user["client-key"])

    def _data_file(self, data: str) -> str:
        handle, path = tempfile.mkstemp(prefix="runner-kubeconfig-")
        with os.fdopen(handle, "wb") as stream:
            stream.write(base64.b64decode(data))
        self._files.append(path)
        return path

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None,
                content_type: str = "application/json", raw_body: bytes | None = None) -> Any:
        """Return the decoded JSON answer of one API request, or raise KubeError."""
        data = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        response = self.session.request(method, self.server + path, params=params, data=data,
                                        headers={"Content-Type": content_type, "Accept": "application/json"},
                                        timeout=self.timeout)
        if response.status_code >= 400:
            raise KubeError(response.status_code, response.text)
        try:
            return response.json()
        except ValueError:
            return response.text

    def get(self, path: str, **params: Any) -> Any:
        """Return the object or list at a path."""
        return self.request("GET", path, params=params or None)

    def create(self, path: str, body: dict[str, Any]) -> Any:
        """Create an object in a collection and return it."""
        return self.request("POST", path, body=body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        """Merge-patch an object (or its /status) and return it."""
        return self.request("PATCH", path, body=body, content_type="application/merge-patch+json")

    def delete(self, path: str) -> Any:
        """Delete an object with background propagation and return the API's answer."""
        return self.request("DELETE", path, body={"propagationPolicy": "Background"})

    def watch(self, path: str, timeout_seconds: int = 1, **params: Any) -> Iterator[dict[str, Any]]:
        """Yield watch events from a collection until the server ends the stream."""
        query = dict(params, watch="true", timeoutSeconds=str(timeout_seconds))
        with self.session.get(self.server + path, params=query, stream=True,
                              timeout=(self.timeout, timeout_seconds + 10)) as response:
            if response.status_code >= 400:
                raise KubeError(response.status_code, response.text)
            for line in response.iter_lines():
                if line:
                    yield json.loads(line)

    def close(self) -> None:
        """Close the HTTP session and remove temporary credential files."""
        self.session.close()
        for path in self._files:
            pathlib.Path(path).unlink(missing_ok=True)


def job_path(namespace: str, name: str = "", subresource: str = "") -> str:
    """Return the API path of a Job (or the namespace's Job collection)."""
    path = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    return path + (f"/{name}" if name else "") + (f"/{subresource}" if subresource else "")


def pod_path(namespace: str, name: str = "", subresource: str = "") -> str:
    """Return the API path of a Pod (or the namespace's Pod collection)."""
    path = f"/api/v1/namespaces/{namespace}/pods"
    return path + (f"/{name}" if name else "") + (f"/{subresource}" if subresource else "")


def job_finished(job: dict[str, Any]) -> bool:
    """Return whether a Job carries a true Complete or Failed condition."""
    return any(condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True"
               for condition in (job.get("status") or {}).get("conditions") or [])

