"""Seeded, group-aware, stratified train/test(/validation) splits.

Rows that share a normalised prompt, the same non-null ``dup_cluster`` or the same non-null
``label_group`` (when those columns exist) form one group (the connected components over these
keys), and a group never straddles splits, so a prompt seen in
training never shows up again in test. Groups are ordered by a seeded hash of their content (the
smallest member key), which makes the split depend only on the rows' content and the seed, not on
their order in the frame. Each stratum (by default ``source``) gives its share of the test rows.
A group whose rows span strata counts in its smallest stratum value; rows the strata cannot
place exactly (groups too big for a stratum's share) are filled from any stratum.

Sizes: a float in (0, 1) is a fraction of all rows, rounded up (as scikit-learn does); an int >= 1
is a number of rows. When groups do not add up to the exact number, the split keeps as close to it
as the groups allow and never leaves a split empty.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter

import numpy as np
import polars as pl

from ..errors import CurateError
from ..records import prompt_messages
from ..text import normalize_expr

SPLITS = ("train", "validation", "test")


def split_frame(df: pl.DataFrame, *, test_size: float | int = 0.1, seed: int = 0,
                validation_size: float | int | None = None,
                stratify: str | None = "source") -> pl.Series:
    """The split of each row of ``df``: a String series named ``split`` ("train", "test", and
    "validation" when ``validation_size`` is given), aligned with ``df``'s rows."""
    n = df.height
    n_test = _size(test_size, n, "test_size")
    n_val = 0 if validation_size is None else _size(validation_size, n, "validation_size")
    if n == 0:
        return pl.Series("split", [], dtype=pl.String)
    if n_test + n_val >= n:
        asked = f"test_size={test_size!r}" + (
            f" and validation_size={validation_size!r}" if validation_size is not None else "")
        raise CurateError(f"cannot split {n} rows with {asked}: that is {n_test + n_val} rows "
                          "held out, which leaves no rows for train")
    missing = [c for c in ("kind", "messages", "prompt") if c not in df.columns]
    if missing:
        raise CurateError(f"cannot split: the frame has no {', '.join(missing)} column(s)")

    groups, row_group = _groups(df, seed, stratify)
    sizes = groups["size"].to_numpy()
    strata = groups["stratum"].to_numpy()
    free = np.ones(len(sizes), dtype=bool)
    labels = np.full(len(sizes), "train", dtype=object)
    for name, target in (("test", n_test), ("validation", n_val)):
        if target == 0:
            continue
        picked = _pick(sizes, strata, free, target)
        labels[picked] = name
        free[picked] = False
    if not free.any():
        raise CurateError(
            f"cannot split {n} rows into train and held-out splits: they form only {len(sizes)} "
            "group(s) of rows that share a prompt, a dup_cluster or a label_group, and a group "
            "never straddles "
            "splits; lower test_size/validation_size or add data")
    return pl.Series("split", labels[row_group], dtype=pl.String)


def size_problem(value: object) -> str | None:
    """What is wrong with a split size (a fraction in (0, 1) or a count >= 1), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        ok = False
    elif isinstance(value, (int, np.integer)):
        ok = value >= 1
    else:
        ok = 0.0 < float(value) < 1.0
    return None if ok else f"must be a fraction in (0, 1) or a row count >= 1, not {value!r}"


def held_out_problem(test_size: float | int, validation_size: float | int | None, *,
                     names: tuple[str, str] = ("test_size", "validation_size")) -> str | None:
    """Two fractions that hold out every row (whatever the data), or None; counts depend on
    the data and are checked by :func:`split_frame`."""
    if isinstance(test_size, float) and isinstance(validation_size, float) \
            and test_size + validation_size >= 1.0:
        return (f"{names[0]} {test_size!r} and {names[1]} {validation_size!r} hold out every "
                "row, which leaves none for train; together they must stay below 1")
    return None


def _size(value: float | int, n: int, name: str) -> int:
    """The number of rows that ``value`` asks for out of ``n``."""
    problem = size_problem(value)
    if problem is not None:
        raise CurateError(f"{name} {problem}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    return math.ceil(round(float(value) * n, 9))


def _prompt_key() -> pl.Expr:
    """Role and normalised content of each prompt turn, joined; null when there is no prompt."""
    e = pl.element()
    turn = e.struct.field("role").fill_null("") + "\x1f" + normalize_expr(
        e.struct.field("content").fill_null(""))
    key = prompt_messages().list.eval(turn).list.join("\x1e")
    return pl.when(key == "").then(None).otherwise(key)


def _groups(df: pl.DataFrame, seed: int, stratify: str | None) -> tuple[pl.DataFrame, np.ndarray]:
    """Per group (in seeded-hash order): size and stratum; and each row's group position."""
    dc, lg = (pl.col(c).cast(pl.String) if c in df.columns else pl.lit(None, pl.String)
              for c in ("dup_cluster", "label_group"))
    ident = pl.col("id").cast(pl.String) if "id" in df.columns else pl.int_range(pl.len()).cast(
        pl.String)
    stratum = (pl.col(stratify).cast(pl.String) if stratify and stratify in df.columns
               else pl.lit("", pl.String))
    f = df.lazy().select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_lab"),
        _prompt_key().alias("_pk"), dc.alias("_dc"), lg.alias("_lg"), ident.alias("_id"),
        stratum.alias("_st"),
    ).with_columns(
        # what names a row's group: its prompt, else its dup_cluster or label group, else its id
        pl.coalesce(pl.col("_pk"), "\x00dc\x1f" + pl.col("_dc"), "\x00lg\x1f" + pl.col("_lg"),
                    "\x00id\x1f" + pl.col("_id")).alias("_key")
    ).collect()

    # Connected components: propagate the smallest row index over every key, with pointer jumping
    # (a row's label is a row index of the same component, so lab[lab] is one too).
    lab = f["_lab"]
    while True:
        step = f.with_columns(_lab=lab)
        for key in ("_pk", "_dc", "_lg"):
            step = step.with_columns(
                pl.when(pl.col(key).is_null()).then(pl.col("_lab"))
                .otherwise(pl.col("_lab").min().over(key)).alias("_lab"))
        step = step.with_columns(pl.col("_lab").gather(pl.col("_lab")))["_lab"]
        if step.equals(lab):
            break
        lab = step
    f = f.with_columns(_lab=lab)

    groups = f.group_by("_lab").agg(
        pl.col("_key").min().alias("key"), pl.len().alias("size"),
        pl.col("_st").min().fill_null("").alias("stratum"))
    keys = groups["key"].to_list()
    order = [int.from_bytes(hashlib.blake2b(f"{seed}\x1f{k}".encode("utf-8"),
                                            digest_size=8).digest(), "big") for k in keys]
    groups = groups.with_columns(pl.Series("order", order, dtype=pl.UInt64)).sort(
        "order", "key").with_row_index("pos")
    row_group = f.select("_lab").join(groups.select("_lab", "pos"), on="_lab", how="left",
                                      maintain_order="left")["pos"].to_numpy()
    return groups, row_group


def _quotas(strata: np.ndarray, sizes: np.ndarray, target: int) -> dict[str, int]:
    """Each stratum's share of ``target`` rows (largest remainder, ties by stratum name)."""
    rows: Counter[str] = Counter()
    for s, k in zip(strata.tolist(), sizes.tolist()):
        rows[s] += k
    total = sum(rows.values())
    exact = {s: target * k / total for s, k in rows.items()}
    quota = {s: math.floor(round(v, 9)) for s, v in exact.items()}
    rest = target - sum(quota.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - quota[s]), s))[:rest]:
        quota[s] += 1
    return quota


def _pick(sizes: np.ndarray, strata: np.ndarray, free: np.ndarray, target: int) -> np.ndarray:
    """Positions of free groups (in hash order) that make up ``target`` rows, stratum by stratum,
    as close to it as the group sizes allow and never none."""
    idx = np.flatnonzero(free)
    quota = _quotas(strata[idx], sizes[idx], target)
    chosen = np.zeros(len(sizes), dtype=bool)
    by_stratum = idx[np.argsort(strata[idx], kind="stable")]  # hash order kept within a stratum
    names, starts = np.unique(strata[by_stratum], return_index=True)
    taken = 0
    for s, members in zip(names.tolist(), np.split(by_stratum, starts[1:])):
        taken += _fill(members, sizes, chosen, quota[s])
    deficit = target - taken
    if deficit > 0:  # strata whose groups did not fit: fill from any stratum
        deficit -= _fill(idx[~chosen[idx]], sizes, chosen, deficit)
    if deficit > 0:
        rest = idx[~chosen[idx]]
        if len(rest):  # one more group when that lands closer to the target (or test is empty)
            best = rest[np.argmin(sizes[rest])]  # the first smallest group in hash order
            if deficit == target or sizes[best] - deficit < deficit:
                chosen[best] = True
    return np.flatnonzero(chosen)


def _fill(members: np.ndarray, sizes: np.ndarray, chosen: np.ndarray, quota: int) -> int:
    """Greedily choose members (in order) whose sizes fit in ``quota``; returns rows chosen."""
    if quota <= 0 or not len(members):
        return 0
    sz = sizes[members]
    prefix = int(np.searchsorted(np.cumsum(sz), quota, side="right"))  # whole groups that fit
    chosen[members[:prefix]] = True
    got = int(sz[:prefix].sum())
    for m, k in zip(members[prefix:].tolist(), sz[prefix:].tolist()):
        if got == quota:
            break
        if got + k <= quota:
            chosen[m] = True
            got += k
    return got
