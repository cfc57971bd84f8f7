"""The loopback kubelet's container mode: each stage pod runs as a real container of its image.

`ContainerRunner` is the `LocalRunner` with one change: a pod's first container runs
with podman (or docker) as a kubelet would run it, from the pod spec alone:

- the image, `command` as its entrypoint and `args` after it;
- the env, with ConfigMap and Secret references resolved (passed by name, so values
  never appear on a command line);
- volume mounts as host folders: a claim is a folder under the runner's root, a
  ConfigMap or Secret volume a read-only folder of its keys, an emptyDir a folder,
  or a tmpfs of its `sizeLimit` (or with `medium: Memory`);
- the security context: user and group, fsGroup (writable folders are handed to it,
  as a kubelet does for a claim), runAsNonRoot checked, a read-only root filesystem
  with no tmpfs added behind the pod's back, capabilities dropped, no privilege
  escalation;
- no network unless the pod has hostNetwork or the runner is told a network; the pods
  of an Indexed Job (the operator's distributed train Job) share an internal network
  made for that Job while it runs, each found by its host names under the Job's
  headless Service (tests/harness/indexed.py);
- the termination message read back from the file the container wrote at its
  `terminationMessagePath`.

Not emulated: CPU and memory limits, image pulls (images must be built here),
probes, and `seccompProfile` beyond the engine's default profile.

Why a network per Indexed Job, and not a pod of the engine's sharing one network
namespace: each container keeps a namespace and an address of its own, as pods on
different nodes do, so node 0 listens on the operator's MASTER_PORT unchanged and gloo
finds each node by its host name; podman's DNS (aardvark-dns, with netavark, its default
network stack since 4.0) answers the aliases, rootless too; and podman's pod needs an
infra container that `pod create` cannot give the ulimits this machine needs (its start
fails with "error setting rlimit"), where `network create` starts nothing.

`engine_command()` gives the engine and the flags this machine needs
(`scripts/images engine`, see ../shared/notes/real-containers.md), or None where no
engine runs containers here.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pathlib
import re
import subprocess
from typing import Any, Iterator

from tests.harness import indexed
from tests.harness.kubelet import ContainerConfigError, TERMINATION_LOG_ENV
from tests.harness.runner import LocalRunner

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROBE_IMAGE_ENV = "HOSPITAL_TEST_PROBE_IMAGE"
NETWORK_LABEL = "io.modelhospital.test-network"  # on the Indexed Jobs' networks: `podman network prune --filter label=...`
QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)([KMGTPE]i?|[kmgtpe])?$")
UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
         "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


@functools.lru_cache(maxsize=1)
def engine_command() -> tuple[str, ...] | None:
    """The container engine and the run flags this machine needs; None when none runs a container here."""
    answer = subprocess.run([str(ROOT / "scripts" / "images"), "engine"], capture_output=True, text=True)
    if answer.returncode != 0 or not answer.stdout.strip():
        return None
    command = tuple(answer.stdout.split("\n")[:-1])
    return command if _runs_a_container(command) else None


def _runs_a_container(command: tuple[str, ...]) -> bool:
    """Whether the engine starts a container of some local image (the first it lists that has a shell's `true`:
    not a pod's pause image, which podman makes for any pod and which holds one program only)."""
    image = os.environ.get(PROBE_IMAGE_ENV) or next(
        (name for name in local_images(command[0]) if "pause" not in name.rsplit("/", 1)[-1]), None)
    if image is None:
        return False
    probe = subprocess.run([command[0], "run", "--rm", *command[1:], "--network", "none", "--entrypoint", "true",
                            image], capture_output=True, timeout=120)
    return probe.returncode == 0


def local_images(engine: str) -> list[str]:
    """The repository:tag names of the images the engine holds."""
    listing = subprocess.run([engine, "images", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True)
    return [line for line in listing.stdout.splitlines() if line and "<none>" not in line]


def image_exists(engine: str, image: str) -> bool:
    return subprocess.run([engine, "image", "inspect", image], capture_output=True).returncode == 0


def image_is_current(engine: str, image: str, name: str) -> bool:
    """Whether the image was built from this tree's code (`scripts/images` stamps a digest of it as a label)."""
    stamped = subprocess.run([str(ROOT / "scripts" / "images"), "digest", name], capture_output=True, text=True)
    label, _, digest = stamped.stdout.strip().partition("=")
    answer = subprocess.run([engine, "image", "inspect", "--format", f'{{{{index .Labels "{label}"}}}}', image],
                            capture_output=True, text=True)
    return stamped.returncode == 0 and bool(digest) and answer.stdout.strip() == digest


def unready(images: dict[str, str]) -> tuple[tuple[str, ...] | None, str | None]:
    """The engine, and why the container tests cannot run here with these images (image -> its name in
    `scripts/images`): turned off, no engine, or an image missing or built from other code; None when they can."""
    if os.environ.get("HOSPITAL_TEST_CONTAINERS") == "0":
        return None, "HOSPITAL_TEST_CONTAINERS=0: the container end-to-end tests are turned off"
    engine = engine_command()
    if engine is None:
        return None, "no container engine runs containers here (apt-get install podman runc; docs/install.md)"
    make = f"make images IMAGES='{' '.join(images.values())}'"
    missing = [image for image in images if not image_exists(engine[0], image)]
    if missing:
        return engine, f"{', '.join(missing)} not built here: {make}"
    stale = [image for image, name in images.items() if not image_is_current(engine[0], image, name)]
    if stale:
        return engine, f"{', '.join(stale)} built from other code than this tree's: {make}"
    return engine, None


def quantity_bytes(quantity: str) -> int:
    """A Kubernetes quantity ("64Mi", "1G", "500000") in bytes."""
    match = QUANTITY.match(str(quantity).strip())
    if not match or (match.group(2) or "") not in UNITS:
        raise ContainerConfigError("CreateContainerConfigError", f"cannot read the quantity {quantity!r}")
    return int(float(match.group(1)) * UNITS[match.group(2) or ""])


def security(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    """The container's effective security context: its own fields over the pod's."""
    merged = dict((pod.get("spec") or {}).get("securityContext") or {})
    merged.update(container.get("securityContext") or {})
    return merged


class ContainerRunner(LocalRunner):
    """Runs the Jobs of a Kubernetes API as containers of their images (see the module docstring)."""

    def __init__(self, api, root, engine: tuple[str, ...], network: str = "none", **kwargs: Any) -> None:
        super().__init__(api, root, path_dirs=[], **kwargs)
        self.engine = engine
        self.network = network
        self.commands: list[list[str]] = []  # every engine command line run, for assertions
        self.job_networks: dict[str, str] = {}  # Indexed Job uid -> the network its containers share while it runs

    def _command(self, pod, container, env):
        """The engine's argv, its environment, the working directory and the termination-log file of a pod."""
        context = security(pod, container)
        user, group = context.get("runAsUser"), context.get("runAsGroup", context.get("runAsUser"))
        image = container.get("image") or ""
        if context.get("runAsNonRoot") and user in (None, 0):
            user = self._image_user(image) if user is None else 0
            if user in (None, 0):
                raise ContainerConfigError("CreateContainerConfigError", "container has runAsNonRoot and image will run as root")
        if container.get("imagePullPolicy") == "Always" or not image_exists(self.engine[0], image):
            raise ContainerConfigError("ErrImagePull", f'image "{image}" is not here: build it (make images)')
        pod_dir = self._pod_dir(pod)
        name = self._container_name(pod)
        argv = [self.engine[0], "run", "--rm", "--name", name, *self.engine[1:], "--pull=never"]
        owner = (user, context.get("fsGroup", group))
        argv += self._mounts(pod, container, owner)
        termination_log = pod_dir / "termination-log"
        termination_log.write_text("")
        self._hand_over(termination_log, owner)
        argv += ["-v", f"{termination_log}:{container.get('terminationMessagePath') or '/dev/termination-log'}"]
        if user is not None:
            argv += ["--user", f"{user}:{group if group is not None else user}"]
        if context.get("fsGroup") is not None:
            argv += ["--group-add", str(context["fsGroup"])]
        if context.get("readOnlyRootFilesystem"):
            argv += ["--read-only", "--read-only-tmpfs=false"]
        for capability in (context.get("capabilities") or {}).get("drop") or []:
            argv += ["--cap-drop", capability]
        for capability in (context.get("capabilities") or {}).get("add") or []:
            argv += ["--cap-add", capability]
        if context.get("allowPrivilegeEscalation") is False:
            argv += ["--security-opt", "no-new-privileges"]
        if context.get("privileged"):
            argv += ["--privileged"]
        argv += self._network(pod)
        for key in env:
            argv += ["-e", key]  # the value comes from the engine's own environment: never on a command line
        if container.get("workingDir"):
            argv += ["-w", container["workingDir"]]
        if container.get("command"):
            argv += ["--entrypoint", json.dumps(container["command"])]
        argv += [image, *(container.get("args") or [])]
        process_env = {key: value for key, value in os.environ.items() if key != TERMINATION_LOG_ENV}
        process_env.update(env)
        self.commands.append(argv)
        return argv, process_env, pod_dir, termination_log

    def _network(self, pod) -> list[str]:
        """The engine's network flags: the host's, the Indexed Job's own network under the pod's names, or the
        runner's (none by default)."""
        spec = pod.get("spec") or {}
        if spec.get("hostNetwork"):
            return ["--network", "host"]
        network = self.job_networks.get((pod["metadata"].get("labels") or {}).get("controller-uid", ""))
        if network is None:
            return ["--network", self.network]
        flags = ["--network", network, "--hostname", spec.get("hostname") or pod["metadata"]["name"]]
        for name in indexed.pod_names(pod):
            flags += ["--network-alias", name]
        return flags

    @contextlib.contextmanager
    def _indexed_network(self, uid, job) -> Iterator[None]:
        """An internal network for the Job's containers while it runs, removed after them."""
        name = f"mh-job-{uid}"
        made = subprocess.run([self.engine[0], "network", "create", "--internal", "--label", f"{NETWORK_LABEL}=1",
                               name], capture_output=True, text=True, timeout=60)
        if made.returncode != 0:
            raise RuntimeError(f"{self.engine[0]} network create {name} failed: {made.stderr.strip()[-500:]}")
        self.job_networks[uid] = name
        try:
            yield
        finally:
            self.job_networks.pop(uid, None)
            subprocess.run([self.engine[0], "network", "rm", "-f", name], capture_output=True, timeout=60)

    def _mounts(self, pod, container, owner) -> list[str]:
        """The engine's volume flags for the container's volumeMounts."""
        volumes = {volume["name"]: volume for volume in (pod.get("spec") or {}).get("volumes") or []}
        folders = self._volumes(pod)
        flags: list[str] = []
        for mount in container.get("volumeMounts") or []:
            volume = volumes.get(mount["name"])
            if volume is None:
                raise ContainerConfigError("CreateContainerConfigError", f'volume "{mount["name"]}" not found in the pod')
            empty_dir = volume.get("emptyDir")
            if empty_dir is not None and (empty_dir.get("sizeLimit") or empty_dir.get("medium") == "Memory"):
                options = ["rw", "mode=1777"]
                if empty_dir.get("sizeLimit"):
                    options.append(f"size={quantity_bytes(empty_dir['sizeLimit'])}")
                flags += ["--tmpfs", f"{mount['mountPath']}:{','.join(options)}"]
                continue
            folder = folders[mount["name"]]
            if mount.get("subPath"):
                folder = folder / mount["subPath"]
                folder.mkdir(parents=True, exist_ok=True)
            read_only = (mount.get("readOnly") or "configMap" in volume or "secret" in volume
                         or (volume.get("persistentVolumeClaim") or {}).get("readOnly"))
            if not read_only:
                self._hand_over(folder, owner)
            flags += ["-v", f"{folder}:{mount['mountPath']}:{'ro' if read_only else 'rw'}"]
        return flags

    @staticmethod
    def _hand_over(path: pathlib.Path, owner: tuple[int | None, int | None]) -> None:
        """Give a writable volume to the pod's user and fsGroup, as the kubelet does with fsGroup."""
        user, group = owner
        if user is None and group is None:
            return
        for item in [path, *(path.rglob("*") if path.is_dir() else [])]:
            os.chown(item, user if user is not None else -1, group if group is not None else -1)

    def _image_user(self, image: str) -> int | None:
        answer = subprocess.run([self.engine[0], "image", "inspect", "--format", "{{.Config.User}}", image],
                                capture_output=True, text=True)
        user = answer.stdout.strip().split(":")[0]
        return int(user) if user.isdigit() else None

    @staticmethod
    def _container_name(pod) -> str:
        return f"mh-{pod['metadata']['namespace']}-{pod['metadata']['name']}"[:120]

    def _kill(self, process) -> None:
        # Killing the engine's client leaves the container running: remove it by name too.
        for argv in self.commands:
            if process.args == argv:
                subprocess.run([self.engine[0], "rm", "-f", "-t", "0", argv[argv.index("--name") + 1]],
                               capture_output=True, timeout=60)
        super()._kill(process)
