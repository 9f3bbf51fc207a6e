"""Semantic duplicate removal with sentence embeddings (stage ``dedup.semantic``)."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

import numpy as np
import polars as pl
from pydantic import Field

from ..columns import DUP_CLUSTER
from ..embed import DEFAULT_MODEL, TEXT_FORM, precision
from ..io.parts import PART_ROWS, ROW
from .base import Stage, StageContext, StageData, StageOutput, StageResult
from .clusters import LENGTH, check_keep, cluster_output
from .dedup_against import Against, reference_digests, references
from .dedup_keep import keep_columns, then_of
from .dedup_semantic_ref import SALT, build_reference, facts as _facts, reference_matches, texts
from .options import DedupOptions

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
    """Removes records whose meaning repeats another's (SemDeDup-style: sentence embeddings,
    pairs above a cosine ``threshold``).

    It catches reordered and reworded copies that n-gram methods miss. How pairs are searched
    (exact blocks or k-means), ``keep`` and ``against``: README, "Dedup".

    Input columns:
        - id, kind (str); messages, or prompt, chosen, rejected (list[{role, content}]).
        - <keep> (number): when ``keep`` names a column.

    Output columns:
        - dup_cluster (str | null): the survivor's id on every record of a cluster of two or
          more; an earlier non-null value is left as it is.
        - drop_reason (``duplicate_semantic``), kept_id (str): on rejected records;
          duplicate_of (str): with ``against``.

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
    piece_rows: ClassVar[int] = PART_ROWS  # rows embedded per piece of work

    options: SemanticDedupOptions

    def columns_read(self) -> tuple[str, ...]:
        return keep_columns(self.options.keep)

    def index_params(self) -> dict:
        """What a reference's index depends on (see :mod:`curate.dedup.reference`)."""
        o = self.options
        return {"on": o.on, "model": o.model, "precision": precision(),
                "clusters": o.clusters, "exact_max": o.exact_max}

    def build_index(self, tmp, source, ctx: StageContext, engine) -> dict:
        """A reference's embeddings (:func:`curate.embed_store.embed_source`, into the
        index), its ids and kind hashes, and above ``exact_max`` rows its k-means centroids
        and each row's two nearest (fitted with seed 0: the index is shared by runs)."""
        return build_reference(self, tmp, source, ctx, engine)

    def resolved(self) -> dict[str, Any]:
        return {"precision": precision(), "text_form": TEXT_FORM, **reference_digests(self)}

    def run(self, data: StageData, ctx: StageContext, engine) -> StageOutput:
        """Embeddings into a vector file (:func:`curate.embed_store.embed_source`: the texts
        the run's cache lacks, by ``engine.embed_pieces``), the search by
        ``engine.cosine_pairs`` (up to ``exact_max`` rows) or
        ``engine.clustered_cosine_pairs`` on that file; the clusters decided on the rows in
        pairs and applied piece by piece (:func:`curate.stages.clusters.cluster_output`)."""
        from ..dedup.cosine import use_exact  # startup
        from ..embed_store import embed_source, read_columns, vectors_path  # startup

        o = self.options
        check_keep(o.keep, data.source.schema)  # a bad keep column fails before the work
        indexes = references(self, ctx, engine)  # a bad reference fails before the work too
        columns = read_columns(data.source.schema, *_facts(o.on))
        embedded = embed_source(engine, data.source, partial(texts, on=o.on),
                                vectors_path(ctx, data), columns=columns, model=o.model,
                                batch_size=o.batch_size, cache_dir=ctx.cache_dir,
                                work=data.scratch / "embed", desc=f"{ctx.name} embed",
                                rows=self.piece_rows)
        n = embedded.texts
        k = o.clusters or max(2, n // 2000)
        against = Against(indexes) if indexes else None
        try:
            if n <= o.exact_max or use_exact(n, k):
                search, k = "exact", 0
                pairs = engine.cosine_pairs(embedded.vectors, o.threshold)
            else:
                search = "kmeans"
                pairs = engine.clustered_cosine_pairs(embedded.vectors, o.threshold, k,
                                                      seed=ctx.seed)
            if against is not None:
                against.candidates = reference_matches(self, embedded, against, ctx, engine)
        finally:
            embedded.vectors.remove()
        rows = np.unique(pairs) if pairs.size else np.zeros(0, np.int64)
        facts = (embedded.facts.scan().select(ROW, LENGTH, SALT)
                 .filter(pl.col(ROW).is_in(pl.Series(rows).implode())).sort(ROW).collect())
        if pairs.size:  # SFT records and pairs are never duplicates of each other
            salt = facts[SALT].to_numpy()
            at = np.searchsorted(rows, pairs)
            pairs = pairs[salt[at[:, 0]] == salt[at[:, 1]]]
        stats = {"on": o.on, "search": search, "clusters": k,
                 "precision": precision(), "embedded": embedded.embedded}
        marks = None
        if against is not None:
            marks = against.marks(engine, against.candidates, ctx.name)
            stats["against"] = against.stats(marks)
        return cluster_output(self, data, pairs, ctx, engine,
                              lengths=facts.select(ROW, LENGTH) if then_of(o.keep) == "longest"
                              else None, stats=stats, references=marks)


def dedup_semantic(df: pl.DataFrame, **options) -> StageResult:
    """Library form of ``dedup.semantic``; ``options`` as :class:`SemanticDedupOptions`."""
    return SemanticDedup(SemanticDedupOptions(**options)).apply(
        df, StageContext(name=SemanticDedup.id))
