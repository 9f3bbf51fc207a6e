"""Who decided a preference pair (``meta.pair``, see :mod:`curate.judge.columns`): a judge
(its models and template version) or the annotators, counted over the records an export
writes, for the dataset card's ``## Preference pairs``."""

from __future__ import annotations

from collections import Counter
from typing import Any

import polars as pl

from ..records import parse_meta

NOT_RECORDED = "not recorded (pairs from the input)"
CARD_INTRO = ("Who decided which reply of each exported pair is chosen (`meta.pair` of each "
              "record: the judge's models and prompt template version, or the people who "
              "answered in Argilla):")


def source_label(pair: dict[str, Any] | None) -> str:
    """``judge MODEL[, MODEL] (template VERSION)``, ``annotators``, or :data:`NOT_RECORDED`."""
    if not isinstance(pair, dict) or not pair.get("source"):
        return NOT_RECORDED
    if pair["source"] == "annotators":
        return "annotators"
    models = sorted({str(j.get("model") or j.get("name") or "?") if isinstance(j, dict)
                     else str(j) for j in pair.get("judges") or []}) or ["unknown"]
    return f"judge {', '.join(models)} (template {pair.get('template_version') or '?'})"


def pair_sources(df: pl.DataFrame) -> dict[str, int]:
    """Preference records of ``df`` per source label, most first; empty when none of them
    names its source (a plain pair dataset says nothing about who made its pairs)."""
    if "kind" not in df.columns or "meta" not in df.columns:
        return {}
    metas = df.filter(pl.col("kind") == "preference")["meta"].to_list()
    counts = Counter(source_label(_pair(m)) for m in metas)
    if set(counts) <= {NOT_RECORDED}:
        return {}
    return dict(counts.most_common())


def _pair(meta: str | dict | None) -> dict[str, Any] | None:
    return parse_meta(meta).get("pair")
