"""What an engine is: the interface both engines implement and every stage is written against.

An engine runs a stage (:meth:`Engine.run_stage`) on data in storage (a
:class:`~curate.stages.base.StageData`). Stages hand it *pieces of work* and get back small
results; where the work runs (this process, Ray tasks or actors on a cluster) is the engine's
business, and the outputs are the same:

- :meth:`Engine.map_rows`: ``fn(stage, piece)`` for each piece, with a copy of the stage
  (row stages: any worker);
- :meth:`Engine.map_model`: the same with one copy of the stage, and so of its model, per
  worker (Ray: an actor pool, a GPU per actor where there are GPUs); the copies' reports
  (:meth:`~curate.stages.base.ModelScorer.worker_report`) reach the driver's stage;
- :meth:`Engine.map`: ``fn(item)`` for each item (signing keys, applying marks, searching
  blocks of embeddings);
- the services of the global stages: embeddings, cosine search, k-center.

Results come back in the order of the items. Functions and items must pickle: a worker may be
another process on another node, reading and writing the run folder on shared storage.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence, TypeVar, runtime_checkable

import numpy as np
import polars as pl

T = TypeVar("T")
R = TypeVar("R")


@runtime_checkable
class Engine(Protocol):
    name: str

    def manifest(self) -> dict[str, Any]:
        """What the run's manifest records about the engine."""

    def run_stage(self, stage, data, ctx):
        """``stage.run(data, ctx, self)``, with what the engine adds (its stats)."""

    def apply(self, stage, df: pl.DataFrame, ctx):
        """The frame API: ``stage`` on ``df``, its outputs read back as frames."""

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, desc: str,
            sizes: Sequence[int] | None = None, threads: int = 1,
            processes: int = 1) -> list[R]:
        """``fn`` of every item, in item order; ``sizes`` (rows per item) for progress;
        ``threads``: how many an in-process engine runs at once (for work that releases the
        GIL); ``processes``: how many worker processes it may start for Python-bound work
        (see :func:`curate.in_process.processes_for`); an engine with workers of its own may
        ignore both."""

    def map_rows(self, stage, fn: Callable[[Any, T], R], items: Sequence[T], *, desc: str,
                 sizes: Sequence[int] | None = None) -> list[R]:
        """``fn(stage, item)`` of every item, with a copy of the stage."""

    def map_model(self, stage, fn: Callable[[Any, T], R], items: Sequence[T], *, desc: str,
                  sizes: Sequence[int] | None = None) -> list[R]:
        """``fn(stage, item)`` with one copy of the stage (its model) per worker."""

    def encoder(self, *, model: str, batch_size: int = 64,
                desc: str = "embed") -> Callable[[list[str]], np.ndarray]:
        """A function that embeds a short list of texts with the sentence-transformers
        ``model`` (benchmark prompts)."""

    def embed_pieces(self, fn: Callable[[Callable[[list[str]], np.ndarray], T], R],
                     items: Sequence[T], *, model: str, batch_size: int = 64,
                     desc: str = "embed", sizes: Sequence[int] | None = None) -> list[R]:
        """``fn(encode, item)`` of every item, ``encode`` a worker's copy of ``model`` (one
        per worker: how a dataset is embedded, see :mod:`curate.embed_store`)."""

    # The embeddings below are a curate.vectors.Vectors file (or a RowView of one) that the
    # workers read; the results are small: pairs (k, 2), k-center picks.
    def cosine_pairs(self, emb, threshold: float) -> np.ndarray: ...

    def clustered_cosine_pairs(self, emb, threshold: float, clusters: int, *,
                               seed: int = 0) -> np.ndarray: ...

    def kcenter(self, X, k: int, **options): ...
