"""Report section of the ``pii`` stage: records and values found per type as bars, and a few
records as they were changed, with every value shown as its placeholder (for ``mark`` and
``drop`` the excerpt is redacted here: the report never shows a raw value)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from ..pii import PLACEHOLDERS, redact
from .data import collect, columns, scan
from .plots import _svg

EXAMPLES = 5
_WINDOW = 120  # characters shown on each side of the first placeholder
_TURN_COLUMNS = ("messages", "prompt", "chosen", "rejected")


def counts_svg(stats: dict[str, Any]) -> str:
    """Per type: the records that held it and the values found, as horizontal bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    types = list(stats.get("values") or {})
    records = [stats["records"].get(t, 0) for t in types]
    values = [stats["values"][t] for t in types]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(types) + 1.2))
    y = list(range(len(types)))[::-1]
    ax.barh([v + 0.2 for v in y], values, height=0.4, color="#d62728", label="values")
    ax.barh([v - 0.2 for v in y], records, height=0.4, color="#1f77b4", label="records")
    for yi, n in zip(y, values):
        ax.text(n, yi + 0.2, f" {n}", va="center", fontsize=8)
    ax.set_yticks(y, types)
    ax.set_xlabel("count")
    ax.set_title("personal data and secrets found, per type", loc="left")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    svg = _svg(fig)
    plt.close(fig)
    return svg


def excerpt(text: str) -> str:
    """``text`` redacted, cut to a window around its first placeholder."""
    text = redact(text)[0]
    first = min((i for i in (text.find(p) for p in PLACEHOLDERS.values()) if i >= 0),
                default=0)
    start, end = max(0, first - _WINDOW), first + _WINDOW
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _rows(out_dir: Path, stage: dict[str, Any]) -> list[dict[str, Any]]:
    """Up to :data:`EXAMPLES` rows with findings, from the stage's checkpoint and rejected."""
    rows: list[dict[str, Any]] = []
    for key in ("checkpoint", "rejected"):
        lf = scan(out_dir, stage, key)
        if lf is None or "pii_types" not in (schema := columns(lf)):
            continue
        wanted = [c for c in ("id", "pii_types", *_TURN_COLUMNS) if c in schema]
        found = collect(lf.select(wanted).filter(pl.col("pii_types").list.len() > 0)
                        .head(EXAMPLES - len(rows)))
        rows += found.to_dicts()
        if len(rows) >= EXAMPLES:
            break
    return rows


def _example_text(row: dict[str, Any]) -> str:
    turns = [t for c in _TURN_COLUMNS for t in (row.get(c) or [])]
    text = "\n".join(f"{t['role']}: {t['content'] or ''}" for t in turns)
    return excerpt(text)


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    stats = stage.get("stats") or {}
    n = stats.get("records_with_pii", 0)
    types = ", ".join((stage.get("thresholds") or {}).get("types") or [])
    parts = [f"<p>Action <b>{html.escape(str(stats.get('action')))}</b>: {n} of "
             f"{stage.get('rows_in', '?')} records held personal data or secrets "
             f"(looked for: {html.escape(types)}).</p>"]
    if not n:
        return parts[0]
    parts.append(counts_svg(stats))
    rows = _rows(out_dir, stage)
    if rows:
        parts.append("<table><tr><th>record</th><th>types</th><th>excerpt (redacted)</th></tr>")
        for row in rows:
            parts.append(f"<tr><td>{html.escape(str(row.get('id')))}</td>"
                         f"<td>{html.escape(', '.join(row['pii_types']))}</td>"
                         f"<td class=ex>{html.escape(_example_text(row))}</td></tr>")
        parts.append("</table>")
    return "\n".join(parts)


def card(stage: dict[str, Any]) -> str | None:
    """What the ``pii`` stage found and did, as counts per type (never a value)."""
    done = {"redact": "replaced by typed placeholders (`<EMAIL>`, `<SECRET>`, ...)",
            "drop": "removed", "mark": "kept unchanged and listed in `pii_types`"}
    stats = stage.get("stats") if isinstance(stage.get("stats"), dict) else {}
    if "records_with_pii" not in stats:
        return None
    values = ", ".join(f"{t} {n}" for t, n in (stats.get("values") or {}).items()) or "none"
    return (f"## Personal data\n\nChecked for personal data and secrets by "
            f"`{stage.get('name', 'pii')}`: {stats['records_with_pii']} of "
            f"{stage.get('rows_in', '?')} records held some (values found per type: {values}); "
            f"those records were {done.get(stats.get('action'), stats.get('action'))}.")


def shown(text: str) -> str:
    """A row this stage removed, its values as placeholders: never shown raw."""
    return redact(text)[0]
