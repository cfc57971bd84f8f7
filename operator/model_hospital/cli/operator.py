"""`hospital operator run`: the Kubernetes operator (kopf), namespaced or cluster-wide."""

from __future__ import annotations

from model_hospital.errors import HospitalError


def register(subparsers) -> None:
    parser = subparsers.add_parser("operator", help="run the Kubernetes operator")
    actions = parser.add_subparsers(dest="operator_command", metavar="ACTION")
    run = actions.add_parser("run", help="watch ModelPatients and Treatments and run their stage Jobs")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", action="append", default=[], metavar="NS",
                       help="watch this namespace (repeatable; default: $HOSPITAL_NAMESPACES)")
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace")
    run.add_argument("--standalone", action="store_true", help="no peering with other operator replicas")
    run.add_argument("--liveness-port", type=int, default=None,
                     help="port of kopf's /healthz endpoint (default: $HOSPITAL_HEALTH_PORT or 8081; 0: off)")
    run.add_argument("--verbose", action="store_true", help="log kopf's own progress")
    run.set_defaults(handler=handle_run)


def handle_run(args) -> int:
    import asyncio
    import logging
    import os

    from model_hospital.controller.settings import settings_from_env

    settings = settings_from_env()
    namespaces = args.namespace or ([] if args.all_namespaces else settings.namespaces)
    if not namespaces and not args.all_namespaces:
        raise HospitalError("say which namespaces to watch: --namespace NS (repeatable) or --all-namespaces")
    if namespaces:
        # The resync loop lists the same namespaces kopf watches.
        os.environ["HOSPITAL_NAMESPACES"] = ",".join(namespaces)

    import kopf

    import model_hospital.controller.handlers  # noqa: F401 - registers the handlers

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        # One line per watch event and handler is noise at hundreds of patients; failures still show.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    port = settings.health_port if args.liveness_port is None else args.liveness_port
    liveness = f"http://0.0.0.0:{port}/healthz" if port else None
    asyncio.run(kopf.operator(
        clusterwide=args.all_namespaces,
        namespaces=namespaces,
        standalone=args.standalone,
        liveness_endpoint=liveness,
    ))
    return 0
