"""The figures the perf benchmarks (methods.py, strength.py) read from one verification.json."""

from __future__ import annotations

from pathlib import Path


def verification_figures(verification_path: Path) -> dict:
    """The verdict, held-out findings, skill changes and degenerate counts of one verification.json."""
    from model_hospital.clinic.verification import Verification

    verification = Verification.model_validate_json(verification_path.read_text(encoding="utf-8"))
    findings = {finding.value: {"before": c.before.failure_rate, "after": c.after.failure_rate,
                                "failed_after": c.after.failures, "scored_before": c.before.scored,
                                "scored_after": c.after.scored, "status": c.status}
                for finding, c in verification.findings.items()}
    skills = {domain: {"accuracy_before": s.before.accuracy, "accuracy_after": s.after.accuracy,
                       "accuracy_delta": s.accuracy_delta, "items": s.items, "nll_delta": s.nll_delta,
                       "nll_margin": s.nll_margin, "nll_delta_interval": s.nll_delta_interval, "status": s.status}
              for domain, s in verification.skills.items()}
    degenerate = verification.degenerate
    return {"verdict": verification.verdict, "findings": findings, "skills": skills,
            "degenerate": None if degenerate is None else {"before": degenerate.before.failures,
                                                            "after": degenerate.after.failures,
                                                            "status": degenerate.status},
            "verification": str(verification_path)}


def percent(value: float | None) -> str:
    """A rate as a whole percentage, '-' where nothing was scored."""
    return "-" if value is None else f"{value:.0%}"
