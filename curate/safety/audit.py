"""The bias audit: how often, and how toxically, a dataset speaks about each identity group.

    audit = group_audit(entered, removed, out_groups, toxic_above=0.5)
    # {"overall": {...}, "groups": {"age/older": {"records_in": 3, "share_in": 0.75, ...}}}
    drop = balance_mask(df, cap=0.6, seed=0)    # rows to drop so no group exceeds 60% of its category

The frames have ``bias_groups`` (list of ``category/group``), ``toxicity`` and ``identity_attack``
(null where the scorer has no such label) columns, as the ``safety.bias`` stage writes them.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from typing import Any

import polars as pl

from ..columns import DROP_REASON


def _rate(n: int | None, of: int) -> float | None:
    return None if n is None or of == 0 else round(n / of, 6)


def _rates(df: pl.DataFrame, toxic_above: float) -> dict[str, Any]:
    """Toxic rate, mean toxicity and identity-attack rate of ``df``'s rows (null when none, or
    for identity attacks when not scored)."""
    n = df.height
    scored = df["identity_attack"].is_not_null().any() if n else False
    tox = df["toxicity"]
    return {
        "toxic_rate_in": _rate(int((tox > toxic_above).sum()), n) if n else None,
        "mean_toxicity_in": round(float(tox.mean()), 6) if n and tox.is_not_null().any() else None,
        "identity_attack_rate_in": (_rate(int((df["identity_attack"] > toxic_above).sum()), n)
                                    if scored else None),
    }


def _removed_by(removed: pl.DataFrame) -> dict[str, int]:
    counts = removed.group_by(DROP_REASON).len().sort(["len", DROP_REASON],
                                                       descending=[True, False])
    return {str(r): int(n) for r, n in counts.iter_rows()}


def _shares(groups: pl.Series) -> tuple[dict[str, int], dict[str, int]]:
    """Records per group, and records that mention any group of each category."""
    ex = (pl.DataFrame({"g": groups}).with_row_index("r").explode("g").drop_nulls("g")
          .with_columns(pl.col("g").str.split("/").list.first().alias("cat")))
    per_group = dict(ex.unique(["r", "g"]).group_by("g").len().iter_rows())
    per_cat = dict(ex.unique(["r", "cat"]).group_by("cat").len().iter_rows())
    return per_group, per_cat


def group_audit(entered: pl.DataFrame, removed: pl.DataFrame, out_groups: pl.Series, *,
                toxic_above: float, disparity_max: float = 1.5, min_records: int = 20,
                keys: list[str] | None = None) -> dict[str, Any]:
    """The audit of a run (or of one stage): ``{"overall": {...}, "groups": {key: {...}}}``.

    ``entered``: the records as they came in (``id``, ``bias_groups``, ``toxicity``,
    ``identity_attack``); ``removed``: ``id`` and ``drop_reason`` of the rows removed (by any
    stage); ``out_groups``: the ``bias_groups`` of the records that came out. Per group:
    ``records_in``, ``share_in`` (of the records that mention its category),
    ``share_of_records_in``, toxic and identity-attack rates and mean toxicity of its input
    records (``*_in``), ``records_out``, ``share_out``, ``removed_rate``, ``removed_by``,
    ``removal_ratio`` (its removed rate over the overall one) and ``flags``: ``over_removed``
    where the ratio exceeds ``disparity_max``, ``often_toxic`` where its toxic rate exceeds
    ``disparity_max`` times the overall one (both only with ``min_records`` records in).
    ``keys`` fixes which groups are listed; by default those mentioned in or out.
    """
    removed = removed.join(entered.select("id"), on="id", how="semi")
    gone = entered["id"].is_in(removed["id"].implode())
    overall = {"records_in": entered.height, **_rates(entered, toxic_above),
               "records_out": out_groups.len(),
               "removed_rate": _rate(int(gone.sum()), entered.height),
               "removed_by": _removed_by(removed)}
    base_removed, base_toxic = overall["removed_rate"], overall["toxic_rate_in"]
    per_in, cats_in = _shares(entered["bias_groups"])
    per_out, cats_out = _shares(out_groups)
    ex = entered.with_columns(gone.alias("__gone")).explode("bias_groups").drop_nulls(
        "bias_groups").unique(["id", "bias_groups"])
    reasons = removed.join(ex.select("id", "bias_groups"), on="id")
    groups = {}
    for key in keys if keys is not None else sorted(set(per_in) | set(per_out)):
        cat = key.split("/", 1)[0]
        rows = ex.filter(pl.col("bias_groups") == key)
        n = rows.height
        removed_rate = _rate(int(rows["__gone"].sum()), n)
        ratio = (round(removed_rate / base_removed, 6)
                 if removed_rate is not None and base_removed else None)
        g = {"records_in": n, "share_in": _rate(n, cats_in.get(cat, 0)) or 0.0,
             "share_of_records_in": _rate(n, entered.height) or 0.0,
             **_rates(rows, toxic_above),
             "records_out": per_out.get(key, 0),
             "share_out": _rate(per_out.get(key, 0), cats_out.get(cat, 0)) or 0.0,
             "removed_rate": removed_rate,
             "removed_by": _removed_by(reasons.filter(pl.col("bias_groups") == key)),
             "removal_ratio": ratio}
        flags = []
        if n >= min_records and ratio is not None and ratio > disparity_max:
            flags.append("over_removed")
        if (n >= min_records and base_toxic is not None and g["toxic_rate_in"]
                and g["toxic_rate_in"] > disparity_max * base_toxic):
            flags.append("often_toxic")
        groups[key] = {**g, "flags": flags}
    return {"overall": overall, "groups": groups}


def _tiebreak(record_id: str, seed: int) -> str:
    return hashlib.sha1(f"{seed}:{record_id}".encode()).hexdigest()


def balance_mask(df: pl.DataFrame, *, cap: float, seed: int = 0) -> pl.Series:
    """Which rows to drop so that no group has more than ``cap`` of the records that mention its
    category. A category with ``k`` groups present is capped at ``max(cap, 1/k)`` (an even split
    always passes), so a category with one group is never cut. The rows of an over-represented
    group are dropped most toxic first, ties broken by a seeded hash of the id."""
    groups = df["bias_groups"].to_list()
    tox = [t if t is not None else 0.0 for t in df["toxicity"].to_list()]
    ids = df["id"].to_list()
    dropped = [False] * df.height
    by_cat: dict[str, dict[int, set[str]]] = defaultdict(dict)
    for i, keys in enumerate(groups):
        for key in keys or ():
            cat, group = key.split("/", 1)
            by_cat[cat].setdefault(i, set()).add(group)
    for cat in sorted(by_cat):
        rows = by_cat[cat]
        while True:
            live = [i for i in rows if not dropped[i]]
            counts: dict[str, int] = defaultdict(int)
            for i in live:
                for g in rows[i]:
                    counts[g] += 1
            if len(counts) < 2:
                break
            limit = max(cap, 1 / len(counts))
            group, n = max(sorted(counts.items()), key=lambda kv: kv[1])
            total = len(live)
            if n <= limit * total + 1e-9:
                break
            need = max(1, math.ceil((n - limit * total) / (1 - limit) - 1e-9))
            victims = sorted((i for i in live if group in rows[i]),
                             key=lambda i: (-tox[i], _tiebreak(ids[i], seed)))
            for i in victims[:need]:
                dropped[i] = True
    return pl.Series("group_balance", dropped, dtype=pl.Boolean)
