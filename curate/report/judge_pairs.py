"""Report section of ``judge.pairs``: how many pairs the judgements gave and who made them,
prompts without a pair per reason, the margin distribution (pairs and rejected rows by
reason) and a few pairs as they were made."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from ..judge.columns import PAIR_MARGIN as MARGIN
from ..judge.columns import PAIR_REASONS
from ..records import parse_meta
from .data import collect, columns, scan
from .plots import margins_svg

EXAMPLES = 3
_SHORT = 400
WHY = {"too_few_candidates": "fewer than two candidates with a judge score",
       "unparseable": "no judge's answer about a candidate could be read, which left fewer "
                      "than two scored",
       "equal_texts": "best and worst candidate read the same",
       "position_inconsistent": "a verdict between best and worst flipped with the order shown",
       "tie": "best and worst scored the same",
       "below_margin": "margin not above min_margin"}


def _short(text: str | None) -> str:
    text = text or ""
    return html.escape(text if len(text) <= _SHORT else text[:_SHORT] + " …")


def _read(out_dir: Path, stage: dict[str, Any], key: str) -> pl.DataFrame | None:
    """The columns the section shows of the stage's rows: the margins (compact) and, of the
    checkpoint, the first pairs."""
    lf = scan(out_dir, stage, key)
    if lf is None:
        return None
    names = columns(lf)
    compact = [c for c in (MARGIN, "drop_reason") if c in names]
    if key == "rejected":
        return collect(lf.select(compact))
    pairs = collect(lf.filter(pl.col("kind") == "preference").head(EXAMPLES)) \
        if "kind" in names else lf.head(0).collect()
    margins = collect(lf.select(compact)) if compact else None
    return _Kept(pairs, margins)


def _summary(stage: dict[str, Any]) -> str:
    st, dropped = stage.get("stats") or {}, stage.get("dropped") or {}
    margin = st.get("margin") or {}
    spread = (f" Margins from {margin['min']:.3g} to {margin['max']:.3g} (median "
              f"{margin['median']:.3g})." if margin else "")
    sources = ", ".join(f"{html.escape(k)}: {v}" for k, v in (st.get("sources") or {}).items())
    lines = [f"<p>{st.get('pairs', stage.get('rows_out', 0))} pairs from "
             f"{stage.get('rows_in', '?')} judged rows (best against worst candidate, min margin "
             f"{(stage.get('thresholds') or {}).get('min_margin', 0)}).{spread} "
             f"{st.get('swapped', 0)} preference rows swapped to follow the judge."
             + (f" Made by: {sources}." if sources else "") + "</p>"]
    rows = [(r, dropped[r]) for r in PAIR_REASONS if dropped.get(r)]
    if rows:
        lines.append("<table><tr><th>no pair because</th><th>prompts</th><th>meaning</th></tr>"
                     + "".join(f"<tr><td>{r}</td><td class=num>{n}</td><td>{WHY[r]}</td></tr>"
                               for r, n in rows) + "</table>")
    return "\n".join(lines)


class _Kept:
    """Of the checkpoint: its first pairs and its margins column."""

    def __init__(self, pairs: pl.DataFrame, margins: pl.DataFrame | None):
        self.pairs, self.margins = pairs, margins


def _margins(kept: _Kept | None, rejected: pl.DataFrame | None) -> str:
    made = [] if kept is None or kept.margins is None or MARGIN not in kept.margins.columns \
        else kept.margins[MARGIN].drop_nulls().to_list()
    dropped: dict[str, list[float]] = {}
    if rejected is not None and MARGIN in rejected.columns:
        for reason in PAIR_REASONS:
            dropped[reason] = rejected.filter(pl.col("drop_reason") == reason)[MARGIN] \
                .drop_nulls().to_list()
    if not made and not any(dropped.values()):
        return ""
    return margins_svg(made, dropped, title="Judge margins per prompt")


def _examples(kept: _Kept | None) -> str:
    if kept is None or kept.pairs.height == 0:
        return ""
    out = ["<table><tr><th>prompt</th><th>chosen</th><th>rejected</th><th>margin, made by"
           "</th></tr>"]
    for row in kept.pairs.iter_rows(named=True):
        pair = parse_meta(row["meta"]).get("pair") or {}
        judges = ", ".join(str(j.get("model") or j.get("name")) for j in pair.get("judges", []))
        out.append(f"<tr><td class=ex>{_short((row['prompt'] or [{}])[-1].get('content'))}</td>"
                   f"<td class=ex>({row['chosen_score']:.3g}) "
                   f"{_short(row['chosen'][-1]['content'])}</td>"
                   f"<td class=ex>({row['rejected_score']:.3g}) "
                   f"{_short(row['rejected'][-1]['content'])}</td>"
                   f"<td>{pair.get('margin', 0):.3g}; {html.escape(judges)} template "
                   f"{html.escape(str(pair.get('template_version')))}"
                   + ("; swapped" if pair.get("swapped") else "") + "</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    """HTML for the ``judge.pairs`` entry of the manifest."""
    out_dir = Path(out_dir)
    kept, rejected = _read(out_dir, stage, "checkpoint"), _read(out_dir, stage, "rejected")
    parts = [_summary(stage), _margins(kept, rejected), _examples(kept)]
    return "\n".join(p for p in parts if p)
