"""The verification's reports: verification.json/.md, the before/after chart, the console tables, per-item answers."""

from __future__ import annotations

import json
from pathlib import Path

from model_hospital.api.stages import RateEstimate
from model_hospital.clinic.skills import SkillItem
from model_hospital.clinic.verdict import DomainAnswers
from model_hospital.clinic.verification import SkillScore, Verification

SKILL_HEADER = ["skill", "accuracy before [95 % CI]", "accuracy after [95 % CI]", "change [95 % CI] (McNemar)",
                "NLL before", "NLL after", "NLL change [95 % CI]", "status"]
FINDING_HEADER = ["finding (held-out)", "failure before [95 % CI]", "failure after [95 % CI]", "target",
                  "paired (fail->pass / pass->fail)", "status"]
STATUS_WORDS = {"met": "healed", "missed": "NOT healed", "inconclusive": "INCONCLUSIVE",
                "kept": "kept", "degraded": "DEGRADED"}


def write_reports(verification: Verification, items: dict[str, list[SkillItem]],
                  before: dict[str, DomainAnswers], after: dict[str, DomainAnswers],
                  output_dir: Path) -> dict[str, str]:
    """Writes verification.json, verification.md, the chart and the per-item answers; returns their paths."""
    paths = {"verification": output_dir / "verification.json", "report": output_dir / "verification.md",
             "chart": output_dir / "verification.png", "skill_answers": output_dir / "skill_answers.jsonl"}
    paths["verification"].write_text(verification.model_dump_json(by_alias=True, indent=2), encoding="utf-8")
    paths["report"].write_text(markdown_report(verification), encoding="utf-8")
    draw_chart(verification, paths["chart"])
    with paths["skill_answers"].open("w", encoding="utf-8") as out:
        for domain, domain_items in items.items():
            for index, item in enumerate(domain_items):
                out.write(json.dumps({
                    "item_id": item.id, "domain": domain,
                    "before": _item(before[domain], index), "after": _item(after[domain], index),
                }, ensure_ascii=False) + "\n")
    return {name: str(path) for name, path in paths.items()}


def _item(answers: DomainAnswers, index: int) -> dict:
    score = answers.scores[index]
    return {"answer": answers.answers[index], "correct": score.correct, "reason": score.reason,
            "nll": round(answers.nll[index], 5)}


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _interval(pair: tuple[float, float] | None, percent: bool = False) -> str:
    if pair is None:
        return "n/a"
    return f"[{pair[0]:+.0%}, {pair[1]:+.0%}]" if percent else f"[{pair[0]:+.3f}, {pair[1]:+.3f}]"


def _wilson_cell(interval: tuple[float, float] | None) -> str:
    return "" if interval is None else f" [{interval[0]:.0%}-{interval[1]:.0%}]"


def rate_cell(rate: RateEstimate) -> str:
    """'10% (5/49) [4%-22%]', with the unscored count when there is one."""
    unscored = f", {rate.unscored} unscored" if rate.unscored else ""
    return f"{_percent(rate.failure_rate)} ({rate.failures}/{rate.scored}{unscored}){_wilson_cell(rate.interval)}"


def _skill_cell(score: SkillScore) -> str:
    return f"{_percent(score.accuracy)} ({score.correct}/{score.scored}){_wilson_cell(score.interval)}"


def _nll_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def finding_rows(verification: Verification) -> list[list[str]]:
    """Rows of the symptom table: finding, before, after, target, paired changes, status."""
    rows = []
    for c in verification.findings.values():
        target = f"<= {_percent(c.target)}" + (f", rise < +{c.margin:.0%}" if c.margin is not None else "")
        paired = f"{c.improved} / {c.worsened} of {c.paired}" + (
            f", p={c.mcnemar_p:.3g}" if c.mcnemar_p is not None and c.margin is None else
            f", rise {_interval(c.change_interval, percent=True)}" if c.change_interval else "")
        status = STATUS_WORDS[c.status] + (f" (+{c.more_items} probes)" if c.more_items else "")
        rows.append([c.finding.value, rate_cell(c.before), rate_cell(c.after), target, paired, status])
    return rows


def skill_rows(verification: Verification) -> list[list[str]]:
    """Rows of the skill table: accuracy before/after/change with McNemar p, NLL before/after/change, status."""
    rows = []
    for s in verification.skills.values():
        delta = "n/a" if s.accuracy_delta is None else (
            f"{s.accuracy_delta:+.0%} {_interval(s.accuracy_delta_interval, percent=True)} (p={s.mcnemar_p:.3g})")
        nll_delta = "n/a" if s.nll_delta is None else f"{s.nll_delta:+.3f} {_interval(s.nll_delta_interval)}"
        status = STATUS_WORDS[s.status] + (f" ({', '.join(s.degraded_by or s.undecided_by)})"
                                           if s.status != "kept" else "")
        if s.nll_read_as_form:
            status += " (NLL read as a change of form: accuracy rose)"
        rows.append([s.domain, _skill_cell(s.before), _skill_cell(s.after), delta,
                     _nll_cell(s.before.nll), _nll_cell(s.after.nll), nll_delta, status])
    return rows


def before_after_table(verification: Verification):
    """The Rich before/after tables (symptoms, then skills) for the console."""
    from rich.console import Group
    from rich.table import Table

    findings = Table(title=f"Verdict: {verification.verdict}", title_justify="left")
    for column in FINDING_HEADER:
        findings.add_column(column)
    for row in finding_rows(verification):
        findings.add_row(*row, style=None if row[-1] == "healed" else "red" if row[-1] == "NOT healed" else "yellow")
    skills = Table(title="Skills (kept = the 95 % bound excludes a loss beyond the margin)", title_justify="left")
    for column in SKILL_HEADER:
        skills.add_column(column)
    for row in skill_rows(verification):
        skills.add_row(*row, style=None if row[-1] == "kept" else "red" if row[-1].startswith("DEGRADED") else "yellow")
    return Group(findings, skills)


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _breakdown(verification: Verification) -> list[str]:
    """Per category (jailbreak techniques included) before and after, for each finding."""
    parts: list[str] = []
    for c in verification.findings.values():
        if not c.by_category:
            continue
        parts += [f"### {c.finding.value}", "", "| category | before | after |", "|---|---|---|"]
        parts += [f"| {name} | {rate_cell(old)} | {rate_cell(new)} |" for name, (old, new) in c.by_category.items()]
        if c.declined:
            parts.append(f"| declined (questions that have an answer) | {rate_cell(c.declined[0])} | "
                         f"{rate_cell(c.declined[1])} |")
        if c.against_merits:
            parts.append(f"| against the merits (decisions the facts settle) | {rate_cell(c.against_merits[0])} | "
                         f"{rate_cell(c.against_merits[1])} |")
        parts.append("")
    return parts


def judge_agreement_lines(findings) -> list[str]:
    """The offline judges' measured agreement with blind human labels, per finding reported: how far to trust it."""
    import json
    from importlib import resources

    from model_hospital.clinic.stats import wilson_interval

    try:
        shipped = json.loads(resources.files("model_hospital.clinic.judges").joinpath("agreement.json").read_text())
    except (OSError, ValueError):
        return ["The judges' measured agreement is not shipped with this install: read it in the judge card."]
    lines = ["Agreement of the offline judges with readers who labelled answers of treated and untreated models "
             f"without seeing any verdict ({shipped['set']}; the blind half is never read while changing a judge):", ""]
    for finding in findings:
        figures = shipped["judges"].get(getattr(finding, "value", str(finding)))
        if not figures or "blind" not in figures:
            continue
        blind = figures["blind"]
        low, high = wilson_interval(blind["agreed"], blind["cases"])
        line = (f"- {getattr(finding, 'value', finding)}: {blind['agreed']} / {blind['cases']} blind "
                f"({100 * blind['agreed'] / blind['cases']:.0f} %, 95 % CI {100 * low:.0f}-{100 * high:.0f} %)")
        first = figures.get("first_measurements")
        if first:
            # Fresh answers measure lower than the pooled half: the newest batches, each measured once before any
            # of its answers was read.
            line += (f"; {first['agreed']} / {first['cases']} ({100 * first['agreed'] / first['cases']:.0f} %) on "
                     f"the newest {first['batches']} batches' first measurements")
        if figures.get("unread"):
            line += f"; {figures['unread']['agreed']} / {figures['unread']['cases']} never read after measurement"
        if figures.get("tuning"):
            line += f"; {figures['tuning']['agreed']} / {figures['tuning']['cases']} on the tuning half (not evidence)"
        lines.append(line)
    lines += ["", "A rate in the tables above can be off by the judge's disagreement with a reader; the goal is 95 %."]
    return lines


def _second_opinion(verification: Verification) -> list[str]:
    opinion = verification.second_opinion
    if opinion is None:
        return ["No LLM judge configured: the offline judges scored every answer (no second opinion to compare)."]
    share = "n/a" if opinion.share is None else f"{opinion.share:.0%}"
    lines = [f"The {opinion.other_judge} judges read the answers {opinion.judge} scored: {opinion.disagreed} of "
             f"{opinion.compared} read the other way ({share}; the verdict is Inconclusive above {opinion.limit:.0%}).",
             ""]
    if opinion.items:
        lines += ["| model | probe | finding | " + opinion.judge + " | " + opinion.other_judge + " | answer |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {d.model} | `{d.probe_id}` | {d.finding.value} | {d.outcome} | {d.other_outcome} | "
                  f"{d.answer[:120].replace('|', '/').replace(chr(10), ' ')} |" for d in opinion.items]
    return lines


def markdown_report(verification: Verification) -> str:
    """verification.md: the verdict, the tables, the breakdowns, the recommendations and the rules behind them."""
    versions = ", ".join(f"{name} {version}" for name, version in verification.versions.items()) or "n/a"
    degenerate = verification.degenerate
    parts = [
        "# Verification", "",
        f"- Date: {verification.finished_at} (took {verification.seconds:.0f} s); tools: {versions}",
        f"- Before: `{verification.before.reference}` ({verification.before.kind}, revision "
        f"`{verification.before.revision}`)",
        f"- After: `{verification.after.reference}` ({verification.after.kind}, revision `{verification.after.revision}`)",
        f"- Symptoms treated: {', '.join(s.value for s in verification.symptoms)}; at least "
        f"{verification.min_scored} scored answers per finding on each model",
        f"- **Verdict: {verification.verdict}** - {verification.verdict_reason}", "",
        "## Symptoms on held-out probes", "", _markdown_table(FINDING_HEADER, finding_rows(verification)), "",
    ]
    parts += [f"- {c.finding.value}: {c.reason}" for c in verification.findings.values()] + [""]
    if verification.same_family:
        parts += ["## Same-family figures (seed probes: the cure's own templates; not part of the verdict)", "",
                  "Held-out probes above come from template families no cure example shares; these come from "
                  "the families the cure grew from. A finding much better here than above was cured on our "
                  "templates rather than on the behaviour.", "",
                  _markdown_table(["finding", "before", "after"],
                                  [[f.finding.value, rate_cell(f.before) if f.before else "n/a", rate_cell(f.after)]
                                   for f in verification.same_family]), ""]
    parts += ["## Skills (the same items before and after; replay items never scored)", "",
              _markdown_table(SKILL_HEADER, skill_rows(verification)), ""]
    parts += [f"- {s.domain}: {s.reason}" for s in verification.skills.values()] + [""]
    if degenerate is not None:
        kinds = ", ".join(f"{kind} {count}" for kind, count in degenerate.kinds_after.items()) or "none"
        parts += ["## Degenerate answers (looped, echoed, empty, garbled)", "",
                  f"- before {rate_cell(degenerate.before)}, after {rate_cell(degenerate.after)} (after: {kinds}): "
                  f"{STATUS_WORDS[degenerate.status]} - {degenerate.reason}", ""]
    parts += ["## Second opinion", ""] + _second_opinion(verification) + [""]
    parts += ["## How far the judges can be trusted", ""] + judge_agreement_lines(verification.findings) + [""]
    if verification.public:
        parts += ["## Public sets (read beside the verdict, never part of it)", "",
                  _markdown_table(("set", "measure", "before", "after"),
                                  [(p.name, p.measure, rate_cell(p.before) if p.before else "n/a", rate_cell(p.after))
                                   for p in verification.public]), ""]
    parts += ["## By category and jailbreak technique", ""] + _breakdown(verification)
    parts += ["## Recommendations", ""]
    parts += [f"- `{r.action}`: {r.reason}" for r in verification.recommendations] or ["- none"]
    parts += ["", "## Rules", ""] + [f"- {name}: {rule}" for name, rule in verification.rules.items()]
    return "\n".join(parts) + "\n"


def draw_chart(verification: Verification, path: Path) -> None:
    """A before/after PNG: failure rates against their targets, skill accuracy and reference NLL, every line labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(14, 4.4))
    panels = [
        ("failure rate (held-out)", [f.value for f in verification.findings],
         [c.before.failure_rate for c in verification.findings.values()],
         [c.after.failure_rate for c in verification.findings.values()]),
        ("skill accuracy", list(verification.skills),
         [s.before.accuracy for s in verification.skills.values()],
         [s.after.accuracy for s in verification.skills.values()]),
        ("reference NLL (lower is better)", list(verification.skills),
         [s.before.nll for s in verification.skills.values()],
         [s.after.nll for s in verification.skills.values()]),
    ]
    for axis, (title, names, before, after) in zip(axes, panels):
        positions = range(len(names))
        axis.bar([p - 0.2 for p in positions], [v or 0 for v in before], width=0.4, label="before", color="#9aa5b1")
        axis.bar([p + 0.2 for p in positions], [v or 0 for v in after], width=0.4, label="after", color="#2f7ed8")
        axis.set_xticks(list(positions), names, rotation=20)
        axis.set_title(title)
        axis.legend(loc="upper right", fontsize=8)
    for index, comparison in enumerate(verification.findings.values()):
        axes[0].hlines(comparison.target, index - 0.4, index + 0.4, colors="#d62728", linestyles="dashed",
                       label="target" if index == 0 else None)
        axes[0].annotate(f"target {comparison.target:.0%}\n{STATUS_WORDS[comparison.status]}",
                         (index, comparison.target), xytext=(0, 3), textcoords="offset points", ha="center",
                         fontsize=7, color="#d62728")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[0].set_ylim(0, 1.05)
    axes[1].set_ylim(0, 1.05)
    figure.suptitle(f"{verification.before.reference} -> {verification.after.reference}: {verification.verdict} "
                    f"({verification.finished_at})", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
