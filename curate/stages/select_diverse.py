"""Embedding-based diversity sampling (stage ``select.diverse``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator, model_validator

from ..embed import DEFAULT_MODEL
from ..errors import CurateError, StageError
from .base import DROP_REASON, Stage, StageContext, StageOptions, StageResult, field_error

REASON = "not_selected"
RANK, CLUSTER, EMBEDDING = "select_rank", "cluster", "embedding"


class SelectOptions(StageOptions):
    """Options of ``select.diverse``."""

    n: int | float = Field(description="Budget: a count (e.g. 1000) or a fraction of the rows "
                                       "(e.g. 0.1).")
    method: Literal["kcenter", "deita", "clusters", "random"] = Field(
        "kcenter", description="kcenter: farthest-first coverage; deita: by score, skipping rows "
        "within min_distance of a pick; clusters: k-means quotas; random: uniform.")
    on: Literal["prompt", "response", "conversation", "pair"] = Field(
        "conversation", description="Which part of a record is embedded.")
    model: str = Field(DEFAULT_MODEL, description="sentence-transformers model name or path.")
    keep_column: str | None = Field(None, description="Boolean column of rows that are always "
                                    "selected (they count towards the budget).")
    score_column: str | None = Field(None, description="deita: the score column, or 'a*b' for "
                                     "the product of two columns; higher first.")
    min_distance: float = Field(0.1, ge=0, le=2, description="deita: a row is added only if its "
                                "cosine distance to every pick is above this.")
    n_clusters: int | None = Field(None, ge=1, description="k-means clusters (for the clusters "
                                   "method, the cluster column and coverage); default "
                                   "sqrt(rows), at most 256 and the budget.")
    per_cluster: Literal["uniform", "proportional", "sqrt"] = Field(
        "uniform", description="clusters: quota of each cluster (equal, by size, or by the "
        "square root of its size).")
    within_cluster: Literal["random", "kcenter"] = Field(
        "kcenter", description="clusters: how each cluster's quota is filled.")
    stratify_column: str | None = Field(None, description="Keep each value's share of rows "
                                        "(e.g. source): each stratum is sampled on its own.")
    seed: int | None = Field(None, description="Random seed; the run's seed when unset.")
    store_embedding: bool = Field(False, description="Add the embedding column (List(Float32)) "
                                  "to the output; it is never exported.")

    @field_validator("n")
    @classmethod
    def _budget(cls, n: int | float) -> int | float:
        from ..select.budget import budget_problem  # the select package loads when it runs

        problem = budget_problem(n)
        if problem is not None:
            raise ValueError(problem)
        return n

    @model_validator(mode="after")
    def _deita_score(self) -> "SelectOptions":
        if self.method == "deita" and not self.score_column:
            raise field_error(type(self), "score_column", "needed by the deita method, which "
                              "picks rows by a score (e.g. quality_response_chars)")
        return self


class SelectDiverse(Stage):
    """Selects a diverse subset of records by their sentence embeddings.

    The records' ``on`` part is embedded with the sentence-transformers ``model`` (cached by
    content under the run's cache, shared with semantic dedup), or taken from an existing
    ``embedding`` column. A budget of ``n`` rows (a count or a fraction) is then picked by
    ``method``: ``kcenter`` (exact farthest-first traversal, starting from the ``keep_column``
    rows or a seeded random row), ``deita`` (score-first with a minimum cosine distance),
    ``clusters`` (k-means quotas filled at random or by k-center) or ``random``. With
    ``stratify_column`` each stratum gets its share of the budget and is sampled on its own.
    Rows that are not picked go to rejected/ with ``drop_reason = "not_selected"``.

    Input columns:
        - id (str), kind (str) and the conversation columns of ``on``.
        - embedding (list[float], optional): used instead of the model when present.
        - the ``keep_column`` (bool), ``score_column`` (numeric) and ``stratify_column``
          when set.

    Output columns:
        - select_rank (int): 0 for the first pick, 1 for the next, ...; null on rejected rows.
          Any prefix ``select_rank < m`` is itself a sample spread like the whole one.
        - cluster (int): the row's k-means cluster (also on rejected rows).
        - embedding (list[float32]): only with ``store_embedding``; never exported.
        - drop_reason (str): ``not_selected``, on rejected rows.

    Stats:
        ``method``, ``budget``, ``selected``, ``n_clusters``, ``embedding`` (model, on, dim),
        ``coverage`` (covering radius, mean distance and clusters covered of the sample and
        of a random sample of the same size), ``map`` (the 2-D map file, under the run folder).

    Examples:
        ```python
        from curate.stages.select_diverse import SelectDiverse
        from curate.stages.base import StageContext

        result = SelectDiverse({"n": 1000, "method": "kcenter"}).apply(df, StageContext())
        result.kept.sort("select_rank")
        ```

        In a recipe:

        ```yaml
        stages:
          - use: select.diverse
            with: {n: 0.2, method: deita, score_column: quality_response_chars, min_distance: 0.1}
        ```
    """

    id = "select.diverse"
    Options = SelectOptions
    summary = "Pick a diverse subset by embeddings: k-center, DEITA, cluster quotas or random."
    writes = (RANK, CLUSTER)
    report_section = "select"

    options: SelectOptions

    def columns_read(self) -> tuple[str, ...]:
        o = self.options
        named = [o.keep_column, o.stratify_column,
                 *([] if o.score_column is None else o.score_column.split("*"))]
        return tuple(c.strip() for c in named if c)

    def resolved(self) -> dict[str, Any]:
        from ..embed import precision

        return {"precision": precision()}

    def run(self, df: pl.DataFrame, ctx: StageContext, engine) -> StageResult:
        """Embeddings by ``engine.encoder`` (or the ``embedding`` column), method ``kcenter``
        by ``engine.kcenter``; k-means, the other methods and coverage in process."""
        from ..select import select_rows
        from ..select.budget import resolve_budget
        from ..select.clusters import default_n_clusters, kmeans
        from ..select.coverage import coverage_report

        o = self.options
        seed = ctx.seed if o.seed is None else o.seed
        for col in (RANK, CLUSTER):
            if col in df.columns:
                raise StageError(f"{ctx.name}: the input already has a {col!r} column (from an "
                                 "earlier selection?); this stage adds it and never overwrites "
                                 "input columns: drop it first")
        try:
            budget = resolve_budget(df.height, o.n)
        except CurateError as exc:
            raise StageError(f"{ctx.name}: {exc}") from None
        keep = _bool_column(df, o.keep_column, ctx.name)
        scores = _score(df, o.score_column, ctx.name) if o.score_column else None
        strata = _codes(df, o.stratify_column, ctx.name) if o.stratify_column else None
        X, source = self._embeddings(df, ctx, engine)
        n_clusters = o.n_clusters or default_n_clusters(df.height, budget)
        labels = kmeans(X, n_clusters, seed=seed)
        try:
            sel = select_rows(X, budget, method=o.method, seed=seed, keep=keep, scores=scores,
                              min_distance=o.min_distance, labels=labels,
                              per_cluster=o.per_cluster, within_cluster=o.within_cluster,
                              strata=strata, kcenter=engine.kcenter)
        except CurateError as exc:
            raise StageError(f"{ctx.name}: {exc}") from None
        rank = np.full(df.height, -1, dtype=np.int64)
        rank[sel.picks] = np.arange(len(sel.picks))
        out = df.with_columns(pl.Series(RANK, rank).replace(-1, None),
                              pl.Series(CLUSTER, labels, dtype=pl.Int32))
        if o.store_embedding and EMBEDDING not in df.columns:
            out = out.with_columns(pl.Series(EMBEDDING, X).cast(pl.List(pl.Float32)))
        picked = pl.col(RANK).is_not_null()
        stats = {"method": o.method, "budget": budget, "selected": int(len(sel.picks)),
                 "n_clusters": int(labels.max()) + 1 if len(labels) else 0,
                 "embedding": {"model": o.model if source == "model" else None, "on": o.on,
                               "dim": int(X.shape[1]), "from": source,
                               "precision": self.resolved()["precision"]
                               if source == "model" else None},
                 **sel.info}
        if isinstance(o.n, int) and o.n > df.height:
            # a budget is at most n rows: fewer rows than that is a sample of them all
            stats["notes"] = [f"budget {o.n} is more than the {df.height} rows it was given: "
                              f"all {df.height} kept"]
        if df.height:
            stats["coverage"] = coverage_report(X, sel.picks, labels, seed=seed,
                                                distance=sel.distance)
            stats["map"] = self._write_map(df, X, sel.picks, labels, seed, ctx)
        return StageResult(out.filter(picked),
                           out.filter(~picked).with_columns(pl.lit(REASON).alias(DROP_REASON)),
                           stats)

    def _embeddings(self, df: pl.DataFrame, ctx: StageContext,
                    engine) -> tuple[np.ndarray, str]:
        from ..embed import embed_frame
        from ..select.distance import as_unit_rows

        if EMBEDDING in df.columns:
            col = df[EMBEDDING]
            if isinstance(col.dtype, pl.Array):
                col = col.cast(pl.List(col.dtype.inner))
            if col.null_count() or not isinstance(col.dtype, pl.List):
                raise StageError(f"{ctx.name}: column 'embedding' must be a list of floats "
                                 "on every row")
            lengths = col.list.len()
            if lengths.n_unique() > 1:
                raise StageError(f"{ctx.name}: column 'embedding' has rows of different "
                                 f"lengths ({lengths.min()}..{lengths.max()})")
            dim = int(lengths[0]) if df.height else 0
            flat = col.explode().cast(pl.Float32).to_numpy() if df.height else np.zeros(0)
            return as_unit_rows(flat.reshape(df.height, dim)), "column"
        o = self.options
        X = (embed_frame(df, on=o.on, model=o.model, cache_dir=ctx.cache_dir,
                         encode=engine.encoder(model=o.model, batch_size=64,
                                               desc=f"{ctx.name} embed"))
             if df.height else np.zeros((0, 1), np.float32))
        return as_unit_rows(X), "model"

    def _write_map(self, df, X, picks, labels, seed, ctx) -> str | None:
        if ctx.out_dir is None:
            return None
        from ..select.coverage import pca_map

        points = pca_map(X, picks, labels, seed=seed)
        points = points.with_columns(df["id"].gather(points["row"]).alias("id")).drop("row")
        rel = Path("select") / f"{ctx.index:02d}_{ctx.name}.parquet"
        (ctx.out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        points.write_parquet(ctx.out_dir / rel)
        return rel.as_posix()


def _bool_column(df: pl.DataFrame, name: str | None, stage: str) -> np.ndarray | None:
    if name is None:
        return None
    _need(df, name, stage)
    if df.schema[name] != pl.Boolean:
        raise StageError(f"{stage}: keep_column {name!r} must be boolean, "
                         f"got {df.schema[name]}")
    return df[name].fill_null(False).to_numpy()


def _score(df: pl.DataFrame, spec: str, stage: str) -> np.ndarray:
    """The score column, or the product of the columns in ``a*b``; null -> NaN (ranked last)."""
    score = None
    for name in (part.strip() for part in spec.split("*")):
        _need(df, name, stage)
        if not df.schema[name].is_numeric() and df.schema[name] != pl.Boolean:
            raise StageError(f"{stage}: score_column {name!r} must be numeric, "
                             f"got {df.schema[name]}")
        value = df[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
        score = value if score is None else score * value
    return score


def _codes(df: pl.DataFrame, name: str, stage: str) -> np.ndarray:
    """Stratum numbers by first appearance (null is a stratum of its own)."""
    _need(df, name, stage)
    values = df[name].to_list()
    seen: dict = {}
    try:
        return np.array([seen.setdefault(v, len(seen)) for v in values], dtype=np.int64)
    except TypeError:  # lists or structs: compare their text
        return np.array([seen.setdefault(repr(v), len(seen)) for v in values], dtype=np.int64)


def _need(df: pl.DataFrame, name: str, stage: str) -> None:
    if name not in df.columns:
        raise StageError(f"{stage}: no column {name!r} in the input "
                         f"(columns: {', '.join(df.columns)})")


def select_diverse(df: pl.DataFrame, **options) -> StageResult:
    """Library form of the ``select.diverse`` stage; see :class:`SelectDiverse`."""
    return SelectDiverse(SelectOptions(**options)).apply(df, StageContext(name=SelectDiverse.id))
