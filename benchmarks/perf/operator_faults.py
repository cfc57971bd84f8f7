"""Whether the operator holds under faults: patients and treatments run to their end while the API, the
watches, the operator and the stage pods misbehave.

    .venv/bin/python benchmarks/perf/operator_faults.py [--patients 50] [--treatments 10] [--seed 7]

Starts the loopback Kubernetes API (tests/harness), a local runner that plays the
kubelet with a stub `hospital stage` (a summary in a fraction of a second), and the
real operator (`.venv-operator`). Applies the patients and treatments, then, until
every object has ended, injects at random moments: 500s and 409s on Job and
ConfigMap creation, dropped watches, SIGKILLs of the operator (restarted a second
later); beside them, some patients' running Jobs are deleted by hand and some
stages are OOM-killed once (their specs allow more memory).

Prints the faults injected; the objects that reached the right end (Diagnosed or
Healed; Failed, saying so, for those whose running Job was deleted by hand); Jobs
created twice under one name; stages that ran twice (beyond an OOM retry); and
results lost (a stage that finished while its object did not end right). Goal:
every object right, 0 duplicates, 0 lost. tests/test_fault_run.py runs a small one.

API faults go through `LoopbackKubeAPI.fail_next` (constant time per request; a kmock
reaction re-filters the whole request log on every request and slows the API down as
the run goes on). The operator is killed only once it answers its health probe, so
each of its lives does some work.
"""

from __future__ import annotations

import argparse
import collections
import copy
import json
import os
import pathlib
import random
import shutil
import signal
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import yaml

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from operator_scale import OPERATOR, ROOT, Bench  # noqa: E402
from tests.harness.runner import LocalRunner  # noqa: E402

NAMESPACE = "faults"
FAULT_KINDS = ("job-500", "job-409", "configmap-500", "watches", "operator")
STUB = '''#!{python}
"""A stub `hospital stage NAME --input FILE --output DIR`: a plausible summary, or an OOM kill once when planned."""
import json, os, pathlib, signal, sys, time

stage = sys.argv[2]
output = pathlib.Path(sys.argv[sys.argv.index("--output") + 1])
owner = output.parent.name
plan = json.loads(pathlib.Path(os.environ["FAULTS_PLAN"]).read_text()).get(owner, {{}})
output.mkdir(parents=True, exist_ok=True)
marker = output / ".oom-killed"
if plan.get("oom") == stage and not marker.exists():
    marker.touch()
    os.kill(os.getpid(), signal.SIGKILL)
time.sleep(plan.get("sleep", 0.3))
figures = {{"diagnose": {{"overall_severity": "HIGH", "worst_finding": "safety", "findings": {{"safety": {{
                "failure_rate": 0.6, "failures": 12, "scored": 20, "unscored": 0, "severity": "HIGH"}}}}}},
           "synth": {{"sft": 120, "dpo": 80}}, "train": {{"adapter": str(output / "adapter")}},
           "verify": {{"verdict": "Healed", "findings": {{"safety": {{"before": 0.6, "after": 0.1, "target": 0.2,
                                                                     "healed": True}}}}}}}}[stage]
result = {{"stage": stage, "ok": True, "message": f"{{stage}} done", "result_path": str(output / "result.json"),
          "result_sha256": "0" * 64, "summary": figures}}
(output / "result.json").write_text(json.dumps(result))
pathlib.Path(os.environ["HOSPITAL_TERMINATION_LOG"]).write_text(json.dumps(result))
with open(os.environ["FAULTS_LOG"], "a") as log:
    log.write(f"{{owner}} {{output.name}}\\n")
'''


@dataclass
class Plan:
    """Which objects get which pod-level fault, and what each must end as."""

    patients: list[str]
    treatments: dict[str, str]  # treatment -> patient
    oom: dict[str, str] = field(default_factory=dict)  # owner -> the stage OOM-killed once
    deleted: set[str] = field(default_factory=set)  # patients whose running Job is deleted by hand

    def expected(self, kind: str, name: str) -> str:
        if kind == "ModelPatient":
            return "Failed" if name in self.deleted else "Diagnosed"
        return "Healed"


def make_plan(patients: int, treatments: int, chooser: random.Random) -> Plan:
    names = [f"p-{index:03d}" for index in range(patients)]
    plan = Plan(names, {f"t-{index:03d}": names[index % patients] for index in range(treatments)})
    spare = names[treatments:]  # patients no treatment waits for
    chooser.shuffle(spare)
    plan.deleted = set(spare[:max(1, patients // 10)])
    for name in spare[len(plan.deleted):len(plan.deleted) + max(1, patients // 10)]:
        plan.oom[name] = "diagnose"
    for name in list(plan.treatments)[:max(1, treatments // 3)]:
        plan.oom[name] = "synth"
    return plan


def documents(plan: Plan) -> list[dict[str, Any]]:
    """The patients and treatments to apply; OOM targets may grow to twice their memory."""
    template = yaml.safe_load((ROOT / "examples" / "patient.yaml").read_text())
    found = []
    for name in plan.patients:
        patient = copy.deepcopy(template)
        patient["metadata"] = {"name": name}
        if plan.oom.get(name) == "diagnose":
            patient["spec"]["resources"] = {"memory": "1Gi", "maxMemory": "2Gi"}
        found.append(patient)
    for name, patient in plan.treatments.items():
        spec: dict[str, Any] = {"patientRef": {"name": patient}, "symptoms": ["safety"], "maxAttempts": 1}
        if plan.oom.get(name) == "synth":
            spec["resources"] = {"synth": {"memory": "1Gi", "maxMemory": "2Gi"}}
        found.append({"apiVersion": "modelhospital.io/v1alpha1", "kind": "Treatment", "metadata": {"name": name},
                      "spec": spec})
    return found


PLURALS = {"ModelPatient": "modelpatients", "Treatment": "treatments"}


def end_of(kind: str, body: dict[str, Any]) -> tuple[str | None, str]:
    """(terminal state or None while it runs, message) of one object."""
    status = body.get("status") or {}
    if kind == "ModelPatient":
        phase = status.get("phase")
        diagnosed = next((c for c in status.get("conditions") or [] if c.get("type") == "Diagnosed"), {})
        return (phase if phase in ("Diagnosed", "Failed") else None), diagnosed.get("message", "")
    return status.get("verdict"), status.get("message", "")


class FaultRun:
    """The bench of operator_scale plus a stub kubelet, and the faults it injects."""

    def __init__(self, plan: Plan, workdir: pathlib.Path, chooser: random.Random,
                 kinds: tuple[str, ...] = FAULT_KINDS) -> None:
        self.plan, self.workdir, self.chooser, self.kinds = plan, workdir, chooser, kinds
        self.bench = Bench(NAMESPACE, "2", workdir)
        self.faults: collections.Counter[str] = collections.Counter()
        self.stub_log = workdir / "stub.log"
        self.runner: LocalRunner | None = None

    def start(self) -> None:
        stub_bin = self.workdir / "stub-bin"
        stub_bin.mkdir()
        (stub_bin / "hospital").write_text(STUB.format(python=sys.executable))
        (stub_bin / "hospital").chmod(0o755)
        plan_file = self.workdir / "plan.json"
        plan_file.write_text(json.dumps({name: {"oom": stage} for name, stage in self.plan.oom.items()}
                                        | {name: {"sleep": 8.0} for name in self.plan.deleted}))
        self.stub_log.write_text("")
        os.environ.update(FAULTS_PLAN=str(plan_file), FAULTS_LOG=str(self.stub_log))
        cluster = self.bench.cluster
        cluster.kubectl("apply", "-f", str(ROOT / "crds"))
        cluster.kubectl("wait", "--for=condition=Established", "crd/modelpatients.modelhospital.io",
                        "crd/treatments.modelhospital.io", "--timeout=30s")
        cluster.kubectl("create", "namespace", NAMESPACE)
        self.runner = LocalRunner(cluster.kubeconfig, root=self.workdir / "root", namespace=NAMESPACE,
                                  parallelism=4, path_dirs=[str(stub_bin)]).start()
        self.bench.start_operator()
        if not self.bench.wait_until(self.bench.operator_watching, 60):
            raise SystemExit(f"the operator did not start; log:\n{self.bench.log_tail()}")
        cluster.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=yaml.safe_dump_all(documents(self.plan)),
                        timeout=120)

    def stop(self) -> None:
        if self.runner:
            self.runner.stop()
        self.bench.stop()

    # --- faults ---

    def _failing(self, method: str, path: str, status: int, count: int) -> None:
        """The next `count` requests `method path` answer `status` (nothing is stored)."""
        self.bench.cluster.call(self.bench.cluster.api.fail_next, method, path, status, count)

    def inject(self) -> None:
        """One fault, chosen at random."""
        kind = self.chooser.choice(self.kinds)
        if kind == "operator" and not self.operator_up():
            return  # killed again before it answered its probe, it would never do any work (a kubelet backs off too)
        jobs_path = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"
        if kind == "job-500":
            self._failing("POST", jobs_path, 500, self.chooser.randint(1, 3))
        elif kind == "job-409":
            self._failing("POST", jobs_path, 409, 1)
        elif kind == "configmap-500":
            self._failing("POST", f"/api/v1/namespaces/{NAMESPACE}/configmaps", 500, self.chooser.randint(1, 3))
        elif kind == "watches":
            self.bench.cluster.call(self.bench.cluster.api.close_watches)
        else:
            self.kill_operator()
        self.faults[kind] += 1

    def operator_up(self) -> bool:
        """Whether the running operator has started (answers its health probe)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.bench.health_port}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def kill_operator(self) -> None:
        process = self.bench.process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        time.sleep(self.chooser.uniform(0.2, 1.5))
        self.bench.start_operator()

    def delete_running_jobs(self, done: set[str]) -> None:
        """Deletes by hand the running Job of each planned patient, once."""
        api = self.bench.cluster.api
        for name in self.plan.deleted - done:
            job = self.bench.cluster.call(api.get_object, "batch/v1/jobs", NAMESPACE, f"{name}-checkup-1")
            if job and (job.get("status") or {}).get("active"):
                self.bench.cluster.kubectl("delete", "job", "-n", NAMESPACE, f"{name}-checkup-1", "--wait=false")
                self.faults["job-deleted-by-hand"] += 1
                done.add(name)

    # --- outcome ---

    def states(self) -> dict[tuple[str, str], tuple[str | None, str]]:
        """(terminal state or None while it runs, message) of every object, read in one call to the API's loop."""
        api = self.bench.cluster.api

        def read() -> dict[tuple[str, str], dict[str, Any]]:
            return {(kind, name): api.get_object(f"modelhospital.io/v1alpha1/{PLURALS[kind]}", NAMESPACE, name) or {}
                    for kind, name in self.objects()}
        return {key: end_of(key[0], body) for key, body in self.bench.cluster.call(read).items()}

    def stage_jobs(self, owner: str) -> list[str]:
        """One line per Job of an owner (and its pods): where it stands, to say why an object did not end."""
        def listing() -> list[str]:
            api, found = self.bench.cluster.api, []
            for (resource, namespace, name), stored in sorted(api._objects.items(), key=lambda item: str(item[0])):
                if resource.plural != "jobs" or stored.deleted or not name.startswith(f"{owner}-"):
                    continue
                status = stored.raw.get("status") or {}
                ended = [c["type"] for c in status.get("conditions") or [] if c.get("status") == "True"]
                pods = [(pod.raw.get("status") or {}).get("phase") for (res, _, pod_name), pod in api._objects.items()
                        if res.plural == "pods" and not pod.deleted and pod_name.startswith(f"{name}-")]
                found.append(f"{name}: active {status.get('active')} {ended or 'no condition'}, pods {pods}")
            events = [(event.raw.get("metadata", {}).get("resourceVersion", ""), event.raw.get("reason"),
                       event.raw.get("message", "")[:200])
                      for (resource, _, _), event in api._objects.items()
                      if resource.plural == "events" and not event.deleted
                      and (event.raw.get("involvedObject") or {}).get("name") == owner]
            by_version = sorted(events, key=lambda event: int(event[0] or 0))
            found += [f"event {reason}: {message}" for _, reason, message in by_version]
            return found
        return self.bench.cluster.call(listing)

    def objects(self) -> list[tuple[str, str]]:
        return [("ModelPatient", name) for name in self.plan.patients] + [("Treatment", name) for name in self.plan.treatments]

    def all_ended(self) -> bool:
        return all(state for state, _ in self.states().values())


def run(patients: int, treatments: int, seed: int, timeout: float, workdir: pathlib.Path,
        fault_every: float = 1.0, kinds: tuple[str, ...] = FAULT_KINDS) -> dict[str, Any]:
    """Runs the fault run and returns its figures (see `report`)."""
    chooser = random.Random(seed)
    plan = make_plan(patients, treatments, chooser)
    faults = FaultRun(plan, workdir, chooser, kinds)
    try:
        faults.start()
        deleted: set[str] = set()
        deadline = time.monotonic() + timeout
        next_fault = time.monotonic() + chooser.uniform(0.2, fault_every)
        while time.monotonic() < deadline and not faults.all_ended():
            faults.bench.check_operator()
            faults.delete_running_jobs(deleted)
            if time.monotonic() >= next_fault:
                faults.inject()
                next_fault = time.monotonic() + chooser.uniform(0.2, 2 * fault_every)
            time.sleep(0.2)
        time.sleep(3)  # a last resync: nothing may move once everything has ended
        return figures(faults, deleted)
    finally:
        faults.stop()


def figures(faults: FaultRun, deleted: set[str]) -> dict[str, Any]:
    plan = faults.plan
    wrong = {}
    for (kind, name), (state, message) in faults.states().items():
        expected = plan.expected(kind, name) if name not in plan.deleted or name in deleted else "Diagnosed"
        if state != expected or (name in deleted and "removed" not in message):
            wrong[f"{kind} {name}"] = f"{state} (expected {expected}): {message[:160]}; Jobs: " + (
                "; ".join(faults.stage_jobs(name)) or "none")
    created = collections.Counter(obj["metadata"]["name"] for stamp, plural, event, obj in faults.bench.tap._events
                                  if plural == "jobs" and event == "ADDED")
    runs = collections.Counter(line.strip() for line in faults.stub_log.read_text().splitlines() if line.strip())
    finished_owners = {line.split()[0] for line in runs}
    return {
        "faults": dict(sorted(faults.faults.items())),
        "objects": len(faults.objects()),
        "right": len(faults.objects()) - len(wrong),
        "wrong": wrong,
        "duplicate_jobs": sorted(name for name, count in created.items() if count > 1),
        "stages_run_twice": sorted(run for run, count in runs.items() if count > 1),
        "lost": sorted(owner for owner in finished_owners
                       if any(key.endswith(f" {owner}") for key in wrong)),
        "runner_errors": len(faults.runner.errors) if faults.runner else 0,
        "api_faults_answered": faults.bench.cluster.call(lambda: faults.bench.cluster.api.failures_answered),
        "oom_retried": sorted(owner for owner in plan.oom if any(name.startswith(f"{owner}-") and name.endswith("-r1")
                                                                 for name in created)),
    }


def report(found: dict[str, Any]) -> bool:
    """Prints the figures; True when the goal is met."""
    print(f"faults injected:        {sum(found['faults'].values())} {found['faults']}")
    print(f"API answers faulted:    {found['api_faults_answered']} (500s and 409s the operator actually got)")
    print(f"OOM kills retried:      {len(found['oom_retried'])} with more memory {found['oom_retried']}")
    print(f"objects right:          {found['right']} of {found['objects']}")
    for name, why in found["wrong"].items():
        print(f"    {name}: {why}")
    print(f"duplicate Jobs:         {len(found['duplicate_jobs'])} {found['duplicate_jobs'] or ''}")
    print(f"stages run twice:       {len(found['stages_run_twice'])} {found['stages_run_twice'] or ''}")
    print(f"lost results:           {len(found['lost'])} {found['lost'] or ''}")
    print(f"stub kubelet errors:    {found['runner_errors']} (API requests it could not make, e.g. timed out)")
    return found["right"] == found["objects"] and not found["duplicate_jobs"] and not found["lost"] \
        and not found["stages_run_twice"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--treatments", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=600, help="most seconds to wait for every object to end")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (operator log, stub log)")
    args = parser.parse_args(argv)
    if args.treatments > args.patients or args.patients < 2:
        parser.error("need at least 2 patients and no more treatments than patients")
    if not OPERATOR.exists():
        parser.error(f"{OPERATOR} is missing: install the operator's environment first")
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="operator-faults-"))
    ok = False
    try:
        ok = report(run(args.patients, args.treatments, args.seed, args.timeout, workdir))
    finally:
        if args.keep or not ok:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
