"""Paraphrased benchmark items by embedding cosine (stage ``decontam.semantic``)."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

import numpy as np
import polars as pl
from pydantic import Field

from ..decontam.stats import BY, REASON, contamination_stats
from ..embed import DEFAULT_MODEL, embed_texts, precision
from ..errors import StageError
from ..io.parts import PART_ROWS, ROW, PartWriter, Piece
from .base import DROP_REASON, Stage, StageContext, StageData, StageOutput, StageResult
from .marks import apply_marks, finish_marks, take
from .options import BenchmarkOptions

SIMILARITY, MATCH = "contaminated_similarity", "contaminated_match"


class SemanticOptions(BenchmarkOptions):
    """Options of ``decontam.semantic``."""

    threshold: float = Field(0.75, gt=0.0, lt=1.0)
    """Cosine between a record prompt and a benchmark prompt at which the record is a
    paraphrase of the item. Measured with all-MiniLM-L6-v2 (benchmarks/README.md): light
    paraphrases of AlpacaEval instructions 0.83-0.96 from their item; the 177 Python FAQ
    questions at most 0.60 from their nearest AlpacaEval instruction."""
    model: str = DEFAULT_MODEL
    """sentence-transformers model name or path (all-MiniLM-L6-v2 loads from its package)."""
    batch_size: int = Field(64, ge=1)
    """Texts per embedding batch."""


class SemanticDecontam(Stage):
    """Finds records whose prompt paraphrases a benchmark prompt (embedding cosine).

    Each record's user turns are compared with every benchmark prompt by embedding cosine (the
    run's embedding cache); a nearest prompt at ``threshold`` or more makes it contaminated.
    It catches reworded items that share no long word sequence (``decontam.ngram`` catches the
    copies, cheaper).

    Input columns:
        - kind, messages / prompt: the record's user turns.

    Output columns:
        - contaminated_similarity (float): cosine with the nearest benchmark prompt (every
          record; null without user text).
        - contaminated_by (list[str] | null): the nearest prompt's benchmark, at or above
          ``threshold`` (an earlier non-null value is left as it is).
        - contaminated_match (str | null): that benchmark prompt.
        - drop_reason (str): ``contaminated`` on rejected records (``action: drop``).

    Stats:
        ``mode`` (semantic), ``threshold``, ``model``, ``benchmarks`` (path, sha256, fields,
        rows, texts, prompts), ``contaminated``, ``by_benchmark``, ``removed`` or ``marked``.

    Examples:
        ```python
        from curate.stages.decontam_semantic import decontam_semantic

        result = decontam_semantic(df, benchmarks={"alpaca_eval": "eval.json"})
        ```

        In a recipe (``curate filter --decontam-semantic alpaca_eval=eval.json``):

        ```yaml
        stages:
          - use: decontam.semantic
            with: {benchmarks: {alpaca_eval: eval.json}, threshold: 0.75}
        ```
    """

    id = "decontam.semantic"
    Options = SemanticOptions
    summary = "Drop records whose prompt paraphrases a benchmark prompt (embedding cosine)."
    writes = (BY, SIMILARITY, MATCH)
    report_section = "decontam"
    command, cli_name, cli_switch, cli_order = "filter", "decontam-semantic", "benchmarks", 61
    cli_names = {"fields": "decontam-semantic-field"}
    piece_rows: ClassVar[int] = PART_ROWS  # rows embedded per piece of work

    options: SemanticOptions

    def resolved(self) -> dict[str, Any]:
        from ..decontam.benchmarks import benchmark_digest  # startup

        return {"sha256": {n: benchmark_digest(p) for n, p in self.options.benchmarks.items()},
                "precision": precision()}

    def run(self, data: StageData, ctx: StageContext, engine) -> StageOutput:
        """The benchmark prompts embedded by ``engine.encoder``, the records' prompts into a
        vector file (:func:`curate.embed_store.embed_source`; only the texts the run's cache
        lacks, by ``engine.embed_pieces``); each piece's nearest benchmark prompt by
        ``engine.map`` over the file; the hits applied piece by piece."""
        from ..decontam.benchmarks import load_benchmarks  # startup
        from ..embed_store import embed_source, read_columns, vectors_path  # startup

        o = self.options
        if not o.benchmarks:
            raise StageError(f"{self.id}: no benchmark given (--decontam-semantic NAME=PATH, "
                             f"or benchmarks: {{NAME: PATH}} in a recipe)")
        benches = load_benchmarks(o.benchmarks, o.fields)
        prompts = [p for b in benches for p in b.prompts]
        owner = [b.name for b in benches for _ in b.prompts]
        desc = f"{ctx.name} embed"
        bench = embed_texts(prompts, model=o.model, batch_size=o.batch_size,
                            cache_dir=ctx.cache_dir, desc=desc,
                            encode=engine.encoder(model=o.model, batch_size=o.batch_size,
                                                  desc=desc))
        embedded = embed_source(engine, data.source, _texts, vectors_path(ctx, data),
                                columns=read_columns(data.source.schema, _prompt()),
                                model=o.model, batch_size=o.batch_size,
                                cache_dir=ctx.cache_dir, work=data.scratch / "embed",
                                desc=desc, rows=self.piece_rows)
        sims = data.scratch / "similarity"
        pieces = data.source.pieces(self.piece_rows)
        try:
            found = engine.map(partial(_nearest_piece, vectors=embedded.vectors, bench=bench,
                                       threshold=o.threshold, folder=str(sims)),
                               pieces, desc=f"{ctx.name} search",
                               sizes=[p.length for p in pieces])
        finally:
            embedded.vectors.remove()
        rows = np.concatenate([np.zeros(0, np.int64)] + [r for r, _ in found])
        which = np.concatenate([np.zeros(0, np.int64)] + [w for _, w in found])
        hits = pl.DataFrame({
            ROW: rows,
            DROP_REASON: [REASON if o.action == "drop" else None] * len(rows),
            BY: [[owner[j]] for j in which.tolist()],
            MATCH: [prompts[j] for j in which.tolist()],
        }, schema={ROW: pl.Int64, DROP_REASON: pl.String, BY: pl.List(pl.String),
                   MATCH: pl.String})
        total = apply_marks(data, hits, ctx, engine, columns={BY: pl.List(pl.String),
                                                              MATCH: pl.String},
                            mark=partial(_mark, sims=str(sims)))
        if BY in data.source.schema and len(rows):  # an earlier stage's finding stays
            earlier = take(engine, data.source, rows, [BY], desc=f"{ctx.name} read")
            hits = hits.join(earlier.rename({BY: "__earlier"}), on=ROW, how="left").with_columns(
                pl.coalesce("__earlier", BY).alias(BY))
        stats = {"mode": "semantic", "threshold": o.threshold, "model": o.model,
                 "precision": precision(),
                 "benchmarks": {b.name: {**b.describe(), "prompts": len(b.prompts)}
                                for b in benches},
                 **contamination_stats(hits, [b.name for b in benches], o.action)}
        return finish_marks(data, total, stats)


def _prompt() -> pl.Expr:
    """A record's user turns (:func:`curate.decontam.semantic.user_text`), null when blank."""
    from ..decontam.semantic import user_text  # startup

    user = user_text()
    return pl.when(user.str.strip_chars() != "").then(user)


def _texts(batch: pl.DataFrame) -> pl.DataFrame:
    from ..embed_store import TEXT  # startup

    return batch.select(_prompt().alias(TEXT))


def _nearest_piece(piece: Piece, *, vectors, bench: np.ndarray, threshold: float,
                   folder: str) -> tuple[np.ndarray, np.ndarray]:
    """Each row's cosine with its nearest benchmark prompt (null without text) written as the
    piece's part of ``folder``; the rows at ``threshold`` or more and their prompts. The
    products run on whole blocks of :data:`~curate.decontam.semantic.BLOCK` rows counted from
    the first row of the data, so a row gets the same cosine however the data is cut."""
    from ..decontam.semantic import BLOCK, nearest  # startup

    lo, hi = piece.offset, piece.offset + piece.length
    start, end = lo // BLOCK * BLOCK, min(vectors.rows, -(-hi // BLOCK) * BLOCK)
    X = np.asarray(vectors.array()[start:end])
    best, which = nearest(X, bench)
    best, which = best[lo - start:hi - start], which[lo - start:hi - start]
    has = np.any(X[lo - start:hi - start] != 0, axis=1)  # a zero row: no text
    sim = np.where(has, best.astype(np.float64), np.nan)
    PartWriter(folder).write(piece.index, pl.DataFrame({
        ROW: np.arange(lo, hi, dtype=np.int64),
        SIMILARITY: sim}).with_columns(pl.col(SIMILARITY).fill_nan(None)))
    hit = has & (best >= threshold)
    return lo + np.flatnonzero(hit), which[hit]


def _mark(batch: pl.DataFrame, marks: pl.DataFrame, *, sims: str) -> pl.DataFrame:
    """A piece with its similarity (every row), and the benchmark and prompt of its hits
    (an earlier ``contaminated_by`` is left as it is)."""
    rows = batch[ROW]
    sim = (pl.scan_parquet(f"{sims}/*.parquet")
           .filter(pl.col(ROW).is_between(rows.min(), rows.max())).collect()
           if batch.height else pl.DataFrame(schema={ROW: pl.Int64, SIMILARITY: pl.Float64}))
    out = (batch.drop([c for c in (SIMILARITY, MATCH) if c in batch.columns])
           .join(marks.rename({BY: "__by"}), on=ROW, how="left")
           .join(sim, on=ROW, how="left"))
    by = pl.coalesce(BY, "__by") if BY in batch.columns else pl.col("__by")
    new = [c for c in (BY, SIMILARITY, MATCH) if c not in batch.columns or c != BY]
    return out.with_columns(by.alias(BY)).select(
        *[c for c in batch.columns if c not in (SIMILARITY, MATCH)], *new, DROP_REASON)


def decontam_semantic(df: pl.DataFrame, **options) -> StageResult:
    """Library form of ``decontam.semantic``; ``options`` as :class:`SemanticOptions`."""
    return SemanticDecontam(SemanticOptions(**options)).apply(
        df, StageContext(name=SemanticDecontam.id))
