"""Embedding-based diversity sampling (stage ``select.diverse``)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator, model_validator

from ..embed import DEFAULT_MODEL, TEXT_FORM, part_text, precision
from ..errors import CurateError, StageError
from ..io.parts import PART_ROWS, ROW, Parts, Piece
from ..vectors import Vectors, view
from .base import (DROP_REASON, Stage, StageContext, StageData, StageOptions, StageOutput,
                   StageResult, field_error)
from .marks import apply_marks, finish_marks, take

REASON = "not_selected"
RANK, CLUSTER, EMBEDDING = "select_rank", "cluster", "embedding"


class SelectOptions(StageOptions):
    """Options of ``select.diverse``."""

    n: int | float = Field(description="Budget: a count (e.g. 1000) or a fraction of the rows "
                                       "(e.g. 0.1).")
    method: Literal["facility", "kcenter", "deita", "clusters", "random"] = Field(
        "facility", description="facility: facility location (representative picks) on a "
        "nearest-neighbour graph, then a set cover of the outliers (outlier_share of the "
        "budget), then swaps that lower the mean distance within the radius; "
        "kcenter: farthest-first coverage; deita: by score, skipping rows within min_distance "
        "of a pick; clusters: k-means quotas; random: uniform.")
    outlier_share: float = Field(0.35, ge=0, le=1, description="facility: share of the "
                                 "budget for the outliers after facility location, by a set "
                                 "cover of the rows left far (0: facility location only, 1: "
                                 "the cover only).")
    neighbours: int = Field(16, ge=1, le=256, description="facility: nearest neighbours per "
                            "row in the graph facility location runs on.")
    on: Literal["prompt", "response", "conversation", "pair"] = Field(
        "conversation", description="Which part of a record is embedded.")
    model: str = Field(DEFAULT_MODEL, description="sentence-transformers model name or path.")
    keep_column: str | None = Field(None, description="Boolean column of rows that are always "
                                    "selected (they count towards the budget).")
    score_column: str | None = Field(None, description="deita: the score column, or 'a*b' for "
                                     "the product of two columns; higher first. facility: "
                                     "weighs each pick by its score's rank (quality first).")
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
    compare: bool = Field(False, description="Also measure the coverage of every other method "
                          "at the same budget (manifest and report; costs their runs).")

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
    """Selects a diverse subset of records by their sentence embeddings: a budget of ``n`` rows
    (a count or a fraction) picked by ``method`` (facility, kcenter, deita, clusters, random).

    A smaller set that still covers what the data is about trains about as well as the
    whole. Methods, budget and coverage figures: README, "Diversity sampling".

    Input columns:
        - id (str), kind (str) and the conversation columns of ``on``.
        - embedding (list[float], optional): used instead of the model when present.
        - the ``keep_column`` (bool), ``score_column`` (numeric) and ``stratify_column``
          when set.

    Output columns:
        - select_rank (int): 0 for the first pick, 1 for the next, ...; null on rejected rows.
          Any prefix ``select_rank < m`` is itself a sample chosen by the same rule (for
          ``facility``: the facility-location picks come first, then the outlier picks, then
          any picks the cover left to facility location; a swap keeps the rank it replaces).
        - cluster (int): the row's k-means cluster (also on rejected rows).
        - embedding (list[float32]): only with ``store_embedding``; never exported.
        - drop_reason (str): ``not_selected``, on rejected rows.

    Examples:
        ```python
        from curate.stages.select_diverse import SelectDiverse
        from curate.stages.base import StageContext

        result = SelectDiverse({"n": 1000}).apply(df, StageContext())
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
    summary = ("Pick a diverse subset by embeddings: facility location + set cover, k-center, "
               "DEITA, cluster quotas or random.")
    writes = (RANK, CLUSTER)
    report_section = "select"
    piece_rows: ClassVar[int] = PART_ROWS  # rows embedded per piece of work

    options: SelectOptions

    def columns_read(self) -> tuple[str, ...]:
        o = self.options
        named = [o.keep_column, o.stratify_column,
                 *([] if o.score_column is None else o.score_column.split("*"))]
        return tuple(c.strip() for c in named if c)

    def resolved(self) -> dict[str, Any]:
        return {"precision": precision(), "text_form": TEXT_FORM}

    def run(self, data: StageData, ctx: StageContext, engine) -> StageOutput:
        """Embeddings into a vector file (by ``engine.embed_pieces``, or from the
        ``embedding`` column), method ``kcenter`` by ``engine.kcenter`` on that file; k-means,
        the other methods and coverage in process, reading the file in blocks; the picks
        applied piece by piece."""
        from ..select import compare_methods, select_rows  # startup
        from ..select.budget import resolve_budget  # startup
        from ..select.clusters import default_n_clusters, kmeans  # startup
        from ..select.coverage import coverage_report  # startup

        o = self.options
        seed = ctx.seed if o.seed is None else o.seed
        schema = data.source.schema
        for col in (RANK, CLUSTER):
            if col in schema:
                raise StageError(f"{ctx.name}: the input already has a {col!r} column (from an "
                                 "earlier selection?); this stage adds it and never overwrites "
                                 "input columns: drop it first")
        n = data.source.height
        try:
            budget = resolve_budget(n, o.n)
        except CurateError as exc:
            raise StageError(f"{ctx.name}: {exc}") from None
        named = [c for c in self.columns_read() if c in schema]
        compact = data.source.scan().select(named).collect() if named else pl.DataFrame()
        keep = _bool_column(compact, schema, o.keep_column, ctx.name)
        scores = _score(compact, schema, o.score_column, ctx.name) if o.score_column else None
        strata = _codes(compact, schema, o.stratify_column, ctx.name) if o.stratify_column \
            else None
        vectors, source = self._embeddings(data, ctx, engine)
        try:
            X = view(vectors)
            n_clusters = o.n_clusters or default_n_clusters(n, budget)
            labels = kmeans(X, n_clusters, seed=seed)
            args = dict(seed=seed, keep=keep, scores=scores, min_distance=o.min_distance,
                        labels=labels, per_cluster=o.per_cluster,
                        within_cluster=o.within_cluster, strata=strata,
                        kcenter=engine.kcenter, outlier_share=o.outlier_share,
                        neighbours=o.neighbours, map=engine.map)
            try:
                sel = select_rows(X, budget, method=o.method, **args)
            except CurateError as exc:
                raise StageError(f"{ctx.name}: {exc}") from None
            stats = {"method": o.method, "budget": budget, "selected": int(len(sel.picks)),
                     "n_clusters": int(labels.max()) + 1 if len(labels) else 0,
                     "embedding": {"model": o.model if source == "model" else None,
                                   "on": o.on, "dim": vectors.dim, "from": source,
                                   "precision": self.resolved()["precision"]
                                   if source == "model" else None},
                     **sel.info}
            if isinstance(o.n, int) and o.n > n:
                # a budget is at most n rows: fewer rows than that is a sample of them all
                stats["notes"] = [f"budget {o.n} is more than the {n} rows it was given: "
                                  f"all {n} kept"]
            if n:
                stats["coverage"] = coverage_report(X, sel.picks, labels, seed=seed,
                                                    distance=sel.distance)
                if o.compare:
                    try:
                        stats["coverage"]["methods"] = compare_methods(X, budget, o.method,
                                                                       **args)
                    except CurateError as exc:
                        raise StageError(f"{ctx.name}: compare: {exc}") from None
                stats["map"] = self._write_map(data, engine, X, sel.picks, labels, seed, ctx)
            data.scratch.mkdir(parents=True, exist_ok=True)
            np.save(data.scratch / "labels.npy", labels.astype(np.int32))
            marks = pl.DataFrame({ROW: sel.picks, DROP_REASON: [None] * len(sel.picks),
                                  RANK: np.arange(len(sel.picks))},
                                 schema={ROW: pl.Int64, DROP_REASON: pl.String, RANK: pl.Int64})
            stored = vectors if o.store_embedding and EMBEDDING not in schema else None
            total = apply_marks(data, marks, ctx, engine, columns={RANK: pl.Int64},
                                mark=partial(_mark, labels=str(data.scratch / "labels.npy"),
                                             vectors=stored))
        finally:
            vectors.remove()
        return finish_marks(data, total, stats)

    def _embeddings(self, data: StageData, ctx: StageContext, engine) -> tuple[Vectors, str]:
        """The rows' unit vectors in a file: the ``embedding`` column's, or the model's."""
        from ..embed_store import embed_source, read_columns, vectors_path  # startup

        path = vectors_path(ctx, data)
        if EMBEDDING in data.source.schema:
            return vectors_from_column(engine, data.source, path, ctx.name), "column"
        o = self.options
        text = part_text(o.on)
        embedded = embed_source(engine, data.source, partial(_texts, on=o.on), path,
                                columns=read_columns(data.source.schema, text),
                                model=o.model, batch_size=64, cache_dir=ctx.cache_dir,
                                work=data.scratch / "embed", desc=f"{ctx.name} embed",
                                rows=self.piece_rows)
        return embedded.vectors, "model"

    def _write_map(self, data, engine, X, picks, labels, seed, ctx) -> str | None:
        if ctx.out_dir is None:
            return None
        from ..select.coverage import pca_map  # startup

        points = pca_map(X, picks, labels, seed=seed)
        ids = take(engine, data.source, points["row"].to_numpy(), ["id"],
                   desc=f"{ctx.name} map")
        points = points.join(ids.rename({ROW: "row"}), on="row", how="left").drop("row")
        rel = Path("select") / f"{ctx.index:02d}_{ctx.name}.parquet"
        (ctx.out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        points.write_parquet(ctx.out_dir / rel)
        return rel.as_posix()


def _texts(batch: pl.DataFrame, *, on: str) -> pl.DataFrame:
    """Every row's ``on`` part as the text to embed ("" when missing, embedded too)."""
    from ..embed_store import TEXT  # startup

    return batch.select(part_text(on).alias(TEXT))


def vectors_from_column(engine, source: Parts, path: Path, stage: str) -> Vectors:
    """The ``embedding`` column (a list of floats on every row, all of one length) as unit
    rows in the vector file ``path``, piece by piece."""
    pieces = source.pieces()
    sizes = [p.length for p in pieces]
    spans = engine.map(partial(_column_lengths, stage=stage), pieces, desc=f"{stage} read",
                       sizes=sizes)
    spans = [s for s in spans if s is not None]
    low, high = (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else (0, 0)
    if low != high:
        raise StageError(f"{stage}: column 'embedding' has rows of different lengths "
                         f"({low}..{high})")
    vectors = Vectors.create(path, source.height, high)
    engine.map(partial(_column_vectors, vectors=vectors), pieces, desc=f"{stage} read",
               sizes=sizes)
    return vectors


def _embedding_column(piece: Piece, stage: str) -> pl.Series:
    col = piece.read([EMBEDDING])[EMBEDDING]
    if isinstance(col.dtype, pl.Array):
        col = col.cast(pl.List(col.dtype.inner))
    if col.null_count() or not isinstance(col.dtype, pl.List):
        raise StageError(f"{stage}: column 'embedding' must be a list of floats on every row")
    return col


def _column_lengths(piece: Piece, *, stage: str) -> tuple[int, int] | None:
    lengths = _embedding_column(piece, stage).list.len()
    return (int(lengths.min()), int(lengths.max())) if len(lengths) else None


def _column_vectors(piece: Piece, *, vectors: Vectors) -> int:
    from ..select.distance import as_unit_rows  # startup

    col = _embedding_column(piece, "")
    if not len(col):
        return 0
    flat = col.explode().cast(pl.Float32).to_numpy()
    vectors.write(np.arange(piece.offset, piece.offset + piece.length),
                  as_unit_rows(flat.reshape(len(col), vectors.dim)))
    return len(col)


def _mark(batch: pl.DataFrame, marks: pl.DataFrame, *, labels: str,
          vectors: Vectors | None) -> pl.DataFrame:
    """A piece with its rank (picked rows), cluster (every row), embedding (with
    ``store_embedding``) and ``not_selected`` on the rows not picked."""
    rows = batch[ROW].to_numpy()
    cluster = np.load(labels, mmap_mode="r")[rows] if len(rows) else np.zeros(0, np.int32)
    out = batch.join(marks.select(ROW, RANK), on=ROW, how="left").with_columns(
        pl.Series(CLUSTER, np.asarray(cluster), pl.Int32))
    if vectors is not None:
        emb = np.asarray(vectors.array()[rows]) if len(rows) else np.zeros((0, vectors.dim))
        out = out.with_columns(pl.Series(EMBEDDING, emb.astype(np.float32)).cast(
            pl.List(pl.Float32)))
    return out.with_columns(pl.when(pl.col(RANK).is_null()).then(pl.lit(REASON))
                            .alias(DROP_REASON))


def _bool_column(df: pl.DataFrame, schema: pl.Schema, name: str | None,
                 stage: str) -> np.ndarray | None:
    if name is None:
        return None
    _need(schema, name, stage)
    if schema[name] != pl.Boolean:
        raise StageError(f"{stage}: keep_column {name!r} must be boolean, "
                         f"got {schema[name]}")
    return df[name].fill_null(False).to_numpy()


def _score(df: pl.DataFrame, schema: pl.Schema, spec: str, stage: str) -> np.ndarray:
    """The score column, or the product of the columns in ``a*b``; null -> NaN (ranked last)."""
    score = None
    for name in (part.strip() for part in spec.split("*")):
        _need(schema, name, stage)
        if not schema[name].is_numeric() and schema[name] != pl.Boolean:
            raise StageError(f"{stage}: score_column {name!r} must be numeric, "
                             f"got {schema[name]}")
        value = df[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
        score = value if score is None else score * value
    return score


def _codes(df: pl.DataFrame, schema: pl.Schema, name: str, stage: str) -> np.ndarray:
    """Stratum numbers by first appearance (null is a stratum of its own)."""
    _need(schema, name, stage)
    values = df[name].to_list()
    seen: dict = {}
    try:
        return np.array([seen.setdefault(v, len(seen)) for v in values], dtype=np.int64)
    except TypeError:  # lists or structs: compare their text
        return np.array([seen.setdefault(repr(v), len(seen)) for v in values], dtype=np.int64)


def _need(schema: pl.Schema, name: str, stage: str) -> None:
    if name not in schema:
        raise StageError(f"{stage}: no column {name!r} in the input "
                         f"(columns: {', '.join(schema)})")


def select_diverse(df: pl.DataFrame, **options) -> StageResult:
    """Library form of the ``select.diverse`` stage; see :class:`SelectDiverse`."""
    return SelectDiverse(SelectOptions(**options)).apply(df, StageContext(name=SelectDiverse.id))
