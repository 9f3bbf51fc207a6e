"""The local engine: every stage in this process; the reference the Ray engine is compared with.

It implements the primitives a stage's shape calls (see :mod:`curate.stages.base`) and the
services of the global stages, with the library's own functions.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np
import polars as pl

from ..progress import bar
from ..records import conform
from ..stages.base import Shape, Stage, StageContext, StageResult

SIGN_THREADS = min(4, os.cpu_count() or 1)  # batches signed at once by keyed stages


class LocalEngine:
    """Runs stages in process. Engines share this interface: ``apply`` and, for the stages,
    one primitive per shape (``map_rows``, ``map_model``, ``group_by_key``) and the services
    (``encoder``, ``cosine_pairs``, ``clustered_cosine_pairs``, ``kcenter``)."""

    name = "local"

    def apply(self, stage: Stage, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        check_shape(stage)
        return stage.run(conform(df), ctx, self)

    def manifest(self) -> dict[str, Any]:
        """What the run's manifest records about the engine."""
        return {"engine": self.name}

    # -- the shapes' primitives -----------------------------------------------------------
    def map_rows(self, stage, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """``stage.score`` over ``df`` in batches of ``stage.batch_size``, with progress."""
        if df.height == 0:
            return stage.score(df, ctx)
        parts = []
        with bar(total=df.height, desc=ctx.name) as progress:
            for start in range(0, df.height, stage.batch_size):
                batch = df.slice(start, stage.batch_size)
                parts.append(stage.score(batch, ctx))
                progress.update(batch.height)
        return pl.concat(parts, how="vertical_relaxed")

    def map_model(self, stage, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """A model scorer's ``score``: here the stage itself holds the one model."""
        return self.map_rows(stage, df, ctx)

    def group_by_key(self, stage, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """A keyed stage's ``sign`` over batches (a few at once: polars, numpy and the
        MinHash code release the GIL), then ``group`` on all keyed rows as one part."""
        from ..stages.keyed import positions

        framed = positions(df)
        size = stage.sign_batch_size

        def sign(start: int) -> pl.DataFrame:
            return stage.sign(framed.slice(start, size), ctx)

        pool = ThreadPoolExecutor(SIGN_THREADS)
        try:
            with bar(total=df.height, desc=ctx.name) as progress:
                parts = []
                for start, part in zip(range(0, max(df.height, 1), size),
                                       pool.map(sign, range(0, max(df.height, 1), size))):
                    parts.append(part)
                    progress.update(min(size, df.height - start))
        except BaseException:  # Ctrl-C or an error: the batches not started are not signed
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        keyed = pl.concat(parts, how="vertical_relaxed")
        return stage.group(keyed)

    # -- services of the global stages ----------------------------------------------------
    def encoder(self, *, model: str, batch_size: int = 64,
                desc: str = "embed") -> Callable[[list[str]], np.ndarray]:
        """A function that embeds texts with the sentence-transformers ``model``."""
        from ..embed import encode_texts

        def encode(texts: list[str]) -> np.ndarray:
            return encode_texts(texts, model=model, batch_size=batch_size, desc=desc)
        return encode

    def cosine_pairs(self, emb: np.ndarray, threshold: float) -> np.ndarray:
        from ..dedup.cosine import cosine_pairs

        return cosine_pairs(emb, threshold)

    def clustered_cosine_pairs(self, emb: np.ndarray, threshold: float, clusters: int, *,
                               seed: int = 0) -> np.ndarray:
        from ..dedup.cosine import clustered_cosine_pairs

        return clustered_cosine_pairs(emb, threshold, clusters, seed=seed)

    def kcenter(self, X: np.ndarray, k: int, **options):
        from ..select.kcenter import kcenter_greedy

        return kcenter_greedy(X, k, **options)


def check_shape(stage: Stage) -> None:
    """A stage must declare one of the shapes engines know."""
    if not isinstance(stage.shape, Shape):
        raise TypeError(f"{type(stage).__name__}.shape is {stage.shape!r}, expected a "
                        f"curate.stages.base.Shape")
