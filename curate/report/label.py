"""Report section of ``label.*`` stages: record counts and agreement per question; for items
pushed from a judged run, judge-human agreement per judge with its confusion table."""

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
    if "judge_human" in summary:
        parts.append(_judge_human(summary["judge_human"], summary.get("merged")))
    return "".join(parts)


def _judge_human(jh: dict[str, Any], merged: dict[str, Any] | None) -> str:
    parts = [f"<h3>Judges against people</h3><p>{jh['answered']} of {jh['items']} items sent "
             f"from the judges were answered ({jh['unanswered']} not, or with a split vote); "
             f"{jh['pairs']} pairs follow the people, and {jh['ties']} answered tie "
             f"(no pair); the judges' "
             f"verdict matched the people's on {jh['judges_agreed']}.</p>"]
    if merged:
        parts.append(f"<p>merged.parquet: {merged['records']} pairs, {merged['from_judges']} "
                     f"from the judges and {merged['from_annotators']} from annotators "
                     f"({merged['replaced']} replaced a judge pair, {merged['added']} added).</p>")
    parts.append("<table><tr><th>judge</th><th>items</th><th>percent agreement</th>"
                 "<th>Krippendorff's alpha (nominal)</th><th>people / judge: chosen, rejected, "
                 "tie</th></tr>")
    for judge, a in jh["judges"].items():
        conf = a.get("confusion", {})
        rows = "<br>".join(
            f"{h}: " + ", ".join(str(conf.get(f"{h}/{j}", 0)) for j in ("chosen", "rejected",
                                                                        "tie"))
            for h in ("chosen", "rejected", "tie"))
        parts.append(f"<tr><td>{html.escape(judge)}</td><td class=num>{a['units']}</td>"
                     f"<td class=num>{_fmt(a['percent_agreement'])}</td>"
                     f"<td class=num>{_fmt(a['alpha'])}</td><td>{rows}</td></tr>")
    parts.append("</table>")
    return "".join(parts)
