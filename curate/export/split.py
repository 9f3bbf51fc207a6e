"""Seeded, group-aware, stratified train/test(/validation) splits.

Rows that share a normalised prompt, the same non-null ``dup_cluster`` or the same non-null
``label_group`` (when those columns exist) form one group (the connected components over these
keys), and a group never straddles splits, so a prompt seen in
training never shows up again in test. Groups are ordered by a seeded hash of their content (the
smallest member key), which makes the split depend only on the rows' content and the seed, not on
their order in the frame. Each stratum (by default ``source``) gives its share of the test rows.
A group whose rows span strata counts in its smallest stratum value; rows the strata cannot
place exactly (groups too big for a stratum's share) are filled from any stratum.

The split is decided on compact keys, a few integers per row (:func:`split_keys`: the seeded
hash of the row's group key, whether that key is its prompt, hashes of ``dup_cluster`` and
``label_group``, its stratum), so a dataset larger than memory is split from its keys, read
piece by piece (:func:`split_labels`); only groups joined from several keys need their key
texts (the smallest one names the group), which are read for those rows alone.

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
from ..messages import prompt_messages
from ..text import normalize_expr

SPLITS = ("train", "validation", "test")


def split_frame(df: pl.DataFrame, *, test_size: float | int = 0.1, seed: int = 0,
                validation_size: float | int | None = None,
                stratify: str | None = "source") -> pl.Series:
    """The split of each row of ``df``: a String series named ``split`` ("train", "test", and
    "validation" when ``validation_size`` is given), aligned with ``df``'s rows."""
    check_split_columns(df.columns)
    keys, strata = split_keys(df, seed, stratify)
    labels = split_labels(keys, strata, test_size=test_size, validation_size=validation_size,
                          key_text=lambda rows: key_texts(df[rows]))
    return pl.Series("split", labels, dtype=pl.String)


def check_split_columns(columns) -> None:
    missing = [c for c in ("kind", "messages", "prompt") if c not in columns]
    if missing:
        raise CurateError(f"cannot split: the frame has no {', '.join(missing)} column(s)")


def _key_expr(df_columns) -> pl.Expr:
    """What names a row's group: its prompt, else its dup_cluster or label group, else its id."""
    dc, lg = (pl.col(c).cast(pl.String) if c in df_columns else pl.lit(None, pl.String)
              for c in ("dup_cluster", "label_group"))
    ident = pl.col("id").cast(pl.String) if "id" in df_columns else pl.int_range(pl.len()).cast(
        pl.String)
    return pl.coalesce(_prompt_key(), "\x00dc\x1f" + dc, "\x00lg\x1f" + lg, "\x00id\x1f" + ident)


def key_texts(df: pl.DataFrame) -> list[str]:
    """The group key text of each row of ``df``."""
    return df.select(_key_expr(df.columns).alias("k"))["k"].to_list()


def _order(seed: int, key: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}\x1f{key}".encode("utf-8"),
                                          digest_size=8).digest(), "big")


def split_keys(df: pl.DataFrame, seed: int, stratify: str | None
               ) -> tuple[pl.DataFrame, dict[int, str]]:
    """The compact keys of ``df``'s rows, and the strata they name (hash -> value).

    Columns: ``ko`` the seeded hash of the row's group key (UInt64), ``pk`` whether that key
    is its prompt, ``dc``/``lg`` hashes of ``dup_cluster``/``label_group`` (where ``df`` has
    them), ``st`` the hash of its stratum (null where it has none)."""
    cols = df.columns
    stratum = (pl.col(stratify).cast(pl.String) if stratify and stratify in cols
               else pl.lit("", pl.String))
    f = df.select(_key_expr(cols).alias("k"), _prompt_key().is_not_null().alias("pk"),
                  *[pl.col(c).cast(pl.String).alias(c) for c in ("dup_cluster", "label_group")
                    if c in cols],
                  stratum.alias("s"))
    ko = pl.Series("ko", [_order(seed, k) for k in f["k"].to_list()], dtype=pl.UInt64)
    out = f.select(ko, "pk", *[_hashed(c).alias(short) for c, short in
                               (("dup_cluster", "dc"), ("label_group", "lg")) if c in cols],
                   _hashed("s").alias("st"))
    strata = dict(f.select(_hashed("s").alias("h"), "s").unique("h").drop_nulls().iter_rows())
    return out, strata


def _hashed(column: str) -> pl.Expr:
    col = pl.col(column)
    return pl.when(col.is_null()).then(None).otherwise(col.hash(seed=0)).cast(pl.UInt64)


def split_labels(keys: pl.DataFrame, strata: dict[int, str], *,
                 test_size: float | int = 0.1, validation_size: float | int | None = None,
                 key_text=None) -> np.ndarray:
    """The split of each row of ``keys`` (see :func:`split_keys`, the rows' keys in order) as
    an array of strings. ``key_text(rows)``: the key texts of the rows at those positions,
    asked only for groups joined from several keys."""
    n = keys.height
    n_test = _size(test_size, n, "test_size")
    n_val = 0 if validation_size is None else _size(validation_size, n, "validation_size")
    if n == 0:
        return np.array([], dtype=object)
    if n_test + n_val >= n:
        asked = f"test_size={test_size!r}" + (
            f" and validation_size={validation_size!r}" if validation_size is not None else "")
        raise CurateError(f"cannot split {n} rows with {asked}: that is {n_test + n_val} rows "
                          "held out, which leaves no rows for train")
    groups, row_group = _groups(keys, strata, key_text)
    sizes = groups["size"].to_numpy()
    strata_of = np.array(groups["stratum"].to_list(), dtype=object)
    free = np.ones(len(sizes), dtype=bool)
    labels = np.full(len(sizes), "train", dtype=object)
    for name, target in (("test", n_test), ("validation", n_val)):
        if target == 0:
            continue
        picked = _pick(sizes, strata_of, free, target)
        labels[picked] = name
        free[picked] = False
    if not free.any():
        raise CurateError(
            f"cannot split {n} rows into train and held-out splits: they form only {len(sizes)} "
            "group(s) of rows that share a prompt, a dup_cluster or a label_group, and a group "
            "never straddles "
            "splits; lower test_size/validation_size or add data")
    return labels[row_group]


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


def _groups(keys: pl.DataFrame, strata: dict[int, str], key_text
            ) -> tuple[pl.DataFrame, np.ndarray]:
    """Per group (in seeded-hash order): size and stratum; and each row's group position."""
    links = [k for k in ("dc", "lg") if k in keys.columns]
    f = keys.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_lab"), "ko",
        pl.when(pl.col("pk")).then(pl.col("ko")).alias("_pk"), *links, "st")

    # Connected components: propagate the smallest row index over every key, with pointer jumping
    # (a row's label is a row index of the same component, so lab[lab] is one too).
    lab = f["_lab"]
    while True:
        step = f.with_columns(_lab=lab)
        for key in ("_pk", *links):
            step = step.with_columns(
                pl.when(pl.col(key).is_null()).then(pl.col("_lab"))
                .otherwise(pl.col("_lab").min().over(key)).alias("_lab"))
        step = step.with_columns(pl.col("_lab").gather(pl.col("_lab")))["_lab"]
        if step.equals(lab):
            break
        lab = step
    f = f.with_columns(_lab=lab)

    names = sorted(set(strata.values()) | {""})
    where = {v: i for i, v in enumerate(names)}
    rank = {h: where[v] for h, v in strata.items()}
    st = f["st"].replace_strict(list(rank), list(rank.values()), default=None,
                                return_dtype=pl.UInt32) if rank else pl.Series(
        [None] * f.height, dtype=pl.UInt32)
    groups = f.with_columns(st.alias("_st")).group_by("_lab").agg(
        pl.col("ko").min().alias("order"), pl.col("ko").n_unique().alias("keys"),
        pl.len().alias("size"), pl.col("_st").min().fill_null(names.index("")).alias("_st"))
    joined = groups.filter(pl.col("keys") > 1)
    if joined.height:  # a group joined from several keys: named by its smallest key text
        groups = _name_joined(groups, f, joined, key_text)
    groups = groups.with_columns(pl.col("order").cast(pl.UInt64)).sort(
        "order", "_lab").with_row_index("pos")
    groups = groups.with_columns(pl.Series("stratum", [names[i] for i in groups["_st"]],
                                           dtype=pl.String))
    row_group = f.select("_lab").join(groups.select("_lab", "pos"), on="_lab", how="left",
                                      maintain_order="left")["pos"].to_numpy()
    return groups, row_group


def _name_joined(groups: pl.DataFrame, f: pl.DataFrame, joined: pl.DataFrame,
                 key_text) -> pl.DataFrame:
    """The order of each group joined from several keys: the seeded hash of its smallest key
    text (the key texts of its rows, one row per distinct key, read through ``key_text``)."""
    positions = (f.with_row_index("_r").join(joined.select("_lab"), on="_lab")
                 .unique(["_lab", "ko"], keep="first", maintain_order=True))
    texts = key_text(positions["_r"].to_numpy())
    smallest = (positions.select("_lab").with_columns(pl.Series("k", texts, dtype=pl.String))
                .group_by("_lab").agg(pl.col("k").min()))
    seed_of = {}
    for ko, k in zip(positions["ko"].to_list(), texts):
        seed_of[k] = ko  # the seeded hash of each key text, as split_keys computed it
    order = pl.Series("order2", [seed_of[k] for k in smallest["k"].to_list()], dtype=pl.UInt64)
    named = smallest.with_columns(order).select("_lab", "order2")
    return (groups.join(named, on="_lab", how="left")
            .with_columns(pl.coalesce("order2", "order").alias("order")).drop("order2"))


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
