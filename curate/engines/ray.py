"""The Ray engine: the recipe's stages on Ray Data, on a local Ray or a cluster.

It implements the primitive of each stage shape (see :mod:`curate.stages.base`) and the
services of the global stages; the stages' own functions do all the work:

- ``row`` (``quality.rules``, ``safety.bias``, ...): the stage's ``score`` as ``map_batches``
  over Arrow blocks; its decision and stats then run on the driver on the scored frame;
- ``model`` (``safety.toxicity``, ...): ``score`` in an actor pool, one copy of the stage (and
  so of its model) per actor, one GPU per actor where Ray reports GPUs;
- ``keyed`` (``dedup.exact``, ``dedup.near``): ``sign`` in ``map_batches``, a shuffle of the
  keyed rows by a hash of the key (``groupby(partition).map_groups``), ``group`` per partition;
  the outputs go to the driver, where ``finish`` runs;
- ``global`` (``dedup.semantic``, ``select.diverse``): ``run`` on the driver, with the
  services: ``encoder`` (an embedding actor pool, :mod:`curate.engines.ray_embed`),
  ``cosine_pairs`` / ``clustered_cosine_pairs`` (:mod:`curate.engines.ray_cosine`) and
  ``kcenter`` (row shards on actors, :mod:`curate.engines.ray_kcenter`).

A stage's ``stats.engine`` says what ran where (``ray: map_batches``, ...). Rows carry their
input position (``__row``) through Ray, so every result is in input order and equal to the
local engine's. A stage class defined outside the package (a plugin, a test) is shipped to the
workers by value.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Callable

import numpy as np
import polars as pl

from ..errors import CurateError
from ..records import conform
from ..stages.base import ROW, Shape, Stage, StageContext, StageResult
from ..stages.keyed import positions
from .local import LocalEngine, check_shape

STATE = "__worker_state"
PART = "__part"


def to_dataset(df: pl.DataFrame, blocks: int):
    """``df`` with its row positions (``__row``) as a Ray dataset of ``blocks`` Arrow blocks."""
    import ray.data

    framed = positions(df)
    size = max(1, math.ceil(df.height / max(1, blocks)))
    tables = [framed.slice(s, size).to_arrow() for s in range(0, max(df.height, 1), size)]
    return ray.data.from_arrow(tables)


def to_polars(ds, like: pl.DataFrame | None = None, *, order: bool = True) -> pl.DataFrame:
    """A Ray dataset back as one polars frame (in input order, ``__row`` dropped, unless not
    ``order``); the columns of ``like`` get their original types back."""
    import ray

    tables = [t for t in ray.get(ds.to_arrow_refs())]
    frames = [pl.from_arrow(t) for t in tables if t.num_rows] or [pl.from_arrow(tables[0])]
    out = pl.concat(frames, how="vertical_relaxed")
    if order:
        out = out.sort(ROW).drop(ROW)
    if like is not None:
        out = out.cast({c: like.schema[c] for c in like.columns if c in out.columns})
    return out


def score_batch(stage: Stage, ctx: StageContext):
    """A ``map_batches`` function: the stage's ``score`` of one Arrow block (by a fresh copy of
    the stage: the driver's may hold state not worth shipping)."""
    stage = type(stage)(stage.options)

    def fn(table):
        batch = pl.from_arrow(table)
        row = batch[ROW]
        return stage.score(batch.drop(ROW), ctx).with_columns(row).to_arrow()
    return fn


class ScoreActor:
    """An actor of a model stage's pool: a copy of the stage (and so its model) for its
    ``device``, scoring the blocks it is given."""

    def __init__(self, stage_cls: type[Stage], options: Any, ctx: StageContext,
                 device: str | None = None):
        self.stage = stage_cls(options).on_device(device)
        self.ctx = ctx

    def __call__(self, table):
        batch = pl.from_arrow(table)
        row = batch[ROW]
        before = self.stage.worker_report()
        scored = self.stage.score(batch.drop(ROW), self.ctx).with_columns(row)
        # what scoring this block taught the stage (its first row carries it to the driver)
        report = json.dumps({"before": before, "after": self.stage.worker_report()})
        state = [report] + [None] * (batch.height - 1)
        return scored.with_columns(pl.Series(STATE, state, pl.String)).to_arrow()


def _ship_by_value(stage: Stage) -> None:
    """Let Ray's workers unpickle a stage class defined outside the package."""
    module = type(stage).__module__
    if module.split(".")[0] != "curate" and module in sys.modules:
        from ray import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[module])


class RayEngine:
    """Runs stages on Ray Data; see the module docs.

    Args:
        address: the Ray cluster's address; None starts (or reuses) a local Ray.
        num_cpus: CPUs of a local Ray (default: all of this machine's); ignored with an
            address.
        shuffle: Ray Data's shuffle for the keyed stages: ``sort`` (a pull-based sort
            shuffle; on one machine about 10x faster than ``hash`` at 10k rows and 2x at
            300k) or ``hash`` (Ray Data's default, for large clusters).
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 shuffle: str = "sort"):
        self.address, self.num_cpus, self.shuffle = address, num_cpus, shuffle
        self._used: list[str] = []
        self._kcenter_pool = None

    def _ray(self):
        try:
            import ray
        except ImportError:  # pragma: no cover - ray is a dependency of the engine
            raise CurateError("engine ray needs Ray Data: pip install 'curate[ray]'") from None
        if not ray.is_initialized():
            from ..interrupts import kept

            try:
                with kept():  # SIGTERM stays an interrupt (ray.init sets its own handler)
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

    # -- running a stage ------------------------------------------------------------------
    def apply(self, stage: Stage, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        check_shape(stage)
        df = conform(df)  # messages written before the tool fields get them, as locally
        self._ray()
        if df.height == 0:
            result, how = stage.run(df, ctx, LocalEngine()), "local: empty input"
        else:
            _ship_by_value(stage)
            self._used = []
            try:
                result = stage.run(df, ctx, self)
            finally:
                self._close()
            how = ("ray: " + ", ".join(dict.fromkeys(self._used)) if self._used
                   else "ray: on the driver (no distributed part)")
            if self._used and stage.shape is Shape.GLOBAL:
                how += "; the rest on the driver"
        result.stats = {**result.stats, "engine": how}
        return result

    def _close(self) -> None:
        if self._kcenter_pool is not None:
            self._kcenter_pool.close()
            self._kcenter_pool = None

    # -- the shapes' primitives -----------------------------------------------------------
    def map_rows(self, stage, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """``stage.score`` over all rows as ``map_batches`` (one call per block)."""
        if df.height == 0:  # every row's scores came from the cache
            return stage.score(df, ctx)
        self._used.append("map_batches")
        ds = to_dataset(df, self.blocks(df, stage.batch_size))
        out = ds.map_batches(score_batch(stage, ctx), batch_format="pyarrow", batch_size=None)
        return to_polars(out, df)

    def map_model(self, stage, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """``stage.score`` in an actor pool: one copy of the stage per actor, a GPU each where
        the cluster has GPUs, else one actor per CPU."""
        if df.height == 0:  # every row's scores came from the cache
            return stage.score(df, ctx)
        import ray.data

        self._used.append("actor pool")
        gpus = self.gpus()
        actors = gpus or self.parallelism()
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
        stage.absorb_reports([json.loads(s) for s in scored[STATE].drop_nulls()])
        scored = scored.drop(STATE)
        # the columns the driver's stage caches (set by score() where it runs)
        stage.score_columns = tuple(c for c in scored.columns if c not in df.columns)
        return scored

    def group_by_key(self, stage, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """``stage.sign`` in ``map_batches``, a shuffle of the keyed rows by the key's hash,
        ``stage.group`` per partition; the group outputs to the driver."""
        import ray

        self._used.append("sign in map_batches, shuffle on the key hash")
        parts = self.parallelism() * 2
        key = list(stage.key)

        def sign(table):
            keyed = stage.sign(pl.from_arrow(table), ctx)
            part = (pl.struct(key).hash(seed=0) % parts).cast(pl.Int64).alias(PART)
            return keyed.with_columns(part).to_arrow()

        def group(table):
            return stage.group(pl.from_arrow(table).drop(PART).sort(ROW)).to_arrow()

        signed = to_dataset(df, self.blocks(df, stage.sign_batch_size)).map_batches(
            sign, batch_format="pyarrow", batch_size=None)
        grouped = [pl.from_arrow(t) for t in ray.get(signed.groupby(PART).map_groups(
            group, batch_format="pyarrow").to_arrow_refs())]
        if not grouped:  # no keyed rows at all: the groups' output of nothing
            grouped = [stage.group(stage.sign(positions(df.clear()), ctx))]
        return pl.concat([g for g in grouped if g.height] or grouped[:1], how="vertical_relaxed")

    # -- services of the global stages ----------------------------------------------------
    def encoder(self, *, model: str, batch_size: int = 64,
                desc: str = "embed") -> Callable[[list[str]], np.ndarray]:
        """Texts embedded on the embedding actor pool (only those the caller's cache lacks
        reach it)."""
        from .ray_embed import ray_encoder

        encode = ray_encoder(self, model=model, batch_size=batch_size)

        def counted(texts: list[str]) -> np.ndarray:
            if texts:
                self._used.append("embedding actor pool")
            return encode(texts)
        return counted

    def embed_pieces(self, fn, items, *, model: str, batch_size: int = 64,
                     desc: str = "embed", sizes=None) -> list:
        """``fn(encode, item)`` of every item on the embedding actor pool."""
        from .ray_embed import embed_pieces

        if items:
            self._used.append("embedding actor pool")
        return embed_pieces(self, fn, items, model=model, batch_size=batch_size, desc=desc,
                            sizes=sizes)

    def cosine_pairs(self, emb, threshold: float) -> np.ndarray:
        from .ray_cosine import exact_pairs

        self._used.append("blocked search tasks")
        return exact_pairs(self, emb, threshold)

    def clustered_cosine_pairs(self, emb, threshold: float, clusters: int, *,
                               seed: int = 0) -> np.ndarray:
        from .ray_cosine import clustered_pairs

        self._used.append("search tasks by k-means cluster")
        return clustered_pairs(self, emb, threshold, clusters, seed=seed)

    def kcenter(self, X, k: int, **options):
        from .ray_kcenter import KCenterPool

        self._used.append("k-center shards on actors")
        if self._kcenter_pool is None:
            self._kcenter_pool = KCenterPool(self)
        return self._kcenter_pool.kcenter(X, k, **options)
