"""Report section of the ``mix`` stage: per input, its quota, what it had and what was drawn."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    stats = stage.get("stats") or {}
    inputs = stats.get("inputs") or {}
    if not inputs:
        return ""
    unit = stats.get("unit", "records")
    tok = f", tokens by {html.escape(str(stats['tokenizer']))}" if stats.get("tokenizer") else ""
    out = [f"<p>Quotas in <b>{html.escape(unit)}</b>, rows taken by "
           f"<b>{html.escape(str(stats.get('by')))}</b>{tok}; {stats.get('copies', 0)} "
           "copies made.</p>",
           f"<table><tr><th>input</th><th>quota</th><th>target ({html.escape(unit)})</th>"
           f"<th>available</th><th>rows drawn</th><th>copies</th>"
           f"<th>{html.escape(unit)} drawn</th></tr>"]
    for name, info in inputs.items():
        target = info.get("target")
        target = f"{target:,.0f}" if isinstance(target, (int, float)) else ""
        out.append(f"<tr><td>{html.escape(name)}</td><td class=num>{info.get('quota')}</td>"
                   f"<td class=num>{target}</td><td class=num>{info.get('available')}</td>"
                   f"<td class=num>{info.get('drawn')} of {info.get('rows')}</td>"
                   f"<td class=num>{info.get('copies')}</td>"
                   f"<td class=num>{info.get('units')}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def card(stage: dict[str, Any]) -> str | None:
    """The mixture's quotas for the dataset card."""
    stats = stage.get("stats") or {}
    inputs = stats.get("inputs") or {}
    if not inputs:
        return None
    unit = stats.get("unit", "records")
    lines = ["## Mixture", "",
             f"Drawn by per-input quotas in {unit} (rows taken by {stats.get('by')}"
             + (f", tokens counted with {stats['tokenizer']}" if stats.get("tokenizer") else "")
             + "):", "",
             f"| input | quota | available {unit} | rows drawn | copies | {unit} drawn |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, info in inputs.items():
        lines.append(f"| {name} | {info.get('quota')} | {info.get('available')} | "
                     f"{info.get('drawn')} | {info.get('copies')} | {info.get('units')} |")
    return "\n".join(lines)
