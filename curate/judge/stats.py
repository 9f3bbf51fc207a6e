"""The judges' reliability over a judged frame: position bias and judge-judge agreement.

- ``first_position_rate`` (pairwise, per judge): the share of its readable answers that
  picked the response shown first (a tie picks neither). An unbiased judge on pairs shown both
  ways reads 0.5 minus its ties / 2; a judge that always picks the first reads 1.0.
- ``position_bias_rate``: order-inconsistent comparisons over comparisons with both orders
  readable (per judge, and over all judges).
- judge-judge agreement (two or more judges): Krippendorff's alpha and percent agreement
  (:mod:`curate.argilla.agreement`): nominal over each comparison's order-checked verdicts
  (pairwise), interval over each (row, candidate)'s score per judge (pointwise).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ..argilla.agreement import agreement
from . import columns as jc
from .combine import first_position_counts


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def position_stats(comparisons: list[dict], judges: list[str]) -> dict[str, Any]:
    """Per judge and overall: comparisons (both orders readable), inconsistent ones and the
    rates."""
    first = first_position_counts(comparisons)
    per_judge: dict[str, dict[str, Any]] = {}
    for judge in judges:
        both = [c for c in comparisons if c["judge"] == judge and c["consistent"] is not None]
        flips = sum(c["consistent"] is False for c in both)
        per_judge[judge] = {
            "comparisons": len(both), "inconsistent": flips,
            "position_bias_rate": _rate(flips, len(both)),
            "first_position_rate": _rate(first[(judge, "first")], first[(judge, "usable")])}
    total = sum(j["comparisons"] for j in per_judge.values())
    flips = sum(j["inconsistent"] for j in per_judge.values())
    return {"per_judge": per_judge, "comparisons": total, "inconsistent": flips,
            "position_bias_rate": _rate(flips, total)}


def judged_rows(scored: pl.DataFrame) -> pl.DataFrame:
    """The rows a judge judged (rows not judged have null judge columns)."""
    return scored.filter(pl.col(jc.CANDIDATES).is_not_null()) \
        if jc.CANDIDATES in scored.columns else scored.head(0)


def pair_agreement(judged: pl.DataFrame, judges: list[str]) -> dict[str, Any] | None:
    """Judge-judge agreement (nominal) over each comparison's order-checked verdicts; None
    with one judge."""
    if len(judges) < 2 or judged.height == 0:
        return None
    units: list[list[Any]] = []
    for rid, comps in zip(judged["id"].to_list(), judged[jc.COMPARISONS].to_list()):
        by_unit: dict[tuple, list[str]] = {}
        for c in comps or []:
            if c["verdict"] is not None:
                by_unit.setdefault((rid, c["a"], c["b"]), []).append(c["verdict"])
        units.extend(by_unit.values())
    return agreement(units, "nominal")


def vote_agreement(judged: pl.DataFrame, judges: list[str]) -> dict[str, Any] | None:
    """Judge-judge agreement (interval) over each (row, candidate)'s score per judge; None
    with one judge."""
    if len(judges) < 2 or judged.height == 0:
        return None
    units: list[list[Any]] = []
    for rid, votes in zip(judged["id"].to_list(), judged[jc.VOTES].to_list()):
        by_unit: dict[tuple, dict[str, list[float]]] = {}
        for v in votes or []:
            if v["score"] is not None:
                by_unit.setdefault((rid, v["candidate"]), {}).setdefault(
                    v["judge"], []).append(v["score"])
        units.extend([sum(s) / len(s) for s in per.values()] for per in by_unit.values())
    return agreement(units, "interval")


def pair_stats(judged: pl.DataFrame, judges: list[str]) -> dict[str, Any]:
    """The reliability of pairwise judging: agreement and position bias."""
    comparisons = [c for comps in judged[jc.COMPARISONS].to_list() for c in comps or []] \
        if judged.height else []
    return {"agreement": pair_agreement(judged, judges),
            "position": position_stats(comparisons, judges)}
