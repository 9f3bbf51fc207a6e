"""The driver's side of the split decided by tasks (:mod:`curate.export.split_plan`): the
state of every cell and group, and :func:`curate.export.split._pick`'s fill over buckets, as
generators that yield the buckets they need read back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generator

import numpy as np
import polars as pl

from .split import _quotas
from .split_tasks import NO_UNIT, buckets_of, cell_runs

TRAIN, VALIDATION, TEST = 0, 1, 2  # positions in split.SPLITS


@dataclass
class Groups:
    """The groups of rows that share a key, in split order: order, label (smallest export
    position), rows, stratum; and each shared row's group."""

    order: np.ndarray
    label: np.ndarray
    size: np.ndarray
    stratum: np.ndarray
    row_group: np.ndarray


class Board:
    """The driver's view of the split: per (stratum, bucket) the rows of units (single rows,
    and groups that share only a prompt) still in train and the side of the cells taken
    whole; the buckets read back, unit by unit; the joined groups and their sides."""

    def __init__(self, bits: int, strata: int, groups: Groups):
        self.bits = bits
        self.buckets = 1 << bits
        self.train = np.zeros((strata, self.buckets), dtype=np.int64)
        self.cells = np.zeros((strata, self.buckets), dtype=np.uint8)
        self.read: dict[int, dict[str, np.ndarray]] = {}  # bucket -> its single rows
        self.g = groups
        self.g_side = np.zeros(len(groups.size), dtype=np.uint8)
        self.g_bucket = buckets_of(groups.order, bits)
        self.counted = self.train  # rows of units per cell, once counted
        self.least = np.full((strata, self.buckets), NO_UNIT, dtype=np.int64)  # smallest unit
        self.units = 0

    def runs(self):
        """The cells' sides as runs (:func:`~curate.export.split_tasks.cell_runs`)."""
        used = self.counted > 0
        used[:, list(self.read)] = False
        return cell_runs(self.cells, used)

    def rows_left(self) -> int:
        return int(self.train.sum() + self.g.size[self.g_side == TRAIN].sum())

    def groups(self) -> int:
        return self.units + len(self.g.size)

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
            units = self.read[b]
            units["side"][(units["side"] == TRAIN) & mask[units["r"]]] = side
        free = ((self.g_side == TRAIN) & mask[self.g.stratum] & (self.g_bucket >= lo)
                & (self.g_bucket < hi))
        self.g_side[free] = side

    def needs_read(self, b: int, mask: np.ndarray, fits: int | None = None) -> bool:
        """Whether bucket ``b`` holds units still in train (in the strata of ``mask``) that are
        not read back: any, or (``fits``) any of at most that many rows."""
        if b in self.read:
            return False
        left = self.train[mask, b] > 0
        if fits is None:
            return bool(left.any())
        return bool((self.least[mask, b][left] <= fits).any())

    def smallest_unread(self) -> tuple[int, int] | None:
        """The rows of the smallest unit still in train in a bucket not read back, and the
        first bucket that holds one: (rows, bucket), or None. A cell not read back is still
        whole, so its smallest unit is the one counted."""
        least = np.where(self.train > 0, self.least, NO_UNIT)
        if self.read:
            least[:, list(self.read)] = NO_UNIT
        size = least.min(axis=0) if least.size else np.array([NO_UNIT])
        if size.min() == NO_UNIT:
            return None
        return int(size.min()), int(np.argmax(size == size.min()))

    def add_read(self, found: pl.DataFrame) -> None:
        """The units of buckets read back, each with its cell's side so far."""
        for (b,), units in found.sort("b", "ko", "p").group_by("b", maintain_order=True):
            r = units["r"].to_numpy()
            self.read[int(b)] = {"ko": units["ko"].to_numpy(), "p": units["p"].to_numpy(),
                                 "r": r, "n": units["n"].to_numpy(),
                                 "group": units["group"].to_numpy(),
                                 "side": self.cells[r, int(b)].copy()}

    def candidates(self, b: int, mask: np.ndarray) -> list[tuple[int, int, bool, int]]:
        """The groups still in train in bucket ``b`` (strata of ``mask``), in split order:
        (rows, index, read back?, stratum)."""
        units = self.read.get(b)
        items = []
        if units is not None:
            free = np.flatnonzero((units["side"] == TRAIN) & mask[units["r"]])
            items += [(int(units["ko"][i]), int(units["p"][i]), int(units["n"][i]), int(i),
                       True, int(units["r"][i])) for i in free]
        lo, hi = np.searchsorted(self.g_bucket, [b, b + 1])
        for j in range(lo, hi):
            if self.g_side[j] == TRAIN and mask[self.g.stratum[j]]:
                items.append((int(self.g.order[j]), int(self.g.label[j]), int(self.g.size[j]),
                              j, False, int(self.g.stratum[j])))
        items.sort()
        return [(size, i, read, r) for _, _, size, i, read, r in items]

    def take(self, b: int, i: int, read: bool, r: int, side: int) -> None:
        if read:
            self.read[b]["side"][i] = side
            self.train[r, b] -= int(self.read[b]["n"][i])
        else:
            self.g_side[i] = side

    def decided(self, joined: np.ndarray):
        """Every row decided one by one (the joined groups' rows, the single rows of buckets
        read back): export positions (sorted) and sides; and the groups read back that share
        only a prompt: their order (the prompt's hash, sorted) and sides."""
        read = list(self.read.values())
        rows = [joined] + [u["p"][~u["group"]] for u in read]
        sides = [self.g_side[self.g.row_group]] + [u["side"][~u["group"]] for u in read]
        rows, sides = np.concatenate(rows).astype(np.int64), np.concatenate(sides)
        by = np.argsort(rows, kind="stable")
        ko = np.concatenate([np.array([], dtype=np.uint64)]
                            + [u["ko"][u["group"]] for u in read]).astype(np.uint64)
        ko_sides = np.concatenate([np.array([], dtype=np.uint8)]
                                  + [u["side"][u["group"]] for u in read])
        by_ko = np.argsort(ko, kind="stable")
        return rows[by], sides[by].astype(np.uint8), ko[by_ko], ko_sides[by_ko].astype(np.uint8)


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
        # in order, each group that fits is taken: a bucket whose units all have more rows
        # than are missing is not read back (its joined groups may still fit)
        if board.needs_read(b, mask, None if whole else quota - got):
            yield [b]
        for size, i, read, r in board.candidates(b, mask):
            if whole and got + size > quota:
                whole = False
            if got + size <= quota:
                board.take(b, i, read, r, side)
                got += size
            if got >= quota:
                break
        b += 1
    return got


def _first_smallest(board: Board) -> Generator[list[int], None, tuple | None]:
    """The first smallest group still in train (split order: rows, order, label), as
    (bucket, index, read back?, stratum, rows), or None. Single rows cannot be left (the fill
    before it takes every one while rows are missing); where the smallest unit left is in a
    bucket not read back, the first such bucket is read."""
    unread = board.smallest_unread()
    found = _smallest_found(board)
    if unread is not None and (found is None or unread[0] <= found[0][0]):
        yield [unread[1]]
        found = _smallest_found(board)
    if found is None:
        return None
    (size, _, _), where = found
    return (*where, size)


def _smallest_found(board: Board):
    """The first smallest of the joined groups and the units read back still in train:
    ((rows, order, label), (bucket, index, read back?, stratum)), or None."""
    found = []
    free = np.flatnonzero(board.g_side == TRAIN)
    if len(free):
        j = int(free[np.argmin(board.g.size[free])])
        found.append(((int(board.g.size[j]), int(board.g.order[j]), int(board.g.label[j])),
                      (int(board.g_bucket[j]), j, False, int(board.g.stratum[j]))))
    for b, units in board.read.items():
        for i in np.flatnonzero(units["side"] == TRAIN).tolist():
            found.append(((int(units["n"][i]), int(units["ko"][i]), int(units["p"][i])),
                          (b, i, True, int(units["r"][i]))))
    return min(found) if found else None


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
        best = yield from _first_smallest(board)
        if best is not None and (deficit == target or best[4] - deficit < deficit):
            board.take(*best[:4], side)
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
