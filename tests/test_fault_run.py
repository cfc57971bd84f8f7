"""A small fault run (benchmarks/perf/operator_faults.py): the real operator on the loopback API, stub stages,
and faults injected while its patients and treatments run; every object must end right, nothing twice, nothing lost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "perf"))

import operator_faults  # noqa: E402


@pytest.mark.slow  # minutes on 2 busy cores: the real operator, a stub kubelet and a few hundred stub stage runs
def test_every_object_ends_right_under_faults_with_no_duplicate_and_nothing_lost(tmp_path):
    if not operator_faults.OPERATOR.exists():
        pytest.skip(".venv-operator is not installed")
    found = operator_faults.run(patients=8, treatments=2, seed=3, timeout=420, workdir=tmp_path, fault_every=1.5)
    assert sum(found["faults"].values()) >= 5, found["faults"]
    assert found["faults"].get("job-deleted-by-hand") and found["wrong"] == {}, found
    assert found["duplicate_jobs"] == [] and found["stages_run_twice"] == [] and found["lost"] == []
