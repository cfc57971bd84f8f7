"""The local runner's kubelet: a Job's pod run as a local process, its status written back.

A mixin of ``LocalRunner`` (tests/harness/runner.py): it creates a Job's pods,
translates a pod's first container into a local process (volumes mapped to
folders under the runner's root, ConfigMap/Secret content and env resolved,
``$(VAR)`` references expanded, the termination-message file), runs it to the
end, and writes the pod's status and log as a kubelet does.
"""

import base64
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time
from typing import Any

from tests.harness import indexed
from tests.harness.kubeclient import KubeError, now_rfc3339, pod_path

TERMINATION_LOG_ENV = "HOSPITAL_TERMINATION_LOG"
TERMINATION_MESSAGE_LIMIT = 4096  # the kubelet keeps at most 4 KiB of a termination message
FALLBACK_LOG_LINES = 80  # FallbackToLogsOnError: the kubelet keeps the last 80 lines, at most 2 KiB
LOG_PUSH_SECONDS = 0.5  # how often a running container's log reaches the API (kubectl logs, the operator)
FALLBACK_LOG_BYTES = 2048


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


class Kubelet:
    """What a kubelet does for the runner's pods, as a mixin of ``LocalRunner``."""

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
        self._set_pod_status(created, {"phase": "Pending", "conditions": [], "startTime": now_rfc3339()})
        return created

    def _set_pod_status(self, pod: dict[str, Any], status: dict[str, Any]) -> None:
        self.client.patch(pod_path(pod["metadata"]["namespace"], pod["metadata"]["name"], "status"), {"status": status})

    def _pod_dir(self, pod: dict[str, Any]) -> pathlib.Path:
        folder = self.root / "pods" / pod["metadata"]["namespace"] / pod["metadata"]["name"]
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _secret(self, namespace: str, name: str) -> dict[str, str]:
        secret = self._mounted_object(namespace, "secrets", "secret", name)
        return {key: base64.b64decode(value).decode("utf-8", "replace") for key, value in (secret.get("data") or {}).items()}

    def _config_map(self, namespace: str, name: str) -> dict[str, str]:
        config_map = self._mounted_object(namespace, "configmaps", "configmap", name)
        data = dict(config_map.get("data") or {})
        for key, value in (config_map.get("binaryData") or {}).items():
            data[key] = base64.b64decode(value).decode("utf-8", "replace")
        return data

    def _mounted_object(self, namespace: str, plural: str, kind: str, name: str) -> dict[str, Any]:
        """A Secret or ConfigMap a pod reads; a missing one stops the pod as the kubelet does."""
        try:
            return self.client.get(f"/api/v1/namespaces/{namespace}/{plural}/{name}")
        except KubeError as error:
            if error.status == 404:
                raise ContainerConfigError("CreateContainerConfigError", f'{kind} "{name}" not found') from None
            raise

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
        started_at = now_rfc3339()
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
        terminated = {"exitCode": exit_code, "reason": reason, "startedAt": started_at, "finishedAt": now_rfc3339()}
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
