"""Running model-written Python where it can do no harm: a podman container, else a restricted subprocess.

The coding skill (clinic/coding.py) runs each answer's function against its unit
tests here. Both sandboxes run the same small runner over a folder of programs,
one program at a time, each with a timeout and resource limits (address space,
CPU seconds, file size, open files) and a clean environment:

- podman, where podman is installed and the sandbox image is present locally:
  no network, a read-only root and a read-only folder of programs, every
  capability dropped, no new privileges, an unprivileged user, a memory and a
  process limit for the whole container;
- otherwise a subprocess of this Python in isolated mode (no site-packages, no
  PYTHON* variables) in a temporary folder, with an empty environment (no proxy
  settings) and, where unprivileged user namespaces allow it (`unshare -rn`), in
  a network namespace of its own with no interface but loopback.

$HOSPITAL_SANDBOX chooses (`podman` or `subprocess`; default: podman when it can
run) and $HOSPITAL_SANDBOX_IMAGE names the image (docs/suites.md). A sandbox that
cannot run at all is an error, never a failed task: the model is not at fault.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from model_hospital.errors import HospitalError

DEFAULT_IMAGE = "localhost/model-hospital-base:bookworm"
SECONDS_PER_PROGRAM = 5
MEMORY_BYTES = 256 * 2**20
OUTPUT_BYTES = 2000

# Runs every programs/NNNN.py in order with the limits, one JSON line per program. Standard library only:
# it runs in the sandbox image's own python3 too.
RUNNER = r'''
import json, os, resource, signal, subprocess, sys
folder, seconds, memory = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def limits():
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # The CPU limit warns (SIGXCPU) at the budget and kills a program that ignores it a second later.
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

for name in sorted(n for n in os.listdir(folder) if n.endswith(".py")):
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-B", os.path.join(folder, name)], capture_output=True,
                              timeout=seconds, preexec_fn=limits, env={"LANG": "C.UTF-8"}, stdin=subprocess.DEVNULL)
        status = "passed" if done.returncode == 0 else "failed"
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        if done.returncode == -signal.SIGXCPU:  # on a busy machine the CPU limit can come before the clock's
            status, detail = "timeout", [f"used its {seconds} s of CPU"]
    except subprocess.TimeoutExpired:
        status, detail = "timeout", [f"ran past {seconds} s"]
    print(json.dumps({"program": name, "status": status, "detail": detail[0][:300]}), flush=True)
'''


@dataclass(frozen=True)
class ProgramRun:
    """How one program ended: passed (exit 0), failed (an exception, a failed assert) or timeout."""

    status: Literal["passed", "failed", "timeout"]
    detail: str
    sandbox: str


def sandbox_kind() -> str:
    """The sandbox programs run in here: "podman" or "subprocess"."""
    chosen = os.environ.get("HOSPITAL_SANDBOX", "").strip().lower()
    if chosen not in ("", "podman", "subprocess"):
        raise HospitalError(f"HOSPITAL_SANDBOX={chosen!r}: choose podman or subprocess, or unset it")
    if chosen == "podman" and not _podman_runs(_image()):
        raise HospitalError(f"HOSPITAL_SANDBOX=podman, but podman cannot run the image {_image()} here: "
                            "build it (scripts/images base) or name another with HOSPITAL_SANDBOX_IMAGE")
    if chosen:
        return chosen
    return "podman" if _podman_runs(_image()) else "subprocess"


def run_programs(programs: list[str]) -> list[ProgramRun]:
    """How each program ended, in order, run one by one in the sandbox."""
    if not programs:
        return []
    kind = sandbox_kind()
    with tempfile.TemporaryDirectory(prefix="hospital-sandbox-") as work:
        folder = Path(work) / "programs"
        folder.mkdir()
        for index, program in enumerate(programs):
            (folder / f"{index:05d}.py").write_text(program, encoding="utf-8")
        (Path(work) / "runner.py").write_text(RUNNER, encoding="utf-8")
        # Readable by the container's unprivileged user whatever this process's umask is; written by no one.
        for path in (Path(work), folder):
            path.chmod(0o755)
        for path in (Path(work) / "runner.py", *folder.iterdir()):
            path.chmod(0o444)
        command = _podman_command(work) if kind == "podman" else _subprocess_command(work)
        budget = len(programs) * (SECONDS_PER_PROGRAM + 2) + 60
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=budget, cwd=work,
                                  env=None if kind == "podman" else {"LANG": "C.UTF-8"})
        except subprocess.TimeoutExpired:
            raise HospitalError(f"the {kind} sandbox ran past {budget} s for {len(programs)} programs") from None
    runs = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or len(runs) != len(programs):
        raise HospitalError(f"the {kind} sandbox failed (exit {done.returncode}, {len(runs)} of {len(programs)} "
                            f"programs run): {done.stderr.strip()[-OUTPUT_BYTES:]}")
    return [ProgramRun(run["status"], run["detail"], kind) for run in runs]


def _image() -> str:
    return os.environ.get("HOSPITAL_SANDBOX_IMAGE") or DEFAULT_IMAGE


def _podman_flags() -> list[str]:
    """The flags podman needs on hosts like ours (shared/notes/real-containers.md): runc where cgroups are
    hybrid, and ulimits at or under the hard limits."""
    flags = []
    if Path("/sys/fs/cgroup/unified").is_dir() and os.access("/usr/sbin/runc", os.X_OK):
        flags += ["--runtime", "/usr/sbin/runc"]
    for name, limit, most in (("nofile", resource.RLIMIT_NOFILE, 1024), ("nproc", resource.RLIMIT_NPROC, 4096)):
        hard = resource.getrlimit(limit)[1]
        value = most if hard == resource.RLIM_INFINITY else min(most, hard)
        flags += ["--ulimit", f"{name}={value}:{value}"]
    return flags


def _podman_command(work: str) -> list[str]:
    return ["podman", "run", "--rm", *_podman_flags(), "--network", "none", "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--user", "65534:65534", "--memory", str(MEMORY_BYTES * 2),
            "--pids-limit", "64", "-v", f"{work}:/sandbox:ro", "--workdir", "/sandbox", _image(),
            "python3", "-I", "-S", "-B", "/sandbox/runner.py", "/sandbox/programs", str(SECONDS_PER_PROGRAM),
            str(MEMORY_BYTES)]


def _subprocess_command(work: str) -> list[str]:
    runner = [sys.executable, "-I", "-S", "-B", f"{work}/runner.py", f"{work}/programs", str(SECONDS_PER_PROGRAM),
              str(MEMORY_BYTES)]
    return (["unshare", "-rn"] if _own_network_namespace() else []) + runner


@functools.lru_cache(maxsize=1)
def _own_network_namespace() -> bool:
    """Whether `unshare -rn` gives a process a network namespace of its own here."""
    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.lru_cache(maxsize=4)
def _podman_runs(image: str) -> bool:
    """Whether podman is installed and holds the image locally (nothing is pulled)."""
    if not shutil.which("podman"):
        return False
    try:
        return subprocess.run(["podman", "image", "exists", image], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
