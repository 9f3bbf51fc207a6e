"""Report section of ``label.*`` stages: record counts and agreement per question."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any


def _fmt(x: Any) -> str:
    return "n/a" if x is None else f"{x:.3f}" if isinstance(x, float) else html.escape(str(x))


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    summary = stage.get("stats") or {}
    if "agreement" not in summary:
        return ""
    counts = summary.get("counts", {})
    parts = [f"<p>Dataset <b>{html.escape(str(summary.get('dataset')))}</b> "
             f"({html.escape(str(summary.get('task')))}): "
             + ", ".join(f"{html.escape(k)} {v}" for k, v in counts.items())]
    if "disagreements" in summary:
        parts.append(f"; {summary['disagreements']} preference records flagged for disagreement")
    if "pairs" in summary:
        parts.append(f"; {summary['pairs']} preference pairs from reviews")
    parts.append(".</p><table><tr><th>question</th><th>level</th><th>records</th>"
                 "<th>answers</th><th>percent agreement</th><th>Krippendorff's alpha</th></tr>")
    for q, a in summary["agreement"].items():
        parts.append(f"<tr><td>{html.escape(q)}</td><td>{html.escape(a['level'])}</td>"
                     f"<td class=num>{a['units']}</td><td class=num>{a['values']}</td>"
                     f"<td class=num>{_fmt(a['percent_agreement'])}</td>"
                     f"<td class=num>{_fmt(a['alpha'])}</td></tr>")
    parts.append("</table>")
    return "".join(parts)
