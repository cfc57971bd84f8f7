"""spec.output.registry: the verify Job pushes a Healed adapter, with the login from a dockerconfigjson Secret.

The Job manifest is the operator's own (`stage_job`), run by the process kubelet against the
loopback API; the registry is a real docker-registry on loopback.
"""

import base64
import json
import sys
import time

import pytest
import requests

from model_hospital.api.resources import ModelPatientSpec, TreatmentSpec
from model_hospital.controller import jobs, stage_inputs
from model_hospital.controller.settings import OperatorSettings
from model_hospital.api.protocol import figures_of
from model_hospital.api.stages import StageSummary
from tests.harness import registry
from tests.harness.kubeclient import job_finished
from tests.harness.runner import LocalRunner

USERS = {"nurse": "s3cret-registry-pass"}
PATIENT = ModelPatientSpec.model_validate({"model": {"reference": "bundled:tiny-random-llama"}})


def verify_input(spec: TreatmentSpec, treated: str, adapter: str | None = None):
    """The verify input of treatment `tx` whose training left `treated` (and `adapter`)."""
    return stage_inputs.treatment_input("verify", 1, spec, PATIENT, {"model": treated, "adapter": adapter}, "tx")


def treatment_spec(**registry_output) -> TreatmentSpec:
    output = {"registry": {"repository": "registry.example.com/ward/tiny", **registry_output}}
    return TreatmentSpec.model_validate({"patientRef": {"name": "tiny"}, "symptoms": ["safety"], "output": output})


def test_the_verify_input_names_the_push_and_only_the_verify_job_gets_the_login():
    spec = treatment_spec(credentialsSecret="ward-registry", merged=True)
    stage_input = verify_input(spec, "/artifacts/ns/tx/train-1/merged", adapter="/artifacts/ns/tx/train-1/adapter")
    assert stage_input.export.reference == "registry.example.com/ward/tiny:tx"
    assert stage_input.export.adapter == "/artifacts/ns/tx/train-1/adapter" and stage_input.export.merged
    assert stage_inputs.treatment_job_options("verify", spec, PATIENT).registry_secret == "ward-registry"
    assert stage_inputs.treatment_job_options("train", spec, PATIENT).registry_secret is None
    tagged = verify_input(treatment_spec(tag="v7"), "/m")
    assert tagged.export.reference == "registry.example.com/ward/tiny:v7"
    plain = TreatmentSpec.model_validate({"patientRef": {"name": "tiny"}})
    assert verify_input(plain, "/m").export is None


def test_a_repository_that_is_not_host_and_path_is_refused_by_the_schema():
    with pytest.raises(ValueError, match="repository"):
        treatment_spec(repository="Ward/Tiny")


def stage_artifacts(summary: StageSummary) -> dict:
    return figures_of(summary).artifacts(summary.result_path)


def test_the_pushed_reference_becomes_status_artifacts_image():
    summary = StageSummary(stage="verify", ok=True, result_path="/artifacts/ns/tx/verify-1/result.json",
                           summary={"verdict": "Healed", "exported": "registry.example.com/ward/tiny@sha256:ab",
                                    "exported_merged": "registry.example.com/ward/tiny@sha256:cd"})
    artifacts = stage_artifacts(summary)
    assert artifacts["image"] == "registry.example.com/ward/tiny@sha256:ab"
    assert artifacts["merged_image"] == "registry.example.com/ward/tiny@sha256:cd"
    assert stage_artifacts(StageSummary(stage="verify", ok=True, summary={"verdict": "NotHealed"}))[
        "image"] is None  # nothing pushed: no image (empty values are dropped from status)
    train = StageSummary(stage="train", ok=True, summary={"adapter": "/a/adapter", "merged": "/a/merged"})
    assert stage_artifacts(train)["adapter"] == "/a/adapter"


@pytest.mark.cluster
@pytest.mark.skipif(not registry.available(), reason="docker-registry is not installed (scripts/setup-containers --install)")
def test_the_verify_jobs_mounted_login_pushes_the_adapter(loopback, tmp_path, tmp_path_factory):
    pytest.importorskip("oras.provider")
    from tests.test_export import folder_bytes, pull

    served = registry.LoopbackRegistry(tmp_path_factory.mktemp("registry-job"), users=USERS)
    runner = LocalRunner(loopback.kubeconfig, root=tmp_path / "kubelet").start()
    try:
        adapter = tmp_path / "adapter"
        adapter.mkdir()
        (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4}))
        (adapter / "adapter_model.safetensors").write_bytes(bytes(range(256)) * 64)
        spec = treatment_spec(repository=f"{served.host}/ward/tiny", credentialsSecret="ward-registry", insecure=True)
        stage_input = verify_input(spec, str(adapter))
        login = base64.b64encode(f"nurse:{USERS['nurse']}".encode()).decode()
        secret = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                  "metadata": {"name": "ward-registry", "namespace": "default"},
                  "data": {".dockerconfigjson": base64.b64encode(json.dumps(
                      {"auths": {served.host: {"auth": login}}}).encode()).decode()}}
        owner = jobs.Owner(kind="Treatment", name="tx", namespace="default", uid="uid-tx", patient="tiny")
        options = stage_inputs.treatment_job_options("verify", spec, PATIENT)
        manifest = jobs.stage_job(owner, "verify", 1, stage_input, OperatorSettings(), options)
        name = manifest["metadata"]["name"]
        config_map = jobs.stage_config_map(owner, name, stage_input, {})
        # The verify stage's last step, as the container runs it: the input from the ConfigMap, the login from
        # the mounted Secret (HOSPITAL_REGISTRY_CONFIG); the examinations before it need a model and are left out.
        container = manifest["spec"]["template"]["spec"]["containers"][0]
        container["command"] = [sys.executable, "-c", (
            "import sys; from rich.console import Console; from model_hospital.api.stages import VerifyInput; "
            "from model_hospital.stages.export import push_healed; "
            "given = VerifyInput.model_validate_json(open(sys.argv[1]).read()); "
            "print(push_healed(given.export, Console())['exported'])"), container["command"][4]]
        for body in (secret, config_map, manifest):
            loopback.kubectl("apply", "-f", "-", input=json.dumps(body))
        deadline = time.monotonic() + 60
        while not job_finished(job := json.loads(loopback.kubectl("get", "job", name, "-o", "json").stdout)):
            assert time.monotonic() < deadline, "the verify Job did not finish"
            time.sleep(0.2)
        log = loopback.kubectl("logs", f"job/{name}").stdout
        assert job["status"].get("succeeded") == 1, log
        assert f"{served.host}/ward/tiny@sha256:" in log and USERS["nurse"] not in log
        assert pull(served, f"{served.host}/ward/tiny:tx", tmp_path / "pulled",
                    ("nurse", USERS["nurse"])) == folder_bytes(adapter)
    finally:
        runner.stop()
        served.stop()


def test_the_registry_login_secret_must_be_allowed_by_the_tenancy_policy():
    from model_hospital.controller.policy import treatment_refusals

    spec = treatment_spec(credentialsSecret="someone-elses-login")
    refused = treatment_refusals(OperatorSettings(), spec, "tiny", PATIENT)
    assert any(line.startswith("spec.output.registry.credentialsSecret: Secret someone-elses-login") for line in refused)
    allowed = OperatorSettings.model_validate({"policy": {"allowed_secrets": ["ward-*"]}})
    assert treatment_refusals(allowed, treatment_spec(credentialsSecret="ward-registry"), "tiny", PATIENT) == []


def fake_adapter(folder):
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4}))
    (folder / "adapter_model.safetensors").write_bytes(bytes(range(256)) * 16)
    return folder


@pytest.mark.skipif(not registry.available(), reason="docker-registry is not installed (scripts/setup-containers --install)")
@pytest.mark.parametrize("after_safety, pushed", [(["pass"] * 40, True), (["fail"] * 40, False)])
def test_the_verify_stage_pushes_only_a_healed_adapter(tmp_path, monkeypatch, after_safety, pushed):
    """The examinations are replaced by made-up answers; the verdict, the reports and the push are the stage's own."""
    pytest.importorskip("oras.provider")
    from rich.console import Console

    from model_hospital.api.stages import ExportTarget, VerifyInput
    from model_hospital.stages import verify
    from tests.result_fixtures import diagnosis, math_answers

    def examine(model, stage_input, items, folder, console, label, keep=False):
        answers = {domain: math_answers([True] * len(domain_items)) for domain, domain_items in items.items()}
        safety = ["fail"] * 40 if label == "before" else after_safety
        return answers, diagnosis(f"tiny-{label}", safety, ["pass"] * 40), None  # no model kept loaded

    monkeypatch.setattr(verify, "examine", examine)
    (tmp_path / "registry").mkdir()
    served = registry.LoopbackRegistry(tmp_path / "registry")
    try:
        adapter = fake_adapter(tmp_path / "adapter")
        stage_input = VerifyInput(before="bundled:tiny-random-llama", after="bundled:tiny-random-llama",
                                  symptoms=["safety"], export=ExportTarget(
                                      reference=f"{served.host}/ward/tiny:tx", adapter=str(adapter), insecure=True))
        result = verify.run(stage_input, tmp_path / "verify", Console(file=open("/dev/null", "w")))
        verdict = result.summary["verdict"]
        assert (verdict == "Healed") is pushed, result.summary
        assert ("exported" in result.summary) is pushed
        listed = requests.get(f"http://{served.host}/v2/ward/tiny/tags/list", timeout=5)
        assert (listed.status_code == 200 and listed.json().get("tags") == ["tx"]) is pushed
        if pushed:
            assert result.summary["exported"].startswith(f"{served.host}/ward/tiny@sha256:")
            assert (tmp_path / "verify" / "verification.json").is_file()
    finally:
        served.stop()
