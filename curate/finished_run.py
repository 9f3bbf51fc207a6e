"""What a stage sees of a whole run once all its stages have run (a stage's ``finish_run`` step).

Most stages judge only the rows they are given. A few must look at the run as a whole, e.g. the
bias audit of ``safety.bias``: which groups the records mentioned as they entered the first
stage, and what every stage (before or after it) removed of each. Such a stage defines

    def finish_run(self, run: FinishedRun) -> dict | None

and the runner calls it after the last stage (and before export), on every run, resumed or
not. What it returns is added to its manifest entry's ``stats`` under ``run``. The
step reads the run folder through :class:`FinishedRun`: the first stage's input, each stage's
removed rows and the final records; it may run another stage of the run on other rows with the
run's engine (``run.engine.apply(stage, df, run.context(name))``, e.g. to score rows an earlier
stage removed), and write files under ``run.out_dir``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from .io.parts import Parts
from .stages.base import DROP_REASON, StageContext
from .stages.plan import provides

if TYPE_CHECKING:  # pragma: no cover
    from .stages.base import Stage


@dataclass
class FinishedRun:
    """The run folder and stages after the last stage ran.

    ``stages`` are ``(name, stage, manifest entry)`` in run order, the convert step excluded;
    ``entries`` are all the manifest's stage entries (convert first).
    """

    out_dir: Path
    stages: list[tuple[str, Stage, dict[str, Any]]]
    entries: list[dict[str, Any]]
    engine: Any
    seed: int = 0
    on_error: str = "raise"

    def context(self, name: str) -> StageContext:
        """A context for running the stage ``name`` again on other rows (its score cache
        included)."""
        index = next((e["index"] for e in self.entries if e["name"] == name), 0)
        return StageContext(name=name, index=index, seed=self.seed, on_error=self.on_error,
                            out_dir=self.out_dir, cache_dir=self.out_dir / "cache")

    def _parts(self, rel: str | None) -> Parts | None:
        path = self.out_dir / rel if rel else None
        return Parts(path) if path is not None and path.exists() else None

    def _read(self, rel: str | None, columns: list[str] | None = None) -> pl.DataFrame | None:
        parts = self._parts(rel)
        if parts is None:
            return None
        if columns is not None:
            columns = [c for c in columns if c in parts.schema]
        return parts.read(columns)

    def first_parts(self) -> Parts:
        """The records as they entered the first stage, in storage (read them piece by piece,
        or a few columns of them: a run's data may be larger than memory)."""
        parts = self._parts(self.entries[0].get("checkpoint"))
        if parts is None:
            raise FileNotFoundError(f"{self.out_dir}: the checkpoint of "
                                    f"{self.entries[0].get('name')} is missing")
        return parts

    def output_parts(self) -> Parts:
        """The records the last stage kept, in storage."""
        parts = self._parts(self.stages[-1][2].get("checkpoint")) if self.stages else None
        return self.first_parts() if parts is None else parts

    def first_input(self, columns: list[str] | None = None) -> pl.DataFrame:
        """The records as they entered the first stage (the convert step's checkpoint), in
        memory: give the ``columns`` needed (compact ones), or use :meth:`first_parts`."""
        df = self._read(self.entries[0].get("checkpoint"), columns)
        if df is None:
            raise FileNotFoundError(f"{self.out_dir}: the checkpoint of "
                                    f"{self.entries[0].get('name')} is missing")
        return df

    def output(self, columns: list[str] | None = None) -> pl.DataFrame:
        """The records the last stage kept, in memory (see :meth:`first_input`)."""
        df = self._read(self.stages[-1][2].get("checkpoint"), columns) if self.stages else None
        return self.first_input(columns) if df is None else df

    def removed(self, columns: tuple[str, ...] = ()) -> pl.DataFrame:
        """``id``, ``drop_reason`` and ``stage`` (its name) of every row a stage removed, in
        run order, with ``columns`` where a stage's rejected rows have them (else null): only
        these columns are read (compact, unless ``columns`` names texts)."""
        parts = []
        for name, _, entry in self.stages:
            df = self._read(entry.get("rejected"), ["id", DROP_REASON, *columns])
            if df is None or df.height == 0 or "id" not in df.columns:
                continue
            parts.append(df.with_columns(pl.lit(name).alias("stage")))
        schema = {"id": pl.String, DROP_REASON: pl.String, "stage": pl.String}
        if not parts:
            return pl.DataFrame(schema=schema)
        return pl.concat(parts, how="diagonal_relaxed")

    def stage_writing(self, column: str, before: str) -> tuple[str, Stage] | None:
        """The last stage before the one named ``before`` that writes ``column``."""
        found = None
        for name, stage, _ in self.stages:
            if name == before:
                break
            if provides(stage.columns_written(), column):
                found = (name, stage)
        return found
