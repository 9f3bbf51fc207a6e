"""Paraphrased benchmark items by embedding cosine (stage ``decontam.semantic``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from pydantic import Field

from ..embed import DEFAULT_MODEL
from ..errors import StageError
from .base import DROP_REASON, Stage, StageContext, StageResult
from .decontam_ngram import BY, REASON, BenchmarkOptions, contamination_stats

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

    The prompts of the benchmark files (their prompt fields, detected or named; see
    :mod:`curate.decontam.benchmarks`) and each record's user turns are embedded (the run's
    embedding cache, by content: a text is embedded once per run and model); each record is
    compared with every benchmark prompt, and one whose nearest prompt is at cosine
    ``threshold`` or more is contaminated. It catches the reworded items that share no long
    word sequence with the benchmark (``decontam.ngram`` catches the copies, cheaper).

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

    options: SemanticOptions

    def resolved(self) -> dict[str, Any]:
        from ..decontam.benchmarks import benchmark_digest
        from ..embed import precision

        return {"sha256": {n: benchmark_digest(p) for n, p in self.options.benchmarks.items()},
                "precision": precision()}

    def run(self, df: pl.DataFrame, ctx: StageContext, engine) -> StageResult:
        """Embeddings by ``engine.encoder`` (only the texts the run's cache lacks), the
        nearest benchmark prompt on the driver."""
        from ..decontam.benchmarks import load_benchmarks
        from ..decontam.semantic import nearest, user_prompts
        from ..embed import embed_texts, precision

        o = self.options
        if not o.benchmarks:
            raise StageError(f"{self.id}: no benchmark given (--decontam-semantic NAME=PATH, "
                             f"or benchmarks: {{NAME: PATH}} in a recipe)")
        benches = load_benchmarks(o.benchmarks, o.fields)
        prompts = [p for b in benches for p in b.prompts]
        owner = [b.name for b in benches for _ in b.prompts]
        texts = user_prompts(df)
        rows = [i for i, t in enumerate(texts) if t.strip()]

        def embed(batch: list[str]) -> np.ndarray:
            return embed_texts(batch, model=o.model, batch_size=o.batch_size,
                               cache_dir=ctx.cache_dir, desc=f"{ctx.name} embed",
                               encode=engine.encoder(model=o.model, batch_size=o.batch_size,
                                                     desc=f"{ctx.name} embed"))

        best, which = nearest(embed([texts[i] for i in rows]), embed(prompts))
        sim = np.full(df.height, np.nan, np.float64)
        sim[rows] = best
        hit = np.zeros(df.height, bool)
        hit[rows] = best >= o.threshold
        match: list[str | None] = [None] * df.height
        by: list[list[str] | None] = [None] * df.height
        for i, j in zip(rows, which.tolist()):
            if hit[i]:
                match[i], by[i] = prompts[j], [owner[j]]
        new_by = pl.Series(BY, by, pl.List(pl.String))
        scored = df.with_columns(
            pl.coalesce(pl.col(BY), new_by) if BY in df.columns else new_by,
            pl.Series(SIMILARITY, sim).fill_nan(None),
            pl.Series(MATCH, match, pl.String))
        drop = pl.Series(hit) if o.action == "drop" else pl.Series([False] * df.height)
        kept = scored.filter(~drop)
        rejected = scored.filter(drop).with_columns(pl.lit(REASON).alias(DROP_REASON))
        found = scored.filter(pl.Series(hit))
        stats = {"mode": "semantic", "threshold": o.threshold, "model": o.model,
                 "precision": precision(),
                 "benchmarks": {b.name: {**b.describe(), "prompts": len(b.prompts)}
                                for b in benches},
                 **contamination_stats(found, [b.name for b in benches], o.action)}
        return StageResult(kept, rejected, stats)


def decontam_semantic(df: pl.DataFrame, **options) -> StageResult:
    """Library form of ``decontam.semantic``; ``options`` as :class:`SemanticOptions`."""
    return SemanticDecontam(SemanticOptions(**options)).apply(
        df, StageContext(name=SemanticDecontam.id))
