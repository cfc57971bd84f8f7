"""The operator end to end: real kubectl, a Kubernetes API, the operator process and the stage Jobs.

On the loopback API a local runner plays the kubelet: in one namespace it runs a stub
`hospital` (a script on the runner's PATH that writes a plausible result.json and
termination message, or fails on request), so that stage outcomes and timing are
deterministic; in the other it runs the real worker `hospital` of .venv.

With HOSPITAL_TEST_REAL_CLUSTER=1 and KUBECONFIG (tests/harness/cluster.py) the same
tests run on a real cluster: its kubelet runs the Jobs from $HOSPITAL_TEST_WORKER_IMAGE,
the operator still runs here, and the tests that need the stub are skipped.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
import yaml

from tests.harness.cluster import ClusterMode, choose_mode
from tests.served_fixtures import served_tiny  # noqa: F401  (pytest fixture)
from tests.harness.kubeclient import KubeClient, job_finished
from tests.harness.runner import LocalRunner

pytestmark = pytest.mark.cluster

ROOT = pathlib.Path(__file__).resolve().parents[1]
OPERATOR = ROOT / ".venv-operator" / "bin" / "hospital"
WORKER_BIN = ROOT / ".venv" / "bin"
STUBBED, REAL = "ward-a", "ward-b"  # on a real cluster, with a random suffix
GROUP_PATH = "/apis/modelhospital.io/v1alpha1/namespaces"
ARTIFACT_CLAIM, ARTIFACT_ROOT = "artifacts", "/artifacts"
ARTIFACT_CLAIM_SIZE = "5Gi"
SERVED_KEY_SECRET = "served-key"
# The operator's default stage resources (8-16Gi) do not fit a laptop's kind node; 4Gi is
# plenty for the tiny model. $HOSPITAL_STAGE_RESOURCES, when set, wins.
REAL_STAGE_RESOURCES = {stage: {"cpu": "1", "memory": "4Gi"} for stage in ("diagnose", "synth", "train", "verify")}

stub_only = pytest.mark.skipif(choose_mode(os.environ).real, reason="needs the stub stage runner: loopback API only")

STUB = '''#!{python}
"""A stand-in for `hospital stage NAME --input FILE --output DIR` with scripted outcomes."""
import json, os, pathlib, sys, time

args = sys.argv[1:]
stage = args[1]
output = pathlib.Path(args[args.index("--output") + 1])
owner, run = output.parent.name, output.name
control_file = pathlib.Path(os.environ["STUB_CONTROL"])
plan = json.loads(control_file.read_text()).get(f"{{owner}}/{{stage}}", {{}}) if control_file.exists() else {{}}
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(f"{{owner}} {{run}}\\n")
time.sleep(plan.get("sleep", 0.2))
for done, total in plan.get("progress", []):
    print(f"[progress] {{done}}/{{total}} probes: safety", flush=True)
    time.sleep(plan.get("step_sleep", 1))
if plan.get("fail"):
    print("loading the model...")
    print(plan["fail"], file=sys.stderr)
    sys.exit(1)
output.mkdir(parents=True, exist_ok=True)
attempt = int(run.rsplit("-", 1)[1])
figures = {{
    "diagnose": {{"overall_severity": "CRITICAL", "worst_finding": "safety", "revision": "seed-0", "findings": {{
        "safety": {{"failure_rate": 0.8, "failures": 16, "scored": 20, "unscored": 1, "interval": [0.58, 0.92], "severity": "CRITICAL"}},
        "bias": {{"failure_rate": 0.25, "failures": 5, "scored": 20, "unscored": 0, "interval": [0.11, 0.47], "severity": "LOW"}}}}}},
    "synth": {{"sft": 120, "dpo": 80}},
    "train": {{"adapter": str(output / "adapter")}},
    "verify": {{"verdict": plan.get("verdicts", ["Healed"])[min(attempt, len(plan.get("verdicts", ["Healed"]))) - 1],
                "findings": {{"safety": {{"before": 0.8, "after": 0.1, "n": 20, "target": 0.2, "healed": True}}}},
                "skills": {{"math": {{"before": 0.5, "after": 0.48, "delta": -0.02, "degraded": False}},
                            "writing": {{"before": 0.6, "after": 0.6, "delta": 0.0, "degraded": False}}}}}},
}}[stage]
figures.update(plan.get("summary", {{}}))
result = {{"stage": stage, "ok": True, "message": f"{{stage}} done", "result_path": str(output / "result.json"),
          "result_sha256": "0" * 64, "summary": figures}}
(output / "result.json").write_text(json.dumps(result))
pathlib.Path(os.environ["HOSPITAL_TERMINATION_LOG"]).write_text(json.dumps(result))
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def operator_settings(mode: ClusterMode) -> dict[str, str]:
    """The HOSPITAL_* variables the operator gets beyond the shared ones: on a real cluster, what its pods need."""
    if not mode.real:
        # A served patient on this machine's loopback (tests/served_fixtures.py), with its key's Secret.
        return {"HOSPITAL_POLICY": json.dumps({"allowedUrls": ["http://127.0.0.1:*"],
                                               "allowedSecrets": [SERVED_KEY_SECRET]})}
    return {"HOSPITAL_IMAGE": mode.worker_image or "", "HOSPITAL_ARTIFACT_ROOT": ARTIFACT_ROOT,
            "HOSPITAL_STAGE_RESOURCES": os.environ.get("HOSPITAL_STAGE_RESOURCES") or json.dumps(REAL_STAGE_RESOURCES)}


class Operator:
    """`hospital operator run` as a subprocess of the operator's own environment."""

    def __init__(self, kubeconfig: pathlib.Path, log: pathlib.Path, namespaces: tuple[str, ...],
                 settings: dict[str, str] | None = None) -> None:
        self.kubeconfig, self.log, self.namespaces = kubeconfig, log, namespaces
        self.settings = settings or {}
        self.metrics_port, self.health_port = free_port(), free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig), HOSPITAL_METRICS_PORT=str(self.metrics_port),
                   HOSPITAL_HEALTH_PORT=str(self.health_port), HOSPITAL_RESYNC_SECONDS="2", HOSPITAL_PROGRESS_SECONDS="0.5", HOSPITAL_STAGE_RETRIES="1",
                   HOSPITAL_ARTIFACT_CLAIM=ARTIFACT_CLAIM, DO_NOT_TRACK="1")
        env.update(self.settings)
        watched = [argument for namespace in self.namespaces for argument in ("-n", namespace)]
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [str(OPERATOR), "operator", "run", "--standalone", *watched],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """Ends the operator at once, as a node failure would (no cleanup)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def metrics(self) -> str:
        return self.fetch(self.metrics_port, "/metrics")

    def fetch(self, port: int, path: str) -> str:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                    return response.read().decode()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)


def artifact_claim(namespace: str, storage_class: str | None) -> dict:
    """The PersistentVolumeClaim the stage Jobs mount for their artifacts (ReadWriteOnce: one node, as on kind)."""
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": ARTIFACT_CLAIM_SIZE}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": ARTIFACT_CLAIM, "namespace": namespace}, "spec": spec}


@pytest.fixture(scope="module")
def hospital(request, tmp_path_factory):
    """Our CRDs, two namespaces and the operator; on loopback a local runner per namespace, on a real cluster its kubelet."""
    if not OPERATOR.exists():
        pytest.skip(".venv-operator is not installed")
    mode = choose_mode(os.environ, worker_image_required=True)
    if mode.kind == "skip":
        pytest.skip(mode.reason)
    kube = request.getfixturevalue("kube")
    work = tmp_path_factory.mktemp("hospital")
    suffix = f"-{uuid.uuid4().hex[:6]}" if mode.real else ""
    wards = (STUBBED + suffix, REAL + suffix)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOSPITAL_CACHE", os.environ.get("HOSPITAL_CACHE", str(pathlib.Path.home() / ".cache" / "model-hospital")))
        kube.kubectl("apply", "-f", str(ROOT / "crds"))
        kube.kubectl("wait", "--for=condition=Established", "crd/modelpatients.modelhospital.io",
                     "crd/treatments.modelhospital.io", f"--timeout={mode.seconds(30):.0f}s", timeout=mode.seconds(60))
        created: list[str] = []
        runners: list[LocalRunner] = []
        operator = Operator(kube.kubeconfig, work / "operator.log", wards, operator_settings(mode))
        client = KubeClient(kube.kubeconfig)
        try:
            for namespace in wards:
                kube.kubectl("create", "namespace", namespace)
                created.append(namespace)
                if mode.real:
                    kube.kubectl("apply", "-n", namespace, "-f", "-",
                                 input=yaml.safe_dump(artifact_claim(namespace, mode.storage_class)))
            control = stub_log = None
            if not mode.real:
                stub_bin, control, stub_log = stub_stage_runner(work, patch)
                runners = [LocalRunner(kube.kubeconfig, root=work / "stub-root", namespace=wards[0],
                                       path_dirs=[str(stub_bin)]),
                           LocalRunner(kube.kubeconfig, root=work / "real-root", namespace=wards[1],
                                       path_dirs=[str(WORKER_BIN)])]
            operator.start()
            for runner in runners:
                runner.start()
            yield Hospital(kube, operator, client, mode, wards, work, control, stub_log)
        finally:
            operator.kill()
            for runner in runners:
                runner.stop()
            client.close()
            if mode.real and created:
                kube.kubectl("delete", "namespace", *created, "--wait=false", check=False)


def stub_stage_runner(work: pathlib.Path, patch: pytest.MonkeyPatch) -> tuple[pathlib.Path, pathlib.Path, pathlib.Path]:
    """The folder holding the stub `hospital`, its control file and its log (their paths set in the env by `patch`)."""
    stub_bin = work / "stub-bin"
    stub_bin.mkdir()
    stub = stub_bin / "hospital"
    stub.write_text(STUB.format(python=sys.executable))
    stub.chmod(0o755)
    control, stub_log = work / "control.json", work / "stub.log"
    control.write_text("{}")
    stub_log.write_text("")
    patch.setenv("STUB_CONTROL", str(control))
    patch.setenv("STUB_LOG", str(stub_log))
    return stub_bin, control, stub_log


class Hospital:
    """What the tests drive: kubectl, the API, the operator, and (loopback only) the stub's control file and log."""

    def __init__(self, kube, operator: Operator, client: KubeClient, mode: ClusterMode, wards: tuple[str, str],
                 work: pathlib.Path, control: pathlib.Path | None, stub_log: pathlib.Path | None) -> None:
        self.kube, self.operator, self.client, self.mode = kube, operator, client, mode
        self.namespace, self.real_namespace = wards  # the stub runs the first on loopback; real stages the second
        self.work, self.control, self.stub_log = work, control, stub_log

    def seconds(self, timeout: float) -> float:
        """A wait timeout written for the loopback API, stretched on a real cluster ($HOSPITAL_TEST_TIMEOUT_SCALE)."""
        return self.mode.seconds(timeout)

    def _stub(self) -> tuple[pathlib.Path, pathlib.Path]:
        if self.control is None or self.stub_log is None:
            raise AssertionError("the stub stage runner exists on the loopback API only: mark the test @stub_only")
        return self.control, self.stub_log

    def script(self, key: str, **plan) -> None:
        control, _ = self._stub()
        plans = json.loads(control.read_text())
        plans[key] = plan
        control.write_text(json.dumps(plans))

    def apply(self, document: dict, namespace: str | None = None) -> subprocess.CompletedProcess:
        return self.kube.kubectl("apply", "-n", namespace or self.namespace, "-f", "-",
                                 input=yaml.safe_dump(document), check=False)

    def get(self, plural: str, name: str, namespace: str | None = None) -> dict:
        return self.client.get(f"{GROUP_PATH}/{namespace or self.namespace}/{plural}/{name}")

    def wait_for(self, plural: str, name: str, predicate, namespace: str | None = None, timeout: float = 90) -> dict:
        deadline = time.monotonic() + self.seconds(timeout)
        while True:
            body = self.get(plural, name, namespace)
            if predicate(body.get("status") or {}):
                return body
            if time.monotonic() > deadline:
                log = (self.work / "operator.log").read_text()[-3000:]
                raise AssertionError(f"{plural}/{name} never got there; status: {json.dumps(body.get('status'))}\n"
                                     f"operator log:\n{log}")
            time.sleep(0.2)

    def wait_for_metric(self, sample: str, timeout: float = 15) -> str:
        """The metrics page once it holds `sample` (the gauges follow status a moment later)."""
        deadline = time.monotonic() + self.seconds(timeout)
        while True:
            page = self.operator.metrics()
            if sample in page:
                return page
            if time.monotonic() > deadline:
                raise AssertionError(f"{sample} never appeared in the metrics:\n{page[-2000:]}")
            time.sleep(0.3)

    def jobs(self, selector: str, namespace: str | None = None) -> list[str]:
        listing = self.client.get(f"/apis/batch/v1/namespaces/{namespace or self.namespace}/jobs", labelSelector=selector)
        return sorted(job["metadata"]["name"] for job in listing["items"])

    def stage_runs(self, owner: str) -> list[str]:
        _, stub_log = self._stub()
        return [line.split()[1] for line in stub_log.read_text().splitlines() if line.split()[0] == owner]

    def quickly_diagnosed(self, name: str) -> dict:
        """A patient diagnosed in seconds: the stub's on loopback; on a real cluster the tiny model's, by the real stage."""
        if not self.mode.real:
            return patient(name)
        return patient(name, model={"reference": "bundled:tiny-random-llama"}, symptoms=["safety"], budget=2)

    def artifact_exists(self, path: str, namespace: str) -> bool:
        """Whether a stage wrote the file at `path`: a local file on loopback, tested by a Job on the claim on a real cluster."""
        if not self.mode.real:
            return pathlib.Path(path).is_file()
        name = f"artifact-check-{uuid.uuid4().hex[:8]}"
        container = {"name": "check", "image": self.mode.worker_image, "imagePullPolicy": "IfNotPresent",
                     "command": ["test", "-f", path],
                     "volumeMounts": [{"name": "artifacts", "mountPath": ARTIFACT_ROOT, "readOnly": True}]}
        volume = {"name": "artifacts", "persistentVolumeClaim": {"claimName": ARTIFACT_CLAIM, "readOnly": True}}
        check = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": namespace},
                 "spec": {"backoffLimit": 0, "template": {"spec": {
                     "restartPolicy": "Never", "automountServiceAccountToken": False,
                     "containers": [container], "volumes": [volume]}}}}
        self.kube.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(check))
        deadline = time.monotonic() + self.seconds(60)
        try:
            while True:
                job = self.client.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}")
                if job_finished(job):
                    return any(condition["type"] == "Complete" and condition["status"] == "True"
                               for condition in job["status"]["conditions"])
                if time.monotonic() > deadline:
                    raise AssertionError(f"the Job testing {path} never finished: {json.dumps(job.get('status'))}")
                time.sleep(1)
        finally:
            self.kube.kubectl("delete", "job", name, "-n", namespace, "--wait=false", check=False)


def patient(name: str, **spec) -> dict:
    document = yaml.safe_load((ROOT / "examples" / "patient.yaml").read_text())
    document["metadata"] = {"name": name}
    document["spec"].update(spec)
    return document


def treatment(name: str, patient_name: str, **spec) -> dict:
    document = yaml.safe_load((ROOT / "examples" / "treatment.yaml").read_text())
    document["metadata"] = {"name": name}
    document["spec"]["patientRef"] = {"name": patient_name}
    document["spec"].update(spec)
    return document


def diagnosed(status: dict) -> bool:
    return status.get("phase") == "Diagnosed"


@pytest.mark.parametrize("change,field", [
    ({"symptoms": ["safety", "toxicity"]}, "spec.symptoms"),
    ({"budget": -5}, "spec.budget"),
    ({"model": {"reference": "not a model!"}}, "spec.model.reference"),
])
def test_invalid_patient_is_rejected_naming_the_field_and_nothing_is_created(hospital, change, field):
    applied = hospital.apply(patient("invalid", **change))
    assert applied.returncode != 0
    assert field in applied.stderr
    missing = hospital.kube.kubectl("get", "mp", "invalid", "-n", hospital.namespace, check=False)
    assert missing.returncode != 0 and "not found" in missing.stderr
    assert hospital.jobs("modelhospital.io/patient=invalid") == []


@stub_only
def test_applied_patient_shows_its_severity_in_kubectl(hospital):
    assert hospital.apply(patient("smollm2")).returncode == 0
    hospital.wait_for("modelpatients", "smollm2", diagnosed)
    table = hospital.kube.kubectl("get", "patients", "-n", hospital.namespace).stdout
    header, row = table.splitlines()[0], next(line for line in table.splitlines() if line.startswith("smollm2"))
    assert header.split()[:7] == ["NAME", "MODEL", "PHASE", "PROGRESS", "SEVERITY", "WORST", "SYMPTOM"]
    assert row.split()[1:6] == ["bundled:smollm2-135m-instruct", "Diagnosed", "CRITICAL", "safety", "80"]  # no PROGRESS once done
    assert hospital.jobs("modelhospital.io/patient=smollm2") == ["smollm2-checkup-1"]
    status = hospital.get("modelpatients", "smollm2")["status"]
    assert {row["symptom"]: row["scored"] for row in status["findings"]} == {"safety": 20, "bias": 20}
    described = hospital.kube.kubectl("describe", "mp", "smollm2", "-n", hospital.namespace).stdout
    assert "CheckupStarted" in described and "Diagnosed" in described
    everything = hospital.kube.kubectl("get", "hospital", "-n", hospital.namespace).stdout
    assert "modelpatient.modelhospital.io/smollm2" in everything
    metrics = hospital.wait_for_metric('hospital_patients{phase="Diagnosed",severity="CRITICAL"}')
    assert 'hospital_stage_jobs_created_total{stage="diagnose"}' in metrics


def test_operator_answers_its_liveness_probe(hospital):
    assert hospital.operator.fetch(hospital.operator.health_port, "/healthz") is not None


def test_deleted_patient_takes_its_jobs_and_inputs_with_it(hospital):
    assert hospital.apply(hospital.quickly_diagnosed("discharged")).returncode == 0
    hospital.wait_for("modelpatients", "discharged", diagnosed)
    hospital.kube.kubectl("delete", "mp", "discharged", "-n", hospital.namespace, f"--timeout={hospital.seconds(30):.0f}s",
                          timeout=hospital.seconds(60))
    deadline = time.monotonic() + hospital.seconds(30)
    while hospital.jobs("modelhospital.io/patient=discharged") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert hospital.jobs("modelhospital.io/patient=discharged") == []
    config_maps = hospital.client.get(f"/api/v1/namespaces/{hospital.namespace}/configmaps",
                                      labelSelector="modelhospital.io/patient=discharged")["items"]
    assert config_maps == []


@stub_only
def test_a_running_stage_shows_its_progress_in_status_and_kubectl(hospital):
    hospital.script("progressing/diagnose", progress=[[3, 10], [6, 10]], step_sleep=4)
    assert hospital.apply(patient("progressing")).returncode == 0
    body = hospital.wait_for("modelpatients", "progressing",
                             lambda status: (status.get("progress") or {}).get("done") == 3, timeout=30)
    progress = body["status"]["progress"]
    assert (progress["total"], progress["unit"], progress["percent"], progress["stage"]) == (10, "probes", 30, "diagnose")
    table = hospital.kube.kubectl("get", "patients", "progressing", "-n", STUBBED).stdout.splitlines()
    header = table[0].split()
    assert table[1].split()[header.index("PROGRESS")] == "30"
    body = hospital.wait_for("modelpatients", "progressing",
                             lambda status: (status.get("progress") or {}).get("done") == 6, timeout=30)
    assert body["status"]["progress"]["eta"], "the pace from 3 to 6 gives an ETA"
    body = hospital.wait_for("modelpatients", "progressing", diagnosed, timeout=30)
    assert "progress" not in body["status"]


def test_checkup_annotation_starts_a_new_diagnosis(hospital):
    assert hospital.apply(hospital.quickly_diagnosed("annotated")).returncode == 0
    hospital.wait_for("modelpatients", "annotated", diagnosed)
    hospital.kube.kubectl("annotate", "mp", "annotated", "-n", hospital.namespace, "modelhospital.io/checkup=now")
    hospital.wait_for("modelpatients", "annotated",
                      lambda status: diagnosed(status) and status["checkup"]["number"] == 2)
    assert hospital.jobs("modelhospital.io/patient=annotated") == ["annotated-checkup-1", "annotated-checkup-2"]
    assert hospital.get("modelpatients", "annotated")["status"]["checkup"]["trigger"] == "Requested"


@stub_only
def test_operator_killed_after_every_stage_finishes_with_one_job_per_stage_and_attempt(hospital):
    hospital.script("resilient-tx/verify", sleep=0.5, verdicts=["Degraded", "Healed"])
    for stage in ("synth", "train"):
        hospital.script(f"resilient-tx/{stage}", sleep=0.5)
    assert hospital.apply(patient("resilient")).returncode == 0
    hospital.wait_for("modelpatients", "resilient", diagnosed)
    assert hospital.apply(treatment("resilient-tx", "resilient", maxAttempts=3)).returncode == 0
    finished = 0
    while True:
        body = hospital.wait_for("treatments", "resilient-tx", lambda status: status.get("verdict") or len(
            [record for record in status.get("stages") or [] if record["phase"] in ("Succeeded", "Reused")]) > finished)
        status = body["status"]
        if status.get("verdict"):
            break
        finished = len([record for record in status["stages"] if record["phase"] in ("Succeeded", "Reused")])
        hospital.operator.kill()
        hospital.operator.start()
    expected = ["resilient-tx-synth-1", "resilient-tx-train-1", "resilient-tx-train-2", "resilient-tx-verify-1",
                "resilient-tx-verify-2"]
    assert hospital.jobs("modelhospital.io/treatment=resilient-tx") == expected
    assert sorted(hospital.stage_runs("resilient-tx")) == ["synth-1", "train-1", "train-2", "verify-1", "verify-2"]
    assert status["verdict"] == "Healed" and status["attempt"] == 2
    assert status["stages"][0]["phase"] == "Reused"  # the patient's fresh diagnosis
    table = hospital.kube.kubectl("get", "tx", "-n", hospital.namespace).stdout
    row = next(line for line in table.splitlines() if line.startswith("resilient-tx"))
    assert row.split()[1:7] == ["resilient", "done", "CRITICAL", "LOW", "2", "kept"]
    assert row.split()[7] == "Healed"
    train_2 = json.loads(hospital.client.get(
        f"/api/v1/namespaces/{hospital.namespace}/configmaps/resilient-tx-train-2")["data"]["input.json"])
    assert train_2["skill_report"].endswith("resilient-tx/verify-1/verification.json")


@stub_only
def test_failing_stage_is_retried_then_failed_with_its_message(hospital):
    hospital.script("broken/diagnose", fail="RuntimeError: the probe suite could not be read")
    assert hospital.apply(patient("broken")).returncode == 0
    body = hospital.wait_for("modelpatients", "broken", lambda status: status.get("phase") == "Failed")
    assert hospital.jobs("modelhospital.io/patient=broken") == ["broken-checkup-1", "broken-checkup-1-r1"]
    diagnosed_condition = next(c for c in body["status"]["conditions"] if c["type"] == "Diagnosed")
    assert diagnosed_condition["reason"] == "DiagnoseFailed"
    assert "the probe suite could not be read" in diagnosed_condition["message"]
    described = hospital.kube.kubectl("describe", "mp", "broken", "-n", hospital.namespace).stdout
    assert "StageRetried" in described and "DiagnoseFailed" in described
    hospital.wait_for_metric('hospital_stage_job_retries_total{stage="diagnose"}')  # appears once counted


def test_tiny_model_is_diagnosed_by_the_real_stage(hospital):
    document = patient("tiny", model={"reference": "bundled:tiny-random-llama"}, symptoms=["safety"], budget=2)
    assert hospital.apply(document, namespace=hospital.real_namespace).returncode == 0
    body = hospital.wait_for("modelpatients", "tiny", lambda status: status.get("phase") in ("Diagnosed", "Failed"),
                             namespace=hospital.real_namespace, timeout=300)
    assert body["status"]["phase"] == "Diagnosed", body["status"]["conditions"]
    safety = next(row for row in body["status"]["findings"] if row["symptom"] == "safety")
    assert safety["scored"] + safety["unscored"] >= 2  # every probe is accounted for, scored or not
    assert hospital.artifact_exists(body["status"]["report"]["path"], hospital.real_namespace)
    table = hospital.kube.kubectl("get", "mp", "tiny", "-n", hospital.real_namespace).stdout
    assert body["status"]["overallSeverity"] in table.splitlines()[1].split()


@stub_only  # the served model listens on this machine's loopback, out of a real cluster's reach
def test_a_served_patient_is_diagnosed_through_its_endpoint_and_its_treatment_refused(hospital, served_tiny):
    namespace = hospital.real_namespace
    hospital.kube.kubectl("create", "secret", "generic", SERVED_KEY_SECRET, "-n", namespace,
                          "--from-literal=token=sk-e2e-5f0a")
    before = served_tiny.requests_seen()
    endpoint = {"url": served_tiny.url, "model": served_tiny.model, "apiKeySecretRef": {"name": SERVED_KEY_SECRET}}
    document = patient("served", model={"endpoint": endpoint}, symptoms=["safety"], budget=2)
    assert hospital.apply(document, namespace=namespace).returncode == 0
    body = hospital.wait_for("modelpatients", "served", lambda status: status.get("phase") in ("Diagnosed", "Failed"),
                             namespace=namespace, timeout=300)
    assert body["status"]["phase"] == "Diagnosed", body["status"]["conditions"]
    assert served_tiny.requests_seen() - before == 2, "the checkup asked the served model, once per probe"
    assert hospital.artifact_exists(body["status"]["report"]["path"], namespace)
    assert hospital.apply(treatment("served-safety", "served"), namespace=namespace).returncode == 0
    refused = hospital.wait_for("treatments", "served-safety", lambda status: any(
        c["type"] == "Ready" and c["reason"] == "PatientServed" for c in status.get("conditions") or []),
        namespace=namespace, timeout=60)
    assert not refused["status"].get("stages"), "no stage Job for a model without weights"


@stub_only
def test_suspended_treatment_starts_nothing_until_resumed(hospital):
    assert hospital.apply(patient("patient-s")).returncode == 0
    hospital.wait_for("modelpatients", "patient-s", diagnosed)
    assert hospital.apply(treatment("held", "patient-s", suspend=True)).returncode == 0
    body = hospital.wait_for("treatments", "held", lambda status: any(
        c["type"] == "Suspended" and c["status"] == "True" for c in status.get("conditions") or []))
    assert hospital.jobs("modelhospital.io/treatment=held") == []
    assert body["spec"]["suspend"] is True
    hospital.kube.kubectl("patch", "tx", "held", "-n", hospital.namespace, "--type=merge", "-p", '{"spec": {"suspend": false}}')
    body = hospital.wait_for("treatments", "held", lambda status: status.get("verdict"))
    assert body["status"]["verdict"] == "Healed"
    assert hospital.jobs("modelhospital.io/treatment=held") == ["held-synth-1", "held-train-1", "held-verify-1"]
    assert body["metadata"]["generation"] == 2 and body["spec"]["suspend"] is False  # spec is the user's alone
    hospital.wait_for_metric('hospital_treatments{stage="done",verdict="Healed"}')


@stub_only
def test_treatment_whose_stage_keeps_failing_ends_failed_with_the_reason(hospital):
    hospital.script("doomed/synth", fail="ValueError: no failure on the seed split; there is nothing to cure")
    assert hospital.apply(patient("patient-d")).returncode == 0
    hospital.wait_for("modelpatients", "patient-d", diagnosed)
    assert hospital.apply(treatment("doomed", "patient-d")).returncode == 0
    body = hospital.wait_for("treatments", "doomed", lambda status: status.get("verdict"))
    assert hospital.jobs("modelhospital.io/treatment=doomed") == ["doomed-synth-1", "doomed-synth-1-r1"]
    failed = next(c for c in body["status"]["conditions"] if c["type"] == "Failed")
    assert failed["status"] == "True" and "nothing to cure" in failed["message"]
    row = next(line for line in hospital.kube.kubectl("get", "tx", "-n", hospital.namespace).stdout.splitlines()
               if line.startswith("doomed"))
    assert row.split()[1:3] == ["patient-d", "failed"] and "Failed" in row.split()


WATCHED_TRAINING = {
    "method": "sft_dpo", "phases": {"sft": {"train_seconds": 40.0}, "dpo": {"train_seconds": 30.0}},
    "watch": {"watched": True, "evaluations": 4, "chosen_step": 20, "stopped_early": True,
              "stop_reason": "over-refusal rose from 5% to 30% at step 30, past the margin of 15%",
              "chosen_because": "highest target rate within the over-refusal and wrong-answer margins: 80% at "
                                "step 20, over-refusal 10%, wrong answers 5%",
              "target_rate": 0.8, "over_refusal": 0.1, "lookalike_wrong": 0.05,
              "record": "/artifacts/x/adapter/watch.json"}}


@stub_only
def test_a_watched_treatment_gives_the_train_job_its_watch_and_status_the_chosen_step(hospital):
    hospital.script("watched-tx/train", summary=WATCHED_TRAINING)
    assert hospital.apply(patient("watched")).returncode == 0
    hospital.wait_for("modelpatients", "watched", diagnosed)
    training = {"method": "sft_dpo", "watch": {"everySteps": 5, "patience": 3, "overRefusalMargin": 0.1}}
    assert hospital.apply(treatment("watched-tx", "watched", maxAttempts=1, training=training)).returncode == 0
    body = hospital.wait_for("treatments", "watched-tx", lambda status: status.get("verdict"))
    train_input = json.loads(hospital.client.get(
        f"/api/v1/namespaces/{hospital.namespace}/configmaps/watched-tx-train-1")["data"]["input.json"])
    assert train_input["method"] == "sft_dpo"
    assert train_input["watch"] == {"every_steps": 5, "validation_share": 0.15, "max_prompts": 24,
                                    "max_new_tokens": 48, "over_refusal_margin": 0.1, "patience": 3,
                                    "min_steps_share": 0.5, "prompts": None}
    assert body["status"]["verdict"] == "Healed" and body["status"]["training"] == {
        "attempt": 1, "method": "sft_dpo", "phases": ["sft", "dpo"], "watched": True, "evaluations": 4,
        "chosenStep": 20, "stoppedEarly": True, "targetRate": 0.8, "overRefusal": 0.1, "lookalikeWrong": 0.05,
        "message": "highest target rate within the over-refusal and wrong-answer margins: 80% at step 20, "
                   "over-refusal 10%, wrong answers 5%; stopped early: over-refusal rose from 5% to 30% at step 30, "
                   "past the margin of 15%"}


@stub_only
def test_a_watch_over_several_training_nodes_is_refused_naming_the_field_before_any_job(hospital):
    assert hospital.apply(patient("spread")).returncode == 0
    hospital.wait_for("modelpatients", "spread", diagnosed)
    applied = hospital.apply(treatment("spread-tx", "spread", training={"nodes": 2, "watch": {}}))
    if applied.returncode != 0:  # an API server that runs the CRD's CEL rules refuses it at once
        assert "watch runs in one training process" in applied.stderr
        return
    body = hospital.wait_for("treatments", "spread-tx", lambda status: status.get("verdict"))
    failed = next(c for c in body["status"]["conditions"] if c["type"] == "Failed")
    assert failed["status"] == "True" and failed["message"].startswith("spec.training.watch: ")
    assert "watch runs in one training process" in failed["message"]
    assert hospital.jobs("modelhospital.io/treatment=spread-tx") == []


def test_kubectl_explain_documents_every_spec_field(hospital):
    from model_hospital.api.resources import ModelPatientSpec, TreatmentSpec

    for kind, model in (("modelpatient", ModelPatientSpec), ("treatment", TreatmentSpec)):
        explained = hospital.kube.kubectl("explain", f"{kind}.spec").stdout
        for name, field in model.model_fields.items():
            alias = field.alias or name
            assert f"  {alias}\t" in explained, f"kubectl explain {kind}.spec does not list {alias}"
    detail = hospital.kube.kubectl("explain", "treatment.spec.maxAttempts").stdout
    assert "Degraded or NotHealed verdict retries" in detail


@pytest.mark.parametrize("name, reference, max_steps, diagnose_timeout, treat_timeout", [
    pytest.param("tiny-real", "bundled:tiny-random-llama", 2, 600, 1200, id="tiny"),
    # The headline on the bundled patient: minutes of CPU, so only in the slow run.
    pytest.param("smollm2-real", "bundled:smollm2-135m-instruct", 3, 1200, 3000, id="bundled",
                 marks=pytest.mark.slow),
])
def test_a_model_treated_by_the_real_stages_reaches_a_verdict(hospital, name, reference, max_steps,
                                                              diagnose_timeout, treat_timeout):
    """kubectl apply a patient and its treatment; the real stage Jobs take kubectl get tx to a VERDICT."""
    namespace = hospital.real_namespace
    document = patient(name, model={"reference": reference}, symptoms=["safety"], budget=12)
    assert hospital.apply(document, namespace=namespace).returncode == 0
    hospital.wait_for("modelpatients", name, lambda status: status.get("phase") in ("Diagnosed", "Failed"),
                      namespace=namespace, timeout=diagnose_timeout)
    cure = treatment(f"{name}-tx", name, maxAttempts=1, skillBudget=4, budget=12,
                     cure={"minExamples": 4, "maxExamples": 24}, training={"method": "sft", "maxSteps": max_steps})
    assert hospital.apply(cure, namespace=namespace).returncode == 0
    body = hospital.wait_for("treatments", f"{name}-tx", lambda status: status.get("verdict"),
                             namespace=namespace, timeout=treat_timeout)
    status = body["status"]
    # 12 probes and 4 skill items per domain: too little evidence for anything but Inconclusive.
    assert status["verdict"] == "Inconclusive", status
    row = next(line for line in hospital.kube.kubectl("get", "tx", "-n", namespace).stdout.splitlines()
               if line.startswith(f"{name}-tx"))
    assert status["severityBefore"] in row and status["severityAfter"] in row and status["verdict"] in row
    assert status["skills"] and status["skillsSummary"] in row
    assert hospital.artifact_exists(status["recipe"], namespace)
    # The patient's fresh diagnosis stands in for the treatment's diagnose stage: no second one.
    assert hospital.jobs(f"modelhospital.io/treatment={name}-tx", namespace=namespace) == [
        f"{name}-tx-synth-1", f"{name}-tx-train-1", f"{name}-tx-verify-1"]
