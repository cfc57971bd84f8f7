"""`hospital doctor`: what this machine can run (locally and on Kubernetes), and what to do about the rest.

Each check gives a state and, when not ok, the one thing to do. Nothing is built,
downloaded or changed. The exit code is 0 when this environment can run something
(the local stages or the operator) with everything that needs, else 1.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from dataclasses import dataclass

OK, WARN = "ok", "warn"


@dataclass
class Check:
    """One finding: what was checked, its state, what was found and what to do."""

    name: str
    state: str
    found: str
    todo: str = ""


def register(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="check this environment and say what to do")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.set_defaults(handler=handle)


def extras_checks() -> list[Check]:
    """Which extras this Python environment has."""
    from model_hospital.extras import install_hint, missing_modules

    checks = []
    for extra, modules, role in (("worker", ("oumi", "torch", "transformers"), "the stages, hospital treat"),
                                 ("operator", ("kopf", "kubernetes"), "the operator"),
                                 ("gpu", ("vllm",), "--engine vllm")):
        missing = missing_modules(*modules)
        # Worker and operator live in separate environments (their pins clash): one missing is normal.
        state = OK if not missing else WARN
        found = f"{', '.join(modules)} installed" if not missing else f"no {', '.join(missing)}"
        checks.append(Check(f"extra {extra} ({role})", state, found, "" if not missing else install_hint(extra)))
    return checks


def bundled_checks() -> list[Check]:
    """Whether the bundled patients are prepared in the model cache."""
    from model_hospital.clinic import models
    from model_hospital.errors import HospitalError

    checks = []
    tiny = models.tiny_model_path()
    checks.append(Check("bundled:tiny-random-llama", OK if models.is_prepared(tiny) else WARN, str(tiny),
                        "" if models.is_prepared(tiny) else "hospital models prepare --only tiny (built on first use otherwise)"))
    try:
        smollm2 = models.smollm2_path()
    except HospitalError as error:
        checks.append(Check("bundled:smollm2-135m-instruct", WARN, "not installed", str(error)))
    else:
        prepared = models.is_prepared(smollm2)
        checks.append(Check("bundled:smollm2-135m-instruct", OK if prepared else WARN, str(smollm2),
                            "" if prepared else "hospital models prepare --only smollm2 (converted on first use otherwise)"))
    return checks


def gpu_check() -> Check:
    """Whether torch sees a CUDA device (or, without torch, whether nvidia-smi exists)."""
    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            return Check("GPU", OK, f"{torch.cuda.device_count()} CUDA device(s): {torch.cuda.get_device_name(0)}")
        return Check("GPU", WARN, "torch sees no CUDA device: the stages run on the CPU (fine for the bundled models)",
                     "on a GPU machine, install torch with CUDA; on Kubernetes, stages with gpu: 1 use the GPU image")
    found = shutil.which("nvidia-smi")
    return Check("GPU", WARN, f"no torch here; nvidia-smi {'found' if found else 'not found'}", "")


def _run(argv: list[str], timeout: float = 10) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None


def kube_checks() -> list[Check]:
    """The kube context, and whether the CRDs are installed there."""
    if shutil.which("kubectl") is None:
        return [Check("kube context", WARN, "no kubectl on PATH", "install kubectl to use a cluster (docs/install.md)")]
    context = _run(["kubectl", "config", "current-context"])
    if context is None or context.returncode != 0:
        return [Check("kube context", WARN, "no current context", "kubectl config use-context NAME (or set KUBECONFIG)")]
    name = context.stdout.strip()
    crds = _run(["kubectl", "get", "crd", "modelpatients.modelhospital.io", "treatments.modelhospital.io",
                 "--request-timeout=5s", "-o", "name"])
    if crds is None or crds.returncode != 0:
        reason = (crds.stderr.strip().splitlines() or ["no answer"])[-1] if crds else "no answer in 10 s"
        return [Check("kube context", OK, name),
                Check("CRDs", WARN, reason[:160], "helm install hospital charts/model-hospital ... (docs/install.md)")]
    return [Check("kube context", OK, name), Check("CRDs", OK, "modelpatients and treatments installed")]


def image_checks() -> list[Check]:
    """Whether a container engine is here, and which of the three images it holds."""
    from model_hospital import __version__

    engine = shutil.which("podman")
    if engine is None and shutil.which("docker"):
        # Some machines carry the docker client alone: an engine only where its daemon answers.
        daemon = _run(["docker", "info"], timeout=20)
        if daemon is None or daemon.returncode != 0:
            return [Check("images", WARN, "docker is installed but its daemon does not answer",
                          "start the docker daemon, or apt-get install podman runc (scripts/setup-containers --install)")]
        engine = shutil.which("docker")
    if engine is None:
        return [Check("images", WARN, "no podman or docker here",
                      "build the images where one runs: make images; REGISTRY=... make push-images (docs/install.md)")]
    missing = []
    for image in ("operator", "worker", "worker-gpu"):
        name = f"ghcr.io/model-hospital/{image}:{__version__}"
        answer = _run([engine, "image", "inspect", name], timeout=30)
        if answer is None or answer.returncode != 0:
            missing.append(image)
    if not missing:
        return [Check("images", OK, f"operator, worker and worker-gpu {__version__} built with {engine}")]
    return [Check("images", WARN, f"not built here: {', '.join(missing)}",
                  f"make images IMAGES='{' '.join(missing)}', then REGISTRY=... make push-images (docs/install.md)")]


def all_checks() -> list[Check]:
    return [*extras_checks(), *bundled_checks(), gpu_check(), *kube_checks(), *image_checks()]


def handle(args) -> int:
    import json

    from rich.markup import escape
    from rich.table import Table

    from model_hospital.cli.console import console, print_json

    checks = all_checks()
    by_name = {check.name.split(" (")[0]: check for check in checks}
    runs_something = by_name["extra worker"].state == OK or by_name["extra operator"].state == OK
    if args.json:
        print_json(json.dumps({"ok": runs_something, "checks": [check.__dict__ for check in checks]}))
        return 0 if runs_something else 1
    colour = {OK: "green", WARN: "yellow"}
    table = Table(title="hospital doctor")
    for column in ("check", "state", "found", "what to do"):
        table.add_column(column, overflow="fold")
    for check in checks:
        table.add_row(check.name, f"[{colour[check.state]}]{check.state}[/]", escape(check.found), escape(check.todo))
    out = console()
    out.print(table)
    if not runs_something:
        out.print("[red]this environment runs neither the stages nor the operator:[/] install an extra above")
    return 0 if runs_something else 1
