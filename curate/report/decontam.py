"""Report section of ``decontam.ngram`` and ``decontam.semantic``: contaminated records per
benchmark and record part (a bar chart), and examples: the matched words highlighted in the
record (n-gram mode), or the record prompt beside the benchmark prompt it paraphrases, with
their cosine (semantic mode)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import polars as pl

from .data import collect, columns, scan
from .html import _text_of
from .plots import _svg

EXAMPLES = 5
TEXT_CHARS = 700


def _rows(out_dir: Path, stage: dict[str, Any]) -> pl.DataFrame | None:
    """The records the stage found contaminated: its rejected rows, or (mark) the marked rows
    of its checkpoint."""
    key = "rejected" if (stage.get("stats") or {}).get("removed") else "checkpoint"
    lf = scan(out_dir, stage, key)
    if lf is None or "contaminated_by" not in columns(lf):
        return None
    return collect(lf.filter(pl.col("contaminated_by").is_not_null()).head(EXAMPLES))


def counts_svg(stats: dict[str, Any]) -> str:
    """Bars: contaminated records per benchmark, and per record part (n-gram mode)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [("benchmark", stats.get("by_benchmark") or {}), ("record part",
                                                               stats.get("by_part") or {})]
    groups = [(t, g) for t, g in groups if g]
    fig, axes = plt.subplots(1, len(groups), figsize=(4.5 * len(groups), 2.4), squeeze=False)
    for ax, (title, counts) in zip(axes[0], groups):
        ax.barh(list(counts)[::-1], list(counts.values())[::-1], color="#d62728")
        ax.set_title(f"contaminated records per {title}", loc="left", fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    svg = _svg(fig)
    plt.close(fig)
    return svg


def highlight(text: str, span: str | None) -> str:
    """``text`` as HTML with the words of ``span`` (normalised words) marked where they occur,
    whatever the case, punctuation and spacing between them."""
    words = (span or "").split()
    if not words:
        return html.escape(text)
    pattern = re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)",
                         re.IGNORECASE)
    found = pattern.search(text)
    if not found:  # changed by NFKC: show the span beside the text
        return html.escape(text) + f"\n<mark>{html.escape(span)}</mark>"
    a, b = found.span()
    left = max(0, a - TEXT_CHARS // 2)
    right = b + TEXT_CHARS // 2
    return ((" …" if left else "") + html.escape(text[left:a]) + "<mark>"
            + html.escape(text[a:b]) + "</mark>" + html.escape(text[b:right])
            + (" …" if right < len(text) else ""))


def _record_text(row: dict[str, Any]) -> str:
    text = _text_of(row)
    if row.get("rejected"):
        text += "\n[rejected] " + "\n".join(t["content"] for t in row["rejected"])
    return text


def _benchmarks_table(stats: dict[str, Any]) -> str:
    rows = ["<table><tr><th>benchmark</th><th>file</th><th>fields</th><th>texts</th>"
            "<th>contaminated records</th></tr>"]
    for name, b in (stats.get("benchmarks") or {}).items():
        rows.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(b.get('path')))}"
                    f"</td><td>{html.escape(', '.join(b.get('fields') or []))}</td>"
                    f"<td class=num>{b.get('texts', '')}</td><td class=num>"
                    f"{(stats.get('by_benchmark') or {}).get(name, 0)}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _examples(df: pl.DataFrame, semantic: bool) -> str:
    if semantic:
        out = ["<table><tr><th>record</th><th>cosine</th><th>record prompt</th>"
               "<th>benchmark prompt</th></tr>"]
        for r in df.head(EXAMPLES).iter_rows(named=True):
            out.append(f"<tr><td>{html.escape(r['id'])}<br>"
                       f"{html.escape(', '.join(r['contaminated_by']))}</td>"
                       f"<td class=num>{r.get('contaminated_similarity') or 0:.3f}</td>"
                       f"<td class=ex>{html.escape(_text_of(r)[:TEXT_CHARS])}</td>"
                       f"<td class=ex>{html.escape(str(r.get('contaminated_match')))}</td></tr>")
    else:
        out = ["<table><tr><th>record</th><th>parts</th><th>text, matched words marked</th>"
               "</tr>"]
        for r in df.head(EXAMPLES).iter_rows(named=True):
            parts = ", ".join(r.get("contaminated_parts") or [])
            out.append(f"<tr><td>{html.escape(r['id'])}<br>"
                       f"{html.escape(', '.join(r['contaminated_by']))}</td>"
                       f"<td>{html.escape(parts)}</td><td class=ex>"
                       f"{highlight(_record_text(r), r.get('contaminated_ngram'))}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    """HTML for one decontamination stage entry of the manifest."""
    stats = stage.get("stats") or {}
    semantic = stats.get("mode") == "semantic"
    how = (f"cosine of the record prompt with its nearest benchmark prompt at least "
           f"{stats.get('threshold')} ({html.escape(str(stats.get('model')))})" if semantic
           else f"shared {stats.get('ngram')}-word sequences")
    done = "removed" if "removed" in stats else "marked"
    parts = [f"<p>{stats.get('contaminated', 0)} records contain a benchmark item ({how}); "
             f"{stats.get(done, 0)} {done}.</p>", _benchmarks_table(stats)]
    if stats.get("contaminated"):
        parts.append(counts_svg(stats))
        df = _rows(Path(out_dir), stage)
        if df is not None and df.height:
            parts.append(_examples(df, semantic))
    return "\n".join(parts)


def card(stage: dict[str, Any]) -> str | None:
    """The card's line for a decontamination stage: the benchmarks checked, what was removed."""
    stats = stage.get("stats") if isinstance(stage.get("stats"), dict) else {}
    if "mode" not in stats:
        return None
    names = ", ".join(f"{n} ({b.get('texts', '?')} texts)"
                      for n, b in (stats.get("benchmarks") or {}).items())
    done = "removed" if "removed" in stats else "marked"
    per = ", ".join(f"{n}: {k}" for n, k in (stats.get("by_benchmark") or {}).items())
    return (f"## Decontamination\n\n- {stage.get('name')} ({stats['mode']}): checked against: "
            f"{names}; {done}: {stats.get(done, 0)}" + (f" ({per})" if per else ""))
