"""Report section of ``judge.llm``: the judges and what they cost, the position-bias and
first-position rates, judge-judge agreement, score histograms (per aspect for a rubric), and
examples of verdicts that flipped with the order."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from ..judge import columns as jc
from .data import collect, columns, scan
from .generate import _short
from .plots import histograms_svg

FLIPS = 3


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _judges_table(stats: dict[str, Any]) -> str:
    pairwise = stats.get("mode") == "pairwise"
    head = ["judge", "backend", "requests", "from the cache", "failed", "unreadable"]
    if pairwise:
        head += ["first-position rate", "position-bias rate"]
    out = ["<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for j in stats.get("judges", []):
        cells = [html.escape(str(j.get("name"))), html.escape(str(j.get("backend")))]
        cells += [str(j.get(k, 0)) for k in ("requests", "cache_hits", "failures",
                                             "unparseable")]
        if pairwise:
            cells += [_pct(j.get("first_position_rate")), _pct(j.get("position_bias_rate"))]
        out.append("<tr>" + "".join(f"<td class=num>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _summary(stats: dict[str, Any], dropped: dict[str, int]) -> str:
    parts = [f"Mode <b>{html.escape(str(stats.get('mode')))}</b>, template "
             f"<b>{html.escape(str(stats.get('template_version')))}</b>, aggregate "
             f"{html.escape(str(stats.get('aggregate')))}; {stats.get('rows_judged', 0)} rows "
             f"judged, {stats.get('passed_through', 0)} passed through."]
    if stats.get("mode") == "pairwise":
        parts.append(f"Position-bias rate <b>{_pct(stats.get('position_bias_rate'))}</b>: "
                     f"{stats.get('inconsistent', 0)} of {stats.get('comparisons', 0)} "
                     "comparisons (both orders readable) flipped with the order; each is a tie "
                     "and makes no pair.")
    agreement = stats.get("agreement")
    if agreement:
        alpha = agreement.get("alpha")
        pa = agreement.get("percent_agreement")
        parts.append(f"Judge-judge agreement ({agreement.get('level')}, "
                     f"{agreement.get('units')} units): Krippendorff's alpha "
                     f"<b>{'n/a' if alpha is None else f'{alpha:.3f}'}</b>, percent agreement "
                     f"{_pct(pa)}.")
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(dropped.items())) or "none"
    parts.append(f"Rows rejected: {reasons}.")
    return "<p>" + " ".join(parts) + "</p>"


def _histograms(kept: pl.DataFrame, stats: dict[str, Any]) -> str:
    if jc.SCORE not in kept.columns:
        return ""
    values = {"score": kept[jc.SCORE].explode().drop_nulls().to_list()}
    if stats.get("mode") in ("pointwise", "checklist"):
        for col in kept.columns:
            if col.startswith(jc.ASPECT_PREFIX) and col not in jc.TYPES:
                values[col[len(jc.ASPECT_PREFIX):]] = kept[col].explode().drop_nulls().to_list()
        xlabel = "score" if stats.get("mode") == "pointwise" else "share of yes"
    else:
        xlabel = "win rate"
    if not any(values.values()):
        return ""
    return histograms_svg(values, xlabel=xlabel)


def _flips(flipped: pl.DataFrame | None) -> str:
    """The first rows whose verdicts flipped with the order (None: the column is missing)."""
    if flipped is None:
        return ""
    rows = flipped.to_dicts()
    if not rows:
        return ""
    out = ["<h4>Verdicts that flipped with the order</h4><table><tr><th>prompt</th>"
           "<th>candidate a</th><th>candidate b</th><th>a shown first / b shown first</th>"
           "</tr>"]
    for row in rows:
        turns = (row.get("messages") or [])[:-1] if row["kind"] == "sft" else row.get("prompt")
        prompt = "\n".join(_short(t["content"]) for t in turns or [])
        for c in row[jc.COMPARISONS] or []:
            if c["consistent"] is not False:
                continue
            cands = row[jc.CANDIDATES]
            out.append(f"<tr><td class=ex>{prompt}</td><td class=ex>{_short(cands[c['a']])}"
                       f"</td><td class=ex>{_short(cands[c['b']])}</td><td>"
                       f"{html.escape(c['judge'])}: {c['ab']} / {c['ba']}</td></tr>")
            break
    out.append("</table>")
    return "\n".join(out)


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    """HTML for the ``judge.llm`` entry of the manifest."""
    stats = stage.get("stats", {})
    parts = [_summary(stats, stage.get("dropped", {})), _judges_table(stats)]
    kept = scan(Path(out_dir), stage, "checkpoint")
    if kept is not None:
        names = columns(kept)
        scores = [c for c in names if c == jc.SCORE or c.startswith(jc.ASPECT_PREFIX)]
        flips = collect(kept.filter(pl.col(jc.POSITION_INCONSISTENT).fill_null(False))
                        .head(FLIPS)) if jc.POSITION_INCONSISTENT in names else None
        parts += [_histograms(collect(kept.select(scores)), stats), _flips(flips)]
    return "\n".join(p for p in parts if p)


def card(stage: dict[str, Any]) -> str | None:
    """The card's part: which judges judged, with which template, and their position bias."""
    st = stage.get("stats")
    if not isinstance(st, dict) or not st.get("judges"):
        return None
    names = ", ".join(f"`{j['name']}`" for j in st["judges"])
    line = (f"## LLM judges\n\nCandidates judged {st.get('mode')} by {names} (template "
            f"{st.get('template_version')}, aggregate {st.get('aggregate')}).")
    if st.get("mode") == "checklist":
        line += " Each reply was judged alone (a yes/no question per aspect), so no verdict " \
                "depends on the order replies are shown in."
    if st.get("mode") == "pairwise":
        line += (f" Every pair was judged in both orders; "
                 f"{_pct(st.get('position_bias_rate'))} of comparisons flipped with the order "
                 "and count as ties.")
    return line
