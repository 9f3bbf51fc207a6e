"""The named inputs in an export's dataset card: per input its licence, the rows read, the
records (and tokens, when the data has a ``tokens`` column) in this export, and what the
pipeline dropped of it.

The records and tokens per input are counted from the very rows the export writes
(:func:`piece_counts` on each written piece, summed by :func:`take_counts`), so they equal a
recount of the exported files.
"""

from __future__ import annotations

import polars as pl

from ..funnel import input_totals
from .markdown import table

DATASET, TOKENS = "dataset", "tokens"
_REC, _TOK = "records\x1f", "tokens\x1f"  # keys of the per-piece counts


def piece_counts(kept: pl.DataFrame) -> dict[str, int]:
    """Records and tokens per input of the rows of one written piece."""
    if DATASET not in kept.columns or kept.height == 0:
        return {}
    aggs = [pl.len().alias("n")]
    if TOKENS in kept.columns:
        aggs.append(pl.col(TOKENS).cast(pl.Int64).sum().alias("t"))
    out: dict[str, int] = {}
    for row in kept.group_by(DATASET).agg(aggs).iter_rows(named=True):
        name = row[DATASET] if row[DATASET] is not None else "(none)"
        out[_REC + name] = row["n"]
        if "t" in row:
            out[_TOK + name] = int(row["t"] or 0)
    return out


def take_counts(counts: dict[str, int]) -> dict[str, dict[str, int]]:
    """The per-input counts out of summed piece counts: name -> {records, tokens}."""
    out: dict[str, dict[str, int]] = {}
    for key, value in counts.items():
        for prefix, field in ((_REC, "records"), (_TOK, TOKENS)):
            if key.startswith(prefix):
                out.setdefault(key[len(prefix):], {})[field] = value
    return out


def license_of(info: dict) -> str | None:
    """The inputs' one licence, when they all give the same one."""
    found = {i.get("license") for i in info.get("inputs") or [] if i.get("dataset")}
    return found.pop() if len(found) == 1 and None not in found else None


def sources_part(info: dict) -> str | None:
    """The card's ``## Sources`` table, or None without named inputs."""
    totals = input_totals(info)
    exported = info.get("exported_inputs") or {}
    if not totals and not exported:
        return None
    tokens = any(TOKENS in v for v in exported.values())
    header = ["input", "licence", "rows read", "records exported"] + (
        ["tokens exported"] if tokens else []) + ["dropped in the pipeline"]
    rows = []
    names = [t["name"] for t in totals] + [n for n in exported if n not in
                                           {t["name"] for t in totals}]
    by_name = {t["name"]: t for t in totals}
    for name in names:
        t = by_name.get(name, {})
        e = exported.get(name, {})
        dropped = ", ".join(f"{k}: {v}" for k, v in (t.get("dropped") or {}).items()) or "-"
        if t.get("added"):
            dropped += f" (+{t['added']} copies)"
        rows.append([name, t.get("license") or "-", t.get("rows_in", "-"),
                     e.get("records", 0)] + ([e.get(TOKENS, 0)] if tokens else [])
                    + [dropped])
    return ("## Sources\n\nThe named inputs this dataset was made from, with their licences: "
            "rows read, and the records" + (" and tokens" if tokens else "")
            + " of each in this export.\n\n" + table(header, rows))
