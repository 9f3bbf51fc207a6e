"""Report section of ``quality.ifd``: the model, the IFD histogram (kept vs dropped, with the
thresholds), IFD against reply length, grounding where rows had a passage, and the records
the thresholds dropped with their instruction and reply; and the dataset card's part."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from .points import histogram, scatter

SHOWN = 12          # dropped records listed
POINTS = 2_000      # most points per colour in the scatter
_SHORT = 400
_REASONS = ("ifd_high", "ifd_low", "ungrounded")


def _short(text: str | None) -> str:
    text = text or ""
    return html.escape(text if len(text) <= _SHORT else text[:_SHORT] + " …")


def _frame(out_dir: Path, stage: dict[str, Any], key: str) -> pl.DataFrame | None:
    """The stage's checkpoint or rejected rows with the columns the section shows."""
    rel = stage.get(key)
    path = out_dir / rel if rel else None
    if path is None or not path.exists():
        return None
    scan = pl.scan_parquet(path)
    names = scan.collect_schema().names()
    if "ifd" not in names:
        return None
    turns = pl.when(pl.col("kind") == "sft").then(pl.col("messages")).otherwise(
        pl.col("prompt"))
    reply = pl.when(pl.col("kind") == "sft").then(
        pl.col("messages").list.last().struct.field("content")).otherwise(
        pl.col("chosen").list.first().struct.field("content"))
    instruction = pl.when(pl.col("kind") == "sft").then(
        turns.list.head(turns.list.len() - 1)).otherwise(turns).list.eval(
        pl.element().struct.field("content")).list.join("\n")
    extra = [pl.col("drop_reason")] if "drop_reason" in names else []
    return scan.select("id", "ifd", "grounding", "ppl_conditional", "ppl_response",
                       instruction.alias("instruction"), reply.alias("reply"),
                       *extra).collect()


def _thresholds(stage: dict[str, Any]) -> dict[str, Any]:
    return stage.get("thresholds") or {}


def _intro(stage: dict[str, Any]) -> str:
    stats, t = stage.get("stats") or {}, _thresholds(stage)
    model = stats.get("model") or {}
    rules = [f"ifd above {t['max']} (ifd_high)" if t.get("max") is not None else None,
             f"ifd below {t['min']} (ifd_low)" if t.get("min") is not None else None,
             f"grounding above {t['grounding_max']} (ungrounded)"
             if t.get("grounding_max") is not None else None]
    rules = [r for r in rules if r]
    dropped = ", ".join(f"{k}: {v}" for k, v in (stage.get("dropped") or {}).items())
    what = ", ".join(rules) or "nothing (no threshold set)"
    what += f" — {dropped}" if dropped else ""
    return (f"<p>Model <b>{html.escape(str(model.get('model')))}</b> "
            f"({html.escape(str(model.get('weights')))}, {html.escape(str(model.get('device')))}"
            f", {html.escape(str(model.get('dtype', 'float32')))}): "
            f"{stats.get('rows_scored', 0)} records scored, {stats.get('sequences_scored', 0)} "
            f"sequences run through the model in this run (identical ones once, none whose "
            f"scores were in the score cache), "
            f"{stats.get('rows_grounded', 0)} with a source passage; median IFD "
            f"{stats.get('ifd_median')}. IFD = perplexity of the reply after the instruction / "
            f"perplexity of the reply alone: near or above 1, the instruction does not help "
            f"predict the reply. Dropped: {html.escape(what)}.</p>")


def _dropped_table(rejected: pl.DataFrame | None) -> str:
    if rejected is None or rejected.height == 0:
        return ""
    rows = rejected.filter(pl.col("drop_reason").is_in(_REASONS)).sort(
        "ifd", descending=True, nulls_last=True).head(SHOWN)
    if rows.height == 0:
        return ""
    out = [f"<h3>Records dropped at these thresholds (highest IFD first, {rows.height} of "
           f"{rejected.filter(pl.col('drop_reason').is_in(_REASONS)).height})</h3>",
           "<table><tr><th>reason</th><th>ifd</th><th>grounding</th><th>id</th>"
           "<th>instruction</th><th>reply</th></tr>"]
    for r in rows.iter_rows(named=True):
        out.append(f"<tr><td>{html.escape(r['drop_reason'])}</td>"
                   f"<td class=num>{_fmt(r['ifd'])}</td><td class=num>{_fmt(r['grounding'])}"
                   f"</td><td>{html.escape(str(r['id']))}</td>"
                   f"<td class=ex>{_short(r['instruction'])}</td>"
                   f"<td class=ex>{_short(r['reply'])}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def _values(df: pl.DataFrame | None, column: str) -> list[float]:
    return [] if df is None else df[column].drop_nulls().to_list()


def _points(df: pl.DataFrame | None) -> list[tuple[float, float]]:
    if df is None:
        return []
    rows = df.filter(pl.col("ifd").is_not_null())
    if rows.height > POINTS:
        rows = rows.sample(POINTS, seed=0)
    lengths = rows["reply"].fill_null("").str.len_chars().to_list()
    return [(max(n, 1), y) for n, y in zip(lengths, rows["ifd"].to_list())]


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    kept = _frame(Path(out_dir), stage, "checkpoint")
    rejected = _frame(Path(out_dir), stage, "rejected")
    t = _thresholds(stage)
    lines = {f"{k} {t[k]}": t[k] for k in ("max", "min") if t.get(k) is not None}
    parts = [_intro(stage)]
    if kept is not None or rejected is not None:
        parts.append(histogram(_values(kept, "ifd"), _values(rejected, "ifd"),
                               title="IFD (reply perplexity with / without the instruction)",
                               xlabel="ifd", lines=lines))
        parts.append(scatter(_points(kept), _points(rejected), title="IFD against reply length",
                             xlabel="reply characters (log scale)", ylabel="ifd",
                             log_x=True, lines=lines))
        grounded = _values(kept, "grounding") + _values(rejected, "grounding")
        if grounded:
            g = t.get("grounding_max")
            parts.append(histogram(
                _values(kept, "grounding"), _values(rejected, "grounding"),
                title="grounding (answer perplexity with / without its source passage)",
                xlabel="grounding", lines={} if g is None else {f"grounding_max {g}": g}))
    parts.append(_dropped_table(rejected))
    return "\n".join(p for p in parts if p)


def card(stage: dict[str, Any]) -> str | None:
    """The model and thresholds of the IFD filter, and what it removed."""
    stats, t = stage.get("stats") or {}, _thresholds(stage)
    model = stats.get("model") or {}
    if not model:
        return None
    dropped = stage.get("dropped") or {}
    removed = ", ".join(f"{dropped[r]} as `{r}`" for r in _REASONS if dropped.get(r))
    limits = [f"`{name}` {t[key]}" for key, name in (("max", "max"), ("min", "min"),
                                                       ("grounding_max", "grounding_max"))
              if t.get(key) is not None]
    return ("## Instruction-following difficulty\n\n"
            f"Each reply's IFD (perplexity after the instruction over perplexity alone; Li et "
            f"al., 2024) was scored with `{model.get('model')}` ({model.get('weights')}, "
            f"{model.get('dtype', 'float32')}), reply tokens up to {t.get('max_tokens')}. "
            f"Thresholds: {', '.join(limits) or 'none (scores only)'}. "
            f"Removed: {removed or 'none'}. Median IFD of the scored records: "
            f"{stats.get('ifd_median')}; {stats.get('rows_grounded', 0)} records had a source "
            f"passage and a grounding score.")
