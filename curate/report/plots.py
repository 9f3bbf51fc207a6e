"""Charts as inline SVG (matplotlib, Agg backend, imported only when such a chart is drawn;
the funnel is drawn without it, see :mod:`curate.report.bars`)."""

from __future__ import annotations

import io
from typing import Any

from .bars import stacked_hbars

_PALETTE = ["#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
            "#17becf", "#1f77b4", "#aec7e8", "#ffbb78", "#98df8a"]


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def funnel_svg(stages: list[dict[str, Any]]) -> str:
    """Per stage: the rows it kept, and the rows it dropped stacked by reason (drawn without
    matplotlib: every report has it, see :mod:`curate.report.bars`)."""
    reasons = sorted({r for s in stages for r in s.get("dropped", {})})
    colors = {r: _PALETTE[i % len(_PALETTE)] for i, r in enumerate(reasons)}
    rows = [(f"{s['index']:02d} {s['name']}",
             [(s.get("rows_out", 0) or 0, "#2ca02c", "kept")]
             + [(s.get("dropped", {}).get(r, 0), colors[r], r) for r in reasons])
            for s in stages]
    return stacked_hbars(rows, title="Rows kept and dropped per stage", xlabel="rows")


def margins_svg(kept: list[float], dropped: dict[str, list[float]], *, title: str) -> str:
    """Histogram of judge margins (best minus worst score): the pairs made, and the rows
    rejected stacked by reason."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reasons = [r for r in dropped if dropped[r]]
    values = [kept] + [dropped[r] for r in reasons]
    top = max((v for vs in values for v in vs), default=1.0) or 1.0
    bins = [top * i / 20 for i in range(21)]
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.hist(values, bins=bins, stacked=True,
            color=["#2ca02c"] + [_PALETTE[i % len(_PALETTE)] for i in range(len(reasons))],
            label=[f"pairs ({len(kept)})"] + [f"{r} ({len(dropped[r])})" for r in reasons])
    ax.set_xlabel("margin (best minus worst judge score)")
    ax.set_ylabel("prompts")
    ax.set_title(title, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    svg = _svg(fig)
    plt.close(fig)
    return svg


def histograms_svg(values: dict[str, list[float]], *, xlabel: str, bins: int = 10,
                   value_range: tuple[float, float] | None = None) -> str:
    """One small histogram per named list of values, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(values)
    fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names) + 0.6, 2.2),
                             squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.hist(values[name], bins=bins, range=value_range, color="#1f77b4")
        ax.set_title(name, loc="left", fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0][0].set_ylabel("count", fontsize=8)
    svg = _svg(fig)
    plt.close(fig)
    return svg
