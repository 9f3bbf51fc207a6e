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
``label_group``, its stratum); only groups joined from several keys need their key texts (the
smallest one names the group), which are read for those rows alone. :func:`split_labels`
decides from every row's keys in one process (:func:`split_frame`); data in storage is split by
tasks that never bring every row's keys together (:mod:`curate.export.split_plan`), with the
same labels.

Sizes: a float in (0, 1) is a fraction of all rows, rounded up (as scikit-learn does); an int >= 1
is a number of rows. When groups do not add up to the exact number, the split keeps as close to it
as the groups allow and never leaves a split empty.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import polars as pl

from ..errors import CurateError
from ..messages import prompt_messages
from ..text import normalize_expr
from .split_groups import split_groups

SPLITS = ("train", "validation", "test")
SIDES = np.array(SPLITS, dtype=object)


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
    n_test, n_val = held_out_rows(n, test_size, validation_size)
    if n == 0:
        return np.array([], dtype=object)
    sizes, strata_of, row_group = split_groups(keys, strata, key_text)
    free = np.ones(len(sizes), dtype=bool)
    labels = np.zeros(len(sizes), dtype=np.uint8)  # a position in SIDES
    for side, target in ((2, n_test), (1, n_val)):
        if target == 0:
            continue
        picked = _pick(sizes, strata_of, free, target)
        labels[picked] = side
        free[picked] = False
    if not free.any():
        raise CurateError(no_train_error(n, len(sizes)))
    return SIDES[labels[row_group]]


def held_out_rows(n: int, test_size: float | int,
                  validation_size: float | int | None) -> tuple[int, int]:
    """The test and validation rows asked for out of ``n``; a CurateError when they leave no
    row for train (``n`` > 0)."""
    n_test = _size(test_size, n, "test_size")
    n_val = 0 if validation_size is None else _size(validation_size, n, "validation_size")
    if n and n_test + n_val >= n:
        asked = f"test_size={test_size!r}" + (
            f" and validation_size={validation_size!r}" if validation_size is not None else "")
        raise CurateError(f"cannot split {n} rows with {asked}: that is {n_test + n_val} rows "
                          "held out, which leaves no rows for train")
    return n_test, n_val


def no_train_error(n: int, groups: int) -> str:
    return (f"cannot split {n} rows into train and held-out splits: they form only {groups} "
            "group(s) of rows that share a prompt, a dup_cluster or a label_group, and a group "
            "never straddles splits; lower test_size/validation_size or add data")


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


def _quotas(strata: np.ndarray, sizes: np.ndarray, target: int) -> dict[int, int]:
    """Each stratum's share of ``target`` rows (largest remainder, ties by stratum name: the
    strata are positions in the sorted names)."""
    rows = np.zeros(int(strata.max()) + 1 if len(strata) else 0, dtype=np.int64)
    np.add.at(rows, strata, sizes)
    present = np.flatnonzero(rows).tolist()
    total = int(rows.sum())
    exact = {s: target * int(rows[s]) / total for s in present}
    quota = {s: math.floor(round(v, 9)) for s, v in exact.items()}
    rest = target - sum(quota.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - quota[s]), s))[:rest]:
        quota[s] += 1
    return quota


def _pick(sizes: np.ndarray, strata: np.ndarray, free: np.ndarray, target: int) -> np.ndarray:
    """Positions of free groups (in hash order) that make up ``target`` rows, stratum by stratum,
    as close to it as the group sizes allow and never none."""
    quota = _quotas(strata[free], sizes[free], target)
    chosen = np.zeros(len(sizes), dtype=bool)
    taken = 0
    for s in sorted(quota):  # one stratum's groups at a time, in hash order
        taken += _fill(np.flatnonzero(free & (strata == s)), sizes, chosen, quota[s])
    deficit = target - taken
    if deficit > 0:  # strata whose groups did not fit: fill from any stratum
        deficit -= _fill(np.flatnonzero(free & ~chosen), sizes, chosen, deficit)
    if deficit > 0:
        rest = np.flatnonzero(free & ~chosen)
        if len(rest):  # one more group when that lands closer to the target (or test is empty)
            best = rest[np.argmin(sizes[rest])]  # the first smallest group in hash order
            if deficit == target or sizes[best] - deficit < deficit:
                chosen[best] = True
    return np.flatnonzero(chosen)


FILL_CHUNK = 1 << 20  # groups looked at at once


def _fill(members: np.ndarray, sizes: np.ndarray, chosen: np.ndarray, quota: int) -> int:
    """Greedily choose members (in order) whose sizes fit in ``quota``: the whole groups that
    fit, then each later group that still fits; returns rows chosen."""
    got = 0
    for start in range(0, len(members) if quota > 0 else 0, FILL_CHUNK):
        part = members[start:start + FILL_CHUNK]
        sz = sizes[part]
        prefix = int(np.searchsorted(np.cumsum(sz), quota - got, side="right"))
        chosen[part[:prefix]] = True
        got += int(sz[:prefix].sum())
        if prefix < len(part):  # the next group does not fit: look past it
            return _fill_rest(members[start + prefix:], sizes, chosen, quota, got)
    return got


def _fill_rest(rest: np.ndarray, sizes: np.ndarray, chosen: np.ndarray, quota: int,
               got: int) -> int:
    """Each group of ``rest`` (in order) that still fits in ``quota``, until it is met."""
    at = 0
    while got < quota and at < len(rest):
        part = rest[at:at + FILL_CHUNK]
        fits = np.flatnonzero(sizes[part] <= quota - got)
        if not len(fits):
            at += len(part)
            continue
        first = int(fits[0])
        chosen[part[first]] = True
        got += int(sizes[part[first]])
        at += first + 1
    return got
