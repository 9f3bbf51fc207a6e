"""The stage contract.

A stage takes the run's frame and returns what it kept and what it removed (with a
``drop_reason``). It may add columns but never changes input columns. The runner checks the
accounting (``rows_in == rows_out + sum(dropped)``) after every stage.

:class:`Filter` is the base of the stages that score and keep or drop rows one by one: a
subclass writes its scores and its decision, the base class batches, shows progress, splits kept
from rejected, and reuses cached scores when the same stage runs again on the same rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
from pydantic import BaseModel, ConfigDict

from ..progress import bar

DROP_REASON = "drop_reason"
KEPT_ID = "kept_id"


class StageOptions(BaseModel):
    """Base of every stage's ``with:`` block; unknown keys are an error."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class StageContext:
    """What a stage may know about the run it is part of."""

    name: str = "stage"
    index: int = 0
    seed: int = 0
    on_error: str = "raise"
    out_dir: Path | None = None
    cache_dir: Path | None = None


@dataclass
class StageResult:
    kept: pl.DataFrame
    rejected: pl.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)

    def dropped(self) -> dict[str, int]:
        if self.rejected.height == 0:
            return {}
        counts = self.rejected.group_by(DROP_REASON).len().sort(DROP_REASON)
        return {str(r): int(n) for r, n in counts.iter_rows()}


class Stage:
    """A pipeline step, registered under ``id`` (e.g. ``dedup.exact``).

    Subclasses set ``id``, ``Options`` (a StageOptions model for the recipe's ``with:``) and
    implement :meth:`apply`.
    """

    id: ClassVar[str] = ""
    Options: ClassVar[type[StageOptions]] = StageOptions
    summary: ClassVar[str] = ""

    def __init__(self, options: StageOptions | dict | None = None):
        if options is None or isinstance(options, dict):
            options = self.Options(**(options or {}))
        self.options = options

    def apply(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        raise NotImplementedError

    def fingerprint(self) -> str:
        """Changes when the stage or its options change; used for resume and score caches."""
        blob = json.dumps([self.id, self.options.model_dump(mode="json")], sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:12]

    def thresholds(self) -> dict[str, Any]:
        """The options that decide what is kept, for the manifest."""
        return self.options.model_dump(mode="json")


class Filter(Stage):
    """A stage that scores rows and keeps or drops each one.

    Subclasses implement :meth:`score` (add score columns to a batch) and :meth:`decide`
    (an expression that is null for a kept row and the drop reason for a removed one). Scores
    are computed in batches of ``batch_size`` with a progress bar. Where ``cache_scores`` is
    set, scores are stored by row id under the run's cache, so that rerunning with other
    thresholds does not score again.
    """

    batch_size: ClassVar[int] = 50_000
    cache_scores: ClassVar[bool] = False
    score_columns: ClassVar[tuple[str, ...]] = ()

    def score(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        return batch

    def decide(self) -> pl.Expr:
        raise NotImplementedError

    def stats(self, scored: pl.DataFrame) -> dict[str, Any]:
        """Extra facts for the manifest, computed on the scored rows (kept and dropped)."""
        return {}

    def scoring_fingerprint(self) -> str:
        """What the scores depend on; by default the whole option set."""
        return self.fingerprint()

    def apply(self, df: pl.DataFrame, ctx: StageContext | None = None) -> StageResult:
        ctx = ctx or StageContext(name=self.id)
        scored = self._scored(df, ctx)
        reason = self.decide().alias(DROP_REASON)
        decided = scored.with_columns(reason)
        kept = decided.filter(pl.col(DROP_REASON).is_null()).drop(DROP_REASON)
        rejected = decided.filter(pl.col(DROP_REASON).is_not_null())
        return StageResult(kept, rejected,
                           stats={"thresholds": self.thresholds(), **self.stats(scored)})

    def _scored(self, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cache = self._cache_path(ctx)
        cached = None
        if cache is not None and cache.exists() and df.height:
            cached = pl.read_parquet(cache)
            have = df.join(cached, on="id", how="inner")
            todo = df.join(cached.select("id"), on="id", how="anti")
        else:
            have, todo = None, df
        new = self._score_rows(todo, ctx)
        if cache is not None and new.height and self.score_columns:
            fresh = new.select("id", *self.score_columns)
            if cached is not None:
                fresh = pl.concat([cached, fresh], how="vertical_relaxed")
            cache.parent.mkdir(parents=True, exist_ok=True)
            fresh.write_parquet(cache)
        if have is None or have.height == 0:
            return new
        # Restore the input order after merging cached and freshly scored rows.
        merged = pl.concat([have, new], how="vertical_relaxed")
        order = df.select("id").with_row_index("__order")
        return merged.join(order, on="id").sort("__order").drop("__order")

    def _score_rows(self, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """``score()`` over every row of ``df`` in batches, with a progress bar (the step an
        engine may replace; the score cache around it stays the same)."""
        parts = []
        with bar(total=df.height, desc=ctx.name) as progress:
            for start in range(0, df.height, self.batch_size):
                batch = df.slice(start, self.batch_size)
                parts.append(self.score(batch, ctx))
                progress.update(batch.height)
        return pl.concat(parts, how="vertical_relaxed") if parts else self.score(df, ctx)

    def _cache_path(self, ctx: StageContext) -> Path | None:
        if not self.cache_scores or ctx.cache_dir is None:
            return None
        return ctx.cache_dir / "scores" / f"{self.id}-{self.scoring_fingerprint()}.parquet"
