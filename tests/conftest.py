"""Shared fixtures: the Kubernetes API fixtures live in tests/harness/cluster.py."""

import pathlib
import sys

# The harness is imported as ``tests.harness`` (also by ``python -m tests.harness.serve``).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tests.harness.cluster import job_runner, kube, loopback  # noqa: E402,F401  (pytest fixtures)
