"""The bias audit: how often, and how toxically, a dataset speaks about each identity group.

    table = group_table(df, toxic_above=0.5)    # {"age/older": {"records": 3, "share": 0.75, ...}}
    drop = balance_mask(df, cap=0.6, seed=0)    # rows to drop so no group exceeds 60% of its category

``df`` has ``bias_groups`` (list of ``category/group``), ``toxicity`` and ``identity_attack``
(null where the scorer has no such label) columns, as the ``safety.bias`` stage writes them.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from typing import Any

import polars as pl


def _rate(n: int | None, of: int) -> float | None:
    return None if n is None or of == 0 else round(n / of, 6)


def group_table(df: pl.DataFrame, *, toxic_above: float,
                keys: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Per group: ``records`` that mention it, ``share`` of the records that mention any group
    of its category, ``share_of_records`` (of all records), ``toxic_rate`` (toxicity above
    ``toxic_above``), ``mean_toxicity`` and ``identity_attack_rate`` (null when not scored).
    ``keys`` fixes which groups are listed (zero counts included); by default the mentioned ones.
    """
    ex = (df.select(pl.int_range(pl.len()).alias("__r"), "bias_groups", "toxicity",
                    "identity_attack")
          .explode("bias_groups").drop_nulls("bias_groups")
          .with_columns(pl.col("bias_groups").str.split("/").list.first().alias("__cat")))
    per_cat = dict(ex.unique(["__r", "__cat"]).group_by("__cat").len().iter_rows())
    stats = {row["bias_groups"]: row for row in ex.group_by("bias_groups").agg(
        pl.len().alias("records"),
        (pl.col("toxicity") > toxic_above).sum().alias("toxic"),
        pl.col("toxicity").mean().alias("mean"),
        (pl.col("identity_attack") > toxic_above).sum().alias("ia"),
        pl.col("identity_attack").count().alias("ia_n"),
    ).iter_rows(named=True)}
    out = {}
    for key in (keys if keys is not None else sorted(stats)):
        row = stats.get(key)
        n = row["records"] if row else 0
        cat_total = per_cat.get(key.split("/")[0], 0)
        out[key] = {
            "records": n,
            "share": _rate(n, cat_total) if cat_total else 0.0,
            "share_of_records": _rate(n, df.height) if df.height else 0.0,
            "toxic_rate": _rate(row["toxic"], n) if row else None,
            "mean_toxicity": round(row["mean"], 6) if row and row["mean"] is not None else None,
            "identity_attack_rate": _rate(row["ia"], n) if row and row["ia_n"] else None,
        }
    return out


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
