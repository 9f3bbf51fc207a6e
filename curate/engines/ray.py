"""The Ray engine: the recipe's stages on Ray Data, on a local Ray or a cluster.

How each kind of stage runs:

- row-wise filters (every :class:`~curate.stages.base.Filter`, e.g. ``quality.rules``, and the
  scores of ``safety.bias``): ``score()`` as ``map_batches`` over Arrow blocks; the decision
  (an expression) and the stats then run on the driver on the scored frame, with the stage's
  own code;
- model stages (``safety.toxicity``): ``map_batches`` with a callable class in an actor pool,
  the model loaded once per actor (one GPU per actor where Ray reports GPUs);
- global stages: ``dedup.exact`` by hash partition of the key (a shuffle on the key hash; each
  partition is deduplicated in input order, so the first record of a group survives) and
  ``dedup.near`` by band hashes in ``map_batches`` and a shuffle on the band bucket that emits
  the candidate pairs (see :mod:`curate.engines.ray_dedup`); the pair graph's exact Jaccard
  check and connected components run on the driver.
- ``dedup.semantic``: embeddings on the embedding actor pool, the exact search as Ray tasks
  (query blocks against the matrix shared through the object store) or, above
  ``exact_max``, a shuffle by k-means cluster (see :mod:`curate.engines.ray_semantic`).
- ``select.diverse``: embeddings on the embedding actor pool, method ``kcenter`` on row
  shards held by actors with a distributed min-distance update (see
  :mod:`curate.engines.ray_select`); k-means, coverage and the other methods on the driver.

Stages without a distributed implementation run on the driver with the local
implementation, and their stats say so
(``"engine": "local fallback: <why>"``). Rows carry their input position (``__row``) through
Ray, so every result is in input order and equal to the local engine's.
"""

from __future__ import annotations

import json
import math
from typing import Any

import polars as pl

from ..errors import CurateError
from ..stages.base import Filter, Stage, StageContext, StageResult

ROW = "__row"
STATE = "__worker_state"
FALLBACK: dict[str, str] = {}  # stage id -> why it runs on the driver (none at present)


def to_dataset(df: pl.DataFrame, blocks: int):
    """``df`` with its row positions (``__row``) as a Ray dataset of ``blocks`` Arrow blocks."""
    import ray.data

    framed = df.with_row_index(ROW)
    size = max(1, math.ceil(df.height / max(1, blocks)))
    tables = [framed.slice(s, size).to_arrow() for s in range(0, max(df.height, 1), size)]
    return ray.data.from_arrow(tables)


def to_polars(ds, like: pl.DataFrame | None = None) -> pl.DataFrame:
    """A Ray dataset back as one polars frame in input order (``__row`` dropped); the columns
    of ``like`` get their original types back."""
    import ray

    tables = [t for t in ray.get(ds.to_arrow_refs())]
    frames = [pl.from_arrow(t) for t in tables if t.num_rows] or [pl.from_arrow(tables[0])]
    out = pl.concat(frames, how="vertical_relaxed").sort(ROW).drop(ROW)
    if like is not None:
        out = out.cast({c: like.schema[c] for c in like.columns if c in out.columns})
    return out


def score_batch(stage: Stage, ctx: StageContext):
    """A ``map_batches`` function: the stage's row-wise scores of one Arrow block (by a fresh
    copy of the stage: the driver's may have a step replaced by its distributed form)."""
    stage = type(stage)(stage.options)

    def fn(table):
        batch = pl.from_arrow(table)
        row = batch[ROW]
        scored = stage.score(batch.drop(ROW), ctx) if isinstance(stage, Filter) \
            else stage.score(batch.drop(ROW))
        return scored.with_columns(row).to_arrow()
    return fn


class ScoreActor:
    """An actor of a model stage's pool: builds the stage (and so loads its model) once and
    scores the blocks it is given."""

    def __init__(self, stage_cls: type[Stage], options: Any, ctx: StageContext,
                 device: str | None = None):
        if device is not None:
            options = options.model_copy(update={"device": device})
        self.stage = stage_cls(options)
        self.ctx = ctx

    def __call__(self, table):
        batch = pl.from_arrow(table)
        row = batch[ROW]
        report = getattr(self.stage, "worker_report", dict)
        before = report()
        scored = self.stage.score(batch.drop(ROW), self.ctx).with_columns(row)
        # what scoring this block taught the stage (its first row carries it to the driver)
        state = [json.dumps({"before": before, "after": report()})] + [None] * (batch.height - 1)
        return scored.with_columns(pl.Series(STATE, state, pl.String)).to_arrow()


class RayEngine:
    """Runs stages on Ray Data; see the module docs for what runs distributed.

    Args:
        address: the Ray cluster's address; None starts (or reuses) a local Ray.
        num_cpus: CPUs of a local Ray (default: all of this machine's); ignored with an
            address.
        shuffle: Ray Data's shuffle for the dedup stages: ``sort`` (a pull-based sort
            shuffle; on one machine about 10x faster than ``hash`` at 10k rows and 2x at
            300k) or ``hash`` (Ray Data's default, for large clusters).
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 shuffle: str = "sort"):
        self.address, self.num_cpus, self.shuffle = address, num_cpus, shuffle

    def _ray(self):
        try:
            import ray
        except ImportError:  # pragma: no cover - ray is a dependency of the engine
            raise CurateError("engine ray needs Ray Data: pip install 'curate[ray]'") from None
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, include_dashboard=False,
                         num_cpus=None if self.address else self.num_cpus,
                         ignore_reinit_error=True, log_to_driver=False)
            except Exception as exc:
                raise CurateError(f"ray: cannot connect to {self.address or 'a local Ray'}: "
                                  f"{exc}") from exc
        import logging

        import ray.data
        from ray.data.context import ShuffleStrategy

        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.shuffle_strategy = (ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
                                    if self.shuffle == "sort" else ShuffleStrategy.HASH_SHUFFLE)
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        return ray

    def manifest(self) -> dict[str, Any]:
        import ray

        return {"engine": self.name, "ray_version": ray.__version__,
                "ray_address": self.address or "local", "ray_shuffle": self.shuffle}

    def parallelism(self) -> int:
        return max(1, int(self._ray().cluster_resources().get("CPU", 1)))

    def gpus(self) -> int:
        return int(self._ray().cluster_resources().get("GPU", 0))

    def blocks(self, df: pl.DataFrame, batch_size: int = 50_000) -> int:
        return max(self.parallelism(), math.ceil(df.height / batch_size))

    # -- dispatch -----------------------------------------------------------------------------
    def apply(self, stage: Stage, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        from ..stages.dedup_exact import ExactDedup
        from ..stages.dedup_near import NearDedup
        from ..stages.dedup_semantic import SemanticDedup
        from ..stages.safety_bias import Bias
        from ..stages.safety_toxicity import Toxicity
        from ..stages.select_diverse import SelectDiverse

        self._ray()
        if df.height == 0:
            result, how = stage.apply(df, ctx), "local: empty input"
        elif isinstance(stage, ExactDedup):
            from .ray_dedup import exact

            result, how = exact(self, stage, df, ctx), "ray: hash partition of the key"
        elif isinstance(stage, NearDedup):
            from .ray_dedup import near_pairs

            result = self._with(stage, "find_pairs", lambda d, c: near_pairs(self, stage, d, c),
                                df, ctx)
            how = "ray: band hashes in map_batches, shuffle on band buckets"
        elif isinstance(stage, SemanticDedup):
            from .ray_semantic import semantic_pairs

            result = self._with(stage, "find_pairs",
                                lambda d, c: semantic_pairs(self, stage, d, c), df, ctx)
            how = "ray: embedding actor pool, " + (
                "blocked search tasks" if result.stats["search"] == "exact"
                else "shuffle by k-means cluster")
        elif isinstance(stage, Toxicity):
            result = self._with(stage, "_score_rows",
                                lambda d, c: self.model_scores(stage, d, c), df, ctx)
            how = "ray: actor pool"
        elif isinstance(stage, Filter):
            result = self._with(stage, "_score_rows",
                                lambda d, c: self.row_scores(stage, d, c), df, ctx)
            how = "ray: map_batches"
        elif isinstance(stage, Bias):
            result = self._with(stage, "score", lambda d: self.row_scores(stage, d, ctx), df, ctx)
            how = "ray: map_batches"
        elif isinstance(stage, SelectDiverse):
            from .ray_select import describe, select_apply

            result, how = select_apply(self, stage, df, ctx), describe(stage, df)
        else:
            why = FALLBACK.get(stage.id, "no distributed implementation")
            result, how = stage.apply(df, ctx), f"local fallback: {why}"
        result.stats = {**result.stats, "engine": how}
        return result

    @staticmethod
    def _with(stage: Stage, method: str, replacement, df: pl.DataFrame,
              ctx: StageContext) -> StageResult:
        """``stage.apply`` with one of its steps replaced by its distributed form, so that the
        stage's own decision, accounting and stats code runs on the result."""
        setattr(stage, method, replacement)
        try:
            return stage.apply(df, ctx)
        finally:
            delattr(stage, method)

    # -- the distributed steps ----------------------------------------------------------------
    def row_scores(self, stage: Stage, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """The stage's ``score()`` over all rows as ``map_batches`` (one call per block)."""
        if df.height == 0:  # every row's scores came from the cache
            return stage.score(df, ctx) if isinstance(stage, Filter) else stage.score(df)
        ds = to_dataset(df, self.blocks(df, getattr(stage, "batch_size", 50_000)))
        out = ds.map_batches(score_batch(stage, ctx), batch_format="pyarrow", batch_size=None)
        return to_polars(out, df)

    def model_scores(self, stage: Stage, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """The stage's ``score()`` in an actor pool: one model per actor, a GPU each where
        the cluster has GPUs, else one actor per CPU."""
        gpus = self.gpus()
        actors = gpus or self.parallelism()
        import ray.data

        if df.height == 0:  # every row's scores came from the cache
            return stage.score(df, ctx)
        # several blocks per actor, one at a time each: a first-started actor does not queue
        # the others' blocks
        ds = to_dataset(df, max(actors * 4, math.ceil(df.height / stage.batch_size)))
        out = ds.map_batches(
            ScoreActor, batch_format="pyarrow", batch_size=None,
            compute=ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=1),
            num_gpus=1 if gpus else 0,
            fn_constructor_kwargs={"stage_cls": type(stage), "options": stage.options,
                                   "ctx": ctx, "device": "cuda" if gpus else None})
        scored = to_polars(out, df)
        if hasattr(stage, "absorb_reports"):
            stage.absorb_reports([json.loads(s) for s in scored[STATE].drop_nulls()])
        scored = scored.drop(STATE)
        # the columns the driver's stage caches by row id (set by score() where it runs)
        stage.score_columns = tuple(c for c in scored.columns if c not in df.columns)
        return scored
