"""A comparison as people read it: the console table, Markdown and a chart."""

from __future__ import annotations

from pathlib import Path

from model_hospital.clinic.compare import Comparison, PairedChange, Rate, measures

DIRECTION = {"finding": "failure rate, lower is better", "skill": "accuracy, higher is better"}


def rate_cell(value: Rate | None) -> str:
    """'45% (9/20) [26%-66%]', with the unscored count; 'n/a (0 scored)' when nothing was scored; '-' when absent."""
    if value is None:
        return "-"
    unscored = f", {value.unscored} unscored" if value.unscored else ""
    if value.rate is None:
        return f"n/a (0 scored{unscored})"
    low, high = value.interval
    return f"{value.rate:.0%} ({value.events}/{value.scored}{unscored}) [{low:.0%}-{high:.0%}]"


def change_cell(change: PairedChange | None) -> str:
    """'4 better / 1 worse of 18, p=0.38, change [-31%, +4%]'; what is missing when nothing was paired."""
    if change is None:
        return ""
    if change.paired == 0:
        return "no matching items: not paired"
    low, high = change.change_interval
    return (f"{change.better} better / {change.worse} worse of {change.paired}, p={change.mcnemar_p:.2g}, "
            f"change [{low:+.0%}, {high:+.0%}]")


def rows(comparison: Comparison) -> list[list[str]]:
    """One row per measure: its name, then each model's rate and (after the baseline) its paired change."""
    table = []
    for kind, measure in measures(comparison):
        row = [f"{measure} ({DIRECTION[kind]})"]
        for column in comparison.models:
            value = (column.findings if kind == "finding" else column.skills).get(measure)
            change = change_cell(comparison.change(kind, measure, column.label))
            row.append(rate_cell(value) + (f"\nvs {comparison.baseline}: {change}" if change else ""))
        table.append(row)
    return table


def header(comparison: Comparison) -> list[str]:
    return ["measure"] + [f"{m.label}{' (baseline)' if i == 0 else ''}" for i, m in enumerate(comparison.models)]


def console_table(comparison: Comparison):
    """The Rich table of the comparison, with the notes under it."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Comparison (95 % Wilson intervals; paired: exact McNemar on matching ids)",
                  title_justify="left", show_lines=True)
    for name in header(comparison):
        table.add_column(name, overflow="fold")
    for row in rows(comparison):
        table.add_row(*row)
    sources = Text("\n".join(f"{m.label}: {m.kind} {m.source} ({m.scope})" for m in comparison.models),
                   style="dim")
    return Group(table, sources, *(Text(f"note: {note}", style="yellow") for note in comparison.notes))


def markdown(comparison: Comparison, chart_name: str | None = None) -> str:
    """The comparison as a Markdown document."""
    lines = ["# Model comparison", "",
             f"Baseline: `{comparison.baseline}`. Rates carry their denominators and 95 % Wilson intervals; "
             "each other model is compared with the baseline on the items both scored (matched by id), "
             "with an exact McNemar test and Newcombe's 95 % interval of the paired change.", ""]
    names = header(comparison)
    lines += ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in rows(comparison):
        lines.append("| " + " | ".join(cell.replace("|", "\\|").replace("\n", "<br>") for cell in row) + " |")
    lines += ["", "Sources:", ""]
    lines += [f"- `{m.label}`: {m.kind} `{m.source}` ({m.scope})" for m in comparison.models]
    if comparison.notes:
        lines += [""] + [f"> {note}" for note in comparison.notes]
    if chart_name:
        lines += ["", f"![comparison]({chart_name})"]
    return "\n".join(lines) + "\n"


def draw_chart(comparison: Comparison, path: Path) -> Path:
    """Grouped bars per measure and model with their Wilson intervals: failure rates, then skill accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(kind, [m for k, m in measures(comparison) if k == kind]) for kind in ("finding", "skill")]
    panels = [(kind, names) for kind, names in panels if names]
    figure, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.2), squeeze=False)
    width = 0.8 / len(comparison.models)
    for axis, (kind, names) in zip(axes[0], panels):
        for index, column in enumerate(comparison.models):
            values = [(column.findings if kind == "finding" else column.skills).get(name) for name in names]
            heights = [100 * (v.rate or 0) if v else 0 for v in values]
            low = [100 * (v.rate - v.interval[0]) if v and v.interval else 0 for v in values]
            high = [100 * (v.interval[1] - v.rate) if v and v.interval else 0 for v in values]
            positions = [n + (index - (len(comparison.models) - 1) / 2) * width for n in range(len(names))]
            bars = axis.bar(positions, heights, width, yerr=[low, high], capsize=3, label=column.label)
            for bar, value in zip(bars, values):
                text = "n/a" if value is None or value.rate is None else f"{value.events}/{value.scored}"
                axis.annotate(text, (bar.get_x() + bar.get_width() / 2, 1), ha="center", va="bottom", fontsize=7,
                              rotation=90)
        axis.set_xticks(range(len(names)), names)
        axis.set_ylim(0, 105)
        axis.set_ylabel(f"{DIRECTION[kind].split(',')[0]} (%)")
        axis.set_title(DIRECTION[kind], fontsize=10)
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
