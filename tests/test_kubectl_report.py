"""`kubectl hospital report`: a report read off the artifact claim by a short-lived Job, through the real kubectl."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from model_hospital.controller import report_reader
from model_hospital.controller.jobs import JobOptions, owner_from, stage_job
from model_hospital.controller.settings import OperatorSettings
from model_hospital.api.stages import VerifyInput
from model_hospital.errors import HospitalError
from tests.harness.cluster import KUBECTL, LoopbackCluster
from tests.harness.runner import LocalRunner
from tests.result_fixtures import diagnosis, write_diagnosis, write_verification

pytestmark = pytest.mark.cluster

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLAIM = "model-hospital-artifacts"
REPORT = "/artifacts/default/tx1/verify-1/verification.json"
SICK = ["fail"] * 24 + ["pass"] * 6
HEALED = ["pass"] * 30
BENIGN = ["pass"] * 28 + ["fail"] * 2


def treatment(name: str, status: dict | None = None) -> dict:
    body = {"apiVersion": "modelhospital.io/v1alpha1", "kind": "Treatment",
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
            "spec": {"patientRef": {"name": "smollm2"}, "symptoms": ["safety"]}}
    if status is not None:
        body["status"] = status
    return body


@pytest.fixture(scope="module")
def cluster(loopback: LoopbackCluster, tmp_path_factory):
    """The loopback API with the CRDs, a process kubelet, a claim's folder and `kubectl-hospital` on PATH."""
    loopback.kubectl("apply", "-f", str(ROOT / "crds"))
    root = tmp_path_factory.mktemp("kubelet")
    runner = LocalRunner(loopback.kubeconfig, root=root).start()
    plugin_bin = tmp_path_factory.mktemp("plugin-bin")
    # The installed entry point would import the package from wherever it was installed;
    # this one runs this checkout's plugin with the test's interpreter.
    shim = plugin_bin / "kubectl-hospital"
    shim.write_text(f"#!{sys.executable}\nimport sys\nfrom model_hospital.kubectl_plugin import main\nsys.exit(main())\n")
    shim.chmod(0o755)
    yield loopback, runner, root / "pvc" / CLAIM, plugin_bin
    runner.stop()
    assert runner.errors == []


def plugin(cluster, *args: str) -> subprocess.CompletedProcess:
    """`kubectl hospital ARGS` as a user types it (kubectl takes no flags before a plugin's name)."""
    loopback, _, _, plugin_bin = cluster
    env = {**os.environ, "KUBECONFIG": str(loopback.kubeconfig), "KUBECACHEDIR": str(loopback.cache_dir),
           "PATH": f"{plugin_bin}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([KUBECTL, "hospital", *args], env=env, capture_output=True, text=True, timeout=120)


def create_treatment(loopback: LoopbackCluster, name: str, status: dict) -> None:
    loopback.kubectl("apply", "-f", "-", input=json.dumps(treatment(name)))
    loopback.kubectl("patch", "treatment", name, "--subresource=status", "--type=merge",
                     "-p", json.dumps({"status": status}))


def test_kubectl_hospital_report_prints_the_verification_from_the_claim(cluster):
    loopback, _, claim_dir, _ = cluster
    before = diagnosis("sick-model", SICK, BENIGN)
    written = write_verification(claim_dir / "default" / "tx1" / "verify-1", before,
                                 diagnosis("lora", HEALED, BENIGN), [True] * 30, [True] * 30)
    create_treatment(loopback, "tx1", {"stage": "done", "artifacts": {"verification": REPORT}})
    shown = plugin(cluster, "report", "tx", "tx1")
    assert shown.returncode == 0, shown.stderr
    verdict = json.loads(written.read_text())["verdict"]
    assert f"verdict: {verdict}" in shown.stdout and "math" in shown.stdout

    as_json = plugin(cluster, "report", "tx", "tx1", "--json")
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["command"] == "report" and document["result"]["verdict"] == verdict
    assert document["result"]["skills"]["math"]["after"]["correct"] == 30
    # Each reading's Job is deleted once read.
    jobs = json.loads(loopback.kubectl("get", "jobs", "-l", f"{report_reader.READER_LABEL}=true", "-o", "json").stdout)
    assert [job for job in jobs["items"] if not job["metadata"].get("deletionTimestamp")] == []


def test_a_treatment_without_a_report_yet_is_one_clear_error(cluster):
    loopback = cluster[0]
    create_treatment(loopback, "tx-early", {"stage": "train"})
    shown = plugin(cluster, "report", "tx", "tx-early")
    assert shown.returncode == 2
    assert "no verification or diagnosis on the artifact volume yet (it is at train)" in shown.stderr


def test_a_report_missing_from_the_claim_fails_with_the_readers_message(cluster):
    loopback = cluster[0]
    create_treatment(loopback, "tx-gone", {"stage": "done", "artifacts": {
        "verification": "/artifacts/default/tx-gone/verify-1/verification.json"}})
    shown = plugin(cluster, "report", "tx", "tx-gone", "--json")
    assert shown.returncode == 2
    assert "does not exist" in json.loads(shown.stdout)["error"]


def test_a_patient_report_reads_its_diagnosis(cluster):
    loopback, _, claim_dir, _ = cluster
    write_diagnosis(diagnosis("sick-model", SICK, BENIGN), claim_dir / "default" / "mp1" / "checkup-1")
    patient = {"apiVersion": "modelhospital.io/v1alpha1", "kind": "ModelPatient",
               "metadata": {"name": "mp1", "namespace": "default"},
               "spec": {"model": {"reference": "bundled:tiny-random-llama"}}}
    loopback.kubectl("apply", "-f", "-", input=json.dumps(patient))
    loopback.kubectl("patch", "patient", "mp1", "--subresource=status", "--type=merge", "-p", json.dumps(
        {"status": {"report": {"path": "/artifacts/default/mp1/checkup-1/diagnosis.json"}}}))
    shown = plugin(cluster, "report", "patient", "mp1")
    assert shown.returncode == 0, shown.stderr
    assert "Diagnosis of sick-model" in shown.stdout


def test_the_reader_borrows_image_and_claim_from_the_stage_job_and_mounts_it_read_only():
    settings = OperatorSettings(artifact_claim="team-artifacts", artifact_root="/data",
                                images={"verify": "registry.local/worker:7"})
    body = treatment("tx9")
    written = stage_job(owner_from(body), "verify", 1, VerifyInput(before="a", after="b", symptoms=["safety"]),
                        settings, JobOptions())
    source = report_reader.source_from_job(written, "/data/default/tx9/verify-1/verification.json")
    assert (source.image, source.claim, source.mount_path) == ("registry.local/worker:7", "team-artifacts", "/data")
    job = report_reader.reader_job(body, "/data/default/tx9/verify-1/verification.json", source, json_mode=True)
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["command"] == ["hospital", "report", "/data/default/tx9/verify-1/verification.json", "--json"]
    assert {"name": "artifacts", "mountPath": "/data", "readOnly": True} in container["volumeMounts"]
    assert pod["volumes"][0]["persistentVolumeClaim"] == {"claimName": "team-artifacts", "readOnly": True}
    assert pod["automountServiceAccountToken"] is False and container["securityContext"]["readOnlyRootFilesystem"]
    assert job["metadata"]["ownerReferences"][0]["uid"] == "uid-tx9"
    assert job["spec"]["ttlSecondsAfterFinished"] > 0 and job["spec"]["backoffLimit"] == 0
    with pytest.raises(HospitalError, match="not under the artifact volume"):
        report_reader.reader_job(body, "/elsewhere/verification.json", source)


def test_kubectl_hospital_compare_puts_several_treatments_side_by_side(cluster):
    loopback, _, claim_dir, _ = cluster
    before = diagnosis("sick-model", SICK, BENIGN)
    for name, after, outcome in (("cmp-a", "lora-a", HEALED), ("cmp-b", "lora-b", ["fail"] * 12 + ["pass"] * 18)):
        write_verification(claim_dir / "default" / name / "verify-1", before, diagnosis(after, outcome, BENIGN),
                           [True] * 30, [True] * 30)
        create_treatment(loopback, name, {"stage": "done", "artifacts": {
            "verification": f"/artifacts/default/{name}/verify-1/verification.json"}})

    table = plugin(cluster, "compare", "tx", "cmp-a", "cmp-b")
    assert table.returncode == 0, table.stderr
    assert "lora-a" in table.stdout and "lora-b" in table.stdout and "safety" in table.stdout

    as_json = plugin(cluster, "compare", "tx", "cmp-a", "cmp-b", "--json")
    assert as_json.returncode == 0, as_json.stderr
    comparison = json.loads(as_json.stdout)["result"]
    assert [model["model"] for model in comparison["models"]] == ["lora-a", "lora-b"]
    assert comparison["baseline"] == comparison["models"][0]["label"], "the first name is the baseline"
    safety = comparison["models"][1]["findings"]["safety"]
    assert (safety["events"], safety["scored"]) == (12, 30)
    assert any(change["measure"] == "safety" and change["paired"] == 30 for change in comparison["paired"])

    markdown = plugin(cluster, "compare", "tx", "cmp-a", "cmp-b", "--markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert "| " in markdown.stdout and "lora-b" in markdown.stdout


def test_kubectl_hospital_compare_reads_patients_diagnoses_and_refuses_one_name(cluster):
    loopback, _, claim_dir, _ = cluster
    for name, model, outcome in (("cmp-p1", "base-model", SICK), ("cmp-p2", "other-model", HEALED)):
        write_diagnosis(diagnosis(model, outcome, BENIGN), claim_dir / "default" / name / "checkup-1")
        patient = {"apiVersion": "modelhospital.io/v1alpha1", "kind": "ModelPatient",
                   "metadata": {"name": name, "namespace": "default"},
                   "spec": {"model": {"reference": "bundled:tiny-random-llama"}}}
        loopback.kubectl("apply", "-f", "-", input=json.dumps(patient))
        loopback.kubectl("patch", "patient", name, "--subresource=status", "--type=merge", "-p", json.dumps(
            {"status": {"report": {"path": f"/artifacts/default/{name}/checkup-1/diagnosis.json"}}}))
    shown = plugin(cluster, "compare", "patient", "cmp-p1", "cmp-p2", "--json")
    assert shown.returncode == 0, shown.stderr
    assert [model["model"] for model in json.loads(shown.stdout)["result"]["models"]] == ["base-model", "other-model"]

    alone = plugin(cluster, "compare", "patient", "cmp-p1")
    assert alone.returncode == 2 and "two or more" in alone.stderr
    missing = plugin(cluster, "compare", "patient", "cmp-p1", "no-such-patient")
    assert missing.returncode == 2 and "no-such-patient not found" in missing.stderr
