"""A small fault run (benchmarks/perf/operator_faults.py): the real operator on the loopback API, stub stages,
and faults injected while its patients and treatments run; every object must end right, nothing twice, nothing lost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "perf"))

import operator_faults  # noqa: E402


def assert_ended_right(found: dict) -> None:
    assert found["faults"].get("job-deleted-by-hand") and found["wrong"] == {}, found
    assert found["duplicate_jobs"] == [] and found["stages_run_twice"] == [] and found["lost"] == [], found


def test_a_small_fault_run_ends_every_object_right_with_nothing_twice(tmp_path):
    """3 patients and a treatment: one patient's running Job deleted by hand, one patient's diagnose and the
    treatment's synth OOM-killed once, API faults and operator kills at random moments (about a minute)."""
    if not operator_faults.OPERATOR.exists():
        pytest.skip(".venv-operator is not installed")
    found = operator_faults.run(patients=3, treatments=1, seed=5, timeout=300, workdir=tmp_path, fault_every=1.0)
    assert found["api_faults_answered"] >= 1 and found["faults"].get("operator"), found["faults"]
    assert found["oom_retried"] == ["p-002", "t-000"], found  # both OOM kills met, retried with more memory
    assert_ended_right(found)


@pytest.mark.slow  # minutes on 2 busy cores: the real operator, a stub kubelet and a few dozen stub stage runs
def test_every_object_ends_right_under_faults_with_no_duplicate_and_nothing_lost(tmp_path):
    if not operator_faults.OPERATOR.exists():
        pytest.skip(".venv-operator is not installed")
    found = operator_faults.run(patients=8, treatments=2, seed=3, timeout=420, workdir=tmp_path, fault_every=1.5)
    assert sum(found["faults"].values()) >= 5 and found["api_faults_answered"] >= 1, found["faults"]
    assert_ended_right(found)
