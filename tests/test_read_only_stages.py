"""Every stage of a tiny treatment runs with a read-only root filesystem, as in a stage pod.

A stage pod may write only to /tmp and the artifact volume; the image's model cache is
read-only. Here the stages run as `hospital stage` subprocesses (`hospital treat
--subprocess`) in a container whose root filesystem is read-only, with this checkout and
its environment mounted read-only, the model cache read-only, an empty /tmp and the run
folder as the only writable places, no capabilities and no network. It needs no built
worker image (any local Debian-like image runs the host's Python); it is skipped where
no container engine runs containers.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from tests.harness.containers import engine_command, image_exists, local_images

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROBE_IMAGES = ("localhost/model-hospital-base:bookworm",)


def host_image(engine: str) -> str | None:
    """A local image that runs this machine's Python: the made base, else the operator image."""
    candidates = [*PROBE_IMAGES, *(image for image in local_images(engine) if "/operator:" in image)]
    return next((image for image in candidates if image_exists(engine, image)), None)


def python_paths() -> list[pathlib.Path]:
    """The folders this interpreter and its environment live in (mounted read-only at the same paths)."""
    interpreter = pathlib.Path(os.path.realpath(sys.executable)).parents[1]
    return sorted({interpreter, pathlib.Path(os.path.realpath(sys.prefix)), ROOT}, key=str)


def tiny_model_cache() -> pathlib.Path:
    """The model cache holding the tiny patient, built here first (the images bake it in)."""
    from model_hospital.clinic.models import build_tiny_model, cache_root

    build_tiny_model()
    return cache_root()


def test_a_tiny_treatment_runs_every_stage_with_a_read_only_root_filesystem(tmp_path):
    engine = engine_command()
    if engine is None:
        pytest.skip("no container engine runs containers here (apt-get install podman runc; docs/install.md)")
    image = host_image(engine[0])
    if image is None:
        pytest.skip("no local Debian-like image to run the host's Python in: scripts/images base makes one")
    cache = tiny_model_cache()
    run = tmp_path / "run"
    run.mkdir()
    mounts = [flag for path in python_paths() for flag in ("-v", f"{path}:{path}:ro")]
    # The pod's user is 1000; here the host's Python sits under /root (mode 700), so root
    # runs it, without a single capability: a read-only mount stays read-only for it.
    argv = [engine[0], "run", "--rm", *engine[1:], "--pull=never", "--read-only", "--read-only-tmpfs=false",
            "--tmpfs", "/tmp:rw,mode=1777", "--user", "0:0", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--network", "none", *mounts,
            "-v", f"{cache}:/opt/model-hospital/cache:ro", "-v", f"{run}:/artifacts/run:rw",
            "-e", "HOSPITAL_CACHE=/opt/model-hospital/cache", "-e", "HOME=/tmp", "-e", "DO_NOT_TRACK=1",
            "-e", f"PYTHONPATH={ROOT / 'operator'}", "-e", "HOSPITAL_TERMINATION_LOG=/tmp/termination-log",
            "-w", "/tmp", "--entrypoint", str(pathlib.Path(os.path.realpath(sys.prefix)) / "bin" / "python"), image,
            "-m", "model_hospital.cli", "treat", "--model", "bundled:tiny-random-llama", "--symptom", "safety",
            "--output", "/artifacts/run", "--subprocess", "--max-attempts", "1", "--budget", "12",
            "--skill-budget", "4", "--max-steps", "2", "--json"]
    finished = subprocess.run(argv, capture_output=True, text=True, timeout=1500)
    record = json.loads((run / "treatment.json").read_text()) if (run / "treatment.json").is_file() else {}
    # Every stage ran and verify reached a verdict (with a dozen probes, usually Inconclusive): no stage
    # crashed on the read-only root. The exit code is the verdict's own (cli/exit_codes.py).
    verdict_codes = {"Healed": 0, "NotHealed": 3, "Degraded": 4, "Inconclusive": 5}
    assert record.get("verdict") in verdict_codes, finished.stderr[-4000:]
    assert [stage["stage"] for stage in record["stages"]] == ["diagnose", "synth", "train", "verify"]
    assert finished.returncode == verdict_codes[record["verdict"]], finished.stderr[-4000:]
