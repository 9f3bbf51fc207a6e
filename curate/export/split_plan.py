"""The leakage-free split of data in storage, decided by tasks: the driver holds counts and the
rows that share a key, never a number per exported row.

The split is :func:`curate.export.split.split_labels`'s, row for row. Groups are taken in
order (their seeded hash) by a greedy fill per stratum; most groups are single rows, and the
fill only needs them one by one around the point where a quota is met. So:

1. tasks find the rows whose prompt key, ``dup_cluster`` or ``label_group`` another row
   shares (:func:`~curate.export.split_tasks.shared_rows`, by ranges of the values); the
   driver joins them into groups (:func:`~curate.export.split_groups.group_table`);
2. tasks count every other row (a group of one) per stratum and *bucket* (the top bits of its
   order) and keep them in files sorted by bucket;
3. the driver fills each quota over buckets: a bucket that fits whole is taken whole by its
   counts; the one where a quota is met is read back (its single rows, from every piece) and
   filled group by group. The strata's fills run side by side and read their buckets together;
4. the write tasks label their rows from the result (:class:`SplitRules`): per stratum a few
   runs of buckets taken whole with their side, and the side of each row read back or in a
   shared group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generator

import numpy as np
import polars as pl

from ..errors import CurateError
from .split import held_out_rows, no_train_error, _quotas
from .split_groups import group_table, stratum_names
from .split_tasks import (buckets_of, count_singles, keys_at, row_strata, shared_rows,
                          singles_in, texts_at)

TRAIN, VALIDATION, TEST = 0, 1, 2  # positions in split.SPLITS
LINK_ROWS = 1 << 21  # link values per task that looks for shared ones
COUNT_CHUNK = 64     # pieces whose counts are summed at a time


@dataclass(frozen=True)
class SplitRules:
    """What a write task needs to label its rows: per stratum, the side of the single rows of
    each bucket taken whole, as runs of buckets (a fill takes buckets in order, so a stratum
    has a few runs, whatever the number of buckets); and how to find a row's stratum and
    bucket."""

    runs: tuple[tuple[np.ndarray, np.ndarray], ...]  # per stratum: first bucket, side of each run
    bits: int
    strata: dict[int, str]
    names: tuple[str, ...]

    @classmethod
    def of(cls, cells: np.ndarray, used: np.ndarray, bits: int, strata: dict[int, str],
           names: list[str]) -> SplitRules:
        """From ``cells``, a side (a position in SPLITS) per (stratum, bucket), of which only
        the ``used`` ones label rows (the others hold no single row, or only rows decided one
        by one): each run starts at a used cell and covers the unused ones after it."""
        runs = []
        for row, use in zip(cells, used):
            at = np.flatnonzero(use)
            if not len(at):
                runs.append((np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.uint8)))
                continue
            side = row[at]
            new = np.r_[True, side[1:] != side[:-1]]
            first = at[new]
            first[0] = 0
            runs.append((first, side[new]))
        return cls(tuple(runs), bits, strata, tuple(names))

    def sides(self, keys: pl.DataFrame, rows: np.ndarray, sides: np.ndarray) -> np.ndarray:
        """The side of each row of a piece's ``keys``; ``rows``/``sides``: the rows (positions
        in the piece) whose side was decided one by one."""
        stratum = row_strata(keys, self.strata, list(self.names))
        bucket = buckets_of(keys["ko"].to_numpy(), self.bits)
        out = np.zeros(keys.height, dtype=np.uint8)
        for s in np.unique(stratum).tolist():
            mine = stratum == s
            first, side = self.runs[s]
            out[mine] = side[np.searchsorted(first, bucket[mine], side="right") - 1]
        out[rows] = sides
        return out


def bucket_bits(rows: int, strata: int) -> int:
    """Buckets enough for about 2,048 rows each, at most 65,536 and 1M cells in all (each
    piece's counts: at most 4 MB)."""
    bits = min(16, max(0, (rows // 2048).bit_length()))
    while bits and strata << bits > 1 << 20:
        bits -= 1
    return bits


def decide_split(engine, scratch: str, pieces: list, kept: list[int], strata: dict[int, str],
                 *, test_size, validation_size, bits: int | None = None
                 ) -> tuple[SplitRules, list[tuple[np.ndarray, np.ndarray]]]:
    """The split of the exported rows of ``pieces`` (``kept``: rows per piece, whose keys the
    check pass wrote to ``scratch``): the rules, and per piece the rows decided one by one
    with their sides. ``bits``: the buckets' (default: :func:`bucket_bits`)."""
    n = int(sum(kept))
    n_test, n_val = held_out_rows(n, test_size, validation_size)
    starts = np.cumsum([0] + list(kept))
    indexes = [p.index for p in pieces]
    names = stratum_names(strata)
    bits = bucket_bits(n, len(names)) if bits is None else bits
    shared = _find_shared(engine, scratch, indexes, starts, n)
    groups = _shared_groups(engine, scratch, pieces, starts, shared, strata)
    board = Board(bits, len(names), groups)
    for chunk in range(0, len(pieces), COUNT_CHUNK):  # counts summed as they come
        items = [(scratch, indexes[i], _local(shared, starts, i), strata, names, bits)
                 for i in range(chunk, min(chunk + COUNT_CHUNK, len(pieces)))]
        for counts in engine.map(count_singles, items, desc="split counts",
                                 sizes=[kept[i] for i in range(chunk, chunk + len(items))]):
            board.train += counts.reshape(len(names), -1)
    board.counted = board.train.copy()
    board.singles = int(board.train.sum())

    def fetch(buckets: list[int]) -> pl.DataFrame:
        found = engine.map(singles_in, [(scratch, indexes[i], int(starts[i]), buckets)
                                        for i in range(len(pieces)) if kept[i]],
                           desc="split buckets")
        return pl.concat(found)

    for side, target in ((TEST, n_test), (VALIDATION, n_val)):
        if target:
            _drive(board, fetch, _pick(board, target, side))
    if board.rows_left() == 0:
        raise CurateError(no_train_error(n, board.groups()))
    rows, sides = board.decided(shared)
    at = np.searchsorted(rows, starts)
    decided = [(rows[at[i]:at[i + 1]] - starts[i], sides[at[i]:at[i + 1]])
               for i in range(len(pieces))]  # every piece, rows decided or none
    used = board.counted > 0
    used[:, list(board.read)] = False
    return SplitRules.of(board.cells, used, bits, strata, names), decided


def _local(positions: np.ndarray, starts: np.ndarray, i: int) -> np.ndarray:
    """The ``positions`` (sorted, in export order) that fall in piece ``i``, in the piece."""
    lo, hi = np.searchsorted(positions, [starts[i], starts[i + 1]])
    return positions[lo:hi] - starts[i]


def _by_piece(positions: np.ndarray, starts: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """The ``positions`` (sorted, in export order) by piece: (piece, positions in the piece)
    for the pieces that hold any."""
    at = np.searchsorted(positions, starts)
    return [(i, positions[at[i]:at[i + 1]] - starts[i])
            for i in range(len(starts) - 1) if at[i + 1] > at[i]]


def _find_shared(engine, scratch: str, indexes: list[int], starts: np.ndarray,
                 n: int) -> np.ndarray:
    """The export positions of every row that shares a link value, sorted."""
    ranges = max(1, -(-n // LINK_ROWS))
    bounds = [(r << 64) // ranges for r in range(ranges)] + [None]
    found = engine.map(shared_rows, [(scratch, indexes, [int(s) for s in starts[:-1]],
                                      bounds[r], bounds[r + 1]) for r in range(ranges)],
                       desc="split links")
    return np.unique(np.concatenate(found)) if found else np.array([], dtype=np.int64)


@dataclass
class Groups:
    """The groups of rows that share a key, in split order: order, label (smallest export
    position), rows, stratum; and each shared row's group."""

    order: np.ndarray
    label: np.ndarray
    size: np.ndarray
    stratum: np.ndarray
    row_group: np.ndarray


def _shared_groups(engine, scratch: str, pieces: list, starts: np.ndarray, shared: np.ndarray,
                   strata: dict[int, str]) -> Groups:
    """The connected groups of the ``shared`` rows, from their keys read by tasks."""
    frames = engine.map(keys_at, [(scratch, pieces[i].index, rows)
                                  for i, rows in _by_piece(shared, starts)],
                        desc="split groups")
    if not frames:
        empty = np.array([], dtype=np.int64)
        return Groups(empty.astype(np.uint64), empty, empty, empty, empty)
    keys = pl.concat(frames, how="diagonal_relaxed")

    def key_text(sub: np.ndarray) -> list[str]:  # ``sub``: ascending positions in ``shared``
        found = _by_piece(shared[sub], starts)
        texts = engine.map(texts_at, [(scratch, pieces[i], rows) for i, rows in found],
                           desc="split key texts")
        return [text for part in texts for text in part]

    order, label, size, stratum, row_group = group_table(keys, strata, key_text)
    return Groups(order, shared[label], size.astype(np.int64), stratum.astype(np.int64),
                  row_group)


class Board:
    """The driver's view of the split: per (stratum, bucket) the single rows still in train
    and the side of the cells taken whole; the buckets read back, row by row; the shared
    groups and their sides."""

    def __init__(self, bits: int, strata: int, groups: Groups):
        self.bits = bits
        self.buckets = 1 << bits
        self.train = np.zeros((strata, self.buckets), dtype=np.int64)
        self.cells = np.zeros((strata, self.buckets), dtype=np.uint8)
        self.read: dict[int, dict[str, np.ndarray]] = {}  # bucket -> its single rows
        self.g = groups
        self.g_side = np.zeros(len(groups.size), dtype=np.uint8)
        self.g_bucket = buckets_of(groups.order, bits)
        self.counted = self.train  # single rows per cell, once counted
        self.singles = 0

    def rows_left(self) -> int:
        return int(self.train.sum() + self.g.size[self.g_side == TRAIN].sum())

    def groups(self) -> int:
        return self.singles + len(self.g.size)

    def rows_per_stratum(self) -> np.ndarray:
        rows = self.train.sum(axis=1)
        free = self.g_side == TRAIN
        np.add.at(rows, self.g.stratum[free], self.g.size[free])
        return rows

    def totals(self, mask: np.ndarray) -> np.ndarray:
        """Rows still in train per bucket, in the strata of ``mask``."""
        tot = self.train[mask].sum(axis=0)
        free = (self.g_side == TRAIN) & mask[self.g.stratum]
        tot += np.bincount(self.g_bucket[free], weights=self.g.size[free],
                           minlength=self.buckets).astype(np.int64)
        return tot

    def take_whole(self, lo: int, hi: int, mask: np.ndarray, side: int) -> None:
        """Every row still in train in buckets ``[lo, hi)`` of the strata of ``mask``."""
        if hi <= lo:
            return
        cells = self.cells[mask, lo:hi]
        cells[self.train[mask, lo:hi] > 0] = side
        self.cells[mask, lo:hi] = cells
        self.train[mask, lo:hi] = 0
        for b in [b for b in self.read if lo <= b < hi]:
            rows = self.read[b]
            rows["side"][(rows["side"] == TRAIN) & mask[rows["r"]]] = side
        free = ((self.g_side == TRAIN) & mask[self.g.stratum] & (self.g_bucket >= lo)
                & (self.g_bucket < hi))
        self.g_side[free] = side

    def needs_read(self, b: int, mask: np.ndarray) -> bool:
        return b not in self.read and bool(self.train[mask, b].any())

    def add_read(self, found: pl.DataFrame) -> None:
        """The single rows of buckets read back, each with its cell's side so far."""
        for (b,), rows in found.sort("b", "ko", "p").group_by("b", maintain_order=True):
            r = rows["r"].to_numpy()
            self.read[int(b)] = {"ko": rows["ko"].to_numpy(), "p": rows["p"].to_numpy(),
                                 "r": r, "side": self.cells[r, int(b)].copy()}

    def candidates(self, b: int, mask: np.ndarray) -> list[tuple[int, int, bool, int]]:
        """The groups still in train in bucket ``b`` (strata of ``mask``), in split order:
        (rows, index, single?, stratum)."""
        rows = self.read.get(b)
        items = []
        if rows is not None:
            free = np.flatnonzero((rows["side"] == TRAIN) & mask[rows["r"]])
            items += [(int(rows["ko"][i]), int(rows["p"][i]), 1, int(i), True,
                       int(rows["r"][i])) for i in free]
        lo, hi = np.searchsorted(self.g_bucket, [b, b + 1])
        for j in range(lo, hi):
            if self.g_side[j] == TRAIN and mask[self.g.stratum[j]]:
                items.append((int(self.g.order[j]), int(self.g.label[j]), int(self.g.size[j]),
                              j, False, int(self.g.stratum[j])))
        items.sort()
        return [(size, i, single, r) for _, _, size, i, single, r in items]

    def take(self, b: int, i: int, single: bool, r: int, side: int) -> None:
        if single:
            self.read[b]["side"][i] = side
            self.train[r, b] -= 1
        else:
            self.g_side[i] = side

    def decided(self, shared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every row decided one by one (shared rows, rows of buckets read back): export
        positions (sorted) and sides."""
        rows = [shared] + [r["p"] for r in self.read.values()]
        sides = [self.g_side[self.g.row_group]] + [r["side"] for r in self.read.values()]
        rows, sides = np.concatenate(rows).astype(np.int64), np.concatenate(sides)
        by = np.argsort(rows, kind="stable")
        return rows[by], sides[by].astype(np.uint8)


Fill = Generator[list[int], None, int]  # yields the buckets it needs read, returns rows taken


def _fill(board: Board, mask: np.ndarray, quota: int, side: int) -> Fill:
    """:func:`curate.export.split._fill` over the groups still in train in the strata of
    ``mask``, in split order: whole buckets while they fit, then group by group."""
    if quota <= 0:
        return 0
    tot = board.totals(mask)
    cum = np.cumsum(tot)
    b = int(np.searchsorted(cum, quota, side="right"))
    board.take_whole(0, b, mask, side)
    got = int(cum[b - 1]) if b else 0
    whole = True  # still taking every group in order (the prefix of split._fill)
    while got < quota and b < board.buckets:
        if tot[b] == 0:
            b += 1
            continue
        if not whole and tot[b] <= quota - got:
            board.take_whole(b, b + 1, mask, side)
            got += int(tot[b])
            b += 1
            continue
        if board.needs_read(b, mask):
            yield [b]
        for size, i, single, r in board.candidates(b, mask):
            if whole and got + size > quota:
                whole = False
            if got + size <= quota:
                board.take(b, i, single, r, side)
                got += size
            if got >= quota:
                break
        b += 1
    return got


def _first_smallest(board: Board) -> tuple[int, int] | None:
    """The first smallest group still in train (split order): (index, rows), or None. Only
    shared groups can be left: the fill before it takes every single row while rows are
    missing."""
    free = np.flatnonzero(board.g_side == TRAIN)
    if not len(free):
        return None
    j = int(free[np.argmin(board.g.size[free])])
    return j, int(board.g.size[j])


def _pick(board: Board, target: int, side: int) -> Fill:
    """:func:`curate.export.split._pick`: the strata's fills side by side, then the deficit
    from any stratum, then one more group when that lands closer to the target."""
    rows = board.rows_per_stratum()
    quota = _quotas(np.arange(len(rows)), rows, target)
    fills = []
    for s in sorted(quota):
        mask = np.zeros(len(rows), dtype=bool)
        mask[s] = True
        fills.append(_fill(board, mask, quota[s], side))
    taken = sum((yield from _together(fills)))
    deficit = target - taken
    if deficit > 0:
        deficit -= yield from _fill(board, np.ones(len(rows), dtype=bool), deficit, side)
    if deficit > 0:
        best = _first_smallest(board)
        if best is not None and (deficit == target or best[1] - deficit < deficit):
            board.g_side[best[0]] = side
    return 0


def _together(fills: list[Fill]) -> Generator[list[int], None, list[int]]:
    """Run ``fills`` side by side: each step yields every bucket any of them waits for."""
    results: list[int | None] = [None] * len(fills)
    waiting: dict[int, list[int]] = {}
    for i in range(len(fills)):
        _advance(fills, i, results, waiting)
    while waiting:
        yield sorted({b for asked in waiting.values() for b in asked})
        for i in list(waiting):
            del waiting[i]
            _advance(fills, i, results, waiting)
    return results


def _advance(fills, i, results, waiting) -> None:
    try:
        waiting[i] = fills[i].send(None)
    except StopIteration as done:
        results[i] = done.value


def _drive(board: Board, fetch: Callable[[list[int]], pl.DataFrame], work: Fill) -> None:
    """Run ``work``, reading back the buckets it asks for."""
    try:
        asked = work.send(None)
        while True:
            board.add_read(fetch([b for b in asked if b not in board.read]))
            asked = work.send(None)
    except StopIteration:
        pass
