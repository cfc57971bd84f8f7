"""A local runner that plays the Job controller and the kubelet against a Kubernetes API.

It watches Jobs; for each one it creates Pods (owned by the Job, labelled
``job-name``/``controller-uid``) and runs the first container's command as a
local process with the container's env and with every volume mapped to a folder
under ``root``. It writes Pod and Job status the way the real controllers do:
phase, ``containerStatuses[0].state.terminated`` with the termination message,
``active``/``succeeded``/``failed`` counts and ``Complete``/``Failed``
conditions. It honours backoffLimit, activeDeadlineSeconds, suspend and
ttlSecondsAfterFinished; a process killed by SIGKILL (not by the runner) ends as
``OOMKilled``, as the kubelet reports a container the kernel's OOM killer stopped.

Usage in tests::

    runner = LocalRunner(cluster.kubeconfig, root=tmp_path)
    runner.start()
    ...
    runner.stop()

An Indexed Job runs all its indexes at once (tests/harness/indexed.py says how its
pods find each other on one machine, as processes here and as containers in
tests/harness/containers.py). Not emulated: completions/parallelism of a
NonIndexed Job (one pod at a time), init containers and sidecars (only the first container runs), images (the
command runs from PATH on this machine), restartPolicy OnFailure (a failure
always makes a new pod), podFailurePolicy, the exponential back-off delay.
"""

import base64
import contextlib
import datetime
import json
import logging
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import requests
import yaml

from tests.harness import indexed

logger = logging.getLogger(__name__)

TERMINATION_LOG_ENV = "HOSPITAL_TERMINATION_LOG"
TERMINATION_MESSAGE_LIMIT = 4096  # the kubelet keeps at most 4 KiB of a termination message
FALLBACK_LOG_LINES = 80  # FallbackToLogsOnError: the kubelet keeps the last 80 lines, at most 2 KiB
LOG_PUSH_SECONDS = 0.5  # how often a running container's log reaches the API (kubectl logs, the operator)
FALLBACK_LOG_BYTES = 2048


class KubeError(Exception):
    """A request the API answered with an error status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:500]}")
        self.status, self.body = status, body


def _now() -> str:
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


def rewrite_path(value: str, mounts: list[tuple[str, pathlib.Path]]) -> str:
    """Return a value whose leading container path (or ``--flag=`` path) is mapped to its local folder."""
    prefix, separator, rest = value.partition("=")
    if separator and prefix.startswith("-"):
        return prefix + separator + rewrite_path(rest, mounts)
    for mount_path, folder in mounts:
        if value == mount_path or value.startswith(mount_path.rstrip("/") + "/"):
            return str(folder) + value[len(mount_path.rstrip("/")):]
    return value


def expand_references(value: str, env: dict[str, str]) -> str:
    """Return a value with Kubernetes ``$(VAR)`` references expanded from the container env."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda match: env.get(match.group(1), match.group(0)), value)


class ContainerConfigError(Exception):
    """The pod cannot start: a referenced Secret/ConfigMap/key is missing, or the command is not found."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class LocalRunner:
    """Runs the Jobs of a Kubernetes API as local processes, in a background thread."""

    def __init__(self, api: str | os.PathLike[str], root: os.PathLike[str], parallelism: int = 2,
                 namespace: str | None = None, retry_delay: float = 0.0, path_dirs: list[str] | None = None) -> None:
        self.client = KubeClient(api)
        self.root = pathlib.Path(root)
        self.namespace = namespace  # None: Jobs of every namespace
        self.retry_delay = retry_delay
        self.path_dirs = path_dirs if path_dirs is not None else [str(pathlib.Path(sys.executable).parent)]
        self._pool = ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="local-kubelet")
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, Any]] = {}
        self._active: set[str] = set()
        self._expiring: set[str] = set()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []  # failures of the runner itself (not of the Jobs), for assertions
        self.rendezvous_ports: dict[str, int] = {}  # Job uid -> this machine's port for an Indexed Job's MASTER_PORT
        self.halted: set[str] = set()  # uids of Indexed Jobs that failed: their running pods are stopped
        self.ended: set[str] = set()  # uids of Jobs run to the end: a late event or listing of their run starts none

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> "LocalRunner":
        """Start watching Jobs in a daemon thread and return the runner."""
        self._thread = threading.Thread(target=self._watch_jobs, name="local-job-controller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching, kill running processes and wait for the workers."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    def __enter__(self) -> "LocalRunner":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the Job controller -------------------------------------------------------------------

    def _collection(self) -> str:
        return job_path(self.namespace) if self.namespace else "/apis/batch/v1/jobs"

    def _watch_jobs(self) -> None:
        while not self._stopped.is_set():
            try:
                listing = self.client.get(self._collection())
                seen = set()
                for job in listing.get("items", []):
                    seen.add(job["metadata"]["uid"])
                    self._reconcile(job)
                with self._lock:
                    for uid in list(self._jobs):
                        if uid not in seen:
                            del self._jobs[uid]
                since = listing["metadata"].get("resourceVersion", "")
                for event in self.client.watch(self._collection(), timeout_seconds=1, resourceVersion=since):
                    if self._stopped.is_set():
                        break
                    if event["type"] == "DELETED":
                        with self._lock:
                            self._jobs.pop(event["object"]["metadata"]["uid"], None)
                    elif event["type"] in ("ADDED", "MODIFIED"):
                        self._reconcile(event["object"])
                    elif event["type"] == "ERROR":
                        break  # e.g. 410 Expired: list again
            except Exception as error:  # the API may be restarting; keep the controller alive
                if not self._stopped.is_set():
                    self.errors.append(repr(error))
                    logger.warning("local runner: %r", error)
                    self._stopped.wait(0.2)

    def _reconcile(self, job: dict[str, Any]) -> None:
        uid = job["metadata"]["uid"]
        with self._lock:
            self._jobs[uid] = job
            if job["metadata"].get("deletionTimestamp"):
                return
            if job_finished(job):
                ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
                if ttl is not None and uid not in self._expiring:
                    self._expiring.add(uid)
                    timer = threading.Timer(float(ttl), self._expire, (job,))
                    timer.daemon = True
                    timer.start()
                return
            if uid in self._active or uid in self.ended or (job.get("spec") or {}).get("suspend"):
                return
            self._active.add(uid)
        self._pool.submit(self._run_job, uid)

    def _expire(self, job: dict[str, Any]) -> None:
        if self._stopped.is_set():
            return
        try:
            self.client.delete(job_path(job["metadata"]["namespace"], job["metadata"]["name"]))
        except KubeError as error:
            if error.status != 404:
                self.errors.append(repr(error))

    def _latest(self, uid: str) -> dict[str, Any] | None:
        with self._lock:
            return self._jobs.get(uid)

    def _patch_job_status(self, job: dict[str, Any], status: dict[str, Any]) -> None:
        self.client.patch(job_path(job["metadata"]["namespace"], job["metadata"]["name"], "status"), {"status": status})

    def _run_job(self, uid: str) -> None:
        try:
            self._run_job_attempts(uid)
        except Exception as error:
            if not self._stopped.is_set():
                self.errors.append(repr(error))
                logger.exception("local runner: job %s", uid)
        finally:
            with self._lock:
                self._active.discard(uid)

    def _run_job_attempts(self, uid: str) -> None:
        job = self._latest(uid)
        if job is None:
            return
        spec, status = job.get("spec") or {}, dict(job.get("status") or {})
        backoff_limit = spec.get("backoffLimit", 6)
        start_time = status.get("startTime") or _now()
        failed = int(status.get("failed") or 0)
        if not status.get("startTime"):
            self._patch_job_status(job, {"startTime": start_time, "active": 0, "ready": 0})
        started = datetime.datetime.fromisoformat(start_time.replace("Z", "+00:00")).timestamp()
        deadline = started + spec["activeDeadlineSeconds"] if spec.get("activeDeadlineSeconds") else None
        if indexed.is_indexed(job):
            indexed.run_indexed_job(self, uid, job, deadline)
            return
        while not self._stopped.is_set():
            pod = self._create_pod(job)
            self._patch_job_status(job, {"active": 1, "ready": 0})
            outcome = self._run_pod(uid, job, pod, deadline)
            if outcome == "gone" or self._stopped.is_set():
                return
            if outcome == "suspended":
                self._patch_job_status(job, {"active": 0, "conditions": [self._condition(
                    "Suspended", "JobSuspended", "Job suspended")]})
                return
            if outcome == "succeeded":
                self._patch_job_status(job, {"active": 0, "ready": 0, "succeeded": 1, "completionTime": _now(), "conditions": [
                    self._condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"),
                    self._condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods"),
                ]})
                self._ended(uid)
                return
            failed += 1
            if outcome == "deadline":
                reason, message = "DeadlineExceeded", "Job was active longer than specified deadline"
            elif failed > backoff_limit:
                reason, message = "BackoffLimitExceeded", "Job has reached the specified backoff limit"
            else:
                self._patch_job_status(job, {"active": 0, "ready": 0, "failed": failed})
                self._stopped.wait(self.retry_delay)
                continue
            self._patch_job_status(job, {"active": 0, "ready": 0, "failed": failed, "conditions": [
                self._condition("FailureTarget", reason, message), self._condition("Failed", reason, message)]})
            self._ended(uid)
            return

    @contextlib.contextmanager
    def _indexed_network(self, uid: str, job: dict[str, Any]) -> Iterator[None]:
        """Where the pods of an Indexed Job meet while it runs: this machine, at a free port for its MASTER_PORT."""
        self.rendezvous_ports[uid] = indexed.free_port()
        try:
            yield
        finally:
            self.rendezvous_ports.pop(uid, None)

    def _ended(self, uid: str) -> None:
        """A Job run to its end: a listing read before its last status patch must not start it again."""
        with self._lock:
            self.ended.add(uid)

    @staticmethod
    def _condition(kind: str, reason: str, message: str) -> dict[str, str]:
        now = _now()
        return {"type": kind, "status": "True", "reason": reason, "message": message,
                "lastProbeTime": now, "lastTransitionTime": now}

    # ---- the kubelet ---------------------------------------------------------------------

    def _create_pod(self, job: dict[str, Any], template: dict[str, Any] | None = None) -> dict[str, Any]:
        meta = job["metadata"]
        template = template or (job.get("spec") or {}).get("template") or {}
        template_meta = template.get("metadata") or {}
        labels = dict(template_meta.get("labels") or {})
        labels.update({"job-name": meta["name"], "batch.kubernetes.io/job-name": meta["name"],
                       "controller-uid": meta["uid"], "batch.kubernetes.io/controller-uid": meta["uid"]})
        pod = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "generateName": f"{meta['name']}-", "namespace": meta["namespace"], "labels": labels,
                "annotations": dict(template_meta.get("annotations") or {}),
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"], "uid": meta["uid"],
                                     "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": dict(template.get("spec") or {}, nodeName="local-runner"),
        }
        created = self.client.create(pod_path(meta["namespace"]), pod)
        self._set_pod_status(created, {"phase": "Pending", "conditions": [], "startTime": _now()})
        return created

    def _set_pod_status(self, pod: dict[str, Any], status: dict[str, Any]) -> None:
        self.client.patch(pod_path(pod["metadata"]["namespace"], pod["metadata"]["name"], "status"), {"status": status})

    def _pod_dir(self, pod: dict[str, Any]) -> pathlib.Path:
        folder = self.root / "pods" / pod["metadata"]["namespace"] / pod["metadata"]["name"]
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _secret(self, namespace: str, name: str) -> dict[str, str]:
        try:
            secret = self.client.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
        except KubeError as error:
            if error.status == 404:
                raise ContainerConfigError("CreateContainerConfigError", f'secret "{name}" not found') from None
            raise
        return {key: base64.b64decode(value).decode("utf-8", "replace") for key, value in (secret.get("data") or {}).items()}

    def _config_map(self, namespace: str, name: str) -> dict[str, str]:
        try:
            config_map = self.client.get(f"/api/v1/namespaces/{namespace}/configmaps/{name}")
        except KubeError as error:
            if error.status == 404:
                raise ContainerConfigError("CreateContainerConfigError", f'configmap "{name}" not found') from None
            raise
        data = dict(config_map.get("data") or {})
        for key, value in (config_map.get("binaryData") or {}).items():
            data[key] = base64.b64decode(value).decode("utf-8", "replace")
        return data

    def _volumes(self, pod: dict[str, Any]) -> dict[str, pathlib.Path]:
        """Return each pod volume's local folder, filled with ConfigMap/Secret content where it has one."""
        namespace = pod["metadata"]["namespace"]
        folders: dict[str, pathlib.Path] = {}
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            name = volume["name"]
            if "persistentVolumeClaim" in volume:
                folder = self.root / "pvc" / volume["persistentVolumeClaim"]["claimName"]
            elif "hostPath" in volume:
                folder = pathlib.Path(volume["hostPath"]["path"])
            else:
                folder = self._pod_dir(pod) / "volumes" / name
            folder.mkdir(parents=True, exist_ok=True)
            source = volume.get("configMap") or volume.get("secret")
            if source is not None:
                reference = source.get("name") or source.get("secretName")
                optional = source.get("optional", False)
                try:
                    data = self._config_map(namespace, reference) if "configMap" in volume else self._secret(namespace, reference)
                except ContainerConfigError:
                    if optional:
                        data = {}
                    else:
                        raise
                items = source.get("items") or [{"key": key, "path": key} for key in data]
                for item in items:
                    if item["key"] in data:
                        target = folder / item["path"]
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_text(data[item["key"]])
            folders[name] = folder
        return folders

    def _env(self, pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
        namespace = pod["metadata"]["namespace"]
        env: dict[str, str] = {}
        for source in container.get("envFrom") or []:
            prefix = source.get("prefix", "")
            if "configMapRef" in source:
                values = self._optional(source["configMapRef"], lambda ref: self._config_map(namespace, ref["name"]))
            else:
                values = self._optional(source["secretRef"], lambda ref: self._secret(namespace, ref["name"]))
            env.update({prefix + key: value for key, value in values.items()})
        for variable in container.get("env") or []:
            if "value" in variable:
                env[variable["name"]] = expand_references(str(variable["value"]), env)
                continue
            value_from = variable.get("valueFrom") or {}
            if "secretKeyRef" in value_from or "configMapKeyRef" in value_from:
                ref = value_from.get("secretKeyRef") or value_from.get("configMapKeyRef")
                values = self._optional(ref, lambda ref: self._secret(namespace, ref["name"]) if "secretKeyRef" in value_from
                                        else self._config_map(namespace, ref["name"]))
                if ref["key"] in values:
                    env[variable["name"]] = values[ref["key"]]
                elif not ref.get("optional"):
                    kind = "secret" if "secretKeyRef" in value_from else "configmap"
                    raise ContainerConfigError("CreateContainerConfigError",
                                               f'couldn\'t find key {ref["key"]} in {kind.capitalize()} {namespace}/{ref["name"]}')
            elif "fieldRef" in value_from:
                field = value_from["fieldRef"]["fieldPath"]
                known = {"metadata.name": pod["metadata"]["name"], "metadata.namespace": namespace,
                         "metadata.uid": pod["metadata"].get("uid", ""), "spec.nodeName": "local-runner",
                         "status.podIP": "127.0.0.1", "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default")}
                annotation = re.fullmatch(r"metadata\.annotations\['([^']+)'\]", field)
                env[variable["name"]] = known.get(field, "") if not annotation else \
                    (pod["metadata"].get("annotations") or {}).get(annotation.group(1), "")
        return env

    @staticmethod
    def _optional(ref: dict[str, Any], load: Any) -> dict[str, str]:
        try:
            return load(ref)
        except ContainerConfigError:
            if ref.get("optional"):
                return {}
            raise

    def _command(self, pod: dict[str, Any], container: dict[str, Any], env: dict[str, str]) -> tuple[list[str], dict[str, str], pathlib.Path, pathlib.Path]:
        """Return the local argv, process env, working directory and termination-log file for a container."""
        folders = self._volumes(pod)
        mounts: list[tuple[str, pathlib.Path]] = []
        for mount in container.get("volumeMounts") or []:
            folder = folders.get(mount["name"])
            if folder is None:
                raise ContainerConfigError("CreateContainerConfigError", f'volume "{mount["name"]}" not found in the pod')
            if mount.get("subPath"):
                folder = folder / mount["subPath"]
                folder.mkdir(parents=True, exist_ok=True)
            mounts.append((mount["mountPath"], folder))
        pod_dir = self._pod_dir(pod)
        termination_log = pod_dir / "termination-log"
        termination_log.write_text("")
        mounts.append((container.get("terminationMessagePath") or "/dev/termination-log", termination_log))
        mounts.sort(key=lambda item: len(item[0]), reverse=True)
        argv = [*(container.get("command") or []), *(container.get("args") or [])]
        if not argv:
            raise ContainerConfigError("ContainerCannotRun", "the local runner needs an explicit command (images are not run)")
        argv = [rewrite_path(expand_references(arg, env), mounts) for arg in argv]
        port = self.rendezvous_ports.get((pod["metadata"].get("labels") or {}).get("controller-uid", ""))
        local_env = indexed.local_env(pod, {key: rewrite_path(value, mounts) for key, value in env.items()}, port)
        process_env = dict(os.environ)
        process_env["PATH"] = os.pathsep.join([*self.path_dirs, process_env.get("PATH", "")])
        process_env.update(local_env)
        process_env[TERMINATION_LOG_ENV] = str(termination_log)
        process_env.setdefault("DO_NOT_TRACK", "1")
        executable = shutil.which(argv[0], path=process_env["PATH"]) if not os.path.isabs(argv[0]) else argv[0]
        if executable is None:
            raise ContainerConfigError("StartError", f'exec: "{argv[0]}": executable file not found in $PATH')
        argv[0] = executable
        workdir = pathlib.Path(rewrite_path(container["workingDir"], mounts)) if container.get("workingDir") else pod_dir
        workdir.mkdir(parents=True, exist_ok=True)
        return argv, process_env, workdir, termination_log

    def _run_pod(self, uid: str, job: dict[str, Any], pod: dict[str, Any], deadline: float | None) -> str:
        """Run the pod's first container to the end; return succeeded/failed/deadline/suspended/gone."""
        container = pod["spec"]["containers"][0]
        pod_dir = self._pod_dir(pod)
        log_file = pod_dir / "log"
        started_at = _now()
        try:
            argv, env, workdir, termination_log = self._command(pod, container, self._env(pod, container))
        except ContainerConfigError as error:
            self._finish_pod(pod, container, exit_code=128, reason=error.reason, message=str(error), started_at=started_at)
            return "failed"
        self._set_pod_status(pod, {"phase": "Running", "containerStatuses": [{
            "name": container["name"], "image": container.get("image", ""), "ready": True, "restartCount": 0,
            "started": True, "state": {"running": {"startedAt": started_at}}}]})
        with open(log_file, "wb") as log:
            process = subprocess.Popen(argv, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            outcome = None
            shown, shown_at = 0, time.monotonic()
            looked_at = time.monotonic()
            while process.poll() is None:
                if time.monotonic() - shown_at >= LOG_PUSH_SECONDS and log_file.stat().st_size != shown:
                    # What a kubelet does for `kubectl logs`: the running container's output so far.
                    shown, shown_at = log_file.stat().st_size, time.monotonic()
                    self._store_log(pod, log_file.read_text(errors="replace"))
                latest = self._latest(uid)
                pod_lost = False
                if time.monotonic() - looked_at >= LOG_PUSH_SECONDS:
                    looked_at, pod_lost = time.monotonic(), not self._pod_exists(pod)
                if self._stopped.is_set() or latest is None:
                    outcome = "gone"
                elif pod_lost:
                    outcome = "lost"  # deleted (a node lost, a drain): the kubelet stops its containers
                elif (latest.get("spec") or {}).get("suspend"):
                    outcome = "suspended"
                elif deadline is not None and time.time() >= deadline:
                    outcome = "deadline"
                elif uid in self.halted:
                    outcome = "halted"
                if outcome is not None:
                    self._kill(process)
                    break
                time.sleep(0.05)
        exit_code = process.returncode
        log_text = log_file.read_text(errors="replace")
        if outcome == "gone" and self._stopped.is_set():
            return outcome
        self._store_log(pod, log_text)
        message = termination_log.read_bytes()[:TERMINATION_MESSAGE_LIMIT].decode("utf-8", "replace")
        failed = outcome is not None or exit_code != 0
        if failed and not message.strip() and container.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            tail = "".join(log_text.splitlines(keepends=True)[-FALLBACK_LOG_LINES:])
            message = tail.encode()[-FALLBACK_LOG_BYTES:].decode("utf-8", "replace")
        # A container the kernel killed (SIGKILL) without our asking is what a kubelet reports as an OOM kill.
        reason = "Completed" if not failed else "OOMKilled" if exit_code == -signal.SIGKILL and outcome is None else "Error"
        pod_reason = {"deadline": "DeadlineExceeded"}.get(outcome or "")
        try:
            self._finish_pod(pod, container, exit_code=exit_code if exit_code >= 0 else 128 - exit_code, reason=reason,
                             message=message, started_at=started_at, pod_reason=pod_reason)
        except KubeError as error:
            if error.status != 404:
                raise
        if outcome is not None:
            return outcome
        return "succeeded" if exit_code == 0 else "failed"

    def _pod_exists(self, pod: dict[str, Any]) -> bool:
        try:
            self.client.get(pod_path(pod["metadata"]["namespace"], pod["metadata"]["name"]))
        except KubeError as error:
            if error.status == 404:
                return False
            raise
        return True

    @staticmethod
    def _kill(process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def _store_log(self, pod: dict[str, Any], text: str) -> None:
        # The loopback API keeps it for `kubectl logs`; a real API has no such verb and answers an error.
        try:
            self.client.request("PUT", pod_path(pod["metadata"]["namespace"], pod["metadata"]["name"], "log"),
                                raw_body=text.encode(), content_type="text/plain")
        except KubeError:
            pass

    def _finish_pod(self, pod: dict[str, Any], container: dict[str, Any], exit_code: int, reason: str, message: str,
                    started_at: str, pod_reason: str | None = None) -> None:
        terminated = {"exitCode": exit_code, "reason": reason, "startedAt": started_at, "finishedAt": _now()}
        if message:
            terminated["message"] = message
        status: dict[str, Any] = {
            "phase": "Succeeded" if exit_code == 0 and reason == "Completed" else "Failed",
            "containerStatuses": [{"name": container["name"], "image": container.get("image", ""), "ready": False,
                                   "restartCount": 0, "started": False, "state": {"terminated": terminated}}],
        }
        if pod_reason:
            status["reason"] = pod_reason
            status["message"] = "Pod was active on the node longer than the specified deadline"
        self._set_pod_status(pod, status)
