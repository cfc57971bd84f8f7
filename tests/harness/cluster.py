"""A Kubernetes API for tests: the loopback server in a thread, or a real cluster, driven by kubectl.

The server runs on its own event loop in a daemon thread, so sync tests may call
``subprocess.run(["kubectl", ...])`` without deadlocking it (notes M3). Every
cluster object gets its own kubectl cache directory, because gcloud's kubectl
dispatcher picks a client by the server's version and caches discovery (K1).

A real cluster is opt-in: HOSPITAL_TEST_REAL_CLUSTER=1 together with KUBECONFIG,
so a developer's ambient KUBECONFIG is never used by accident (``choose_mode``).
"""

import asyncio
import math
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import kmock
import pytest
import yaml

from tests.harness.kubeapi import LoopbackKubeAPI
from tests.harness.runner import LocalRunner

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"

REAL_CLUSTER_VARIABLE = "HOSPITAL_TEST_REAL_CLUSTER"
WORKER_IMAGE_VARIABLE = "HOSPITAL_TEST_WORKER_IMAGE"
STORAGE_CLASS_VARIABLE = "HOSPITAL_TEST_STORAGE_CLASS"
TIMEOUT_SCALE_VARIABLE = "HOSPITAL_TEST_TIMEOUT_SCALE"
LOOPBACK_TIMEOUT_SCALE = 1.0
REAL_TIMEOUT_SCALE = 5.0  # image pulls, scheduling and a slower node than this machine


@dataclass(frozen=True)
class ClusterMode:
    """Where the Kubernetes tests run: the loopback API, a real cluster, or nowhere (with the reason)."""

    kind: Literal["loopback", "real", "skip"]
    reason: str = ""
    kubeconfig: pathlib.Path | None = None
    worker_image: str | None = None
    storage_class: str | None = None
    timeout_scale: float = LOOPBACK_TIMEOUT_SCALE

    @property
    def real(self) -> bool:
        return self.kind == "real"

    def seconds(self, timeout: float) -> float:
        """A wait timeout written for the loopback API, stretched for this mode."""
        return timeout * self.timeout_scale


def timeout_scale(environ: Mapping[str, str], default: float) -> float:
    """The factor from $HOSPITAL_TEST_TIMEOUT_SCALE, ``default`` when unset; ValueError when not a positive number."""
    text = environ.get(TIMEOUT_SCALE_VARIABLE, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"${TIMEOUT_SCALE_VARIABLE} must be a positive number such as 5, not {text!r}")
    return value


def choose_mode(environ: Mapping[str, str], worker_image_required: bool = False) -> ClusterMode:
    """The mode the environment asks for: real only with HOSPITAL_TEST_REAL_CLUSTER=1 and KUBECONFIG, else loopback.

    ``worker_image_required``: the caller runs stage Jobs on the cluster's kubelet, so
    a real cluster also needs $HOSPITAL_TEST_WORKER_IMAGE.
    """
    if environ.get(REAL_CLUSTER_VARIABLE, "") != "1":
        return ClusterMode("loopback", timeout_scale=timeout_scale(environ, LOOPBACK_TIMEOUT_SCALE))
    scale = timeout_scale(environ, REAL_TIMEOUT_SCALE)
    kubeconfig = environ.get("KUBECONFIG", "")
    if not kubeconfig:
        return ClusterMode("skip", f"{REAL_CLUSTER_VARIABLE}=1 needs KUBECONFIG set to the real cluster's kubeconfig",
                           timeout_scale=scale)
    image = environ.get(WORKER_IMAGE_VARIABLE, "").strip()
    if worker_image_required and not image:
        return ClusterMode("skip", f"a real cluster runs the stage Jobs from an image: set {WORKER_IMAGE_VARIABLE} "
                                   "to a worker image the cluster can pull (on kind: one loaded with kind load docker-image)",
                           kubeconfig=pathlib.Path(kubeconfig), timeout_scale=scale)
    return ClusterMode("real", kubeconfig=pathlib.Path(kubeconfig), worker_image=image or None,
                       storage_class=environ.get(STORAGE_CLASS_VARIABLE, "").strip() or None, timeout_scale=scale)


class Cluster(Protocol):
    """What tests get from the ``kube`` fixture, for the loopback API and a real cluster alike."""

    kubeconfig: pathlib.Path
    namespace: str

    def kubectl(self, *args: str, check: bool = True, input: str | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]: ...

    def stop(self) -> None: ...


def write_kubeconfig(path: pathlib.Path, server: str, namespace: str = "default") -> pathlib.Path:
    """Write a kubeconfig for a plain-http server with a dummy token and return its path."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "loopback", "cluster": {"server": server}}],
        "users": [{"name": "tester", "user": {"token": "loopback-token"}}],
        "contexts": [{"name": "loopback", "context": {"cluster": "loopback", "user": "tester", "namespace": namespace}}],
        "current-context": "loopback",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def _kubectl_env(kubeconfig: pathlib.Path, cache_dir: pathlib.Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(KUBECONFIG=str(kubeconfig), KUBECACHEDIR=str(cache_dir), DO_NOT_TRACK="1")
    return env


def run_kubectl(kubeconfig: pathlib.Path, cache_dir: pathlib.Path, args: tuple[str, ...], check: bool,
                input: str | None, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run the real kubectl against a kubeconfig and return the finished process."""
    command = [KUBECTL, f"--cache-dir={cache_dir}", *args]
    result = subprocess.run(command, env=_kubectl_env(kubeconfig, cache_dir), input=input,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


class LoopbackCluster:
    """The loopback API served from a daemon thread, with a kubeconfig and a private kubectl cache."""

    def __init__(self, workdir: pathlib.Path | None = None, port: int | None = None, namespace: str = "default") -> None:
        self.workdir = pathlib.Path(workdir or tempfile.mkdtemp(prefix="loopback-kube-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cache_dir = self.workdir / "kubectl-cache"
        self.namespace = namespace
        self.api = LoopbackKubeAPI()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._port = port
        self.url = ""
        self._thread = threading.Thread(target=self._run, name="loopback-kube-api", daemon=True)
        self._thread.start()
        self._started.wait(timeout=30)
        if self._failure is not None:
            raise RuntimeError("the loopback API did not start") from self._failure
        self.kubeconfig = write_kubeconfig(self.workdir / "kubeconfig", self.url, namespace)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to the starting thread
            self._failure = error
            self._started.set()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        async with self.api, kmock.Server(self.api, host="127.0.0.1", port=self._port) as server:
            self.url = f"http://127.0.0.1:{server.port}"
            self._started.set()
            await self._stopping.wait()
            self.api.close_watches()
            await asyncio.sleep(0.05)

    def call(self, function: Any, *args: Any) -> Any:
        """Run a function on the server's loop (the store is not thread-safe) and return its result."""
        async def runner() -> Any:
            return function(*args)
        return asyncio.run_coroutine_threadsafe(runner(), self._loop).result(timeout=30)

    def kubectl(self, *args: str, check: bool = True, input: str | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the real kubectl against this API and return the finished process."""
        return run_kubectl(self.kubeconfig, self.cache_dir, args, check, input, timeout)

    def stop(self) -> None:
        """Stop the server and its thread."""
        if self._stopping is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout=10)

    def __enter__(self) -> "LoopbackCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RealCluster:
    """A real cluster from $KUBECONFIG, confined to a namespace created for this test run."""

    def __init__(self, kubeconfig: pathlib.Path, workdir: pathlib.Path) -> None:
        self.kubeconfig = kubeconfig
        self.cache_dir = workdir / "kubectl-cache"
        self.namespace = f"hospital-test-{uuid.uuid4().hex[:8]}"
        self.api = None
        self.kubectl("create", "namespace", self.namespace)

    def kubectl(self, *args: str, check: bool = True, input: str | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run kubectl against the real cluster, in this run's namespace unless -n/-A is given."""
        scoped = any(arg in ("-n", "-A", "--all-namespaces") or arg.startswith("--namespace") for arg in args)
        full = args if scoped else (*args, "-n", self.namespace)
        return run_kubectl(self.kubeconfig, self.cache_dir, full, check, input, timeout)

    def stop(self) -> None:
        """Delete this run's namespace (and with it everything the tests made)."""
        self.kubectl("delete", "namespace", self.namespace, "--wait=false", check=False)


def wants_real_cluster() -> bool:
    """Return whether the tests should use the real cluster that $KUBECONFIG points at."""
    return choose_mode(os.environ).real


def open_cluster(workdir: pathlib.Path) -> LoopbackCluster | RealCluster:
    """Return the cluster the tests run against: the real one when asked for, else the loopback API (skips when neither)."""
    mode = choose_mode(os.environ)
    if mode.kind == "skip":
        pytest.skip(mode.reason)
    if mode.real:
        assert mode.kubeconfig is not None
        return RealCluster(mode.kubeconfig, workdir)
    return LoopbackCluster(workdir)


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCluster | RealCluster]:
    """A Kubernetes API for one test module: loopback, or real with HOSPITAL_TEST_REAL_CLUSTER=1."""
    cluster = open_cluster(tmp_path_factory.mktemp("kube"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCluster]:
    """Always the loopback API (for tests that inspect ``loopback.api`` or inject faults)."""
    cluster = LoopbackCluster(tmp_path_factory.mktemp("loopback"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def job_runner(kube: LoopbackCluster | RealCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRunner | None]:
    """The local runner playing Job controller and kubelet for ``kube`` (None on a real cluster, which has its own)."""
    if isinstance(kube, RealCluster):
        yield None
        return
    runner = LocalRunner(kube.kubeconfig, root=tmp_path_factory.mktemp("jobs")).start()
    try:
        yield runner
    finally:
        runner.stop()
