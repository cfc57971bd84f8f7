"""A first run a person can follow: one line naming what to install, progress while preparing, a doctor."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
OPERATOR_PYTHON = os.environ.get("HOSPITAL_OPERATOR_PYTHON") or str(ROOT / ".venv-operator" / "bin" / "python")


def hospital(*args: str, python: str = sys.executable, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "model_hospital.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def operator_environment() -> str:
    if not pathlib.Path(OPERATOR_PYTHON).exists():
        pytest.skip(".venv-operator is not installed")
    return OPERATOR_PYTHON


@pytest.mark.skipif(__import__("importlib").util.find_spec("kopf") is not None, reason="kopf is installed here")
def test_the_operator_from_the_worker_environment_names_the_operator_environment():
    line = one_error_line(hospital("operator", "run", "--all-namespaces"))
    assert "kopf" in line and ".venv-operator" in line and "model-hospital[operator]" in line


def test_a_stage_from_the_operator_environment_names_the_worker_extra():
    line = one_error_line(hospital("models", "prepare", python=operator_environment()))
    assert ".venv" in line and "model-hospital[worker]" in line


@pytest.mark.skipif(__import__("importlib").util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_dry_run_with_the_vllm_engine_checks_that_vllm_is_installed():
    line = one_error_line(hospital("diagnose", "--model", "bundled:tiny-random-llama", "--symptom", "safety",
                                   "--engine", "vllm", "--dry-run"))
    assert "vllm" in line and "model-hospital[gpu]" in line


def test_preparing_a_bundled_model_prints_progress_lines_and_never_twice(tmp_path, capfd):
    from model_hospital.clinic import models

    target = tmp_path / "bundled" / "tiny-random-llama-seed0-v2"
    with models._building(target) as staging:
        (staging / "config.json").write_text("{}")
        (staging / "model.safetensors").write_bytes(b"weights")
        (staging / "model.safetensors").chmod(0o600)  # as safetensors writes them
    printed = capfd.readouterr().err
    assert f"preparing {target.name}" in printed and f"prepared {target.name} in" in printed
    with models._building(target) as staging:
        assert staging is None
    assert capfd.readouterr().err == "", "a prepared model is never built, nor announced, twice"


def test_a_prepared_model_is_readable_by_every_user_as_a_baked_cache_must_be(tmp_path):
    """An image's cache is built by root and read by the stage user: weights left 0600 are unreadable there."""
    from model_hospital.clinic import models

    target = tmp_path / "bundled" / "tiny-random-llama-seed0-v2"
    with models._building(target) as staging:
        (staging / "model.safetensors").write_bytes(b"weights")
        (staging / "model.safetensors").chmod(0o600)
    for path in (target, target / "model.safetensors"):
        assert path.stat().st_mode & 0o004, f"{path} is not readable by other users"
    assert not (target / "model.safetensors").stat().st_mode & 0o022, "nothing is made writable by others"


def test_doctor_says_what_this_environment_runs_and_what_to_do_about_the_rest(tmp_path):
    done = hospital("doctor", "--json", python=operator_environment(),
                    env={"HOSPITAL_CACHE": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    checks = {check["name"].split(" (")[0]: check for check in report["checks"]}
    assert report["ok"] and checks["extra operator"]["state"] == "ok"
    assert checks["extra worker"]["state"] == "warn" and "model-hospital[worker]" in checks["extra worker"]["todo"]
    assert checks["bundled:tiny-random-llama"]["state"] == "warn"
    assert "hospital models prepare" in checks["bundled:tiny-random-llama"]["todo"]
    assert checks["kube context"]["state"] == "warn" and checks["kube context"]["todo"]
    assert {"GPU", "images"} <= set(checks)


def test_doctor_counts_a_docker_client_whose_daemon_does_not_answer_as_no_engine(monkeypatch):
    from model_hospital.cli import doctor

    monkeypatch.setattr(doctor.shutil, "which", lambda name: "/usr/local/bin/docker" if name == "docker" else None)
    asked = []

    def no_daemon(argv, timeout=10):
        asked.append(argv)
        return subprocess.CompletedProcess(argv, 1, "", "Cannot connect to the Docker daemon")

    monkeypatch.setattr(doctor, "_run", no_daemon)
    [check] = doctor.image_checks()
    assert asked == [["docker", "info"]]
    assert check.state == doctor.WARN and "daemon does not answer" in check.found and "podman" in check.todo
