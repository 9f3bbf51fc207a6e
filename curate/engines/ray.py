"""The Ray engine: a run's pieces of work on Ray tasks and actors, on a local Ray or a cluster.

It implements :class:`curate.engines.protocol.Engine`. A stage hands it pieces of work (each
a picklable description: a :class:`~curate.io.parts.Piece` of the input, a file to convert,
a block of keys) and gets back small results (counts, keys, picks); the workers read their
input from the run folder and write their outputs there, so no row passes through the driver:

- :meth:`RayEngine.map`: one Ray task per item;
- :meth:`RayEngine.map_rows` (row stages: ``quality.rules``, ``pii``, ...): one task per
  piece, each with a fresh copy of the stage made from its options;
- :meth:`RayEngine.map_model` (model stages: ``safety.toxicity``, ``lang.id``, the LLM
  stages): an actor pool, one copy of the stage (and so of its model) per actor, a GPU per
  actor where the cluster has GPUs; the copies' ``worker_report`` reach the driver's stage
  (``absorb_reports``) and each copy is closed at the end;
- the services of the global stages: embeddings on an actor pool
  (:mod:`curate.engines.ray_embed`), cosine search (:mod:`curate.engines.ray_cosine`) and
  k-center (:mod:`curate.engines.ray_kcenter`).

Tasks and actors are spread over the cluster's nodes, a bounded number in flight; results
come back in item order, whatever order they finish in, so the parts written (piece ``i``
gives part ``i``) and the records are the local engine's, bit for bit. A stage's
``stats.engine`` says what ran where (``ray: tasks (3 nodes)``). A stage class or function
defined outside the package (a plugin, a test) is shipped to the workers by value.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import numpy as np
import polars as pl

from ..errors import CurateError
from ..interrupts import kept
from ..io.parts import Parts
from ..stages.base import Shape, Stage, StageContext, StageData, StageOutput, StageResult
from .local import LocalEngine, apply_frame, check_shape
from .ray_cosine import clustered_pairs, exact_pairs
from .ray_embed import embed_pieces, ray_encoder
from .ray_kcenter import KCenterPool
from .ray_pool import SPREAD, ModelWorker, call, get, run_calls, ship_by_value, with_copy

T = TypeVar("T")
R = TypeVar("R")
TASKS_PER_CPU = 2  # tasks in flight per CPU of the cluster: the next is queued as one ends


class RayEngine:
    """Runs stages on Ray; see the module docs.

    Args:
        address: the Ray cluster's address; None starts (or reuses) a local Ray.
        num_cpus: CPUs of a local Ray (default: all of this machine's); ignored with an
            address.
        shuffle: accepted for recipes that set it; the keyed stages no longer use Ray
            Data's shuffle, so it changes nothing.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 shuffle: str = "sort"):
        self.address, self.num_cpus, self.shuffle = address, num_cpus, shuffle
        self._used: list[str] = []
        self._nodes: set[str] = set()
        self._kcenter_pool = None

    def _ray(self):
        try:
            import ray  # optional
        except ImportError:  # pragma: no cover - ray is a dependency of the engine
            raise CurateError("engine ray needs Ray: pip install 'curate[ray]'") from None
        if not ray.is_initialized():
            try:
                with kept():  # SIGTERM stays an interrupt (ray.init sets its own handler)
                    ray.init(address=self.address, include_dashboard=False,
                             num_cpus=None if self.address else self.num_cpus,
                             ignore_reinit_error=True, log_to_driver=False)
            except Exception as exc:
                raise CurateError(f"ray: cannot connect to {self.address or 'a local Ray'}: "
                                  f"{exc}") from exc
        if "ray.data" in sys.modules:  # a service that uses Ray Data: quiet
            _quiet_ray_data()
        return ray

    def manifest(self) -> dict[str, Any]:
        import ray  # optional

        return {"engine": self.name, "ray_version": ray.__version__,
                "ray_address": self.address or "local"}

    def parallelism(self) -> int:
        return max(1, int(self._ray().cluster_resources().get("CPU", 1)))

    def gpus(self) -> int:
        return int(self._ray().cluster_resources().get("GPU", 0))

    # -- running a stage ------------------------------------------------------------------
    def run_stage(self, stage: Stage, data: StageData, ctx: StageContext) -> StageOutput:
        """``stage.run(data, ctx, self)``; ``stats.engine`` says what ran where."""
        check_shape(stage)
        self._ray()
        data, ctx = _absolute(data, ctx)
        if data.source.height == 0:
            output, how = stage.run(data, ctx, LocalEngine()), "local: empty input"
        else:
            ship_by_value(stage)
            self._used, self._nodes = [], set()
            try:
                output = stage.run(data, ctx, self)
            finally:
                self._close()
            how = self._where()
            if self._used and stage.shape is Shape.GLOBAL:
                how += "; the rest on the driver"
        output.stats = {**output.stats, "engine": how}
        return output

    def apply(self, stage: Stage, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        """The frame API: ``df`` written to a temporary folder, the stage run on it here, its
        outputs read back."""
        return apply_frame(self, stage, df, ctx)

    def _where(self) -> str:
        if not self._used:
            return "ray: on the driver (no distributed part)"
        how = "ray: " + ", ".join(dict.fromkeys(self._used))
        if self._nodes:
            n = len(self._nodes)
            how += f" ({n} node{'s' if n > 1 else ''})"
        return how

    def _close(self) -> None:
        if self._kcenter_pool is not None:
            self._kcenter_pool.close()
            self._kcenter_pool = None

    # -- the primitives -------------------------------------------------------------------
    def map(self, fn: Callable[[T], R], items: Sequence[T], *, desc: str,
            sizes: Sequence[int] | None = None, threads: int = 1,
            processes: int = 1) -> list[R]:
        """``fn`` of every item as a Ray task (one CPU each, spread over the nodes, at most
        two per CPU in flight), results in item order; ``threads`` and ``processes`` are the
        local engine's and change nothing here (the cluster's CPUs decide)."""
        items = list(items)
        if not items:
            return []
        ray = self._ray()
        ship_by_value(fn)
        self._used.append("tasks")
        task = ray.remote(call).options(scheduling_strategy=SPREAD)
        fn_ref = ray.put(fn)  # shipped once, not with every item
        results, nodes = run_calls(ray, lambda i: task.remote(fn_ref, items[i]), len(items),
                                   limit=TASKS_PER_CPU * self.parallelism(),
                                   sizes=_sizes(sizes, items), desc=desc)
        self._nodes |= nodes
        return results

    def map_rows(self, stage: Stage, fn: Callable[[Any, T], R], items: Sequence[T], *,
                 desc: str, sizes: Sequence[int] | None = None) -> list[R]:
        """``fn(copy, item)`` as a Ray task per item, ``copy`` a fresh copy of the stage made
        from its options in the task."""
        ship_by_value(stage)
        task = partial(with_copy, fn=fn, cls=type(stage), options=stage.options)
        return self.map(task, items, desc=desc, sizes=sizes)

    def map_model(self, stage: Stage, fn: Callable[[Any, T], R], items: Sequence[T], *,
                  desc: str, sizes: Sequence[int] | None = None) -> list[R]:
        """``fn(copy, item)`` on an actor pool: one copy of the stage per actor (a GPU each
        where the cluster has GPUs, else one actor per CPU), each given one item at a time.
        What the copies learned (their ``worker_report`` before and after each item) goes to
        ``stage.absorb_reports``; each copy is closed at the end."""
        items = list(items)
        if not items:
            return []
        ray = self._ray()
        ship_by_value(stage, fn)
        self._used.append("actor pool")
        gpus = self.gpus()
        size = min(gpus or self.parallelism(), len(items))
        worker = ray.remote(ModelWorker).options(num_cpus=1, num_gpus=1 if gpus else 0,
                                                 scheduling_strategy=SPREAD)
        actors = [worker.remote(type(stage), stage.options, "cuda" if gpus else None)
                  for _ in range(size)]
        free, busy = list(actors), {}
        fn_ref = ray.put(fn)

        def submit(i: int):
            actor = free.pop()
            ref = actor.run.remote(fn_ref, items[i])
            busy[ref] = actor
            return ref

        try:
            out, nodes = run_calls(ray, submit, len(items), limit=size,
                                   sizes=_sizes(sizes, items), desc=desc,
                                   done=lambda ref: free.append(busy.pop(ref)))
            for ref in [actor.close.remote() for actor in actors]:
                get(ray, ref)
        finally:
            for actor in actors:
                ray.kill(actor)
        self._nodes |= nodes
        absorb = getattr(stage, "absorb_reports", None)
        if absorb is not None:
            absorb([report for _, report in out])
        return [result for result, _ in out]

    # -- services of the global stages ----------------------------------------------------
    def encoder(self, *, model: str, batch_size: int = 64,
                desc: str = "embed") -> Callable[[list[str]], np.ndarray]:
        """Texts embedded on the embedding actor pool (only those the caller's cache lacks
        reach it)."""
        encode = ray_encoder(self, model=model, batch_size=batch_size)

        def counted(texts: list[str]) -> np.ndarray:
            if texts:
                self._used.append("embedding actor pool")
            return encode(texts)
        return counted

    def embed_pieces(self, fn, items, *, model: str, batch_size: int = 64,
                     desc: str = "embed", sizes=None) -> list:
        """``fn(encode, item)`` of every item on the embedding actor pool."""
        if items:
            self._used.append("embedding actor pool")
        return embed_pieces(self, fn, items, model=model, batch_size=batch_size, desc=desc,
                            sizes=sizes)

    def cosine_pairs(self, emb, threshold: float) -> np.ndarray:
        self._used.append("blocked search tasks")
        return exact_pairs(self, emb, threshold)

    def clustered_cosine_pairs(self, emb, threshold: float, clusters: int, *,
                               seed: int = 0) -> np.ndarray:
        self._used.append("search tasks by k-means cluster")
        return clustered_pairs(self, emb, threshold, clusters, seed=seed)

    def kcenter(self, X, k: int, **options):
        self._used.append("k-center shards on actors")
        if self._kcenter_pool is None:
            self._kcenter_pool = KCenterPool(self)
        return self._kcenter_pool.kcenter(X, k, **options)


def _absolute(data: StageData, ctx: StageContext) -> tuple[StageData, StageContext]:
    """The stage's paths made absolute: a worker node need not share the driver's working
    directory (only the storage)."""
    def whole(path: Path | None) -> Path | None:
        return None if path is None else Path(path).absolute()

    data = replace(data, source=Parts(whole(data.source.path)), kept=whole(data.kept),
                   rejected=whole(data.rejected), scratch=whole(data.scratch))
    return data, replace(ctx, out_dir=whole(ctx.out_dir), cache_dir=whole(ctx.cache_dir))


def _sizes(sizes: Sequence[int] | None, items: Sequence[Any]) -> list[int]:
    return list(sizes) if sizes is not None else [1] * len(items)


def _quiet_ray_data() -> None:
    """No Ray Data progress bars or info logs (curate shows its own progress)."""
    import ray.data  # optional

    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
