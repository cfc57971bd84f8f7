"""Conditions and the fields derived from them: pure functions over status dicts.

Reasons come from a closed vocabulary (REASONS), so that alerts and Argo CD health
checks can match on them. `phase` (patients) and `stage` (treatments) are derived
from conditions and stage records, so they never contradict them.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from model_hospital.api.protocol import DONE_PHASES, PROTOCOL, TreatmentRules, next_step, runs_from_status
from model_hospital.api.resources import MAX_MESSAGE_CHARS, MAX_STAGE_RECORDS

# Status stays under 16 KiB (etcd and watch clients pay for every byte), with room for kopf's own fields.
STATUS_LIMIT_BYTES = 15 * 1024

# Each stage's condition has the reasons its declaration names (and Waiting, while an earlier stage runs).
_STAGE_REASONS = {declared.condition: ("Waiting", declared.running_reason, declared.done_reason,
                                       declared.failed_reason) for declared in PROTOCOL}
REASONS = {
    **_STAGE_REASONS,
    "Diagnosed": (*_STAGE_REASONS["Diagnosed"], "Reused", "PatientNotFound", "SpecInvalid", "PolicyRefused"),
    "Queued": ("WaitingForQueue", "Unschedulable", "Admitted"),
    "Suspended": ("Suspended", "Resumed"),
    "Ready": ("Diagnosing", "Diagnosed", "InProgress", "Healed", "Degraded", "NotHealed", "Inconclusive", "StageFailed",
              "Failed", "DiagnoseFailed", "PatientNotFound", "PatientInvalid", "PatientServed", "SpecInvalid",
              "PolicyRefused", "Suspended", "LauncherUnavailable", "ClaimNotShared"),
    "Failed": ("StageFailed",),
}


def now_iso(moment: datetime.datetime | None = None) -> str:
    """An RFC 3339 UTC timestamp with a Z, as Kubernetes writes them."""
    moment = moment or datetime.datetime.now(datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime.datetime | None:
    """The datetime of an RFC 3339 timestamp, None when absent or unreadable."""
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def find_condition(conditions: list[dict[str, Any]] | None, kind: str) -> dict[str, Any] | None:
    """The condition of type `kind`, if present."""
    return next((condition for condition in conditions or [] if condition.get("type") == kind), None)


def is_true(conditions: list[dict[str, Any]] | None, kind: str) -> bool:
    condition = find_condition(conditions, kind)
    return bool(condition and condition.get("status") == "True")


def set_condition(conditions: list[dict[str, Any]] | None, kind: str, status: str, reason: str, message: str,
                  generation: int | None, now: str) -> list[dict[str, Any]]:
    """The conditions with `kind` set; lastTransitionTime moves only when the status changes."""
    if reason not in REASONS.get(kind, (reason,)):
        raise ValueError(f"reason {reason!r} is not in the vocabulary of condition {kind}")
    previous = find_condition(conditions, kind)
    changed = previous is None or previous.get("status") != status
    condition = {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": cut_message(message),
        "lastTransitionTime": now if changed else previous.get("lastTransitionTime", now),
        "observedGeneration": generation,
    }
    others = [existing for existing in conditions or [] if existing.get("type") != kind]
    return sorted([*others, condition], key=lambda item: _ORDER.get(item["type"], 99))


_ORDER = {kind: index for index, kind in enumerate(
    (*_STAGE_REASONS, "Queued", "Suspended", "Ready", "Failed"))}


def cut_message(message: str) -> str:
    message = message or ""
    return message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 1] + "…"


def patient_phase(conditions: list[dict[str, Any]] | None) -> str:
    """Pending, Diagnosing, Diagnosed or Failed, from the Diagnosed condition."""
    diagnosed = find_condition(conditions, "Diagnosed")
    if diagnosed is None:
        return "Pending"
    if diagnosed.get("status") == "True":
        return "Diagnosed"
    if diagnosed.get("reason") in ("DiagnoseFailed", "SpecInvalid", "PolicyRefused"):
        return "Failed"
    return "Diagnosing"


def treatment_stage(status: dict[str, Any], rules: TreatmentRules) -> str:
    """The STAGE column: failed/done at the end, else the stage running or next (never the one just finished)."""
    if is_true(status.get("conditions"), "Failed"):
        return "failed"
    if status.get("verdict"):
        return "done"
    records = status.get("stages") or []
    if not records:
        return "pending"
    if records[-1].get("phase") not in DONE_PHASES:
        return records[-1]["stage"]
    return next_step(rules, runs_from_status(records)).phase


def capped_records(records: list[dict[str, Any]], dropped: int | None) -> tuple[list[dict[str, Any]], int | None]:
    """Stage records cut to the newest MAX_STAGE_RECORDS, with the running count of dropped ones."""
    if len(records) <= MAX_STAGE_RECORDS:
        return records, dropped
    extra = len(records) - MAX_STAGE_RECORDS
    return records[extra:], (dropped or 0) + extra


def status_bytes(status: dict[str, Any]) -> int:
    return len(json.dumps(status, separators=(",", ":")).encode())


def fitted_records(status: dict[str, Any]) -> dict[str, Any] | None:
    """A stages/stagesTruncated patch that brings status under STATUS_LIMIT_BYTES; None when it fits already.

    Older records lose their failure message first, then the oldest records go (counted
    in stagesTruncated); the newest record, which the stage machine reads, always stays.
    """
    if status_bytes(status) <= STATUS_LIMIT_BYTES:
        return None
    records = [dict(record) for record in status.get("stages") or []]
    dropped = int(status.get("stagesTruncated") or 0)
    for record in records[:-1]:
        record.pop("message", None)
    while len(records) > 1 and status_bytes({**status, "stages": records, "stagesTruncated": dropped}) > STATUS_LIMIT_BYTES:
        records.pop(0)
        dropped += 1
    return {"stages": records, "stagesTruncated": dropped or None}
