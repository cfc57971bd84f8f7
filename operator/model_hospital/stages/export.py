"""The verify stage's last step when a Treatment asks for it: the healed adapter handed on to a registry.

Only a Healed verdict is pushed. A push that fails fails the stage (a refused login
is the user's to fix, exit 2; a registry that does not answer may come back, exit 1
and the Job's retries): the verdict is already on the volume, never pushed silently
or skipped silently.
"""

from __future__ import annotations

from pathlib import Path

from model_hospital.api.stages import ExportTarget
from model_hospital.clinic import export


def push_healed(target: ExportTarget, console) -> dict[str, str]:
    """Pushes the adapter (and the merged model) where `target` says; gives back their digest-pinned references."""
    reference = export.parse_reference(target.reference)
    credentials = export.credentials_from(reference.registry)
    adapter = Path(target.adapter)
    pushed = export.push(adapter, str(reference), credentials=credentials, insecure=target.insecure,
                         source=target.source)
    console.print(f"pushed the healed adapter to {pushed.reference} ({pushed.pinned})")
    found = {"exported": pushed.pinned}
    if target.merged:
        merged = merged_beside(adapter)
        pushed = export.push(merged, f"{reference}-merged", artifact_type=export.MODEL_ARTIFACT_TYPE,
                             credentials=credentials, insecure=target.insecure, source=target.source)
        console.print(f"pushed the merged model to {pushed.reference} ({pushed.pinned})")
        found["exported_merged"] = pushed.pinned
    return found


def merged_beside(adapter: Path) -> Path:
    """The merged model the train stage wrote beside the adapter (training.merge), else one merged now, there."""
    from model_hospital.stages.train import MERGED_DIR, merge_adapter

    merged = adapter.parent / MERGED_DIR
    if (merged / "config.json").is_file():
        return merged
    return merge_adapter(adapter, merged)
