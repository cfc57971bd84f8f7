"""`hospital models prepare`: builds the bundled patients into the model cache once, ahead of use."""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser("models", help="prepare the bundled models")
    actions = parser.add_subparsers(dest="models_command", metavar="ACTION")
    prepare = actions.add_parser(
        "prepare", help="convert bundled:smollm2-135m-instruct and build bundled:tiny-random-llama into "
                        "$HOSPITAL_CACHE (the set-up and the worker images run it; minutes on a CPU)")
    prepare.add_argument("--only", choices=("smollm2", "tiny"), default=None, help="prepare one of them")
    prepare.set_defaults(handler=handle_prepare)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)


def handle_prepare(args) -> int:
    from model_hospital.cli.console import console
    from model_hospital.extras import require_extra

    require_extra("worker", "torch", "transformers")
    from model_hospital.clinic import models

    out = console()
    if args.only in (None, "smollm2"):
        out.print(f"bundled:smollm2-135m-instruct ready at {models.convert_bundled_smollm2()}")
    if args.only in (None, "tiny"):
        out.print(f"bundled:tiny-random-llama ready at {models.build_tiny_model()}")
    return 0
