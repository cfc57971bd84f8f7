"""The container mode of the loopback kubelet turns a stage pod into the engine command a kubelet would run.

No engine runs here: these tests read the command line built from the operator's real
stage Job (tests/test_containers_e2e.py runs it for real).
"""

from __future__ import annotations

import json

import pytest

from model_hospital.api.resources import ModelPatientSpec, SecretKeyRef
from model_hospital.controller import jobs, stage_inputs
from model_hospital.controller.settings import OperatorSettings
from tests.harness import containers, indexed
from tests.harness.containers import ContainerRunner, quantity_bytes
from tests.harness.kubelet import ContainerConfigError

ENGINE = ("podman", "--runtime", "/usr/sbin/runc")


def stage_pod(**changes) -> dict:
    """The pod a Job controller makes from the operator's diagnose Job (with a judge key Secret)."""
    spec = ModelPatientSpec.model_validate({"model": {"reference": "bundled:tiny-random-llama"}, "symptoms": ["safety"]})
    owner = jobs.Owner(kind="ModelPatient", name="tiny", namespace="ward", uid="u-1", patient="tiny")
    options = stage_inputs.patient_job_options(spec)
    options.judge_api_key = SecretKeyRef(name="judge", key="token")
    job = jobs.stage_job(owner, "diagnose", 1, stage_inputs.patient_diagnose_input(spec), OperatorSettings(), options)
    pod_spec = job["spec"]["template"]["spec"]
    pod_spec.update(changes)
    return {"metadata": {"name": "tiny-diagnose-1-abcde", "namespace": "ward"}, "spec": pod_spec}


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setattr(containers, "image_exists", lambda engine, image: True)
    kubelet = ContainerRunner("http://127.0.0.1:1", root=tmp_path, engine=ENGINE)
    monkeypatch.setattr(kubelet, "_config_map", lambda namespace, name: {"input.json": "{}"})
    monkeypatch.setattr(kubelet, "_secret", lambda namespace, name: {"token": "s3cret-judge-key"})
    monkeypatch.setattr(kubelet, "_hand_over", lambda path, owner: None)
    yield kubelet
    kubelet.client.close()


def command_of(runner: ContainerRunner, pod: dict) -> tuple[list[str], dict[str, str]]:
    container = pod["spec"]["containers"][0]
    argv, env, _, _ = runner._command(pod, container, runner._env(pod, container))
    return argv, env


def flag_values(argv: list[str], flag: str) -> list[str]:
    return [argv[index + 1] for index, item in enumerate(argv) if item == flag]


def test_the_stage_pod_runs_as_its_restricted_security_context_with_no_network(runner):
    argv, _ = command_of(runner, stage_pod())
    assert argv[:2] == ["podman", "run"] and {"--runtime", "/usr/sbin/runc", "--pull=never"} <= set(argv)
    assert flag_values(argv, "--user") == ["1000:1000"] and flag_values(argv, "--group-add") == ["1000"]
    assert "--read-only" in argv and "--read-only-tmpfs=false" in argv
    assert flag_values(argv, "--cap-drop") == ["ALL"] and flag_values(argv, "--security-opt") == ["no-new-privileges"]
    assert flag_values(argv, "--network") == ["none"]


def test_command_args_and_image_come_from_the_pod_spec(runner):
    pod = stage_pod()
    argv, _ = command_of(runner, pod)
    container = pod["spec"]["containers"][0]
    entrypoint = argv.index("--entrypoint")
    assert json.loads(argv[entrypoint + 1]) == container["command"]
    assert argv[entrypoint + 2] == container["image"] and argv[entrypoint + 3:] == container.get("args", [])


def test_secret_values_reach_the_container_by_name_never_on_the_command_line(runner):
    argv, env = command_of(runner, stage_pod())
    assert "s3cret-judge-key" not in " ".join(argv)
    assert jobs.JUDGE_KEY_ENV in flag_values(argv, "-e") and env[jobs.JUDGE_KEY_ENV] == "s3cret-judge-key"
    assert env["HOME"] == "/tmp" and "HOSPITAL_VERIFY_CACHE" in flag_values(argv, "-e")


def test_volumes_are_host_folders_the_input_read_only_and_the_termination_log_a_file(runner, tmp_path):
    argv, _ = command_of(runner, stage_pod())
    volumes = {spec.split(":")[1]: spec for spec in flag_values(argv, "-v")}
    assert volumes["/config"].endswith(":ro") and volumes["/artifacts"].endswith(":rw")
    assert volumes["/artifacts"].startswith(str(tmp_path / "pvc" / "model-hospital-artifacts"))
    # The stage Job bounds its /tmp (a sizeLimit): a tmpfs of that size, else a writable host folder.
    tmpfs = [spec for spec in flag_values(argv, "--tmpfs") if spec.startswith("/tmp:rw")]
    assert volumes.get("/tmp", "").endswith(":rw") or tmpfs
    assert volumes["/dev/termination-log"].split(":")[0].endswith("termination-log")


def test_an_empty_dir_with_a_size_limit_is_a_tmpfs_of_that_size(runner):
    pod = stage_pod()
    for volume in pod["spec"]["volumes"]:
        if volume["name"] == "tmp":
            volume["emptyDir"] = {"sizeLimit": "64Mi"}
    argv, _ = command_of(runner, pod)
    assert flag_values(argv, "--tmpfs") == [f"/tmp:rw,mode=1777,size={64 * 2**20}"]
    assert not any(spec.split(":")[1] == "/tmp" for spec in flag_values(argv, "-v"))


def test_run_as_non_root_refuses_a_root_user(runner):
    pod = stage_pod()
    pod["spec"]["securityContext"]["runAsUser"] = 0
    with pytest.raises(ContainerConfigError, match="runAsNonRoot"):
        command_of(runner, pod)


def test_a_missing_image_is_an_image_pull_error(runner, monkeypatch):
    monkeypatch.setattr(containers, "image_exists", lambda engine, image: False)
    with pytest.raises(ContainerConfigError) as raised:
        command_of(runner, stage_pod())
    assert raised.value.reason == "ErrImagePull" and "make images" in str(raised.value)


def test_a_node_of_an_indexed_job_is_on_its_jobs_network_under_its_pod_names_with_the_env_as_written(runner):
    job = jobs.distributed_job({"metadata": {"name": "tx-train-1", "namespace": "ward", "uid": "u-2"},
                                "spec": {"template": {"spec": stage_pod()["spec"]}}}, nodes=2)
    template = indexed.indexed_template(job, 1)
    labels = {**template["metadata"]["labels"], "controller-uid": "u-2"}
    pod = {"metadata": {**template["metadata"], "labels": labels, "name": "tx-train-1-x7k2p", "namespace": "ward"},
           "spec": template["spec"]}
    runner.job_networks["u-2"] = "mh-job-u-2"
    argv, env = command_of(runner, pod)
    assert flag_values(argv, "--network") == ["mh-job-u-2"] and flag_values(argv, "--hostname") == ["tx-train-1-1"]
    assert flag_values(argv, "--network-alias") == [
        "tx-train-1-1.tx-train-1", "tx-train-1-1.tx-train-1.ward.svc", "tx-train-1-1.tx-train-1.ward.svc.cluster.local"]
    assert (env["MASTER_ADDR"], env["MASTER_PORT"], env["JOB_COMPLETION_INDEX"]) == ("tx-train-1-0.tx-train-1", "29500", "1")
    assert "--read-only" in argv and flag_values(argv, "--cap-drop") == ["ALL"]
    del runner.job_networks["u-2"]
    assert flag_values(command_of(runner, pod)[0], "--network") == ["none"], "no network outside its Job's run"


@pytest.mark.parametrize("quantity, expected", [("64Mi", 64 * 2**20), ("1G", 10**9), ("500000", 500000), ("2Gi", 2 * 2**30)])
def test_quantities_are_read_as_kubernetes_reads_them(quantity, expected):
    assert quantity_bytes(quantity) == expected


def test_the_engine_probe_never_picks_a_pods_pause_image(monkeypatch):
    """podman makes a pause image for any pod, listed first and holding no `true`: probing with it would skip
    every container test with "no container engine runs containers here"."""
    monkeypatch.delenv(containers.PROBE_IMAGE_ENV, raising=False)
    monkeypatch.setattr(containers, "local_images",
                        lambda engine: ["localhost/podman-pause:4.3.1-0", "localhost/model-hospital-base:bookworm"])
    probed = []

    class Ran:
        returncode = 0

    monkeypatch.setattr(containers.subprocess, "run", lambda argv, **_: probed.append(argv[-1]) or Ran())
    assert containers._runs_a_container(("podman",)) and probed == ["localhost/model-hospital-base:bookworm"]
