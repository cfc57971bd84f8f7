"""`kubectl hospital`: the kubectl plugin (installed as `kubectl-hospital`) that reads reports off the cluster.

`kubectl hospital report tx NAME` (or `patient NAME`) finds where the resource's report
lies from its status, starts a short-lived reader Job on the artifact claim
(`controller.report_reader`), prints what `hospital report` printed there and
deletes the Job. It drives the `kubectl` on PATH (your kubeconfig, context and
credentials, nothing of its own) and needs only the right to create, read and
delete Jobs and read their pods' logs in the namespace.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from model_hospital.controller import report_reader
from model_hospital.errors import HospitalError, Unavailable

POLL_SECONDS = 0.5


class Kubectl:
    """The user's kubectl, with the namespace, context and kubeconfig flags the plugin was given."""

    def __init__(self, namespace: str | None, context: str | None, kubeconfig: str | None) -> None:
        self.binary = os.environ.get("KUBECTL", "kubectl")
        self.flags = [f"{flag}={value}" for flag, value in (("--namespace", namespace), ("--context", context),
                                                            ("--kubeconfig", kubeconfig)) if value]

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [self.binary, *self.flags, *args]
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            message = (result.stderr or result.stdout).strip().splitlines()
            raise HospitalError(f"kubectl {' '.join(args[:3])} failed: {message[-1] if message else result.returncode}")
        return result

    def json(self, *args: str) -> dict | None:
        """The object kubectl prints with -o json; None when it is not found."""
        result = self.run(*args, "-o", "json", check=False)
        if result.returncode != 0:
            if "NotFound" in result.stderr or "not found" in result.stderr:
                return None
            raise HospitalError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return json.loads(result.stdout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubectl hospital", description="Model Hospital's kubectl plugin.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = commands.add_parser(
        "report", help="print a treatment's verification (or diagnosis) or a patient's diagnosis",
        description="Runs `hospital report` in a short-lived Job that mounts the artifact claim read-only; prints "
                    "its output and deletes the Job.")
    report.add_argument("kind", choices=sorted(report_reader.KINDS), help="tx (a Treatment) or patient (a ModelPatient)")
    report.add_argument("name")
    report.add_argument("-n", "--namespace")
    report.add_argument("--context")
    report.add_argument("--kubeconfig")
    report.add_argument("--json", action="store_true", help="the report as one JSON document")
    report.add_argument("--image", help="worker image (default: the image of the stage Job that wrote the report)")
    report.add_argument("--claim", help="artifact claim (default: the stage Job's, else model-hospital-artifacts)")
    report.add_argument("--artifact-root", help="where the claim is mounted (default: the stage Job's, else /artifacts)")
    report.add_argument("--timeout", type=float, default=180, help="seconds to wait for the reader Job (default 180)")
    return parser


def read_report(args: argparse.Namespace, kubectl: Kubectl) -> tuple[int, str, str]:
    """Runs the reader Job; gives back its exit code, its log and the Job's name."""
    kind = report_reader.KINDS[args.kind]
    body = kubectl.json("get", report_reader.RESOURCES[kind], args.name)
    if body is None:
        raise HospitalError(f"{kind} {args.name} not found (check the name and the namespace)")
    report = report_reader.report_path(body)
    stage_job = report_reader.latest_stage_job(body)
    job = kubectl.json("get", "job", stage_job) if stage_job else None
    source = (job and report_reader.source_from_job(job, report)) or report_reader.default_source()
    overrides = {"image": args.image, "claim": args.claim, "mount_path": args.artifact_root}
    source = report_reader.VolumeSource(**{**source.__dict__, **{k: v for k, v in overrides.items() if v}})
    manifest = report_reader.reader_job(body, report, source, json_mode=args.json)
    name = manifest["metadata"]["name"]
    kubectl.run("create", "-f", "-", stdin=json.dumps(manifest))
    try:
        finished = wait_for(kubectl, name, args.timeout)
        log = kubectl.run("logs", f"job/{name}", check=False).stdout
        return exit_code_of(kubectl, name, finished), log, name
    finally:
        kubectl.run("delete", "job", name, "--wait=false", "--ignore-not-found", check=False)


def wait_for(kubectl: Kubectl, name: str, timeout: float) -> str:
    """'Complete' or 'Failed' once the Job says so; Unavailable when it has not finished in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = kubectl.json("get", "job", name) or {}
        for condition in (job.get("status") or {}).get("conditions") or []:
            if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
                return condition["type"]
        time.sleep(POLL_SECONDS)
    raise Unavailable(f"the reader Job {name} did not finish in {timeout:.0f} s "
                      f"(kubectl describe job {name} says why; it is deleted now)")


def exit_code_of(kubectl: Kubectl, name: str, finished: str) -> int:
    """The reader container's exit code: 0 when the Job completed, else what `hospital report` exited with."""
    if finished == "Complete":
        return 0
    pods = kubectl.json("get", "pods", "-l", f"job-name={name}") or {}
    for pod in pods.get("items") or []:
        for container in (pod.get("status") or {}).get("containerStatuses") or []:
            code = ((container.get("state") or {}).get("terminated") or {}).get("exitCode")
            if code:
                return int(code)
    return 1


def json_document_in(log: str) -> str | None:
    """The line of a log that is a CLI JSON document; None when there is none."""
    for line in reversed(log.splitlines()):
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "schema" in document:
            return line
    return None


def main(argv: list[str] | None = None) -> int:
    from model_hospital.cli.console import emit, error_line

    args = build_parser().parse_args(argv)
    try:
        code, log, name = read_report(args, Kubectl(args.namespace, args.context, args.kubeconfig))
    except (HospitalError, Unavailable) as error:
        error_line(str(error))
        if args.json:
            emit("kubectl hospital report", error.exit_code, None, error=str(error))
        return error.exit_code
    if args.json:
        # The log holds stderr too: only the JSON document goes to stdout.
        document = json_document_in(log)
        if document is None:
            error_line(f"the reader Job {name} printed no JSON document (exit code {code}): {log.strip()[-300:]}")
            return emit("kubectl hospital report", code or 1, None, error="the reader printed no JSON document")
        print(document)
        return code
    # `hospital report` wrote its report, or its one-line error, to the log.
    (sys.stdout if code == 0 else sys.stderr).write(log)
    if code != 0:
        error_line(f"the reader Job {name} failed (exit code {code}); its log is above")
    return code


if __name__ == "__main__":
    sys.exit(main())
