"""Model Hospital: diagnose, cure and verify language models."""

import os

__version__ = "0.1.0"

# Oumi telemetry stays off in everything we run, whatever the caller's shell says.
os.environ["DO_NOT_TRACK"] = "1"
