"""The leakage-free split of data in storage, decided by tasks: the driver holds counts and
the rows of groups joined from several keys, never a number per exported row.

The split is :func:`curate.export.split.split_labels`'s, row for row. Groups are taken in
order (their seeded hash) by a greedy fill per stratum; most groups are single rows or rows
that share a prompt and nothing else, and the fill only needs them one by one around the point
where a quota is met. So:

1. tasks over ranges of the link values find the rows whose ``dup_cluster`` or
   ``label_group`` another row shares, then the groups of rows that share a prompt: those
   with such a row, and those rows, go to the driver, which joins them into groups
   (:func:`~curate.export.split_groups.group_table`); the others are *units* the tasks keep in
   files sorted by *bucket* (the top bits of their order) and count per (stratum, bucket);
2. a task per piece does the same for its rows that share nothing (units of one row);
3. the driver fills each quota over buckets: a bucket that fits whole is taken whole by its
   counts; the one where a quota is met is read back (its units, from every file) and filled
   group by group. The strata's fills run side by side and read their buckets together;
4. the write tasks label their rows from the result (:class:`SplitRules`): per stratum a few
   runs of buckets taken whole with their side, the side of each unit read back, and of each
   row of a joined group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ..errors import CurateError
from .split import held_out_rows, no_train_error
from .split_board import TEST, VALIDATION, Board, Groups, _drive, _pick
from .split_groups import group_table, stratum_names
from .split_tasks import (buckets_of, cluster_rows, count_singles, keys_at, prompt_groups,
                          row_strata, side_by_runs, texts_at, units_in)

LINK_ROWS = 1 << 21  # link values per range task
COUNT_CHUNK = 64     # files whose counts are summed at a time


@dataclass(frozen=True)
class SplitRules:
    """What a write task needs to label its rows: per stratum, the side of the units of each
    bucket taken whole, as runs of buckets (a fill takes buckets in order, so a stratum has a
    few runs, whatever the number of buckets); the side of each group read back that shares
    only a prompt (by the prompt's hash); and how to find a row's stratum and bucket."""

    runs: tuple[tuple[np.ndarray, np.ndarray], ...]  # per stratum: first bucket, side of each run
    bits: int
    strata: dict[int, str]
    names: tuple[str, ...]
    ranges: int               # range files of units and members
    unit_ko: np.ndarray       # sorted
    unit_sides: np.ndarray

    def sides(self, keys: pl.DataFrame, members: pl.DataFrame, rows: np.ndarray,
              sides: np.ndarray) -> np.ndarray:
        """The side of each row of a piece's ``keys``; ``members``: its rows in a unit of
        several rows (position in the piece, the unit's stratum); ``rows``/``sides``: the rows
        (positions in the piece) decided one by one."""
        stratum = row_strata(keys, self.strata, list(self.names)).astype(np.int64)
        ko = keys["ko"].to_numpy()
        at = members["p"].to_numpy()
        stratum[at] = members["g"].to_numpy()
        out = side_by_runs(self.runs, stratum, buckets_of(ko, self.bits))
        if len(self.unit_ko) and len(at):
            found = np.minimum(np.searchsorted(self.unit_ko, ko[at]), len(self.unit_ko) - 1)
            read = self.unit_ko[found] == ko[at]
            out[at[read]] = self.unit_sides[found[read]]
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
                 ) -> tuple[SplitRules, list[tuple[int, np.ndarray, np.ndarray]]]:
    """The split of the exported rows of ``pieces`` (``kept``: rows per piece, whose keys and
    links the check pass wrote to ``scratch``): the rules, and per piece its first export
    position and the rows decided one by one (positions in the piece) with their sides.
    ``bits``: the buckets' (default: :func:`bucket_bits`)."""
    n = int(sum(kept))
    n_test, n_val = held_out_rows(n, test_size, validation_size)
    starts = np.cumsum([0] + list(kept))
    first = [int(s) for s in starts[:-1]]
    indexes = [p.index for p in pieces]
    names = stratum_names(strata)
    bits = bucket_bits(n, len(names)) if bits is None else bits
    ranges = max(1, -(-n // LINK_ROWS))
    bounds = [(r << 64) // ranges for r in range(ranges)] + [None]
    spans = [(scratch, indexes, first, bounds[r], bounds[r + 1]) for r in range(ranges)]
    joined = _unique(engine.map(cluster_rows, spans, desc="split clusters"))
    prompts = engine.map(prompt_groups, [span + (joined, strata, names, bits, r)
                                         for r, span in enumerate(spans)], desc="split prompts")
    joined = _unique([joined] + [p["joined"] for p in prompts])
    groups = _joined_groups(engine, scratch, pieces, starts, joined, strata)

    board = Board(bits, len(names), groups)
    for p in prompts:
        board.train += p["counts"].reshape(len(names), -1)
        board.least = np.minimum(board.least, p["least"].reshape(len(names), -1))
        board.units += p["groups"]
    del prompts
    for chunk in range(0, len(pieces), COUNT_CHUNK):  # counts summed as they come
        items = [(scratch, indexes[i], first[i], _local(joined, starts, i), strata, names, bits,
                  ranges) for i in range(chunk, min(chunk + COUNT_CHUNK, len(pieces)))]
        for counts in engine.map(count_singles, items, desc="split counts",
                                 sizes=[kept[i] for i in range(chunk, chunk + len(items))]):
            counts = counts.reshape(len(names), -1)
            board.train += counts
            board.least[counts > 0] = 1
            board.units += int(counts.sum())
    board.counted = board.train.copy()

    def fetch(buckets: list[int]) -> pl.DataFrame:
        files = [(scratch, "singles", indexes[i], first[i], buckets)
                 for i in range(len(pieces)) if kept[i]]
        files += [(scratch, "units", r, 0, buckets) for r in range(ranges)]
        return pl.concat(engine.map(units_in, files, desc="split buckets"),
                         how="diagonal_relaxed")

    for side, target in ((TEST, n_test), (VALIDATION, n_val)):
        if target:
            _drive(board, fetch, _pick(board, target, side))
    if board.rows_left() == 0:
        raise CurateError(no_train_error(n, board.groups()))
    rows, sides, unit_ko, unit_sides = board.decided(joined)
    at = np.searchsorted(rows, starts)
    decided = [(first[i], rows[at[i]:at[i + 1]] - starts[i], sides[at[i]:at[i + 1]])
               for i in range(len(pieces))]  # every piece, rows decided or none
    return SplitRules(board.runs(), bits, strata, tuple(names), ranges, unit_ko,
                      unit_sides), decided


def _unique(found: list[np.ndarray]) -> np.ndarray:
    return np.unique(np.concatenate(found)) if found else np.array([], dtype=np.int64)


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


def _joined_groups(engine, scratch: str, pieces: list, starts: np.ndarray, shared: np.ndarray,
                   strata: dict[int, str]) -> Groups:
    """The connected groups of the ``shared`` rows (those the driver joins), from their keys
    read by tasks."""
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
