"""The global dedup stages on Ray Data: shuffles on a key hash instead of one frame in memory.

- ``dedup.exact``: each row's comparison key is hashed in ``map_batches``; rows are shuffled
  to partitions by that hash (``groupby`` on it), so equal keys meet in one partition, which
  is deduplicated with the stage's own code after sorting it by input position: the first
  record of every group survives, as with the local engine.
- ``dedup.near``: MinHash band hashes in ``map_batches``; one row per (record, band) is
  shuffled by its band bucket, and each partition emits the candidate pairs of its buckets
  exactly as :func:`curate.dedup.lsh.candidate_pairs` does (each record paired with the next
  ``window`` records of its bucket in input order). The pairs go to the driver, where the
  stage checks their exact Jaccard and joins them into clusters.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from ..stages.base import DROP_REASON, KEPT_ID, StageContext, StageResult
from .ray import ROW, to_dataset, to_polars

PART = "__part"
WINDOW = 16  # as curate.dedup.lsh.candidate_pairs


def exact(engine, stage, df: pl.DataFrame, ctx: StageContext) -> StageResult:
    """``dedup.exact`` by hash partition of the key; same kept and rejected rows as local."""
    from ..stages.dedup_exact import DUP_CLUSTER, dedup_key

    on, parts = stage.options.on, engine.parallelism() * 2

    def keyed(table):
        batch = pl.from_arrow(table)
        key = dedup_key(on).hash(seed=0) % parts
        return batch.with_columns(key.fill_null(0).cast(pl.Int64).alias(PART)).to_arrow()

    def dedup(table):
        group = pl.from_arrow(table).sort(ROW).drop(PART)
        res = stage.apply(group, ctx)
        return pl.concat([res.kept, res.rejected], how="diagonal_relaxed").to_arrow()

    ds = to_dataset(df, engine.blocks(df)).map_batches(keyed, batch_format="pyarrow",
                                                       batch_size=None)
    out = to_polars(ds.groupby(PART).map_groups(dedup, batch_format="pyarrow"), df)
    if DROP_REASON not in out.columns:
        out = out.with_columns(pl.lit(None, pl.String).alias(DROP_REASON),
                               pl.lit(None, pl.String).alias(KEPT_ID))
    columns = df.columns + ([] if DUP_CLUSTER in df.columns else [DUP_CLUSTER])
    is_kept = pl.col(DROP_REASON).is_null()
    kept = out.filter(is_kept).select(columns)
    rejected = out.filter(~is_kept).select(*columns, DROP_REASON, KEPT_ID)
    stats = {"on": on, "groups": rejected[KEPT_ID].n_unique(), "duplicates": rejected.height}
    return StageResult(kept, rejected, stats)


def _window_pairs(table):
    """Candidate pairs of the band buckets in one partition: sorted by bucket and input
    position, each row with the next :data:`WINDOW` rows of its bucket."""
    t = pl.from_arrow(table).sort("__band", "__hash", ROW)
    band, h, r = (t[c].to_numpy() for c in ("__band", "__hash", ROW))
    found = [np.zeros((0, 2), np.int64)]
    for d in range(1, min(WINDOW, len(r) - 1) + 1):
        same = np.flatnonzero((band[d:] == band[:-d]) & (h[d:] == h[:-d]))
        if same.size == 0:
            break
        found.append(np.stack([r[same], r[same + d]], axis=1).astype(np.int64))
    pairs = np.concatenate(found)
    return pa.table({"i": pairs[:, 0], "j": pairs[:, 1]})


def _first_band(table):
    """One row per record of the signed rows: its position and compared text length."""
    import pyarrow.compute as pc

    return table.filter(pc.equal(table["__band"], 0)).select([ROW, "__len"])


def near_pairs(engine, stage, df: pl.DataFrame, ctx: StageContext):
    """``NearDedup.find_pairs`` on Ray: the same candidate and duplicate pairs as local."""
    from ..dedup.lsh import optimal_param
    from ..dedup.minhash import minhash_bands
    from ..dedup.shingles import shingle_hashes
    from ..stages.dedup_near import _WEIGHTS, _jaccard, compared_text, kind_salt, nfkc

    o = stage.options
    bands, rows = optimal_param(o.threshold, o.num_perm, *_WEIGHTS[o.verify])
    parts = engine.parallelism() * 2
    text = compared_text(o.on).fill_null("")

    def sign(table):
        batch = pl.from_arrow(table)
        texts = nfkc(batch.select(text.alias("t"))["t"])
        h, off = shingle_hashes(texts, o.ngram)
        hashes = minhash_bands(h, off, bands=bands, rows=rows, seed=o.seed,
                               salt=kind_salt(batch))
        has = np.diff(off) > 0
        n = int(has.sum())
        band_of = np.tile(np.arange(bands, dtype=np.int64), n)
        flat = hashes[has].reshape(-1)
        return pa.table({
            "__len": pa.array(texts.str.len_chars().to_numpy()[has].repeat(bands) if n else [],
                              pa.int64()),
            "__band": band_of,
            "__hash": flat,
            ROW: batch[ROW].to_numpy()[has].repeat(bands),
            PART: ((flat % np.uint64(parts)).astype(np.int64) + band_of) % parts,
        })

    ds = to_dataset(df, engine.blocks(df, 20_000))
    signed = ds.map_batches(sign, batch_format="pyarrow", batch_size=None).materialize()
    found = signed.groupby(PART).map_groups(_window_pairs, batch_format="pyarrow")
    import ray

    tables = [t for t in ray.get(found.to_arrow_refs()) if t.num_rows]
    if tables:
        ij = pa.concat_tables(tables)
        pairs = np.stack([ij["i"].to_numpy(), ij["j"].to_numpy()], axis=1)
        n = df.height
        codes = np.unique(pairs[:, 0] * n + pairs[:, 1])
        pairs = np.stack([codes // n, codes % n], axis=1)
    else:
        pairs = np.zeros((0, 2), np.int64)
    # lengths of the compared texts (for keep: longest); only rows with words can be in a pair
    lengths = np.zeros(df.height, np.int64)
    for t in ray.get(signed.map_batches(_first_band, batch_format="pyarrow",
                                        batch_size=None).to_arrow_refs()):
        lengths[t[ROW].to_numpy()] = t["__len"].to_numpy()
    candidates = int(pairs.shape[0])
    if o.verify and candidates:
        pairs = pairs[_jaccard(df, text, pairs, o.ngram) >= o.threshold]
    return pairs, pl.Series(lengths), {"on": o.on, "bands": bands, "rows": rows,
                                       "candidates": candidates}
