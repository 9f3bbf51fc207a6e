"""Semantic duplicate removal with sentence embeddings (stage ``dedup.semantic``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from pydantic import Field

from ..embed import DEFAULT_MODEL
from .base import Stage, StageContext, StageResult
from .dedup_exact import DUP_CLUSTER
from .dedup_near import DedupOptions, cluster_result, keep_column, keep_rank, kind_salt

REASON = "duplicate_semantic"


class SemanticDedupOptions(DedupOptions):
    """Options of ``dedup.semantic``."""

    threshold: float = Field(0.9, gt=0.0, lt=1.0)
    """Cosine similarity of the embeddings at which two records are duplicates."""
    model: str = DEFAULT_MODEL
    """sentence-transformers model name or path (all-MiniLM-L6-v2 loads from its package)."""
    clusters: int | None = Field(None, ge=1)
    """k-means clusters to search in; default: one per 2,000 records above ``exact_max``."""
    exact_max: int = Field(20_000, ge=0)
    """Up to this many records, every pair is compared (exact blocked search)."""
    batch_size: int = Field(64, ge=1)
    """Texts per embedding batch."""


class SemanticDedup(Stage):
    """Removes records whose meaning repeats another's (SemDeDup-style).

    Each record's ``on`` part (turns as ``role: content`` lines) is embedded with
    :mod:`curate.embed` (L2-normalised; cached by content under the run's cache folder, so
    diversity sampling in the same run reuses the vectors). Up to ``exact_max`` records every
    pair is compared in blocks; above it, records are grouped by k-means and compared within
    their nearest and second-nearest cluster. Pairs with cosine >= ``threshold`` (and of the
    same record kind) are joined into clusters; one record per cluster survives by ``keep``
    and the others are removed with ``drop_reason = "duplicate_semantic"``. It catches
    reordered and reworded copies that n-gram methods miss.

    Input columns:
        - id (str), kind (str): the record id and kind.
        - messages / prompt, chosen, rejected (list[{role, content}]): the compared turns.
        - <keep> (number): when ``keep`` names a column.

    Output columns:
        - dup_cluster (str | null): the survivor's id, on every record of a cluster of two or
          more (kept and rejected); an earlier non-null ``dup_cluster`` is left as it is.
        - drop_reason (str), kept_id (str): on rejected records only.

    Stats:
        ``on``, ``search`` (``exact`` or ``kmeans``), ``clusters`` (k-means clusters),
        ``pairs``, ``dup_clusters``, ``duplicates``, ``cluster_sizes``, ``precision``.

    Examples:
        ```python
        from curate.stages.dedup_semantic import dedup_semantic

        result = dedup_semantic(df, threshold=0.9, on="response")
        ```

        In a recipe:

        ```yaml
        stages:
          - use: dedup.semantic
            with: {threshold: 0.9, on: conversation}
        ```
    """

    id = "dedup.semantic"
    Options = SemanticDedupOptions
    summary = "Drop records with the same meaning (embeddings, k-means blocks, cosine)."
    reason = REASON
    writes = (DUP_CLUSTER,)
    report_section = "dedup"
    command, cli_name, cli_prefix, cli_order = "dedup", "semantic", "", 30

    options: SemanticDedupOptions

    def columns_read(self) -> tuple[str, ...]:
        return keep_column(self.options.keep)

    def resolved(self) -> dict[str, Any]:
        from ..embed import precision

        return {"precision": precision()}

    def run(self, df: pl.DataFrame, ctx: StageContext, engine) -> StageResult:
        """Embeddings by ``engine.encoder`` (the texts the run's cache lacks), the search by
        ``engine.cosine_pairs`` (up to ``exact_max`` rows) or
        ``engine.clustered_cosine_pairs``; clusters and the keep rule on the driver."""
        from ..dedup.cosine import use_exact
        from ..embed import embed_texts, frame_texts

        o = self.options
        keep_rank(df, o.keep, None)  # a bad keep column fails before the work
        texts = frame_texts(df, o.on)
        lengths = pl.Series(texts, dtype=pl.String).str.strip_chars().str.len_chars()
        rows = np.flatnonzero(lengths.to_numpy() > 0)  # nothing to compare: never a duplicate
        emb = embed_texts([texts[i] for i in rows], model=o.model, batch_size=o.batch_size,
                          cache_dir=ctx.cache_dir, desc=f"{ctx.name} embed",
                          encode=engine.encoder(model=o.model, batch_size=o.batch_size,
                                               desc=f"{ctx.name} embed"))
        n = rows.shape[0]
        k = o.clusters or max(2, n // 2000)
        if n <= o.exact_max or use_exact(n, k):
            search, k = "exact", 0
            pairs = engine.cosine_pairs(emb, o.threshold)
        else:
            search = "kmeans"
            pairs = engine.clustered_cosine_pairs(emb, o.threshold, k, seed=ctx.seed)
        pairs = rows[pairs] if pairs.size else np.zeros((0, 2), np.int64)
        salt = kind_salt(df)
        pairs = pairs[salt[pairs[:, 0]] == salt[pairs[:, 1]]]
        stats = {"on": o.on, "search": search, "clusters": k,
                 "precision": self.resolved()["precision"]}
        return cluster_result(self, df, pairs, lengths, stats)


def dedup_semantic(df: pl.DataFrame, **options) -> StageResult:
    """Library form of ``dedup.semantic``; ``options`` as :class:`SemanticDedupOptions`."""
    return SemanticDedup(SemanticDedupOptions(**options)).apply(
        df, StageContext(name=SemanticDedup.id))
