"""The options that name a served model (an OpenAI-compatible endpoint) on the command line."""

from __future__ import annotations

from model_hospital.cli.console import positive_int
from model_hospital.errors import HospitalError


def add_endpoint_options(parser) -> None:
    """--served-model, --endpoint-key-env and --endpoint-workers (the --endpoint flag itself is the caller's)."""
    parser.add_argument("--served-model", metavar="NAME", help="with --endpoint: the model's name on the server")
    parser.add_argument("--endpoint-key-env", metavar="VAR",
                        help="with --endpoint: environment variable holding the API key (the key is never printed)")
    parser.add_argument("--endpoint-workers", type=positive_int, default=4, metavar="N",
                        help="with --endpoint: requests in flight at once (default 4)")


def served_endpoint(args):
    """The ServedEndpoint the options describe; None without --endpoint; a HospitalError when one is incomplete."""
    from pydantic import ValidationError

    from model_hospital.api.stages import ServedEndpoint

    if not args.endpoint:
        for flag, value in (("--served-model", args.served_model), ("--endpoint-key-env", args.endpoint_key_env)):
            if value:
                raise HospitalError(f"{flag} goes with --endpoint URL: add the endpoint, or leave {flag} out")
        return None
    if not args.served_model:
        raise HospitalError("--endpoint needs --served-model NAME: the model's name on the server")
    try:
        return ServedEndpoint(url=args.endpoint, model=args.served_model, api_key_env=args.endpoint_key_env,
                              num_workers=args.endpoint_workers)
    except ValidationError as error:
        field = error.errors()[0]["loc"][0]
        flag = {"url": "--endpoint", "api_key_env": "--endpoint-key-env"}.get(field, f"--{field}")
        raise HospitalError(f"{flag}: {error.errors()[0]['msg']} (an http:// or https:// URL; a variable name "
                            "of letters, digits and _)") from None
