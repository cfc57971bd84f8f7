"""`hospital export`: hands a healed model on: to an OCI registry, a merged folder, or the Hugging Face hub."""

from __future__ import annotations

import os
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export", help="push a LoRA adapter (and a merged model) to an OCI registry or the hub, or merge it",
        description="Hands a healed model on. --push sends the adapter folder to an OCI registry as one artifact "
                    "(artifactType application/vnd.modelhospital.adapter.v1, a layer per file), as KAITO does for "
                    "adapters; --merged also pushes the model with the adapter merged in (tag TAG-merged). "
                    "Registry credentials: HOSPITAL_REGISTRY_USERNAME and HOSPITAL_REGISTRY_PASSWORD, or a Docker "
                    "config file (--docker-config); never printed. --merge-to writes a merged folder; --hub pushes to "
                    "a Hugging Face repository with the token in HF_TOKEN.")
    parser.add_argument("adapter", type=Path, metavar="ADAPTER", help="the LoRA adapter folder the train stage wrote")
    parser.add_argument("--push", metavar="REF", help="registry reference HOST[:PORT]/REPOSITORY[:TAG]")
    parser.add_argument("--merged", action="store_true",
                        help="also push (or upload to the hub) the merged model instead of the adapter alone")
    parser.add_argument("--merge-to", type=Path, metavar="DIR", help="write the merged model (peft merge_and_unload) here")
    parser.add_argument("--hub", metavar="OWNER/NAME", help="upload to this Hugging Face model repository (private)")
    parser.add_argument("--hub-token-env", default="HF_TOKEN", metavar="VAR",
                        help="environment variable holding the hub write token (default HF_TOKEN)")
    parser.add_argument("--docker-config", type=Path, metavar="FILE",
                        help="Docker config (config.json / .dockerconfigjson) holding the registry login")
    parser.add_argument("--insecure", action="store_true", help="plain HTTP to the registry (a loopback or lab registry)")
    parser.add_argument("--json", action="store_true", help="print one JSON document only (see `hospital --help`)")
    parser.set_defaults(handler=handle)


def merged_model(adapter: Path, target: Path | None, scratch: Path) -> Path:
    """The merged model folder: written to `target`, or to a scratch folder when only a push needs it."""
    from model_hospital.extras import require_extra

    require_extra("worker", "torch", "transformers", "peft")
    from model_hospital.stages.train import merge_adapter

    return merge_adapter(adapter, target or scratch / "merged")


def handle(args) -> int:
    import tempfile
    from dataclasses import asdict

    from model_hospital.cli.console import console, emit
    from model_hospital.clinic import export
    from model_hospital.errors import HospitalError

    if not (args.push or args.merge_to or args.hub):
        raise HospitalError("say where the model goes: --push REF, --merge-to DIR and/or --hub OWNER/NAME")
    export.artifact_files(args.adapter, export.ADAPTER_ARTIFACT_TYPE)
    out = console(args.json)
    result: dict = {"adapter": str(args.adapter), "pushed": []}
    source = {"adapter": args.adapter.name}
    with tempfile.TemporaryDirectory(prefix="hospital-merge-") as scratch:
        merged = None
        if args.merge_to or args.merged:
            merged = merged_model(args.adapter, args.merge_to, Path(scratch))
            if args.merge_to:
                result["merged"] = str(merged)
                out.print(f"merged model written to {merged}")
        if args.push:
            reference = export.parse_reference(args.push)
            credentials = export.credentials_from(reference.registry, docker_config=args.docker_config)
            pushes = [(args.adapter, str(reference), export.ADAPTER_ARTIFACT_TYPE)]
            if args.merged:
                merged_reference = f"{reference.registry}/{reference.repository}:{reference.tag}-merged"
                pushes.append((merged, merged_reference, export.MODEL_ARTIFACT_TYPE))
            for folder, target, artifact_type in pushes:
                pushed = export.push(folder, target, artifact_type=artifact_type, credentials=credentials,
                                     insecure=args.insecure, source=source)
                result["pushed"].append(asdict(pushed))
                out.print(f"pushed {pushed.reference} ({len(pushed.layers)} files) as {pushed.pinned}")
        if args.hub:
            folder = merged if args.merged else args.adapter
            result["hub"] = export.push_to_hub(folder, args.hub, os.environ.get(args.hub_token_env))
            out.print(f"uploaded to {result['hub']}")
    if args.json:
        return emit("export", 0, result)
    return 0
