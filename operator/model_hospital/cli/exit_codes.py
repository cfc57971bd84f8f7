"""The `hospital` command's exit codes: what a CI pipeline gates on.

| code | meaning |
| --- | --- |
| 0 | success; for `verify` and `treat` only the verdict Healed; for `diagnose --fail-on S` no finding at S or worse |
| 1 | an unexpected error (a bug or a crash): the traceback says where |
| 2 | bad input or a user error: one red line says what to fix |
| 3 | verdict NotHealed: a target missed on held-out probes |
| 4 | verdict Degraded: targets met, but a skill (or the share of degenerate answers) lost beyond the margin |
| 5 | verdict Inconclusive: too little evidence to tell; `diagnose --fail-on`: a finding could not be measured |
| 6 | verdict Failed: a stage failed for good (in verify: a judge left most answers unscored) |
| 7 | `diagnose --fail-on S`: a finding is at severity S or worse |
| 130 | interrupted (Ctrl-C); finished stages are kept |
"""

from __future__ import annotations

OK = 0
ERROR = 1
USAGE = 2
NOT_HEALED = 3
DEGRADED = 4
INCONCLUSIVE = 5
FAILED = 6
SEVERITY_REACHED = 7
INTERRUPTED = 130

BY_VERDICT = {"Healed": OK, "NotHealed": NOT_HEALED, "Degraded": DEGRADED, "Inconclusive": INCONCLUSIVE,
              "Failed": FAILED}


def for_verdict(verdict: str | None) -> int:
    """The exit code of a verdict; anything that is not a known verdict (none at all) is Failed, never 0."""
    return BY_VERDICT.get(verdict or "", FAILED)
