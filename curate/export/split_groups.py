"""The groups of a split, from the rows' compact keys (see :func:`curate.export.split.split_keys`),
in a few numpy arrays of one number per row.

Rows that share their prompt key, a ``dup_cluster`` or a ``label_group`` are one group: the
connected components over these keys, each labelled by its smallest row position. Only rows
whose key value is shared take part in the propagation, and a row in a group of one (most rows
of most datasets) costs no more than its label. Per group: its order (the smallest seeded key
hash, or for a group joined from several keys the seeded hash of its smallest key text), its
number of rows and its stratum.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import polars as pl

NO_STRATUM = np.iinfo(np.uint32).max


def split_groups(keys: pl.DataFrame, strata: dict[int, str],
                 key_text: Callable[[np.ndarray], list[str]] | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group, in split order (seeded hash, then label): its number of rows and its
    stratum (a position in ``stratum_names(strata)``); and each row's group position."""
    _, _, sizes, group_st, row_group = group_table(keys, strata, key_text)
    return sizes, group_st, row_group


def group_table(keys: pl.DataFrame, strata: dict[int, str],
                key_text: Callable[[np.ndarray], list[str]] | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`split_groups` with, per group, its order (the seeded hash it is sorted by) and
    its label (its smallest row position): ``(order, label, sizes, strata, row_group)``."""
    n = keys.height
    ko = keys["ko"].to_numpy()
    lab = components(keys)
    names = stratum_names(strata)
    st = _stratum_ranks(keys, strata, names)
    size = np.bincount(lab, minlength=n)
    roots = np.flatnonzero(size).astype(lab.dtype)  # one per group: its label, ascending
    members = np.flatnonzero(size[lab] > 1).astype(lab.dtype)  # rows of groups of several
    sizes = size[roots]
    del size
    order = ko[roots]
    group_st = st[roots]
    if len(members):
        m_lab, m_ko = lab[members], ko[members]
        by = np.lexsort((m_ko, m_lab))
        m_lab, m_ko, m_st, m_rows = m_lab[by], m_ko[by], st[members][by], members[by]
        starts = np.flatnonzero(np.r_[True, m_lab[1:] != m_lab[:-1]])
        at = np.searchsorted(roots, m_lab[starts])
        order[at] = m_ko[starts]  # sorted by key hash within a group: the first is the smallest
        group_st[at] = np.minimum.reduceat(m_st, starts)
        new_key = np.r_[True, (m_lab[1:] != m_lab[:-1]) | (m_ko[1:] != m_ko[:-1])]
        joined = np.add.reduceat(new_key.astype(np.int64), starts) > 1
        if joined.any():
            order[at[joined]] = _joined_order(m_lab, m_ko, m_rows, new_key,
                                              m_lab[starts][joined], key_text)
    del st, members
    group_st[group_st == NO_STRATUM] = names.index("")
    rank = np.argsort(order, kind="stable").astype(lab.dtype)  # ties: by label (ascending)
    pos_of_root = np.empty(n, dtype=lab.dtype)
    pos_of_root[roots[rank]] = np.arange(len(roots), dtype=lab.dtype)
    row_group = pos_of_root[lab]
    return order[rank], roots[rank], sizes[rank], group_st[rank], row_group


def stratum_names(strata: dict[int, str]) -> list[str]:
    """The strata in name order, with "" (no stratum) among them."""
    return sorted(set(strata.values()) | {""})


def components(keys: pl.DataFrame) -> np.ndarray:
    """Each row's group label: the smallest row position of its connected component over the
    prompt key (``ko`` where ``pk``), ``dc`` and ``lg``."""
    n = keys.height
    lab = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
    links = [_shared(keys["ko"], keys["pk"])]
    for column in ("dc", "lg"):
        if column in keys.columns:
            links.append(_shared(keys[column], keys[column].is_not_null()))
    links = [link for link in links if link is not None]
    while links:
        changed = False
        for rows, starts, counts in links:
            current = lab[rows]
            smallest = np.repeat(np.minimum.reduceat(current, starts), counts)
            lower = smallest < current
            if lower.any():
                lab[rows[lower]] = smallest[lower]
                changed = True
        jumped = lab[lab]  # a label is a row of the same component: follow it
        if not np.array_equal(jumped, lab):
            lab, changed = jumped, True
        if not changed:
            break
    return lab


SHARED_BUCKETS = 16  # rows sorted a sixteenth at a time (by the top bits of their key)


def _shared(values: pl.Series, where: pl.Series):
    """The rows (where ``where``) whose value another such row shares, grouped by value:
    (rows, group starts, group sizes), or None. The keys are hashes: they are sorted a bucket
    of their top bits at a time, which bounds the sort's memory."""
    v_all = values.fill_null(0).to_numpy()
    use = where.fill_null(False).to_numpy()
    shift = np.uint64(60)
    found_rows, found_group = [], []
    groups = 0
    for bucket in range(SHARED_BUCKETS):
        rows = np.flatnonzero(use & ((v_all >> shift) == np.uint64(bucket)))
        if len(rows) < 2:
            continue
        v = v_all[rows]
        by = np.argsort(v, kind="stable")
        v, rows = v[by], rows[by]
        del by
        new = np.r_[True, v[1:] != v[:-1]]
        shared = ~(new & np.r_[new[1:], True])  # equal to the row before or after it
        if not shared.any():
            continue
        group = np.cumsum(new)[shared] - 1 + groups
        groups = int(group[-1]) + 1
        found_rows.append(rows[shared].astype(np.int64))
        found_group.append(group)
    if not found_rows:
        return None
    rows, group = np.concatenate(found_rows), np.concatenate(found_group)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    return rows, starts, np.diff(np.r_[starts, len(rows)])


def _stratum_ranks(keys: pl.DataFrame, strata: dict[int, str], names: list[str]) -> np.ndarray:
    """Each row's stratum as its position in ``names`` (NO_STRATUM where it has none)."""
    where = {v: i for i, v in enumerate(names)}
    rank = {h: where[v] for h, v in strata.items()}
    if not rank:
        return np.full(keys.height, NO_STRATUM, dtype=np.uint32)
    st = keys["st"].replace_strict(list(rank), list(rank.values()), default=None,
                                   return_dtype=pl.UInt32)
    return st.fill_null(NO_STRATUM).to_numpy()


def _joined_order(m_lab: np.ndarray, m_ko: np.ndarray, m_rows: np.ndarray,
                  new_key: np.ndarray, labels: np.ndarray, key_text) -> np.ndarray:
    """The order of each group joined from several keys (``labels``, ascending): the seeded
    hash of its smallest key text, read through ``key_text`` for one row of each of its keys
    (the rows sorted by group label, then key hash; ``new_key`` marks each key's first)."""
    mine = np.isin(m_lab, labels) & new_key
    lab, ko, rows = m_lab[mine], m_ko[mine], m_rows[mine]
    by_row = np.argsort(rows, kind="stable")
    texts = np.empty(len(rows), dtype=object)
    texts[by_row] = key_text(rows[by_row])
    seed_of = dict(zip(texts.tolist(), ko.tolist()))  # a key text's seeded hash
    smallest = (pl.DataFrame({"lab": lab, "k": pl.Series(texts.tolist(), dtype=pl.String)})
                .group_by("lab").agg(pl.col("k").min()).sort("lab"))
    return np.array([seed_of[k] for k in smallest["k"].to_list()], dtype=np.uint64)
