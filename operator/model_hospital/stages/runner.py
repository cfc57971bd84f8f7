"""Runs one stage by name: input JSON in, result.json and a termination message out."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import time
import traceback
from pathlib import Path

from pydantic import ValidationError

from model_hospital.api import stages as contracts
from model_hospital.api.stages import SUMMARY_LIMIT_BYTES, StageResult, StageSummary
from model_hospital.errors import HospitalError
from model_hospital.stages import STAGE_MODULES

TERMINATION_LOG_ENV = "HOSPITAL_TERMINATION_LOG"
DEFAULT_TERMINATION_LOG = "/dev/termination-log"


def parse_input(stage: str, raw: dict):
    """The stage input model for `stage`, validated; errors name the field."""
    if stage not in STAGE_MODULES:
        raise HospitalError(f"unknown stage {stage!r}: choose from {', '.join(STAGE_MODULES)}")
    model = getattr(contracts, STAGE_MODULES[stage][1])
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(root)"
        raise HospitalError(f"stage {stage} input: field {field}: {first['msg']}") from None


def read_input(stage: str, source: str) -> object:
    """Reads the stage input from a file path or, with '-', from $HOSPITAL_STAGE_INPUT (JSON text)."""
    if source == "-":
        text = os.environ.get("HOSPITAL_STAGE_INPUT")
        if text is None:
            raise HospitalError("--input - needs the stage input as JSON in $HOSPITAL_STAGE_INPUT")
        origin = "$HOSPITAL_STAGE_INPUT"
    else:
        path = Path(source)
        if not path.is_file():
            raise HospitalError(f"stage input {path} does not exist")
        text = path.read_text(encoding="utf-8")
        origin = str(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise HospitalError(f"{origin}: not valid JSON ({error.msg} at line {error.lineno})") from None
    return parse_input(stage, raw)


def compact_summary(result: StageResult) -> str:
    """The termination message: the summary without artifacts, within SUMMARY_LIMIT_BYTES *bytes* (the
    kubelet cuts by bytes, and a cut summary is no JSON). Too large, its figures give way to
    {"truncated": true} (the operator then points at result.json), then its message is cut."""
    summary = StageSummary.model_validate(result.model_dump(include=set(StageSummary.model_fields)))
    text = summary.model_dump_json()
    if len(text.encode()) <= SUMMARY_LIMIT_BYTES:
        return text
    trimmed = summary.model_copy(update={"summary": {"truncated": True}})
    text = trimmed.model_dump_json()
    while len(text.encode()) > SUMMARY_LIMIT_BYTES and trimmed.message:
        keep = max(0, len(trimmed.message.encode()) - (len(text.encode()) - SUMMARY_LIMIT_BYTES) - 8)
        trimmed = trimmed.model_copy(update={"message": trimmed.message.encode()[:keep].decode("utf-8", "ignore")})
        text = trimmed.model_dump_json()
    return text


def write_termination_message(text: str) -> None:
    path = Path(os.environ.get(TERMINATION_LOG_ENV, DEFAULT_TERMINATION_LOG))
    if path.parent.is_dir():
        try:
            path.write_text(text, encoding="utf-8")
        except OSError:
            pass  # not in a container: the result.json is the record


def refuse_input(stage: str, output_dir: Path, error: HospitalError) -> None:
    """Leaves result.json (ok false) and the termination message for an input the stage cannot take."""
    output_dir.mkdir(parents=True, exist_ok=True)
    _finish(StageResult(stage=stage, ok=False, message=str(error)), output_dir, time.monotonic())


def run_stage(stage: str, stage_input, output_dir: Path, console) -> StageResult | None:
    """Runs a stage; always leaves result.json (ok or not) and the termination message. None, and neither
    written, on a worker node of a distributed stage: node 0 reports, and result.json is node 0's file."""
    output_dir.mkdir(parents=True, exist_ok=True)
    module = importlib.import_module(STAGE_MODULES[stage][0])
    if getattr(getattr(stage_input, "distributed", None), "world_size", 1) > 1:
        from model_hospital.stages.train import node_rank

        if node_rank(stage_input.distributed) > 0:
            return module.run(stage_input, output_dir, console)  # a failure raises: the pod's log says why
    started = time.monotonic()
    try:
        result = module.run(stage_input, output_dir, console)
    except HospitalError as error:
        result = StageResult(stage=stage, ok=False, message=str(error))
        _finish(result, output_dir, started)
        raise
    except Exception as error:  # noqa: BLE001 - a crashed stage must still report why
        tail = traceback.format_exc().strip().splitlines()[-6:]
        result = StageResult(stage=stage, ok=False, message=f"{type(error).__name__}: {error}",
                             summary={"traceback_tail": tail})
        _finish(result, output_dir, started)
        raise
    _finish(result, output_dir, started)
    return result


def _finish(result: StageResult, output_dir: Path, started: float) -> None:
    result.seconds = round(time.monotonic() - started, 3)
    result_path = output_dir / "result.json"
    result.result_path = str(result_path)
    body = result.model_dump_json(indent=2)
    result_path.write_text(body, encoding="utf-8")
    result.result_sha256 = hashlib.sha256(body.encode()).hexdigest()
    write_termination_message(compact_summary(result))
