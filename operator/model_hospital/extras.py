"""Which optional part of the package a command needs, checked before it imports it.

The operator and the worker cannot share one environment (kopf and oumi pin different
click and aiohttp), so a command run from the wrong one must say which to use, in one
line, instead of ending in a ModuleNotFoundError.
"""

from __future__ import annotations

import importlib.util

from model_hospital.errors import HospitalError

# extra -> (what it brings, where the project's set-up installs it)
EXTRAS = {
    "operator": ("kopf and the Kubernetes client", ".venv-operator"),
    "worker": ("Oumi, torch and transformers", ".venv"),
    "gpu": ("vLLM and bitsandbytes", None),
}


# The top-level modules each extra brings, for naming the extra behind a ModuleNotFoundError.
MODULES = {
    "operator": ("kopf", "kubernetes", "croniter", "prometheus_client"),
    "worker": ("oumi", "torch", "transformers", "peft", "trl", "gguf", "matplotlib", "numpy", "datasets"),
    "gpu": ("vllm", "bitsandbytes"),
}


def extra_for_module(module: str | None) -> str | None:
    """The extra that brings the top-level module of `module` (a dotted name); None when none does."""
    top = (module or "").split(".")[0]
    return next((extra for extra, modules in MODULES.items() if top in modules), None)


def missing_modules(*modules: str) -> list[str]:
    """The top-level modules among `modules` that cannot be imported here."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


def install_hint(extra: str) -> str:
    """What to do to get `extra`: the environment that has it, or the pip command."""
    brings, environment = EXTRAS[extra]
    if environment is None:
        return f"on a CUDA machine, pip install 'model-hospital[{extra}]' ({brings}), or use the worker-gpu image"
    return f"use {environment} (scripts/setup-env makes it) or pip install 'model-hospital[{extra}]' ({brings})"


def require_extra(extra: str, *modules: str) -> None:
    """Nothing when `modules` import; else a HospitalError naming the extra and where to get it."""
    missing = missing_modules(*modules)
    if missing:
        raise HospitalError(f"{', '.join(missing)} not installed in this Python environment: {install_hint(extra)}")


def require_engine(engine: str) -> None:
    """Nothing when the inference engine `engine` can run here; else a HospitalError saying what to install."""
    if engine == "vllm":
        require_extra("gpu", "vllm")
