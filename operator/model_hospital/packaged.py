"""The data the package ships beside its code: probe and skill suites, recipes, the recipe schema.

They live inside the package (`model_hospital/suites/`, `model_hospital/recipes/`) so that
any install of it, a wheel in an image included, has them; they are found with
`importlib.resources`, never by walking up from the source checkout.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from model_hospital.errors import HospitalError

PACKAGE = "model_hospital"
# Paths inside the package, relative to its root: where the generators write and the loaders read.
PROBES = "suites/probes"
SKILLS = "suites/skills"
RECIPES = "recipes"


def data_dir(relative: str) -> Path:
    """The folder `relative` inside the installed package, as a filesystem path."""
    folder = resources.files(PACKAGE).joinpath(relative)
    if not isinstance(folder, Path) or not folder.is_dir():
        raise HospitalError(f"the package's data folder {relative}/ is missing: reinstall model-hospital")
    return folder


def suites_dir(kind: str) -> Path:
    """The package's folder of the `kind` suites ("probes" or "skills"); a user's own suites are files a
    stage input names (`SuiteFiles`, docs/suites.md), never a replaced folder."""
    return data_dir(f"suites/{kind}")


def recipes_dir() -> Path:
    """The recipes folder: $HOSPITAL_RECIPES or the package's recipes."""
    override = os.environ.get("HOSPITAL_RECIPES")
    return Path(override) if override else data_dir(RECIPES)
