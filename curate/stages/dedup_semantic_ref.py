"""``dedup.semantic`` against references: the reference's index (embeddings, ids, kind
hashes, k-means clusters) and the search of the new rows' embeddings in it
(:mod:`curate.dedup.cross`)."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl

from ..dedup.reference import REF_INDEX, REF_ROW
from ..embed import part_text
from ..in_process import SIGN_THREADS
from ..errors import CurateError
from ..io.parts import ROW, PartWriter, Piece
from ..vectors import Vectors
from .base import StageContext
from .clusters import LENGTH
from .dedup_against import read_rows

SALT = "__salt"
_FIT_SEED = 0  # the reference's centroids are shared by every run: not the run's seed


def build_reference(stage, tmp: Path, source, ctx: StageContext, engine) -> dict:
    """The index of a reference for ``stage`` (a ``dedup.semantic``) written into ``tmp``;
    the meta fields it decided."""
    from ..dedup.cross import fit_reference  # startup
    from ..dedup.cosine import use_exact  # startup
    from ..embed_store import embed_source, read_columns  # startup

    o = stage.options
    columns = read_columns(source.schema, *facts(o.on))
    embedded = embed_source(engine, source, partial(texts, on=o.on), tmp / "vectors.npy",
                            columns=columns, model=o.model, batch_size=o.batch_size,
                            cache_dir=None, work=tmp / "embed",
                            desc=f"{ctx.name} reference embed", rows=stage.piece_rows)
    pieces = source.pieces(stage.piece_rows)
    engine.map(partial(_records, folder=str(tmp / "records.parquet")), pieces,
               desc=f"{ctx.name} reference ids", sizes=[p.length for p in pieces])
    PartWriter(tmp / "records.parquet").finish()
    shutil.rmtree(tmp / "embed", ignore_errors=True)
    n, vectors = source.height, embedded.vectors
    k = o.clusters or max(2, n // 2000)
    meta = {"rows": n, "dim": vectors.dim, "offset": vectors.offset, "search": "exact",
            "clusters": 0}
    if n > o.exact_max and not use_exact(n, k):
        centers, near = fit_reference(vectors, k, _FIT_SEED)
        np.save(tmp / "centers.npy", centers)
        np.save(tmp / "near.npy", near)
        meta.update(search="kmeans", clusters=int(centers.shape[0]))
    return meta


def _records(piece: Piece, *, folder: str) -> int:
    batch = piece.read(["id", "kind"])
    PartWriter(folder).write(piece.index, batch.select(
        pl.col("id").cast(pl.String), pl.col("kind").fill_null("").hash(seed=7).alias(SALT)))
    return batch.height


def reference_matches(stage, embedded, against, ctx: StageContext, engine) -> pl.DataFrame:
    """Candidates (``__row``, ``__refidx``, ``__ref``) of the new rows (their vectors in
    ``embedded``) in every reference, of the same record kind."""
    from ..dedup.cross import cluster_block, cluster_items, exact_block, exact_items  # startup

    o = stage.options
    new = embedded.vectors
    salts = embedded.facts.scan().select(ROW, pl.col(SALT)).collect()
    out = [pl.DataFrame(schema={ROW: pl.Int64, REF_INDEX: pl.Int32, REF_ROW: pl.Int64})]
    for k, index in enumerate(against.indexes):
        meta = index.meta
        if int(meta["dim"]) != new.dim and index.rows:
            raise CurateError(f"against.{index.name}: its embeddings have {meta['dim']} "
                              f"dimensions, the model's {new.dim}")
        ref = Vectors(str(index.folder / "vectors.npy"), index.rows, int(meta["dim"]),
                      int(meta["offset"]))
        if not index.rows or not new.rows:
            continue
        if meta["search"] == "kmeans":
            items = cluster_items(new, np.load(index.folder / "centers.npy"),
                                  np.load(index.folder / "near.npy"))
            fn, sizes = cluster_block, [len(q) for q, _ in items]
        else:
            items = exact_items(new.rows)
            fn, sizes = exact_block, [b - a for a, b in items]
        found = engine.map(partial(fn, new=new, ref=ref, threshold=o.threshold), items,
                           desc=f"{ctx.name} against {index.name}", sizes=sizes,
                           threads=SIGN_THREADS)
        pairs = np.concatenate([np.zeros((0, 2), np.int64), *found])
        if not pairs.shape[0]:
            continue
        cand = pl.DataFrame({ROW: pairs[:, 0], REF_ROW: pairs[:, 1]},
                            schema={ROW: pl.Int64, REF_ROW: pl.Int64})
        ref_salt = read_rows(engine, index.records(), pairs[:, 1], SALT,
                             desc=f"{ctx.name} {index.name} kinds")
        same = (cand.join(salts, on=ROW).join(ref_salt.rename({SALT: "__rs"}), on=REF_ROW)
                .filter(pl.col(SALT) == pl.col("__rs")))
        out.append(same.select(ROW, pl.lit(k, pl.Int32).alias(REF_INDEX), REF_ROW))
    return pl.concat(out).unique().sort(ROW, REF_INDEX, REF_ROW)


def facts(on: str) -> list[pl.Expr]:
    """Per row: the text to embed (null when blank: never a duplicate), its length without
    the surrounding white space (``keep: longest``) and a hash of the record kind."""
    from ..embed_store import TEXT  # startup

    text = part_text(on)
    length = text.str.strip_chars().str.len_chars().cast(pl.Int64)
    return [pl.when(length > 0).then(text).alias(TEXT), length.alias(LENGTH),
            pl.col("kind").fill_null("").hash(seed=7).alias(SALT)]


def texts(batch: pl.DataFrame, *, on: str) -> pl.DataFrame:
    """The per-row facts of a piece (see :func:`facts`)."""
    return batch.select(facts(on))
