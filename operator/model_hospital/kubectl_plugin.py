"""`kubectl hospital`: the kubectl plugin (installed as `kubectl-hospital`) that reads reports off the cluster.

`kubectl hospital report tx NAME` (or `patient NAME`) finds where the resource's report
lies from its status, starts a short-lived reader Job on the artifact claim
(`controller.report_reader`), prints what `hospital report` printed there and
deletes the Job. `kubectl hospital compare tx A B ...` (or `patient A B ...`) does the same
with `hospital compare` over every resource's verification or diagnosis, the first
one the baseline. It drives the `kubectl` on PATH (your kubeconfig, context and
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
    _reader_flags(report, "the report")
    compare = commands.add_parser(
        "compare", help="put several treatments' verifications (or patients' diagnoses) side by side",
        description="Runs `hospital compare` in a short-lived Job that mounts the artifact claim read-only: each "
                    "treatment's verification (else its diagnosis) or each patient's last diagnosis, the first the "
                    "baseline, with intervals and paired tests; prints its output and deletes the Job.")
    compare.add_argument("kind", choices=sorted(report_reader.KINDS), help="tx (Treatments) or patient (ModelPatients)")
    compare.add_argument("names", nargs="+", metavar="NAME", help="two or more; the first is the baseline")
    compare.add_argument("--markdown", action="store_true", help="print the comparison as Markdown")
    _reader_flags(compare, "the comparison")
    return parser


def _reader_flags(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument("-n", "--namespace")
    command.add_argument("--context")
    command.add_argument("--kubeconfig")
    command.add_argument("--json", action="store_true", help=f"{what} as one JSON document")
    command.add_argument("--image", help="worker image (default: the image of the stage Job that wrote the report)")
    command.add_argument("--claim", help="artifact claim (default: the stage Job's, else model-hospital-artifacts)")
    command.add_argument("--artifact-root", help="where the claim is mounted (default: the stage Job's, else /artifacts)")
    command.add_argument("--timeout", type=float, default=180, help="seconds to wait for the reader Job (default 180)")


def _resource(kubectl: Kubectl, kind_name: str, name: str) -> dict:
    kind = report_reader.KINDS[kind_name]
    body = kubectl.json("get", report_reader.RESOURCES[kind], name)
    if body is None:
        raise HospitalError(f"{kind} {name} not found (check the name and the namespace)")
    return body


def _source(args: argparse.Namespace, kubectl: Kubectl, body: dict, report: str) -> report_reader.VolumeSource:
    """Where the reader finds the claim: as the resource's last stage Job mounted it, over by the flags given."""
    stage_job = report_reader.latest_stage_job(body)
    job = kubectl.json("get", "job", stage_job) if stage_job else None
    source = (job and report_reader.source_from_job(job, report)) or report_reader.default_source()
    overrides = {"image": args.image, "claim": args.claim, "mount_path": args.artifact_root}
    return report_reader.VolumeSource(**{**source.__dict__, **{k: v for k, v in overrides.items() if v}})


def reader_manifest(args: argparse.Namespace, kubectl: Kubectl) -> dict:
    """The reader Job of `report` or `compare`, from the resources' status."""
    if args.command == "report":
        body = _resource(kubectl, args.kind, args.name)
        report = report_reader.report_path(body)
        return report_reader.reader_job(body, report, _source(args, kubectl, body, report), json_mode=args.json)
    if len(args.names) < 2:
        raise HospitalError("kubectl hospital compare needs two or more names (the first is the baseline)")
    bodies = [_resource(kubectl, args.kind, name) for name in args.names]
    reports = [report_reader.report_path(body) for body in bodies]
    output = "json" if args.json else "markdown" if args.markdown else "console"
    return report_reader.comparison_job(bodies, reports, _source(args, kubectl, bodies[0], reports[0]), output)


def read_report(args: argparse.Namespace, kubectl: Kubectl) -> tuple[int, str, str]:
    """Runs the reader Job; gives back its exit code, its log and the Job's name."""
    manifest = reader_manifest(args, kubectl)
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
            emit(f"kubectl hospital {args.command}", error.exit_code, None, error=str(error))
        return error.exit_code
    if args.json:
        # The log holds stderr too: only the JSON document goes to stdout.
        document = json_document_in(log)
        if document is None:
            error_line(f"the reader Job {name} printed no JSON document (exit code {code}): {log.strip()[-300:]}")
            return emit(f"kubectl hospital {args.command}", code or 1, None,
                        error="the reader printed no JSON document")
        print(document)
        return code
    # `hospital report` (or compare) wrote its report, or its one-line error, to the log.
    (sys.stdout if code == 0 else sys.stderr).write(log)
    if code != 0:
        error_line(f"the reader Job {name} failed (exit code {code}); its log is above")
    return code


if __name__ == "__main__":
    sys.exit(main())
