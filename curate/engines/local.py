"""The local engine: every stage runs in this process, as ``stage.apply``."""

from __future__ import annotations

from typing import Any

import polars as pl

from ..stages.base import Stage, StageContext, StageResult


class LocalEngine:
    """Runs a stage in process; the reference the Ray engine is compared against."""

    name = "local"

    def apply(self, stage: Stage, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        return stage.apply(df, ctx)

    def manifest(self) -> dict[str, Any]:
        """What the run's manifest records about the engine."""
        return {"engine": self.name}
