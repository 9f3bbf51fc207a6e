"""The columns and reason of the decontamination stages, and their counts of what they found."""

from __future__ import annotations

from typing import Any

import polars as pl

REASON = "contaminated"
BY, NGRAM, PARTS = "contaminated_by", "contaminated_ngram", "contaminated_parts"


def contamination_stats(scored: pl.DataFrame, names: list[str], action: str) -> dict[str, Any]:
    """Contaminated records in all, per benchmark and per record part."""
    hit = scored.filter(pl.col(BY).is_not_null())
    by_bench = {n: 0 for n in names}
    for n, k in hit[BY].explode().value_counts().iter_rows():
        by_bench[n] = int(k)
    out = {"contaminated": hit.height, "by_benchmark": by_bench}
    if PARTS in hit.columns:
        from .turns import RECORD_PARTS  # pyarrow

        by_part = dict(hit[PARTS].explode().value_counts().iter_rows())
        out["by_part"] = {p: int(by_part.get(p, 0)) for p in RECORD_PARTS}
    out["removed" if action == "drop" else "marked"] = hit.height
    return out
