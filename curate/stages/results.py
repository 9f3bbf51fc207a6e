"""What a stage gives back: counts per piece, its outputs in storage, or frames (frame API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..columns import DROP_REASON  # noqa: F401  (stages import it from here)
from ..io.frame_parts import FrameStore
from ..io.parts import PartWriter, Parts


@dataclass
class StageResult:
    """A stage's result as frames: what :meth:`Stage.apply` (the frame API) returns."""

    kept: pl.DataFrame
    rejected: pl.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)
    # rows made beyond one per input row, by a stage that splits rows (``judge.pairs`` with
    # ``pairs: all``); the accounting then is rows_in + added == rows_out + dropped
    added: int = 0

    def dropped(self) -> dict[str, int]:
        if self.rejected.height == 0:
            return {}
        counts = self.rejected.group_by(DROP_REASON).len().sort(DROP_REASON)
        return {str(r): int(n) for r, n in counts.iter_rows()}


@dataclass
class StageData:
    """A stage's input in storage and where its outputs go (folders of part files, written
    piece by piece; see :mod:`curate.io.parts`). ``scratch`` is the stage's own folder for
    what it spills while it runs (removed after it). ``memory``: the frame API's data in
    memory (the source is then a :class:`~curate.io.frame_parts.FrameParts`, and what
    :meth:`writer` writes stays in frames)."""

    source: Parts
    kept: Path
    rejected: Path
    scratch: Path
    compression: str = "lz4"  # of the kept and rejected parts ("uncompressed" for temporary)
    memory: FrameStore | None = field(default=None, repr=False)

    def writer(self, folder: Path, *, compression: str | None = None) -> PartWriter:
        """The writer of the parts of ``folder`` (``kept``, ``rejected``, or one in
        ``scratch``), which also reads them back: part files in storage, or frames when the
        data is in memory."""
        if self.memory is not None:
            return self.memory.writer(folder)
        return PartWriter(folder, compression=compression or self.compression)


@dataclass
class PieceReport:
    """What one piece of a stage's work gives the driver: counts, never rows."""

    rows_in: int = 0
    rows_out: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    added: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # a stage's own per-piece facts


def merge_counts(reports: list[PieceReport]) -> PieceReport:
    """The pieces' counts summed (``extra`` left to the stage)."""
    total = PieceReport()
    for r in reports:
        total.rows_in += r.rows_in
        total.rows_out += r.rows_out
        total.added += r.added
        for k, v in r.dropped.items():
            total.dropped[k] = total.dropped.get(k, 0) + v
        for k, v in r.failures.items():
            total.failures[k] = total.failures.get(k, 0) + v
    total.dropped = dict(sorted(total.dropped.items()))
    return total


@dataclass
class StageOutput:
    """A stage's result in storage: its kept and rejected rows as part folders, the counts
    summed from its pieces and its stats."""

    kept: Parts
    rejected: Parts
    rows_in: int
    rows_out: int
    drops: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    added: int = 0

    def dropped(self) -> dict[str, int]:
        return dict(self.drops)

    def result(self) -> StageResult:
        """The outputs read into frames (the frame API; small data)."""
        return StageResult(self.kept.read(), self.rejected.read(), self.stats, self.added)
