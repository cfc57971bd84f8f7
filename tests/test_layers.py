"""The layers of the house, enforced: cli -> drivers -> stages -> clinic -> contract; the operator is ML-free."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold():
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if linter is None:
        pytest.fail("lint-imports is missing: scripts/setup-env installs import-linter with the dev extra")
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'operator'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run([linter, "--config", str(ROOT / ".importlinter"), "--no-cache"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("module, source", [
    ("clinic/bad_layer.py", "from model_hospital.stages import verify\n"),
    ("tools/bad_layer.py", "from model_hospital.clinic import stats\n"),
], ids=["clinic-imports-a-stage", "build-tooling-imports-the-clinic"])
def test_a_broken_layer_is_caught(tmp_path, module, source):
    """The contracts can fail: a clinic module that imports a stage, or build tooling that imports the clinic."""
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if linter is None:
        pytest.fail("lint-imports is missing")
    package = tmp_path / "model_hospital"
    shutil.copytree(ROOT / "operator" / "model_hospital", package,
                    ignore=shutil.ignore_patterns("suites", "recipes", "__pycache__"))
    (package / module).write_text(source)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([linter, "--config", str(ROOT / ".importlinter"), "--no-cache"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "model_hospital." + module.removesuffix(".py").replace("/", ".") in result.stdout
