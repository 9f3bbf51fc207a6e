"""Report section of ``lang.id``: records per language, kept and dropped, as bars; examples of
dropped records and of records that mix languages."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from .data import collect, columns, heads, scan
from .html import _text_of
from .plots import _svg

TOP_LANGUAGES = 20
EXAMPLES = 5
_COLUMNS = ("id", "messages", "prompt", "chosen", "lang", "lang_score", "lang_prompt",
            "lang_response", "lang_mixed", "lang_languages", "drop_reason")


def languages_svg(languages: dict[str, dict[str, int]]) -> str:
    """Horizontal bars per language (the most frequent first): kept, then dropped."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = list(languages.items())
    if len(items) > TOP_LANGUAGES:
        rest = items[TOP_LANGUAGES - 1:]
        items = items[:TOP_LANGUAGES - 1] + [(f"{len(rest)} others", {
            "kept": sum(c["kept"] for _, c in rest), "dropped": sum(c["dropped"] for _, c in rest)})]
    names = [name for name, _ in items][::-1]
    kept = [c["kept"] for _, c in items][::-1]
    dropped = [c["dropped"] for _, c in items][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(items) + 1.2))
    ax.barh(names, kept, color="#2ca02c", label=f"kept ({sum(kept)})")
    ax.barh(names, dropped, left=kept, color="#d62728", label=f"dropped ({sum(dropped)})")
    for y, (k, d) in enumerate(zip(kept, dropped)):
        ax.text(k + d, y, f" {k + d}", va="center", fontsize=8)
    ax.set_xscale("symlog")
    ax.set_xlabel("records")
    ax.set_title("Records per language (lang)", loc="left")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    svg = _svg(fig)
    plt.close(fig)
    return svg


def _rows(out_dir: Path, stage: dict[str, Any], key: str) -> pl.LazyFrame | None:
    lf = scan(out_dir, stage, key)
    if lf is None:
        return None
    names = columns(lf)
    return lf.select([c for c in _COLUMNS if c in names])


def _example_table(rows: list[dict[str, Any]], title: str) -> str:
    if not rows:
        return ""
    out = [f"<h3>{html.escape(title)}</h3><table><tr><th>id</th><th>lang (score)</th>"
           "<th>prompt / reply</th><th>languages</th><th>text</th></tr>"]
    for row in rows:
        text = _text_of(row)
        text = text if len(text) <= 400 else text[:400] + " …"
        score = "–" if row.get("lang_score") is None else f"{row['lang_score']:.2f}"
        cells = [str(row.get("id")) + (f" ({row['drop_reason']})" if row.get("drop_reason")
                                       else ""),
                 f"{row.get('lang')} ({score})",
                 f"{row.get('lang_prompt')} / {row.get('lang_response')}",
                 ", ".join(row.get("lang_languages") or [])]
        out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                   + f"<td class=ex>{html.escape(text)}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    stats = stage.get("stats") or {}
    languages = stats.get("languages") or {}
    if not languages:
        return ""
    detector = stats.get("detector") or {}
    kept = ", ".join(stats.get("kept_languages") or []) or "none"
    parts = [f"<p>Detector <b>{html.escape(str(detector.get('detector')))}</b> "
             f"({html.escape(str(detector.get('package')))}); {len(languages)} languages in "
             f"{stage.get('rows_in')} records, kept: {html.escape(kept)}. "
             f"{stats.get('mixed', 0)} records mix languages; in "
             f"{stats.get('prompt_response_differ', 0)} the prompt and the reply differ.</p>",
             languages_svg(languages)]
    rejected, checkpoint = _rows(out_dir, stage, "rejected"), _rows(out_dir, stage, "checkpoint")
    if rejected is not None and "drop_reason" in columns(rejected):
        rows = [r for _, g in heads(rejected, "drop_reason", EXAMPLES)
                for r in g.iter_rows(named=True)]
        if rows:
            parts.append(_example_table(rows, "Dropped"))
    frames = [collect(lf.filter(pl.col("lang_mixed")).head(EXAMPLES))
              for lf in (checkpoint, rejected) if lf is not None and "lang_mixed" in columns(lf)]
    frames = [df for df in frames if df.height]
    if frames:
        rows = list(pl.concat(frames, how="diagonal_relaxed").head(EXAMPLES).iter_rows(named=True))
        parts.append(_example_table(rows, "Mixing languages"))
    return "\n".join(parts)


def card(stage: dict[str, Any]) -> str | None:
    """The card's line: the languages kept and dropped (see :mod:`curate.export.languages`)."""
    from ..export.languages import languages_line  # startup

    return languages_line({"stages": [stage]})
